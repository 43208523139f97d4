/**
 * Agents' inbound webhooks under mocks: the config the loader accepts and
 * refuses, the `github.RepositoryWebhook` a GitHub webhook registers (URL,
 * JSON, events, active, TLS verified, the secret a Pulumi secret on the
 * wire), one provider per repository owner, and the secret reaching the
 * agent like any other secret, under both runtimes.
 */
import * as pulumi from "@pulumi/pulumi";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AgentService, Fleet } from "../../components";
import { FleetConfigError } from "../../config";
import { DOCKER_TYPES, GITHUB_TYPES } from "../../contract";
import { fleetSpec } from "../support/specs";
import { MockRun, isWireSecret, outputOf, settle, startMocks } from "../support/pulumi";

const WEBHOOK = GITHUB_TYPES.repositoryWebhook;
const SEEDED = "seeded-webhook-secret-5d2e";

let run: MockRun;
beforeEach(async () => {
    run = await startMocks("staging");
});
afterEach(settle);

const GITHUB_PUSH = { name: "github-push", source: "github", path: "/webhooks/github", secret: "githubWebhookSecret", repository: "acme/crm", events: ["push", "pull_request"] };
const CRM = { name: "crm-updates", source: "generic", path: "/webhooks/crm", secret: "crmWebhookSecret" };
const KEYS = ["githubWebhookSecret", "crmWebhookSecret"];

function fleetWith(agent: Record<string, unknown>, extra: Record<string, unknown> = { webhookBaseUrl: "https://hooks.acme.dev/" }) {
    return fleetSpec({ ...extra, agents: { pesti: { tier: 2, port: 8080, image: "ghcr.io/acme/pesti:1.4.2", ...agent } } }, "staging", KEYS);
}

async function declare(agent: Record<string, unknown>, extra?: Record<string, unknown>) {
    const fleet = new Fleet("fleet", { spec: fleetWith(agent, extra), secretConfig: (key) => pulumi.secret(`${SEEDED}-${key}`), deployNotifications: false });
    for (const a of Object.values(fleet.agents)) await outputOf(a.instances);
    await settle();
    return fleet;
}

describe("webhooks in the fleet config", () => {
    it("resolves each webhook with the env var its secret reaches the agent in, and adds it to the agent's secrets", () => {
        const [agent] = fleetWith({ webhooks: [GITHUB_PUSH, CRM] }).agents;
        expect(agent.webhooks).toEqual([
            { name: "github-push", source: "github", path: "/webhooks/github", secretKey: "githubWebhookSecret", secretEnv: "WEBHOOK_GITHUB_PUSH_SECRET", repository: "acme/crm", events: ["push", "pull_request"] },
            { name: "crm-updates", source: "generic", path: "/webhooks/crm", secretKey: "crmWebhookSecret", secretEnv: "WEBHOOK_CRM_UPDATES_SECRET", events: [] },
        ]);
        expect(agent.secrets).toEqual({ WEBHOOK_GITHUB_PUSH_SECRET: "githubWebhookSecret", WEBHOOK_CRM_UPDATES_SECRET: "crmWebhookSecret" });
        expect(fleetWith({ webhooks: [GITHUB_PUSH] }).webhookBaseUrl).toBe("https://hooks.acme.dev");
    });

    it.each([
        ["a github webhook without a repository", { ...GITHUB_PUSH, repository: undefined }, "fleet.agents.pesti.webhooks[0].repository: expected the repository GitHub sends from, like \"acme/crm\", got nothing"],
        ["a github webhook without events", { ...GITHUB_PUSH, events: undefined }, "fleet.agents.pesti.webhooks[0].events: expected the GitHub events to subscribe to, like [\"push\"], got nothing"],
        ["a generic webhook with events", { ...CRM, events: ["push"] }, "fleet.agents.pesti.webhooks[0].events: expected no events for a generic webhook, got"],
        ["a secret key that is not set", { ...CRM, secret: "unsetKey" }, "fleet.agents.pesti.webhooks[0].secret: expected secret config key \"unsetKey\" to be set"],
        ["a path that is not absolute", { ...CRM, path: "webhooks/crm" }, "fleet.agents.pesti.webhooks[0].path: expected a path like \"/webhooks/github\""],
    ])("refuses %s, naming the field", (_what, webhook, message) => {
        expect(() => fleetWith({ webhooks: [webhook] })).toThrow(FleetConfigError);
        expect(() => fleetWith({ webhooks: [webhook] })).toThrow(`stacks/Pulumi.staging.yaml: ${message}`);
    });

    it("refuses two webhooks of one agent on one path", () => {
        expect(() => fleetWith({ webhooks: [CRM, { ...CRM, name: "crm-2" }] })).toThrow('fleet.agents.pesti.webhooks[1].path: expected each webhook on its own path, got "/webhooks/crm" twice');
    });

    it("refuses github webhooks without the stack's public base URL", () => {
        expect(() => fleetWith({ webhooks: [GITHUB_PUSH] }, {})).toThrow(
            'stacks/Pulumi.staging.yaml: fleet.webhookBaseUrl: expected the public URL the agents\' webhook paths are reachable under, like "https://hooks.acme.dev" (agents pesti register GitHub webhooks and are not exposed through fleet.edge, which would give them their own), got nothing',
        );
        expect(() => fleetWith({ webhooks: [CRM] }, {})).not.toThrow();
    });
});

