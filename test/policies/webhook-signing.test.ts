import { describe, expect, it } from "vitest";
import { webhookSigning } from "../../policies/rules/webhook-signing";
import { fleetSpec } from "../support/specs";
import { DeclareOptions, fleetResources, messages, stackArgs } from "./helpers";

const policy = webhookSigning();
const PUSH = { name: "github-push", source: "github", path: "/webhooks/github", secret: "githubWebhookSecret", repository: "acme/crm", events: ["push"] };
const AT = "stacks/Pulumi.production.yaml: fleet.agents.pesti.webhooks[0]";

async function check(options: DeclareOptions = {}): Promise<string[]> {
    const spec = fleetSpec({ webhookBaseUrl: "https://hooks.acme.dev", agents: { pesti: { tier: 2, port: 8080, image: "ghcr.io/acme/pesti:1.4.2", webhooks: [PUSH] } } }, "production", ["githubWebhookSecret"]);
    return messages(policy, stackArgs(await fleetResources(spec, options)));
}

describe("webhook-signing", () => {
    it("passes the registration the AgentService declares: signed, TLS verified", async () => {
        expect(await check()).toEqual([]);
    });

    it("passes a preview", async () => {
        expect(await check({ preview: true })).toEqual([]);
    });

    it("reports a registration whose secret a transform removed", async () => {
        expect(await check({ webhookTransform: (a) => { a.configuration = { url: "https://hooks.acme.dev/webhooks/github", contentType: "json", insecureSsl: false }; } })).toEqual([
            `${AT}: set configuration.secret; GitHub would send unsigned deliveries, which the agent refuses`,
        ]);
    });

    it("reports a registration a transform set to skip TLS verification", async () => {
        expect(await check({ webhookTransform: (a) => { a.configuration = { url: "https://hooks.acme.dev/webhooks/github", secret: "s", insecureSsl: true }; } })).toEqual([
            `${AT}: set insecureSsl to false; GitHub would deliver without checking the agent's certificate`,
        ]);
    });
});
