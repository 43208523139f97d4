import { isPinned } from "../../contract";
import { isDeployedEnvironment } from "../../contract/environments";
import { FleetPolicy, agentInputs, fixAt, fleetInputs, reportAgent } from "./fleet-policy";

/** Staging and production run exactly the image that was reviewed: the agents', and the edge's in front of them. */
export function pinnedImages(): FleetPolicy {
    return {
        appliesTo: "all tiers, staging and production",
        fix: "Set `image` to a digest (`repo@sha256:…`) or a version tag (`repo:1.4.2`), never `latest` or no tag; `fleet.edge.image` too (the official Caddy image by digest).",
        policy: {
            name: "pinned-images",
            description: "In staging and production every agent image, and the edge's (`fleet.edge.image`), is pinned to a digest or an immutable version tag.",
            enforcementLevel: "mandatory",
            validateResource: (args, report) => {
                const inputs = agentInputs(args);
                if (inputs && isDeployedEnvironment(inputs.agent.environment) && !isPinned(inputs.agent.image)) {
                    reportAgent(report, inputs, "image", `pin the image to a digest or a version tag like "1.4.2", got ${JSON.stringify(inputs.agent.image)}`);
                }
                const fleet = fleetInputs(args);
                if (fleet?.edge && isDeployedEnvironment(fleet.environment) && !isPinned(fleet.edge.image)) {
                    report(fixAt(fleet.stackFile, "fleet.edge.image", `pin the edge's image to a digest like "caddy@sha256:…" or a version tag like "2.8.4", got ${JSON.stringify(fleet.edge.image)}`));
                }
            },
        },
    };
}
