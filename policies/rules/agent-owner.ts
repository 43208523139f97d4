import { FleetPolicy, agentPolicy, reportAgent } from "./fleet-policy";

/** Someone answers the alert. */
export function agentOwner(): FleetPolicy {
    return {
        appliesTo: "all tiers",
        fix: "Set `owner` (a team handle or an email) on the agent, usually in stacks/catalog.yaml.",
        policy: agentPolicy(
            "agent-owner",
            "Every agent names an owner.",
            (inputs, agent, report) => {
                if (!agent.owner?.trim()) reportAgent(report, inputs, "owner", 'set an owner like "@acme/sales-eng" or an email');
            },
        ),
    };
}
