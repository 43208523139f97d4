import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as github from "@pulumi/github";
import { type AgentSpec, type EdgeSpec, type FleetSpec, type HostSpec, fleetInputsOf, webhookBaseUrlOf } from "../../config";
import { COMPONENT_TYPES, EngineHealthFeatures, LABELS, githubRepositoryKey, onHostResourceName } from "../../contract";
import { AgentPlacement, AgentService, AgentServiceTransforms, declareAgentImage, sharedImageResourceName } from "../agent-service";
import { Edge, EdgeRoute } from "../edge";
import { githubProviderFor } from "../github-provider";
import { DeployNotificationsArgs, DeployNotifier } from "../notifications";
import { AgentRuntime, RUNTIMES_BY_NAME, engineHealthFeatures } from "../runtimes";
import { Sentinel, SentinelTransforms } from "../sentinel";
import { Transform, applyTransform } from "../transform";

interface FleetTransforms {
    /** Adjusts each host's `docker.Provider` (`fleet.hosts`), e.g. its `sshOpts`. */
    readonly provider?: Transform<docker.ProviderArgs>;
    /** Adjusts the environment's `docker.Network` (one per host). */
    readonly network?: Transform<docker.NetworkArgs>;
    /** Adjusts every agent's child resources. */
    readonly agent?: AgentServiceTransforms;
    /** Adjusts the sentinel's child resources. */
    readonly sentinel?: SentinelTransforms;
}

export interface FleetArgs {
    /** The validated fleet (see `loadFleetConfig`). */
    readonly spec: FleetSpec;
    /** Reads a secret stack config key; only called for keys the spec names. */
    readonly secretConfig: (key: string) => pulumi.Output<string>;
    /** Hooks to adjust child resources. */
    readonly transform?: FleetTransforms;
    /**
     * Deploy notifications (`deploy.started`, `deploy.succeeded`, `deploy.failed`,
     * `health.failed`) to the agents' routed channels, from resource hooks on their
     * containers. Default: on whenever the fleet declares a channel; false turns them off.
     */
    readonly deployNotifications?: boolean | Omit<DeployNotificationsArgs, "spec" | "secretConfig">;
}

/** What a Fleet registers as its inputs, for stack policies: where it is configured, its alert channels, and whether it may be empty. */

/** The resource name of an agent's AgentService under a Fleet; its containers' names derive from it. */
export function agentServiceResourceName(fleetName: string, agent: string): string {
    return `${fleetName}-${agent}`;
}

/** What the stack exports for each agent. */
export interface AgentOutputs {
    instances: pulumi.Output<string[]>;
    /** The host (`fleet.hosts`) of each instance; only when the stack names hosts. */
    instanceHosts?: pulumi.Output<string[]>;
    imageRef: pulumi.Output<string>;
    healthUrls: pulumi.Output<string[]>;
    tier: pulumi.Output<number>;
    version: pulumi.Output<string>;
}

/** One engine the fleet deploys to: a host of `fleet.hosts` with its provider, or the stack's one engine (no host, the default provider). */
interface FleetEngine {
    readonly host?: string;
    readonly provider?: docker.Provider;
    readonly network: docker.Network;
    /** Each image reference's resolved form on this engine. */
    readonly images: Map<string, pulumi.Output<string>>;
    /** How the docker CLI reaches the engine: "ssh://…", "unix://…", or "" for the program's own (DOCKER_HOST, else the local socket). */
    readonly dockerHost: string;
    /** What the engine offers health probes. */
    readonly health: EngineHealthFeatures;
}

/**
 * Whether the agent is deployed through this engine: every engine when the stack names no hosts, its own
 * hosts otherwise. Swarm places an agent's tasks itself, through its one engine (the manager).
 */
function runsOn(spec: FleetSpec, agent: AgentSpec, engine: FleetEngine): boolean {
    return spec.runtime === "swarm" || engine.host === undefined || agent.hosts.includes(engine.host);
}

/**
 * One environment's fleet: per engine (each host of `fleet.hosts`, or the
 * stack's one engine) a network, the images and the sentinel; and one
 * independent AgentService per agent, with instances on each of its hosts.
 * Agents never depend on each other, so one agent's failed create or
 * replace leaves the others' resources declared and untouched; a host's
 * resources depend only on that host's provider.
 */
export class Fleet extends pulumi.ComponentResource {
    public readonly networkName: pulumi.Output<string>;
    public readonly agents: Record<string, AgentOutputs>;
    /** The sentinel's container name, when the fleet has one (see `fleet.sentinel`). */
    public readonly sentinelContainerName?: pulumi.Output<string>;

