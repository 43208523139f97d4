// Exercises the real sample-agent image on the real engine: the Dockerfile's
// HEALTHCHECK, signal handling as PID 1, and read-only/non-root operation are
// properties of the container, not of server.js, so unit tests cannot cover them.
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import {
    SAMPLE_AGENT_PORT,
    TestContainers,
    buildSampleAgentImage,
    containerLogs,
    execInContainer,
    requireDocker,
    seconds,
    sleep,
    waitForExit,
    waitForHealthStatus,
    type RunOptions,
    type RunningContainer,
} from "../support/docker";

const FLAGS = { "smart-replies": "team", "fast-path": "off" };
// Fast probes so health transitions take ~2s instead of the image's 10s x 3.
const FAST_HEALTHCHECK = { Interval: seconds(1), Retries: 2, StartPeriod: seconds(1), Timeout: seconds(2) };

let image: string;
const containers = new TestContainers();

function runAgent(overrides: Partial<RunOptions> & { env?: Record<string, string> } = {}): Promise<RunningContainer> {
    return containers.run({
        image,
        containerPort: SAMPLE_AGENT_PORT,
        healthcheck: FAST_HEALTHCHECK,
        ...overrides,
        env: { AGENT_NAME: "test-agent", AGENT_VERSION: "1.2.3-test", FEATURE_FLAGS: JSON.stringify(FLAGS), ...overrides.env },
    });
}

async function getJson(url: string, init?: RequestInit, timeoutMs = 5_000): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const postJson = (url: string, body: unknown) =>
    getJson(url, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });

beforeAll(async () => {
    await requireDocker();
    image = await buildSampleAgentImage();
}, 120_000);

afterAll(async () => {
    await containers.removeAll();
});

describe("sample-agent container", () => {
    let agent: RunningContainer;

    beforeAll(async () => {
        agent = await runAgent();
        await waitForHealthStatus(agent.container, "healthy", { timeoutMs: 15_000 });
    }, 30_000);

    it("is reported healthy by Docker and serves /health, /flags and /v1/reply", async () => {
        const health = await getJson(`${agent.baseUrl}/health`);
        expect(health.status).toBe(200);
        expect(health.body).toMatchObject({ status: "ok", agent: "test-agent", version: "1.2.3-test", flags: FLAGS });
        expect(typeof health.body.uptimeSeconds).toBe("number");

        const flags = await getJson(`${agent.baseUrl}/flags`);
        expect(flags).toEqual({ status: 200, body: { flags: FLAGS } });

        const reply = await postJson(`${agent.baseUrl}/v1/reply`, { message: "hello fleet" });
        expect(reply).toEqual({ status: 200, body: { agent: "test-agent", reply: "echo: hello fleet" } });

        const missing = await postJson(`${agent.baseUrl}/v1/reply`, { msg: "wrong field" });
        expect(missing.status).toBe(400);
        expect(missing.body.field).toBe("message");

        const malformed = await postJson(`${agent.baseUrl}/v1/reply`, "{not json");
        expect(malformed.status).toBe(400);
        expect(malformed.body.field).toBe("body");

        const tooBig = await postJson(`${agent.baseUrl}/v1/reply`, { message: "x".repeat(70 * 1024) });
        expect(tooBig.status).toBe(413);
    });

    it("turns unhealthy on injected failure and healthy again on recovery", async () => {
        const failed = await postJson(`${agent.baseUrl}/admin/health/fail`, { reason: "test-induced" });
        expect(failed.status).toBe(200);

        const health = await getJson(`${agent.baseUrl}/health`);
        expect(health).toMatchObject({ status: 503, body: { status: "failing", reason: "test-induced", version: "1.2.3-test" } });

        const unhealthy = await waitForHealthStatus(agent.container, "unhealthy", { timeoutMs: 10_000 });
        const lastProbe = unhealthy.State.Health?.Log?.at(-1);
        expect(lastProbe?.ExitCode).toBe(1);
        expect(lastProbe?.Output).toContain("HTTP 503");

        expect((await postJson(`${agent.baseUrl}/admin/health/recover`, {})).status).toBe(200);
        await waitForHealthStatus(agent.container, "healthy", { timeoutMs: 10_000 });
        expect((await getJson(`${agent.baseUrl}/health`)).status).toBe(200);
    });
});

