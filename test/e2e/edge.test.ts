/**
 * The edge on the real engine: Caddy on the fleet network, an exposed agent
 * reached over HTTPS by its hostname (anything not exposed gets the edge's
 * 404), and a probe through the edge every 50 ms
 * that sees no failed request across ten create-first releases, a second
 * agent exposed by a path prefix and then removed, and a broken release that
 * the health gate refuses (with `fleet up`'s rollback). The agent's GitHub
 * webhook is registered (with a local stand-in for GitHub's API) under its
 * public URL, and a signed delivery sent there reaches it through the edge;
 * `fleet verify` and `fleet status` see the public side.
 */
import { createHmac, randomUUID } from "node:crypto";
import { promises as fs } from "node:fs";
import https from "node:https";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EDGE_AGENT_HEADER, EDGE_ROLE, LABELS } from "../../contract";
import { edgeTrust } from "../../cli/services/edge-check";
import { buildSampleAgentImage, dockerClient, provideDefaultCaddyImage, requireDocker } from "../support/docker";
import { GitHubApiStandIn } from "../support/github-api";
import { skipUnlessAvailable } from "../support/requirements";
import { freePort } from "../support/sentinel";
import { SWARM_TURN_MS, lockSwarm } from "../support/swarm";
import { SAMPLE_AGENT_EDGE_FIELDS, edgeProbe, releaseUnderProbe, request } from "../support/edge";
import { DOCKER_PLUGIN_VERSION, GITHUB_PLUGIN_VERSION, Workspace, expectOk, missingForDeployments, provideDefaultNodeImage, pulumiOnPath } from "./workspace";

const STEP_TIMEOUT = 900_000;
const STACK = "edge";
const AGENT = "pesti";
const IMAGE = "agent-fleet/sample-agent:e2e-edge";
const EDGE_HOST = "agents.e2e.test";
const AGENT_HOST = "pesti.e2e.test";
const OWNER = "acme";
const HOOK_REPOSITORY = `${OWNER}/pesti`;
/** Seeded values: none may show up in the stack file, the state or anything the CLI prints. */
const TOKEN = "e2e-SEEDED-edge-github-token-0c41a9";
const HOOK_SECRET = "e2e-SEEDED-edge-hook-secret-7e22d5";
/** The edge's body limit here, below the agent's own 64 KiB: a body between the two is refused by the edge alone. */
const EDGE_MAX_BODY = 32 * 1024;

const cli = pulumiOnPath();
const skip = skipUnlessAvailable("test/e2e/edge",
    cli ? missingForDeployments([{ name: "docker", version: DOCKER_PLUGIN_VERSION }, { name: "github", version: GITHUB_PLUGIN_VERSION }]) : ["a `pulumi` CLI on PATH"]);

function stackFile(httpPort: number, httpsPort: number): string {
    return [
        "config:",
        "  agent-fleet:fleet:",
        "    environment: dev",
        "    edge:",
        `      hostname: ${EDGE_HOST}`,
        "      listenAddress: 127.0.0.1",
        `      httpPort: ${httpPort}`,
        `      httpsPort: ${httpsPort}`,
        `      maxBodySize: ${EDGE_MAX_BODY / 1024}KiB`,
        "    agents:",
        `      ${AGENT}:`,
        "        tier: 1",
        "        port: 8080",
        '        owner: "@acme/e2e"',
        "        memory: 128Mi",
        `        image: ${IMAGE}`,
        "        build: false",
        `        expose: ${AGENT_HOST}`,
        "        smokeChecks:",
        "          - name: health",
        "            path: /health",
        "        webhooks:",
        "          - name: github-push",
        "            source: github",
        "            path: /webhooks/github",
        "            secret: pestiHookSecret",
        `            repository: ${HOOK_REPOSITORY}`,
        "            events: [push]",
        ...SAMPLE_AGENT_EDGE_FIELDS,
        "",
    ].join("\n");
}

