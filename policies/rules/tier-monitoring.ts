import { durationMs, humanDuration } from "../../contract/duration";
import { TIERS } from "../../config/tiers";
import { FleetPolicy, agentPolicy, reportAgent } from "./fleet-policy";

/** Alerts, a watch window and smoke checks. */
export function tierMonitoring(): FleetPolicy {
    const monitored = Object.values(TIERS).filter((t) => t.requiresAlertChannel || t.requiresSmokeCheck).map((t) => t.tier);
    return {
        appliesTo: `tiers ${monitored.join(", ")}`,
        fix: "Route the agent to an alert channel (`alertChannels`), add a `smokeChecks` entry for a key flow, keep `errorRateLimit` within the tier maximum, and in production set `monitorWindow` to at least the tier minimum.",
        policy: agentPolicy(
            "tier-monitoring",
            `Tier ${monitored.join(" and ")} agents route to an alert channel, declare a smoke check, keep their error-rate limit within the tier's maximum, and in production are watched for at least the tier's minimum monitor window.`,
            (inputs, agent, report) => {
                const tier = TIERS[agent.tier];
                if (tier.requiresAlertChannel && agent.alertChannels.length === 0) {
                    reportAgent(report, inputs, "alertChannels", `route tier ${agent.tier} agents to at least one alert channel defined under fleet.channels`);
                }
                if (tier.requiresSmokeCheck && agent.smokeChecks.length === 0) {
                    reportAgent(report, inputs, "smokeChecks", `add at least one smoke check of a key flow (method, path, expectStatus) for tier ${agent.tier}`);
                }
                const maxRate = tier.maxErrorRateLimitPercent;
                if (maxRate !== undefined && agent.errorRateLimitPercent !== undefined && agent.errorRateLimitPercent > maxRate) {
                    reportAgent(report, inputs, "errorRateLimit", `set an error-rate limit of at most ${maxRate}% for tier ${agent.tier}, got ${agent.errorRateLimitPercent}%`);
                }
                const minimum = tier.minProductionMonitorWindow;
                if (agent.environment === "production" && minimum !== undefined && agent.monitorWindowMs < durationMs(minimum)) {
                    reportAgent(report, inputs, "monitorWindow", `set a monitor window of at least ${minimum} in production, got ${humanDuration(agent.monitorWindowMs)}`);
                }
            },
        ),
    };
}
