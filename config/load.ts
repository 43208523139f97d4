/**
 * Turns the raw `fleet` stack config (plus the shared catalog) into a FleetSpec,
 * or a FleetConfigError listing every problem at once.
 *
 * Precedence, lowest first: tier defaults (config/tiers.ts) < the agent's
 * entry in stacks/catalog.yaml < the stack's `fleet.agentDefaults` < the
 * stack's `fleet.agents.<name>`. Objects merge key by key; lists and scalars
 * replace.
 */
import { z } from "zod";
import { ENVIRONMENTS, Environment, fleetOwnedEnv, isPlainObject, parseImageRef, webhookSecretEnv } from "../contract";
import { durationMs } from "../contract/duration";
import { ConfigProblem, FleetConfigError, renderPath, unknownFieldMessage } from "./errors";
import { DOCKER_ADDRESS_TEXT, HostSpec, RegistrySpec, dockerAddressProblem } from "./hosts";
import {
    AgentConfig, KNOWN_FIELDS, PartialAgentConfig, RuntimeName, agentSchema, catalogSchema, channelSchema,
    EdgeConfig, SentinelConfig, describeValue, partialAgentSchema, stackFleetFields, stackFleetShapeSchema,
} from "./schema";
import { AgentExposure, AgentSpec, ChannelSpec, EdgeSpec, FleetSpec, SentinelSpec, edgeOrigin, timeToUnhealthyMs } from "./spec";
import { TIERS, Tier } from "./tiers";

/** The version the loader gives an agent that builds and names none (components/build-version.ts labels the build). */
export const DEFAULT_BUILD_VERSION = "dev";

export type SecretKeyState = "secret" | "plain" | "missing";

export interface FleetConfigSource {
    /** Stack name, e.g. "production". */
    readonly stack: string;
    /** Display path of the stack file, e.g. "stacks/Pulumi.production.yaml". */
    readonly stackFile: string;
    /** The stack's `fleet` config value, already parsed from YAML/JSON. */
    readonly fleet: unknown;
    /** The shared agent catalog, when the project has one. */
    readonly catalog?: { readonly file: string; readonly value: unknown };
    /** Whether a config key (without project prefix) is set, and set as a secret. */
    readonly secretKeyState: (key: string) => SecretKeyState;
    /** The stack's `docker:host` config, when it sets one: checked against the same rule as a host's address. */
    readonly dockerHost?: unknown;
}

type Problems = ConfigProblem[];

type Issue = z.core.$ZodIssue;

/**
 * A union's failure, told by the branch for the input's own type: `build: {}`
 * is an object without a context, not "neither an object nor false". Other
 * issues pass through.
 */
function unionBranchIssues(issues: readonly Issue[]): Issue[] {
    return issues.flatMap((issue) => {
        if (issue.code !== "invalid_union" || !("errors" in issue) || !Array.isArray(issue.errors)) return [issue];
        const branches = (issue.errors as Issue[][]).filter((branch) => !branch.some((i) => (i.code === "invalid_type" || i.code === "invalid_value") && i.path.length === 0));
        if (branches.length !== 1) return [issue];
        return unionBranchIssues(branches[0].map((i) => ({ ...i, path: [...issue.path, ...i.path] }) as Issue));
    });
}

export function collect<T>(schema: z.ZodType<T>, value: unknown, file: string, prefix: string, problems: Problems): T | undefined {
    const result = schema.safeParse(value, { reportInput: true });
    if (result.success) return result.data;
    for (const issue of unionBranchIssues(result.error.issues)) {
        if (issue.code === "unrecognized_keys") {
            for (const key of issue.keys) {
                problems.push({ file, path: renderPath(prefix, [...issue.path, key]), message: unknownFieldMessage(key, KNOWN_FIELDS) });
            }
        } else {
            problems.push({ file, path: renderPath(prefix, issue.path), message: issue.message });
        }
    }
    return undefined;
}

/** Objects merge key by key; anything else in `over` replaces `base`. */
export function mergeLayers<T extends object>(...layers: (Partial<T> | undefined)[]): T {
    const out: Record<string, unknown> = {};
    for (const layer of layers) {
        if (!layer) continue;
        for (const [key, value] of Object.entries(layer)) {
            if (value === undefined) continue;
            out[key] = isPlainObject(value) && isPlainObject(out[key])
                ? mergeLayers<object>(out[key] as object, value)
                : value;
        }
    }
    return out as T;
}

/** The layers one agent is assembled from, and where each lives, for error messages. */
interface AgentLayers {
    readonly name: string;
    readonly catalog?: PartialAgentConfig;
    readonly defaults?: PartialAgentConfig;
    readonly stack: PartialAgentConfig;
}

type FieldPath = readonly (string | number)[];

function hasPath(layer: unknown, path: FieldPath): boolean {
    let node = layer;
    for (const key of path) {
        if (typeof node !== "object" || node === null || !(key in node)) return false;
        node = (node as Record<string | number, unknown>)[key];
    }
    return true;
}

