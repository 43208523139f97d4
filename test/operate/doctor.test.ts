/**
 * `fleet doctor` through the real bin: every problem at once, each with the
 * command that fixes it, against copies of the repository's stack files,
 * the real Docker engine and whatever Pulumi CLI is on PATH.
 */
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { copyProject, fleet, initStack, removeProjects } from "../cli/project";
import { pulumiOnPath } from "../e2e/workspace";
import { skipUnlessAvailable } from "../support/requirements";
import { dockerClient } from "../support/docker";
import { healthFeaturesOfApi } from "../../contract";

afterAll(removeProjects);

const stackFile = (dir: string, stack: string) => path.join(dir, "stacks", `Pulumi.${stack}.yaml`);
/** The steps that run the policy pack or ask the CLI need a `pulumi` CLI on PATH. */
const withoutPulumi = skipUnlessAvailable("test/operate/doctor (its CLI steps)", pulumiOnPath() ? [] : ["a `pulumi` CLI on PATH"]);

/** Sets stack config keys in a copy, as `pulumi config set` would write them (`secure:` for a secret). */
function setConfig(dir: string, stack: string, values: Record<string, unknown>): void {
    const doc = parseDocument(fs.readFileSync(stackFile(dir, stack), "utf8"));
    for (const [key, value] of Object.entries(values)) doc.setIn(["config", `agent-fleet:${key}`], doc.createNode(value));
    fs.writeFileSync(stackFile(dir, stack), doc.toString());
}

interface Finding { check: string; ok: boolean; detail: string; fix?: string }

