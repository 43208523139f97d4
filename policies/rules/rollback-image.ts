import { isPinned, sameImage } from "../../contract";
import { isDeployedEnvironment } from "../../contract/environments";
import { FleetPolicy, agentPolicy, reportAgent } from "./fleet-policy";

/** Tier 1's rollback plan is a previous, pinned, different image. */
export function rollbackImage(): FleetPolicy {
    return {
        appliesTo: "all tiers, staging and production",
        fix: "Set `rollbackImage` to the previous known-good image, pinned, and different from `image`.",
        policy: agentPolicy(
            "rollback-image",
            "In staging and production every agent names a pinned rollbackImage that differs from its image: the rollback plan.",
            (inputs, agent, report) => {
                if (!isDeployedEnvironment(agent.environment)) return;
                if (agent.rollbackImage === undefined) {
                    reportAgent(report, inputs, "rollbackImage", "set rollbackImage to the previous known-good image (pinned)");
                } else if (!isPinned(agent.rollbackImage)) {
                    reportAgent(report, inputs, "rollbackImage", `pin rollbackImage to a digest or a version tag, got ${JSON.stringify(agent.rollbackImage)}`);
                } else if (sameImage(agent.rollbackImage, agent.image)) {
                    reportAgent(report, inputs, "rollbackImage", "set rollbackImage to the previous release; it is the same image as image (compared by digest where both have one), so there is nothing to roll back to");
                }
            },
        ),
    };
}