/** Which layer sets a field: 3 stack agent, 2 agentDefaults, 1 catalog, 0 tier default. */
function layerRank(layers: AgentLayers, path: FieldPath): number {
    if (hasPath(layers.stack, path)) return 3;
    if (hasPath(layers.defaults, path)) return 2;
    if (hasPath(layers.catalog, path)) return 1;
    return 0;
}

/** Points a merged-agent problem at the highest-precedence file that sets the field. */
function locate(source: FleetConfigSource, layers: AgentLayers, path: FieldPath): { file: string; path: string } {
    if (hasPath(layers.stack, path)) return { file: source.stackFile, path: renderPath(`fleet.agents.${layers.name}`, path) };
    if (hasPath(layers.defaults, path)) return { file: source.stackFile, path: renderPath("fleet.agentDefaults", path) };
    if (source.catalog && hasPath(layers.catalog, path)) return { file: source.catalog.file, path: renderPath(`agents.${layers.name}`, path) };
    return { file: source.stackFile, path: renderPath(`fleet.agents.${layers.name}`, path) };
}

function secretProblem(source: FleetConfigSource, key: string): string | undefined {
    return secretKeyProblem(source.stack, key, source.secretKeyState(key));
}

/** What is wrong with a secret config key's state, with the command that fixes it; undefined when it is a secret. */
export function secretKeyProblem(stack: string, key: string, state: SecretKeyState): string | undefined {
    const how = `pulumi config set --secret ${key} <value> --stack ${stack}`;
    if (state === "missing") return `expected secret config key "${key}" to be set (${how}), got nothing`;
    if (state === "plain") return `expected config key "${key}" to be a secret (${how}), got a plain-text value`;
    return undefined;
}


/** Version label: explicit, else the image tag, else a short digest. */
function imageVersion(image: string): string {
    const { tag, digest } = parseImageRef(image);
    return tag ?? digest?.slice(0, "sha256:".length + 12) ?? "latest";
}

/** A flag's stages when the config names none: its tier's rollout, else tier 3's (the flag tier). */
function defaultRolloutStages(tier: Tier) {
    return TIERS[tier].rolloutStages ?? TIERS[3].rolloutStages ?? [];
}

function resolveAgent(name: string, environment: Environment, agent: AgentConfig, hostNames: readonly string[], edge: EdgeSpec | undefined): AgentSpec {
    const tier = TIERS[agent.tier];
    const hc = mergeLayers<typeof tier.healthcheck>(tier.healthcheck, agent.healthcheck);
    const healthcheck = {
        path: hc.path,
        intervalMs: durationMs(hc.interval),
        timeoutMs: durationMs(hc.timeout),
        retries: hc.retries,
        startPeriodMs: durationMs(hc.startPeriod),
        startIntervalMs: durationMs(hc.startInterval),
        // Only an agent that sets startInterval itself probes faster for life on an engine without start_interval.
        ...(agent.healthcheck?.startInterval !== undefined
            ? { fallbackIntervalMs: Math.max(durationMs(agent.healthcheck.startInterval), durationMs(tier.healthcheck.startIntervalFallback)) }
            : {}),
        command: agent.healthcheck?.command,
    };
    const waitTimeoutMs = agent.waitTimeout !== undefined
        ? durationMs(agent.waitTimeout)
        : timeToUnhealthyMs(healthcheck) + durationMs(tier.waitTimeoutMargin);
    const defaultStages = defaultRolloutStages(agent.tier);
    return {
        name,
        environment,
        tier: agent.tier,
        owner: agent.owner,
        image: agent.image,
        build: agent.build ? { context: agent.build.context, dockerfile: agent.build.dockerfile, args: agent.build.args ?? {} } : undefined,
        rollbackImage: agent.rollbackImage,
        version: agent.version ?? (agent.build ? DEFAULT_BUILD_VERSION : imageVersion(agent.image)),
        port: agent.port,
        hostPort: agent.hostPort,
        ...(agent.expose && edge ? { expose: exposureOf(agent.expose, edge) } : {}),
        containerName: agent.containerName,
        healthcheck,
        env: agent.env ?? {},
        // A webhook's secret reaches the agent like any other secret: env var, or a Swarm secret file.
        secrets: { ...agent.secrets, ...Object.fromEntries((agent.webhooks ?? []).map((w) => [webhookSecretEnv(w.name), w.secret])) },
        memoryMb: agent.memory === undefined ? undefined : parseInt(agent.memory, 10) * (agent.memory.endsWith("Gi") ? 1024 : 1),
        cpus: agent.cpus,
        replicas: agent.replicas ?? 1,
        alertChannels: agent.alertChannels ?? [],
        monitorWindowMs: durationMs(agent.monitorWindow ?? tier.monitorWindow),
        waitTimeoutMs,
        errorRateLimitPercent: agent.errorRateLimit ?? tier.errorRateLimitPercent,
        smokeChecks: (agent.smokeChecks ?? []).map((check) => ({
            name: check.name ?? `${check.method ?? "GET"} ${check.path}`,
            method: check.method ?? "GET",
            path: check.path,
            expectStatus: check.expectStatus ?? 200,
            body: check.body,
        })),
        featureFlags: (agent.featureFlags ?? []).map((flag) => {
            const stages = (flag.stages ?? defaultStages).map((s) => ({ stage: s.stage, soakMs: s.soak === undefined ? undefined : durationMs(s.soak) }));
            const history = (flag.history ?? []).map((r) => ({ stage: r.stage, since: r.since, forced: r.forced ?? false }));
            return { name: flag.name, stages, currentStage: flag.currentStage ?? stages[0]?.stage ?? "off", history };
        }),
        stopGraceMs: durationMs(agent.stopGracePeriod ?? tier.stopGracePeriod),
        restartMaxRetries: tier.restartMaxRetries,
        user: agent.user ?? "1000:1000",
        readOnlyRootFilesystem: agent.readOnlyRootFilesystem ?? true,
        placementConstraints: agent.placementConstraints ?? [],
        hosts: agent.hosts ?? hostNames,
        webhooks: (agent.webhooks ?? []).map((w) => ({
            name: w.name, source: w.source, path: w.path, secretKey: w.secret, secretEnv: webhookSecretEnv(w.name),
            ...(w.repository === undefined ? {} : { repository: w.repository }), events: w.events ?? [],
        })),
    };
}

