/**
 * Every environment variable the fleet itself sets in an agent, and which
 * feature sets it: the one list the platform's env, the webhooks, the Swarm
 * runtime and the loader's "reserved name" check all read. A name set here
 * can never be set by hand in an agent's `env`.
 */

/** Set in every agent (components/agent-service: platformEnv). */
export const PLATFORM_ENV = {
    AGENT_NAME: "AGENT_NAME",
    AGENT_VERSION: "AGENT_VERSION",
    FLEET_ENVIRONMENT: "FLEET_ENVIRONMENT",
    PORT: "PORT",
    FEATURE_FLAGS: "FEATURE_FLAGS",
} as const;

/** Set in an agent that takes webhooks: what they are, as JSON. */
export const WEBHOOKS_ENV = "WEBHOOKS";

/** The env var a webhook's secret reaches the agent in: "github-push" → WEBHOOK_GITHUB_PUSH_SECRET. */
export function webhookSecretEnv(webhookName: string): string {
    return `WEBHOOK_${webhookName.toUpperCase().replace(/-/g, "_")}_SECRET`;
}

/** Under Swarm, the env var that tells an agent where a secret is mounted: `<NAME>_FILE=/run/secrets/<NAME>` (the Docker images' convention). */
export function secretFileEnv(envName: string): string {
    return `${envName}_FILE`;
}

/** What the fleet sets in one agent, name → the feature that sets it (for the loader's messages). */
export function fleetOwnedEnv(agent: { readonly webhooks: readonly string[]; readonly secrets: readonly string[]; readonly runtime: string }): Map<string, string> {
    const owned = new Map<string, string>(Object.values(PLATFORM_ENV).map((name) => [name, "the fleet, in every agent"]));
    // Reserved whether or not the agent has webhooks yet: adding one must not silently override a hand-set value.
    owned.set(WEBHOOKS_ENV, "the fleet's webhooks (their list, in every agent that takes webhooks)");
    for (const webhook of agent.webhooks) owned.set(webhookSecretEnv(webhook), `webhook "${webhook}", which carries its secret in it`);
    if (agent.runtime === "swarm") {
        for (const secret of agent.secrets) owned.set(secretFileEnv(secret), `the swarm runtime, which tells the agent where secret ${secret} is mounted`);
    }
    return owned;
}
