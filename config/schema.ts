/**
 * The zod schema of the `fleet` stack config and of `stacks/catalog.yaml`.
 *
 * Every message reads "expected <what>, got <value>" so that a user sees the
 * field path, what the field wants and what they wrote, in one line.
 */
import { z } from "zod";
import { CHANNEL_TYPES, ENVIRONMENTS, GITHUB_REPOSITORY_RE, SECRET_KEY_NAME_FIX, SEVERITIES, credentialFormatOf } from "../contract";
import { providerCpus, cpusRoundTrip } from "../contract/docker-cpus";
import { durationMs, isDuration } from "../contract/duration";
import { DOCKER_ADDRESS_TEXT, HOST_NAME_RE, HOST_NAME_TEXT, REGISTRY_ADDRESS_RE, dockerAddressProblem } from "./hosts";
import { isRolloutStage } from "./rollout";


/** Renders a user's value for an error message: strings quoted, containers named. */
export function describeValue(value: unknown): string {
    if (value === undefined) return "nothing";
    if (value === null) return "null";
    if (Array.isArray(value)) {
        if (value.length === 0) return "an empty list";
        return value.length === 1 ? "a list of 1 item" : `a list of ${value.length} items`;
    }
    if (typeof value === "object") return "an object";
    if (typeof value === "string") return JSON.stringify(value);
    return String(value);
}

/** A zod error option that says what the field expects and what it got. */
export function expected(what: string) {
    return { error: (issue: { input?: unknown }) => `expected ${what}, got ${describeValue(issue.input)}` };
}

/**
 * A map whose keys have their own rule. zod reports a bad key under the map's
 * own error, so the message is picked by issue code.
 */
function recordOf<V extends z.ZodType>(keyWhat: string, keyPattern: RegExp, value: V, mapWhat: string) {
    const key = z.string().regex(keyPattern);
    return z.record(key, value, {
        error: (issue: { code?: string; input?: unknown }) => issue.code === "invalid_key"
            ? `expected ${keyWhat}, got ${describeValue(issue.input)}`
            : `expected ${mapWhat}, got ${describeValue(issue.input)}`,
    });
}

/**
 * Whether a config-key field holds a name a person wrote, rather than a pasted
 * secret. A key name is words ("openaiApiKey", "github-webhook-secret",
 * "pagerSigningSecret2", "e2eToken"): split at separators and case changes,
 * each word is letters with any digits at its end, or at most four characters,
 * the words are not mostly one or two characters long, digits come in at most
 * two groups, no six consonants run together, and a camelCase part has no
 * capital run longer than an acronym.
 * Random tokens (hex, base64, vendor keys) have digits inside long words, and
 * the credential formats the pack scans for are refused by their look.
 * Hand-written: no library judges whether text reads as a name.
 */
