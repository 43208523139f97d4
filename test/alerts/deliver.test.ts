/** Delivery against a local HTTP receiver: retries, Retry-After, final 4xx, timeouts, independence, signatures, no URL in outcomes. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AlertEvent, DeliveryTarget, alertId, deliver, deliverTo, verifySignature } from "../../alerts";
import { Receiver } from "../support/receiver";

const SIGNING = "SEEDED-signing-secret-9d2";
const EVENT: AlertEvent = {
    id: alertId("container.died", "dev", "jarvis", "abc:1"), source: "sentinel", event: "container.died", severity: "error", stack: "dev", environment: "dev",
    agent: "jarvis", tier: 2, version: "dev", time: "2026-11-22T07:40:00.000Z", reason: "exit code 137",
};
/** Fast retries for tests; the real defaults are 250 ms doubling to 10 s. */
const FAST = { baseDelayMs: 20, maxDelayMs: 200, timeoutMs: 500 };

let receiver: Receiver;
let url: string;
beforeEach(async () => {
    receiver = new Receiver();
    url = `${await receiver.start()}/hook/SEEDED-url-token`;
});
afterEach(() => receiver.stop());

const webhook = (): DeliveryTarget => ({ channel: "pager", type: "webhook", url, signingSecret: SIGNING });

describe("alert delivery", () => {
    it("retries 500 twice, then delivers exactly once with a valid signature and the event id", async () => {
        receiver.answers = [{ status: 500 }, { status: 502 }, { status: 200 }];
        const outcome = await deliverTo(webhook(), EVENT, FAST);
        expect(outcome).toEqual({ channel: "pager", delivered: true, attempts: 3, status: 200 });
        expect(receiver.received).toHaveLength(3);
        const last = receiver.received[2];
        expect(JSON.parse(last.body)).toMatchObject({ id: EVENT.id, event: "container.died", agent: "jarvis" });
        expect(last.headers["x-agent-fleet-event-id"]).toBe(EVENT.id);
        expect(verifySignature(SIGNING, last.body, { signature: String(last.headers["x-agent-fleet-signature"]), timestamp: String(last.headers["x-agent-fleet-timestamp"]) })).toEqual({ ok: true });
    });

    it("does not retry a 4xx answer", async () => {
        receiver.answers = [{ status: 404 }];
        expect(await deliverTo(webhook(), EVENT, FAST)).toEqual({ channel: "pager", delivered: false, attempts: 1, status: 404, error: "HTTP 404", final: true });
        expect(receiver.received).toHaveLength(1);
    });

    it("waits at least what Retry-After asks on a 429 or 503", async () => {
        receiver.answers = [{ status: 503, headers: { "retry-after": "1" } }, { status: 200 }];
        const outcome = await deliverTo(webhook(), EVENT, FAST);
        expect(outcome.delivered).toBe(true);
        expect(receiver.received[1].at - receiver.received[0].at).toBeGreaterThanOrEqual(950);
    });

    it("gives up on a Retry-After beyond the deadline instead of holding the caller", async () => {
        receiver.answers = [{ status: 429, headers: { "retry-after": "120" } }];
        const started = Date.now();
        const outcome = await deliverTo(webhook(), EVENT, { ...FAST, deadlineMs: 2_000 });
        expect(Date.now() - started).toBeLessThan(1_000);
        expect(outcome).toMatchObject({ delivered: false, attempts: 1, status: 429 });
        expect(outcome.error).toContain("deadline");
    });

    it("times out a receiver that never answers, retries, and reports the timeout", async () => {
        receiver.answers = ["hang", "hang"];
        const outcome = await deliverTo(webhook(), EVENT, { ...FAST, attempts: 2 });
        expect(outcome).toEqual({ channel: "pager", delivered: false, attempts: 2, error: "timeout after 500 ms" });
    });

    it("one channel down never blocks or fails another, and no outcome names a URL or secret", async () => {
        const down: DeliveryTarget = { channel: "ops-slack", type: "slack", url: "http://127.0.0.1:9/SEEDED-down-token" };
        const outcomes = await deliver([down, webhook()], EVENT, { ...FAST, attempts: 2 });
        expect(outcomes.map((o) => [o.channel, o.delivered])).toEqual([["ops-slack", false], ["pager", true]]);
        expect(outcomes[0].error).toMatch(/^connection failed/);
        expect(JSON.stringify(outcomes)).not.toMatch(/SEEDED|127\.0\.0\.1/);
        expect(receiver.received).toHaveLength(1);
    });

    it("sends each kind its own format; only webhooks are signed", async () => {
        await deliver([{ channel: "s", type: "slack", url }, { channel: "d", type: "discord", url }], EVENT, FAST);
        expect(receiver.received.map((r) => Object.keys(JSON.parse(r.body)).sort())).toEqual(expect.arrayContaining([["blocks", "text"], ["allowed_mentions", "embeds"]]));
        expect(receiver.received.every((r) => r.headers["x-agent-fleet-signature"] === undefined)).toBe(true);
    });
});
