/**
 * The names the program, the policy pack and the CLI agree on: component type
 * tokens, the provider types the policies read, container labels and where a
 * stack's file lives. Dependency-free, so the policy pack can import it.
 */

/** Pulumi type tokens of this project's components. */
export const COMPONENT_TYPES = {
    fleet: "agent-fleet:index:Fleet",
    agentService: "agent-fleet:index:AgentService",
    sentinel: "agent-fleet:index:Sentinel",
    githubGovernance: "agent-fleet:index:GithubGovernance",
    edge: "agent-fleet:index:Edge",
} as const;

/** The type token of the edge's routes: a dynamic resource (components/edge/routes.ts) of module agent-fleet, type EdgeRoutes. */
export const EDGE_ROUTES_TYPE = "pulumi-nodejs:dynamic/agent-fleet:EdgeRoutes";

/** The edge container's role label (LABELS.role), by which `fleet verify` finds it on a host. */
export const EDGE_ROLE = "edge";
/** Where the edge keeps its data (certificates, its CA, the last routes): a volume, mounted here as Caddy's XDG_DATA_HOME. */
export const EDGE_DATA_DIR = "/data";
/** The response header in which the edge names the agent behind an answer; its access log records it, `fleet verify` reads it. */
export const EDGE_AGENT_HEADER = "X-Agent-Fleet-Agent";
/**
 * How long the edge keeps trying the agent's containers for one request before it answers 502 itself: a
 * client of the edge (fleet verify) waits at least this long more than it would for the agent alone.
 */
export const EDGE_TRY_DURATION_MS = 5_000;
/** The root certificate of the edge's own CA (tls: internal), inside its container: what a client of the edge trusts. */
export const EDGE_INTERNAL_ROOT_CERT = `${EDGE_DATA_DIR}/caddy/pki/authorities/local/root.crt`;

/** Docker provider type tokens the policies and the CLI read. */
export const DOCKER_TYPES = {
    container: "docker:index/container:Container",
    /** A Swarm service: the swarm runtime's instance of an agent. */
    service: "docker:index/service:Service",
    secret: "docker:index/secret:Secret",
    image: "docker:index/image:Image",
    remoteImage: "docker:index/remoteImage:RemoteImage",
    network: "docker:index/network:Network",
    volume: "docker:index/volume:Volume",
} as const;

/** The GitHub labels the fleet's tools set: the PR comment, `fleet status --issue`, and the governance component that creates them. */
export const GITHUB_LABELS = {
    agentChanges: "agent-changes",
    manualDeploy: "requires-manual-deploy",
    tier: (tier: number) => `tier-${tier}`,
    /** The one issue `fleet status --issue` keeps open while agents are not deployed. */
    deployment: "deployment",
} as const;

/** "owner/name", as GitHub names a repository. */
export const GITHUB_REPOSITORY_RE = /^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+$/;

/**
 * What GitHub tells repositories (and owners) apart by: "acme/CRM" and
 * "acme/crm" are one repository, so every match of one compares this.
 */
export function githubRepositoryKey(repository: string): string {
    return repository.toLowerCase();
}

/** What GitHub accepts as an Actions secret or variable name: upper case, digits and _, not starting GITHUB_. */
export const ACTIONS_NAME_RE = /^(?!GITHUB_)[A-Z_][A-Z0-9_]*$/;

/** GitHub provider type tokens the policies read. */
export const GITHUB_TYPES = {
    repositoryWebhook: "github:index/repositoryWebhook:RepositoryWebhook",
    actionsVariable: "github:index/actionsVariable:ActionsVariable",
} as const;

/** The resource name of an agent's GitHub webhook registration, under its AgentService (whose name the policies read from the parent). */
export function webhookRegistrationName(agentResourceName: string, webhookName: string): string {
    return `${agentResourceName}-webhook-${webhookName}`;
}

/**
 * The resource name of what one host of `fleet.hosts` holds of `base` (an
 * agent's instances, the fleet network, an image, the sentinel). Agent and
 * host names have no dots, and a replica adds ".<digits>" while a host name
 * starts with a letter: no two of these names meet.
 */
