import { FleetPolicy, workloadPolicy } from "./fleet-policy";

/** A crashed agent comes back on its own. */
export function agentRestartPolicy(): FleetPolicy {
    return {
        appliesTo: "all tiers",
        fix: "Do not override the container's `restart` (or the service's `restartPolicy`) in a transform; the AgentService sets `on-failure` with the tier's retry cap.",
        policy: workloadPolicy(
            "agent-restart-policy",
            "Every agent container and Swarm service restarts after a crash: its restart policy is not \"no\" (a service's condition not \"none\").",
            (workload, container, report) => {
                const restart = workload.restart;
                if (restart === undefined || restart === "no") {
                    report(container.at("", `restart policy is ${JSON.stringify(restart ?? "no")}; remove the transform that sets it so the AgentService's "on-failure" applies`));
                }
            },
        ),
    };
}
