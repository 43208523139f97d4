/**
 * Resource view: each AgentService's webhooks against its exposure through
 * the edge and its host port, in the environments senders deliver to.
 */
import { describe, expect, it } from "vitest";
import { webhookEdge } from "../../policies/rules/webhook-edge";
import { agentSpec } from "../support/specs";
import { agentServiceArgs, containerResourceArgs, messages, runPolicy } from "./helpers";

const policy = webhookEdge();
const CRM = { name: "crm-updates", source: "generic", path: "/webhooks/crm", secret: "crmWebhookSecret" };
const EDGE = { edge: { hostname: "agents.acme.dev" } };

async function check(fields: Record<string, unknown>, stack = "production", fleet: Record<string, unknown> = EDGE): Promise<string[]> {
    return messages(policy, await agentServiceArgs(agentSpec(fields, stack, fleet)));
}

describe("webhook-edge", () => {
    it.each(["staging", "production"])("passes a webhook receiver exposed through the edge in %s, by hostname or path prefix", async (stack) => {
        expect(await check({ webhooks: [CRM], expose: "pesti.acme.dev" }, stack)).toEqual([]);
        expect(await check({ webhooks: [CRM], expose: "/api/agents/pesti" }, stack)).toEqual([]);
    });

    it("reports a production receiver that is not exposed, at its expose field, on the AgentService", async () => {
        const args = await agentServiceArgs(agentSpec({ webhooks: [CRM] }, "production", EDGE));
        expect(await runPolicy(policy, args)).toEqual([{
            message: "stacks/Pulumi.production.yaml: fleet.agents.pesti.expose: expose the agent through fleet.edge, where its webhooks (crm-updates) arrive over HTTPS at an address that survives deploys, got no exposure",
            urn: args.urn,
        }]);
    });

    it("reports a staging receiver behind a raw host port, even when exposed, and an unexposed one there too", async () => {
        expect(await check({ webhooks: [CRM], expose: "pesti.acme.dev", hostPort: 18080 }, "staging")).toEqual([
            "stacks/Pulumi.staging.yaml: fleet.agents.pesti.hostPort: leave hostPort out: webhooks (crm-updates) reach the agent through the edge, not a raw host port, got 18080",
        ]);
        expect(await check({ webhooks: [CRM], hostPort: 18080 }, "staging", {})).toHaveLength(2);
    });

    it("passes dev, where a tunnel to a laptop is normal, and agents without webhooks anywhere", async () => {
        expect(await check({ webhooks: [CRM], hostPort: 18080 }, "dev", {})).toEqual([]);
        expect(await check({ hostPort: 18080 }, "production", {})).toEqual([]);
    });

    it("ignores the containers, which carry no fleet config", async () => {
        expect(await runPolicy(policy, await containerResourceArgs(agentSpec({ webhooks: [CRM] })))).toEqual([]);
    });
});
