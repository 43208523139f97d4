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

    const alerts = () => receiver.received.map((r) => ({
        ...(JSON.parse(r.body) as { event: string; agent: string; severity: string; reason: string; tier: number; environment: string; id: string }),
        verified: verifySignature(SIGNING, r.body, { signature: String(r.headers["x-agent-fleet-signature"]), timestamp: String(r.headers["x-agent-fleet-timestamp"]) }).ok,
        at: r.at,
    }));

    beforeAll(async () => {
        await requireDocker();
        const [agentImage, sentinelImage] = [await buildSampleAgentImage(), await buildSentinelImage()];
        const hook = `${await receiver.start()}/hook/${URL_TOKEN}`;
        agent = await containers.run({
            image: agentImage, containerPort: 8080, healthcheck: HEALTH,
            labels: { [LABELS.agent]: "jarvis", [LABELS.tier]: "2", [LABELS.environment]: "dev", [LABELS.stack]: "dev" },
        });
        await waitForHealthStatus(agent.container, "healthy");
        const port = await freePort();
        sentinelUrl = `http://127.0.0.1:${port}`;
        const socketGroup = String((await fs.stat(SOCKET)).gid);
        sentinel = await containers.run({
            image: sentinelImage,
            networkMode: "host",
            binds: [`${SOCKET}:${SOCKET}:ro`],
            groupAdd: [socketGroup],
            env: {
                PORT: String(port),
                SENTINEL_CONFIG: JSON.stringify({
                    stack: "dev", environment: "dev", reminderAfterMs: 3_600_000,
                    agents: [{ name: "jarvis", tier: 2, version: "dev", alertChannels: ["hook"], monitorWindowMs: 0 }],
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
        await receiver.stop();
    });

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

    it("its own healthcheck passes, and it never logs the channel URL or signing secret", async () => {
        await waitForHealthStatus(sentinel.container, "healthy", { timeoutMs: 30_000 });
        const logs = await logsOf(sentinel);
        expect(logs).toContain("health.failed (error) for jarvis → hook");
        expect(logs).not.toContain(SIGNING);
        expect(logs).not.toContain(URL_TOKEN);
        for (const r of receiver.received) expect(r.body).not.toContain("SEEDED");
    }, 60_000);
});