/** Each webhook: its secret set as a secret, the fields its source needs, and no name, path or env var taken twice. */
function checkWebhooks(source: FleetConfigSource, agent: AgentConfig, report: (path: FieldPath, message: string) => void): void {
    const names = new Set<string>();
    const paths = new Set<string>();
    (agent.webhooks ?? []).forEach((webhook, i) => {
        const at = (...field: (string | number)[]): FieldPath => ["webhooks", i, ...field];
        const problem = secretProblem(source, webhook.secret);
        if (problem) report(at("secret"), problem);
        if (names.has(webhook.name)) report(at("name"), `expected unique webhook names, got "${webhook.name}" twice`);
        names.add(webhook.name);
        if (paths.has(webhook.path)) report(at("path"), `expected each webhook on its own path, got "${webhook.path}" twice`);
        paths.add(webhook.path);
        if (webhook.source === "github") {
            if (webhook.repository === undefined) report(at("repository"), 'expected the repository GitHub sends from, like "acme/crm", got nothing');
            if (webhook.events === undefined) report(at("events"), 'expected the GitHub events to subscribe to, like ["push"], got nothing');
        } else {
            if (webhook.repository !== undefined) report(at("repository"), `expected no repository for a ${webhook.source} webhook (only github webhooks are registered), got ${describeValue(webhook.repository)}`);
            if (webhook.events !== undefined) report(at("events"), `expected no events for a ${webhook.source} webhook, got ${describeValue(webhook.events)}`);
        }
        const env = webhookSecretEnv(webhook.name);
        if (agent.secrets && env in agent.secrets) report(["secrets", env], `expected "${env}" to be left to webhook "${webhook.name}", which carries its secret in it, got it in secrets too`);
    });
}

/**
 * `fleet.hosts`, and `docker:host` beside it: the servers, in name order.
 * A stack reaches its engines one way: by its hosts, or by `docker:host`,
 * never both (which one would a verb ask?). Swarm deploys through its
 * manager: one host.
 */
function checkHosts(
    source: FleetConfigSource, hostMap: Readonly<Record<string, { docker: string }>> | undefined, hostsWritten: boolean, runtime: RuntimeName, problems: Problems,
): HostSpec[] {
    const file = source.stackFile;
    if (source.dockerHost !== undefined) {
        const problem = typeof source.dockerHost === "string" ? dockerAddressProblem(source.dockerHost) : `expected ${DOCKER_ADDRESS_TEXT}, got ${describeValue(source.dockerHost)}`;
        if (problem) problems.push({ file, path: "config.docker:host", message: problem });
        else if (hostsWritten) {
            const names = hostMap ? ` (${Object.keys(hostMap).join(", ")})` : "";
            problems.push({ file, path: "config.docker:host", message: `expected no docker:host when fleet.hosts names the servers${names}: move it into fleet.hosts, got ${JSON.stringify(source.dockerHost)}` });
        }
    }
    if (hostMap === undefined) return [];
    const names = Object.keys(hostMap).sort();
    if (names.length === 0) problems.push({ file, path: "fleet.hosts", message: "expected at least one host (leave fleet.hosts out to use docker:host or the local engine), got an empty map" });
    if (runtime === "swarm" && names.length > 1) {
        problems.push({ file, path: "fleet.hosts", message: `expected one host under runtime swarm, its manager (Swarm places the tasks on its nodes; use placementConstraints), got ${names.length}: ${names.join(", ")}` });
    }
    const seen = new Map<string, string>();
    for (const name of names) {
        const address = hostMap[name].docker;
        const other = seen.get(address);
        if (other !== undefined) problems.push({ file, path: `fleet.hosts.${name}.docker`, message: `expected each host at its own address, got ${JSON.stringify(address)}, which is host ${other}'s too` });
        seen.set(address, name);
    }
    return names.map((name) => ({ name, docker: hostMap[name].docker }));
}