export function onHostResourceName(base: string, host: string | undefined): string {
    return host === undefined ? base : `${base}.${host}`;
}

/** Label keys every agent container (and Swarm service) carries (and the fleet network, for environment and stack); tooling selects on them. */
export const LABELS = {
    agent: "agent-fleet.agent",
    tier: "agent-fleet.tier",
    version: "agent-fleet.version",
    environment: "agent-fleet.environment",
    stack: "agent-fleet.stack",
    /** A hash of the agent's resolved spec (config/spec-hash.ts): it changes only when the agent's own inputs do. */
    specHash: "agent-fleet.spec-hash",
    /** The image reference the agent runs, as the config names it. */
    image: "agent-fleet.image",
    /** Its rollback plan: the image a rollback returns to. A container that starts on its predecessor's rollback image is a rollback. */
    rollbackImage: "agent-fleet.rollback-image",
    /** What a non-agent container of the fleet is: "sentinel", "edge". */
    role: "agent-fleet.role",
    /** The `fleet.hosts` name of the host a container runs on, when the stack names hosts. */
    host: "agent-fleet.host",
    /** The watch window after a deploy, as a Go duration ("1h0m0s"); see watch.ts. */
    monitorWindow: "agent-fleet.monitor-window",
    /** The port the agent serves on inside the container. */
    port: "agent-fleet.port",
    /** The 5xx share, in percent, above which the sentinel alerts inside the window; absent: not watched. */
    errorRateLimit: "agent-fleet.error-rate-limit",
    /** The agent's smoke checks, as JSON: [{ name, method, path, expectStatus, body? }]. */
    smokeChecks: "agent-fleet.smoke-checks",
    /**
     * The healthcheck interval the config declares, as a Go duration ("10s"). What Docker runs may probe
     * more often, with retries scaled to the same time to unhealthy (components/runtimes/healthcheck.ts);
     * the agent-healthcheck policy judges the declared schedule.
     */
    healthcheckInterval: "agent-fleet.healthcheck-interval",
} as const;

/** Matches `stackConfigDir` in Pulumi.yaml. */
export const STACKS_DIR = "stacks";

/** Display path of a stack's file, relative to the project: "stacks/Pulumi.production.yaml". */
export function stackFileName(stack: string): string {
    return `${STACKS_DIR}/Pulumi.${stack}.yaml`;
}

/**
 * A docker resource's labels, given the way the provider takes them
 * (`labels: [{ label, value }]`), as a map; {} when there are none.
 */
export function labelsOf(props: unknown): Record<string, string> {
    const labels = (props as { labels?: unknown } | undefined)?.labels;
    if (!Array.isArray(labels)) return {};
    return Object.fromEntries(labels.flatMap((l: { label?: unknown; value?: unknown }) =>
        typeof l?.label === "string" && typeof l.value === "string" ? [[l.label, l.value]] : []));
}

/**
 * Environment variables the `fleet` CLI sets for the program it runs through
 * the Automation API.
 */
export const FLEET_ENV = {
    /**
     * Comma-separated agents whose rollback the CLI announces itself
     * (`fleet rollback --apply`, `fleet up`'s automatic rollback): the deploy
     * hooks send no `rolled_back` for them, so each rollback is announced once.
     */
    rollbackAnnounced: "AGENT_FLEET_ROLLBACK_ANNOUNCED",
    /**
     * The id of the `fleet` operation that holds the stack's fleet lock and
     * runs this update: the program lets it through, and refuses any other
     * update of the stack while the lock's holder is alive (operation-lock.ts).
     */
    operation: "AGENT_FLEET_OPERATION",
    /**
     * "off" while `fleet check` runs the program offline: it asks no Docker
     * engine its version (components/runtimes/engine-features.ts), so the
     * PR gate reaches no host.
     */
    engineProbe: "AGENT_FLEET_ENGINE_PROBE",
} as const;
