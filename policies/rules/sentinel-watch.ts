import { isPinned } from "../../contract";
import { isDeployedEnvironment } from "../../contract/environments";
import { TIERS } from "../../config/tiers";
import { FleetPolicy, agentInputs, fixAt, fleetsOf } from "./fleet-policy";

/** After go-live, the sentinel is what watches: staging and production keep it, running reviewed images. */
export function sentinelWatch(): FleetPolicy {
    const monitored = Object.values(TIERS).filter((t) => t.requiresAlertChannel).map((t) => t.tier);
    return {
        appliesTo: "staging and production (stack)",
        fix: "Leave `fleet.sentinel.enabled` out (or true) while the stack runs tier 2 or 3 agents, and set `fleet.sentinel.image` and `fleet.sentinel.proxyImage` to a digest or a version tag, as agents' images are.",
        policy: {
            name: "sentinel-watch",
            description: `In staging and production the sentinel runs while tier ${monitored.join(" or ")} agents need watching, and it and its docker proxy run pinned images, like the agents.`,
            enforcementLevel: "mandatory",
            validateStack: (args, report) => {
                const watched = args.resources.flatMap((r) => {
                    const inputs = agentInputs(r);
                    return inputs && TIERS[inputs.agent.tier].requiresAlertChannel ? [inputs.agent.name] : [];
                });
                for (const { resource, fleet } of fleetsOf(args.resources)) {
                    if (!isDeployedEnvironment(fleet.environment)) continue;
                    const at = (field: string, message: string) => report(fixAt(fleet.stackFile, field, message), resource.urn);
                    const sentinel = fleet.sentinel;
                    if (sentinel === undefined) {
                        // With no channel there is no sentinel to turn on: tier-monitoring asks for the channel first.
                        if (watched.length > 0 && fleet.channels.length > 0) {
                            at("fleet.sentinel.enabled", `keep the sentinel on in ${fleet.environment}: it watches tier ${monitored.join(" and ")} agents (${watched.join(", ")}) after go-live; remove enabled: false`);
                        }
                        continue;
                    }
                    if (!isPinned(sentinel.image)) at("fleet.sentinel.image", `pin the sentinel's image to a digest or a version tag like "0.1.0" in ${fleet.environment}, got ${JSON.stringify(sentinel.image)}`);
                    if (!isPinned(sentinel.proxy.image)) at("fleet.sentinel.proxyImage", `pin the docker proxy's image to a digest or a version tag like "0.1.0" in ${fleet.environment}, got ${JSON.stringify(sentinel.proxy.image)}`);
                }
            },
        },
    };
}