function isPlausibleKeyName(value: string): boolean {
    if (!CONFIG_KEY_RE.test(value) || value.length > 80 || credentialFormatOf(value) !== undefined) return false;
    const words = value.split(/[-_.]+/).flatMap((part) => part.split(/(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/));
    if (!words.every((word) => word.length <= 4 || /^[A-Za-z]{1,24}\d{0,4}$/.test(word))) return false;
    // Mixed-case tokens split into many one- and two-letter words ("bQ", "x", "Tz"); names into a few longer ones.
    if ((value.match(/\d+/g) ?? []).length >= 3 || /[b-df-hj-np-tv-xz]{6}/i.test(value)) return false;
    // Acronyms inside a camelCase name are short (API, URL, AWS); a long capital run there is noise.
    if (value.split(/[-_.]+/).some((part) => /[a-z]/.test(part) && /[A-Z]{6}/.test(part))) return false;
    const letters = words.join("").length;
    if (letters >= 12 && letters / words.length < 3.5) return false;
    return !words.some((_, i) => i >= 2 && words.slice(i - 2, i + 1).every((word) => word.length <= 2));
}

/**
 * The name of a secret config key. A value that is not a key name is most
 * likely the secret itself pasted in, so the message never repeats it.
 */
export function configKey(example: string) {
    const what = `the name of a secret stack config key like "${example}"`;
    const hidden = {
        error: () => `expected ${what}, got a value that is not a key name and may be the secret itself (not shown): ${SECRET_KEY_NAME_FIX}`,
    };
    return z.string(hidden).refine(isPlausibleKeyName, hidden);
}

function text(what: string, pattern?: RegExp) {
    const base = z.string(expected(what)).min(1, expected(what));
    return pattern ? base.regex(pattern, expected(what)) : base;
}

function int(what: string, min: number, max: number) {
    return z.number(expected(what)).int(expected(what)).min(min, expected(what)).max(max, expected(what));
}

const DURATION_TEXT = 'a duration like "10s"';
const durationSchema = z.string(expected(DURATION_TEXT)).refine(isDuration, expected(DURATION_TEXT));

/**
 * A healthcheck duration. Docker reads zero as "inherit the image's
 * HEALTHCHECK value" and the provider reads the merged value back, so a zero
 * here would differ from the state on every preview and replace the agent.
 */
const NONZERO_DURATION_TEXT = 'a duration above zero like "10s" (Docker reads 0 as "use the image\'s HEALTHCHECK value")';
const healthcheckDuration = durationSchema.refine((text) => !isDuration(text) || durationMs(text) > 0, expected(NONZERO_DURATION_TEXT));

/** A CPU count the Docker provider reads back unchanged; anything else would replace the agent on every `up`. */
const cpusSchema = z.number(expected("a number of CPUs like 0.5"))
    .gt(0, expected("a number of CPUs above 0"))
    .max(64, expected("a number of CPUs up to 64"))
    // Only judge counts the range checks above accept, so one mistake gets one message.
    .refine((cpus) => cpus <= 0 || cpus > 64 || cpusRoundTrip(cpus), {
        error: (issue: { input?: unknown }) => `expected a number of CPUs the Docker provider reads back unchanged, like 0.25, 0.5 or 2, got ${describeValue(issue.input)} (it reads back as ${JSON.stringify(providerCpus(Number(issue.input)))})`,
    });

// Lower-case DNS-label style: agent names become container names, hostnames and label values.
const AGENT_NAME_RE = /^[a-z][a-z0-9-]{0,38}[a-z0-9]$/;
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
// A Pulumi config key in this project's namespace, e.g. "openaiApiKey".
const CONFIG_KEY_RE = /^[A-Za-z][A-Za-z0-9_.-]*$/;
// repo[:tag][@sha256:digest]; registries with ports ("host:5000/x") included.
const IMAGE_REF_RE = /^[a-z0-9]+(?:[._\-/:][a-z0-9]+)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
const IMAGE_TEXT = 'an image reference like "ghcr.io/acme/agent:1.2.3" or "repo@sha256:<64 hex>"';
const MEMORY_RE = /^[1-9]\d*(Mi|Gi)$/;

const imageRef = text(IMAGE_TEXT, IMAGE_REF_RE);
const ENV_NAME_TEXT = 'an environment variable name like "OPENAI_API_KEY"';
const EXPOSE_TEXT = 'a hostname like "pesti.acme.dev", a path prefix like "/api/agents/pesti", or false';
// A DNS name (see DNS_NAME_RE), or a path prefix of one or more segments without a trailing slash.
const EXPOSE_RE = /^(?:(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]|(?:\/[A-Za-z0-9._~-]+)+)$/;

const buildContext = text("a build context directory like \"agents/sample-agent\"");

const BUILD_TEXT = "an object with a build context, or false to pull the image instead of building it";

// Context is optional per layer so that layers can merge; the merged agent requires it.
const buildFields = {
    /** Build context, relative to the project root. */
    context: buildContext.optional(),
    dockerfile: text("a Dockerfile path relative to the context").optional(),
    args: z.record(z.string(), z.string(expected("a string build arg value"))).optional(),
};

/**
 * How to build the image; `false` pulls it instead, so that one agent can run a
 * released image while the others build from agentDefaults' context.
 */
const buildSchema = z.union([z.strictObject(buildFields), z.literal(false)], expected(BUILD_TEXT));

const healthcheckSchema = z.strictObject({
    path: text('an HTTP path like "/health"', /^\/\S*$/).optional(),
    interval: healthcheckDuration.optional(),
    timeout: healthcheckDuration.optional(),
    retries: int("a whole number of retries from 1 to 100", 1, 100).optional(),
    startPeriod: healthcheckDuration.optional(),
    startInterval: healthcheckDuration.optional(),
    /** Exec-form test command; replaces the default node probe for images without node. */
    command: z.array(text("a command word"), expected("a list of command words like [\"CMD\", \"curl\", \"-f\", \"http://127.0.0.1:8080/health\"]"))
        .min(2, expected("a list of at least two command words")).optional(),
}, expected("a healthcheck object"));

const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

const smokeCheckSchema = z.strictObject({
    name: text("a smoke check name").optional(),
    method: z.enum(HTTP_METHODS, expected(`an HTTP method (${HTTP_METHODS.join(", ")})`)).optional(),
    path: text('an HTTP path like "/v1/reply"', /^\/\S*$/),
    expectStatus: int("an HTTP status from 100 to 599", 100, 599).optional(),
    body: z.string(expected("a request body string")).optional(),
}, expected("a smoke check object with a path"));

const rolloutStageSchema = z.preprocess(
    (value) => (typeof value === "string" ? { stage: value } : value),
    z.strictObject({
        stage: z.string(expected('a rollout stage like "off", "team" or "10%"'))
            .refine(isRolloutStage, expected('a rollout stage like "off", "team" or "10%"')),
        soak: durationSchema.optional(),
    }, expected('a rollout stage like "10%" or { stage: "10%", soak: "24h" }')),
);

/** When a flag entered a stage, as `fleet flag` records it: soaks are checked, and skipped stages seen, from this. */
const stageRecordSchema = z.strictObject({
    stage: z.string(expected('a rollout stage like "off", "team" or "10%"')).refine(isRolloutStage, expected('a rollout stage like "off", "team" or "10%"')),
    since: z.iso.datetime({ offset: true, ...expected('a UTC time like "2026-11-22T10:00:00Z"') }),
    /** Set when `fleet flag --force` skipped a stage or cut a soak short. */
    forced: z.boolean(expected("true or false")).optional(),
}, expected("a stage record object with a stage and a since time"));

const featureFlagSchema = z.strictObject({
    name: text("a flag name like \"smart-replies\"", /^[a-z][a-z0-9-]*$/),
    stages: z.array(rolloutStageSchema, expected("a list of rollout stages")).min(1, expected("at least one rollout stage")).optional(),
    currentStage: z.string(expected('a rollout stage like "off", "team" or "10%"'))
        .refine(isRolloutStage, expected('a rollout stage like "off", "team" or "10%"')).optional(),
    /** Each stage the flag entered and when, oldest first; written by `fleet flag`. */
    history: z.array(stageRecordSchema, expected("a list of stage records")).optional(),
}, expected("a feature flag object with a name"));

/** Docker's constraint grammar: a node attribute, == or !=, a value. */
const PLACEMENT_CONSTRAINT_RE = /^(node\.(id|hostname|role|platform\.os|platform\.arch|labels\.[A-Za-z0-9._-]+)|engine\.labels\.[A-Za-z0-9._-]+)\s*(==|!=)\s*[^\s=!]+$/;

/** Who sends a webhook: GitHub (X-Hub-Signature-256), or any other sender that signs with the fleet's timestamped scheme. */
const WEBHOOK_SOURCES = ["github", "generic"] as const;
export type WebhookSource = (typeof WEBHOOK_SOURCES)[number];

/** One inbound webhook an agent takes. */
const webhookSchema = z.strictObject({
    name: text('a webhook name of lower-case letters, digits and dashes like "github-push"', /^[a-z][a-z0-9-]*$/),
    source: z.enum(WEBHOOK_SOURCES, expected(`a webhook source (${WEBHOOK_SOURCES.join(", ")})`)),
    /** Where the agent serves it: under its public URL at the edge when exposed, else under the stack's webhookBaseUrl. */
    path: text('a path like "/webhooks/github"', /^\/[A-Za-z0-9._~/-]*$/),
    /** Secret stack config key holding the shared signing secret. */
    secret: configKey("githubWebhookSecret"),
    /** github only: "owner/name". */
    repository: text('a repository like "acme/crm"', GITHUB_REPOSITORY_RE).optional(),
    /** github only: the events GitHub sends ("push", "pull_request", "*"). */
    events: z.array(text('a GitHub event like "push" or "pull_request"', /^(\*|[a-z_]+)$/), expected("a list of GitHub events"))
        .min(1, expected("at least one GitHub event")).optional(),
}, expected("a webhook object with a name, source, path and secret"));

/** Every agent field. All optional here: the catalog and the stack each hold part of an agent. */
const agentFields = {
    tier: z.union([z.literal(1), z.literal(2), z.literal(3)], expected("a tier of 1, 2 or 3")),
    owner: text("an owner like \"@acme/sales-eng\" or an email"),
    image: imageRef,
    build: buildSchema,
    rollbackImage: imageRef,
    version: text("a version string like \"1.4.2\""),
    port: int("a port number from 1 to 65535", 1, 65535),
    hostPort: int("a host port number from 1 to 65535", 1, 65535),
    containerName: text("a container name like \"pesti\"", /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/),
    healthcheck: healthcheckSchema,
    env: recordOf(ENV_NAME_TEXT, ENV_NAME_RE, z.string(expected("a string value (quote numbers and booleans)")), "a map of environment variable names to strings"),
    secrets: recordOf(ENV_NAME_TEXT, ENV_NAME_RE, configKey("openaiApiKey"), "a map of environment variable names to secret config keys"),
    memory: text('a memory size like "256Mi" or "1Gi"', MEMORY_RE),
    cpus: cpusSchema,
    replicas: int("a whole number of replicas from 1 to 20", 1, 20),
    alertChannels: z.array(text("an alert channel name"), expected("a list of alert channel names")),
    monitorWindow: durationSchema,
    waitTimeout: durationSchema,
    errorRateLimit: z.number(expected("an error-rate limit in percent like 2")).gt(0, expected("an error-rate limit above 0%")).max(100, expected("an error-rate limit up to 100%")),
    smokeChecks: z.array(smokeCheckSchema, expected("a list of smoke checks")),
    featureFlags: z.array(featureFlagSchema, expected("a list of feature flags")),
    stopGracePeriod: durationSchema,
    user: text('a user like "1000:1000"', /^[a-zA-Z0-9_-]+(?::[a-zA-Z0-9_-]+)?$/),
    readOnlyRootFilesystem: z.boolean(expected("true or false")),
    webhooks: z.array(webhookSchema, expected("a list of webhooks")),
    /** Which of `fleet.hosts` run the agent (its replicas on each); default every host. Runtime container only. */
    hosts: z.array(text(`${HOST_NAME_TEXT} from fleet.hosts`, HOST_NAME_RE), expected("a list of host names from fleet.hosts"))
        .min(1, expected("at least one host name (leave hosts out to run on every host)")),
    /** How the agent is reached from outside through `fleet.edge`: a hostname of its own, a path prefix under the edge's hostname, or false (default: not exposed). */
    expose: z.union([z.literal(false), text(EXPOSE_TEXT, EXPOSE_RE)], expected(EXPOSE_TEXT)),
    /** Swarm placement constraints ("node.role==manager", "node.labels.zone==eu"); runtime swarm only. */
    placementConstraints: z.array(
        text('a placement constraint like "node.role==manager" or "node.labels.zone!=edge"', PLACEMENT_CONSTRAINT_RE),
        expected("a list of placement constraints"),
    ),
};

type AgentFieldSchemas = typeof agentFields;

/** An agent as written in the catalog, `agentDefaults` or a stack: every field optional. */
export const partialAgentSchema = z.strictObject(
    Object.fromEntries(Object.entries(agentFields).map(([key, schema]) => [key, schema.optional()])) as {
        [K in keyof AgentFieldSchemas]: z.ZodOptional<AgentFieldSchemas[K]>
    },
    expected("an agent object"),
);

/** An agent once catalog, defaults and stack are merged: identity fields are required. */
export const agentSchema = partialAgentSchema.extend({
    tier: agentFields.tier,
    image: agentFields.image,
    port: agentFields.port,
    build: z.union([z.strictObject({ ...buildFields, context: buildContext }), z.literal(false)], expected(BUILD_TEXT)).optional(),
});

export type PartialAgentConfig = z.infer<typeof partialAgentSchema>;
export type AgentConfig = z.infer<typeof agentSchema>;

export { SEVERITIES };
export type { Severity } from "../contract";

export const channelSchema = z.strictObject({
    type: z.enum(CHANNEL_TYPES, expected(`a channel type (${CHANNEL_TYPES.join(", ")})`)),
    /** Name of the secret stack config key that holds the webhook URL. */
    urlSecret: configKey("opsSlackWebhookUrl"),
    /** Name of the secret stack config key that holds the HMAC signing secret (webhook channels). */
    signingSecret: configKey("pagerSigningSecret").optional(),
    minSeverity: z.enum(SEVERITIES, expected(`a severity (${SEVERITIES.join(", ")})`)).optional(),
    /** Tiers whose every agent the channel hears, besides the agents that name it in alertChannels. */
    tiers: z.array(z.union([z.literal(1), z.literal(2), z.literal(3)], expected("a tier of 1, 2 or 3")), expected("a list of tiers like [2, 3]")).optional(),
    /** Agents the channel hears, besides the agents that name it in alertChannels. */
    agents: z.array(text("an agent name"), expected("a list of agent names")).optional(),
}, expected("an alert channel object"));

/** How agents run: "container" (plain `docker run`, the default) or "swarm" (services on a Docker Swarm). */
const RUNTIMES = ["container", "swarm"] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

/** `fleet.sentinel`: the container that watches the fleet after go-live (agents/sentinel). */
const sentinelSchema = z.strictObject({
    /** Deploy it; default: whenever the fleet declares an alert channel. */
    enabled: z.boolean(expected("true or false")).optional(),
    /** Its image; default "agent-fleet/sentinel:local", built from agents/sentinel. An image without `build` is pulled. */
    image: imageRef.optional(),
    /** How to build it; default { context: "agents/sentinel" } when `image` is not given. */
    build: buildSchema.optional(),
    /** A problem still present this long gets a reminder; default 30m. */
    reminderAfter: durationSchema.optional(),
    /** The Docker socket on the host, mounted read-only; default /var/run/docker.sock. */
    dockerSocket: text('an absolute path like "/var/run/docker.sock"', /^\//).optional(),
    /** Numeric group id that may read the socket: the docker proxy then runs as nobody in it; default: the proxy runs as root. */
    socketGroup: int("a numeric group id like 999", 0, 2 ** 31 - 1).optional(),
    /** The docker proxy's image, pulled; default "agent-fleet/docker-proxy:local", built from agents/docker-proxy. */
    proxyImage: imageRef.optional(),
}, expected("a sentinel object"));
export type SentinelConfig = z.infer<typeof sentinelSchema>;

/** A Docker engine address (see dockerAddressProblem); the message says what is wrong with it. */
const dockerAddress = z.string(expected(DOCKER_ADDRESS_TEXT)).superRefine((address, ctx) => {
    const problem = dockerAddressProblem(address);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** `fleet.hosts.<name>`: one server the stack deploys to. */
const hostSchema = z.strictObject({
    /** How its Docker engine is reached: "ssh://deploy@app-1.example.com". */
    docker: dockerAddress,
}, expected('a host object with a docker address like { docker: "ssh://deploy@app-1.example.com" }'));

/** `fleet.registries.<address>`: the login the hosts pull with. */
const registrySchema = z.strictObject({
    username: text('a registry user name like "deploy"'),
    /** The secret stack config key holding the password or token. */
    passwordSecret: configKey("registryPassword"),
}, expected('a registry login like { username: "deploy", passwordSecret: "registryPassword" }'));

/** A DNS name of at least two labels, lower case: what a certificate is issued for. */
const DNS_NAME_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const DNS_NAME_TEXT = 'a DNS name like "agents.acme.dev"';
const EDGE_TLS_MODES = ["acme", "internal"] as const;

/** `fleet.edge`: the HTTPS proxy (Caddy) on each host that exposed agents are reached through. */
const edgeSchema = z.strictObject({
    /** The public name the edge answers to; agents exposed by a path prefix live under it. */
    hostname: text(DNS_NAME_TEXT, DNS_NAME_RE),
    /** Where certificates come from: "acme" (Let's Encrypt, or `acmeCa`) or "internal" (the edge's own CA); default internal in dev, acme elsewhere. */
    tls: z.enum(EDGE_TLS_MODES, expected(`a TLS mode (${EDGE_TLS_MODES.join(", ")})`)).optional(),
    /** The ACME account's contact. */
    acmeEmail: text('an email address like "ops@acme.dev"', /^[^\s@]+@[^\s@]+\.[^\s@]+$/).optional(),
    /** The ACME directory; default Let's Encrypt's. */
    acmeCa: text('an https ACME directory URL like "https://acme-staging-v02.api.letsencrypt.org/directory"', /^https:\/\/[^\s/@?#]+(\/[^\s?#]*)?$/).optional(),
    /** The root certificate (PEM text) the ACME directory's own TLS chains to, for a private ACME CA (step-ca, Pebble); default the system's roots. */
    acmeCaRoot: text("the PEM text of a root certificate (-----BEGIN CERTIFICATE----- …)", /^\s*-----BEGIN CERTIFICATE-----\s[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----\s*$/).optional(),
    /** The edge's image (Caddy); default "caddy:2-alpine". Pin it by digest outside dev. */
    image: imageRef.optional(),
    /** The host port that answers HTTP (it redirects to HTTPS); default 80. */
    httpPort: int("a port number from 1 to 65535", 1, 65535).optional(),
    /** The host port that answers HTTPS; default 443. */
    httpsPort: int("a port number from 1 to 65535", 1, 65535).optional(),
    /** The host address the ports listen on; default every address ("0.0.0.0"). Runtime container only: Swarm publishes on every address. */
    listenAddress: text('an IPv4 address like "0.0.0.0" or "127.0.0.1"', /^\d{1,3}(\.\d{1,3}){3}$/).optional(),
    /** The largest request body the edge passes to an agent, in KiB or MiB; default "1MiB". Larger ones get the edge's own 413. */
    maxBodySize: text('a size like "1MiB" or "512KiB"', /^[1-9]\d{0,5}(KiB|MiB)$/).optional(),
    /**
     * Runtime swarm only: the nodes the edge runs on, one task per node, each publishing the ports there; default
     * ["node.role==manager"]. They must be nodes the deploy's engine is: routes are loaded through it.
     */
    placementConstraints: z.array(
        text('a placement constraint like "node.role==manager" or "node.hostname==edge-1"', PLACEMENT_CONSTRAINT_RE),
        expected("a list of placement constraints"),
    ).min(1, expected("at least one placement constraint (leave placementConstraints out for the managers)")).optional(),
}, expected('an edge object with a hostname, like { hostname: "agents.acme.dev" }'));
export type EdgeConfig = z.infer<typeof edgeSchema>;

const AGENT_NAME_TEXT = 'an agent name of lower-case letters, digits and dashes like "email-agent"';
const agentMap = recordOf(AGENT_NAME_TEXT, AGENT_NAME_RE, z.unknown(), "a map of agent names to agents");

/**
 * The `fleet` key of a stack file, one schema per field: the loader checks
 * each on its own so that one bad field never hides problems in another.
 */
export const stackFleetFields = {
    environment: z.enum(ENVIRONMENTS, expected(`an environment (${ENVIRONMENTS.join(", ")})`)).optional(),
    runtime: z.enum(RUNTIMES, expected(`a runtime (${RUNTIMES.join(", ")})`)).optional(),
    channels: recordOf("a channel name of lower-case letters, digits and dashes", /^[a-z][a-z0-9-]*$/, z.unknown(), "a map of channel names to channels").optional(),
    agentDefaults: z.unknown().optional(),
    agents: agentMap,
    /** Says an empty `agents` map is intended: in staging and production, an empty fleet deletes every running agent. */
    allowEmpty: z.boolean(expected("true or false")).optional(),
    sentinel: sentinelSchema.optional(),
    /** The servers the stack deploys to, by name; default one engine (`docker:host`, else DOCKER_HOST, else the local socket). */
    hosts: recordOf(HOST_NAME_TEXT, HOST_NAME_RE, hostSchema, "a map of host names to hosts").optional(),
    /** Registry logins each host's provider pulls with, by registry address as image references name it. */
    registries: recordOf('a registry address like "registry.example.com" or "10.0.0.5:5000"', REGISTRY_ADDRESS_RE, registrySchema, "a map of registry addresses to logins").optional(),
    /** The HTTPS edge on each host that exposed agents are reached through. */
    edge: edgeSchema.optional(),
    /** The public URL the agents' webhook paths are reachable under (behind the user's proxy or tunnel). */
    webhookBaseUrl: text('a URL like "https://hooks.acme.dev"', /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/).optional(),
};
export const stackFleetSchema = z.strictObject(stackFleetFields, expected("a fleet object with agents"));
/** The outer shape only: an object with no unknown keys. */
export const stackFleetShapeSchema = z.strictObject(
    Object.fromEntries(Object.keys(stackFleetFields).map((key) => [key, z.unknown().optional()])),
    expected("a fleet object with agents"),
);

/** `stacks/catalog.yaml`: agent fields shared by every stack. */
export const catalogSchema = z.strictObject({ agents: agentMap }, expected("a catalog object with agents"));

/** Every field name the schemas know, for "did you mean" hints on typos. */
export const KNOWN_FIELDS: readonly string[] = [...new Set([
    ...Object.keys(agentFields),
    ...Object.keys(healthcheckSchema.shape),
    ...Object.keys(buildFields),
    ...Object.keys(smokeCheckSchema.shape),
    ...Object.keys(featureFlagSchema.shape),
    ...Object.keys(stageRecordSchema.shape),
    "stage", "soak",
    ...Object.keys(channelSchema.shape),
    ...Object.keys(sentinelSchema.shape),
    ...Object.keys(hostSchema.shape),
    ...Object.keys(registrySchema.shape),
    ...Object.keys(edgeSchema.shape),
    ...Object.keys(stackFleetSchema.shape),
])];
