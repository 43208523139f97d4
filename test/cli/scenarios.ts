/**
 * Unsafe fleet configs, one policy each, for the `fleet check` tests. Each
 * starts from a safe fleet (SAFE_AGENTS on the repo's catalog) and breaks one
 * rule the way a person editing a stack file (or a program transform) would.
 */
import * as path from "path";
import { REPO } from "./project";

export const CHANNELS = {
    "ops-slack": { type: "slack", urlSecret: "opsSlackWebhookUrl", minSeverity: "warning" },
    pager: { type: "webhook", urlSecret: "pagerWebhookUrl", signingSecret: "pagerSigningSecret", minSeverity: "critical" },
};

/** Per-stack entries that, with stacks/catalog.yaml, pass every policy in staging and production. */
export const SAFE_AGENTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
    pesti: {
        image: "ghcr.io/acme/pesti:1.4.2",
        rollbackImage: "ghcr.io/acme/pesti:1.4.1",
        secrets: { OPENAI_API_KEY: "openaiApiKey", CRM_TOKEN: "crmToken" },
        alertChannels: ["ops-slack", "pager"],
        featureFlags: [{ name: "smart-followups", currentStage: "team" }],
    },
    jarvis: {
        image: "ghcr.io/acme/jarvis:2.2.4",
        rollbackImage: "ghcr.io/acme/jarvis:2.2.3",
        secrets: { CALENDAR_TOKEN: "calendarToken" },
        alertChannels: ["ops-slack"],
    },
    "email-agent": {
        image: "ghcr.io/acme/email-agent:0.9.0",
        rollbackImage: "ghcr.io/acme/email-agent:0.8.6",
        alertChannels: ["ops-slack"],
    },
    "research-agent": {
        image: "ghcr.io/acme/research-agent:0.3.7",
        rollbackImage: "ghcr.io/acme/research-agent:0.3.6",
    },
    "outreach-agent": {
        image: "ghcr.io/acme/outreach-agent:1.0.3",
        rollbackImage: "ghcr.io/acme/outreach-agent:1.0.2",
    },
};

/** An agent that is in no catalog, so the stack file sets every field. */
const LEAD_SCORER = {
    tier: 1,
    owner: "@acme/sales-eng",
    port: 8080,
    memory: "256Mi",
    image: "ghcr.io/acme/lead-scorer:1.0.0",
    rollbackImage: "ghcr.io/acme/lead-scorer:0.9.0",
};

export type Environment = "dev" | "staging" | "production";

/** A stack's `fleet` value: the safe agents named, each with its override merged over it (shallowly). */
export function fleetOf(
    environment: Environment,
    agents: Readonly<Record<string, Readonly<Record<string, unknown>>>>,
    channels: unknown = CHANNELS,
): Record<string, unknown> {
    return {
        environment,
        channels,
        // Outside dev the sentinel and its proxy run released images, as the agents do.
        ...(environment === "dev" ? {} : { sentinel: PULLED_SENTINEL }),
        agents: Object.fromEntries(Object.entries(agents).map(([name, override]) => [name, { ...SAFE_AGENTS[name], ...override }])),
    };
}

/** The sentinel as staging and production run it: both images released and pulled. */
const PULLED_SENTINEL = { image: "ghcr.io/acme/agent-fleet-sentinel:0.1.0", proxyImage: "ghcr.io/acme/agent-fleet-docker-proxy:0.1.0" };

/** A program of its own: the real index.ts, plus a container transform that turns crash recovery off. */
const RESTART_OFF_PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { Fleet } from ${JSON.stringify(path.join(REPO, "components"))};
import { loadStackFleet } from ${JSON.stringify(path.join(REPO, "config"))};

