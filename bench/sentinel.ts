/**
 * Sentinel alert latency on the real Docker engine: a sample agent flipped
 * unhealthy and healthy again 10 times (20 transitions); for each, the time
 * from Docker's own health_status event (its timestamp) to the alert reaching
 * the receiver. Prints the median and the max.
 *
 *   npm run bench:sentinel
 */
import Docker from "dockerode";
import { LABELS } from "../contract";
import { waitForHealthStatus } from "../test/support/docker";
import { SentinelRig, until } from "../test/support/sentinel";

const FLIPS = 10;

async function main(): Promise<void> {
    const rig = new SentinelRig({ agents: ["bench"], signingSecret: "bench-signing", urlToken: "bench", rateLimit: 1000 });
    const docker = new Docker();
    const healthEvents: { status: string; at: number }[] = [];
    try {
        await rig.start();
        const agent = await rig.startAgent("bench");
        await waitForHealthStatus(agent.container, "healthy");
        const stream = await docker.getEvents({ filters: { type: ["container"], event: ["health_status"], label: [`${LABELS.agent}=bench`, `${LABELS.stack}=${rig.stack}`] } });
        stream.on("data", (chunk: Buffer) => {
            for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) {
                const e = JSON.parse(line) as { Action: string; timeNano: number };
                healthEvents.push({ status: e.Action.split(":")[1].trim(), at: e.timeNano / 1e6 });
            }
        });
        const latencies: number[] = [];
        for (let i = 0; i < FLIPS; i++) {
            for (const [path, event, status] of [["fail", "health.failed", "unhealthy"], ["recover", "health.recovered", "healthy"]] as const) {
                const seen = rig.alerts().length;
                await fetch(`${agent.baseUrl}/admin/health/${path}`, { method: "POST" });
                const alert = await until(event, () => rig.alerts().slice(seen).find((a) => a.event === event), 20_000);
                const docked = await until(`docker's ${status} event`, () => [...healthEvents].reverse().find((h) => h.status === status), 5_000);
                latencies.push(alert.at - docked.at);
            }
        }
        (stream as unknown as { destroy(): void }).destroy();
        const sorted = [...latencies].sort((a, b) => a - b);
        const median = (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        console.log(`## Sentinel alert latency: Docker health event → receiver, ${latencies.length} transitions\n`);
        console.log(`- median ${median.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms, min ${sorted[0].toFixed(0)} ms`);
    } finally {
        await rig.stop();
    }
}

main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
});
