/**
 * When the sentinel alerts: once per state change, a reminder after a quiet
 * period while a problem lasts, one `restart.loop` instead of one alert per
 * restart, severities raised inside an agent's watch window, and a per-agent
 * rate limit, because noisy alerts get muted. Pure: observations and a clock
 * in, alert decisions out; the Docker watcher and the outbox do the I/O.
 */
import type { AlertEventName } from "../../../alerts";
import { LEAST_WATCH_SEVERITY, SEVERITIES, Severity } from "../../../contract";

/** What the watcher saw, for one agent's container. */
export type Observation =
    | { readonly kind: "health"; readonly status: "healthy" | "unhealthy"; readonly output?: string }
    | { readonly kind: "die"; readonly exitCode: number }
    | { readonly kind: "oom" }
    | { readonly kind: "restart" }
    | { readonly kind: "error_rate"; readonly ratePercent: number; readonly limitPercent: number }
    | { readonly kind: "smoke"; readonly check: string; readonly ok: boolean; readonly detail?: string };

export interface AgentContext {
    readonly agent: string;
    /** True while the agent is inside its monitor window after a deploy: severities go up one step. */
    readonly inWindow: boolean;
}

export interface Decision {
    readonly event: AlertEventName;
    readonly severity: Severity;
    readonly reason: string;
    /** Identifies the happening, for the alert's stable id: the same problem's reminder gets a new one. */
    readonly occurrence: string;
}

export interface RuleSettings {
    /** A problem still present after this long gets a reminder. Default 30 min. */
    readonly reminderAfterMs: number;
    /** This many restarts within restartWindowMs is a restart loop. Default 3 in 5 min. */
    readonly restartLoopCount: number;
    readonly restartWindowMs: number;
    /** At most this many alerts per agent per rateWindowMs; the rest are dropped and counted. Default 10 per 10 min. */
    readonly rateLimit: number;
    readonly rateWindowMs: number;
}

export const DEFAULT_RULES: RuleSettings = {
    reminderAfterMs: 30 * 60_000, restartLoopCount: 3, restartWindowMs: 5 * 60_000, rateLimit: 10, rateWindowMs: 10 * 60_000,
};

function raise(severity: Severity, inWindow: boolean): Severity {
    if (!inWindow) return severity;
    return SEVERITIES[Math.min(SEVERITIES.length - 1, SEVERITIES.indexOf(severity) + 1)];
}

interface Problem {
    readonly since: number;
    lastSent: number;
    readonly key: string;
}

interface AgentState {
    /** Open problems by key ("health", "error_rate", "smoke:<check>"). */
    readonly problems: Map<string, Problem>;
    /** Restart times within the restart window. */
    restarts: number[];
    /** A restart-loop alert went out and the loop has not calmed down since. */
    inLoop: boolean;
    sent: number[];
    /** Alerts the rate limit dropped since the last one sent. */
    dropped: number;
}

export class AlertRules {
    private readonly agents = new Map<string, AgentState>();

    constructor(private readonly settings: RuleSettings = DEFAULT_RULES) {}

    private state(agent: string): AgentState {
        let s = this.agents.get(agent);
        if (!s) {
            s = { problems: new Map(), restarts: [], inLoop: false, sent: [], dropped: 0 };
            this.agents.set(agent, s);
        }
        return s;
    }

    /** What to send for one observation at `now`; usually nothing. */
    observe(context: AgentContext, observation: Observation, now: number): Decision[] {
        const s = this.state(context.agent);
        const decisions = this.decide(s, context, observation, now);
        return decisions.flatMap((d) => this.limit(s, d, now));
    }

    /** Reminders for problems still open after the quiet period; call it periodically. */
    tick(context: AgentContext, now: number): Decision[] {
        const s = this.state(context.agent);
        const due: Decision[] = [];
        for (const problem of s.problems.values()) {
            if (now - problem.lastSent < this.settings.reminderAfterMs) continue;
            problem.lastSent = now;
            const minutes = Math.round((now - problem.since) / 60_000);
            due.push({
                event: problem.key === "health" ? "health.failed" : problem.key === "error_rate" ? "error_rate.exceeded" : "smoke.failed",
                severity: raise(LEAST_WATCH_SEVERITY, context.inWindow),
                reason: `still failing after ${minutes} min (reminder): ${problem.key}`,
                occurrence: `${problem.key}:${problem.since}:reminder:${now}`,
            });
        }
        return due.flatMap((d) => this.limit(s, d, now));
    }

