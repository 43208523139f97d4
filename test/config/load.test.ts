// How loadFleetConfig resolves a valid config: layer precedence, tier defaults
// and derived values. Tier numbers are read from TIERS, never copied here.
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { AgentSpec, TIERS, Tier, loadFleetConfig, secretKeyStateFrom } from "../../config";
import { CATALOG_FILE, Draft, load, problemsOf, secretStore, sourceWith, validSource } from "./fixtures";
import { durationMs } from "../../contract";

const IMAGE = "ghcr.io/acme/probe:1.0.0";
const DIGEST = "3f1c9a7e5b2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e";

/**
 * A source with one agent, "probe", assembled from the given layers. The stack
 * layer defaults to just an image; identity fields go wherever a test puts them.
 */
function probeSource(layers: { catalog?: any; defaults?: any; stack?: any; stackName?: string; environment?: string | null } = {}): Draft {
    const fleet: any = {
        environment: layers.environment === null ? undefined : (layers.environment ?? "production"),
        channels: {
            "ops-slack": { type: "slack", urlSecret: "opsSlackWebhookUrl" },
            pager: { type: "webhook", urlSecret: "opsSlackWebhookUrl", signingSecret: "pagerSigningSecret" },
        },
        agents: { probe: layers.stack ?? { image: IMAGE } },
    };
    if (layers.defaults !== undefined) fleet.agentDefaults = layers.defaults;
    const stack = layers.stackName ?? "production";
    return {
        stack,
        stackFile: `stacks/Pulumi.${stack}.yaml`,
        fleet,
        catalog: { file: CATALOG_FILE, value: { agents: { probe: layers.catalog ?? { tier: 1, port: 8080 } } } },
        secretKeyState: secretStore(),
    };
}

function probe(layers: Parameters<typeof probeSource>[0] = {}): AgentSpec {
    const spec = load(probeSource(layers));
    expect(spec.agents.map((a) => a.name)).toEqual(["probe"]);
    return spec.agents[0];
}