    constructor(name: string, args: FleetArgs, opts?: pulumi.ComponentResourceOptions) {
        const { spec } = args;
        const inputs = fleetInputsOf(spec);
        super(COMPONENT_TYPES.fleet, name, inputs, opts);

        const runtime = RUNTIMES_BY_NAME[spec.runtime];
        const engines = (spec.hosts.length > 0 ? spec.hosts : [undefined]).map((host) => this.declareEngine(name, args, runtime, host));
        this.networkName = engines[0].network.name;

        const hooks = spec.channels.length > 0 && args.deployNotifications !== false
            ? new DeployNotifier({ ...(typeof args.deployNotifications === "object" ? args.deployNotifications : {}), spec, secretConfig: args.secretConfig }).hooks(name)
            : undefined;
        this.agents = {};
        for (const agent of spec.agents) {
            const on = engines.filter((engine) => runsOn(spec, agent, engine));
            // An image that could not be declared was logged with its agents, which fails the update.
            if (on.some((engine) => !engine.images.has(agent.image))) continue;
            try {
                this.agents[agent.name] = this.declareAgent(name, agent, args, runtime, on, hooks);
            } catch (error) {
                // Logged errors fail the update, but the other agents are still declared, so
                // Pulumi neither deletes nor blocks them for one agent's mistake.
                pulumi.log.error(`agent "${agent.name}" was not declared: ${error instanceof Error ? error.message : String(error)}`, this);
            }
        }
        if (spec.sentinel) {
            // Watches the agents of its engine by their labels, so it depends on none of them: it deploys (or fails) on its own too.
            const sentinels = engines.map((engine) => new Sentinel(onHostResourceName(`${name}-sentinel`, engine.host), {
                spec, networkName: engine.network.name, secretConfig: args.secretConfig, transform: args.transform?.sentinel,
            }, { parent: this, ...(engine.provider ? { providers: [engine.provider] } : {}) }).containerName);
            this.sentinelContainerName = sentinels[0];
        }
        if (spec.edge) this.declareEdges(name, spec, spec.edge, engines);
        // Stack policies see a component's outputs, not its inputs: keep the fleet config in both.
        this.registerOutputs({ ...inputs, networkName: this.networkName, agents: this.agents, sentinelContainerName: this.sentinelContainerName });
    }

    /** One engine's provider (for a host of `fleet.hosts`), network and images. */
    private declareEngine(name: string, args: FleetArgs, runtime: AgentRuntime, host: HostSpec | undefined): FleetEngine {
        const { spec, transform } = args;
        let provider: docker.Provider | undefined;
        if (host) {
            // The provider reaches the host as the user's own `ssh` does (~/.ssh/config, keys, agent, known_hosts),
            // and pulls with the stack's registry logins: their passwords are secret outputs, kept encrypted in state.
            const providerName = `${name}-host-${host.name}`;
            const registryAuth = spec.registries.map((r) => ({ address: r.address, username: r.username, password: args.secretConfig(r.passwordSecret) }));
            const [providerArgs, providerOpts] = applyTransform<docker.ProviderArgs>(transform?.provider, providerName, {
                host: host.docker,
                ...(registryAuth.length > 0 ? { registryAuth } : {}),
            }, { parent: this });
            provider = new docker.Provider(providerName, providerArgs, providerOpts);
        }
        const on = provider ? { provider } : {};
        const networkResourceName = onHostResourceName(`${name}-${spec.environment}-network`, host?.name);
        const [networkArgs, networkOpts] = applyTransform<docker.NetworkArgs>(transform?.network, networkResourceName, {
            // Swarm services span nodes: an overlay network, attachable so the sentinel's plain container can join it.
            ...(spec.runtime === "swarm" ? { driver: "overlay", attachable: true } : { driver: "bridge" }),
            labels: [
                { label: LABELS.environment, value: spec.environment },
                { label: LABELS.stack, value: spec.stack },
            ],
        }, { parent: this, ...on });
        const network = new docker.Network(networkResourceName, networkArgs, networkOpts);
        const agents = host && spec.runtime !== "swarm" ? spec.agents.filter((a) => a.hosts.includes(host.name)) : spec.agents;
        const images = this.declareImages(name, agents, runtime, transform?.agent, host?.name, provider);
        const dockerHost = host?.docker ?? new pulumi.Config("docker").get("host") ?? "";
        // Asked during previews and updates alike, so that both declare the same healthcheck.
        return { host: host?.name, provider, network, images, dockerHost, health: engineHealthFeatures(dockerHost) };
    }

