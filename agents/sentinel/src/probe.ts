/**
 * Inside an agent's watch window, the sentinel does more than listen: it
 * scrapes the agent's metrics and compares its 5xx share over a sliding
 * window with the agent's error-rate limit, and it runs the agent's smoke
 * checks against it. Each replica is probed on its own address on the fleet
 * network. Outside the window nothing is probed: only health events count.
 */
import { AgentWatch, METRICS_PATH, runSmokeCheck } from "../../../contract";
import { ErrorRateWindow, requestCounts } from "./metrics";
import type { Observation } from "./rules";

/** One running agent container the sentinel can reach. */
export interface ProbeTarget {
    readonly agent: string;
    readonly containerId: string;
    /** "http://<address>:<port>" on the network the sentinel shares with it. */
    readonly baseUrl: string;
    /** The container's creation, which is its deploy: every change replaces it. */
    readonly createdAt: number;
    readonly watch: AgentWatch;
}

export interface ProbeSettings {
    /** How often to scrape metrics. Default 10 s. */
    readonly scrapeEveryMs: number;
    /** The sliding window of the 5xx share. Default 5 min. */
    readonly errorRateWindowMs: number;
    /** Fewer requests than this in the window are not judged. Default 20. */
    readonly minRequests: number;
    /** How often to run the smoke checks. Default 60 s. */
    readonly smokeEveryMs: number;
    /** Per request. Default 5 s. */
    readonly timeoutMs: number;
}

export const DEFAULT_PROBES: ProbeSettings = { scrapeEveryMs: 10_000, errorRateWindowMs: 5 * 60_000, minRequests: 20, smokeEveryMs: 60_000, timeoutMs: 5_000 };

export interface ProbeResult {
    readonly target: ProbeTarget;
    readonly observation: Observation;
}

export function inWatchWindow(target: Pick<ProbeTarget, "createdAt" | "watch">, now: number): boolean {
    return now - target.createdAt < target.watch.monitorWindowMs;
}

interface Probed {
    target: ProbeTarget;
    readonly errorRate: ErrorRateWindow;
    lastScrape: number;
    lastSmoke: number;
    /** The last scrape problem logged, so that a lasting one is logged once, not every scrape. */
    lastProblem?: string;
}

export class Prober {
    private readonly probed = new Map<string, Probed>();

    constructor(private readonly settings: ProbeSettings = DEFAULT_PROBES, private readonly log: (message: string) => void = () => undefined) {}

    /** Adds or refreshes a container (a restart may give it a new address). */
    set(target: ProbeTarget): void {
        const known = this.probed.get(target.containerId);
        if (known) known.target = target;
        else this.probed.set(target.containerId, { target, errorRate: new ErrorRateWindow(this.settings.errorRateWindowMs, this.settings.minRequests), lastScrape: -Infinity, lastSmoke: -Infinity });
    }

    remove(containerId: string): void {
        this.probed.delete(containerId);
    }

    get size(): number {
        return this.probed.size;
    }

    /** One pass: whatever is due for every container in its window. */
    async round(now: number): Promise<ProbeResult[]> {
        const passes = [...this.probed.values()].filter((p) => inWatchWindow(p.target, now)).map(async (p) => {
            const results: ProbeResult[] = [];
            const { target } = p;
            if (target.watch.errorRateLimitPercent !== undefined && now - p.lastScrape >= this.settings.scrapeEveryMs) {
                p.lastScrape = now;
                const observation = await this.errorRate(p, target.watch.errorRateLimitPercent, now);
                if (observation) results.push({ target, observation });
            }
            if (target.watch.smokeChecks.length > 0 && now - p.lastSmoke >= this.settings.smokeEveryMs) {
                p.lastSmoke = now;
                for (const observation of await Promise.all(target.watch.smokeChecks.map((check) => this.smoke(target, check)))) results.push({ target, observation });
            }
            return results;
        });
        return (await Promise.all(passes)).flat();
    }

    private async errorRate(p: Probed, limitPercent: number, now: number): Promise<Observation | undefined> {
        const url = `${p.target.baseUrl}${METRICS_PATH}`;
        try {
            const response = await fetch(url, { signal: AbortSignal.timeout(this.settings.timeoutMs) });
            const counts = response.ok ? requestCounts(await response.text()) : undefined;
            if (!counts) {
                this.problem(p, `${p.target.agent}: no ${METRICS_PATH} request counters (HTTP ${response.status}); its error rate is not watched`);
                return undefined;
            }
            p.lastProblem = undefined;
            const rate = p.errorRate.add(now, counts);
            return rate && { kind: "error_rate", ratePercent: rate.ratePercent, limitPercent };
        } catch (error) {
            // An unreachable agent is the healthcheck's business; the scrape just waits for the next round.
            this.problem(p, `${p.target.agent}: could not scrape ${METRICS_PATH} (${error instanceof Error ? error.message : String(error)})`);
            return undefined;
        }
    }

    private problem(p: Probed, message: string): void {
        if (p.lastProblem === message) return;
        p.lastProblem = message;
        this.log(message);
    }

    private async smoke(target: ProbeTarget, check: AgentWatch["smokeChecks"][number]): Promise<Observation> {
        const result = await runSmokeCheck(target.baseUrl, check, this.settings.timeoutMs);
        return { kind: "smoke", check: result.check, ok: result.ok, ...(result.detail ? { detail: result.detail } : {}) };
    }
}