describe("precedence: tier defaults < catalog < agentDefaults < stack agent", () => {
    it("takes a scalar from the highest layer that sets it", () => {
        const tier = TIERS[2];
        expect(probe({ catalog: { tier: 2, port: 8080 } }).monitorWindowMs).toBe(durationMs(tier.monitorWindow));
        expect(probe({ catalog: { tier: 2, port: 8080, monitorWindow: "3h" } }).monitorWindowMs).toBe(durationMs("3h"));
        expect(probe({ catalog: { tier: 2, port: 8080, monitorWindow: "3h" }, defaults: { monitorWindow: "4h" } }).monitorWindowMs)
            .toBe(durationMs("4h"));
        expect(probe({
            catalog: { tier: 2, port: 8080, monitorWindow: "3h" },
            defaults: { monitorWindow: "4h" },
            stack: { image: IMAGE, monitorWindow: "5h" },
        }).monitorWindowMs).toBe(durationMs("5h"));
    });

    it("lets any layer set an identity field", () => {
        expect(probe({ catalog: {}, defaults: { tier: 2, port: 9000 }, stack: { image: IMAGE } })).toMatchObject({ tier: 2, port: 9000 });
        expect(probe({ catalog: { tier: 1, port: 8080 }, stack: { image: IMAGE, tier: 3, port: 9001 } })).toMatchObject({ tier: 3, port: 9001 });
        expect(probe({ catalog: { tier: 1, port: 8080, image: "ghcr.io/acme/probe:0.1.0" }, stack: {} }).image).toBe("ghcr.io/acme/probe:0.1.0");
        expect(probe({ catalog: { tier: 1, port: 8080, image: "ghcr.io/acme/probe:0.1.0" }, defaults: { image: IMAGE }, stack: {} }).image).toBe(IMAGE);
    });

    it("merges objects key by key across layers", () => {
        const agent = probe({
            catalog: { tier: 1, port: 8080, env: { LOG_LEVEL: "info", REGION: "eu" }, healthcheck: { interval: "20s" } },
            defaults: { env: { LOG_LEVEL: "warn", TRACE: "1" }, healthcheck: { retries: 5 } },
            stack: { image: IMAGE, env: { LOG_LEVEL: "debug" }, healthcheck: { path: "/ready" } },
        });
        expect(agent.env).toEqual({ LOG_LEVEL: "debug", REGION: "eu", TRACE: "1" });
        const tierHc = TIERS[1].healthcheck;
        expect(agent.healthcheck).toEqual({
            path: "/ready",
            intervalMs: durationMs("20s"),
            timeoutMs: durationMs(tierHc.timeout),
            retries: 5,
            startPeriodMs: durationMs(tierHc.startPeriod),
            startIntervalMs: durationMs(tierHc.startInterval),
            command: undefined,
        });
    });

    it("merges secrets key by key", () => {
        const agent = probe({
            catalog: { tier: 1, port: 8080, secrets: { OPENAI_API_KEY: "openaiApiKey" } },
            stack: { image: IMAGE, secrets: { CALENDAR_TOKEN: "calendarToken" } },
        });
        expect(agent.secrets).toEqual({ OPENAI_API_KEY: "openaiApiKey", CALENDAR_TOKEN: "calendarToken" });
    });

    it("merges build key by key, so a later layer may add only args", () => {
        const agent = probe({
            catalog: { tier: 1, port: 8080, build: { context: "agents/probe", args: { A: "1", B: "1" } } },
            stack: { image: IMAGE, build: { args: { B: "2" } } },
            stackName: "dev", environment: "dev",
        });
        expect(agent.build).toEqual({ context: "agents/probe", dockerfile: undefined, args: { A: "1", B: "2" } });
    });

    it("replaces lists instead of merging them", () => {
        const agent = probe({
            catalog: {
                tier: 2, port: 8080,
                alertChannels: ["ops-slack"],
                smokeChecks: [{ path: "/health" }, { path: "/v1/reply", method: "POST" }],
                featureFlags: [{ name: "from-catalog" }],
            },
            defaults: { alertChannels: ["pager", "ops-slack"] },
            stack: { image: IMAGE, smokeChecks: [{ path: "/v2/reply", method: "POST" }], featureFlags: [{ name: "from-stack" }] },
        });
        expect(agent.alertChannels).toEqual(["pager", "ops-slack"]);
        expect(agent.smokeChecks.map((c) => c.path)).toEqual(["/v2/reply"]);
        expect(agent.featureFlags.map((f) => f.name)).toEqual(["from-stack"]);
    });

    it("replaces a healthcheck command list rather than merging it", () => {
        const agent = probe({
            catalog: { tier: 1, port: 8080, healthcheck: { command: ["CMD", "curl", "-f", "http://127.0.0.1:8080/health"] } },
            stack: { image: IMAGE, healthcheck: { command: ["CMD", "true"] } },
        });
        expect(agent.healthcheck.command).toEqual(["CMD", "true"]);
    });

    it("ignores a layer's field that is explicitly undefined", () => {
        expect(probe({ catalog: { tier: 1, port: 8080, memory: "256Mi" }, stack: { image: IMAGE, memory: undefined } }).memoryMb).toBe(256);
    });

    // YAML never produces undefined, but sources built in code (the CLI, tests) can.
    it("ignores a nested healthcheck field that is explicitly undefined", () => {
        const agent = probe({ catalog: { tier: 1, port: 8080, healthcheck: { interval: undefined, retries: 4 } } });
        expect(agent.healthcheck.intervalMs).toBe(durationMs(TIERS[1].healthcheck.interval));
        expect(agent.healthcheck.retries).toBe(4);
    });
});

