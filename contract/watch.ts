/**
 * What the sentinel watches on an agent's container, read from the labels the
 * AgentService writes (agentLabels): its tier and version, its watch window
 * after a deploy, where it serves, its error-rate limit and its smoke checks.
 * Labels travel with the container, so the sentinel always watches what runs,
 * even after a targeted `pulumi up` of one agent.
 */
import { parseGoDurationMs } from "./duration";
import { LABELS } from "./names";

/** Where every agent exposes Prometheus metrics (the sample agent does it with prom-client). */
export const METRICS_PATH = "/metrics";

/** One smoke check of a key flow: the loader resolves it, `fleet verify` and the sentinel run it. Its one home. */
export interface SmokeCheck {
    readonly name: string;
    readonly method: string;
    readonly path: string;
    readonly expectStatus: number;
    readonly body?: string;
}

export interface AgentWatch {
    readonly tier: number;
    readonly version: string;
    /** How long after the container's creation (its deploy) the agent is in its watch window. */
    readonly monitorWindowMs: number;
    readonly port: number;
    /** Alert when the 5xx share of requests goes above this, in percent; undefined: not watched. */
    readonly errorRateLimitPercent?: number;
    readonly smokeChecks: readonly SmokeCheck[];
}

function isSmokeCheck(value: unknown): value is SmokeCheck {
    const c = value as Partial<SmokeCheck> | null;
    return typeof c?.name === "string" && typeof c.method === "string" && typeof c.path === "string" && c.path.startsWith("/")
        && Number.isInteger(c.expectStatus) && (c.body === undefined || typeof c.body === "string");
}

/**
 * The watch settings in a container's labels. Labels missing or unreadable
 * fall back to "no window, nothing probed" and are named in `problems`, so
 * that a container from an older release is still health-watched.
 */
export function watchFromLabels(labels: Readonly<Record<string, string>>): { watch: AgentWatch; problems: string[] } {
    const problems: string[] = [];
    const number = (key: string, check: (n: number) => boolean): number | undefined => {
        const text = labels[key];
        if (text === undefined) return undefined;
        const n = Number(text);
        if (text.trim() === "" || !check(n)) {
            problems.push(`${key}: expected a number, got "${text}"`);
            return undefined;
        }
        return n;
    };
    const windowText = labels[LABELS.monitorWindow];
    const monitorWindowMs = windowText === undefined ? 0 : parseGoDurationMs(windowText);
    if (monitorWindowMs === undefined) problems.push(`${LABELS.monitorWindow}: expected a Go duration like "1h0m0s", got "${windowText}"`);
    let smokeChecks: SmokeCheck[] = [];
    const smokeText = labels[LABELS.smokeChecks];
    if (smokeText !== undefined) {
        try {
            const parsed: unknown = JSON.parse(smokeText);
            if (!Array.isArray(parsed) || !parsed.every(isSmokeCheck)) throw new Error("shape");
            smokeChecks = parsed;
        } catch {
            problems.push(`${LABELS.smokeChecks}: expected a JSON list of { name, method, path, expectStatus, body? }`);
        }
    }
    const errorRateLimitPercent = number(LABELS.errorRateLimit, (n) => n > 0 && n <= 100);
    return {
        watch: {
            tier: number(LABELS.tier, (n) => Number.isInteger(n) && n >= 1) ?? 1,
            version: labels[LABELS.version] ?? "unknown",
            monitorWindowMs: monitorWindowMs ?? 0,
            port: number(LABELS.port, (n) => Number.isInteger(n) && n > 0 && n < 65536) ?? 8080,
            ...(errorRateLimitPercent === undefined ? {} : { errorRateLimitPercent }),
            smokeChecks,
        },
        problems,
    };
}
