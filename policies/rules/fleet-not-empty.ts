import { isDeployedEnvironment } from "../../contract/environments";
import { FleetPolicy, agentInputs, fixAt, fleetsOf } from "./fleet-policy";

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