describe("tier defaults", () => {
    it.each<[Tier]>([[1], [2], [3]])("applies tier %i's policy to an agent that sets nothing", (tierNumber) => {
        const tier = TIERS[tierNumber];
        const agent = probe({ catalog: { tier: tierNumber, port: 8080 } });
        expect(agent.tier).toBe(tierNumber);
        expect(agent.healthcheck).toEqual({
            path: tier.healthcheck.path,
            intervalMs: durationMs(tier.healthcheck.interval),
            timeoutMs: durationMs(tier.healthcheck.timeout),
            retries: tier.healthcheck.retries,
            startPeriodMs: durationMs(tier.healthcheck.startPeriod),
            startIntervalMs: durationMs(tier.healthcheck.startInterval),
            command: undefined,
        });
        expect(agent.monitorWindowMs).toBe(durationMs(tier.monitorWindow));
        expect(agent.stopGraceMs).toBe(durationMs(tier.stopGracePeriod));
        expect(agent.restartMaxRetries).toBe(tier.restartMaxRetries);
        expect(agent.errorRateLimitPercent).toBe(tier.errorRateLimitPercent);
        expect(agent.waitTimeoutMs).toBe(
            durationMs(tier.healthcheck.startPeriod)
            + durationMs(tier.healthcheck.interval) * tier.healthcheck.retries
            + durationMs(tier.waitTimeoutMargin),
        );
    });

    it("applies the loader's own defaults to an agent that sets nothing", () => {
        expect(probe()).toMatchObject({
            replicas: 1,
            env: {},
            secrets: {},
            alertChannels: [],
            smokeChecks: [],
            featureFlags: [],
            user: "1000:1000",
            readOnlyRootFilesystem: true,
            memoryMb: undefined,
            cpus: undefined,
            hostPort: undefined,
            containerName: undefined,
            build: undefined,
        });
    });

    it("lets explicit values beat the tier's", () => {
        const agent = probe({ catalog: { tier: 3, port: 8080, errorRateLimit: 5, stopGracePeriod: "1m", monitorWindow: "6h" } });
        expect(agent.errorRateLimitPercent).toBe(5);
        expect(agent.stopGraceMs).toBe(60_000);
        expect(agent.monitorWindowMs).toBe(6 * 3_600_000);
    });

    it("fills smoke check defaults", () => {
        const agent = probe({ catalog: { tier: 2, port: 8080, smokeChecks: [{ path: "/health" }, { name: "reply", method: "POST", path: "/v1/reply", expectStatus: 201, body: "{}" }] } });
        expect(agent.smokeChecks).toEqual([
            { name: "GET /health", method: "GET", path: "/health", expectStatus: 200, body: undefined },
            { name: "reply", method: "POST", path: "/v1/reply", expectStatus: 201, body: "{}" },
        ]);
    });
});

describe("waitTimeoutMs", () => {
    it.each<[Tier]>([[1], [2], [3]])("is startPeriod + interval × retries + tier %i's margin", (tierNumber) => {
        const agent = probe({ catalog: { tier: tierNumber, port: 8080, healthcheck: { startPeriod: "20s", interval: "7s", retries: 4 } } });
        expect(agent.waitTimeoutMs).toBe(20_000 + 7_000 * 4 + durationMs(TIERS[tierNumber].waitTimeoutMargin));
    });

    it("mixes healthcheck fields from different layers", () => {
        const agent = probe({
            catalog: { tier: 2, port: 8080, healthcheck: { startPeriod: "30s" } },
            stack: { image: IMAGE, healthcheck: { retries: 6 } },
        });
        const tier = TIERS[2];
        expect(agent.waitTimeoutMs).toBe(30_000 + durationMs(tier.healthcheck.interval) * 6 + durationMs(tier.waitTimeoutMargin));
    });

    it("is the explicit waitTimeout when one is set", () => {
        expect(probe({ catalog: { tier: 2, port: 8080, healthcheck: { startPeriod: "5m" } }, stack: { image: IMAGE, waitTimeout: "90s" } }).waitTimeoutMs)
            .toBe(90_000);
        expect(probe({ catalog: { tier: 1, port: 8080 }, defaults: { waitTimeout: "7m" } }).waitTimeoutMs).toBe(7 * 60_000);
    });
});

describe("version", () => {
    it.each([
        ["a tag", "ghcr.io/acme/probe:1.4.2", "1.4.2"],
        ["a tag with a registry port", "localhost:5000/acme/probe:2.0.0-rc.1", "2.0.0-rc.1"],
        ["no tag", "ghcr.io/acme/probe", "latest"],
        ["no tag with a registry port", "localhost:5000/acme/probe", "latest"],
        ["a digest only", `ghcr.io/acme/probe@sha256:${DIGEST}`, `sha256:${DIGEST.slice(0, 12)}`],
        // Production pins pesti as "pesti:1.4.2@sha256:…": the label shows the release, not the digest.
        ["a tag and a digest", `ghcr.io/acme/probe:1.4.2@sha256:${DIGEST}`, "1.4.2"],
    ])("comes from the image reference with %s", (_name, image, version) => {
        expect(probe({ stack: { image } }).version).toBe(version);
    });

    it('is "dev" for a locally built image, whatever its tag', () => {
        expect(probe({ stack: { image: "agent-fleet/probe:1.0.0", build: { context: "agents/sample-agent" } }, stackName: "dev", environment: "dev" }).version).toBe("dev");
    });

    it("is the explicit version when one is set, over tag, digest and build", () => {
        expect(probe({ stack: { image: `ghcr.io/acme/probe:1.4.2@sha256:${DIGEST}`, version: "1.4.2+hotfix" } }).version).toBe("1.4.2+hotfix");
        expect(probe({ stack: { image: "agent-fleet/probe:dev", build: { context: "agents/sample-agent" }, version: "0.0.1" }, stackName: "dev", environment: "dev" }).version).toBe("0.0.1");
    });
});

