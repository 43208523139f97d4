// The config error table: one valid source, one change per row, and the exact
// problems a user sees (file, field path and full message).
import { describe, expect, it } from "vitest";
import { ConfigProblem, FleetConfigError, SecretKeyState, formatProblem } from "../../config";
import {
    Draft, SECRET_VALUES, STACK_FILE, catalogProblem, errorOf, load, problemsOf, secretStore, sourceWith,
    stackProblem, validSource,
} from "./fixtures";

interface Row {
    readonly name: string;
    readonly mutate: (source: Draft) => void;
    readonly expected: readonly ConfigProblem[];
}

const IMAGE = 'expected an image reference like "ghcr.io/acme/agent:1.2.3" or "repo@sha256:<64 hex>"';
const STAGE = 'expected a rollout stage like "off", "team" or "10%"';
const AGENT_NAME = 'expected an agent name of lower-case letters, digits and dashes like "email-agent"';

const rows: readonly Row[] = [
    // --- durations
    {
        name: "healthcheck interval that is not a duration",
        mutate: (s) => { s.fleet.agents.pesti.healthcheck = { interval: "ten" }; },
        expected: [stackProblem("fleet.agents.pesti.healthcheck.interval", 'expected a duration like "10s", got "ten"')],
    },
    {
        name: "duration written as a bare number",
        mutate: (s) => { s.fleet.agents.pesti.healthcheck = { interval: 10 }; },
        expected: [stackProblem("fleet.agents.pesti.healthcheck.interval", 'expected a duration like "10s", got 10')],
    },
    {
        name: "rollout stage soak that is not a duration",
        mutate: (s) => { s.fleet.agents.pesti.featureFlags = [{ name: "smart-followups", stages: [{ stage: "off", soak: "1 day" }] }]; },
        expected: [stackProblem("fleet.agents.pesti.featureFlags[0].stages[0].soak", 'expected a duration like "10s", got "1 day"')],
    },
    {
        name: "healthcheck start period of zero, which Docker fills from the image",
        mutate: (s) => { s.fleet.agents.pesti.healthcheck = { startPeriod: "0s" }; },
        expected: [stackProblem("fleet.agents.pesti.healthcheck.startPeriod", `expected a duration above zero like "10s" (Docker reads 0 as "use the image's HEALTHCHECK value"), got "0s"`)],
    },
    {
        name: "healthcheck interval of zero milliseconds",
        mutate: (s) => { s.fleet.agents.pesti.healthcheck = { interval: "0ms" }; },
        expected: [stackProblem("fleet.agents.pesti.healthcheck.interval", `expected a duration above zero like "10s" (Docker reads 0 as "use the image's HEALTHCHECK value"), got "0ms"`)],
    },
    {
        name: "two agents build the same tag differently",
        mutate: (s) => {
            // Builds are dev's alone: a stack named dev.
            s.stack = "dev";
            s.fleet.environment = "dev";
            s.fleet.agents.pesti.image = "agent-fleet/sample-agent:dev";
            s.fleet.agents.pesti.build = { context: "agents/sample-agent" };
            s.fleet.agents.jarvis.image = "agent-fleet/sample-agent:dev";
            s.fleet.agents.jarvis.build = { context: "agents/other-agent" };
        },
        expected: [stackProblem("fleet.agents.pesti.build", 'expected the same image source as agent "jarvis" for "agent-fleet/sample-agent:dev" (agents sharing a tag share one image), got a different build')],
    },
    {
        name: "one agent builds a tag another agent pulls",
        mutate: (s) => {
            s.stack = "dev";
            s.fleet.environment = "dev";
            s.fleet.agents.jarvis.image = "ghcr.io/acme/shared:1.0.0";
            s.fleet.agents.pesti.image = "ghcr.io/acme/shared:1.0.0";
            s.fleet.agents.pesti.build = { context: "agents/sample-agent" };
        },
        expected: [stackProblem("fleet.agents.pesti.build", 'expected the same image source as agent "jarvis" for "ghcr.io/acme/shared:1.0.0" (agents sharing a tag share one image), got a build of a tag that agent pulls')],
    },
    // --- unknown fields
    {
        name: "typo in an agent field suggests the field",
        mutate: (s) => { s.fleet.agents.pesti.imgae = s.fleet.agents.pesti.image; },
        expected: [stackProblem("fleet.agents.pesti.imgae", 'expected a known field (did you mean "image"?), got unknown field "imgae"')],
    },
    {
        name: "typo in a healthcheck field suggests the field",
        mutate: (s) => { s.fleet.agents.pesti.healthcheck = { retires: 3 }; },
        expected: [stackProblem("fleet.agents.pesti.healthcheck.retires", 'expected a known field (did you mean "retries"?), got unknown field "retires"')],
    },
    {
        name: "typo in a fleet-level field suggests the field",
        mutate: (s) => { s.fleet.agent = s.fleet.agents; delete s.fleet.agents; },
        expected: [
            stackProblem("fleet.agent", 'expected a known field (did you mean "agents"?), got unknown field "agent"'),
            stackProblem("fleet.agents", "expected a map of agent names to agents, got nothing"),
        ],
    },
    {
        name: "unknown field far from every known one gets no suggestion",
        mutate: (s) => { s.fleet.agents.pesti.zzzzzz = true; },
        expected: [stackProblem("fleet.agents.pesti.zzzzzz", 'expected a known field, got unknown field "zzzzzz"')],
    },
    {
        name: "typo in a smoke check field",
        mutate: (s) => { s.fleet.agents.pesti.smokeChecks = [{ path: "/v1/reply", expectedStatus: 200 }]; },
        expected: [stackProblem("fleet.agents.pesti.smokeChecks[0].expectedStatus", 'expected a known field (did you mean "expectStatus"?), got unknown field "expectedStatus"')],
    },
    // --- identity fields
    {
        name: "image missing from every layer",
        mutate: (s) => { delete s.fleet.agents.pesti.image; },
        expected: [stackProblem("fleet.agents.pesti.image", `${IMAGE}, got nothing`)],
    },
    {
        name: "tier missing from every layer",
        mutate: (s) => { delete s.catalog!.value.agents.pesti.tier; },
        expected: [stackProblem("fleet.agents.pesti.tier", "expected a tier of 1, 2 or 3, got nothing")],
    },
    {
        name: "tier 4",
        mutate: (s) => { s.fleet.agents.pesti.tier = 4; },
        expected: [stackProblem("fleet.agents.pesti.tier", "expected a tier of 1, 2 or 3, got 4")],
    },
    {
        name: "port 0",
        mutate: (s) => { s.fleet.agents.pesti.port = 0; },
        expected: [stackProblem("fleet.agents.pesti.port", "expected a port number from 1 to 65535, got 0")],
    },
    {
        name: "port 70000",
        mutate: (s) => { s.fleet.agents.pesti.port = 70000; },
        expected: [stackProblem("fleet.agents.pesti.port", "expected a port number from 1 to 65535, got 70000")],
    },
    {
        name: "port as a string",
        mutate: (s) => { s.fleet.agents.pesti.port = "8080"; },
        expected: [stackProblem("fleet.agents.pesti.port", 'expected a port number from 1 to 65535, got "8080"')],
    },
    {
        name: "image reference with upper-case letters",
        mutate: (s) => { s.fleet.agents.pesti.image = "ghcr.io/Acme/pesti:1.4.2"; },
        expected: [stackProblem("fleet.agents.pesti.image", `${IMAGE}, got "ghcr.io/Acme/pesti:1.4.2"`)],
    },
    {
        name: "image reference with a space",
        mutate: (s) => { s.fleet.agents.pesti.image = "ghcr.io/acme/pesti 1.4.2"; },
        expected: [stackProblem("fleet.agents.pesti.image", `${IMAGE}, got "ghcr.io/acme/pesti 1.4.2"`)],
    },
    {
        name: "rollback image reference that is not one",
        mutate: (s) => { s.fleet.agents.pesti.rollbackImage = "pesti 1.4.1"; },
        expected: [stackProblem("fleet.agents.pesti.rollbackImage", `${IMAGE}, got "pesti 1.4.1"`)],
    },
    // --- resources
    {
        name: "memory in MB",
        mutate: (s) => { s.fleet.agents.pesti.memory = "512MB"; },
        expected: [stackProblem("fleet.agents.pesti.memory", 'expected a memory size like "256Mi" or "1Gi", got "512MB"')],
    },
    {
        name: "cpus the provider reads back rounded",
        mutate: (s) => { s.fleet.agents.pesti.cpus = 0.05; },
        expected: [stackProblem("fleet.agents.pesti.cpus", 'expected a number of CPUs the Docker provider reads back unchanged, like 0.25, 0.5 or 2, got 0.05 (it reads back as "0.1")')],
    },
    {
        name: "cpus 0",
        mutate: (s) => { s.fleet.agents.pesti.cpus = 0; },
        expected: [stackProblem("fleet.agents.pesti.cpus", "expected a number of CPUs above 0, got 0")],
    },
    {
        name: "replicas 0",
        mutate: (s) => { s.fleet.agents.pesti.replicas = 0; },
        expected: [stackProblem("fleet.agents.pesti.replicas", "expected a whole number of replicas from 1 to 20, got 0")],
    },
    {
        name: "replicas 1.5",
        mutate: (s) => { s.fleet.agents.pesti.replicas = 1.5; },
        expected: [stackProblem("fleet.agents.pesti.replicas", "expected a whole number of replicas from 1 to 20, got 1.5")],
    },
    {
        name: "hostPort with 2 replicas",
        mutate: (s) => { s.fleet.agents.pesti.hostPort = 8080; s.fleet.agents.pesti.replicas = 2; },
        expected: [stackProblem("fleet.agents.pesti.hostPort", "expected no fixed hostPort when replicas is 2 (replicas cannot share a host port), got 8080")],
    },
    {
        name: "containerName with 2 replicas",
        mutate: (s) => { s.fleet.agents.pesti.containerName = "pesti"; s.fleet.agents.pesti.replicas = 2; },
        expected: [stackProblem("fleet.agents.pesti.containerName", 'expected no fixed containerName when replicas is 2, got "pesti"')],
    },
    // --- env and secrets
    {
        name: "env value that is a number",
        mutate: (s) => { s.fleet.agents.pesti.env = { WORKERS: 4 }; },
        expected: [stackProblem("fleet.agents.pesti.env.WORKERS", "expected a string value (quote numbers and booleans), got 4")],
    },
    {
        name: "env name with a dash",
        mutate: (s) => { s.fleet.agents.pesti.env = { "LOG-LEVEL": "debug" }; },
        expected: [stackProblem("fleet.agents.pesti.env.LOG-LEVEL", 'expected an environment variable name like "OPENAI_API_KEY", got "LOG-LEVEL"')],
    },
    {
        name: "secret key not set",
        mutate: (s) => { s.secretKeyState = secretStore({ openaiApiKey: "missing" }); },
        expected: [stackProblem("fleet.agents.pesti.secrets.OPENAI_API_KEY",
            'expected secret config key "openaiApiKey" to be set (pulumi config set --secret openaiApiKey <value> --stack production), got nothing')],
    },
    {
        name: "secret key set in plain text",
        mutate: (s) => { s.secretKeyState = secretStore({ openaiApiKey: "plain" }); },
        expected: [stackProblem("fleet.agents.pesti.secrets.OPENAI_API_KEY",
            'expected config key "openaiApiKey" to be a secret (pulumi config set --secret openaiApiKey <value> --stack production), got a plain-text value')],
    },
    {
        name: "env and secrets naming the same variable",
        mutate: (s) => { s.fleet.agents.pesti.env = { OPENAI_API_KEY: "placeholder" }; },
        expected: [stackProblem("fleet.agents.pesti.env.OPENAI_API_KEY", 'expected "OPENAI_API_KEY" in either env or secrets, got it in both')],
    },
    {
        name: "channel urlSecret holding the webhook URL itself",
        mutate: (s) => { s.fleet.channels["ops-slack"].urlSecret = SECRET_VALUES.opsSlackWebhookUrl; },
        expected: [stackProblem("fleet.channels.ops-slack.urlSecret",
            'expected the name of a secret stack config key like "opsSlackWebhookUrl", got a value that is not a key name and may be the secret itself (not shown): store the value with `pulumi config set --secret <key> <value>` and name that key here')],
    },
    {
        name: "agent secret holding the secret value instead of a key name",
        mutate: (s) => { s.fleet.agents.pesti.secrets = { OPENAI_API_KEY: SECRET_VALUES.openaiApiKey }; },
        expected: [stackProblem("fleet.agents.pesti.secrets.OPENAI_API_KEY",
            'expected the name of a secret stack config key like "openaiApiKey", got a value that is not a key name and may be the secret itself (not shown): store the value with `pulumi config set --secret <key> <value>` and name that key here')],
    },
    // --- rollout and feature flags
    {
        name: 'rollout stage "half"',
        mutate: (s) => { s.fleet.agents.pesti.featureFlags = [{ name: "smart-followups", stages: ["off", "half"] }]; },
        expected: [stackProblem("fleet.agents.pesti.featureFlags[0].stages[1].stage", `${STAGE}, got "half"`)],
    },
    {
        name: "rollout stage that is a number",
        mutate: (s) => { s.fleet.agents.pesti.featureFlags = [{ name: "smart-followups", stages: [10] }]; },
        expected: [stackProblem("fleet.agents.pesti.featureFlags[0].stages[0]", 'expected a rollout stage like "10%" or { stage: "10%", soak: "24h" }, got 10')],
    },
    {
        name: "currentStage not among the flag's stages",
        mutate: (s) => { s.fleet.agents.pesti.featureFlags = [{ name: "smart-followups", stages: ["off", "team"], currentStage: "10%" }]; },
        expected: [stackProblem("fleet.agents.pesti.featureFlags[0].currentStage", `expected one of the flag's stages (off, team), got "10%"`)],
    },
    {
        name: "currentStage not among the default stages",
        mutate: (s) => { s.fleet.agents.pesti.featureFlags = [{ name: "smart-followups", currentStage: "50%" }]; },
        expected: [stackProblem("fleet.agents.pesti.featureFlags[0].currentStage", `expected one of the flag's stages (off, team, 10%, 100%), got "50%"`)],
    },
    {
        name: "duplicate flag names",
        mutate: (s) => { s.fleet.agents.pesti.featureFlags = [{ name: "smart-followups" }, { name: "smart-followups" }]; },
        expected: [stackProblem("fleet.agents.pesti.featureFlags[1].name", 'expected unique flag names, got "smart-followups" twice')],
    },
    {
        name: "flag with an empty stage list",
        mutate: (s) => { s.fleet.agents.pesti.featureFlags = [{ name: "smart-followups", stages: [] }]; },
        expected: [stackProblem("fleet.agents.pesti.featureFlags[0].stages", "expected at least one rollout stage, got an empty list")],
    },
    // --- smoke checks and healthchecks
    {
        name: "smoke check without a path",
        mutate: (s) => { s.fleet.agents.pesti.smokeChecks = [{ name: "reply", method: "POST" }]; },
        expected: [stackProblem("fleet.agents.pesti.smokeChecks[0].path", 'expected an HTTP path like "/v1/reply", got nothing')],
    },
    {
        name: "smoke check with an unknown HTTP method",
        mutate: (s) => { s.fleet.agents.pesti.smokeChecks = [{ path: "/v1/reply", method: "FETCH" }]; },
        expected: [stackProblem("fleet.agents.pesti.smokeChecks[0].method", 'expected an HTTP method (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS), got "FETCH"')],
    },
    {
        name: "healthcheck timeout longer than the interval",
        mutate: (s) => { s.fleet.agents.pesti.healthcheck = { timeout: "30s" }; },
        expected: [stackProblem("fleet.agents.pesti.healthcheck.timeout", 'expected a timeout no longer than the interval (10s), got "30s"')],
    },
    {
        name: "interval shortened in the stack below the catalog's timeout",
        mutate: (s) => { s.fleet.agents.pesti.healthcheck = { interval: "2s" }; },
        expected: [stackProblem("fleet.agents.pesti.healthcheck.interval", 'expected an interval no shorter than the timeout (3s), got "2s"')],
    },
    {
        name: "interval shortened below the tier's default timeout",
        mutate: (s) => { s.fleet.agents.jarvis.healthcheck = { interval: "2s" }; },
        expected: [stackProblem("fleet.agents.jarvis.healthcheck.interval", 'expected an interval no shorter than the timeout (3s), got "2s"')],
    },
    {
        name: "healthcheck command of one word",
        mutate: (s) => { s.fleet.agents.pesti.healthcheck = { command: ["CMD"] }; },
        expected: [stackProblem("fleet.agents.pesti.healthcheck.command", "expected a list of at least two command words, got a list of 1 item")],
    },
    // --- channels
    {
        name: 'channel type "teams"',
        mutate: (s) => { s.fleet.channels["ops-slack"].type = "teams"; },
        expected: [stackProblem("fleet.channels.ops-slack.type", 'expected a channel type (slack, discord, webhook), got "teams"')],
    },
    {
        name: 'channel minSeverity "loud"',
        mutate: (s) => { s.fleet.channels["ops-slack"].minSeverity = "loud"; },
        expected: [stackProblem("fleet.channels.ops-slack.minSeverity", 'expected a severity (info, warning, error, critical), got "loud"')],
    },
    {
        name: "channel secret not set",
        mutate: (s) => { s.secretKeyState = secretStore({ opsSlackWebhookUrl: "missing" }); },
        expected: [stackProblem("fleet.channels.ops-slack.urlSecret",
            'expected secret config key "opsSlackWebhookUrl" to be set (pulumi config set --secret opsSlackWebhookUrl <value> --stack production), got nothing')],
    },
    // --- names and shape
    {
        name: "agent name with upper-case letters",
        mutate: (s) => { s.fleet.agents.Pesti = s.fleet.agents.pesti; delete s.fleet.agents.pesti; },
        expected: [stackProblem("fleet.agents.Pesti", `${AGENT_NAME}, got "Pesti"`)],
    },
    {
        name: "agent name with an underscore",
        mutate: (s) => { s.fleet.agents.pesti_bot = { tier: 1, port: 8080, image: "ghcr.io/acme/pesti-bot:1.0.0" }; },
        expected: [stackProblem("fleet.agents.pesti_bot", `${AGENT_NAME}, got "pesti_bot"`)],
    },
    {
        name: 'agent named "constructor" that the catalog does not list',
        mutate: (s) => { s.fleet.agents.constructor = { tier: 1, port: 8080, image: "ghcr.io/acme/constructor:1.0.0" }; },
        expected: [],
    },
    {
        name: "fleet missing entirely",
        mutate: (s) => { s.fleet = undefined; },
        expected: [stackProblem("fleet", "expected a fleet object with agents, got nothing")],
    },
    {
        name: "fleet that is a string",
        mutate: (s) => { s.fleet = "agents"; },
        expected: [stackProblem("fleet", 'expected a fleet object with agents, got "agents"')],
    },
    {
        name: "agents as a list",
        mutate: (s) => { s.fleet.agents = ["pesti", "jarvis"]; },
        expected: [stackProblem("fleet.agents", "expected a map of agent names to agents, got a list of 2 items")],
    },
    {
        name: "agent that is not an object",
        mutate: (s) => { s.fleet.agents.pesti = "latest"; },
        expected: [stackProblem("fleet.agents.pesti", 'expected an agent object, got "latest"')],
    },
    {
        name: "environment missing for a stack named qa",
        mutate: (s) => { s.stack = "qa"; s.stackFile = "stacks/Pulumi.qa.yaml"; delete s.fleet.environment; },
        expected: [{
            file: "stacks/Pulumi.qa.yaml",
            path: "fleet.environment",
            message: 'expected an environment (dev, staging, production) because the stack name "qa" is not one, got nothing',
        }],
    },
    {
        name: "unknown environment",
        mutate: (s) => { s.fleet.environment = "prod"; },
        expected: [stackProblem("fleet.environment", 'expected an environment (dev, staging, production), got "prod"')],
    },
    {
        name: "build without a context",
        mutate: (s) => { s.fleet.agents.pesti.build = { dockerfile: "Dockerfile" }; },
        expected: [stackProblem("fleet.agents.pesti.build.context", 'expected a build context directory like "agents/sample-agent", got nothing')],
    },
    // --- attribution to the catalog and to agentDefaults
    {
        name: "catalog field error is attributed to the catalog",
        mutate: (s) => { s.catalog!.value.agents.pesti.memory = "512MB"; },
        expected: [catalogProblem("agents.pesti.memory", 'expected a memory size like "256Mi" or "1Gi", got "512MB"')],
    },
    {
        name: "catalog typo is attributed to the catalog",
        mutate: (s) => { s.catalog!.value.agents.pesti.prot = 8080; },
        expected: [catalogProblem("agents.pesti.prot", 'expected a known field (did you mean "port"?), got unknown field "prot"')],
    },
    {
        name: "catalog that is not an object",
        mutate: (s) => { s.catalog!.value = "oops"; },
        expected: [catalogProblem("(root)", 'expected a catalog object with agents, got "oops"')],
    },
    {
        name: "agentDefaults field error is attributed to agentDefaults",
        mutate: (s) => { s.fleet.agentDefaults = { memory: "lots" }; },
        expected: [stackProblem("fleet.agentDefaults.memory", 'expected a memory size like "256Mi" or "1Gi", got "lots"')],
    },
    {
        name: "agentDefaults field error does not hide the defaults' other fields",
        mutate: (s) => {
            s.fleet.agentDefaults = { image: "ghcr.io/acme/fleet-default:1.0.0", memory: "lots" };
            delete s.fleet.agents.pesti.image;
            delete s.fleet.agents.jarvis.image;
        },
        expected: [stackProblem("fleet.agentDefaults.memory", 'expected a memory size like "256Mi" or "1Gi", got "lots"')],
    },
    {
        name: "merged conflict blames the catalog when the catalog set the field",
        mutate: (s) => { s.catalog!.value.agents.pesti.hostPort = 9000; s.fleet.agents.pesti.replicas = 2; },
        expected: [catalogProblem("agents.pesti.hostPort", "expected no fixed hostPort when replicas is 2 (replicas cannot share a host port), got 9000")],
    },
    {
        name: "merged conflict blames agentDefaults when agentDefaults set the field",
        mutate: (s) => { s.fleet.agentDefaults = { hostPort: 9000 }; s.fleet.agents.pesti.replicas = 2; },
        expected: [stackProblem("fleet.agentDefaults.hostPort", "expected no fixed hostPort when replicas is 2 (replicas cannot share a host port), got 9000")],
    },
    {
        name: "merged conflict blames the stack agent over the catalog for the same field",
        mutate: (s) => { s.catalog!.value.agents.pesti.hostPort = 9000; s.fleet.agents.pesti.hostPort = 9001; s.fleet.agents.pesti.replicas = 3; },
        expected: [stackProblem("fleet.agents.pesti.hostPort", "expected no fixed hostPort when replicas is 3 (replicas cannot share a host port), got 9001")],
    },
    {
        name: "env set in the catalog and secret set in the stack blames the catalog's env",
        mutate: (s) => { s.catalog!.value.agents.pesti.env.OPENAI_API_KEY = "placeholder"; },
        expected: [catalogProblem("agents.pesti.env.OPENAI_API_KEY", 'expected "OPENAI_API_KEY" in either env or secrets, got it in both')],
    },
    {
        name: "duplicate flags from the catalog blame the catalog",
        mutate: (s) => {
            s.catalog!.value.agents.pesti.featureFlags = [{ name: "smart-followups" }, { name: "smart-followups" }];
            delete s.fleet.agents.pesti.featureFlags;
        },
        expected: [catalogProblem("agents.pesti.featureFlags[1].name", 'expected unique flag names, got "smart-followups" twice')],
    },
    {
        name: "missing secret in agentDefaults is reported once, not once per agent",
        mutate: (s) => { s.fleet.agentDefaults = { secrets: { SENTRY_DSN: "sentryDsn" } }; },
        expected: [stackProblem("fleet.agentDefaults.secrets.SENTRY_DSN",
            'expected secret config key "sentryDsn" to be set (pulumi config set --secret sentryDsn <value> --stack production), got nothing')],
    },
];

