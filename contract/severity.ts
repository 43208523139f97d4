/** Alert severities, in order: a channel hears its minSeverity and everything above it. */
export const SEVERITIES = ["info", "warning", "error", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** True when `severity` is at least `minimum` (info < warning < error < critical). */
export function severityAtLeast(severity: Severity, minimum: Severity): boolean {
    return SEVERITIES.indexOf(severity) >= SEVERITIES.indexOf(minimum);
}

/**
 * The least severity a watched agent's alerts carry: a reminder that a problem
 * lasts, a release that rolled back (service restored, cause unknown), a clean
 * exit. The deploy hooks and the sentinel send those at this severity, so a
 * tier 2 or 3 agent must be routed to a channel that hears it.
 */
export const LEAST_WATCH_SEVERITY: Severity = "warning";
