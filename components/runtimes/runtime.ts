import * as pulumi from "@pulumi/pulumi";
import type * as docker from "@pulumi/docker";
import type { AgentSpec } from "../../config";
import type { Transform } from "../transform";
import type { EngineHealthFeatures } from "../../contract";

/** Hooks for the resources a runtime creates. Each runtime reads the ones that apply to it. */
export interface RuntimeTransforms {
    /** Adjusts each `docker.Container` of the container runtime. */
    readonly container?: Transform<docker.ContainerArgs>;
    /** Adjusts the `docker.Service` of the swarm runtime. */
    readonly service?: Transform<docker.ServiceArgs>;
    /** Adjusts each `docker.Secret` of the swarm runtime. */
    readonly secret?: Transform<docker.SecretArgs>;
}

/**
 * The data a runtime's resources are built from: plain values and outputs,
 * no resources and no hooks, so argument builders stay pure functions that
 * tests and tools can call without a Pulumi component around them.
 */
export interface RuntimeDeployData {
    readonly spec: AgentSpec;
    /** Image id or digest to run, so that a new image replaces the instances. */
    readonly image: pulumi.Input<string>;
    /** Plain environment variables: the platform's and the agent's own `env`. */
    readonly env: Readonly<Record<string, string>>;
    /** A value for every env var in `spec.secrets`. Each runtime decides how it reaches the agent. */
    readonly secretValues: Readonly<Record<string, pulumi.Input<string>>>;
    readonly labels: Readonly<Record<string, string>>;
    /** Docker network the agent joins, reachable there under its agent name. */
    readonly networkName: pulumi.Input<string>;
    /** The same network's id: a service's spec names its networks by id (read back so; a name would replace it on every refresh). */
    readonly networkId?: pulumi.Input<string>;
    /** What the engine these instances run on offers their health probes; default an engine without start_interval. */
    readonly engine?: EngineHealthFeatures;
}

/** Everything a runtime needs to run one agent; AgentService builds it. */
export interface RuntimeDeployContext extends RuntimeDeployData {
    /** The AgentService: parent of every resource the runtime creates. */
    readonly parent: pulumi.ComponentResource;
    /** Logical name of the AgentService; children derive their names from it. */
    readonly name: string;
    readonly transform?: RuntimeTransforms;
    /** Lifecycle hooks for each instance (deploy notifications); default none. */
    readonly hooks?: pulumi.ResourceHookBinding;
    /** The Docker provider of the host these instances run on (`fleet.hosts`); default the stack's default provider. */
    readonly provider?: pulumi.ProviderResource;
}

/** What a runtime reports back for the agent's outputs. */
export interface RuntimeDeployment {
    /** One name per replica. */
    readonly instanceNames: pulumi.Output<string[]>;
    /** One health URL per replica, as reachable from the Docker host. */
    readonly healthUrls: pulumi.Output<string[]>;
}

/**
 * How an agent runs: plain `docker run` (container.ts) or a Swarm service
 * with zero-downtime rolling updates (swarm.ts). AgentService and Fleet
 * callers never change with the runtime.
 */
export interface AgentRuntime {
    readonly name: string;
    /**
     * What the runtime runs an image by: the local image id (one host), or the
     * registry digest ("repo@sha256:…"), so every node of a cluster runs the same bits.
     */
    readonly imageReference: "local-id" | "registry-digest";
    deploy(context: RuntimeDeployContext): RuntimeDeployment;
}
