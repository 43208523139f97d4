import * as pulumi from "@pulumi/pulumi";
import { AgentServiceInputs, AgentSpec, Tier, agentSpecHash, stackFileName } from "../../config";
import { COMPONENT_TYPES, EngineHealthFeatures, LABELS, PLATFORM_ENV, WEBHOOKS_ENV, goDuration, onHostResourceName } from "../../contract";
import { AgentRuntime, RuntimeTransforms, containerRuntime } from "../runtimes";
import { AgentImageTransforms, declareAgentImage } from "./image";
import { AgentWebhookTransforms, GithubProviderFor, declareGithubWebhooks } from "./webhooks";

export { LABELS };

/**
 * What an AgentService registers as its inputs: the resolved agent and where
 * it is configured. Policy packs judge agents from this (never from provider
 * terms), so their messages can name the fleet config field to change.
 * It holds secret config key names, never secret values.
 */

export interface AgentServiceTransforms extends RuntimeTransforms, AgentImageTransforms, AgentWebhookTransforms {}

/** One host of `fleet.hosts` the agent runs on, with what the Fleet declared there. */
export interface AgentPlacement {
    /** The host's name in `fleet.hosts`: "app-1". */
    readonly host: string;
    /** That host's Docker provider. */
    readonly provider: pulumi.ProviderResource;
    /** The fleet network on that host. */
    readonly networkName: pulumi.Input<string>;
    readonly networkId?: pulumi.Input<string>;
    /** The agent's image on that host, in the runtime's `imageReference` form. */
    readonly imageRef: pulumi.Input<string>;
    /** What that host's engine offers the health probes; default an engine without start_interval. */
    readonly engine?: EngineHealthFeatures;
}

export interface AgentServiceArgs {
    /** The agent, fully resolved from the fleet config (see `loadFleetConfig`). */
    readonly spec: AgentSpec;
    /** Docker network the agent joins. */
    readonly networkName: pulumi.Input<string>;
    /** That network's id; the swarm runtime names networks by id. Default: `networkName`, which Docker also accepts. */
    readonly networkId?: pulumi.Input<string>;
    /**
     * What the engine the instances run on offers their health probes (Fleet asks each engine, see
     * `engineHealthFeatures`); with `placements`, each placement's own.
     * @default an engine without start_interval: probes every interval, or every 2 s for an agent that sets its own startInterval
     */
    readonly engine?: EngineHealthFeatures;
    /**
     * Image reference the caller already declared (in the runtime's `imageReference` form), for agents that share one
     * (Fleet declares one image per distinct build or reference). Default: the
     * component declares its own image from `spec.image` and `spec.build`.
     */
    readonly imageRef?: pulumi.Input<string>;
    /** A value for every env var in `spec.secrets`; kept secret whether or not the input is. */
    readonly secretValues?: Readonly<Record<string, pulumi.Input<string>>>;
    /** How the agent runs; defaults to plain Docker containers. */
    readonly runtime?: AgentRuntime;
    /**
     * What a locally built image is made from ("3f2a1c9", "3f2a1c9-dirty"): the version label and AGENT_VERSION
     * then say what was built. Default: `spec.version`.
     */
    readonly builtVersion?: string;
    /** Stack the agent belongs to; defaults to the running stack. */
    readonly stack?: string;
    /** Display path of the stack file, for policy messages; defaults to stacks/Pulumi.<stack>.yaml. */
    readonly stackFile?: string;
    /** Hooks to adjust child resources. */
    readonly transform?: AgentServiceTransforms;
    /**
     * The hosts the agent runs on (`fleet.hosts`), `spec.replicas` instances on each, through each host's provider.
     * Default: one engine, the default provider, with `networkName`, `networkId` and `imageRef`.
     */
    readonly placements?: readonly AgentPlacement[];
    /** Lifecycle hooks for the agent's instances, e.g. deploy notifications (see DeployNotifier); default none. */
    readonly hooks?: pulumi.ResourceHookBinding;
    /** Public base URL of the agent's webhook paths (`fleet.webhookBaseUrl`); needed when it has github webhooks. */
    readonly webhookBaseUrl?: string;
    /** The GitHub provider for a repository owner; default: the default provider (`github:owner`, `GITHUB_TOKEN`). */
    readonly githubProvider?: GithubProviderFor;
}