describe("sample-agent shutdown", () => {
    it("drains an in-flight request on SIGTERM and exits 0 well within the grace period", async () => {
        const graceMs = 3_000;
        const slowMs = 1_500;
        const agent = await runAgent({ env: { SHUTDOWN_GRACE_MS: String(graceMs) } });
        await waitForHealthStatus(agent.container, "healthy", { timeoutMs: 15_000 });
        // An idle keep-alive socket from this request must not hold shutdown open.
        expect((await getJson(`${agent.baseUrl}/health`)).status).toBe(200);

        // Settle to a value so a dropped request fails the assertion below, not the run.
        const inFlight = getJson(`${agent.baseUrl}/admin/slow?ms=${slowMs}`).catch((err: Error) => err);
        await sleep(300); // let the slow request reach the server before the signal
        const started = Date.now();
        await agent.container.kill({ signal: "SIGTERM" });
        const { exitCode, info } = await waitForExit(agent.container, graceMs + 5_000);
        const elapsed = Date.now() - started;

        expect(await inFlight).toEqual({ status: 200, body: { slept: slowMs } });
        expect(exitCode).toBe(0); // 137 would mean SIGKILL, 143 an unhandled SIGTERM
        expect(info.State.OOMKilled).toBe(false);
        // Lower bound proves it waited for the request instead of exiting at once.
        expect(elapsed).toBeGreaterThanOrEqual(slowMs - 300 - 200);
        expect(elapsed).toBeLessThan(graceMs + 500);

        const { stdout } = await containerLogs(agent.container);
        expect(stdout).toContain('"event":"shutdown_complete"');
        expect(stdout).not.toContain('"event":"shutdown_forced"');
    });

    it("forces exit 0 at SHUTDOWN_GRACE_MS when a request outlives it, before docker stop escalates to SIGKILL", async () => {
        const graceMs = 1_500;
        const agent = await runAgent({ env: { SHUTDOWN_GRACE_MS: String(graceMs) } });
        await waitForHealthStatus(agent.container, "healthy", { timeoutMs: 15_000 });

        // Client timeout outlives docker stop's 10s so only the server can end this request.
        const stuck = getJson(`${agent.baseUrl}/admin/slow?ms=30000`, undefined, 20_000).catch((err: Error) => err);
        await sleep(300);
        const started = Date.now();
        // docker stop sends STOPSIGNAL, then SIGKILL after t seconds; exit 0
        // before then proves the app's own deadline fired.
        await agent.container.stop({ t: 10 });
        const { exitCode } = await waitForExit(agent.container, 5_000);
        const elapsed = Date.now() - started;

        expect(exitCode).toBe(0);
        expect(elapsed).toBeGreaterThanOrEqual(graceMs - 200);
        expect(elapsed).toBeLessThan(graceMs + 1_500);
        expect(await stuck).toBeInstanceOf(Error);
        const { stdout } = await containerLogs(agent.container);
        expect(stdout).toContain('"event":"shutdown_forced"');
    });
});

describe("sample-agent configuration and hardening", () => {
    it("exits 1 at startup with a clear message on invalid FEATURE_FLAGS, without echoing the value", async () => {
        const started = Date.now();
        // No published port: the container exits at once, so there is no port to read (and waiting for one raced the exit).
        const agent = await runAgent({ containerPort: undefined, env: { FEATURE_FLAGS: '{"smart-replies": sk-live-not-a-real-secret' } });
        const { exitCode } = await waitForExit(agent.container, 10_000);
        expect(exitCode).toBe(1);
        expect(Date.now() - started).toBeLessThan(5_000);

        const { stdout, stderr } = await containerLogs(agent.container);
        expect(stderr).toContain("invalid FEATURE_FLAGS");
        expect(stderr).toContain("not valid JSON");
        expect(stdout + stderr).not.toContain("sk-live-not-a-real-secret");
        expect(stdout).not.toContain('"event":"startup"');
    });

    it("runs healthy with a read-only root filesystem as uid/gid 1000, and hides admin endpoints when FAULT_INJECTION=off", async () => {
        const agent = await runAgent({ readonlyRootfs: true, user: "1000:1000", env: { FAULT_INJECTION: "off" } });
        const info = await waitForHealthStatus(agent.container, "healthy", { timeoutMs: 15_000 });
        expect(info.HostConfig.ReadonlyRootfs).toBe(true);
        expect(info.Config.User).toBe("1000:1000");

        // Inspect only shows what was requested; ask the process what it actually got.
        const ids = await execInContainer(agent.container, ["node", "-e", "process.stdout.write(process.getuid() + ':' + process.getgid())"]);
        expect(ids).toMatchObject({ exitCode: 0, stdout: "1000:1000" });
        const write = await execInContainer(agent.container, ["node", "-e", "require('fs').writeFileSync('/tmp/probe', 'x')"]);
        expect(write.exitCode).not.toBe(0);
        expect(write.stderr).toContain("EROFS");

        expect((await getJson(`${agent.baseUrl}/health`)).status).toBe(200);
        expect((await postJson(`${agent.baseUrl}/admin/health/fail`, {})).status).toBe(404);
        expect((await getJson(`${agent.baseUrl}/health`)).body.status).toBe("ok");
    });

    it("reads a secret from the file <NAME>_FILE names, as the swarm runtime mounts it, and logs only its name", async () => {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), "agent-secret-"));
        // The agent runs as uid 1000: it must be able to enter the directory, as it can /run/secrets.
        await fs.chmod(dir, 0o755);
        await fs.writeFile(path.join(dir, "API_TOKEN"), "SEEDED-file-secret-19ac\n", { mode: 0o444 });
        // SSL_CERT_FILE is no secret of the agent's: only paths under /run/secrets are.
        const agent = await runAgent({ binds: [`${dir}:/run/secrets:ro`], env: { API_TOKEN_FILE: "/run/secrets/API_TOKEN", SSL_CERT_FILE: "/etc/ssl/certs/none.crt" } });
        await waitForHealthStatus(agent.container, "healthy", { timeoutMs: 15_000 });
        const { stdout, stderr } = await containerLogs(agent.container);
        const startup = JSON.parse(stdout.split("\n").find((l) => l.includes('"event":"startup"'))!) as { secretFiles: string[] };
        expect(startup.secretFiles).toEqual(["API_TOKEN"]);
        expect(stdout + stderr).not.toContain("SEEDED-file-secret-19ac");
        await fs.rm(dir, { recursive: true, force: true });
    });

    it("exits 1 at startup naming the variable when a secret file cannot be read", async () => {
        const agent = await runAgent({ containerPort: undefined, env: { API_TOKEN_FILE: "/run/secrets/missing" } });
        const { exitCode } = await waitForExit(agent.container, 10_000);
        expect(exitCode).toBe(1);
        const { stderr } = await containerLogs(agent.container);
        expect(stderr).toContain("API_TOKEN_FILE points at /run/secrets/missing, which cannot be read (ENOENT)");
    });
});
