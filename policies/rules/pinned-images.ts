import { isPinned } from "../../contract";
import { isDeployedEnvironment } from "../../contract/environments";
import { FleetPolicy, agentPolicy, reportAgent } from "./fleet-policy";

/** Staging and production run exactly the image that was reviewed. */
export function pinnedImages(): FleetPolicy {
    return {
        appliesTo: "all tiers, staging and production",
        fix: "Set `image` to a digest (`repo@sha256:…`) or a version tag (`repo:1.4.2`), never `latest` or no tag.",
        policy: agentPolicy(
            "pinned-images",
            "In staging and production every agent image is pinned to a digest or an immutable version tag.",
            (inputs, agent, report) => {
                if (!isDeployedEnvironment(agent.environment)) return;
                if (!isPinned(agent.image)) {
                    reportAgent(report, inputs, "image", `pin the image to a digest or a version tag like "1.4.2", got ${JSON.stringify(agent.image)}`);
                }
            },
        ),
    };
}