describe("the valid source", () => {
    it("loads without problems", () => {
        expect(problemsOf(validSource())).toEqual([]);
        expect(load(validSource()).agents.map((a) => a.name)).toEqual(["jarvis", "pesti"]);
    });
});

describe("config error table", () => {
    it("has at least 25 rows with distinct names", () => {
        expect(rows.length).toBeGreaterThanOrEqual(25);
        expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length);
    });

    it.each(rows.map((row) => [row.name, row] as const))("%s", (_name, row) => {
        expect(problemsOf(sourceWith(row.mutate))).toEqual(row.expected);
    });

    it("renders every row's problems in the error message as <file>: <path>: <message>, one a line", () => {
        for (const row of rows) {
            let message: string | undefined;
            let problems: readonly ConfigProblem[] = [];
            try {
                load(sourceWith(row.mutate));
            } catch (error) {
                expect(error, row.name).toBeInstanceOf(FleetConfigError);
                ({ message, problems } = error as FleetConfigError);
            }
            if (message === undefined) continue;
            expect(message.split("\n").slice(1), row.name).toEqual(problems.map(formatProblem));
        }
    });
});

describe("secret key messages", () => {
    it.each<[SecretKeyState]>([["missing"], ["plain"]])("a %s key gives the pulumi command and never a value", (state) => {
        const source = sourceWith((s) => { s.secretKeyState = () => state; });
        const problems = errorOf(source).problems;
        // Two agent secrets and one channel secret.
        expect(problems.map((p) => p.path)).toEqual([
            "fleet.agents.jarvis.secrets.CALENDAR_TOKEN",
            "fleet.agents.pesti.secrets.OPENAI_API_KEY",
            "fleet.channels.ops-slack.urlSecret",
        ]);
        for (const [problem, key] of problems.map((p, i) => [p, ["calendarToken", "openaiApiKey", "opsSlackWebhookUrl"][i]] as const)) {
            expect(problem.file).toBe(STACK_FILE);
            expect(problem.message).toContain(`pulumi config set --secret ${key} <value> --stack production`);
            for (const value of Object.values(SECRET_VALUES)) expect(problem.message).not.toContain(value);
        }
    });

    it("names the stack being loaded in the command", () => {
        const source = sourceWith((s) => {
            s.stack = "staging";
            s.stackFile = "stacks/Pulumi.staging.yaml";
            s.fleet.environment = "staging";
            s.secretKeyState = secretStore({ calendarToken: "missing" });
        });
        expect(errorOf(source).problems).toEqual([{
            file: "stacks/Pulumi.staging.yaml",
            path: "fleet.agents.jarvis.secrets.CALENDAR_TOKEN",
            message: 'expected secret config key "calendarToken" to be set (pulumi config set --secret calendarToken <value> --stack staging), got nothing',
        }]);
    });
});

