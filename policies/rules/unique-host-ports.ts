import { FleetPolicy, agentField, agentInputs, fixAt, workloadOf } from "./fleet-policy";

/** Two agents never fight over one host port. */
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