/**
 * `fleet.registries`: each password a secret that is set. The logins reach
 * the daemons through each host's provider, so they need `fleet.hosts`.
 */
function checkRegistries(
    source: FleetConfigSource, registryMap: Readonly<Record<string, { username: string; passwordSecret: string }>> | undefined, hostsWritten: boolean, problems: Problems,
): RegistrySpec[] {
    if (registryMap === undefined) return [];
    const file = source.stackFile;
    const addresses = Object.keys(registryMap).sort();
    if (!hostsWritten && addresses.length > 0) {
        problems.push({ file, path: "fleet.registries", message: `expected fleet.hosts beside fleet.registries (the logins reach each host's Docker provider; a stack on one engine logs in there with \`docker login\`), got registries ${addresses.join(", ")} and no hosts` });
    }
    for (const address of addresses) {
        const problem = secretProblem(source, registryMap[address].passwordSecret);
        if (problem) problems.push({ file, path: `fleet.registries.${address}.passwordSecret`, message: problem });
    }
    return addresses.map((address) => ({ address, username: registryMap[address].username, passwordSecret: registryMap[address].passwordSecret }));
}

/** An agent's `hosts`: names from fleet.hosts, each once; none under swarm, where Swarm places tasks. */
function checkPlacement(source: FleetConfigSource, layers: AgentLayers, agent: AgentConfig, runtime: RuntimeName, hosts: readonly HostSpec[], problems: Problems): void {
    if (agent.hosts === undefined) return;
    const report = (path: FieldPath, message: string) => problems.push({ ...locate(source, layers, path), message });
    if (runtime === "swarm") {
        report(["hosts"], `expected no hosts under runtime swarm (Swarm places the tasks; use placementConstraints), got ${describeValue(agent.hosts)}`);
        return;
    }
    if (hosts.length === 0) {
        report(["hosts"], `expected no hosts when the stack names none in fleet.hosts, got ${describeValue(agent.hosts)}`);
        return;
    }
    const known = hosts.map((h) => h.name);
    agent.hosts.forEach((host, i) => {
        if (!known.includes(host)) report(["hosts", i], `expected a host of fleet.hosts (${known.join(", ")}), got ${JSON.stringify(host)}`);
        else if (agent.hosts!.indexOf(host) !== i) report(["hosts", i], `expected each host once, got ${JSON.stringify(host)} twice`);
    });
}

/** Checks that need the whole merged agent, or the secret store. */
function checkAgent(source: FleetConfigSource, layers: AgentLayers, agent: AgentConfig, runtime: RuntimeName, problems: Problems): void {
    const report = (path: FieldPath, message: string) => problems.push({ ...locate(source, layers, path), message });

    checkWebhooks(source, agent, report);
    // The names the fleet sets itself are its own: set by hand too, one of the two would silently win.
    const owned = fleetOwnedEnv({ webhooks: (agent.webhooks ?? []).map((w) => w.name), secrets: Object.keys(agent.secrets ?? {}), runtime });
    for (const name of Object.keys(agent.env ?? {})) {
        const owner = owned.get(name);
        if (owner) report(["env", name], `expected "${name}" to be left to ${owner}, got it in env too`);
    }
    if (runtime !== "swarm" && agent.placementConstraints !== undefined) {
        report(["placementConstraints"], `expected no placementConstraints under runtime ${runtime} (they place Swarm tasks; set fleet.runtime: swarm), got ${describeValue(agent.placementConstraints)}`);
    }

    for (const [envName, key] of Object.entries(agent.secrets ?? {})) {
        const problem = secretProblem(source, key);
        if (problem) report(["secrets", envName], problem);
        if (agent.env && envName in agent.env) {
            report(["env", envName], `expected "${envName}" in either env or secrets, got it in both`);
        }
    }
    if (agent.hostPort !== undefined && (agent.replicas ?? 1) > 1) {
        report(["hostPort"], `expected no fixed hostPort when replicas is ${agent.replicas} (replicas cannot share a host port), got ${agent.hostPort}`);
    }
    if (agent.containerName !== undefined && (agent.replicas ?? 1) > 1) {
        report(["containerName"], `expected no fixed containerName when replicas is ${agent.replicas}, got ${describeValue(agent.containerName)}`);
    }
    const hc = mergeLayers<typeof TIERS[1]["healthcheck"]>(TIERS[agent.tier].healthcheck, agent.healthcheck);
    if (durationMs(hc.timeout) > durationMs(hc.interval)) {
        // Blame whichever of the two the user set last: that is the edit that broke it.
        if (layerRank(layers, ["healthcheck", "interval"]) >= layerRank(layers, ["healthcheck", "timeout"])) {
            report(["healthcheck", "interval"], `expected an interval no shorter than the timeout (${hc.timeout}), got ${describeValue(hc.interval)}`);
        } else {
            report(["healthcheck", "timeout"], `expected a timeout no longer than the interval (${hc.interval}), got ${describeValue(hc.timeout)}`);
        }
    }
    const seenFlags = new Set<string>();
    (agent.featureFlags ?? []).forEach((flag, index) => {
        if (seenFlags.has(flag.name)) report(["featureFlags", index, "name"], `expected unique flag names, got "${flag.name}" twice`);
        seenFlags.add(flag.name);
        const stages = (flag.stages ?? defaultRolloutStages(agent.tier)).map((s) => s.stage);
        if (flag.currentStage !== undefined && !stages.includes(flag.currentStage)) {
            report(["featureFlags", index, "currentStage"], `expected one of the flag's stages (${stages.join(", ")}), got ${describeValue(flag.currentStage)}`);
        }
        const history = flag.history ?? [];
        history.forEach((record, i) => {
            if (!stages.includes(record.stage)) {
                report(["featureFlags", index, "history", i, "stage"], `expected one of the flag's stages (${stages.join(", ")}), got ${describeValue(record.stage)}`);
            }
            if (i > 0 && Date.parse(record.since) < Date.parse(history[i - 1].since)) {
                report(["featureFlags", index, "history", i, "since"], `expected a time no earlier than the record before it (${history[i - 1].since}), got ${describeValue(record.since)}`);
            }
        });
        const last = history.at(-1);
        const current = flag.currentStage ?? stages[0];
        if (last && last.stage !== current) {
            report(["featureFlags", index, "history"], `expected the last record to be the current stage "${current}" (use \`fleet flag\` to move a flag), got "${last.stage}"`);
        }
    });
}