describe("webhooks in the program", () => {
    it("registers a github webhook: the agent's URL, JSON, its events, active, TLS verified, the secret a Pulumi secret", async () => {
        await declare({ webhooks: [GITHUB_PUSH, CRM] });
        const hooks = run.byType(WEBHOOK);
        expect(hooks.map((h) => h.name)).toEqual(["fleet-pesti-webhook-github-push"]);
        const [hook] = hooks;
        expect(hook.inputs).toMatchObject({
            repository: "crm", events: ["push", "pull_request"], active: true,
            configuration: { url: "https://hooks.acme.dev/webhooks/github", contentType: "json", insecureSsl: false, secret: `${SEEDED}-githubWebhookSecret` },
        });
        // On the wire the secret travels inside a secret envelope, which the engine encrypts in state.
        expect(isWireSecret(hook.wireInputs.configuration) || isWireSecret(hook.wireInputs.configuration?.secret)).toBe(true);
        expect(hook.wireInputs.configuration.url ?? hook.wireInputs.configuration.value?.url).toBe("https://hooks.acme.dev/webhooks/github");
        expect(hook.parent).toMatch(/agent-fleet:index:AgentService::fleet-pesti$/);
    });

    it("registers each owner's webhooks through one GitHub provider for that owner", async () => {
        await declare({ webhooks: [GITHUB_PUSH, { ...GITHUB_PUSH, name: "github-issues", path: "/webhooks/issues", repository: "acme/support", events: ["issues"] }] });
        const providers = run.resources.filter((r) => r.type === "pulumi:providers:github");
        expect(providers.map((p) => [p.name, p.inputs.owner])).toEqual([["fleet-github-acme", "acme"]]);
    });

    it("gives the agent its webhooks in WEBHOOKS and each secret as a secret env var (container runtime)", async () => {
        await declare({ webhooks: [GITHUB_PUSH, CRM] });
        const [container] = run.byType(DOCKER_TYPES.container);
        const env = container.inputs.envs as string[];
        expect(env).toContain(`WEBHOOK_GITHUB_PUSH_SECRET=${SEEDED}-githubWebhookSecret`);
        expect(JSON.parse(env.find((e) => e.startsWith("WEBHOOKS="))!.slice("WEBHOOKS=".length))).toEqual([
            { name: "github-push", source: "github", path: "/webhooks/github", secretEnv: "WEBHOOK_GITHUB_PUSH_SECRET" },
            { name: "crm-updates", source: "generic", path: "/webhooks/crm", secretEnv: "WEBHOOK_CRM_UPDATES_SECRET" },
        ]);
        expect(isWireSecret(container.wireInputs.envs)).toBe(true);
    });

    it("gives the agent each webhook secret as a Swarm secret file (swarm runtime)", async () => {
        await declare({ webhooks: [GITHUB_PUSH] }, { webhookBaseUrl: "https://hooks.acme.dev", runtime: "swarm" });
        const [secret] = run.byType("docker:index/secret:Secret");
        expect(secret.name).toBe("fleet-pesti-secret-webhook-github-push-secret");
        const [service] = run.byType(DOCKER_TYPES.service);
        expect(service.inputs.taskSpec.containerSpec.env).toMatchObject({ WEBHOOK_GITHUB_PUSH_SECRET_FILE: "/run/secrets/WEBHOOK_GITHUB_PUSH_SECRET" });
        expect(JSON.stringify(service.wireInputs)).not.toContain(SEEDED);
    });

    it("refuses a github webhook without a base URL before registering anything, when AgentService is used on its own", () => {
        const [agent] = fleetWith({ webhooks: [GITHUB_PUSH] }).agents;
        expect(() => new AgentService("pesti", { spec: agent, networkName: "net", secretValues: { WEBHOOK_GITHUB_PUSH_SECRET: "s" } })).toThrow(
            'AgentService "pesti": webhooks github-push register with GitHub and need webhookBaseUrl',
        );
        expect(run.resources).toHaveLength(0);
    });

    it("adds nothing to an agent without webhooks: no WEBHOOKS env, so no running agent is replaced", async () => {
        await declare({});
        const [container] = run.byType(DOCKER_TYPES.container);
        expect((container.inputs.envs as string[]).some((e) => e.startsWith("WEBHOOKS="))).toBe(false);
        expect(run.byType(WEBHOOK)).toHaveLength(0);
    });
});