/** Checks args that the config loader cannot see, e.g. when the component is used directly. */
function validateAgentServiceArgs(name: string, args: AgentServiceArgs): void {
    const declared = Object.keys(args.spec.secrets);
    const given = Object.keys(args.secretValues ?? {});
    const missing = declared.filter((key) => !given.includes(key));
    const extra = given.filter((key) => !declared.includes(key));
    if (missing.length > 0) {
        throw new Error(`AgentService "${name}": secretValues has no value for ${missing.join(", ")}, which spec.secrets declares`);
    }
    if (extra.length > 0) {
        throw new Error(`AgentService "${name}": secretValues has ${extra.join(", ")}, which spec.secrets does not declare`);
    }
    const registered = args.spec.webhooks.filter((w) => w.source === "github");
    if (registered.length > 0 && args.webhookBaseUrl === undefined) {
        throw new Error(`AgentService "${name}": webhooks ${registered.map((w) => w.name).join(", ")} register with GitHub and need webhookBaseUrl`);
    }
    if (args.spec.replicas < 1 || !Number.isInteger(args.spec.replicas)) {
        throw new Error(`AgentService "${name}": spec.replicas must be a whole number of at least 1, got ${args.spec.replicas}`);
    }
}

/**
 * Labels for one agent, in a stable order: who it is, and what the sentinel
 * watches after a deploy (read back by contract's watchFromLabels).
 */
export function agentLabels(spec: AgentSpec, stack: string, version: string = spec.version): Record<string, string> {
    return {
        [LABELS.agent]: spec.name,
        [LABELS.tier]: String(spec.tier),
        [LABELS.version]: version,
        [LABELS.environment]: spec.environment,
        [LABELS.stack]: stack,
        [LABELS.specHash]: agentSpecHash(spec),
        [LABELS.image]: spec.image,
        ...(spec.rollbackImage === undefined ? {} : { [LABELS.rollbackImage]: spec.rollbackImage }),
        [LABELS.monitorWindow]: goDuration(spec.monitorWindowMs),
        [LABELS.port]: String(spec.port),
        [LABELS.healthcheckInterval]: goDuration(spec.healthcheck.intervalMs),
        ...(spec.errorRateLimitPercent === undefined ? {} : { [LABELS.errorRateLimit]: String(spec.errorRateLimitPercent) }),
        ...(spec.smokeChecks.length === 0 ? {} : { [LABELS.smokeChecks]: JSON.stringify(spec.smokeChecks) }),
    };
}

/** Env vars the platform sets for every agent (contract/agent-env.ts lists them; the loader keeps them out of `env`). */
function platformEnv(spec: AgentSpec, version: string = spec.version): Record<string, string> {
    return {
        [PLATFORM_ENV.AGENT_NAME]: spec.name,
        [PLATFORM_ENV.AGENT_VERSION]: version,
        [PLATFORM_ENV.FLEET_ENVIRONMENT]: spec.environment,
        [PLATFORM_ENV.PORT]: String(spec.port),
        [PLATFORM_ENV.FEATURE_FLAGS]: JSON.stringify(Object.fromEntries(spec.featureFlags.map((flag) => [flag.name, flag.currentStage]))),
        // Only agents with webhooks get it, so adding the feature replaced no running agent.
        ...(spec.webhooks.length === 0 ? {} : {
            [WEBHOOKS_ENV]: JSON.stringify(spec.webhooks.map((w) => ({ name: w.name, source: w.source, path: w.path, secretEnv: w.secretEnv }))),
        }),
    };
}

