import { LEAST_WATCH_SEVERITY, SEVERITIES, severityAtLeast } from "../../contract";
import { TIERS } from "../../config/tiers";
import { FleetPolicy, agentField, agentInputs, fixAt, fleetsOf } from "./fleet-policy";

/** A watched agent's warnings (rolled_back, a reminder, a clean exit) reach someone. */
export function alertRouteSeverity(): FleetPolicy {
    const monitored = Object.values(TIERS).filter((t) => t.requiresAlertChannel).map((t) => t.tier);
    const hearing = SEVERITIES.slice(0, SEVERITIES.indexOf(LEAST_WATCH_SEVERITY) + 1);
    return {
        appliesTo: `tiers ${monitored.join(", ")} (stack)`,
        fix: `Route the agent (\`alertChannels\`, or a channel's \`tiers\` or \`agents\`) to a channel whose \`minSeverity\` is ${hearing.join(" or ")}, or lower the \`minSeverity\` of one it has.`,
        policy: {
            name: "alert-route-severity",
            description: `Tier ${monitored.join(" and ")} agents are routed to at least one channel that hears ${LEAST_WATCH_SEVERITY}: the severity of their rolled_back alerts, reminders and clean exits.`,
            enforcementLevel: "mandatory",
            validateStack: (args, report) => {
                const channels = new Map(fleetsOf(args.resources).flatMap(({ fleet }) => fleet.channels.map((c) => [c.name, c] as const)));
                for (const r of args.resources) {
                    const inputs = agentInputs(r);
                    if (!inputs || !TIERS[inputs.agent.tier].requiresAlertChannel) continue;
                    // No channel at all, or only undeclared ones: tier-monitoring and alert-channels-exist say so.
                    const routed = inputs.agent.alertChannels.flatMap((name) => channels.get(name) ?? []);
                    if (routed.length === 0 || routed.some((c) => severityAtLeast(LEAST_WATCH_SEVERITY, c.minSeverity))) continue;
                    const heard = routed.map((c) => `${c.name} hears ${c.minSeverity} and above`).join(", ");
                    report(fixAt(inputs.stackFile, agentField(inputs, "alertChannels"), `route tier ${inputs.agent.tier} agents to a channel with minSeverity ${hearing.join(" or ")}: its rolled_back alerts and reminders are sent at ${LEAST_WATCH_SEVERITY}, and ${heard}`), r.urn);
                }
            },
        },
    };
}
