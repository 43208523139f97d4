// The agent-fleet policy pack: only assembles the policies in rules/.
import { PolicyPack } from "@pulumi/policy";
import { POLICY_PACK_NAME, fleetPolicies } from "./rules";

new PolicyPack(POLICY_PACK_NAME, {
    description: "Deployment tiers for agent-fleet: healthchecks, rollback plans, no exposed secrets, monitoring and staged rollouts.",
    policies: fleetPolicies().map((p) => p.policy),
});