/**
 * One mini-agent: its image and its running instances. Deploys, fails and
 * rolls back on its own: nothing in it depends on another agent.
 */
export class AgentService extends pulumi.ComponentResource {
    /** Names of the running instances, one per replica. */
    public readonly instances: pulumi.Output<string[]>;
    /** What the instances run: the local image id, or under Swarm the registry digest. */
    public readonly imageRef: pulumi.Output<string>;
    /** Health URL of each replica, as reachable from the Docker host. */
    public readonly healthUrls: pulumi.Output<string[]>;
    /** The host (`fleet.hosts`) of each entry of `instances`; undefined when the stack names no hosts. */
    public readonly instanceHosts?: pulumi.Output<string[]>;
    public readonly tier: pulumi.Output<Tier>;
    public readonly version: pulumi.Output<string>;

    constructor(name: string, args: AgentServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate before registering anything, so a bad call leaves no half-made component.
        validateAgentServiceArgs(name, args);
        const stack = args.stack ?? pulumi.getStack();
        const inputs: AgentServiceInputs = { agent: args.spec, stack, stackFile: args.stackFile ?? stackFileName(stack) };
        super(COMPONENT_TYPES.agentService, name, inputs, opts);
        const { spec } = args;
        const version = args.builtVersion ?? spec.version;

        const runtime = args.runtime ?? containerRuntime;
        const labels = agentLabels(spec, stack, version);
        const deploy = (placement?: AgentPlacement) => runtime.deploy({
            parent: this,
            name: onHostResourceName(name, placement?.host),
            spec,
            image: placement ? placement.imageRef : this.imageRef,
            env: { ...platformEnv(spec, version), ...spec.env },
            secretValues: args.secretValues ?? {},
            labels: placement ? { ...labels, [LABELS.host]: placement.host } : labels,
            networkName: placement ? placement.networkName : args.networkName,
            networkId: placement ? placement.networkId : args.networkId,
            transform: args.transform,
            hooks: args.hooks,
            provider: placement?.provider,
            engine: placement ? placement.engine : args.engine,
        });
        let deployment: { instanceNames: pulumi.Output<string[]>; healthUrls: pulumi.Output<string[]> };
        if (args.placements) {
            // The image of the first host stands for all: every host runs the same reference, resolved on each.
            this.imageRef = pulumi.output(args.placements[0]?.imageRef ?? "");
            const deployments = args.placements.map((placement) => ({ placement, deployment: deploy(placement) }));
            deployment = {
                instanceNames: pulumi.all(deployments.map((d) => d.deployment.instanceNames)).apply((lists) => lists.flat()),
                healthUrls: pulumi.all(deployments.map((d) => d.deployment.healthUrls)).apply((lists) => lists.flat()),
            };
            this.instanceHosts = pulumi.all(deployments.map((d) => d.deployment.instanceNames.apply((names) => names.map(() => d.placement.host)))).apply((lists) => lists.flat());
        } else {
            this.imageRef = args.imageRef !== undefined
                ? pulumi.output(args.imageRef)
                : declareAgentImage(`${name}-image`, spec, this, args.transform, runtime.imageReference);
            deployment = deploy();
        }

        // After the instances: GitHub may deliver as soon as a webhook is registered.
        declareGithubWebhooks(name, spec, args.webhookBaseUrl, args.secretValues ?? {}, this, args.githubProvider, args.transform);

        this.instances = deployment.instanceNames;
        this.healthUrls = deployment.healthUrls;
        this.tier = pulumi.output(spec.tier);
        this.version = pulumi.output(version);
        // Stack policies see a component's outputs, not its inputs: keep the fleet config in both.
        this.registerOutputs({
            ...inputs,
            instances: this.instances,
            imageRef: this.imageRef,
            healthUrls: this.healthUrls,
            ...(this.instanceHosts ? { instanceHosts: this.instanceHosts } : {}),
            tier: this.tier,
            version: this.version,
        });
    }
}