describe("all errors reported at once", () => {
    it("reports 5 independent mistakes in agents and agentDefaults in one throw", () => {
        const source = sourceWith((s) => {
            s.fleet.agentDefaults = { stopGracePeriod: "soon" };
            s.fleet.agents.pesti.port = 0;
            s.fleet.agents.pesti.memory = "1GB";
            s.fleet.agents.jarvis.replicas = 0;
            s.fleet.agents.jarvis.env = { WORKERS: 4 };
        });
        const error = errorOf(source);
        expect(sortProblems(error.problems)).toEqual(sortProblems([
            stackProblem("fleet.agentDefaults.stopGracePeriod", 'expected a duration like "10s", got "soon"'),
            stackProblem("fleet.agents.pesti.port", "expected a port number from 1 to 65535, got 0"),
            stackProblem("fleet.agents.pesti.memory", 'expected a memory size like "256Mi" or "1Gi", got "1GB"'),
            stackProblem("fleet.agents.jarvis.replicas", "expected a whole number of replicas from 1 to 20, got 0"),
            stackProblem("fleet.agents.jarvis.env.WORKERS", "expected a string value (quote numbers and booleans), got 4"),
        ]));
        expect(error.message.split("\n")[0]).toBe('Invalid fleet config for stack "production" (5 problems):');
    });

    it("reports 5 independent mistakes across fleet, channels, catalog, agentDefaults and agents in one throw", () => {
        const source = sourceWith((s) => {
            s.fleet.environment = "prod";
            s.fleet.channels["ops-slack"].minSeverity = "loud";
            s.catalog!.value.agents.jarvis.cpus = 0;
            s.fleet.agentDefaults = { memory: "1GB" };
            s.fleet.agents.pesti.port = 0;
        });
        const error = errorOf(source);
        expect(sortProblems(error.problems)).toEqual(sortProblems([
            stackProblem("fleet.environment", 'expected an environment (dev, staging, production), got "prod"'),
            stackProblem("fleet.channels.ops-slack.minSeverity", 'expected a severity (info, warning, error, critical), got "loud"'),
            catalogProblem("agents.jarvis.cpus", "expected a number of CPUs above 0, got 0"),
            stackProblem("fleet.agentDefaults.memory", 'expected a memory size like "256Mi" or "1Gi", got "1GB"'),
            stackProblem("fleet.agents.pesti.port", "expected a port number from 1 to 65535, got 0"),
        ]));
    });
});