describe("fleet-level resolution", () => {
    it("sorts agents by name whatever the YAML order", () => {
        const source = probeSource();
        source.catalog!.value.agents = {};
        source.fleet.agents = {};
        for (const name of ["zeta", "alpha", "mid-agent", "beta2", "beta"]) {
            source.fleet.agents[name] = { tier: 1, port: 8080, image: `ghcr.io/acme/${name}:1.0.0` };
        }
        expect(load(source).agents.map((a) => a.name)).toEqual(["alpha", "beta", "beta2", "mid-agent", "zeta"]);
    });

    it("deploys only the agents the stack lists, not every catalog agent", () => {
        const source = validSource();
        delete source.fleet.agents.jarvis;
        expect(load(source).agents.map((a) => a.name)).toEqual(["pesti"]);
    });

    it.each(["dev", "staging", "production"] as const)("defaults the environment to the stack name %s", (stack) => {
        const spec = load(probeSource({ stackName: stack, environment: null }));
        expect(spec.environment).toBe(stack);
        expect(spec.stack).toBe(stack);
        expect(spec.agents[0].environment).toBe(stack);
    });

    it("uses the declared environment when it is at least as strict as the stack name", () => {
        expect(load(probeSource({ stackName: "preview-42", environment: "staging" })).environment).toBe("staging");
        expect(load(probeSource({ stackName: "dev", environment: "production" })).environment).toBe("production");
        expect(load(probeSource({ stackName: "staging", environment: "production" })).environment).toBe("production");
    });

    it.each([
        ["production", "dev"], ["production", "staging"], ["staging", "dev"],
    ] as const)("never lets the %s stack run as the weaker %s: the stricter of the two applies", (stack, declared) => {
        const spec = load(probeSource({ stackName: stack, environment: declared }));
        expect(spec.environment).toBe(stack);
        expect(spec.agents.every((agent) => agent.environment === stack)).toBe(true);
    });

    it("resolves channels with a default minSeverity, sorted by name", () => {
        const source = sourceWith((s) => {
            s.fleet.channels = {
                pager: { type: "webhook", urlSecret: "opsSlackWebhookUrl", signingSecret: "pagerSigningSecret", minSeverity: "critical", tiers: [3] },
                "ops-slack": { type: "slack", urlSecret: "opsSlackWebhookUrl" },
            };
        });
        expect(load(source).channels).toEqual([
            { name: "ops-slack", type: "slack", urlSecret: "opsSlackWebhookUrl", minSeverity: "warning", tiers: [], agents: [] },
            { name: "pager", type: "webhook", urlSecret: "opsSlackWebhookUrl", signingSecret: "pagerSigningSecret", minSeverity: "critical", tiers: [3], agents: [] },
        ]);
    });

    it("routes a channel to the agents of the tiers it hears and the agents it names, as if they listed it", () => {
        const source = sourceWith((s) => {
            s.fleet.channels.pager = { type: "webhook", urlSecret: "opsSlackWebhookUrl", signingSecret: "pagerSigningSecret", agents: ["jarvis"] };
            s.fleet.channels.sales = { type: "discord", urlSecret: "opsSlackWebhookUrl", tiers: [3] };
        });
        const byName = Object.fromEntries(load(source).agents.map((a) => [a.name, a.alertChannels]));
        expect(byName).toEqual({ jarvis: ["ops-slack", "pager"], pesti: ["ops-slack", "sales"] });
    });

    it("refuses a webhook channel without a signing secret, and a channel naming an agent the stack lacks", () => {
        const source = sourceWith((s) => {
            s.fleet.channels.pager = { type: "webhook", urlSecret: "opsSlackWebhookUrl", agents: ["ghost"] };
        });
        expect(problemsOf(source)).toEqual([
            { file: "stacks/Pulumi.production.yaml", path: "fleet.channels.pager.signingSecret", message: "expected the name of a secret stack config key holding the HMAC signing secret: a webhook channel signs every message, got nothing" },
            { file: "stacks/Pulumi.production.yaml", path: "fleet.channels.pager.agents[0]", message: 'expected an agent of this stack (jarvis, pesti), got "ghost"' },
        ]);
    });

    it("defaults runtime", () => {
        expect(load(sourceWith(() => undefined)).runtime).toBe("container");
    });
});

