/**
 * Stack view: the Fleet's registered base URL against the webhooks its
 * AgentServices take, generic senders' as well as GitHub's.
 */
import { describe, expect, it } from "vitest";
import { webhookHttps } from "../../policies/rules/webhook-https";
import { fleetSpec } from "../support/specs";
import { fleetResources, messages, runPolicy, stackArgs } from "./helpers";

const policy = webhookHttps();
const CRM = { name: "crm-updates", source: "generic", path: "/webhooks/crm", secret: "crmWebhookSecret" };

async function check(stack: string, webhookBaseUrl: string | undefined, webhooks: unknown[] = [CRM], expose?: string) {
    const spec = fleetSpec({
        ...(webhookBaseUrl === undefined ? {} : { webhookBaseUrl }),
        ...(expose === undefined ? {} : { edge: { hostname: "agents.acme.dev" } }),
        agents: { pesti: { tier: 2, port: 8080, image: "ghcr.io/acme/pesti:1.4.2", webhooks, ...(expose === undefined ? {} : { expose }) } },
    }, stack, ["crmWebhookSecret"]);
    return stackArgs(await fleetResources(spec));
}

describe("webhook-https", () => {
    it.each(["staging", "production"])("passes an https base URL in %s", async (stack) => {
        expect(await messages(policy, await check(stack, "https://hooks.acme.dev"))).toEqual([]);
    });

    it("passes plain http in dev, where a tunnel to a laptop is normal", async () => {
        expect(await messages(policy, await check("dev", "http://127.0.0.1:8080"))).toEqual([]);
    });

    it("passes a generic webhook with no base URL in dev", async () => {
        expect(await messages(policy, await check("dev", undefined))).toEqual([]);
    });

    it("passes an agent exposed through the edge with no base URL: its deliveries go to its own https URL there", async () => {
        expect(await messages(policy, await check("production", undefined, [CRM], "pesti.acme.dev"))).toEqual([]);
    });

    it("passes a production stack with no webhooks and no base URL", async () => {
        expect(await messages(policy, await check("production", undefined, []))).toEqual([]);
    });

    it.each(["staging", "production"])("reports an http base URL in %s, at fleet.webhookBaseUrl, on the Fleet", async (stack) => {
        expect(await runPolicy(policy, await check(stack, "http://hooks.acme.dev"))).toEqual([{
            message: `stacks/Pulumi.${stack}.yaml: fleet.webhookBaseUrl: use an https URL in ${stack}, got "http://hooks.acme.dev"`,
            urn: `urn:pulumi:${stack}::agent-fleet::agent-fleet:index:Fleet::fleet`,
        }]);
    });

    it.each(["staging", "production"])("reports a generic webhook in %s with no base URL: its sender needs an https URL as GitHub does", async (stack) => {
        expect(await messages(policy, await check(stack, undefined))).toEqual([
            `stacks/Pulumi.${stack}.yaml: fleet.webhookBaseUrl: set the https URL senders deliver to in ${stack} (agents pesti take webhooks), got nothing`,
        ]);
    });
});
