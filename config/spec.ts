/**
 * Resolved fleet specs: what the components deploy and the policies judge.
 * Every default is applied and every duration is in milliseconds.
 */
import type { ChannelType, EngineHealthFeatures, Environment, Severity, SmokeCheck } from "../contract";
import type { RuntimeName, WebhookSource } from "./schema";
import type { HostSpec, RegistrySpec } from "./hosts";
import type { Tier } from "./tiers";

export interface HealthcheckSpec {
    /** HTTP path the default probe requests. */
    readonly path: string;
    readonly intervalMs: number;
    readonly timeoutMs: number;
    /** Consecutive failures before Docker marks the agent unhealthy. */
    readonly retries: number;
    readonly startPeriodMs: number;
    /** How often Docker probes during the start period, where the engine supports it (the tier's `startInterval`). */
    readonly startIntervalMs: number;
    /**
     * The probe interval on engines without start_interval, when the agent sets
     * `healthcheck.startInterval` itself: the longer of it and the tier's
     * `startIntervalFallback`. Undefined: there it probes every `interval`, as
     * a shorter probe would cost that much CPU for the agent's whole life.
     */
    readonly fallbackIntervalMs?: number;
    /** Exec-form test command; undefined means the default node probe of `path`. */
    readonly command?: readonly string[];
}

/**
 * How long Docker takes, at most, to call an agent unhealthy: failures in the
 * start period do not count, then `retries` probes `interval` apart must fail.
 * The health gate, the watch window and Swarm's update watch are all measured
 * against it.
 */
export function timeToUnhealthyMs(healthcheck: Pick<HealthcheckSpec, "startPeriodMs" | "intervalMs" | "retries">): number {
    return healthcheck.startPeriodMs + healthcheck.intervalMs * healthcheck.retries;
}

/**
 * How often Docker probes a running agent on an engine: its `interval`, or on
 * an engine without start_interval, when the agent asks for it, the shorter
 * `fallbackIntervalMs`, with retries scaled to the same time to unhealthy
 * (components/runtimes/healthcheck.ts). `fleet doctor` weighs what it costs.
 */
export function probeIntervalMs(healthcheck: Pick<HealthcheckSpec, "intervalMs" | "fallbackIntervalMs">, engine: EngineHealthFeatures): number {
    const fallbackMs = healthcheck.fallbackIntervalMs;
    return !engine.startInterval && fallbackMs !== undefined && fallbackMs < healthcheck.intervalMs ? fallbackMs : healthcheck.intervalMs;
}

/** A smoke check as the agent's spec holds it: the contract's one type (contract/watch.ts). */
type SmokeCheckSpec = SmokeCheck;

interface RolloutStageSpec {
    /** "off", "team" or "N%". */
    readonly stage: string;
    readonly soakMs?: number;
}

/** A stage a flag entered, and when (see `fleet flag`). */
interface StageRecordSpec {
    readonly stage: string;
    /** ISO time. */
    readonly since: string;
    /** `fleet flag --force` skipped a stage or cut a soak short to get here. */
    readonly forced: boolean;
}

export interface FeatureFlagSpec {
    readonly name: string;
    readonly stages: readonly RolloutStageSpec[];
    /** Where the rollout is now; new flags start at the first stage. */
    readonly currentStage: string;
    /** Stages entered, oldest first; empty when nothing was recorded. The last one is the current stage. */
    readonly history: readonly StageRecordSpec[];
}

interface ImageBuildSpec {
    /** Build context, relative to the project root. */
    readonly context: string;
    readonly dockerfile?: string;
    readonly args: Readonly<Record<string, string>>;
}

/** An inbound webhook of an agent (see `webhooks` in the fleet config). */
export interface WebhookSpec {
    readonly name: string;
    readonly source: WebhookSource;
    readonly path: string;
    /** Secret stack config key of the signing secret. */
    readonly secretKey: string;
    /** The env var that carries the secret to the agent: WEBHOOK_<NAME>_SECRET (also in the agent's `secrets`). */
    readonly secretEnv: string;
    /** github: "owner/name". */
    readonly repository?: string;
    /** github: the events; empty for generic. */
    readonly events: readonly string[];
}

export interface AgentSpec {
    readonly name: string;
    readonly environment: Environment;
    readonly tier: Tier;
    readonly owner?: string;
    /** Image reference: a tag or a digest. */
    readonly image: string;
    /** Set when the image is built locally (dev) instead of pulled. */
    readonly build?: ImageBuildSpec;
    /** The previous known-good image: tier 1's rollback plan. */
    readonly rollbackImage?: string;
    /** From config, else the image tag or digest. */
    readonly version: string;
    /** Port the agent listens on inside the container. */
    readonly port: number;
    /** Fixed host port; undefined lets Docker pick one, which allows create-before-delete. */
    readonly hostPort?: number;
    /** Fixed container name; undefined lets Pulumi auto-name, which allows create-before-delete. */
    readonly containerName?: string;
    readonly healthcheck: HealthcheckSpec;
    /** Plain environment variables. */
    readonly env: Readonly<Record<string, string>>;
    /** Environment variable name → name of the secret stack config key holding its value. */
    readonly secrets: Readonly<Record<string, string>>;
    readonly memoryMb?: number;
    readonly cpus?: number;
    readonly replicas: number;
    /** Channels that hear the agent: those it names, plus those that route to it by tier or by name (the loader adds them). */
    readonly alertChannels: readonly string[];
    readonly monitorWindowMs: number;
    /** How long `pulumi up` waits for the agent to turn healthy. */
    readonly waitTimeoutMs: number;
    readonly errorRateLimitPercent?: number;
    readonly smokeChecks: readonly SmokeCheckSpec[];
    readonly featureFlags: readonly FeatureFlagSpec[];
    readonly stopGraceMs: number;
    readonly restartMaxRetries: number;
    readonly user: string;
    readonly readOnlyRootFilesystem: boolean;
    /** Inbound webhooks the agent takes; their secrets are in `secrets` too. */
    readonly webhooks: readonly WebhookSpec[];
    /** Where Swarm may place the agent's tasks; empty: any node. Runtime swarm only. */
    readonly placementConstraints: readonly string[];
    /**
     * The hosts (`fleet.hosts`) that run the agent, `replicas` on each; empty when the stack names no hosts
     * (its one engine runs it). Where it runs, not what runs: left out of the spec hash.
     */
    readonly hosts: readonly string[];
    /** How the edge reaches it from outside (`expose`); undefined: not exposed. */
    readonly expose?: AgentExposure;
}

