/**
 * Reads an agent's request counters from its Prometheus text exposition and
 * turns successive scrapes into the 5xx share over a sliding window.
 *
 * Hand-written on purpose: it reads one counter family (`http_requests_total`,
 * what prom-client's Counter writes) from the agent's own exposition; the npm
 * parsers of the text format are unmaintained, and this is one regular
 * expression over sample lines.
 */

/** The counter the sentinel reads: labels method, route and status (the sample agent's). */
const REQUESTS_METRIC = "http_requests_total";
/** Routes that are probes, not traffic: the healthcheck and the scrape itself would dilute the share. */
const PROBE_ROUTES = new Set(["/health", "/metrics"]);

export interface RequestCounts {
    readonly total: number;
    /** Answers with a 5xx status. */
    readonly errors: number;
}

// name{labels} value [timestamp]
const SAMPLE_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/;
const LABEL_RE = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Totals of `http_requests_total` over every route but the probes; undefined when the family is absent. */
export function requestCounts(exposition: string): RequestCounts | undefined {
    let total = 0;
    let errors = 0;
    let seen = false;
    for (const line of exposition.split("\n")) {
        if (line.startsWith("#")) continue;
        const match = SAMPLE_RE.exec(line.trim());
        if (!match || match[1] !== REQUESTS_METRIC) continue;
        seen = true;
        const labels = Object.fromEntries([...(match[2] ?? "").matchAll(LABEL_RE)].map(([, k, v]) => [k, v]));
        if (PROBE_ROUTES.has(labels.route ?? "")) continue;
        const value = Number(match[3]);
        if (!Number.isFinite(value)) continue;
        total += value;
        if (/^5\d\d$/.test(labels.status ?? "")) errors += value;
    }
    return seen ? { total, errors } : undefined;
}

export interface ErrorRate {
    readonly requests: number;
    readonly errors: number;
    readonly ratePercent: number;
}

/**
 * Scrapes of one container over time. The share is over the requests between
 * the oldest scrape still inside the window and the newest one; a counter that
 * went down means the process restarted, and the window starts over.
 */
export class ErrorRateWindow {
    private samples: { at: number; counts: RequestCounts }[] = [];

    constructor(
        private readonly windowMs: number,
        /** Fewer requests than this in the window say nothing: two failures of three are not a 66% error rate. */
        private readonly minRequests: number,
    ) {}

    add(at: number, counts: RequestCounts): ErrorRate | undefined {
        const last = this.samples.at(-1);
        if (last && (counts.total < last.counts.total || counts.errors < last.counts.errors)) this.samples = [];
        this.samples.push({ at, counts });
        // Keep the newest sample at or before the window's start, so that the window spans all of windowMs.
        while (this.samples.length > 2 && this.samples[1].at <= at - this.windowMs) this.samples.shift();
        const first = this.samples[0];
        const requests = counts.total - first.counts.total;
        const errors = counts.errors - first.counts.errors;
        if (this.samples.length < 2 || requests < this.minRequests) return undefined;
        return { requests, errors, ratePercent: (errors / requests) * 100 };
    }
}
