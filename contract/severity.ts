/** Alert severities, in order: a channel hears its minSeverity and everything above it. */
export const SEVERITIES = ["info", "warning", "error", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** True when `severity` is at least `minimum` (info < warning < error < critical). */
export function severityAtLeast(severity: Severity, minimum: Severity): boolean {
    return SEVERITIES.indexOf(severity) >= SEVERITIES.indexOf(minimum);
}