/**
 * The environment a stack runs as. A stack named after an environment is at
 * least that environment: `environment: dev` in the production stack file
 * would otherwise switch off every production-only policy while the stack's
 * policy config still calls them mandatory. So the stricter of the declared
 * environment and the stack name applies. Other stack names ("preview-42")
 * run as declared.
 */
function environmentOf(source: FleetConfigSource, declared: Environment | undefined, problems: Problems): Environment {
    const named = (ENVIRONMENTS as readonly string[]).includes(source.stack) ? source.stack as Environment : undefined;
    if (declared && named) return ENVIRONMENTS.indexOf(declared) >= ENVIRONMENTS.indexOf(named) ? declared : named;
    if (declared) return declared;
    if (named) return named;
    problems.push({
        file: source.stackFile,
        path: "fleet.environment",
        message: `expected an environment (${ENVIRONMENTS.join(", ")}) because the stack name "${source.stack}" is not one, got nothing`,
    });
    return "dev";
}

function ownEntry(record: Record<string, unknown> | undefined, key: string): unknown {
    return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/** The same problem found through several agents (a shared default) is reported once. */
function unique(problems: Problems): Problems {
    const seen = new Set<string>();
    return problems.filter((p) => {
        const key = `${p.file}\u0000${p.path}\u0000${p.message}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
    });
}

function describeImageConflict(owner: AgentSpec, agent: AgentSpec): string {
    if (!agent.build) return "a pull of a tag that agent builds";
    return owner.build ? "a different build" : "a build of a tag that agent pulls";
}

/**
 * Agents that name the same image share one image resource (see Fleet), so
 * they must agree on how it is made: one tag, one build (or one pull).
 */
function checkSharedImages(source: FleetConfigSource, agents: readonly AgentSpec[], problems: Problems): void {
    const first = new Map<string, AgentSpec>();
    const how = (agent: AgentSpec) => JSON.stringify(agent.build ?? null);
    for (const agent of agents) {
        const owner = first.get(agent.image);
        if (!owner) {
            first.set(agent.image, agent);
        } else if (how(owner) !== how(agent)) {
            problems.push({
                file: source.stackFile,
                path: `fleet.agents.${agent.name}.build`,
                message: `expected the same image source as agent "${owner.name}" for ${JSON.stringify(agent.image)} (agents sharing a tag share one image), got ${describeImageConflict(owner, agent)}`,
            });
        }
    }
}

/** Validates and resolves a fleet config. Throws FleetConfigError with every problem found. */
export function loadFleetConfig(source: FleetConfigSource): FleetSpec {
    return resolveFleet(source).spec;
}

export interface ResolvedFleet {
    readonly spec: FleetSpec;
    /**
     * Each agent's config merged from every layer (catalog, agentDefaults, its
     * entry) and validated, in config terms: what a record of a deployed spec
     * keeps, and what a rollback writes back.
     */
    readonly agentConfigs: Readonly<Record<string, AgentConfig>>;
}

/** loadFleetConfig, with each agent's merged config as well. Throws FleetConfigError with every problem found. */
export function resolveFleet(source: FleetConfigSource): ResolvedFleet {
    const problems: Problems = [];
    const fail = () => new FleetConfigError(source.stack, unique(problems));
    const file = source.stackFile;

    // Each fleet field is checked on its own, so one bad field never hides another's problems.
    const shape = collect(stackFleetShapeSchema, source.fleet, file, "fleet", problems);
    const raw = isPlainObject(source.fleet) ? source.fleet : undefined;
    const field = <T>(key: keyof typeof stackFleetFields, schema: z.ZodType<T>) =>
        raw === undefined ? undefined : collect(schema, ownEntry(raw, key), file, `fleet.${key}`, problems);
    const environmentField = field("environment", stackFleetFields.environment);
    const runtime = field("runtime", stackFleetFields.runtime);
    const channelMap = field("channels", stackFleetFields.channels);
    const agentMap = field("agents", stackFleetFields.agents);
    const allowEmpty = field("allowEmpty", stackFleetFields.allowEmpty);
    const sentinelConfig = field("sentinel", stackFleetFields.sentinel);
    const webhookBaseUrl = field("webhookBaseUrl", stackFleetFields.webhookBaseUrl);
    const edgeConfig = field("edge", stackFleetFields.edge);
    const hostMap = field("hosts", stackFleetFields.hosts);
    // A broken fleet.hosts has its own problems: placement is then not judged against it.
    const hostsWritten = ownEntry(raw, "hosts") !== undefined;
    const hosts = checkHosts(source, hostMap, hostsWritten, runtime ?? "container", problems);
    const registries = checkRegistries(source, field("registries", stackFleetFields.registries), hostsWritten, problems);
    const catalog = source.catalog
        ? collect(catalogSchema, source.catalog.value ?? { agents: {} }, source.catalog.file, "", problems)
        : undefined;
    if (!shape || !agentMap) throw fail();
    const catalogBroken = source.catalog !== undefined && catalog === undefined;

    const environment = environmentOf(source, environmentField, problems);
    const edge = edgeConfig === undefined ? undefined : resolveEdge(edgeConfig, environment, runtime ?? "container");
    const rawDefaults = ownEntry(raw, "agentDefaults");
    const defaults = rawDefaults === undefined ? undefined : collect(partialAgentSchema, rawDefaults, file, "fleet.agentDefaults", problems);
    const defaultsBroken = rawDefaults !== undefined && defaults === undefined;

    const agents: AgentSpec[] = [];
    const agentConfigs: Record<string, AgentConfig> = {};
    for (const name of Object.keys(agentMap).sort()) {
        const catalogEntry = ownEntry(catalog?.agents, name);
        const fromCatalog = catalogEntry === undefined || source.catalog === undefined
            ? undefined
            : collect(partialAgentSchema, catalogEntry ?? {}, source.catalog.file, `agents.${name}`, problems);
        const fromStack = collect(partialAgentSchema, ownEntry(agentMap, name) ?? {}, file, `fleet.agents.${name}`, problems);
        // A broken layer already has its own problem; merging without it would only add false "got nothing"s.
        if (!fromStack || defaultsBroken || catalogBroken || (catalogEntry !== undefined && !fromCatalog)) continue;
        const layers: AgentLayers = { name, catalog: fromCatalog, defaults, stack: fromStack };
        const merged = collect(agentSchema, mergeLayers<PartialAgentConfig>(fromCatalog, defaults, fromStack), file, `fleet.agents.${name}`, problems);
        if (!merged) continue;
        checkAgent(source, layers, merged, runtime ?? "container", problems);
        if (!hostsWritten || hostMap !== undefined) checkPlacement(source, layers, merged, runtime ?? "container", hosts, problems);
        if (merged.build && environment !== "dev") {
            problems.push({
                ...locate(source, layers, ["build"]),
                message: `expected no build in ${environment} (it runs the image a release pipeline built and pushed, never bits built on the deploying machine): set image to that tag or digest, and build: false, got a build of ${describeValue(merged.build.context)}`,
            });
        }
        agents.push(resolveAgent(name, environment, merged, runtime === "swarm" ? [] : hosts.map((h) => h.name), edge));
        agentConfigs[name] = merged;
    }

    checkSharedImages(source, agents, problems);

    const channels: ChannelSpec[] = [];
    for (const name of Object.keys(channelMap ?? {}).sort()) {
        const channel = collect(channelSchema, ownEntry(channelMap, name), file, `fleet.channels.${name}`, problems);
        if (!channel) continue;
        const at = `fleet.channels.${name}`;
        const problem = secretProblem(source, channel.urlSecret);
        if (problem) problems.push({ file, path: `${at}.urlSecret`, message: problem });
        if (channel.type === "webhook" && channel.signingSecret === undefined) {
            problems.push({ file, path: `${at}.signingSecret`, message: "expected the name of a secret stack config key holding the HMAC signing secret: a webhook channel signs every message, got nothing" });
        }
        if (channel.signingSecret !== undefined) {
            const signing = secretProblem(source, channel.signingSecret);
            if (signing) problems.push({ file, path: `${at}.signingSecret`, message: signing });
        }
        (channel.agents ?? []).forEach((agent, i) => {
            if (!agents.some((a) => a.name === agent)) {
                problems.push({ file, path: `${at}.agents[${i}]`, message: `expected an agent of this stack (${agents.map((a) => a.name).join(", ") || "none"}), got ${JSON.stringify(agent)}` });
            }
        });
        channels.push({
            name, type: channel.type, urlSecret: channel.urlSecret, minSeverity: channel.minSeverity ?? "warning",
            ...(channel.signingSecret !== undefined ? { signingSecret: channel.signingSecret } : {}),
            tiers: channel.tiers ?? [], agents: channel.agents ?? [],
        });
    }

    // A signature proves the sender holds the signing secret: one that is also a channel's URL proves only that it holds the URL.
    for (const channel of channels) {
        const owner = channel.signingSecret === undefined ? undefined : channels.find((c) => c.urlSecret === channel.signingSecret);
        if (!owner) continue;
        const whose = owner.name === channel.name ? "its own URL" : `channel ${owner.name}'s URL`;
        problems.push({
            file, path: `fleet.channels.${channel.name}.signingSecret`,
            message: `expected a signing secret of its own, got "${channel.signingSecret}", the key that holds ${whose}: anyone holding that URL could forge this channel's signatures (pulumi config set --secret <a new key> <a random value>)`,
        });
    }

    // An exposed agent's deliveries go to its public URL through the edge; the others' to fleet.webhookBaseUrl.
    const registered = agents.filter((a) => a.webhooks.some((w) => w.source === "github") && a.expose === undefined).map((a) => a.name);
    // A user or password in the URL would be registered with GitHub and stored in the stack file: refused, never echoed.
    if (webhookBaseUrl !== undefined && /^[a-z]+:\/\/[^/?#]*@/i.test(webhookBaseUrl)) {
        problems.push({ file, path: "fleet.webhookBaseUrl", message: "expected a public URL without credentials, like \"https://hooks.acme.dev\" (agents verify each delivery's signature; a user or password here would be sent to GitHub and kept in the stack file), got one with credentials (not shown)" });
    }
    if (registered.length > 0 && webhookBaseUrl === undefined) {
        problems.push({ file, path: "fleet.webhookBaseUrl", message: `expected the public URL the agents' webhook paths are reachable under, like "https://hooks.acme.dev" (agents ${registered.join(", ")} register GitHub webhooks and are not exposed through fleet.edge, which would give them their own), got nothing` });
    }

    checkExposures(file, agentConfigs, edgeConfig, runtime ?? "container", problems);

    if (problems.length > 0) throw fail();
    // A channel that hears a tier or names an agent routes to it as if the agent listed it: one list per agent, used everywhere.
    const routed = agents.map((agent) => {
        const heard = channels.filter((c) => c.tiers.includes(agent.tier) || c.agents.includes(agent.name)).map((c) => c.name);
        return heard.every((c) => agent.alertChannels.includes(c)) ? agent : { ...agent, alertChannels: [...new Set([...agent.alertChannels, ...heard])] };
    });
    const sentinel = resolveSentinel(sentinelConfig, channels);
    const spec: FleetSpec = {
        stack: source.stack, stackFile: source.stackFile, environment, runtime: runtime ?? "container", channels, agents: routed,
        allowEmpty: allowEmpty ?? false, ...(sentinel ? { sentinel } : {}), ...(edge ? { edge } : {}), hosts, registries,
        ...(webhookBaseUrl === undefined ? {} : { webhookBaseUrl: webhookBaseUrl.replace(/\/+$/, "") }),
    };
    return { spec, agentConfigs };
}

/** The edge's image when the stack file names none: Caddy's official image (pin it by digest outside dev). */
const DEFAULT_EDGE_IMAGE = "caddy:2-alpine";
/**
 * The edge's body limit when the stack file sets none: a bound on what reaches any agent, far above a
 * webhook's usual size (agents keep limits of their own: the sample agent takes 64 KiB).
 */
const DEFAULT_EDGE_MAX_BODY = "1MiB";
/**
 * Where the swarm's edge runs when the stack file does not say: the managers. Its routes are loaded through
 * the engine the deploy reaches, a manager; a single-manager swarm's edge is then on the one node it reaches.
 */
const DEFAULT_EDGE_PLACEMENT = ["node.role==manager"];

function resolveEdge(config: EdgeConfig, environment: Environment, runtime: RuntimeName): EdgeSpec {
    const [, amount, unit] = /^(\d+)(KiB|MiB)$/.exec(config.maxBodySize ?? DEFAULT_EDGE_MAX_BODY)!;
    return {
        hostname: config.hostname,
        // A dev machine has no public name to prove to an ACME CA: its edge signs its own certificates.
        tls: config.tls ?? (environment === "dev" ? "internal" : "acme"),
        ...(config.acmeEmail ? { acmeEmail: config.acmeEmail } : {}),
        ...(config.acmeCa ? { acmeCa: config.acmeCa } : {}),
        ...(config.acmeCaRoot ? { acmeCaRoot: `${config.acmeCaRoot.trim()}\n` } : {}),
        image: config.image ?? DEFAULT_EDGE_IMAGE,
        httpPort: config.httpPort ?? 80,
        httpsPort: config.httpsPort ?? 443,
        listenAddress: config.listenAddress ?? "0.0.0.0",
        maxBodyBytes: Number(amount) * (unit === "MiB" ? 1024 * 1024 : 1024),
        placementConstraints: runtime === "swarm" ? config.placementConstraints ?? DEFAULT_EDGE_PLACEMENT : [],
    };
}

/** An agent's `expose`, resolved against the edge: its address there, and the public URL that makes. */
function exposureOf(expose: string, edge: EdgeSpec): AgentExposure {
    return expose.startsWith("/")
        ? { pathPrefix: expose, url: `${edgeOrigin(edge, edge.hostname)}${expose}` }
        : { hostname: expose, url: edgeOrigin(edge, expose) };
}

/** Each exposure needs an edge to reach it through, and its own address there. */
function checkExposures(file: string, agents: Readonly<Record<string, AgentConfig>>, edge: EdgeConfig | undefined, runtime: RuntimeName, problems: Problems): void {
    if (edge !== undefined && runtime === "swarm" && edge.listenAddress !== undefined && edge.listenAddress !== "0.0.0.0") {
        // Swarm's port config has no host address: a task's published port listens on every address of its node.
        problems.push({ file, path: "fleet.edge.listenAddress", message: `expected no listenAddress under runtime swarm (Swarm publishes a task's ports on every address of its node; firewall the node instead), got ${JSON.stringify(edge.listenAddress)}` });
    }
    if (edge?.placementConstraints !== undefined && runtime !== "swarm") {
        problems.push({ file, path: "fleet.edge.placementConstraints", message: `expected no placementConstraints under runtime ${runtime} (they place the swarm's edge; the container runtime runs one edge per host), got ${JSON.stringify(edge.placementConstraints)}` });
    }
    const seen = new Map<string, string>();
    for (const [name, agent] of Object.entries(agents)) {
        const address = agent.expose;
        if (!address) continue;
        const at = `fleet.agents.${name}.expose`;
        if (edge === undefined) {
            problems.push({ file, path: at, message: `expected fleet.edge to be declared (the HTTPS proxy exposed agents are reached through), got an exposure of ${JSON.stringify(address)} and no edge` });
            continue;
        }
        if (address === edge.hostname) {
            problems.push({ file, path: at, message: `expected a hostname of the agent's own or a path prefix, got the edge's own hostname ${JSON.stringify(address)} (its paths belong to the agents exposed by path)` });
            continue;
        }
        const other = seen.get(address);
        if (other) problems.push({ file, path: at, message: `expected an address no other agent is exposed at, got ${JSON.stringify(address)}, agent ${other}'s` });
        else seen.set(address, name);
    }
}

/** The sentinel's image when the stack file names none: built from the repository's own agents/sentinel. */
const DEFAULT_SENTINEL_IMAGE = "agent-fleet/sentinel:local";
const DEFAULT_SENTINEL_BUILD_CONTEXT = "agents/sentinel";
const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";
/** The sentinel's docker proxy when the stack file names none: built from the repository's own agents/docker-proxy (Caddy). */
const DEFAULT_PROXY_IMAGE = "agent-fleet/docker-proxy:local";
const DEFAULT_PROXY_BUILD_CONTEXT = "agents/docker-proxy";

/** Watching is on whenever someone would hear it: a fleet with a channel gets a sentinel unless it opts out. */
function resolveSentinel(config: SentinelConfig | undefined, channels: readonly ChannelSpec[]): SentinelSpec | undefined {
    if (!(config?.enabled ?? channels.length > 0)) return undefined;
    const build = config?.build ?? (config?.image === undefined ? {} : undefined);
    return {
        image: config?.image ?? DEFAULT_SENTINEL_IMAGE,
        ...(build ? { build: { context: build.context ?? DEFAULT_SENTINEL_BUILD_CONTEXT, ...(build.dockerfile ? { dockerfile: build.dockerfile } : {}), args: build.args ?? {} } } : {}),
        reminderAfterMs: durationMs(config?.reminderAfter ?? "30m"),
        dockerSocket: config?.dockerSocket ?? DEFAULT_DOCKER_SOCKET,
        ...(config?.socketGroup === undefined ? {} : { socketGroup: config.socketGroup }),
        proxy: config?.proxyImage === undefined ? { image: DEFAULT_PROXY_IMAGE, build: { context: DEFAULT_PROXY_BUILD_CONTEXT, args: {} } } : { image: config.proxyImage },
    };
}
