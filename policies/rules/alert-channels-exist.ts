import { FleetPolicy, agentField, agentInputs, fixAt, fleetsOf } from "./fleet-policy";

/** An alert routed nowhere is an alert lost. */
export function alertChannelsExist(): FleetPolicy {
    return {
        appliesTo: "all tiers (stack)",
        fix: "Name only channels declared under `fleet.channels` in `alertChannels`, or declare the channel.",
        policy: {
            name: "alert-channels-exist",
            description: "Every alert channel an agent routes to is declared under fleet.channels.",
            enforcementLevel: "mandatory",
            validateStack: (args, report) => {
                const declared = new Set(fleetsOf(args.resources).flatMap(({ fleet }) => fleet.channels.map((c) => c.name)));
                for (const r of args.resources) {
                    const inputs = agentInputs(r);
                    if (!inputs) continue;
                    inputs.agent.alertChannels.forEach((channel, index) => {
                        if (!declared.has(channel)) {
                            const known = declared.size > 0 ? [...declared].join(", ") : "none declared";
                            report(fixAt(inputs.stackFile, agentField(inputs, `alertChannels[${index}]`), `declare channel "${channel}" under fleet.channels or route to one that exists (${known})`), r.urn);
                        }
                    });
                }
            },
        },
    };
}
