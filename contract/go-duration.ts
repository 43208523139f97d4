/**
 * Durations as Go prints them (`time.Duration.String()`: "1m30s", "1.5s",
 * "500ms"), which is how the Docker provider reads healthchecks back and how
 * the engine writes custom timeouts.
 *
 * Hand-written on purpose: no npm library parses Go durations, and the parser
 * is two regular expressions.
 */
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
