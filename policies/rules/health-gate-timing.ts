import { humanDuration } from "../../contract/duration";
import { timeToUnhealthyMs } from "../../config/spec";
import { FleetPolicy, agentPolicy, reportAgent } from "./fleet-policy";

/** The deploy gate and the watch window outlast the time an agent needs to be declared unhealthy. */
export function healthGateTiming(): FleetPolicy {
    return {
        appliesTo: "all tiers",
        fix: "Raise `waitTimeout` and `monitorWindow` to at least startPeriod + interval × retries, or shorten the healthcheck.",
        policy: agentPolicy(
            "health-gate-timing",
            "The wait timeout and the monitor window are each at least startPeriod + interval × retries, so an agent that turns unhealthy late is still caught.",
            (inputs, agent, report) => {
                const needed = timeToUnhealthyMs(agent.healthcheck);
                const formula = `startPeriod + interval × retries = ${humanDuration(needed)}`;
                if (agent.waitTimeoutMs < needed) {
                    reportAgent(report, inputs, "waitTimeout", `set waitTimeout to at least ${formula}, got ${humanDuration(agent.waitTimeoutMs)}`);
                }
                if (agent.monitorWindowMs < needed) {
                    reportAgent(report, inputs, "monitorWindow", `set monitorWindow to at least ${formula}, got ${humanDuration(agent.monitorWindowMs)}`);
                }
            },
        ),
    };
}
