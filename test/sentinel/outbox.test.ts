/**
 * The sentinel's spool and outbox against a local receiver: retries until
 * delivered exactly once, nothing lost across a restart while the receiver is
 * down, a final refusal set aside, a slow channel never holding the others.
 */
import { promises as fs } from "fs";
import * as os from "os";
import * as path from "path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AlertEvent, DeliveryTarget, alertId } from "../../alerts";
import { Outbox } from "../../agents/sentinel/src/outbox";
import { Spool } from "../../agents/sentinel/src/spool";
import { Receiver } from "../support/receiver";

function event(n: number): AlertEvent {
    return {
        id: alertId("health.failed", "dev", "jarvis", `c:${n}`), source: "sentinel", event: "health.failed", severity: "error", stack: "dev", environment: "dev",
        agent: "jarvis", tier: 2, version: "dev", time: new Date(1_763_800_000_000 + n).toISOString(), reason: `unhealthy #${n}`,
    };
}

/** Immediate retries: the outbox's waits are tested through nextDue, not by sleeping. */
const FAST = { concurrency: 16, timeoutMs: 500, baseDelayMs: 1, maxDelayMs: 1 };

let dir: string;
let receiver: Receiver;
let targets: Map<string, DeliveryTarget>;
beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "sentinel-spool-"));
    receiver = new Receiver();
    const base = await receiver.start();
    targets = new Map([["pager", { channel: "pager", type: "webhook", url: `${base}/pager`, signingSecret: "SEEDED-sign" }], ["ops", { channel: "ops", type: "slack", url: `${base}/ops` }]]);
});
afterEach(() => receiver.stop().catch(() => undefined));

async function outbox(): Promise<Outbox> {
    const spool = new Spool(dir);
    await spool.open();
    return new Outbox(spool, targets, FAST);
}

async function drainAll(box: Outbox, passes = 20): Promise<void> {
    for (let i = 0; i < passes && (await box.nextDue()) !== undefined; i++) {
        await box.drain();
        await new Promise((r) => setTimeout(r, 5));
    }
}

describe("sentinel outbox", () => {
    it("retries 500, 500, then delivers exactly once and empties the spool", async () => {
        receiver.answers = [{ status: 500 }, { status: 500 }, { status: 200 }];
        const box = await outbox();
        await box.enqueue(event(1), ["pager"]);
        await drainAll(box);
        // Three requests for one event: two refused, one delivered; nothing left to send.
        expect(receiver.received.map((r) => JSON.parse(r.body).id)).toEqual([event(1).id, event(1).id, event(1).id]);
        expect(await box.nextDue()).toBeUndefined();
        await drainAll(box);
        expect(receiver.received).toHaveLength(3);
    });

    it("spooling the same event twice for a channel delivers it once", async () => {
        const box = await outbox();
        await box.enqueue(event(1), ["pager"]);
        await box.enqueue(event(1), ["pager"]);
        await drainAll(box);
        expect(receiver.received).toHaveLength(1);
    });

    it("loses nothing when the receiver is down across a restart: every alert arrives exactly once when it is back", async () => {
        const url = targets.get("pager")!.url;
        await receiver.stop();
        const first = await outbox();
        for (let n = 1; n <= 5; n++) await first.enqueue(event(n), ["pager"]);
        await first.drain();
        expect((await new Spool(dir).list()).every((e) => e.attempts === 1)).toBe(true);
        // A new process on the same volume; the receiver comes back on the same port.
        receiver = new Receiver();
        await receiver.listen(Number(new URL(url).port));
        const second = await outbox();
        await drainAll(second);
        const got = receiver.received.map((r) => JSON.parse(r.body).id as string).sort();
        expect(got).toEqual([1, 2, 3, 4, 5].map((n) => event(n).id).sort());
    });

    it("sets aside what a channel refuses for good, and keeps delivering the rest", async () => {
        receiver.answers = [{ status: 410 }];
        const box = await outbox();
        await box.enqueue(event(1), ["pager"]);
        await drainAll(box);
        await box.enqueue(event(2), ["pager"]);
        await drainAll(box);
        expect(await new Spool(dir).buried()).toEqual([`${event(1).id}.pager.json`]);
        expect(receiver.received.map((r) => JSON.parse(r.body).id)).toEqual([event(1).id, event(2).id]);
    });

    it("waits what Retry-After asks before the next try", async () => {
        receiver.answers = [{ status: 503, headers: { "retry-after": "30" } }];
        const box = await outbox();
        await box.enqueue(event(1), ["pager"]);
        const before = Date.now();
        await box.drain();
        expect((await box.nextDue())! - before).toBeGreaterThanOrEqual(29_000);
    });

    it("sends each channel its own format", async () => {
        const box = await outbox();
        await box.enqueue(event(1), ["ops", "pager"]);
        await drainAll(box);
        const byPath = Object.fromEntries(receiver.received.map((r) => [r.path, JSON.parse(r.body)]));
        expect(Object.keys(byPath).sort()).toEqual(["/ops", "/pager"]);
        expect(byPath["/ops"].blocks.at(-1).elements[0].text).toBe(`event id ${event(1).id}`);
        expect(byPath["/pager"].id).toBe(event(1).id);
    });
});
