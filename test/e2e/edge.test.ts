/**
 * The edge on the real engine: Caddy on the fleet network, an exposed agent
 * reached over HTTPS by its hostname (anything not exposed gets the edge's
 * 404), and a probe through the edge every 50 ms
 * that sees no failed request across ten create-first releases, a second
 * agent exposed by a path prefix and then removed, and a broken release that
 * the health gate refuses (with `fleet up`'s rollback).
 */
import { promises as fs } from "node:fs";
import https from "node:https";
import net from "node:net";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABELS } from "../../contract";
import { buildSampleAgentImage, dockerClient, provideDefaultCaddyImage, requireDocker } from "../support/docker";
import { skipUnlessAvailable } from "../support/requirements";
import { Workspace, expectOk, missingForDeployments, provideDefaultNodeImage, pulumiOnPath } from "./workspace";

const STEP_TIMEOUT = 900_000;
const STACK = "edge";
const AGENT = "pesti";
const IMAGE = "agent-fleet/sample-agent:e2e-edge";
const EDGE_HOST = "agents.e2e.test";
const AGENT_HOST = "pesti.e2e.test";

const cli = pulumiOnPath();
const skip = skipUnlessAvailable("test/e2e/edge", cli ? missingForDeployments() : ["a `pulumi` CLI on PATH"]);

async function freePort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
}

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
        "    agents:",
        `      ${AGENT}:`,
        "        tier: 1",
        "        port: 8080",
        '        owner: "@acme/e2e"',
        "        memory: 128Mi",
        `        image: ${IMAGE}`,
        "        build: false",
        `        expose: ${AGENT_HOST}`,
        "        healthcheck:",
        '          interval: "1s"',
        '          timeout: "1s"',
        "          retries: 2",
        '          startPeriod: "1s"',
        "        waitTimeout: 15s",
        "        env:",
        '          REVISION: "0"',
        "",
    ].join("\n");
}

interface Answer { readonly status: number | string; readonly agent?: string; readonly body: string }

/** The status a request gets when its kept-alive connection was closed under it before any answer. */
const RESET_REUSED = "reset of a reused connection";

/** One HTTPS request to the edge on loopback, as a client of `host` would send it. */
function request(port: number, host: string, pathname: string, agent: https.Agent): Promise<Answer> {
    return new Promise((resolve) => {
        const req = https.request({ host: "127.0.0.1", port, servername: host, path: pathname, headers: { host }, agent, timeout: 10_000 }, (res) => {
            let body = "";
            res.on("data", (chunk: Buffer) => { body += chunk.toString(); });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, agent: res.headers["x-agent-fleet-agent"] as string | undefined, body }));
        });
        req.on("error", (error: NodeJS.ErrnoException) => resolve({
            // A kept-alive connection the server closed as the request went out (Caddy's graceful reload closes idle
            // ones): nothing was processed, and HTTP clients retry (RFC 9112 §9.3.1; Node's docs give this very check).
            status: req.reusedSocket && error.code === "ECONNRESET" ? RESET_REUSED : error.code ?? error.message,
            body: "",
        }));
        req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
        req.end();
    });
}

/** Requests through the edge every 50 ms until stopped; counts answers by outcome. */
function probe(port: number) {
    // The edge's certificate comes from its own CA in dev: this probe counts answers, it does not judge the chain.
    const agent = new https.Agent({ keepAlive: true, rejectUnauthorized: false });
    const counts = { ok: 0, failed: 0, failures: {} as Record<string, number>, retriedResets: 0 };
    let running = true;
    const done = (async () => {
        while (running) {
            const started = Date.now();
            let answer = await request(port, AGENT_HOST, "/health", agent);
            if (answer.status === RESET_REUSED) {
                counts.retriedResets++;
                answer = await request(port, AGENT_HOST, "/health", agent);
            }
            if (answer.status === 200) counts.ok++;
            else {
                counts.failed++;
                counts.failures[String(answer.status)] = (counts.failures[String(answer.status)] ?? 0) + 1;
            }
            await new Promise((resolve) => setTimeout(resolve, Math.max(0, 50 - (Date.now() - started))));
        }
    })();
    return { counts, stop: async () => { running = false; await done; agent.destroy(); return counts; } };
}

