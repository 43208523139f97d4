/** Which alert channels hear which agents, at which severities: the one place routing is decided. */
import { Severity, severityAtLeast } from "../contract";

/**
 * The channels an event about `agent` at `severity` goes to, in name order.
 * The loader has already added the channels that route to the agent by tier
 * or by name to its `alertChannels`, so that list is the whole routing.
 */
export function channelsFor<C extends { readonly name: string; readonly minSeverity: Severity }>(
    channels: readonly C[],
    agent: { readonly alertChannels: readonly string[] },
    severity: Severity,
): C[] {
    return channels.filter((c) => agent.alertChannels.includes(c.name) && severityAtLeast(severity, c.minSeverity)).sort((a, b) => a.name.localeCompare(b.name));
}