describe("feature flags", () => {
    it("default to TIERS[3].rolloutStages and start at the first stage", () => {
        const stages = TIERS[3].rolloutStages ?? [];
        expect(stages.length).toBeGreaterThan(0);
        for (const tier of [1, 2, 3] as const) {
            const [flag] = probe({ catalog: { tier, port: 8080, featureFlags: [{ name: "smart-replies" }] } }).featureFlags;
            expect(flag).toEqual({
                name: "smart-replies",
                stages: stages.map((s) => ({ stage: s.stage, soakMs: s.soak === undefined ? undefined : durationMs(s.soak) })),
                currentStage: stages[0].stage,
                history: [],
            });
        }
    });

    it("keep an explicit currentStage", () => {
        const [flag] = probe({ catalog: { tier: 3, port: 8080, featureFlags: [{ name: "smart-replies", currentStage: TIERS[3].rolloutStages![1].stage }] } }).featureFlags;
        expect(flag.currentStage).toBe(TIERS[3].rolloutStages![1].stage);
    });

    it("accept stages as strings or objects and start at the first one", () => {
        const [flag] = probe({
            catalog: { tier: 3, port: 8080, featureFlags: [{ name: "fast-path", stages: ["team", { stage: "25%", soak: "2d" }, "100%"] }] },
        }).featureFlags;
        expect(flag).toEqual({
            name: "fast-path",
            stages: [{ stage: "team", soakMs: undefined }, { stage: "25%", soakMs: 2 * 86_400_000 }, { stage: "100%", soakMs: undefined }],
            currentStage: "team",
            history: [],
        });
    });

    it("keep the recorded history, and check that it names the flag's stages in time order, ending at the current stage", () => {
        const history = [{ stage: "off", since: "2026-11-20T09:00:00Z" }, { stage: "team", since: "2026-11-21T09:00:00Z", forced: true }];
        const [flag] = probe({ catalog: { tier: 3, port: 8080, featureFlags: [{ name: "smart-replies", currentStage: "team", history }] } }).featureFlags;
        expect(flag.history).toEqual([{ ...history[0], forced: false }, history[1]]);
        const bad = [{ stage: "team", since: "2026-11-21T09:00:00Z" }, { stage: "50%", since: "2026-11-20T09:00:00Z" }, { stage: "10%", since: "yesterday" }];
        expect(problemsOf(probeSource({ catalog: { tier: 3, port: 8080, featureFlags: [{ name: "smart-replies", currentStage: "team", history: bad }] } })).map((p) => `${p.path}: ${p.message}`)).toEqual([
            'agents.probe.featureFlags[0].history[2].since: expected a UTC time like "2026-11-22T10:00:00Z", got "yesterday"',
        ]);
        const wrongOrder = [{ stage: "team", since: "2026-11-21T09:00:00Z" }, { stage: "50%", since: "2026-11-20T09:00:00Z" }];
        expect(problemsOf(probeSource({ catalog: { tier: 3, port: 8080, featureFlags: [{ name: "smart-replies", currentStage: "team", history: wrongOrder }] } })).map((p) => `${p.path}: ${p.message}`)).toEqual([
            "agents.probe.featureFlags[0].history[1].stage: expected one of the flag's stages (off, team, 10%, 100%), got \"50%\"",
            "agents.probe.featureFlags[0].history[1].since: expected a time no earlier than the record before it (2026-11-21T09:00:00Z), got \"2026-11-20T09:00:00Z\"",
            'agents.probe.featureFlags[0].history: expected the last record to be the current stage "team" (use `fleet flag` to move a flag), got "50%"',
        ]);
    });
});

describe("resources", () => {
    it.each([
        ["1Gi", 1024],
        ["2Gi", 2048],
        ["512Mi", 512],
        ["128Mi", 128],
    ])("memory %s is %i MB", (memory, mb) => {
        expect(probe({ stack: { image: IMAGE, memory } }).memoryMb).toBe(mb);
    });

    it("passes cpus, replicas, user and readOnlyRootFilesystem through", () => {
        expect(probe({ stack: { image: IMAGE, cpus: 1.5, replicas: 3, user: "node", readOnlyRootFilesystem: false } })).toMatchObject({
            cpus: 1.5, replicas: 3, user: "node", readOnlyRootFilesystem: false,
        });
    });
});

