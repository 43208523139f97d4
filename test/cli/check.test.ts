/**
 * `fleet check` through its public interface: the real bin, run as a
 * subprocess, on the repo's stacks and on temporary projects.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { fleetPolicies } from "../../policies/rules";
import { PROJECT, REPO, checkJson, fleet, fleetConfig, removeProjects, writeProject } from "./project";
import { CHANNELS, SAFE_AGENTS, SCENARIOS, fleetOf, swarmFleetOf } from "./scenarios";

afterAll(removeProjects);

const POLICY_NAMES = fleetPolicies().map((p) => p.policy.name);
const STACK_TRACE_RE = /^\s+at .+\(?.*:\d+:\d+\)?$/m;

describe("fleet --help", () => {
    it("lists the check command, and `check --help` its options and exit codes", async () => {
        const top = await fleet(["--help"]);
        expect(top.exitCode).toBe(0);
        expect(top.stdout).toMatch(/Usage: fleet/);
        expect(top.stdout).toMatch(/check \[options\]/);
        const check = await fleet(["check", "--help"]);
        expect(check.exitCode).toBe(0);
        for (const text of ["--stack <name>", "--json", "--cwd <projectDir>", "Exit codes:"]) expect(check.stdout).toContain(text);
    });

    it("is the package's bin, run by node with no build step", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));
        expect(pkg.bin).toEqual({ fleet: "cli/fleet.js" });
        expect(pkg.scripts.fleet).toBe("node cli/fleet.js");
        expect(fs.readFileSync(path.join(REPO, "cli/fleet.js"), "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    });

    it("refuses a missing --stack as a usage error", async () => {
        const run = await fleet(["check"]);
        expect(run.exitCode).toBe(2);
        expect(run.stderr).toContain("required option '-s, --stack <name>' not specified");
    });
});

describe("the repo's stacks", () => {
    it.concurrent.each(["dev", "staging", "production"])("%s passes, with no mandatory violation", async (stack) => {
        const run = await checkJson(REPO, stack);
        expect(run.stderr).toBe("");
        expect(run.exitCode).toBe(0);
        expect(run.json!.agents).toEqual(["email-agent", "jarvis", "outreach-agent", "pesti", "research-agent"]);
        expect(run.json!.violations.filter((v) => v.level === "mandatory")).toEqual([]);
        // Staging and production meet every policy; dev's policy config keeps only some mandatory.
        if (stack !== "dev") expect(run.json!.violations).toEqual([]);
    });

    it("prints violations grouped by agent and a summary line", async () => {
        const run = await fleet(["check", "--stack", "dev"]);
        expect(run.exitCode).toBe(0);
        expect(run.stdout).toContain(`fleet check: stack "dev" (stacks/Pulumi.dev.yaml), ${POLICY_NAMES.length} policies, levels from stacks/policy.dev.json\n`);
        expect(run.stdout).toMatch(/^jarvis\n {2}advisory {2}tier-monitoring: stacks\/Pulumi\.dev\.yaml: fleet\.agents\.jarvis\.alertChannels: /m);
        expect(run.stdout.trimEnd().split("\n").at(-1)).toMatch(/^passed with advisories: 0 mandatory violations, \d+ advisory violations? \(5 agents, \d+ resources\)$/);
    });
});

describe("unsafe fleet configs", () => {
    it("cover every policy in the pack", () => {
        expect(SCENARIOS.length).toBeGreaterThanOrEqual(15);
        expect(new Set(SCENARIOS.map((s) => s.policy))).toEqual(new Set(POLICY_NAMES));
    });

    it.concurrent.each(SCENARIOS.map((s) => [s.name, s] as const))("%s", async (_name, scenario) => {
        const dir = writeProject({
            stacks: { [scenario.stack]: fleetConfig(scenario.fleet, scenario.config) },
            program: scenario.program,
            policyConfig: scenario.repoPolicyConfig
                ? { [scenario.stack]: JSON.parse(fs.readFileSync(path.join(REPO, "stacks", `policy.${scenario.stack}.json`), "utf8")) }
                : scenario.policyLevels ? { [scenario.stack]: { all: "mandatory", ...scenario.policyLevels } } : undefined,
        });
        const run = await checkJson(dir, scenario.stack);
        expect(run.stderr).toBe("");
        expect(run.exitCode).toBe(1);
        const violations = run.json!.violations;
        // Exactly the one rule broken, and nothing else.
        expect([...new Set(violations.map((v) => v.policy))]).toEqual([scenario.policy]);
        expect(violations.every((v) => v.level === "mandatory")).toBe(true);
        const located = violations.find((v) => v.message.startsWith(`stacks/Pulumi.${scenario.stack}.yaml: ${scenario.field}: `));
        expect(located, JSON.stringify(violations, null, 2)).toBeDefined();
        expect(located!.agent).toBe(scenario.agent);
        if (scenario.agent !== null) expect(located!.urn).toMatch(/^urn:pulumi:/);
    });
});

describe("safe fleet configs", () => {
    it.concurrent.each([["container", fleetOf], ["swarm", swarmFleetOf]] as const)("every catalog agent in production, with secrets not set yet, passes on the %s runtime", async (_runtime, fleetFor) => {
        const dir = writeProject({ stacks: { production: fleetConfig(fleetFor("production", Object.fromEntries(Object.keys(SAFE_AGENTS).map((a) => [a, {}])))) } });
        const run = await checkJson(dir, "production");
        expect(run.exitCode).toBe(0);
        expect(run.json!.violations).toEqual([]);
        expect(run.json!.agents).toEqual(Object.keys(SAFE_AGENTS).sort());
    });

    it.concurrent("a fixed host port per agent and a digest-pinned image pass in staging", async () => {
        const digest = `sha256:${"ab".repeat(32)}`;
        const dir = writeProject({
            stacks: {
                staging: fleetConfig(fleetOf("staging", {
                    "research-agent": { hostPort: 9401, image: `ghcr.io/acme/research-agent@${digest}` },
                    "outreach-agent": { hostPort: 9402 },
                })),
            },
        });
        const run = await checkJson(dir, "staging");
        expect(run.exitCode).toBe(0);
        expect(run.json!.violations).toEqual([]);
    });

    it.concurrent("a policy config can make a violation advisory (exit 0) or disable its policy", async () => {
        const unsafe = fleetConfig(fleetOf("production", { "research-agent": { image: "ghcr.io/acme/research-agent:latest" } }));
        const advisory = await checkJson(writeProject({ stacks: { production: unsafe }, policyConfig: { production: { "pinned-images": { enforcementLevel: "advisory" } } } }), "production");
        expect(advisory.exitCode).toBe(0);
        expect(advisory.json!.violations.map((v) => [v.policy, v.level])).toEqual([["pinned-images", "advisory"]]);
        const disabled = await checkJson(writeProject({ stacks: { production: unsafe }, policyConfig: { production: { all: "mandatory", "pinned-images": "disabled" } } }), "production");
        expect(disabled.exitCode).toBe(0);
        expect(disabled.json!.violations).toEqual([]);
    });
});

describe("a stack that cannot be checked", () => {
    it.concurrent("an invalid fleet config exits 2 with the loader's file and field message, and no stack trace", async () => {
        const dir = writeProject({ stacks: { production: fleetConfig(fleetOf("production", { "research-agent": { healthcheck: { interval: "ten" } } })) } });
        for (const json of [false, true]) {
            const run = await fleet(["check", "--stack", "production", "--cwd", dir, ...(json ? ["--json"] : [])]);
            expect(run.exitCode).toBe(2);
            expect(run.stdout).toBe("");
            expect(run.stderr).toBe([
                'Invalid fleet config for stack "production" (1 problem):',
                'stacks/Pulumi.production.yaml: fleet.agents.research-agent.healthcheck.interval: expected a duration like "10s", got "ten"',
            ].join("\n"));
        }
    });

    it.concurrent("governance with more reviewers than GitHub allows exits 2 with the file and field, as the loader says it, and no stack trace", async () => {
        const github = { repository: "acme/agent-fleet", productionReviewers: { users: [1, 2, 3, 4], teams: [5, 6, 7] } };
        const dir = writeProject({ stacks: { production: fleetConfig(fleetOf("production", {}), { [`${PROJECT}:github`]: github }) } });
        const run = await fleet(["check", "--stack", "production", "--cwd", dir]);
        expect(run.exitCode).toBe(2);
        expect(run.stderr).toBe([
            'Invalid fleet config for stack "production" (1 problem):',
            "stacks/Pulumi.production.yaml: github.productionReviewers: expected at most 6 users and teams (GitHub's limit for an environment's reviewers), got 7",
        ].join("\n"));
        expect(run.stderr).not.toMatch(/\n\s+at /);
    });

    it.concurrent("a local build in production, and a channel signed with a URL's key, exit 2 naming each field; their twins pass", async () => {
        const channels = { ...CHANNELS, pager: { ...CHANNELS.pager, signingSecret: "opsSlackWebhookUrl" } };
        const unsafe = fleetOf("production", { "research-agent": { image: "ghcr.io/acme/research-agent:0.3.7", build: { context: "agents/sample-agent" } } }, channels);
        const run = await fleet(["check", "--stack", "production", "--cwd", writeProject({ stacks: { production: fleetConfig(unsafe) } })]);
        expect(run.exitCode).toBe(2);
        expect(run.stderr).toBe([
            'Invalid fleet config for stack "production" (2 problems):',
            'stacks/Pulumi.production.yaml: fleet.agents.research-agent.build: expected no build in production (it runs the image a release pipeline built and pushed, never bits built on the deploying machine): set image to that tag or digest, and build: false, got a build of "agents/sample-agent"',
            'stacks/Pulumi.production.yaml: fleet.channels.pager.signingSecret: expected a signing secret of its own, got "opsSlackWebhookUrl", the key that holds channel ops-slack\'s URL: anyone holding that URL could forge this channel\'s signatures (pulumi config set --secret <a new key> <a random value>)',
        ].join("\n"));
        const safe = await checkJson(writeProject({ stacks: { production: fleetConfig(fleetOf("production", { "research-agent": { env: { WEBHOOK_TIMEOUT_MS: "5000" } } })) } }), "production");
        expect(safe.stderr).toBe("");
        expect(safe.json!.violations).toEqual([]);
    });

    it.concurrent("an env name the fleet sets (WEBHOOKS), and a 64-hex value pasted as a webhook's secret key, exit 2 naming each field, the value never shown; their twins pass", async () => {
        const pasted = `a${"3f9c".repeat(15)}e2b`;
        const hook = (secret: string) => ({ name: "crm-updates", source: "generic", path: "/webhooks/crm", secret });
        const unsafe = {
            ...fleetOf("production", {
                "outreach-agent": { env: { WEBHOOKS: "[]" }, webhooks: [{ ...hook("outreachHookSecret"), path: "/webhooks/outreach" }] },
                "research-agent": { webhooks: [hook(pasted)] },
            }),
            webhookBaseUrl: "https://hooks.acme.dev",
        };
        const run = await fleet(["check", "--stack", "production", "--cwd", writeProject({ stacks: { production: fleetConfig(unsafe) } })]);
        expect(run.exitCode).toBe(2);
        expect(run.stderr).toBe([
            'Invalid fleet config for stack "production" (2 problems):',
            'stacks/Pulumi.production.yaml: fleet.agents.outreach-agent.env.WEBHOOKS: expected "WEBHOOKS" to be left to the fleet\'s webhooks (their list, in every agent that takes webhooks), got it in env too',
            'stacks/Pulumi.production.yaml: fleet.agents.research-agent.webhooks[0].secret: expected the name of a secret stack config key like "githubWebhookSecret", got a value that is not a key name and may be the secret itself (not shown): store the value with `pulumi config set --secret <key> <value>` and name that key here',
        ].join("\n"));
        expect(run.stdout + run.stderr).not.toContain(pasted);
        const safe = {
            ...fleetOf("production", { "research-agent": { env: { WEBHOOK_RETRIES: "3" }, webhooks: [hook("crmHookSecret")], expose: "research.acme.dev" } }),
            edge: { hostname: "agents.acme.dev", image: "caddy:2.8.4" },
        };
        const passed = await checkJson(writeProject({ stacks: { production: fleetConfig(safe) } }), "production");
        expect(passed.stderr).toBe("");
        expect(passed.json!.violations).toEqual([]);
    });

    it.concurrent("needs no secret for the GitHub side either: the docs' governance example, its Actions secret keys unset, checks clean", async () => {
        const github = {
            repository: "acme/agent-fleet", productionReviewers: { teams: [4567890] }, productionWaitMinutes: 10,
            actionsSecrets: { PULUMI_BACKEND_URL: "ciBackendUrl", PULUMI_CONFIG_PASSPHRASE: "ciConfigPassphrase", FLEET_DOCKER_HOST: "ciDockerHost" },
        };
        const dir = writeProject({ stacks: { production: fleetConfig(fleetOf("production", { "research-agent": {} }), { [`${PROJECT}:github`]: github }) } });
        const run = await checkJson(dir, "production");
        expect(run.stderr).toBe("");
        expect(run.json!.violations).toEqual([]);
        expect(run.exitCode).toBe(0);
        expect(run.json!.violations).toEqual([]);
        // A key set in plain text is still refused, as for the fleet's own secret keys.
        const plain = writeProject({ stacks: { production: fleetConfig(fleetOf("production", { "research-agent": {} }), { [`${PROJECT}:github`]: github, [`${PROJECT}:ciBackendUrl`]: "s3://bucket" }) } });
        const refused = await fleet(["check", "--stack", "production", "--cwd", plain]);
        expect(refused.exitCode).toBe(2);
        expect(refused.stderr).toContain('stacks/Pulumi.production.yaml: github.actionsSecrets.PULUMI_BACKEND_URL: expected config key "ciBackendUrl" to be a secret');
    });

    it.concurrent("an unknown stack exits 2 with one line naming the missing file", async () => {
        const run = await fleet(["check", "--stack", "qa"]);
        expect(run.exitCode).toBe(2);
        expect(run.stdout).toBe("");
        expect(run.stderr).toBe(`fleet check: unknown stack "qa": stacks/Pulumi.qa.yaml does not exist in ${REPO} (stacks here: dev, production, staging)`);
    });

    it.concurrent("a directory without Pulumi.yaml, and a stack name that is a path, exit 2 with one line", async () => {
        const empty = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-check-empty-"));
        try {
            const run = await fleet(["check", "--stack", "production", "--cwd", empty]);
            expect(run.exitCode).toBe(2);
            expect(run.stderr).toBe(`fleet check: no Pulumi project in ${empty}: ${path.join(empty, "Pulumi.yaml")} does not exist (pass --cwd <projectDir>)`);
        } finally {
            fs.rmSync(empty, { recursive: true, force: true });
        }
        const traversal = await fleet(["check", "--stack", "../production"]);
        expect(traversal.exitCode).toBe(2);
        expect(traversal.stderr.trim().split("\n")).toHaveLength(1);
    });

    it.concurrent("a policy config naming an unknown policy or level exits 2 with the file and key", async () => {
        const stacks = { production: fleetConfig(fleetOf("production", { "research-agent": {} })) };
        const typo = await fleet(["check", "--stack", "production", "--cwd", writeProject({ stacks, policyConfig: { production: { "pinned-image": "advisory" } } })]);
        expect(typo.exitCode).toBe(2);
        expect(typo.stderr).toBe('fleet check: stacks/policy.production.json: pinned-image: expected "all" or a policy of the pack (did you mean "pinned-images"?), got unknown policy "pinned-image"');
        const level = await fleet(["check", "--stack", "production", "--cwd", writeProject({ stacks, policyConfig: { production: { all: "strict" } } })]);
        expect(level.exitCode).toBe(2);
        expect(level.stderr).toBe('fleet check: stacks/policy.production.json: all: expected an enforcement level (advisory, mandatory, remediate, disabled), got "strict"');
    });
});

describe("secrets", () => {
    const SEEDED = "SEEDED-SECRET-";

    it.concurrent("a secret key set in plain text fails as the loader reports it, without echoing the value", async () => {
        const dir = writeProject({
            stacks: {
                production: fleetConfig(fleetOf("production", { pesti: {} }), {
                    "agent-fleet:openaiApiKey": { secure: `v1:${SEEDED}ciphertext-openai` },
                    "agent-fleet:crmToken": `${SEEDED}crm-plain-text`,
                }),
            },
        });
        for (const json of [false, true]) {
            const run = await fleet(["check", "--stack", "production", "--cwd", dir, ...(json ? ["--json"] : [])]);
            expect(run.exitCode).toBe(2);
            expect(run.stderr).toContain(
                'stacks/Pulumi.production.yaml: fleet.agents.pesti.secrets.CRM_TOKEN: expected config key "crmToken" to be a secret (pulumi config set --secret crmToken <value> --stack production), got a plain-text value',
            );
            expect(`${run.stdout}${run.stderr}`).not.toContain(SEEDED);
            expect(run.stderr).not.toMatch(STACK_TRACE_RE);
        }
    });

    it.concurrent("secure values and credential-looking env values never reach the output", async () => {
        const dir = writeProject({
            stacks: {
                production: fleetConfig(fleetOf("production", {
                    pesti: {},
                    "research-agent": { env: { MODEL_HINT: `sk-${SEEDED}0123456789abcdef`, WEBHOOK: `https://hooks.slack.com/services/${SEEDED}` } },
                }), {
                    "agent-fleet:openaiApiKey": { secure: `v1:${SEEDED}ciphertext-openai` },
                    "agent-fleet:crmToken": { secure: `v1:${SEEDED}ciphertext-crm` },
                }),
            },
        });
        for (const json of [false, true]) {
            const run = await fleet(["check", "--stack", "production", "--cwd", dir, ...(json ? ["--json"] : [])]);
            expect(run.exitCode).toBe(1);
            expect(`${run.stdout}${run.stderr}`).not.toContain(SEEDED);
            expect(run.stdout).toContain("no-plaintext-secrets");
        }
    });
});

describe("--json", () => {
    it.concurrent("prints exactly { stack, agents, resourceCount, violations } with { policy, level, agent, urn, message } each", async () => {
        const dir = writeProject({
            stacks: { production: fleetConfig(fleetOf("production", { "email-agent": { alertChannels: [] }, "research-agent": {} }, { pager: CHANNELS.pager })) },
        });
        const run = await checkJson(dir, "production");
        expect(run.exitCode).toBe(1);
        const json = run.json!;
        expect(Object.keys(json)).toEqual(["stack", "agents", "resourceCount", "violations"]);
        expect(json.stack).toBe("production");
        expect(json.agents).toEqual(["email-agent", "research-agent"]);
        // A Fleet, a network, per agent an AgentService, an image and one container, and (the fleet has a channel)
        // a sentinel: its component, image, spool volume and container, and its docker proxy's network, image and container.
        expect(json.resourceCount).toBe(2 + 2 * 3 + 4 + 3);
        expect(json.violations.length).toBeGreaterThan(0);
        for (const v of json.violations) {
            expect(Object.keys(v)).toEqual(["policy", "level", "agent", "urn", "message"]);
            expect(POLICY_NAMES).toContain(v.policy);
            expect(["mandatory", "advisory"]).toContain(v.level);
            expect(v.agent === null || json.agents.includes(v.agent)).toBe(true);
            expect(v.urn === null || v.urn.startsWith("urn:pulumi:production::agent-fleet::")).toBe(true);
            expect(typeof v.message).toBe("string");
        }
        expect(json.violations).toContainEqual(expect.objectContaining({ policy: "tier-monitoring", level: "mandatory", agent: "email-agent" }));
    });
});

describe("noise", () => {
    it("reports a healthcheck problem of a two-replica agent once", async () => {
        const dir = writeProject({ stacks: { production: fleetConfig(fleetOf("production", { pesti: { replicas: 2, healthcheck: { retries: 2 } } })) } });
        const run = await checkJson(dir, "production");
        expect(run.exitCode).toBe(1);
        expect(run.json!.violations.map((v) => `${v.policy} ${v.agent}`)).toEqual(["agent-healthcheck pesti"]);
    });
});

describe("resource names", () => {
    it("fails, as the engine does, when a program registers one URN twice", async () => {
        const program = `import * as docker from "@pulumi/docker";
new docker.Network("twice", {});
new docker.Network("twice", {});
`;
        const dir = writeProject({ stacks: { production: fleetConfig(fleetOf("production", { "research-agent": {} })) }, program });
        const run = await fleet(["check", "--stack", "production", "--cwd", dir]);
        expect(run.exitCode).not.toBe(0);
        expect(run.stderr).toContain("Duplicate resource URN 'urn:pulumi:production::agent-fleet::docker:index/network:Network::twice'");
    });

    it("passes agent pesti with two replicas next to an agent named pesti-1", async () => {
        const pesti1 = { ...SAFE_AGENTS["research-agent"], image: "ghcr.io/acme/pesti-1:1.0.0", rollbackImage: "ghcr.io/acme/pesti-1:0.9.0", tier: 1, owner: "@acme/sales-eng", port: 8080, memory: "256Mi" };
        const fleetValue = fleetOf("production", { pesti: { replicas: 2 } });
        (fleetValue.agents as Record<string, unknown>)["pesti-1"] = pesti1;
        const dir = writeProject({ stacks: { production: fleetConfig(fleetValue) } });
        const run = await checkJson(dir, "production");
        expect(run.stderr).toBe("");
        expect(run.exitCode).toBe(0);
    });
});
