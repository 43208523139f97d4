import { FleetPolicy, workloadPolicy } from "./fleet-policy";

/** One leaking agent cannot starve the host. */
export function productionMemoryLimits(): FleetPolicy {
    return {
        appliesTo: "all tiers, production",
        fix: "Set `memory` (e.g. `512Mi`) on the agent, in the catalog or the production stack file.",
        policy: workloadPolicy(
            "production-memory-limits",
            "Production agent containers and Swarm services have a memory limit.",
            (workload, container, report) => {
                if (container.environment !== "production") return;
                if (!workload.memoryBytes || workload.memoryBytes <= 0) report(container.at("memory", 'set a memory limit like "512Mi"'));
            },
        ),
    };
}