    private open(s: AgentState, key: string, now: number): boolean {
        if (s.problems.has(key)) return false;
        s.problems.set(key, { since: now, lastSent: now, key });
        return true;
    }

    private close(s: AgentState, key: string): Problem | undefined {
        const problem = s.problems.get(key);
        s.problems.delete(key);
        return problem;
    }

    private decide(s: AgentState, context: AgentContext, o: Observation, now: number): Decision[] {
        const w = context.inWindow;
        switch (o.kind) {
            case "health": {
                if (o.status === "unhealthy") {
                    return this.open(s, "health", now)
                        ? [{ event: "health.failed", severity: raise("error", w), reason: o.output ? `unhealthy: ${o.output}` : "unhealthy", occurrence: `health:${now}` }]
                        : [];
                }
                const problem = this.close(s, "health");
                return problem ? [{ event: "health.recovered", severity: "info", reason: `healthy again after ${Math.round((now - problem.since) / 1000)} s`, occurrence: `health:${problem.since}:recovered` }] : [];
            }
            case "restart": {
                s.restarts = [...s.restarts.filter((t) => now - t < this.settings.restartWindowMs), now];
                if (s.restarts.length >= this.settings.restartLoopCount && !s.inLoop) {
                    s.inLoop = true;
                    return [{ event: "restart.loop", severity: raise("error", w), reason: `${s.restarts.length} restarts within ${Math.round(this.settings.restartWindowMs / 60_000)} min`, occurrence: `loop:${now}` }];
                }
                if (s.restarts.length === 1) s.inLoop = false;
                return [];
            }
            case "die":
                // After a restart within the window, a death is the same trouble again: the first death alerted, and
                // a loop gets its own single alert. So a crash loop sends two alerts, however many restarts it has.
                if (s.restarts.some((t) => now - t < this.settings.restartWindowMs)) return [];
                return [{ event: "container.died", severity: raise(o.exitCode === 0 ? LEAST_WATCH_SEVERITY : "error", w), reason: `exited with code ${o.exitCode}`, occurrence: `die:${now}` }];
            case "oom":
                return [{ event: "container.oom", severity: raise("error", w), reason: "killed: out of memory", occurrence: `oom:${now}` }];
            case "error_rate": {
                if (o.ratePercent > o.limitPercent) {
                    return this.open(s, "error_rate", now)
                        ? [{ event: "error_rate.exceeded", severity: raise("error", w), reason: `5xx rate ${o.ratePercent.toFixed(1)}% above the limit of ${o.limitPercent}%`, occurrence: `error_rate:${now}` }]
                        : [];
                }
                this.close(s, "error_rate");
                return [];
            }
            case "smoke": {
                const key = `smoke:${o.check}`;
                if (!o.ok) {
                    return this.open(s, key, now)
                        ? [{ event: "smoke.failed", severity: raise("error", w), reason: `smoke check "${o.check}" failed${o.detail ? `: ${o.detail}` : ""}`, occurrence: `${key}:${now}` }]
                        : [];
                }
                this.close(s, key);
                return [];
            }
        }
    }

    /** The per-agent rate limit: the first alert after a dropped run says how many were dropped. */
    private limit(s: AgentState, d: Decision, now: number): Decision[] {
        s.sent = s.sent.filter((t) => now - t < this.settings.rateWindowMs);
        if (s.sent.length >= this.settings.rateLimit) {
            s.dropped++;
            return [];
        }
        s.sent.push(now);
        if (s.dropped === 0) return [d];
        const note = ` (${s.dropped} more alert${s.dropped === 1 ? "" : "s"} for this agent were rate-limited)`;
        s.dropped = 0;
        return [{ ...d, reason: `${d.reason}${note}` }];
    }
}