describe.skipIf(skip).sequential(`the edge on the real engine (${cli})`, () => {
    let ws: Workspace;
    let httpsPort: number;
    let github: GitHubApiStandIn;
    /** The provider's token and base URL, as a user's CI would set them, for every command that deploys. */
    let env: Record<string, string>;
    const fleet = (...args: string[]) => ws.fleetWith(env, ...args);
    const stackPath = () => path.join(ws.dir, "stacks", `Pulumi.${STACK}.yaml`);
    const setEnv = (name: string, value: string | undefined) => ws.editStack(STACK, (doc) => {
        const at = ["config", "agent-fleet:fleet", "agents", AGENT, "env", name];
        if (value === undefined) doc.deleteIn(at);
        else doc.setIn(at, value);
    });
    const containers = async () => (await dockerClient().listContainers({ all: true, filters: { label: [`${LABELS.stack}=${STACK}`] } }));

    let unlockSwarm: () => Promise<void> = async () => undefined;

    beforeAll(async () => {
        await requireDocker();
        // Not beside the swarm suites: in the two CI runs that had this suite's probe (20 HTTPS requests a second
        // through Caddy) beside the swarm suite's, 34 and 39 of the swarm probe's lookups of a service by name failed
        // (ENOTFOUND) during a start-first handover; without it they never did, in 9 runs. The swarm's own lock
        // makes them take turns.
        unlockSwarm = await lockSwarm();
        await provideDefaultNodeImage();
        await provideDefaultCaddyImage();
        ws = await Workspace.create();
        const local = await buildSampleAgentImage();
        await execa("docker", ["build", "-q", "-t", IMAGE, "-"], { input: `FROM ${local}\nLABEL suite=edge\n` });
        httpsPort = await freePort();
        await fs.writeFile(stackPath(), stackFile(await freePort(), httpsPort));
        await fs.copyFile(path.join(ws.dir, "stacks", "policy.dev.json"), path.join(ws.dir, "stacks", `policy.${STACK}.json`));
        github = new GitHubApiStandIn(TOKEN, [HOOK_REPOSITORY], [OWNER]);
        env = { GITHUB_TOKEN: TOKEN, GITHUB_BASE_URL: await github.start() };
        expectOk(await ws.pulumiOn(STACK, "stack", "init", "--secrets-provider", "passphrase"), "pulumi stack init");
        expectOk(await ws.pulumiOn(STACK, "config", "set", "--secret", "pestiHookSecret", HOOK_SECRET), "pulumi config set --secret pestiHookSecret");
        await ws.git("add", "-A");
        await ws.git("-c", "user.email=e2e@localhost", "-c", "user.name=e2e", "commit", "-q", "-m", "the edge stack");
    }, SWARM_TURN_MS + STEP_TIMEOUT);

    afterAll(async () => {
        try {
            if (!ws) return;
            if ((await containers()).length > 0) await ws.pulumiOnWith(STACK, env, "destroy", "--yes", "--skip-preview");
            await github?.stop();
            for (const c of await containers()) await dockerClient().getContainer(c.Id).remove({ force: true }).catch(() => undefined);
            // The certificate volume outlives a destroy on purpose (a replaced edge keeps its certificates); the test's does not.
            for (const v of (await dockerClient().listVolumes({ filters: { label: [`${LABELS.stack}=${STACK}`] } })).Volumes ?? []) {
                await dockerClient().getVolume(v.Name).remove().catch(() => undefined);
            }
            await ws.remove();
        } finally {
            await unlockSwarm();
        }
    }, STEP_TIMEOUT);

    it("1. `fleet up` deploys the edge: the exposed agent answers over HTTPS at its hostname, anything else gets the edge's 404", async () => {
        expectOk(await fleet("up", "--stack", STACK), "fleet up");
        const agent = new https.Agent({ rejectUnauthorized: false });
        const health = await request(httpsPort, AGENT_HOST, "/health", agent);
        expect(health).toMatchObject({ status: 200, agent: AGENT });
        expect(JSON.parse(health.body)).toMatchObject({ status: "ok", agent: AGENT });
        // The edge issues its certificates as it loads the routes: the first may take a moment.
        let elsewhere = await request(httpsPort, EDGE_HOST, "/api/agents/nobody", agent);
        for (let i = 0; i < 60 && typeof elsewhere.status === "string"; i++) {
            await new Promise((resolve) => setTimeout(resolve, 500));
            elsewhere = await request(httpsPort, EDGE_HOST, "/api/agents/nobody", agent);
        }
        expect(elsewhere).toMatchObject({ status: 404, body: "no agent is exposed here\n" });
        expect(elsewhere.agent).toBeUndefined();
        agent.destroy();

        // The webhook is registered under the agent's public URL, derived from the edge: no webhookBaseUrl in the file.
        expect([...github.repository(HOOK_REPOSITORY).hooks.values()].map((h) => h.config.url)).toEqual([`https://${AGENT_HOST}:${httpsPort}/webhooks/github`]);
        // fleet verify asks for the agent as the public does, through the edge, checking its certificate against the edge's CA.
        const verify = await fleet("verify", "--stack", STACK, "--json");
        expectOk(verify, "fleet verify");
        const rows = (JSON.parse(verify.stdout) as { agents: { container: string; ok: boolean; health: string; passedChecks: string[] }[] }).agents;
        expect(rows.find((r) => r.container.startsWith("edge "))).toEqual(expect.objectContaining({
            container: `edge https://${AGENT_HOST}:${httpsPort}`, ok: true, health: "public URL ok", passedChecks: ["health"],
        }));
        const status = await fleet("status", "--stack", STACK, "--json");
        expect((JSON.parse(status.stdout) as { agents: { agent: string; url?: string }[] }).agents).toEqual([expect.objectContaining({ agent: AGENT, url: `https://${AGENT_HOST}:${httpsPort}` })]);
        for (const text of [...ws.transcript, await fs.readFile(stackPath(), "utf8"), await ws.stateText()]) {
            expect(text).not.toContain(HOOK_SECRET);
            expect(text).not.toContain(TOKEN);
        }
    }, STEP_TIMEOUT);

    it("2. ten create-first releases of the agent, probed through the edge every 50 ms: 0 failed requests", async () => {
        const { counts, lines } = await releaseUnderProbe(10, httpsPort, AGENT_HOST, {
            setRevision: (revision) => setEnv("REVISION", revision), up: () => fleet("up", "--stack", STACK, "--agent", AGENT),
        });
        console.log(`e2e edge: ${lines.join("\ne2e edge: ")}\ne2e edge: ten releases: ${JSON.stringify(counts)}`);
        expect(counts.failed, JSON.stringify(counts.failures)).toBe(0);
        expect(counts.ok).toBeGreaterThan(100);
    }, STEP_TIMEOUT);

    it("3. adding a second agent exposed by a path prefix, then removing it: the first sees 0 failed requests; the prefix is stripped, and 404 once removed", async () => {
        const second = "jarvis";
        const agent = new https.Agent({ rejectUnauthorized: false });
        const watch = edgeProbe(httpsPort, AGENT_HOST);
        await ws.editStack(STACK, (doc) => {
            const entry = doc.getIn(["config", "agent-fleet:fleet", "agents", AGENT]) as { clone(): unknown };
            doc.setIn(["config", "agent-fleet:fleet", "agents", second], entry.clone());
            doc.setIn(["config", "agent-fleet:fleet", "agents", second, "expose"], "/api/agents/jarvis");
            doc.deleteIn(["config", "agent-fleet:fleet", "agents", second, "env", "FAIL_HEALTH"]);
            // One registration per repository and event (unique-webhooks): the second agent takes none.
            doc.deleteIn(["config", "agent-fleet:fleet", "agents", second, "webhooks"]);
        });
        expectOk(await fleet("up", "--stack", STACK), "fleet up with jarvis");
        const health = await request(httpsPort, EDGE_HOST, "/api/agents/jarvis/health", agent);
        expect(health).toMatchObject({ status: 200, agent: second });
        expect(JSON.parse(health.body)).toMatchObject({ agent: second });
        await ws.editStack(STACK, (doc) => { doc.deleteIn(["config", "agent-fleet:fleet", "agents", second]); });
        expectOk(await fleet("up", "--stack", STACK), "fleet up without jarvis");
        expect((await request(httpsPort, EDGE_HOST, "/api/agents/jarvis/health", agent)).status).toBe(404);
        const counts = await watch.stop();
        agent.destroy();
        console.log(`e2e edge: adding and removing a second agent: ${JSON.stringify(counts)}`);
        expect(counts.failed, JSON.stringify(counts.failures)).toBe(0);
        expect(counts.ok).toBeGreaterThan(100);
    }, STEP_TIMEOUT);

    it("4. a broken release the health gate refuses, and `fleet up`'s rollback: 0 failed requests through the edge", async () => {
        const watch = edgeProbe(httpsPort, AGENT_HOST);
        await setEnv("FAIL_HEALTH", "1");
        const up = await fleet("up", "--stack", STACK, "--agent", AGENT);
        expect(up.exitCode).not.toBe(0);
        const counts = await watch.stop();
        console.log(`e2e edge: broken release: ${JSON.stringify(counts)}`);
        expect(counts.failed, JSON.stringify(counts.failures)).toBe(0);
        expect(counts.ok).toBeGreaterThan(20);
        await setEnv("FAIL_HEALTH", undefined);
    }, STEP_TIMEOUT);

    /** The root of the edge's own CA (tls: internal), as a client of the edge would be given it (read as fleet verify reads it). */
    const edgeRoot = async () => {
        const trust = await edgeTrust(dockerClient(), STACK, { tls: "internal" });
        if (!("ca" in trust) || !trust.ca) throw new Error(`no root from the edge: ${JSON.stringify(trust)}`);
        return trust.ca;
    };
    const edgeContainer = async () => (await dockerClient().listContainers({ all: true, filters: { label: [`${LABELS.stack}=${STACK}`, `${LABELS.role}=${EDGE_ROLE}`] } }))[0];

    it("5. a GitHub-signed delivery to the registered URL reaches the agent through the edge (202); a wrong signature gets the agent's 401; a body over the edge's limit gets the edge's own 413", async () => {
        const ca = await edgeRoot();
        const [hook] = [...github.repository(HOOK_REPOSITORY).hooks.values()];
        const url = new URL(hook.config.url);
        const deliver = (secret: string, body: string) => request(Number(url.port), url.hostname, url.pathname, false, {
            method: "POST", ca, body,
            headers: {
                "content-type": "application/json", "x-github-event": "push", "x-github-delivery": randomUUID(),
                "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
            },
        });
        const push = JSON.stringify({ ref: "refs/heads/main", repository: { full_name: HOOK_REPOSITORY } });
        // Signed with the secret GitHub was given: the chain checks out against the edge's CA, and the agent takes it.
        expect(await deliver(hook.config.secret!, push)).toMatchObject({ status: 202, agent: AGENT });
        expect(await deliver("not-the-registered-secret", push)).toMatchObject({ status: 401, agent: AGENT });
        // Over the edge's limit and under the agent's own: only the edge can have refused it, and no agent answered.
        const oversize = JSON.stringify({ ref: "refs/heads/main", padding: "x".repeat(EDGE_MAX_BODY + 1024) });
        const refused = await deliver(hook.config.secret!, oversize);
        expect(refused).toMatchObject({ status: 413, body: `request body larger than the edge takes (${EDGE_MAX_BODY} bytes)\n` });
        expect(refused.agent).toBeUndefined();
        // The edge's access log: JSON lines on its stdout, each delivery's naming the agent that answered it.
        const logs = (await execa("docker", ["logs", (await edgeContainer()).Id])).stdout.split("\n").filter((line) => line.startsWith("{"));
        const deliveries = logs.map((line) => JSON.parse(line) as { request?: { uri?: string; host?: string }; status?: number; resp_headers?: Record<string, string[]> })
            .filter((entry) => entry.request?.uri === "/webhooks/github");
        expect(deliveries.map((d) => [d.status, d.resp_headers?.[EDGE_AGENT_HEADER]?.[0]])).toEqual([[202, AGENT], [401, AGENT], [413, undefined]]);
    }, STEP_TIMEOUT);

    it("6. `fleet verify` fails while the edge is down, naming the public URL, and passes once it is back with the routes it last took", async () => {
        const edge = await edgeContainer();
        await dockerClient().getContainer(edge.Id).stop({ t: 1 });
        try {
            const down = await fleet("verify", "--stack", STACK);
            expect(down.exitCode, down.stdout).toBe(1);
            expect(down.stdout).toMatch(new RegExp(`pesti +edge https://${AGENT_HOST.replace(/\./g, "\\.")}:${httpsPort} +FAIL +through the edge: no edge container runs on this host`));
            // The agent's own container is still fine: only the public side failed.
            expect(down.stdout).toMatch(/pesti +fleet-pesti-\S+ +ok +healthy/);
        } finally {
            await dockerClient().getContainer(edge.Id).start();
        }
        // `caddy run --resume`: the restarted edge serves the routes it last took, with no deploy.
        let back = await fleet("verify", "--stack", STACK);
        for (let i = 0; i < 20 && back.exitCode !== 0; i++) {
            await new Promise((resolve) => setTimeout(resolve, 500));
            back = await fleet("verify", "--stack", STACK);
        }
        expectOk(back, "fleet verify after the edge restarted");
    }, STEP_TIMEOUT);

    it("7. measures what the edge adds: latency over 2,000 requests through it and direct, and requests per second (logged, not asserted)", async () => {
        const outputs = JSON.parse((await ws.pulumiOnWith(STACK, env, "stack", "output", "agents", "--json", "--show-secrets")).stdout) as Record<string, { healthUrls: string[] }>;
        const direct = new URL(outputs[AGENT].healthUrls[0]);
        const viaEdge = new https.Agent({ keepAlive: true, rejectUnauthorized: false });
        const { default: http } = await import("node:http");
        const directAgent = new http.Agent({ keepAlive: true });
        const getDirect = () => new Promise<number>((resolve) => {
            http.get({ host: direct.hostname, port: direct.port, path: direct.pathname, agent: directAgent }, (res) => { res.resume(); res.on("end", () => resolve(res.statusCode ?? 0)); })
                .on("error", () => resolve(0));
        });
        const getEdge = async () => (await request(httpsPort, AGENT_HOST, "/health", viaEdge)).status;
        const percentiles = async (get: () => Promise<number | string>) => {
            const ms: number[] = [];
            let failed = 0;
            for (let i = 0; i < 2_000; i++) {
                const started = performance.now();
                if ((await get()) !== 200) failed++;
                ms.push(performance.now() - started);
            }
            ms.sort((a, b) => a - b);
            return { p50: ms[999], p99: ms[1979], failed };
        };
        const throughput = async (get: () => Promise<number | string>) => {
            const started = performance.now();
            let done = 0;
            await Promise.all(Array.from({ length: 16 }, async () => { while (done < 4_000) { done++; await get(); } }));
            return Math.round(done / ((performance.now() - started) / 1000));
        };
        await percentiles(getEdge);
        const edge = await percentiles(getEdge);
        const plain = await percentiles(getDirect);
        const edgeRps = await throughput(getEdge);
        const plainRps = await throughput(getDirect);
        viaEdge.destroy();
        directAgent.destroy();
        const f = (n: number) => n.toFixed(2);
        console.log(`e2e edge: latency over 2,000 sequential requests (kept-alive): through the edge p50 ${f(edge.p50)} ms, p99 ${f(edge.p99)} ms; direct p50 ${f(plain.p50)} ms, p99 ${f(plain.p99)} ms; the edge adds p50 ${f(edge.p50 - plain.p50)} ms, p99 ${f(edge.p99 - plain.p99)} ms`);
        console.log(`e2e edge: requests per second, 16 concurrent, 4,000 requests: through the edge ${edgeRps}, direct ${plainRps} (${(edgeRps / plainRps).toFixed(2)}×)`);
        expect(edge.failed).toBe(0);
        expect(plain.failed).toBe(0);
    }, STEP_TIMEOUT);
});
