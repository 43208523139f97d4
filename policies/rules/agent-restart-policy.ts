import { FleetPolicy, containerPolicy } from "./fleet-policy";

/** Rule 2: a crashed agent comes back on its own. */
export function agentRestartPolicy(): FleetPolicy {
    return {
        appliesTo: "all tiers",
        fix: "Do not override the container's `restart` in a transform; the AgentService sets `on-failure` with the tier's retry cap.",
        policy: containerPolicy(
            "agent-restart-policy",
            "Every agent container restarts after a crash: its restart policy is not \"no\".",
            (props, container, report) => {
                const restart = props.restart as string | undefined;
                if (restart === undefined || restart === "no") {
                    report(container.at("", `restart policy is ${JSON.stringify(restart ?? "no")}; remove the transform that sets it so the AgentService's "on-failure" applies`));
                }
            },
        ),
    };
}
