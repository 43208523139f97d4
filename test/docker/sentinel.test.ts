/**
 * The sentinel in a real container, watching real sample agents through the
 * Docker socket (mounted read-only) and alerting a local receiver.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABELS } from "../../contract";
import { RunningContainer, waitForHealthStatus } from "../support/docker";
import { FAST_AGENT_HEALTH, SentinelRig, until } from "../support/sentinel";

const SIGNING = "SEEDED-sentinel-signing-3b9";
const URL_TOKEN = "SEEDED-sentinel-url-77c";
const DETECTION_MS = (FAST_AGENT_HEALTH.Interval * FAST_AGENT_HEALTH.Retries + FAST_AGENT_HEALTH.Timeout) / 1e6;

describe("the sentinel on a real Docker engine", () => {
    const rig = new SentinelRig({ agents: ["jarvis", "loopy", "victim", "busy", "calm", "smoky", "retired"], signingSecret: SIGNING, urlToken: URL_TOKEN });
    let agent: RunningContainer;

    beforeAll(async () => {
        await rig.start();
        agent = await rig.startAgent("jarvis");
        await waitForHealthStatus(agent.container, "healthy");
    }, 180_000);

    afterAll(() => rig.stop());

    it("alerts once, signed and within detection time plus 2 s, when an agent turns unhealthy, and once when it recovers", async () => {
        const flipped = Date.now();
        expect((await fetch(`${agent.baseUrl}/admin/health/fail`, { method: "POST" })).status).toBe(200);
        const failed = await until("a health.failed alert", () => rig.alerts().find((a) => a.event === "health.failed"), DETECTION_MS + 10_000);
        expect(failed.at - flipped).toBeLessThanOrEqual(DETECTION_MS + 2_000);
        expect(failed).toMatchObject({ agent: "jarvis", tier: 2, environment: "dev", severity: "error", verified: true });
        // Still unhealthy: nothing more.
        await new Promise((r) => setTimeout(r, 3_000));
        expect(rig.alerts().filter((a) => a.event === "health.failed")).toHaveLength(1);

        expect((await fetch(`${agent.baseUrl}/admin/health/recover`, { method: "POST" })).status).toBe(200);
        const recovered = await until("a health.recovered alert", () => rig.alerts().find((a) => a.event === "health.recovered"), 15_000);
        expect(recovered).toMatchObject({ agent: "jarvis", severity: "info", verified: true });
        expect(rig.alerts().map((a) => a.event)).toEqual(["health.failed", "health.recovered"]);
        console.info(`sentinel: health.failed arrived ${failed.at - flipped} ms after the flip (detection ${DETECTION_MS} ms)`);
    }, 60_000);

    it("a killed agent sends one container.died; a crash loop sends its first death and one restart.loop, however many restarts", async () => {
        const victim = await rig.startAgent("victim");
        await waitForHealthStatus(victim.container, "healthy");
        await victim.container.kill();
        const died = await until("a container.died alert for victim", () => rig.alerts().find((a) => a.event === "container.died" && a.agent === "victim"), 10_000);
        expect(died.reason).toBe("exited with code 137");

        // Invalid FEATURE_FLAGS make the sample agent exit 1 at start; Docker restarts it again and again.
        const loopy = await rig.startAgent("loopy", { env: { FEATURE_FLAGS: "{not json" }, restart: { Name: "on-failure", MaximumRetryCount: 8 }, containerPort: undefined });
        await until("a restart.loop alert for loopy", () => rig.alerts().find((a) => a.event === "restart.loop" && a.agent === "loopy"), 30_000);
        await new Promise((r) => setTimeout(r, 5_000));
        expect((await loopy.container.inspect()).RestartCount).toBeGreaterThanOrEqual(3);
        expect(rig.alerts().filter((a) => a.agent === "loopy").map((a) => a.event)).toEqual(["container.died", "restart.loop"]);
    }, 90_000);

    it("sends nothing when an agent is stopped on request, as a deploy replacing it does", async () => {
        const retired = await rig.startAgent("retired");
        await waitForHealthStatus(retired.container, "healthy");
        await retired.container.stop({ t: 5 });
        await new Promise((r) => setTimeout(r, 3_000));
        expect(rig.alerts().filter((a) => a.agent === "retired")).toEqual([]);
        expect(await rig.logs()).toContain("retired: stopped on request");
    }, 60_000);

    it("ignores another stack's containers, even with an agent name it watches", async () => {
        const stranger = await rig.startAgent("jarvis", { labels: { [LABELS.agent]: "jarvis", [LABELS.tier]: "2", [LABELS.environment]: "dev", [LABELS.stack]: "someone-else" } });
        await waitForHealthStatus(stranger.container, "healthy");
        await stranger.container.kill();
        await new Promise((r) => setTimeout(r, 3_000));
        expect(rig.alerts().filter((a) => a.agent === "jarvis" && a.event === "container.died")).toEqual([]);
    }, 60_000);

    it("inside the watch window, alerts once when the 5xx share goes above the agent's errorRateLimit; the same traffic outside the window sends nothing", async () => {
        // Both tier 2 with a 5% limit; "busy" was just deployed (a 1 h window), "calm" is past its 1 s window.
        const [busy, calm] = await Promise.all([
            rig.startAgent("busy", {}, { monitorWindow: "1h", errorRateLimit: 5 }),
            rig.startAgent("calm", {}, { monitorWindow: "1s", errorRateLimit: 5 }),
        ]);
        await Promise.all([waitForHealthStatus(busy.container, "healthy"), waitForHealthStatus(calm.container, "healthy")]);
        // A scrape before the traffic, as the baseline of the window.
        await new Promise((r) => setTimeout(r, 2_000));
        for (const a of [busy, calm]) {
            await fetch(`${a.baseUrl}/admin/errors`, { method: "POST", body: JSON.stringify({ percent: 20 }) });
            for (let i = 0; i < 50; i++) await fetch(`${a.baseUrl}/v1/reply`, { method: "POST", body: JSON.stringify({ message: "hi" }) });
        }
        const alert = await until("an error_rate.exceeded alert for busy", () => rig.alerts().find((a) => a.event === "error_rate.exceeded" && a.agent === "busy"), 15_000);
        // Inside the window, severities go up a step: error → critical.
        expect(alert).toMatchObject({ severity: "critical", tier: 2, verified: true });
        expect(alert.reason).toMatch(/^5xx rate \d+\.\d% above the limit of 5%$/);
        // More traffic while it lasts is the same state: no second alert; and nothing at all for "calm".
        for (let i = 0; i < 30; i++) await fetch(`${busy.baseUrl}/v1/reply`, { method: "POST", body: JSON.stringify({ message: "hi" }) });
        await new Promise((r) => setTimeout(r, 4_000));
        expect(rig.alerts().filter((a) => a.event === "error_rate.exceeded").map((a) => a.agent)).toEqual(["busy"]);
        expect(rig.alerts().filter((a) => a.agent === "calm")).toEqual([]);
    }, 120_000);

    it("inside the watch window, runs the agent's smoke checks and alerts naming the one that fails", async () => {
        const smoky = await rig.startAgent("smoky", {}, {
            monitorWindow: "1h",
            smokeChecks: [{ name: "reply-flow", method: "POST", path: "/v1/reply", body: JSON.stringify({ message: "smoke" }) }, { name: "flags", path: "/flags" }],
        });
        await waitForHealthStatus(smoky.container, "healthy");
        await new Promise((r) => setTimeout(r, 2_000));
        expect(rig.alerts().filter((a) => a.agent === "smoky")).toEqual([]);
        await fetch(`${smoky.baseUrl}/admin/errors`, { method: "POST", body: JSON.stringify({ percent: 100 }) });
        const alert = await until("a smoke.failed alert for smoky", () => rig.alerts().find((a) => a.event === "smoke.failed" && a.agent === "smoky"), 15_000);
        expect(alert).toMatchObject({ severity: "critical", verified: true, reason: 'smoke check "reply-flow" failed: POST /v1/reply answered 500, expected 200' });
        await new Promise((r) => setTimeout(r, 3_000));
        expect(rig.alerts().filter((a) => a.event === "smoke.failed" && a.agent === "smoky")).toHaveLength(1);
    }, 120_000);

    it("with the receiver down, pending alerts survive a sentinel restart and each arrives exactly once when it is back", async () => {
        const port = Number(new URL(rig.receiverBase).port);
        await rig.receiver.stop();
        const before = rig.receiver.received.length;
        const doomed = await rig.startAgent("victim");
        await waitForHealthStatus(doomed.container, "healthy");
        await doomed.container.kill();
        // The death is seen and spooled while nobody answers; then the sentinel restarts.
        await new Promise((r) => setTimeout(r, 2_000));
        await rig.sentinel.container.restart({ t: 10 });
        await rig.receiver.listen(port);
        const arrived = await until("the spooled container.died after the restart", () => rig.alerts().slice(before).find((a) => a.event === "container.died" && a.agent === "victim"), 30_000);
        await new Promise((r) => setTimeout(r, 3_000));
        const ids = rig.alerts().slice(before).map((a) => a.id);
        expect(ids.filter((id) => id === arrived.id)).toHaveLength(1);
        expect(new Set(ids).size).toBe(ids.length);
    }, 90_000);

    it("its own healthcheck passes, and it never logs the channel URL or signing secret", async () => {
        await waitForHealthStatus(rig.sentinel.container, "healthy", { timeoutMs: 30_000 });
        const logs = await rig.logs();
        expect(logs).toContain("health.failed (error) for jarvis → hook");
        expect(logs).not.toContain(SIGNING);
        expect(logs).not.toContain(URL_TOKEN);
        for (const r of rig.receiver.received) expect(r.body).not.toContain("SEEDED");
    }, 60_000);
});