    /**
     * One image per distinct reference, shared by every agent that runs it.
     * Agents building the same tag each with their own `docker.Image` would
     * build it concurrently, and each reads the id back by tag: which build an
     * agent ends up pinned to would be a race. (The loader refuses two
     * different builds under one tag.)
     */
    private declareImages(
        name: string, agents: readonly AgentSpec[], runtime: AgentRuntime, transform: AgentServiceTransforms | undefined, host: string | undefined, provider: docker.Provider | undefined,
    ): Map<string, pulumi.Output<string>> {
        const images = new Map<string, pulumi.Output<string>>();
        for (const agent of agents) {
            if (images.has(agent.image)) continue;
            try {
                images.set(agent.image, declareAgentImage(onHostResourceName(sharedImageResourceName(name, agent.image), host), agent, this, transform, runtime.imageReference, provider));
            } catch (error) {
                // Like a failing agent: logged (the update fails), and the agents on other images are still declared.
                const users = agents.filter((a) => a.image === agent.image).map((a) => a.name).join(", ");
                pulumi.log.error(`image "${agent.image}" was not declared, so agents ${users} were not either: ${error instanceof Error ? error.message : String(error)}`, this);
            }
        }
        return images;
    }

    /**
     * One edge per engine, routing to the exposed agents' containers there (on the swarm, to their
     * services). Its routes take the containers' names as they come out of their creates, that is
     * after the health gate: a new container is routed to only once healthy, and before the
     * container it replaces is deleted. A service's name stays across its rolling updates, and
     * Swarm's DNS answers it with the tasks that passed their healthchecks.
     */
    private declareEdges(name: string, spec: FleetSpec, edge: EdgeSpec, engines: readonly FleetEngine[]): void {
        for (const engine of engines) {
            const routes = spec.agents.flatMap((agent) => {
                const outputs = this.agents[agent.name];
                if (!agent.expose || !outputs || !runsOn(spec, agent, engine)) return [];
                const upstreams = pulumi.all([outputs.instances, outputs.instanceHosts ?? pulumi.output(undefined)]).apply(([names, hosts]) =>
                    names.filter((_, i) => hosts === undefined || hosts[i] === engine.host));
                return [upstreams.apply((list): EdgeRoute => ({ agent: agent.name, expose: agent.expose!, upstreams: list, port: agent.port }))];
            });
            const host = spec.hosts.find((h) => h.name === engine.host);
            new Edge(onHostResourceName(`${name}-edge`, engine.host), {
                spec: edge, environment: spec.environment, stack: spec.stack, runtime: spec.runtime, networkName: engine.network.name, networkId: engine.network.id,
                routes: pulumi.all(routes), dockerHost: engine.dockerHost, ...(host ? { host: host.name } : {}),
            }, { parent: this, ...(engine.provider ? { providers: [engine.provider] } : {}) });
        }
    }

    private readonly githubProviders = new Map<string, github.Provider>();

    /** One GitHub provider per repository owner the agents' webhooks name. */
    private githubProvider(fleetName: string, owner: string): github.Provider {
        // One provider per owner as GitHub counts owners ("Acme" is "acme"), named after the first spelling seen.
        const key = githubRepositoryKey(owner);
        let provider = this.githubProviders.get(key);
        if (!provider) {
            provider = githubProviderFor(fleetName, owner, { parent: this });
            this.githubProviders.set(key, provider);
        }
        return provider;
    }

    private declareAgent(
        name: string,
        agent: AgentSpec,
        args: FleetArgs,
        runtime: AgentRuntime,
        engines: readonly FleetEngine[],
        hooks: pulumi.ResourceHookBinding | undefined,
    ): AgentOutputs {
        const secretValues = Object.fromEntries(
            Object.entries(agent.secrets).map(([envName, key]) => [envName, args.secretConfig(key)]),
        );
        const [single] = engines;
        const placements: AgentPlacement[] | undefined = single.host === undefined ? undefined : engines.map((engine) => ({
            host: engine.host!, provider: engine.provider!, networkName: engine.network.name, networkId: engine.network.id, imageRef: engine.images.get(agent.image)!, engine: engine.health,
        }));
        const service = new AgentService(agentServiceResourceName(name, agent.name), {
            spec: agent,
            networkName: single.network.name,
            networkId: single.network.id,
            imageRef: single.images.get(agent.image)!,
            engine: single.health,
            placements,
            secretValues,
            runtime,
            builtVersion: args.spec.builtVersions?.[agent.name],
            stack: args.spec.stack,
            stackFile: args.spec.stackFile,
            transform: args.transform?.agent,
            hooks,
            webhookBaseUrl: webhookBaseUrlOf(agent, args.spec),
            githubProvider: (owner) => this.githubProvider(name, owner),
        }, { parent: this });
        return {
            instances: service.instances,
            ...(service.instanceHosts ? { instanceHosts: service.instanceHosts } : {}),
            imageRef: service.imageRef,
            healthUrls: service.healthUrls,
            tier: service.tier,
            version: service.version,
        };
    }
}
