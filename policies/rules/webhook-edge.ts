import { isDeployedEnvironment } from "../../contract/environments";
import { FleetPolicy, agentPolicy, reportAgent } from "./fleet-policy";

/**
 * Staging and production take deliveries at a stable HTTPS address: the
 * edge's, which survives every deploy and terminates TLS with a certificate
 * senders can check. A raw host port changes nothing about who may connect
 * and speaks plain HTTP.
 */
export function webhookEdge(): FleetPolicy {
    return {
        appliesTo: "all tiers, staging and production",
        fix: "Expose each agent that takes webhooks through `fleet.edge` (`expose: <its hostname>` or `expose: /a/path/prefix`), and leave its `hostPort` out.",
        policy: agentPolicy(
            "webhook-edge",
            "In staging and production an agent that takes inbound webhooks is exposed through the fleet's HTTPS edge, and publishes no raw host port.",
            (inputs, agent, report) => {
                if (!isDeployedEnvironment(agent.environment) || agent.webhooks.length === 0) return;
                const names = agent.webhooks.map((w) => w.name).join(", ");
                if (agent.expose === undefined) {
                    reportAgent(report, inputs, "expose", `expose the agent through fleet.edge, where its webhooks (${names}) arrive over HTTPS at an address that survives deploys, got no exposure`);
                }
                if (agent.hostPort !== undefined) {
                    reportAgent(report, inputs, "hostPort", `leave hostPort out: webhooks (${names}) reach the agent through the edge, not a raw host port, got ${agent.hostPort}`);
                }
            },
        ),
    };
}
