/** Which alert channels hear which agents, at which severities: the one place routing is decided. */
import { SEVERITIES, Severity } from "./schema";
import type { AgentSpec, ChannelSpec } from "./spec";

/** True when `severity` is at least `minimum` (info < warning < error < critical). */
export function severityAtLeast(severity: Severity, minimum: Severity): boolean {
    return SEVERITIES.indexOf(severity) >= SEVERITIES.indexOf(minimum);
}

/**
 * The channels an event about `agent` at `severity` goes to, in name order.
 * The loader has already added the channels that route to the agent by tier
 * or by name to its `alertChannels`, so that list is the whole routing.
 */
export function channelsFor(channels: readonly ChannelSpec[], agent: Pick<AgentSpec, "alertChannels">, severity: Severity): ChannelSpec[] {
    return channels.filter((c) => agent.alertChannels.includes(c.name) && severityAtLeast(severity, c.minSeverity)).sort((a, b) => a.name.localeCompare(b.name));
}
