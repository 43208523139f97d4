import { FleetPolicy, containerPolicy } from "./fleet-policy";

/** Rule 7: one leaking agent cannot starve the host. */
export function productionMemoryLimits(): FleetPolicy {
    return {
        appliesTo: "all tiers, production",
        fix: "Set `memory` (e.g. `512Mi`) on the agent, in the catalog or the production stack file.",
        policy: containerPolicy(
            "production-memory-limits",
            "Production agent containers have a memory limit.",
            (props, container, report) => {
                if (container.environment !== "production") return;
                if (!props.memory || props.memory <= 0) report(container.at("memory", 'set a memory limit like "512Mi"'));
            },
        ),
    };
}