describe("the project's own stack files", () => {
    const root = path.resolve(__dirname, "../..");
    const stacksDir = path.join(root, "stacks");
    const stackNames = fs.readdirSync(stacksDir)
        .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
        .filter((name): name is string => name !== undefined)
        .sort();

    it("exist", () => {
        expect(stackNames).toEqual(expect.arrayContaining(["dev", "production", "staging"]));
    });

    it.each(stackNames)("Pulumi.%s.yaml loads with the catalog when every secret is set", (stack) => {
        const project = (parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { name: string }).name;
        const stackFile = `stacks/Pulumi.${stack}.yaml`;
        const config = (parse(fs.readFileSync(path.join(root, stackFile), "utf8")) as { config?: Record<string, unknown> }).config ?? {};
        const spec = loadFleetConfig({
            stack,
            stackFile,
            fleet: config[`${project}:fleet`],
            catalog: { file: CATALOG_FILE, value: parse(fs.readFileSync(path.join(root, CATALOG_FILE), "utf8")) },
            secretKeyState: () => "secret",
        });
        expect(spec.agents.length).toBeGreaterThan(0);
        expect(spec.agents.map((a) => a.name)).toEqual([...spec.agents.map((a) => a.name)].sort());
    });
});

describe("secretKeyStateFrom (the stack file decides plain vs secret)", () => {
    const all = { "agent-fleet:a": "x", "agent-fleet:b": "12345", "agent-fleet:c": "v", "agent-fleet:d": "true" };
    const file = { config: { "agent-fleet:a": { secure: "v1:abc" }, "agent-fleet:b": 12345, "agent-fleet:d": true } };
    const state = secretKeyStateFrom("agent-fleet", all, file);

    it("counts only `secure:` ciphertext as secret, whatever type the plain value has", () => {
        expect(state("a")).toBe("secret");
        expect(state("b")).toBe("plain");
        expect(state("d")).toBe("plain");
    });

    it("trusts a key set outside the file (an ESC environment) and reports an unset key as missing", () => {
        expect(state("c")).toBe("secret");
        expect(state("zzz")).toBe("missing");
    });
});

describe("fleet.sentinel", () => {
    const withSentinel = (sentinel: unknown, mutate: (fleet: any) => void = () => undefined) => sourceWith((s) => {
        if (sentinel !== undefined) s.fleet.sentinel = sentinel;
        mutate(s.fleet);
    });

    it("is on whenever a channel is declared, built from agents/sentinel with a 30 min reminder", () => {
        expect(load(withSentinel(undefined)).sentinel).toEqual({
            image: "agent-fleet/sentinel:local", build: { context: "agents/sentinel", args: {} },
            reminderAfterMs: 30 * 60_000, dockerSocket: "/var/run/docker.sock",
            proxy: { image: "agent-fleet/docker-proxy:local", build: { context: "agents/docker-proxy", args: {} } },
        });
    });

    it("is off without channels (nobody would hear it), or when turned off", () => {
        expect(load(withSentinel(undefined, (f) => {
            delete f.channels;
            for (const agent of Object.values(f.agents) as { alertChannels?: string[] }[]) agent.alertChannels = [];
        })).sentinel).toBeUndefined();
        expect(load(withSentinel({ enabled: false })).sentinel).toBeUndefined();
    });

    it("pulls a named image without a build, and takes the reminder, socket and its group, and the proxy's image", () => {
        const proxyImage = "ghcr.io/acme/docker-proxy:2.8.4";
        expect(load(withSentinel({ image: "ghcr.io/acme/agent-fleet-sentinel:0.1.0", reminderAfter: "2h", dockerSocket: "/run/user/1000/docker.sock", socketGroup: 998, proxyImage })).sentinel).toEqual({
            image: "ghcr.io/acme/agent-fleet-sentinel:0.1.0", reminderAfterMs: 2 * 3_600_000, dockerSocket: "/run/user/1000/docker.sock", socketGroup: 998,
            proxy: { image: proxyImage },
        });
    });

    it("names the file, the field and what it expected for a bad value", () => {
        expect(problemsOf(withSentinel({ socketGroup: "docker", reminderAfter: "soon", extra: 1 }))).toEqual([
            { file: "stacks/Pulumi.production.yaml", path: "fleet.sentinel.reminderAfter", message: 'expected a duration like "10s", got "soon"' },
            { file: "stacks/Pulumi.production.yaml", path: "fleet.sentinel.socketGroup", message: 'expected a numeric group id like 999, got "docker"' },
            { file: "stacks/Pulumi.production.yaml", path: "fleet.sentinel.extra", message: 'expected a known field, got unknown field "extra"' },
        ]);
    });
});
