/**
 * Sentinel delivery throughput: a burst of 200 alerts spooled at once, to a
 * receiver that takes 500 ms per request. Prints the wall time to drain and
 * checks that every alert arrived exactly once.
 *
 *   npm run bench:alerts
 */
import { promises as fs } from "fs";
import * as os from "os";
import * as path from "path";
import { AlertEvent, alertId } from "../alerts";
import { DEFAULT_OUTBOX, Outbox } from "../agents/sentinel/src/outbox";
import { Spool } from "../agents/sentinel/src/spool";
import { Receiver } from "../test/support/receiver";

const BURST = 200;
const RECEIVER_MS = 500;

async function main(): Promise<void> {
    const receiver = new Receiver();
    receiver.delayMs = RECEIVER_MS;
    const url = `${await receiver.start()}/hook`;
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "bench-alerts-"));
    const spool = new Spool(dir);
    await spool.open();
    const outbox = new Outbox(spool, new Map([["pager", { channel: "pager", type: "webhook", url, signingSecret: "bench" }]]), DEFAULT_OUTBOX);
    const events: AlertEvent[] = Array.from({ length: BURST }, (_, n) => ({
        id: alertId("health.failed", "bench", `agent-${n}`, String(n)), source: "sentinel", event: "health.failed", severity: "error", stack: "bench",
        environment: "dev", agent: `agent-${n}`, tier: 2, version: "1.0.0", time: new Date().toISOString(), reason: "unhealthy",
    }));
    const started = performance.now();
    for (const e of events) await outbox.enqueue(e, ["pager"]);
    const spooled = performance.now();
    while ((await outbox.nextDue()) !== undefined) await outbox.drain();
    const drained = performance.now();
    const ids = receiver.received.map((r) => (JSON.parse(r.body) as { id: string }).id);
    const unique = new Set(ids);
    await receiver.stop();
    await fs.rm(dir, { recursive: true, force: true });
    if (unique.size !== BURST || ids.length !== BURST) throw new Error(`expected ${BURST} alerts exactly once, got ${ids.length} deliveries of ${unique.size}`);
    console.log(`## Sentinel delivery: ${BURST} alerts to a receiver taking ${RECEIVER_MS} ms each\n`);
    console.log(`- spooled in ${(spooled - started).toFixed(0)} ms; drained in ${((drained - spooled) / 1000).toFixed(2)} s with ${DEFAULT_OUTBOX.concurrency} deliveries in flight`);
    console.log(`- delivered ${ids.length}, distinct ${unique.size}, lost 0, duplicated 0`);
}

main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
});
