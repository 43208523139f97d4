/**
 * Webhook signatures: HMAC-SHA256 with the channel's signing secret over
 * `<timestamp>.<body>`, sent as
 *
 *   X-Agent-Fleet-Timestamp: <unix seconds>
 *   X-Agent-Fleet-Signature: v1=<hex digest>
 *
 * A receiver recomputes the digest over the raw body it received, compares
 * in constant time, and refuses a timestamp more than five minutes from its
 * own clock (a replay). Within that window it drops an event id it has seen.
 */
import { createHmac, timingSafeEqual } from "crypto";

export const SIGNATURE_HEADER = "x-agent-fleet-signature";
export const TIMESTAMP_HEADER = "x-agent-fleet-timestamp";
export const EVENT_ID_HEADER = "x-agent-fleet-event-id";
/** How far a timestamp may be from the receiver's clock. */
export const REPLAY_WINDOW_SECONDS = 300;

export function signature(secret: string, timestamp: number, body: string): string {
    return `v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

export type Verification = { readonly ok: true } | { readonly ok: false; readonly reason: "bad signature" | "stale timestamp" | "missing headers" };

/** What a receiver does with a request: the raw body, the two headers, and its own clock. */
export function verifySignature(secret: string, body: string, headers: { signature?: string; timestamp?: string }, nowSeconds = Math.floor(Date.now() / 1000)): Verification {
    const timestamp = Number(headers.timestamp);
    if (!headers.signature || !headers.timestamp || !Number.isInteger(timestamp)) return { ok: false, reason: "missing headers" };
    if (Math.abs(nowSeconds - timestamp) > REPLAY_WINDOW_SECONDS) return { ok: false, reason: "stale timestamp" };
    const expected = Buffer.from(signature(secret, timestamp, body));
    const given = Buffer.from(headers.signature);
    return expected.length === given.length && timingSafeEqual(expected, given) ? { ok: true } : { ok: false, reason: "bad signature" };
}
