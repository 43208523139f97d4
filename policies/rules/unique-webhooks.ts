import type { AgentServiceInputs } from "../../config/component-inputs";
import { githubRepositoryKey } from "../../contract";
import { FleetPolicy, agentField, agentInputs, fixAt } from "./fleet-policy";

/**
 * one delivery, one agent. Two agents on one path split a sender's
 * deliveries at the proxy; two agents subscribed to one repository's event
 * both act on every delivery of it.
 */
export function uniqueWebhooks(): FleetPolicy {
    return {
        appliesTo: "all tiers (stack)",
        fix: "Give each agent's webhook its own `path`, and let one agent subscribe to each repository event.",
        policy: {
            name: "unique-webhooks",
            description: "No two agents claim the same webhook path (under `webhookBaseUrl`, or the same URL at the edge), or the same GitHub repository and event (\"*\" claims every event).",
            enforcementLevel: "mandatory",
            validateStack: (args, report) => {
                const pathOwners = new Map<string, string>();
                /** repository → event → the agent that takes it; "*" (GitHub's every event) overlaps each one. */
                const eventOwners = new Map<string, Map<string, string>>();
                for (const resource of args.resources) {
                    const inputs: AgentServiceInputs | undefined = agentInputs(resource);
                    if (!inputs) continue;
                    const me = inputs.agent.name;
                    const reportAt = (i: number, field: string, message: string) => report(fixAt(inputs.stackFile, agentField(inputs, `webhooks[${i}].${field}`), message), resource.urn);
                    inputs.agent.webhooks.forEach((webhook, i) => {
                        // Where the deliveries arrive: an exposed agent's under its own URL at the edge, the others' all under webhookBaseUrl.
                        const where = inputs.agent.expose ? `${inputs.agent.expose.url}${webhook.path}` : webhook.path;
                        const pathOwner = pathOwners.get(where);
                        if (pathOwner !== undefined && pathOwner !== me) reportAt(i, "path", `the ${inputs.agent.expose ? "URL" : "path"} ${where} already belongs to agent "${pathOwner}"`);
                        else pathOwners.set(where, me);
                        if (!webhook.repository) return;
                        // GitHub's own comparison: "acme/CRM" and "acme/crm" are one repository.
                        const key = githubRepositoryKey(webhook.repository);
                        const owners = eventOwners.get(key) ?? new Map<string, string>();
                        eventOwners.set(key, owners);
                        for (const event of webhook.events) {
                            const overlapping = event === "*" ? [...owners.entries()] : [[event, owners.get(event)], ["*", owners.get("*")]] as const;
                            const clash = overlapping.find(([, owner]) => owner !== undefined && owner !== me);
                            if (clash) reportAt(i, "events", eventClash(webhook.repository, event, clash[0], clash[1]!));
                            else owners.set(event, me);
                        }
                    });
                }
            },
        },
    };
}

/** Why `event` cannot be claimed: another agent holds `taken` ("*" stands for every event) on the repository. */
function eventClash(repository: string, event: string, taken: string, owner: string): string {
    if (taken === "*") return `${repository}'s events all go to agent "${owner}" ("*"), "${event}" included`;
    if (event === "*") return `"*" takes every event of ${repository}, but its "${taken}" events already go to agent "${owner}"`;
    return `${repository}'s "${event}" events already go to agent "${owner}"`;
}