describe.skipIf(skip).sequential(`the edge on the real engine (${cli})`, () => {
    let ws: Workspace;
    let httpsPort: number;
    const stackPath = () => path.join(ws.dir, "stacks", `Pulumi.${STACK}.yaml`);
    const setEnv = (name: string, value: string | undefined) => ws.editStack(STACK, (doc) => {
        const at = ["config", "agent-fleet:fleet", "agents", AGENT, "env", name];
        if (value === undefined) doc.deleteIn(at);
        else doc.setIn(at, value);
    });
    const containers = async () => (await dockerClient().listContainers({ all: true, filters: { label: [`${LABELS.stack}=${STACK}`] } }));

    beforeAll(async () => {
        await requireDocker();
        await provideDefaultNodeImage();
        await provideDefaultCaddyImage();
        ws = await Workspace.create();
        const local = await buildSampleAgentImage();
        await execa("docker", ["build", "-q", "-t", IMAGE, "-"], { input: `FROM ${local}\nLABEL suite=edge\n` });
        httpsPort = await freePort();
        await fs.writeFile(stackPath(), stackFile(await freePort(), httpsPort));
        await fs.copyFile(path.join(ws.dir, "stacks", "policy.dev.json"), path.join(ws.dir, "stacks", `policy.${STACK}.json`));
        await ws.git("add", "-A");
        await ws.git("-c", "user.email=e2e@localhost", "-c", "user.name=e2e", "commit", "-q", "-m", "the edge stack");
    }, STEP_TIMEOUT);

    afterAll(async () => {
        if (!ws) return;
        if ((await containers()).length > 0) await ws.pulumiOn(STACK, "destroy", "--yes", "--skip-preview");
        for (const c of await containers()) await dockerClient().getContainer(c.Id).remove({ force: true }).catch(() => undefined);
        // The certificate volume outlives a destroy on purpose (a replaced edge keeps its certificates); the test's does not.
        for (const v of (await dockerClient().listVolumes({ filters: { label: [`${LABELS.stack}=${STACK}`] } })).Volumes ?? []) {
            await dockerClient().getVolume(v.Name).remove().catch(() => undefined);
        }
        await ws.remove();
    }, STEP_TIMEOUT);

    it("1. `fleet up` deploys the edge: the exposed agent answers over HTTPS at its hostname, anything else gets the edge's 404", async () => {
        expectOk(await ws.fleet("up", "--stack", STACK, "--create-stack"), "fleet up --create-stack");
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
    }, STEP_TIMEOUT);

    it("2. ten create-first releases of the agent, probed through the edge every 50 ms: 0 failed requests", async () => {
        const watch = probe(httpsPort);
        const lines: string[] = [];
        for (let release = 1; release <= 10; release++) {
            await setEnv("REVISION", String(release));
            const started = Date.now();
            const up = await ws.fleet("up", "--stack", STACK, "--agent", AGENT);
            expectOk(up, `fleet up, release ${release}`);
            lines.push(`release ${release}: fleet up ${((Date.now() - started) / 1000).toFixed(1)} s; probe so far ${watch.counts.ok} ok, ${watch.counts.failed} failed`);
        }
        const counts = await watch.stop();
        console.log(`e2e edge: ${lines.join("\ne2e edge: ")}\ne2e edge: ten releases: ${JSON.stringify(counts)}`);
        expect(counts.failed, JSON.stringify(counts.failures)).toBe(0);
        expect(counts.ok).toBeGreaterThan(100);
    }, STEP_TIMEOUT);

    it("3. adding a second agent exposed by a path prefix, then removing it: the first sees 0 failed requests; the prefix is stripped, and 404 once removed", async () => {
        const second = "jarvis";
        const agent = new https.Agent({ rejectUnauthorized: false });
        const watch = probe(httpsPort);
        await ws.editStack(STACK, (doc) => {
            const entry = doc.getIn(["config", "agent-fleet:fleet", "agents", AGENT]) as { clone(): unknown };
            doc.setIn(["config", "agent-fleet:fleet", "agents", second], entry.clone());
            doc.setIn(["config", "agent-fleet:fleet", "agents", second, "expose"], "/api/agents/jarvis");
            doc.deleteIn(["config", "agent-fleet:fleet", "agents", second, "env", "FAIL_HEALTH"]);
        });
        expectOk(await ws.fleet("up", "--stack", STACK), "fleet up with jarvis");
        const health = await request(httpsPort, EDGE_HOST, "/api/agents/jarvis/health", agent);
        expect(health).toMatchObject({ status: 200, agent: second });
        expect(JSON.parse(health.body)).toMatchObject({ agent: second });
        await ws.editStack(STACK, (doc) => { doc.deleteIn(["config", "agent-fleet:fleet", "agents", second]); });
        expectOk(await ws.fleet("up", "--stack", STACK), "fleet up without jarvis");
        expect((await request(httpsPort, EDGE_HOST, "/api/agents/jarvis/health", agent)).status).toBe(404);
        const counts = await watch.stop();
        agent.destroy();
        console.log(`e2e edge: adding and removing a second agent: ${JSON.stringify(counts)}`);
        expect(counts.failed, JSON.stringify(counts.failures)).toBe(0);
        expect(counts.ok).toBeGreaterThan(100);
    }, STEP_TIMEOUT);

    it("4. a broken release the health gate refuses, and `fleet up`'s rollback: 0 failed requests through the edge", async () => {
        const watch = probe(httpsPort);
        await setEnv("FAIL_HEALTH", "1");
        const up = await ws.fleet("up", "--stack", STACK, "--agent", AGENT);
        expect(up.exitCode).not.toBe(0);
        const counts = await watch.stop();
        console.log(`e2e edge: broken release: ${JSON.stringify(counts)}`);
        expect(counts.failed, JSON.stringify(counts.failures)).toBe(0);
        expect(counts.ok).toBeGreaterThan(20);
        await setEnv("FAIL_HEALTH", undefined);
    }, STEP_TIMEOUT);
});
