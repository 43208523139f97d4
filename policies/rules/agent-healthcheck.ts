import { durationMs, isDuration } from "../../contract/duration";
import { LABELS, parseGoDurationMs } from "../../contract";
import { TIERS, Tier } from "../../config/tiers";
import { FleetPolicy, workloadPolicy } from "./fleet-policy";

/** Longest healthcheck interval that still notices a dead agent within a minute. */
export const MAX_HEALTHCHECK_INTERVAL = "60s";

/** The healthcheck is in Go's form ("1m30s", a service's "1m"); a transform may have written the fleet's ("90s"). */
function parsed(duration: unknown): number | undefined {
    const go = parseGoDurationMs(duration);
    if (go !== undefined || typeof duration !== "string") return go;
    return isDuration(duration) ? durationMs(duration) : undefined;
}

/** Commands that exit 0 whatever the agent's state: they probe nothing. */
const PROBES_NOTHING = new Set(["true", "/bin/true", "/usr/bin/true", ":", "echo", "printf", "sleep", "exit"]);
const SHELLS = new Set(["sh", "/bin/sh", "bash", "/bin/bash", "ash", "/bin/ash"]);

/** Why a shell script always exits 0, or undefined when it can fail. */
function shellAlwaysSucceeds(script: string): string | undefined {
    const text = script.trim();
    if (/(\|\||;)\s*(true|:|exit(\s+0)?)\s*$/.test(text)) return "its last command always succeeds";
    if (/^(true|:|exit(\s+0)?)$/.test(text)) return "it runs no check";
    const hasControl = /[|;&]/.test(text);
    const first = text.split(/\s+/)[0];
    if (!hasControl && PROBES_NOTHING.has(first)) return `\`${first}\` probes nothing`;
    return undefined;
}

/**
 * Why a healthcheck test can never fail, or undefined when it can. Only the
 * reason is returned, never the command: commands may carry credentials.
 */
function alwaysSucceeds(tests: readonly string[]): string | undefined {
    const [kind, ...command] = tests;
    if (kind === "CMD-SHELL") return shellAlwaysSucceeds(command.join(" "));
    if (kind !== "CMD" || command.length === 0) return undefined;
    if (SHELLS.has(command[0]) && command[1] === "-c" && command[2] !== undefined) return shellAlwaysSucceeds(command[2]);
    return PROBES_NOTHING.has(command[0]) ? `\`${command[0]}\` probes nothing` : undefined;
}

/** Every agent container and service has a real healthcheck, checked often enough. */
export function agentHealthcheck(): FleetPolicy {
    return {
        appliesTo: "all tiers",
        fix: "Give the agent a healthcheck: `healthcheck.path` (or `healthcheck.command`), `interval` ≤ 60s and `retries` ≥ the tier minimum.",
        policy: workloadPolicy(
            "agent-healthcheck",
            `Every agent container and Swarm service has a healthcheck with a real test command that can fail, an interval of at most ${MAX_HEALTHCHECK_INTERVAL} and at least the tier's minimum retries.`,
            (workload, container, report) => {
                const hc = workload.healthcheck;
                const tests = hc?.tests ?? [];
                if (tests.length === 0 || tests[0] === "NONE" || (tests[0] === "CMD" && tests.length < 2) || (tests[0] === "CMD-SHELL" && !tests[1]?.trim())) {
                    report(container.at("healthcheck", `set healthcheck.path (probed with node) or healthcheck.command; the ${workload.kind} has no real healthcheck test`));
                    return;
                }
                const never = alwaysSucceeds(tests);
                if (never) {
                    report(container.at("healthcheck.command", `set a healthcheck command that can fail; this one always succeeds (${never})`));
                    return;
                }
                // What runs may probe more often than the config declares (a short interval while the agent starts,
                // with retries scaled to the same time to unhealthy): judge the declared schedule, never shorter than
                // what runs, with retries counted in declared intervals. A transform that lengthens the interval or
                // lowers the retries is still judged by what runs.
                const running = parsed(hc?.interval);
                const declared = parsed(workload.labels[LABELS.healthcheckInterval]);
                const interval = running === undefined || running === 0 ? running : Math.max(running, declared ?? 0);
                if (interval === undefined || interval === 0 || interval > durationMs(MAX_HEALTHCHECK_INTERVAL)) {
                    const shown = interval !== undefined && interval !== running ? workload.labels[LABELS.healthcheckInterval] : hc?.interval ?? "none";
                    report(container.at("healthcheck.interval", `set an interval of at most ${MAX_HEALTHCHECK_INTERVAL}, got ${JSON.stringify(shown)}`));
                }
                const tier = TIERS[container.tier as Tier];
                const minRetries = Math.max(1, tier?.minHealthcheckRetries ?? 1);
                const retries = running && interval ? Math.floor(((hc?.retries ?? 0) * running) / interval) : hc?.retries ?? 0;
                if (retries < minRetries) {
                    report(container.at("healthcheck.retries", `set retries to at least ${minRetries} for tier ${container.tier}, got ${retries}`));
                }
            },
        ),
    };
}
