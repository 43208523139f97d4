import type { PolicyResource } from "@pulumi/policy";
import { SEVERITIES } from "../../contract/severity";
import { isDeployedEnvironment } from "../../contract/environments";
import { FleetPolicy, agentField, agentInputs, fixAt, fleetInputs, workloadOf } from "./fleet-policy";

/** The severity at or below which production must hear about problems. */
export const PRODUCTION_ALERT_SEVERITY = "error";

function fleetsOf(resources: PolicyResource[]) {
    return resources.flatMap((r) => {
        const fleet = fleetInputs(r);
        return fleet ? [{ resource: r, fleet }] : [];
    });
}

/** production always has somewhere to send errors. */
export function productionAlertChannel(): FleetPolicy {
    const accepted = SEVERITIES.slice(0, SEVERITIES.indexOf(PRODUCTION_ALERT_SEVERITY) + 1);
    return {
        appliesTo: "production (stack)",
        fix: `Declare a channel under \`fleet.channels\` with \`minSeverity\` of ${accepted.join(", ")}.`,
        policy: {
            name: "production-alert-channel",
            description: `Production declares at least one alert channel whose minimum severity is ${PRODUCTION_ALERT_SEVERITY} or lower.`,
            enforcementLevel: "mandatory",
            validateStack: (args, report) => {
                for (const { resource, fleet } of fleetsOf(args.resources)) {
                    if (fleet.environment !== "production") continue;
                    if (!fleet.channels.some((c) => accepted.includes(c.minSeverity))) {
                        report(fixAt(fleet.stackFile, "fleet.channels", `declare an alert channel with minSeverity ${accepted.join(", ")}; production has none that hears errors`), resource.urn);
                    }
                }
            },
        },
    };
}

/**
 * An empty agent list in a staging or production stack file is far more
 * often a bad merge or a wrong file than a decision: `pulumi up` on it
 * deletes every running agent. It passes only when the file says so.
 */
export function fleetNotEmpty(): FleetPolicy {
    return {
        appliesTo: "staging and production (stack)",
        fix: "List the agents the stack runs under `fleet.agents`, or set `fleet.allowEmpty: true` when removing every agent is the intent.",
        policy: {
            name: "fleet-not-empty",
            description: "A staging or production stack declares at least one agent, unless its file sets fleet.allowEmpty: an empty fleet deletes every running agent.",
            enforcementLevel: "mandatory",
            validateStack: (args, report) => {
                const agentCount = args.resources.filter((r) => agentInputs(r) !== undefined).length;
                for (const { resource, fleet } of fleetsOf(args.resources)) {
                    if (!isDeployedEnvironment(fleet.environment) || agentCount > 0 || fleet.allowEmpty) continue;
                    report(fixAt(fleet.stackFile, "fleet.agents", `list the agents ${fleet.environment} runs; with none, \`pulumi up\` deletes every running agent (set fleet.allowEmpty: true if that is the intent)`), resource.urn);
                }
            },
        },
    };
}

/** two agents never fight over one host port. */
export function uniqueHostPorts(): FleetPolicy {
    return {
        appliesTo: "all tiers (stack)",
        fix: "Give each agent its own `hostPort`, or leave `hostPort` out and let Docker pick one.",
        policy: {
            name: "unique-host-ports",
            description: "No two agent containers or Swarm services publish the same host port.",
            enforcementLevel: "mandatory",
            validateStack: (args, report) => {
                const owners = new Map<string, { agent: string; stackFile: string }>();
                const services = new Map<string, ReturnType<typeof agentInputs>>();
                for (const r of args.resources) {
                    const inputs = agentInputs(r);
                    if (inputs) services.set(r.urn, inputs);
                }
                for (const r of args.resources) {
                    const workload = workloadOf(r.type, r.props);
                    const inputs = workload && r.parent ? services.get(r.parent.urn) : undefined;
                    if (!workload || !inputs) continue;
                    for (const port of workload.hostPorts) {
                        if (!inputs.agent.hostPort || port.port !== inputs.agent.hostPort) continue;
                        const key = `${port.ip}:${port.port}/${port.protocol}`;
                        const first = owners.get(key);
                        if (first && first.agent !== inputs.agent.name) {
                            report(fixAt(inputs.stackFile, agentField(inputs, "hostPort"), `pick another host port; ${port.port} is already published by agent "${first.agent}"`), r.urn);
                        } else {
                            owners.set(key, { agent: inputs.agent.name, stackFile: inputs.stackFile });
                        }
                    }
                }
            },
        },
    };
}

/** an alert routed nowhere is an alert lost. */
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
