import { describe, expect, it } from "vitest";
import { COMPONENT_TYPES } from "../../contract";
import { webhookHttps } from "../../policies/rules/webhook-https";
import { fleetSpec } from "../support/specs";
import { FLEET_NAME, messages, resourceArgsOf } from "./helpers";

const policy = webhookHttps();
const CRM = { name: "crm-updates", source: "generic", path: "/webhooks/crm", secret: "crmWebhookSecret" };

async function check(stack: string, webhookBaseUrl: string): Promise<string[]> {
    const spec = fleetSpec({ webhookBaseUrl, agents: { pesti: { tier: 2, port: 8080, image: "ghcr.io/acme/pesti:1.4.2", webhooks: [CRM] } } }, stack, ["crmWebhookSecret"]);
    return messages(policy, await resourceArgsOf(spec, COMPONENT_TYPES.fleet, FLEET_NAME));
}

describe("webhook-https", () => {
    it.each(["staging", "production"])("passes an https base URL in %s", async (stack) => {
        expect(await check(stack, "https://hooks.acme.dev")).toEqual([]);
    });

    it("passes plain http in dev, where a tunnel to a laptop is normal", async () => {
        expect(await check("dev", "http://127.0.0.1:8080")).toEqual([]);
    });

    it.each(["staging", "production"])("reports an http base URL in %s, at fleet.webhookBaseUrl", async (stack) => {
        expect(await check(stack, "http://hooks.acme.dev")).toEqual([
            `stacks/Pulumi.${stack}.yaml: fleet.webhookBaseUrl: use an https URL in ${stack}, got "http://hooks.acme.dev"`,
        ]);
    });
});
