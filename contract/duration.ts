/**
 * Durations, in one place: as fleet config writes them ("10s", "1m30s",
 * "24h", "2d"), as people read them, and as Go prints them
 * (`time.Duration.String()`: "1m30s", "1.5s", "500ms"), which is how the
 * Docker provider reads healthchecks back and how the engine writes custom
 * timeouts.
 *
 * Hand-written on purpose: the Docker provider stores healthcheck durations in
 * Go's `time.Duration.String()` form ("1m" reads back as "1m0s"), and any other
 * spelling shows a false diff on every preview. No npm library formats Go
 * durations, and the parser is one regular expression.
 */

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

const DURATION_RE = /^(?:\d+(?:ms|s|m|h|d))+$/;
const PART_RE = /(\d+)(ms|s|m|h|d)/g;

/** True when `text` is a duration like "10s", "1m30s" or "500ms". */
export function isDuration(text: string): boolean {
    return DURATION_RE.test(text);
}

/** Parses a duration to milliseconds; throws on anything `isDuration` rejects. */
export function durationMs(text: string): number {
    if (!isDuration(text)) {
        throw new Error(`expected a duration like "10s", got ${JSON.stringify(text)}`);
    }
    let total = 0;
    for (const [, amount, unit] of text.matchAll(PART_RE)) {
        total += Number(amount) * UNIT_MS[unit as Unit];
    }
    return total;
}

/**
 * Formats milliseconds exactly as Go's `time.Duration.String()` does for
 * whole milliseconds: "0s", "500ms", "10s", "1m0s", "1h30m0s", "1.5s".
 */
export function goDuration(ms: number): string {
    if (!Number.isInteger(ms) || ms < 0) {
        throw new Error(`expected a whole, non-negative number of milliseconds, got ${ms}`);
    }
    if (ms === 0) return "0s";
    if (ms < 1_000) return `${ms}ms`;
    const hours = Math.floor(ms / UNIT_MS.h);
    const minutes = Math.floor((ms % UNIT_MS.h) / UNIT_MS.m);
    const secondsMs = ms % UNIT_MS.m;
    const seconds = secondsMs % 1_000 === 0
        ? String(secondsMs / 1_000)
        : (secondsMs / 1_000).toFixed(3).replace(/0+$/, "");
    if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
    if (minutes > 0) return `${minutes}m${seconds}s`;
    return `${seconds}s`;
}

/** Formats milliseconds for people: the shortest exact spelling ("90s" → "1m30s", "86400000" → "24h"). */
export function humanDuration(ms: number): string {
    if (ms === 0) return "0s";
    const parts: string[] = [];
    let rest = ms;
    for (const unit of ["h", "m", "s", "ms"] as const) {
        const size = UNIT_MS[unit];
        const amount = Math.floor(rest / size);
        if (amount > 0) {
            parts.push(`${amount}${unit}`);
            rest -= amount * size;
        }
    }
    return parts.join("");
}

/**
 * Formats milliseconds as the docker provider reads a Swarm service's
 * durations back: Go's form with a trailing "m0s" cut to "m" and "h0m" to
 * "h" ("1m", "1h", "1m30s", "1h30m"). Any other spelling is a diff on every `up`.
 */
export function swarmDuration(ms: number): string {
    return goDuration(ms).replace(/m0s$/, "m").replace(/h0m$/, "h");
}

const GO_DURATION_RE = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;
const GO_PART_RE = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
const GO_UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Milliseconds in a Go duration, or undefined when the text is not one. */
export function parseGoDurationMs(text: unknown): number | undefined {
    if (typeof text !== "string" || !GO_DURATION_RE.test(text)) return undefined;
    let total = 0;
    for (const [, amount, unit] of text.matchAll(GO_PART_RE)) total += Number(amount) * GO_UNIT_MS[unit];
    return total;
}