const config = new pulumi.Config();
new Fleet("fleet", {
    spec: loadStackFleet({ projectRoot: process.cwd() }),
    secretConfig: (key) => config.requireSecret(key),
    // What agent-restart-policy is there to catch: a transform that disables restarts.
    transform: { agent: { container: (args) => { args.restart = "no"; } } },
});
`;

/** The same, on the swarm runtime: a service transform that turns task restarts off. */
const SWARM_RESTART_OFF_PROGRAM = RESTART_OFF_PROGRAM.replace(
    "container: (args) => { args.restart = \"no\"; }",
    "service: (args) => { (args.taskSpec as { restartPolicy?: unknown }).restartPolicy = { condition: \"none\", delay: \"5s\", window: \"5s\" }; }",
);

/** A stack's `fleet` value on the swarm runtime. */
export function swarmFleetOf(environment: Environment, agents: Readonly<Record<string, Readonly<Record<string, unknown>>>>): Record<string, unknown> {
    return { ...fleetOf(environment, agents), runtime: "swarm" };
}

/** The real index.ts plus a webhook transform that lets GitHub skip TLS verification. */
const WEBHOOK_TLS_OFF_PROGRAM = RESTART_OFF_PROGRAM.replace(
    "container: (args) => { args.restart = \"no\"; }",
    "repositoryWebhook: (args) => { args.configuration = pulumi.output(args.configuration).apply((c) => ({ ...c!, insecureSsl: true })); }",
);

const HOOK = (path: string, secret: string) => ({ name: "crm-updates", source: "generic", path, secret });
const GITHUB_HOOK = { name: "github-push", source: "github", path: "/webhooks/research", secret: "researchHookSecret", repository: "acme/research", events: ["push"] };

export interface Scenario {
    readonly name: string;
    /** The one policy that must fail, mandatory. */
    readonly policy: string;
    /** The agent the violation must name; null for the fleet as a whole. */
    readonly agent: string | null;
    /** The stack file and field the message must point at. */
    readonly field: string;
    readonly stack: Environment;
    readonly fleet: Record<string, unknown>;
    readonly program?: string;
    /** Use the repo's stacks/policy.<stack>.json. */
    readonly repoPolicyConfig?: boolean;
    /** More stack config beside the fleet, by full key (the GitHub side). */
    readonly config?: Record<string, unknown>;
    /** Policy levels besides the defaults (stacks/policy.<stack>.json). */
    readonly policyLevels?: Record<string, string>;
}

/** The edge, on a pinned image, as staging and production declare it. */
const EDGE = { hostname: "agents.acme.dev", image: "caddy:2.8.4" };
/** A stack that takes its webhooks behind a proxy or tunnel of its own turns webhook-edge off: webhook-https then judges that proxy's URL. */
const OWN_PROXY = { "webhook-edge": "disabled" };

const flag = (stages: unknown[]) => [{ name: "smart-followups", stages }];

/** A year after any clock this suite runs under: a record dated then has not happened yet. */
const FUTURE = "2099-01-01T00:00:00Z";

/** The governance example of the README, with one Actions variable. */
const governanceWithVariable = (value: string) => ({
    "agent-fleet:github": { repository: "acme/agent-fleet", productionReviewers: { teams: [4567890] }, actionsVariables: { FLEET_NOTES: value } },
});
// Prefixes are split so that secret scanners never mistake this file for a leak.
const FAKE_OPENAI_KEY = "sk" + "-" + "Seed0Seed1Seed2Seed3Seed4Seed5";

export const SCENARIOS: readonly Scenario[] = [
    {
        name: "healthcheck interval of 2m",
        policy: "agent-healthcheck", agent: "research-agent", field: "fleet.agents.research-agent.healthcheck.interval",
        stack: "production", fleet: fleetOf("production", { "research-agent": { healthcheck: { interval: "2m" } } }),
    },
    {
        name: "healthcheck retries below the tier 3 minimum",
        policy: "agent-healthcheck", agent: "pesti", field: "fleet.agents.pesti.healthcheck.retries",
        stack: "production", fleet: fleetOf("production", { pesti: { healthcheck: { retries: 2 } } }),
    },
    {
        name: "healthcheck command that tests nothing",
        policy: "agent-healthcheck", agent: "outreach-agent", field: "fleet.agents.outreach-agent.healthcheck",
        stack: "staging", fleet: fleetOf("staging", { "outreach-agent": { healthcheck: { command: ["CMD-SHELL", " "] } } }),
    },
    {
        name: "a healthcheck that cannot fail (|| true)",
        policy: "agent-healthcheck", agent: "jarvis", field: "fleet.agents.jarvis.healthcheck.command",
        stack: "production", fleet: fleetOf("production", { jarvis: { healthcheck: { command: ["CMD-SHELL", "curl -f http://127.0.0.1:8080/health || true"] } } }),
    },
    {
        name: "a program transform that sets the restart policy to no",
        policy: "agent-restart-policy", agent: "research-agent", field: "fleet.agents.research-agent",
        stack: "production", fleet: fleetOf("production", { "research-agent": {} }), program: RESTART_OFF_PROGRAM,
    },
    {
        name: "a credential-named variable in env",
        policy: "no-plaintext-secrets", agent: "research-agent", field: "fleet.agents.research-agent.env.CRM_TOKEN",
        stack: "production", fleet: fleetOf("production", { "research-agent": { env: { LOG_LEVEL: "info", CRM_TOKEN: "crm-123" } } }),
    },
    {
        name: "an sk- API key as a plain env value",
        policy: "no-plaintext-secrets", agent: "outreach-agent", field: "fleet.agents.outreach-agent.env.MODEL_HINT",
        stack: "staging", fleet: fleetOf("staging", { "outreach-agent": { env: { MODEL_HINT: "sk-live0123456789abcdefghij" } } }),
    },
    {
        name: "a credential in env in dev, where the dev policy config keeps that policy mandatory",
        policy: "no-plaintext-secrets", agent: "research-agent", field: "fleet.agents.research-agent.env.GITHUB_TOKEN",
        stack: "dev", repoPolicyConfig: true,
        fleet: fleetOf("dev", { "research-agent": { env: { GITHUB_TOKEN: "dev-token" } } }),
    },
    {
        name: "a Stripe-style live key as a plain env value",
        policy: "no-plaintext-secrets", agent: "jarvis", field: "fleet.agents.jarvis.env.BILLING_HINT",
        stack: "production", fleet: fleetOf("production", { jarvis: { env: { LOG_LEVEL: "info", BILLING_HINT: "sk" + "_live_" + "4eC39HqLyjWDarjtT1zdp7dc" } } }),
    },
    {
        name: "an env name that abbreviates the credential (_PAT)",
        policy: "no-plaintext-secrets", agent: "research-agent", field: "fleet.agents.research-agent.env.GH_PAT",
        stack: "staging", fleet: fleetOf("staging", { "research-agent": { env: { LOG_LEVEL: "info", GH_PAT: "not-shown" } } }),
    },
    {
        name: "a credential in the healthcheck command",
        policy: "no-plaintext-secrets", agent: "email-agent", field: "fleet.agents.email-agent.healthcheck.command",
        stack: "production",
        fleet: fleetOf("production", { "email-agent": { healthcheck: { command: ["CMD", "wget", "-qO-", "https://probe:" + "s3cr3tPassw0rd" + "@127.0.0.1:8080/health"] } } }),
    },
    {
        name: "the latest tag in production",
        policy: "pinned-images", agent: "research-agent", field: "fleet.agents.research-agent.image",
        stack: "production", fleet: fleetOf("production", { "research-agent": { image: "ghcr.io/acme/research-agent:latest" } }),
    },
    {
        name: "the production stack declaring environment dev to dodge the production policies",
        policy: "pinned-images", agent: "research-agent", field: "fleet.agents.research-agent.image",
        stack: "production", fleet: { ...fleetOf("production", { "research-agent": { image: "ghcr.io/acme/research-agent:latest" } }), environment: "dev" },
    },
    {
        name: "an untagged image in staging",
        policy: "pinned-images", agent: "email-agent", field: "fleet.agents.email-agent.image",
        stack: "staging", fleet: fleetOf("staging", { "email-agent": { image: "ghcr.io/acme/email-agent" } }),
    },
    {
        name: "no rollbackImage in production",
        policy: "rollback-image", agent: "outreach-agent", field: "fleet.agents.outreach-agent.rollbackImage",
        stack: "production", fleet: fleetOf("production", { "outreach-agent": { rollbackImage: undefined } }),
    },
    {
        name: "a rollbackImage equal to the image",
        policy: "rollback-image", agent: "research-agent", field: "fleet.agents.research-agent.rollbackImage",
        stack: "production", fleet: fleetOf("production", { "research-agent": { rollbackImage: "ghcr.io/acme/research-agent:0.3.7" } }),
    },
    {
        name: "a rollbackImage that is the image's digest under the previous tag",
        policy: "rollback-image", agent: "jarvis", field: "fleet.agents.jarvis.rollbackImage",
        stack: "production",
        fleet: fleetOf("production", { jarvis: { image: `ghcr.io/acme/jarvis:2.2.4@sha256:${"ab".repeat(32)}`, rollbackImage: `ghcr.io/acme/jarvis:2.2.3@sha256:${"ab".repeat(32)}` } }),
    },
    {
        name: "a tier 2 agent without an alert channel",
        policy: "tier-monitoring", agent: "email-agent", field: "fleet.agents.email-agent.alertChannels",
        stack: "production", fleet: fleetOf("production", { "email-agent": { alertChannels: [] } }),
    },
    {
        name: "a tier 2 agent without a smoke check",
        policy: "tier-monitoring", agent: "jarvis", field: "fleet.agents.jarvis.smokeChecks",
        stack: "staging", fleet: fleetOf("staging", { jarvis: { smokeChecks: [] } }),
    },
    {
        name: "a tier 2 agent watched for 30m in production",
        policy: "tier-monitoring", agent: "email-agent", field: "fleet.agents.email-agent.monitorWindow",
        stack: "production", fleet: fleetOf("production", { "email-agent": { monitorWindow: "30m" } }),
    },
    {
        name: "a tier 2 agent that tolerates 50% errors",
        policy: "tier-monitoring", agent: "jarvis", field: "fleet.agents.jarvis.errorRateLimit",
        stack: "production", fleet: fleetOf("production", { jarvis: { errorRateLimit: 50 } }),
    },
    {
        name: "a tier 3 agent without a feature flag",
        policy: "tier3-feature-flags", agent: "pesti", field: "fleet.agents.pesti.featureFlags",
        stack: "production", fleet: fleetOf("production", { pesti: { featureFlags: [] } }),
    },
    {
        name: "a tier 3 rollout that starts at 50%",
        policy: "tier3-feature-flags", agent: "pesti", field: "fleet.agents.pesti.featureFlags[0].stages",
        stack: "production", fleet: fleetOf("production", { pesti: { featureFlags: flag(["50%", "100%"]) } }),
    },
    {
        name: "a tier 3 rollout with a descending stage",
        policy: "tier3-feature-flags", agent: "pesti", field: "fleet.agents.pesti.featureFlags[0].stages",
        stack: "staging",
        fleet: fleetOf("staging", { pesti: { featureFlags: flag(["off", { stage: "team", soak: "4h" }, { stage: "10%", soak: "24h" }, { stage: "5%", soak: "24h" }, "100%"]) } }),
    },
    {
        name: "a tier 3 rollout whose first audience is 25%",
        policy: "tier3-feature-flags", agent: "pesti", field: "fleet.agents.pesti.featureFlags[0].stages",
        stack: "production",
        fleet: fleetOf("production", { pesti: { featureFlags: flag(["off", { stage: "team", soak: "4h" }, { stage: "25%", soak: "24h" }, "100%"]) } }),
    },
    {
        name: "a tier 3 rollout that soaks 1h before 100%",
        policy: "tier3-feature-flags", agent: "pesti", field: "fleet.agents.pesti.featureFlags[0].stages[2].soak",
        stack: "production",
        fleet: fleetOf("production", { pesti: { featureFlags: flag(["off", { stage: "team", soak: "4h" }, { stage: "10%", soak: "1h" }, "100%"]) } }),
    },
    {
        name: "a tier 3 flag whose recorded rollout jumped from team to 100%",
        policy: "flag-rollout-history", agent: "pesti", field: "fleet.agents.pesti.featureFlags[0].history[1]",
        stack: "production",
        fleet: fleetOf("production", { pesti: { featureFlags: [{ name: "smart-followups", currentStage: "100%", history: [{ stage: "team", since: "2026-11-20T09:00:00Z" }, { stage: "100%", since: "2026-11-21T09:00:00Z" }] }] } }),
    },
    {
        name: "a production agent without a memory limit",
        policy: "production-memory-limits", agent: "lead-scorer", field: "fleet.agents.lead-scorer.memory",
        stack: "production", fleet: { environment: "production", channels: CHANNELS, sentinel: PULLED_SENTINEL, agents: { "lead-scorer": { ...LEAD_SCORER, memory: undefined } } },
    },
    {
        name: "a waitTimeout shorter than the health gate",
        policy: "health-gate-timing", agent: "research-agent", field: "fleet.agents.research-agent.waitTimeout",
        stack: "production", fleet: fleetOf("production", { "research-agent": { waitTimeout: "20s" } }),
    },
    {
        name: "production without a channel that hears errors",
        policy: "production-alert-channel", agent: null, field: "fleet.channels",
        stack: "production", fleet: fleetOf("production", { "research-agent": {} }, { pager: CHANNELS.pager }),
    },
    {
        name: "a production stack file that lists no agents",
        policy: "fleet-not-empty", agent: null, field: "fleet.agents",
        stack: "production", fleet: { environment: "production", channels: CHANNELS, sentinel: PULLED_SENTINEL, agents: {} },
    },
    {
        name: "an agent without an owner",
        policy: "agent-owner", agent: "lead-scorer", field: "fleet.agents.lead-scorer.owner",
        stack: "staging", fleet: { environment: "staging", channels: CHANNELS, sentinel: PULLED_SENTINEL, agents: { "lead-scorer": { ...LEAD_SCORER, owner: undefined } } },
    },
    {
        name: "two agents on one host port",
        // Agents are declared in name order, so the second claimant of the port is research-agent.
        policy: "unique-host-ports", agent: "research-agent", field: "fleet.agents.research-agent.hostPort",
        stack: "production", fleet: fleetOf("production", { "outreach-agent": { hostPort: 9400 }, "research-agent": { hostPort: 9400 } }),
    },
    {
        name: "an alert channel that is not declared",
        policy: "alert-channels-exist", agent: "research-agent", field: "fleet.agents.research-agent.alertChannels[1]",
        stack: "production", fleet: fleetOf("production", { "research-agent": { alertChannels: ["ops-slack", "war-room"] } }),
    },
    {
        name: "swarm: a healthcheck interval of 2m on a service",
        policy: "agent-healthcheck", agent: "research-agent", field: "fleet.agents.research-agent.healthcheck.interval",
        stack: "production", fleet: swarmFleetOf("production", { "research-agent": { healthcheck: { interval: "2m" } } }),
    },
    {
        name: "swarm: a program transform that sets the service's restart condition to none",
        policy: "agent-restart-policy", agent: "research-agent", field: "fleet.agents.research-agent",
        stack: "production", fleet: swarmFleetOf("production", { "research-agent": {} }), program: SWARM_RESTART_OFF_PROGRAM,
    },
    {
        name: "swarm: two services on one host port",
        policy: "unique-host-ports", agent: "research-agent", field: "fleet.agents.research-agent.hostPort",
        stack: "production", fleet: swarmFleetOf("production", { "outreach-agent": { hostPort: 9400 }, "research-agent": { hostPort: 9400 } }),
    },
    {
        name: "webhooks under an http base URL in staging",
        policy: "webhook-https", agent: null, field: "fleet.webhookBaseUrl", policyLevels: OWN_PROXY,
        stack: "staging", fleet: { ...fleetOf("staging", { "research-agent": { webhooks: [HOOK("/webhooks/crm", "crmHookSecret")] } }), webhookBaseUrl: "http://hooks.acme.dev" },
    },
    {
        name: "two agents on one webhook path",
        policy: "unique-webhooks", agent: "research-agent", field: "fleet.agents.research-agent.webhooks[0].path", policyLevels: OWN_PROXY,
        stack: "production", fleet: {
            ...fleetOf("production", { "outreach-agent": { webhooks: [HOOK("/webhooks/crm", "outreachHookSecret")] }, "research-agent": { webhooks: [HOOK("/webhooks/crm", "researchHookSecret")] } }),
            webhookBaseUrl: "https://hooks.acme.dev",
        },
    },
    {
        name: "a program transform that lets GitHub skip TLS verification",
        policy: "webhook-signing", agent: "research-agent", field: "fleet.agents.research-agent.webhooks[0]",
        stack: "production", fleet: { ...fleetOf("production", { "research-agent": { webhooks: [GITHUB_HOOK], expose: "research.acme.dev" } }), edge: EDGE }, program: WEBHOOK_TLS_OFF_PROGRAM,
    },
    {
        name: "a flag history whose 10% → 100% step is dated in the future, so its soak looks served",
        policy: "flag-rollout-history", agent: "pesti", field: "fleet.agents.pesti.featureFlags[0].history[3].since",
        stack: "production", fleet: fleetOf("production", { pesti: { featureFlags: [{ name: "smart-followups", currentStage: "100%", history: [
            { stage: "off", since: "2026-11-01T09:00:00Z" }, { stage: "team", since: "2026-11-02T09:00:00Z" },
            { stage: "10%", since: "2026-11-03T09:00:00Z" }, { stage: "100%", since: FUTURE },
        ] }] } }),
    },
    {
        name: "a flag history that begins at 100%, with no record of 10% or its soak",
        policy: "flag-rollout-history", agent: "pesti", field: "fleet.agents.pesti.featureFlags[0].history[0]",
        stack: "production", fleet: fleetOf("production", { pesti: { featureFlags: [{ name: "smart-followups", currentStage: "100%", history: [{ stage: "100%", since: "2026-11-01T09:00:00Z" }] }] } }),
    },
    {
        name: "one GitHub repository written two ways (acme/CRM, acme/crm) on one webhook path",
        policy: "unique-webhooks", agent: "research-agent", field: "fleet.agents.research-agent.webhooks[0].events",
        stack: "production", fleet: {
            ...fleetOf("production", {
                "outreach-agent": { webhooks: [{ ...GITHUB_HOOK, path: "/webhooks/outreach", secret: "outreachHookSecret", repository: "acme/CRM" }], expose: "/api/agents/outreach" },
                "research-agent": { webhooks: [{ ...GITHUB_HOOK, repository: "acme/crm" }], expose: "/api/agents/research" },
            }),
            edge: EDGE,
        },
    },
    {
        name: "a tier 2 agent routed only to a pager that hears critical, deaf to its own rolled_back warning",
        policy: "alert-route-severity", agent: "jarvis", field: "fleet.agents.jarvis.alertChannels",
        stack: "production", fleet: fleetOf("production", { jarvis: { alertChannels: ["pager"] } }),
    },
    {
        name: "a production sentinel turned off while tier 2 agents need watching",
        policy: "sentinel-watch", agent: null, field: "fleet.sentinel.enabled",
        stack: "production", fleet: { ...fleetOf("production", { jarvis: {} }), sentinel: { enabled: false } },
    },
    {
        name: "a generic webhook in staging with no base URL to deliver to over https",
        policy: "webhook-https", agent: null, field: "fleet.webhookBaseUrl", policyLevels: OWN_PROXY,
        stack: "staging", fleet: fleetOf("staging", { "research-agent": { webhooks: [HOOK("/webhooks/crm", "crmHookSecret")] } }),
    },
    {
        name: "an API key as an Actions variable",
        policy: "no-plaintext-secrets", agent: null, field: "github.actionsVariables.FLEET_NOTES",
        stack: "production", fleet: fleetOf("production", { "research-agent": {} }), config: governanceWithVariable(FAKE_OPENAI_KEY),
    },
    {
        name: "a production agent taking webhooks at a raw host port behind a proxy of its own, not through the edge",
        policy: "webhook-edge", agent: "research-agent", field: "fleet.agents.research-agent.expose",
        stack: "production", fleet: { ...fleetOf("production", { "research-agent": { webhooks: [HOOK("/webhooks/crm", "crmHookSecret")], hostPort: 9400 } }), webhookBaseUrl: "https://hooks.acme.dev" },
    },
    {
        name: "the edge on caddy:2-alpine, a moving tag, in production",
        policy: "pinned-images", agent: null, field: "fleet.edge.image",
        stack: "production", fleet: { ...fleetOf("production", { "research-agent": { expose: "research.acme.dev" } }), edge: { hostname: "agents.acme.dev" } },
    },
];
