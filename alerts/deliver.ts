/**
 * Delivers one event to its channels. Each request has a bounded timeout;
 * timeouts, connection errors, 5xx and 429 answers are retried with
 * exponential backoff and full jitter, waiting at least what `Retry-After`
 * asks; any other 4xx is final. Channels are independent: one failing never
 * delays or fails another, and nothing here throws. Outcomes never carry a
 * channel's URL or secret, only its name.
 */
import type { ChannelType } from "../contract";
import type { AlertEvent } from "./event";
import { formatMessage } from "./format";
import { EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature } from "./sign";

export interface DeliveryTarget {
    /** The channel's name, the only thing outcomes and logs show. */
    readonly channel: string;
    readonly type: ChannelType;
    /** The webhook URL: a secret. */
    readonly url: string;
    /** Webhook channels: the HMAC signing secret. */
    readonly signingSecret?: string;
}

export interface DeliveryPolicy {
    /** Per request. Default 5 s. */
    readonly timeoutMs?: number;
    /** Requests per channel at most, the first included. Default 5. */
    readonly attempts?: number;
    /** First backoff ceiling; doubles per retry. Default 250 ms. */
    readonly baseDelayMs?: number;
    /** Largest backoff ceiling. Default 10 s. */
    readonly maxDelayMs?: number;
    /** Give up on a channel once this much time has passed (a deploy must not wait on a dead receiver). Default 60 s. */
    readonly deadlineMs?: number;
    /** For tests: the clock, the sleep and the jitter source. */
    readonly now?: () => number;
    readonly sleep?: (ms: number) => Promise<void>;
    readonly random?: () => number;
}

export interface DeliveryOutcome {
    readonly channel: string;
    readonly delivered: boolean;
    readonly attempts: number;
    /** The last HTTP status, when there was an answer. */
    readonly status?: number;
    /** Why it was not delivered: "HTTP 404", "timeout after 5000 ms", "connection failed (ECONNREFUSED)". */
    readonly error?: string;
    /** Not delivered, and trying again cannot help (a 4xx other than 408 and 429). */
    readonly final?: boolean;
    /** What the last answer's Retry-After asked for, when the caller retries later itself. */
    readonly retryAfterMs?: number;
}

const defaults = { timeoutMs: 5_000, attempts: 5, baseDelayMs: 250, maxDelayMs: 10_000, deadlineMs: 60_000 };

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(header: string | null, now: number): number | undefined {
    if (!header) return undefined;
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(header);
    return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * How long to wait after the `failures`-th failure: full jitter under a ceiling
 * that doubles per failure (base, 2 × base, …, max), and never less than what
 * the receiver's Retry-After asked for.
 */
export function backoffDelayMs(failures: number, bounds: { readonly baseDelayMs: number; readonly maxDelayMs: number }, random: () => number, retryAfter?: number): number {
    const ceiling = Math.min(bounds.maxDelayMs, bounds.baseDelayMs * 2 ** (failures - 1));
    return Math.max(retryAfter ?? 0, Math.floor(random() * ceiling));
}

function retryable(status: number): boolean {
    return status >= 500 || status === 429 || status === 408;
}

function failure(error: unknown, timeoutMs: number): string {
    const e = error as { name?: string; cause?: { code?: string } };
    if (e?.name === "TimeoutError" || e?.name === "AbortError") return `timeout after ${timeoutMs} ms`;
    return `connection failed${e?.cause?.code ? ` (${e.cause.code})` : ""}`;
}

/** One channel: every attempt, until delivered, final, out of attempts or past the deadline. */
export async function deliverTo(target: DeliveryTarget, event: AlertEvent, policy: DeliveryPolicy = {}): Promise<DeliveryOutcome> {
    const p = { ...defaults, ...policy };
    const now = policy.now ?? Date.now;
    const sleep = policy.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const random = policy.random ?? Math.random;
    const started = now();
    const message = formatMessage(target.type, event);
    let last: { status?: number; error: string } = { error: "not attempted" };
    for (let attempt = 1; attempt <= p.attempts; attempt++) {
        const headers: Record<string, string> = { "content-type": message.contentType, "user-agent": "agent-fleet-alerts", [EVENT_ID_HEADER]: event.id };
        if (target.signingSecret) {
            const timestamp = Math.floor(now() / 1000);
            headers[TIMESTAMP_HEADER] = String(timestamp);
            headers[SIGNATURE_HEADER] = signature(target.signingSecret, timestamp, message.body);
        }
        let wait: number | undefined;
        try {
            const response = await fetch(target.url, { method: "POST", headers, body: message.body, signal: AbortSignal.timeout(p.timeoutMs), redirect: "error" });
            await response.arrayBuffer().catch(() => undefined);
            if (response.ok) return { channel: target.channel, delivered: true, attempts: attempt, status: response.status };
            last = { status: response.status, error: `HTTP ${response.status}` };
            if (!retryable(response.status)) return { channel: target.channel, delivered: false, attempts: attempt, ...last, final: true };
            wait = retryAfterMs(response.headers.get("retry-after"), now());
        } catch (error) {
            last = { error: failure(error, p.timeoutMs) };
        }
        if (attempt === p.attempts) return { channel: target.channel, delivered: false, attempts: attempt, ...last, ...(wait !== undefined ? { retryAfterMs: wait } : {}) };
        const delay = backoffDelayMs(attempt, p, random, wait);
        if (now() - started + delay > p.deadlineMs) {
            return { channel: target.channel, delivered: false, attempts: attempt, ...last, error: `${last.error}; gave up: the next try would pass the ${p.deadlineMs} ms deadline` };
        }
        await sleep(delay);
    }
    // Reached only when no attempt is allowed (attempts < 1).
    return { channel: target.channel, delivered: false, attempts: 0, ...last };
}

/** Every channel at once; resolves when each is delivered or given up, never rejects. */
export async function deliver(targets: readonly DeliveryTarget[], event: AlertEvent, policy: DeliveryPolicy = {}): Promise<DeliveryOutcome[]> {
    const settled = await Promise.allSettled(targets.map((t) => deliverTo(t, event, policy)));
    return settled.map((s, i) => (s.status === "fulfilled" ? s.value : { channel: targets[i].channel, delivered: false, attempts: 0, error: "internal error" }));
}
