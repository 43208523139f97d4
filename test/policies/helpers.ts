/**
 * Policy-test arguments from the real components: a Fleet declared under the
 * same mocks `fleet check` uses, each registration handed to the shared
 * analyzer (policies/analyzer) exactly as the engine hands it to the pack.
 * A spec changes one field of the config (or one `transform` hook) and
 * asserts what one policy reports.
 */
import * as pulumi from "@pulumi/pulumi";
import type * as docker from "@pulumi/docker";
import type * as github from "@pulumi/github";
import type { ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import { RegisteredResource, engineResourceOf, startMocks } from "../../cli/services/mocks";
import { Fleet } from "../../components";
import { agentServiceResourceName } from "../../components/fleet/fleet";
import { replicaResourceName } from "../../components/runtimes/container";
import type { Transform } from "../../components/transform";
import { AgentSpec, FleetSpec, RuntimeName, stackFileName } from "../../config";
import { COMPONENT_TYPES, DOCKER_TYPES } from "../../contract";
import {
    EngineResource, PolicyEnvironment, isResourcePolicy, isStackPolicy, resourceValidationArgs, runResourcePolicy, runStackPolicy, stackValidationArgs,
} from "../../policies/analyzer";
import type { FleetPolicy } from "../../policies/rules";
import { PROJECT, settle } from "../support/pulumi";

/** Name of the Fleet that index.ts declares; AgentService and container names derive from it. */
export const FLEET_NAME = "fleet";

export interface DeclareOptions {
    /** A `transform.agent.container` hook, as a program would pass to the Fleet; it gets each replica's resource name. */
    readonly transform?: Transform<docker.ContainerArgs>;
    /** A `transform.agent.service` hook, for fleets on the swarm runtime. */
    readonly serviceTransform?: Transform<docker.ServiceArgs>;
    /** A `transform.agent.repositoryWebhook` hook, for agents with GitHub webhooks. */
    readonly webhookTransform?: Transform<github.RepositoryWebhookArgs>;
    /** A first preview: the image id and the network name are not known yet. Default false. */
    readonly preview?: boolean;
    /** Each resource's final outputs, as AnalyzeStack gets them after an update, rather than its inputs. Default false. */
    readonly outputs?: boolean;
}

/** What secretConfig returns for a key: recognisable, so a test can find it, and always a secret. */
function seededSecret(key: string): string {
    return `seeded-${key}`;
}

// The mocks are process-wide: one declaration at a time, whatever the caller awaits in parallel.
let queue: Promise<unknown> = Promise.resolve();

async function declare(spec: FleetSpec, options: DeclareOptions): Promise<RegisteredResource[]> {
    const run = await startMocks(spec.stack, { preview: options.preview, project: PROJECT });
    new Fleet(FLEET_NAME, {
        spec,
        secretConfig: (key) => pulumi.secret(seededSecret(key)),
        transform: options.transform || options.serviceTransform || options.webhookTransform
            ? { agent: { container: options.transform, service: options.serviceTransform, repositoryWebhook: options.webhookTransform } }
            : undefined,
    });
    // Every registration and registerOutputs in flight, known or not (a preview's outputs never resolve).
    await pulumi.runtime.disconnect();
    await settle();
    if (pulumi.log.hasErrors()) throw new Error(`the Fleet logged an error declaring ${spec.agents.map((a) => a.name).join(", ")}`);
    return run.resources;
}

/** Every resource the Fleet registers for `spec`, in order, as the engine hands them to the pack. */
export function fleetResources(spec: FleetSpec, options: DeclareOptions = {}): Promise<EngineResource[]> {
    const next = queue.then(() => declare(spec, options));
    queue = next.catch(() => undefined);
    return next.then((resources) => resources.map((r) => engineResourceOf(r, { stack: spec.stack, project: PROJECT, outputs: options.outputs })));
}

/** A fleet of one agent, deployed in `stack` (default: the agent's environment). */
function fleetOf(agent: AgentSpec, stack: string = agent.environment, runtime: RuntimeName = "container"): FleetSpec {
    return { stack, stackFile: stackFileName(stack), environment: agent.environment, runtime, channels: [], agents: [agent], allowEmpty: false, hosts: [], registries: [] };
}

function pick(resources: readonly EngineResource[], type: string, name: string): EngineResource {
    const found = resources.find((r) => r.type === type && r.name === name);
    if (!found) throw new Error(`the Fleet registered no ${type} named ${name}; it registered ${resources.map((r) => r.name).join(", ")}`);
    return found;
}

/** The resource name of an agent's AgentService, as the Fleet of index.ts names it. */
export function agentServiceName(agent: string): string {
    return agentServiceResourceName(FLEET_NAME, agent);
}

export interface ArgsOptions extends Omit<DeclareOptions, "outputs"> {
    /** Stack the agent is deployed in; default its environment. */
    readonly stack?: string;
    /** Policy config and stack tags. */
    readonly environment?: PolicyEnvironment;
}

export interface ContainerOptions extends ArgsOptions {
    /** Which replica; default 0. */
    readonly replica?: number;
}

/** What `Analyze` gets for the agent's AgentService. */
export async function agentServiceArgs(agent: AgentSpec, stack?: string, options: ArgsOptions = {}): Promise<ResourceValidationArgs> {
    const resources = await fleetResources(fleetOf(agent, stack ?? options.stack), options);
    return resourceValidationArgs(pick(resources, COMPONENT_TYPES.agentService, agentServiceName(agent.name)), options.environment);
}

/** What `Analyze` gets for one container replica of the agent. */
export async function containerResourceArgs(agent: AgentSpec, options: ContainerOptions = {}): Promise<ResourceValidationArgs> {
    const resources = await fleetResources(fleetOf(agent, options.stack), options);
    return resourceValidationArgs(pick(resources, DOCKER_TYPES.container, replicaResourceName(agentServiceName(agent.name), options.replica ?? 0)), options.environment);
}

/** What `Analyze` gets for the agent's Swarm service, when its fleet runs on the swarm runtime. */
export async function serviceResourceArgs(agent: AgentSpec, options: ArgsOptions = {}): Promise<ResourceValidationArgs> {
    const resources = await fleetResources(fleetOf(agent, options.stack, "swarm"), options);
    return resourceValidationArgs(pick(resources, DOCKER_TYPES.service, agentServiceName(agent.name)), options.environment);
}

/** What `Analyze` gets for one resource of `spec`'s fleet, by type and name. */
export async function resourceArgsOf(spec: FleetSpec, type: string, name: string, options: ArgsOptions = {}): Promise<ResourceValidationArgs> {
    return resourceValidationArgs(pick(await fleetResources(spec, options), type, name), options.environment);
}

/** What `AnalyzeStack` gets for these resources. */
export function stackArgs(resources: readonly EngineResource[], environment: PolicyEnvironment = {}): StackValidationArgs {
    return stackValidationArgs(resources, environment);
}

export interface Violation {
    /** The message the policy reported (the engine prints it under the policy description). */
    readonly message: string;
    /** The resource it is about: the one reported, else for a resource policy the resource analyzed. */
    readonly urn?: string;
}

function isStackArgs(args: ResourceValidationArgs | StackValidationArgs): args is StackValidationArgs {
    return "resources" in args;
}

/**
 * Runs one policy at its own enforcement level through the shared analyzer.
 * A disabled policy, or one that calls `notApplicable()`, reports nothing; an
 * unknown value it reads is an advisory "can't run during preview".
 */
export async function runPolicy(fleetPolicy: FleetPolicy, args: ResourceValidationArgs | StackValidationArgs): Promise<Violation[]> {
    const { policy } = fleetPolicy;
    const level = policy.enforcementLevel ?? "advisory";
    let found;
    if (isStackArgs(args)) {
        if (!isStackPolicy(policy)) throw new Error(`${policy.name} is a resource policy; give it resource args`);
        found = await runStackPolicy(policy, args, level);
    } else {
        if (!isResourcePolicy(policy)) throw new Error(`${policy.name} is a stack policy; give it stackArgs()`);
        found = await runResourcePolicy(policy, args, level);
    }
    return found.map((d) => ({ message: d.message, urn: d.urn }));
}

/** The messages alone, for exact assertions. */
export async function messages(fleetPolicy: FleetPolicy, args: ResourceValidationArgs | StackValidationArgs): Promise<string[]> {
    return (await runPolicy(fleetPolicy, args)).map((v) => v.message);
}
