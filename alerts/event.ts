/**
 * What an alert or a deploy notification says, whatever the channel. Every
 * event carries a stable id, so a receiver can drop a duplicate delivery.
 */
import { createHash } from "crypto";
import type { Severity } from "../contract";

export const ALERT_EVENTS = [
    "deploy.started", "deploy.succeeded", "deploy.failed", "health.failed", "rolled_back",
    "health.recovered", "container.died", "container.oom", "restart.loop", "error_rate.exceeded", "smoke.failed",
] as const;
export type AlertEventName = (typeof ALERT_EVENTS)[number];

/** Who sent it: the program's deploy hooks during `pulumi up`, or the sentinel watching afterwards. */
type AlertSource = "deploy" | "sentinel";

export interface AlertEvent {
    /** Stable across retries and restarts of whoever sends it: the same happening always gets the same id. */
    readonly id: string;
    readonly source: AlertSource;
    readonly event: AlertEventName;
    readonly severity: Severity;
    readonly stack: string;
    readonly environment: string;
    readonly agent: string;
    readonly tier: number;
    readonly version: string;
    readonly image?: string;
    /** ISO 8601, UTC. */
    readonly time: string;
    /** One line: the last health-check output, the error rate against its limit, the failing check. */
    readonly reason: string;
    /** Where to look, when known (a run, a dashboard). */
    readonly link?: string;
}

/**
 * The id of one happening: what, where, and an occurrence key that stays the
 * same however often it is sent (a deployment's id, a container id and its
 * event time). 32 hex characters.
 */
export function alertId(event: AlertEventName, stack: string, agent: string, occurrence: string): string {
    return createHash("sha256").update([event, stack, agent, occurrence].join("\0")).digest("hex").slice(0, 32);
}

/** A reason is one line of at most 300 characters: receivers show it as a title or a field. */
export function oneLine(text: string, max = 300): string {
    const flat = text.replace(/\s+/g, " ").trim();
    return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
