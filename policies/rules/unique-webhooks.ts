import type { AgentServiceInputs } from "../../components/agent-service/agentService";
import { FleetPolicy, agentField, agentInputs, fixAt } from "./fleet-policy";

/**
 * Rule 10c: one delivery, one agent. Two agents on one path split a sender's
 * deliveries at the proxy; two agents subscribed to one repository's event
 * both act on every delivery of it.
 */
export function uniqueWebhooks(): FleetPolicy {
    return {
        appliesTo: "all tiers (stack)",
        fix: "Give each agent's webhook its own `path`, and let one agent subscribe to each repository event.",
        policy: {
            name: "unique-webhooks",
            description: "No two agents claim the same webhook path, or the same GitHub repository and event.",
            enforcementLevel: "mandatory",
            validateStack: (args, report) => {
                const claims = new Map<string, string>();
                for (const resource of args.resources) {
                    const inputs: AgentServiceInputs | undefined = agentInputs(resource);
                    if (!inputs) continue;
                    inputs.agent.webhooks.forEach((webhook, i) => {
                        const claimsOfWebhook = [
                            { key: `path ${webhook.path}`, field: "path", taken: (owner: string) => `the path ${webhook.path} already belongs to agent "${owner}"` },
                            ...webhook.events.map((event) => ({
                                key: `github ${webhook.repository} ${event}`, field: "events", taken: (owner: string) => `${webhook.repository}'s "${event}" events already go to agent "${owner}"`,
                            })),
                        ];
                        for (const { key, field, taken } of claimsOfWebhook) {
                            const owner = claims.get(key);
                            if (owner !== undefined && owner !== inputs.agent.name) {
                                report(fixAt(inputs.stackFile, agentField(inputs, `webhooks[${i}].${field}`), taken(owner)), resource.urn);
                            } else {
                                claims.set(key, inputs.agent.name);
                            }
                        }
                    });
                }
            },
        },
    };
}