/**
 * An exposed agent's public address: a hostname of its own, or a path prefix
 * under the edge's hostname, and the https URL that makes of it.
 */
export type AgentExposure = ({ readonly hostname: string } | { readonly pathPrefix: string }) & {
    /** The agent's public base URL through the edge, without a trailing slash: "https://pesti.acme.dev", "https://agents.acme.dev/api/agents/jarvis". */
    readonly url: string;
};

/** The https origin the edge answers for `hostname` on: the port shows only when it is not 443. */
export function edgeOrigin(edge: Pick<EdgeSpec, "httpsPort">, hostname: string): string {
    return `https://${hostname}${edge.httpsPort === 443 ? "" : `:${edge.httpsPort}`}`;
}

/**
 * Where senders deliver the agent's webhooks: its public URL when the edge
 * exposes it, else the stack's `fleet.webhookBaseUrl` (the user's own proxy
 * or tunnel); undefined when it has neither.
 */
export function webhookBaseUrlOf(agent: Pick<AgentSpec, "expose">, fleet: Pick<FleetSpec, "webhookBaseUrl">): string | undefined {
    return agent.expose?.url ?? fleet.webhookBaseUrl;
}

/** `fleet.edge`, resolved: the HTTPS proxy on each host. */
export interface EdgeSpec {
    readonly hostname: string;
    readonly tls: "acme" | "internal";
    readonly acmeEmail?: string;
    readonly acmeCa?: string;
    /** PEM of the root the ACME directory's TLS chains to (a private ACME CA). */
    readonly acmeCaRoot?: string;
    readonly image: string;
    readonly httpPort: number;
    readonly httpsPort: number;
    readonly listenAddress: string;
    readonly maxBodyBytes: number;
    /** Runtime swarm: the nodes its global service runs on; empty under the container runtime. */
    readonly placementConstraints: readonly string[];
}

export interface ChannelSpec {
    readonly name: string;
    readonly type: ChannelType;
    /** Name of the secret stack config key that holds the webhook URL. */
    readonly urlSecret: string;
    /** Name of the secret stack config key that holds the HMAC signing secret; set for every webhook channel. */
    readonly signingSecret?: string;
    readonly minSeverity: Severity;
    /** Tiers whose every agent the channel hears (the loader adds the channel to those agents' alertChannels); empty for none. */
    readonly tiers: readonly Tier[];
    /** Agents the channel hears by name; empty for none. Agents that list the channel in alertChannels hear it too. */
    readonly agents: readonly string[];
}

/** The sentinel the stack deploys next to the agents (see agents/sentinel). */
export interface SentinelSpec {
    readonly image: string;
    /** Built locally when set; pulled otherwise. */
    readonly build?: ImageBuildSpec;
    readonly reminderAfterMs: number;
    /** Host path of the Docker socket, mounted read-only into the docker proxy (never into the sentinel). */
    readonly dockerSocket: string;
    /** Group id that may read the socket: the proxy runs as nobody in it; undefined: the proxy runs as root, whatever the host's socket group. */
    readonly socketGroup?: number;
    /** The filtering proxy between the sentinel and the socket (agents/docker-proxy): only the read endpoints the sentinel uses. */
    readonly proxy: { readonly image: string; readonly build?: ImageBuildSpec };
}

export interface FleetSpec {
    readonly stack: string;
    /** Display path of the stack file, e.g. "stacks/Pulumi.production.yaml": where fixes go. */
    readonly stackFile: string;
    readonly environment: Environment;
    readonly runtime: RuntimeName;
    readonly channels: readonly ChannelSpec[];
    /** Sorted by name so that resource order never depends on YAML key order. */
    readonly agents: readonly AgentSpec[];
    /**
     * Per agent that builds its image, what the build is made from: the commit that last changed its
     * build context, with "-dirty" when the working tree changes it further (config/build-version.ts).
     * Set by the program, not the loader; it becomes the agent's version label and AGENT_VERSION.
     */
    readonly builtVersions?: Readonly<Record<string, string>>;
    /** The stack file says an empty agent list is intended (`fleet.allowEmpty`). */
    readonly allowEmpty: boolean;
    /** The sentinel to deploy; undefined when there is none (no channel, or `fleet.sentinel.enabled: false`). */
    readonly sentinel?: SentinelSpec;
    /** Public base URL of the agents' webhook paths (`fleet.webhookBaseUrl`), without a trailing slash. */
    readonly webhookBaseUrl?: string;
    /** The servers the stack deploys to (`fleet.hosts`), by name; empty: one engine (`docker:host`, DOCKER_HOST or the local socket). */
    readonly hosts: readonly HostSpec[];
    /** The HTTPS edge (`fleet.edge`); undefined when the stack declares none. */
    readonly edge?: EdgeSpec;
    /** Registry logins every host's provider pulls with (`fleet.registries`); empty for none. */
    readonly registries: readonly RegistrySpec[];
}
