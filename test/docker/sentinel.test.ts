/**
 * The sentinel in a real container, watching a real sample agent through the
 * Docker socket (mounted read-only) and alerting a local receiver: a health
 * flip, its recovery, and no seeded secret in its logs or payloads.
 */
import { promises as fs } from "fs";
import * as net from "net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifySignature } from "../../alerts";
import { LABELS } from "../../contract";
import {
    RunningContainer, TestContainers, buildSampleAgentImage, buildSentinelImage, requireDocker, waitForHealthStatus,
} from "../support/docker";
import { Receiver } from "../support/receiver";

const SIGNING = "SEEDED-sentinel-signing-3b9";
const URL_TOKEN = "SEEDED-sentinel-url-77c";
/** The sample agent's probe: every second, unhealthy after two failures. */
const HEALTH = { Interval: 1e9, Timeout: 1e9, Retries: 2, StartPeriod: 1e9 };
const DETECTION_MS = (HEALTH.Interval * HEALTH.Retries + HEALTH.Timeout) / 1e6;
const SOCKET = "/var/run/docker.sock";
/** The sentinel's spool, on a named volume of this test's own, so pending alerts outlive a restart. */
const SPOOL_VOLUME = `agent-fleet-sentinel-test-${process.pid}`;

async function freePort(): Promise<number> {
    return new Promise((resolve) => {
        const server = net.createServer().listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

async function until<T>(what: string, check: () => T | undefined, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const found = check();
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
    }
}

describe("the sentinel on a real Docker engine", () => {
    const containers = new TestContainers();
    const receiver = new Receiver();
    let agent: RunningContainer;
    let sentinel: RunningContainer;
    let sentinelUrl: string;
    let agentImage: string;
    let receiverBase: string;

    const alerts = () => receiver.received.map((r) => ({
        ...(JSON.parse(r.body) as { event: string; agent: string; severity: string; reason: string; tier: number; environment: string; id: string }),
        verified: verifySignature(SIGNING, r.body, { signature: String(r.headers["x-agent-fleet-signature"]), timestamp: String(r.headers["x-agent-fleet-timestamp"]) }).ok,
        at: r.at,
    }));

    beforeAll(async () => {
        await requireDocker();
        agentImage = await buildSampleAgentImage();
        const sentinelImage = await buildSentinelImage();
        receiverBase = await receiver.start();
        const hook = `${receiverBase}/hook/${URL_TOKEN}`;
        agent = await startAgent("jarvis");
        await waitForHealthStatus(agent.container, "healthy");
        const port = await freePort();
        sentinelUrl = `http://127.0.0.1:${port}`;
        const socketGroup = String((await fs.stat(SOCKET)).gid);
        sentinel = await containers.run({
            image: sentinelImage,
            networkMode: "host",
            binds: [`${SOCKET}:${SOCKET}:ro`, `${SPOOL_VOLUME}:/var/spool/sentinel`],
            groupAdd: [socketGroup],
            env: {
                PORT: String(port),
                SENTINEL_CONFIG: JSON.stringify({
                    stack: "dev", environment: "dev", reminderAfterMs: 3_600_000,
                    agents: ["jarvis", "loopy", "victim"].map((name) => ({ name, tier: 2, version: "dev", alertChannels: ["hook"], monitorWindowMs: 0 })),
                    channels: [{ name: "hook", minSeverity: "info" }],
                }),
                SENTINEL_CHANNELS: JSON.stringify({ hook: { type: "webhook", url: hook, signingSecret: SIGNING } }),
            },
        });
        const deadline = Date.now() + 20_000;
        for (;;) {
            const health = await fetch(`${sentinelUrl}/health`).then((r) => r.json() as Promise<{ docker: string }>).catch(() => undefined);
            if (health?.docker === "connected") break;
            if (Date.now() > deadline) throw new Error(`the sentinel did not connect to Docker: ${JSON.stringify(health)}\n${await logsOf(sentinel)}`);
            await new Promise((r) => setTimeout(r, 200));
        }
    }, 180_000);

    afterAll(async () => {
        await containers.removeAll();
        await receiver.stop().catch(() => undefined);
        await (await requireDocker()).getVolume(SPOOL_VOLUME).remove().catch(() => undefined);
    });

    /** Starts an agent container with the fleet's labels for `name`. */
    async function startAgent(name: string, extra: Partial<Parameters<TestContainers["run"]>[0]> = {}): Promise<RunningContainer> {
        return containers.run({
            image: agentImage, containerPort: 8080, healthcheck: HEALTH,
            labels: { [LABELS.agent]: name, [LABELS.tier]: "2", [LABELS.environment]: "dev", [LABELS.stack]: "dev" },
            ...extra,
        });
    }

    async function logsOf(c: RunningContainer): Promise<string> {
        return (await c.container.logs({ stdout: true, stderr: true, follow: false })).toString("utf8");
    }

    it("alerts once, signed and within detection time plus 2 s, when an agent turns unhealthy, and once when it recovers", async () => {
        const flipped = Date.now();
        expect((await fetch(`${agent.baseUrl}/admin/health/fail`, { method: "POST" })).status).toBe(200);
        const failed = await until("a health.failed alert", () => alerts().find((a) => a.event === "health.failed"), DETECTION_MS + 10_000);
        expect(failed.at - flipped).toBeLessThanOrEqual(DETECTION_MS + 2_000);
        expect(failed).toMatchObject({ agent: "jarvis", tier: 2, environment: "dev", severity: "error", verified: true });
        // Still unhealthy: nothing more.
        await new Promise((r) => setTimeout(r, 3_000));
        expect(alerts().filter((a) => a.event === "health.failed")).toHaveLength(1);

        expect((await fetch(`${agent.baseUrl}/admin/health/recover`, { method: "POST" })).status).toBe(200);
        const recovered = await until("a health.recovered alert", () => alerts().find((a) => a.event === "health.recovered"), 15_000);
        expect(recovered).toMatchObject({ agent: "jarvis", severity: "info", verified: true });
        expect(alerts().map((a) => a.event)).toEqual(["health.failed", "health.recovered"]);
        console.info(`sentinel: health.failed arrived ${failed.at - flipped} ms after the flip (detection ${DETECTION_MS} ms)`);
    }, 60_000);

    it("a killed agent sends one container.died; a crash loop sends its first death and one restart.loop, however many restarts", async () => {
        const victim = await startAgent("victim");
        await waitForHealthStatus(victim.container, "healthy");
        await victim.container.kill();
        const died = await until("a container.died alert for victim", () => alerts().find((a) => a.event === "container.died" && a.agent === "victim"), 10_000);
        expect(died.reason).toBe("exited with code 137");

        // Invalid FEATURE_FLAGS make the sample agent exit 1 at start; Docker restarts it again and again.
        const loopy = await startAgent("loopy", { env: { FEATURE_FLAGS: "{not json" }, restart: { Name: "on-failure", MaximumRetryCount: 8 }, containerPort: undefined });
        await until("a restart.loop alert for loopy", () => alerts().find((a) => a.event === "restart.loop" && a.agent === "loopy"), 30_000);
        await new Promise((r) => setTimeout(r, 5_000));
        const restarts = (await loopy.container.inspect()).RestartCount;
        expect(restarts).toBeGreaterThanOrEqual(3);
        expect(alerts().filter((a) => a.agent === "loopy").map((a) => a.event)).toEqual(["container.died", "restart.loop"]);
    }, 90_000);

    it("with the receiver down, pending alerts survive a sentinel restart and each arrives exactly once when it is back", async () => {
        const port = Number(new URL(receiverBase).port);
        await receiver.stop();
        const before = receiver.received.length;
        const doomed = await startAgent("victim");
        await waitForHealthStatus(doomed.container, "healthy");
        await doomed.container.kill();
        // The death is seen and spooled while nobody answers; then the sentinel restarts.
        await new Promise((r) => setTimeout(r, 2_000));
        await sentinel.container.restart({ t: 10 });
        await receiver.listen(port);
        const arrived = await until("the spooled container.died after the restart", () => alerts().slice(before).find((a) => a.event === "container.died" && a.agent === "victim"), 30_000);
        await new Promise((r) => setTimeout(r, 3_000));
        const ids = alerts().slice(before).map((a) => a.id);
        expect(ids.filter((id) => id === arrived.id)).toHaveLength(1);
        expect(new Set(ids).size).toBe(ids.length);
    }, 90_000);

    it("its own healthcheck passes, and it never logs the channel URL or signing secret", async () => {
        await waitForHealthStatus(sentinel.container, "healthy", { timeoutMs: 30_000 });
        const logs = await logsOf(sentinel);
        expect(logs).toContain("health.failed (error) for jarvis → hook");
        expect(logs).not.toContain(SIGNING);
        expect(logs).not.toContain(URL_TOKEN);
        for (const r of receiver.received) expect(r.body).not.toContain("SEEDED");
    }, 60_000);
});