describe("fleet doctor", () => {
    it.concurrent("lists every secret key that is missing or in plain text, each with its fix, and passes the ones set as secrets", async () => {
        const dir = copyProject();
        setConfig(dir, "staging", { openaiApiKey: { secure: "v1:AAAA" }, crmToken: "plain-text-token" });
        const run = await fleet(["doctor", "--stack", "staging", "--cwd", dir, "--json"]);
        expect(run.exitCode).toBe(1);
        const { ok, findings } = JSON.parse(run.stdout) as { ok: boolean; findings: Finding[] };
        expect(ok).toBe(false);
        const secrets = findings.filter((f) => f.check === "secrets");
        expect(secrets.find((f) => f.detail.startsWith("openaiApiKey"))).toEqual({ check: "secrets", ok: true, detail: "openaiApiKey is set as a secret" });
        expect(secrets.find((f) => f.detail.startsWith("crmToken"))).toEqual({
            check: "secrets", ok: false, detail: "crmToken is set in plain text in stacks/Pulumi.staging.yaml", fix: "npx pulumi config set --secret crmToken <value> --stack staging",
        });
        // Every other key the agents and channels name, each on its own line.
        expect(secrets.filter((f) => !f.ok).map((f) => f.detail.split(" ")[0])).toEqual([
            "calendarToken", "crmToken", "searchApiKey", "smtpPassword", "stagingSlackWebhookUrl", "stagingWebhookSigningSecret", "stagingWebhookUrl",
        ]);
        expect(run.stdout).not.toContain("plain-text-token");
        expect(findings.filter((f) => f.check === "channels").every((f) => f.ok)).toBe(true);
        expect(findings.find((f) => f.check === "docker")).toMatchObject({ ok: true, detail: expect.stringMatching(/^engine \d+\.\d+/) });
    });

    it.concurrent("on a GitHub-hosted runner, refuses a staging stack that names no server: it would deploy to the runner's throwaway engine", async () => {
        const dir = copyProject();
        const staging = await fleet(["doctor", "--stack", "staging", "--cwd", dir, "--json"], { env: { RUNNER_ENVIRONMENT: "github-hosted", DOCKER_HOST: "" } });
        expect((JSON.parse(staging.stdout) as { findings: Finding[] }).findings.filter((f) => f.check === "docker")).toEqual([{
            check: "docker", ok: false,
            detail: "stack staging (staging) names no server, so it would deploy to this GitHub-hosted runner's own Docker engine, which is thrown away with the runner",
            fix: "name its servers under fleet.hosts (or docker:host) in stacks/Pulumi.staging.yaml; see docs/guides/servers.md",
        }]);
        // Dev on the runner's engine is what CI's own tests do; a stack that names its server is checked there.
        const dev = await fleet(["doctor", "--stack", "dev", "--cwd", dir, "--json"], { env: { RUNNER_ENVIRONMENT: "github-hosted", DOCKER_HOST: "" } });
        expect((JSON.parse(dev.stdout) as { findings: Finding[] }).findings.find((f) => f.check === "docker")).toMatchObject({ ok: true });
        setConfig(dir, "staging", {});
        const doc = parseDocument(fs.readFileSync(stackFile(dir, "staging"), "utf8"));
        doc.setIn(["config", "docker:host"], "unix:///nonexistent/staging-server.sock");
        fs.writeFileSync(stackFile(dir, "staging"), doc.toString());
        const named = await fleet(["doctor", "--stack", "staging", "--cwd", dir, "--json"], { env: { RUNNER_ENVIRONMENT: "github-hosted" } });
        expect((JSON.parse(named.stdout) as { findings: Finding[] }).findings.find((f) => f.check === "docker")?.detail).toMatch(/^no Docker engine answers at unix:\/\/\/nonexistent\/staging-server\.sock/);
    });

    it.concurrent("checks the engine the stack's docker:host names, before DOCKER_HOST, as verify and the provider do", async () => {
        const dir = copyProject();
        const doc = parseDocument(fs.readFileSync(stackFile(dir, "dev"), "utf8"));
        doc.setIn(["config", "docker:host"], "unix:///nonexistent/stack-engine.sock");
        fs.writeFileSync(stackFile(dir, "dev"), doc.toString());
        // DOCKER_HOST names a live engine (this one); the stack's own answer still wins.
        const run = await fleet(["doctor", "--stack", "dev", "--cwd", dir, "--json"], { env: { DOCKER_HOST: "unix:///var/run/docker.sock" } });
        const { findings } = JSON.parse(run.stdout) as { findings: Finding[] };
        expect(findings.find((f) => f.check === "docker")).toMatchObject({
            ok: false, detail: expect.stringMatching(/^no Docker engine answers at unix:\/\/\/nonexistent\/stack-engine\.sock/),
            fix: "start the engine docker:host names in stacks/Pulumi.dev.yaml, or correct docker:host there",
        });
    });

    it.concurrent("says when no Docker engine answers, and when the Pulumi CLI is missing, with what to do", async () => {
        const dir = copyProject();
        const run = await fleet(["doctor", "--stack", "dev", "--cwd", dir], { env: { DOCKER_HOST: "unix:///nonexistent/docker.sock", PATH: path.dirname(process.execPath) } });
        expect(run.exitCode).toBe(1);
        expect(run.stdout).toMatch(/^docker\s+FAIL\s+no Docker engine answers at unix:\/\/\/nonexistent\/docker\.sock/m);
        expect(run.stdout).toMatch(/^pulumi\s+FAIL\s+no `pulumi` CLI on PATH$/m);
        expect(run.stdout).toContain("2 problems; to fix:\n  start the engine DOCKER_HOST names, or unset DOCKER_HOST\n  npm ci");
    });

    it.concurrent.each([
        [{ LocalNodeState: "inactive", ControlAvailable: false }, false, "the stack runs on Swarm (fleet.runtime: swarm), but the engine at tcp://127.0.0.1:PORT is not in a swarm (inactive)"],
        [{ LocalNodeState: "active", ControlAvailable: false }, false, "the engine at tcp://127.0.0.1:PORT is a swarm worker; services are created on a manager"],
        [{ LocalNodeState: "active", ControlAvailable: true }, true, "the engine at tcp://127.0.0.1:PORT is a swarm manager"],
    ])("checks that a swarm stack's engine is a swarm manager (%o)", async (swarm, ok, detail) => {
        // An Engine API stand-in: the engine's swarm state is the one thing that differs.
        const server = http.createServer((req, res) => {
            res.setHeader("content-type", "application/json");
            res.end(JSON.stringify(req.url?.endsWith("/version") ? { Version: "24.0.7", ApiVersion: "1.43" } : { DriverStatus: [], Swarm: swarm }));
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const port = (server.address() as AddressInfo).port;
        try {
            const dir = copyProject();
            const doc = parseDocument(fs.readFileSync(stackFile(dir, "dev"), "utf8"));
            doc.setIn(["config", "agent-fleet:fleet", "runtime"], "swarm");
            fs.writeFileSync(stackFile(dir, "dev"), doc.toString());
            const run = await fleet(["doctor", "--stack", "dev", "--cwd", dir, "--json"], { env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` } });
            const { findings } = JSON.parse(run.stdout) as { findings: Finding[] };
            expect(findings.filter((f) => f.check === "docker").at(-1)).toMatchObject({ ok, detail: detail.replace("PORT", String(port)) });
        } finally {
            server.close();
        }
    });

    it.concurrent.each([
        ["neither GITHUB_TOKEN nor github:token", {}, undefined, {
            ok: false, detail: "governance and webhooks on acme/research need a GitHub token, and neither GITHUB_TOKEN nor github:token is set",
            fix: 'export GITHUB_TOKEN=<token>, or npx pulumi config set --secret github:token <token> --stack dev (scopes: see docs/guides/github.md#the-token)',
        }],
        ["GITHUB_TOKEN", { GITHUB_TOKEN: "SEEDED-doctor-env-token" }, undefined, { ok: true, detail: "governance and webhooks on acme/research: GITHUB_TOKEN is set" }],
        ["github:token as a secret", {}, { secure: "v1:AAAA" }, { ok: true, detail: "governance and webhooks on acme/research: github:token is set as a secret" }],
        ["github:token in plain text", { GITHUB_TOKEN: "SEEDED-doctor-env-token" }, "SEEDED-doctor-plain-token", {
            ok: false, detail: "github:token is set in plain text in stacks/Pulumi.dev.yaml", fix: "npx pulumi config set --secret github:token <token> --stack dev",
        }],
    ])("checks for a GitHub token when the stack registers GitHub webhooks or manages governance (%s)", async (_, env, token, expected) => {
        const dir = copyProject();
        const doc = parseDocument(fs.readFileSync(stackFile(dir, "dev"), "utf8"));
        doc.setIn(["config", "agent-fleet:fleet", "webhookBaseUrl"], "https://hooks.acme.dev");
        doc.setIn(["config", "agent-fleet:fleet", "agents", "jarvis", "webhooks"], doc.createNode([
            { name: "github-push", source: "github", path: "/webhooks/github", secret: "jarvisHookSecret", repository: "acme/research", events: ["push"] },
        ]));
        doc.setIn(["config", "agent-fleet:github"], doc.createNode({ repository: "acme/agent-fleet", productionReviewers: { teams: [7] } }));
        doc.setIn(["config", "agent-fleet:jarvisHookSecret"], doc.createNode({ secure: "v1:AAAA" }));
        if (token !== undefined) doc.setIn(["config", "github:token"], doc.createNode(token));
        fs.writeFileSync(stackFile(dir, "dev"), doc.toString());
        const run = await fleet(["doctor", "--stack", "dev", "--cwd", dir, "--json"], { env: { GITHUB_TOKEN: "", ...env } });
        const { findings } = JSON.parse(run.stdout) as { findings: Finding[] };
        expect(findings.filter((f) => f.check === "github")).toEqual([{ check: "github", ...expected }]);
        expect(findings.filter((f) => f.check === "config")).toContainEqual({ check: "config", ok: true, detail: "stacks/Pulumi.dev.yaml: the GitHub side of acme/agent-fleet" });
        expect(run.stdout).not.toContain("SEEDED-doctor");
    });

    it.concurrent("has no GitHub check for a stack that does not talk to GitHub", async () => {
        const run = await fleet(["doctor", "--stack", "dev", "--cwd", copyProject(), "--json"], { env: { GITHUB_TOKEN: "" } });
        expect((JSON.parse(run.stdout) as { findings: Finding[] }).findings.filter((f) => f.check === "github")).toEqual([]);
    });

    it.concurrent("reports each config problem with the file and field to edit", async () => {
        const dir = copyProject();
        const doc = parseDocument(fs.readFileSync(stackFile(dir, "dev"), "utf8"));
        doc.setIn(["config", "agent-fleet:fleet", "agents", "jarvis", "memory"], "lots");
        fs.writeFileSync(stackFile(dir, "dev"), doc.toString());
        const run = await fleet(["doctor", "--stack", "dev", "--cwd", dir, "--json"]);
        expect(run.exitCode).toBe(1);
        const { findings } = JSON.parse(run.stdout) as { findings: Finding[] };
        expect(findings.filter((f) => f.check === "config")).toEqual([{
            check: "config", ok: false, detail: 'fleet.agents.jarvis.memory: expected a memory size like "256Mi" or "1Gi", got "lots"', fix: "edit stacks/Pulumi.dev.yaml at fleet.agents.jarvis.memory",
        }]);
    });

    it.skipIf(withoutPulumi)("passes a ready dev stack: no secrets needed, the engine answers, the CLI is new enough, the backend holds it", async () => {
        const dir = copyProject();
        const env = await initStack(dir, "dev");
        const run = await fleet(["doctor", "--stack", "dev", "--cwd", dir], { env });
        expect(run.exitCode, run.stdout).toBe(0);
        expect(run.stdout).toMatch(/^pulumi\s+ok\s+CLI v?\d+\.\d+\.\d+ \(the program's SDK is \d+\.\d+\.\d+\)$/m);
    });

    it.concurrent("notes what probing every 2 s costs an engine without start_interval, and says how to probe as seldom as before", async () => {
        const dir = copyProject();
        const many = (startInterval?: string) => {
            const doc = parseDocument(fs.readFileSync(stackFile(dir, "dev"), "utf8"));
            const agents = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`bench-${i + 1}`, { tier: 1, owner: "@acme/bench", port: 8080 }]));
            doc.setIn(["config", "agent-fleet:fleet", "agents"], doc.createNode(agents));
            if (startInterval) doc.setIn(["config", "agent-fleet:fleet", "agentDefaults", "healthcheck"], doc.createNode({ startInterval }));
            fs.writeFileSync(stackFile(dir, "dev"), doc.toString());
        };
        const notes = async () => ((JSON.parse((await fleet(["doctor", "--stack", "dev", "--cwd", dir, "--json"])).stdout) as { findings: (Finding & { note?: boolean })[] }).findings
            .filter((f) => f.note));
        const engine = await dockerClient().version();
        const cores = ((await dockerClient().info()) as { NCPU: number }).NCPU;
        // 30 agents probing every 2 s: 15 probes a second, about 0.68 of a core; doctor speaks up past a tenth of the engine's cores.
        const quiet = healthFeaturesOfApi(engine.ApiVersion).startInterval || 0.675 <= 0.1 * cores;
        many();
        // Agents that leave startInterval to the tier probe every interval on such an engine: nothing to say.
        expect(await notes()).toEqual([]);
        many("2s");
        const note = await notes();
        if (quiet) {
            expect(note).toEqual([]);
        } else {
            expect(note).toEqual([expect.objectContaining({ check: "docker", ok: true, detail: expect.stringMatching(/^note: .*engine [^ ]+ has no start_interval, so 30 agents probe every 2 s for their whole life, about 0\.6[78] of its \d+ cores; .*healthcheck\.startInterval/) })]);
        }
        many("10s");
        expect(await notes()).toEqual([]);
    });

    it.concurrent("an unknown stack is bad input", async () => {
        const run = await fleet(["doctor", "--stack", "qa", "--cwd", copyProject()]);
        expect(run.exitCode).toBe(2);
        expect(run.stderr).toMatch(/^unknown stack "qa": stacks\/Pulumi\.qa\.yaml does not exist/);
    });
});