describe("the error's message", () => {
    it("has a header naming the stack and the count", () => {
        const one = errorOf(sourceWith((s) => { s.fleet.agents.pesti.port = 0; }));
        expect(one.name).toBe("FleetConfigError");
        expect(one.stack).toBe("production");
        expect(one.message).toBe(
            'Invalid fleet config for stack "production" (1 problem):\n'
            + `${STACK_FILE}: fleet.agents.pesti.port: expected a port number from 1 to 65535, got 0`,
        );

        const qa = errorOf(sourceWith((s) => {
            s.stack = "qa";
            s.stackFile = "stacks/Pulumi.qa.yaml";
            delete s.fleet.environment;
            s.fleet.agents.pesti.port = 0;
            s.fleet.agents.jarvis.port = 0;
        }));
        expect(qa.message.split("\n")[0]).toBe('Invalid fleet config for stack "qa" (3 problems):');
        expect(qa.message.split("\n")).toHaveLength(4);
    });
});

describe("no problem message contains a seeded secret value", () => {
    // Places a user plausibly pastes a secret value. The loader never sees the secret store, so the
    // only way a value reaches a message is by echoing what the user wrote.
    const pastes: readonly (readonly [string, (s: Draft) => void])[] = [
        ["every secret key missing", (s) => { s.secretKeyState = () => "missing"; }],
        ["every secret key in plain text", (s) => { s.secretKeyState = () => "plain"; }],
        ["secret value in env, same variable in secrets", (s) => { s.fleet.agents.pesti.env = { OPENAI_API_KEY: SECRET_VALUES.openaiApiKey }; }],
        ["secret value in a secrets entry", (s) => { s.fleet.agents.pesti.secrets = { OPENAI_API_KEY: SECRET_VALUES.openaiApiKey }; }],
        ["webhook URL in a channel's urlSecret", (s) => { s.fleet.channels["ops-slack"].urlSecret = SECRET_VALUES.opsSlackWebhookUrl; }],
        ["secret value in a catalog secrets entry", (s) => { s.catalog!.value.agents.jarvis.secrets = { CALENDAR_TOKEN: SECRET_VALUES.calendarToken }; delete s.fleet.agents.jarvis.secrets; }],
        ["secret value in agentDefaults secrets", (s) => { s.fleet.agentDefaults = { secrets: { CALENDAR_TOKEN: SECRET_VALUES.calendarToken } }; }],
    ];

    it.each(pastes)("%s", (_name, paste) => {
        const error = errorOf(sourceWith(paste));
        for (const value of Object.values(SECRET_VALUES)) {
            expect(error.message).not.toContain(value);
            for (const problem of error.problems) expect(problem.message).not.toContain(value);
        }
    });
});

function sortProblems(problems: readonly { file: string; path: string; message: string }[]): string[] {
    return problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).sort();
}
