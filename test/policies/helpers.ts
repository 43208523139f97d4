/**
 * Builds policy validation args the way the Pulumi engine and @pulumi/policy
 * hand them to a policy, from the components' own builders, and runs one
 * FleetPolicy over them.
 *
 * The path a resource's props take is the real one: the SDK serializes the
 * inputs (`pulumi.runtime.serializeProperties`: outputs and promises awaited,
 * undefined dropped, unknowns become the engine's unknown sentinel), and
 * @pulumi/policy's own deserializer and unknown-checking proxy turn the wire
 * value into what `args.props` holds (secrets unwrapped, reading an unknown
 * throws). The rest of the args mirrors @pulumi/policy's server.js.
 */
import { createRequire } from "module";
import * as pulumi from "@pulumi/pulumi";
import type * as docker from "@pulumi/docker";
import { unknownCheckingProxy } from "@pulumi/policy";
import type {
    PolicyResource, PolicyResourceOptions, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy,
} from "@pulumi/policy";
import { AgentServiceInputs, agentEnv, agentLabels } from "../../components/agent-service/agentService";
import { fleetInputsOf } from "../../components/fleet/fleet";
import { canCreateBeforeDelete, containerArgs, replicaResourceName } from "../../components/runtimes/container";
import type { RuntimeDeployData } from "../../components/runtimes/runtime";
import { Transform, applyTransform } from "../../components/transform";
import { AgentSpec, FleetSpec, stackFileName } from "../../config";
import { AGENT_SERVICE_TYPE, CONTAINER_TYPE, FLEET_TYPE, FleetPolicy } from "../../policies/rules";
import { PROJECT } from "../support/pulumi";

// @pulumi/policy's deserializer is internal (its .d.ts is empty), so it is typed here.
const { deserializeProperties } = createRequire(__filename)("@pulumi/policy/deserialize") as {
    deserializeProperties(struct: { toJavaScript(): Record<string, unknown> }, proxySecrets: boolean): Record<string, any>;
};

const STACK_TYPE = "pulumi:pulumi:Stack";
/** Name of the Fleet that index.ts declares; AgentService and container names derive from it. */
export const FLEET_NAME = "fleet";

// ------------------------------------------------------------------------------------------------
// URNs
// ------------------------------------------------------------------------------------------------

function qualifiedType(urn: string): string {
    return urn.split("::")[2];
}

/** The URN the engine gives a resource: the parent's type chain, except the root stack's. */
export function resourceUrn(stack: string, type: string, name: string, parentUrn?: string): string {
    const chain = parentUrn && qualifiedType(parentUrn) !== STACK_TYPE ? `${qualifiedType(parentUrn)}$${type}` : type;
    return `urn:pulumi:${stack}::${PROJECT}::${chain}::${name}`;
}

export function stackUrn(stack: string): string {
    return resourceUrn(stack, STACK_TYPE, `${PROJECT}-${stack}`);
}

function stackOf(urn: string): string {
    return urn.split("::")[0].slice("urn:pulumi:".length);
}

// ------------------------------------------------------------------------------------------------
// Props and args
// ------------------------------------------------------------------------------------------------

/** Inputs as a policy reads them: serialized by the SDK, deserialized and proxied by @pulumi/policy. */
export async function policyProps(inputs: object): Promise<Record<string, any>> {
    const wire = await pulumi.runtime.serializeProperties("policy-test", inputs as pulumi.Inputs);
    return unknownCheckingProxy(deserializeProperties({ toJavaScript: () => wire }, false));
}

/** Mirrors server.js's freezeMap: the read-only stack tags map. */
function frozenMap(map: Map<string, string>): ReadonlyMap<string, string> {
    return Object.freeze({
        entries: map.entries.bind(map),
        forEach: map.forEach.bind(map),
        get: map.get.bind(map),
        has: map.has.bind(map),
        keys: map.keys.bind(map),
        size: map.size,
        values: map.values.bind(map),
        [Symbol.iterator]: map[Symbol.iterator].bind(map),
    }) as ReadonlyMap<string, string>;
}

/** What `args.notApplicable()` throws; server.js reports the policy as not applicable. */
export class NotApplicableError extends Error {
    constructor(readonly reason?: string) {
        super(reason ?? "Policy does not apply");
    }
}

function typeCheckers(type: string, props: Record<string, any>) {
    // server.js's isTypeOf: the class's __pulumiType, else its isInstance.
    const isType = (resourceClass: unknown): boolean => {
        const pulumiType = (resourceClass as { __pulumiType?: unknown }).__pulumiType;
        if (typeof pulumiType === "string" && pulumiType.length > 0) return type === pulumiType;
        const isInstance = (resourceClass as { isInstance?: unknown }).isInstance;
        return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
    };
    return {
        isType,
        asType: (resourceClass: unknown) => (isType(resourceClass) ? props : undefined),
    } as Pick<ResourceValidationArgs, "isType" | "asType">;
}

export interface ResourceIds {
    readonly name: string;
    /** Defaults to the URN the engine would give `name` under `parent` in the stack of `parent` (or production). */
    readonly urn?: string;
    /** URN of the parent resource; defaults to the root stack, as for top-level resources. */
    readonly parent?: string;
    readonly stack?: string;
    /** Resource options the program set, over the engine's defaults. */
    readonly opts?: Partial<PolicyResourceOptions>;
    /** Policy config, as `--policy-pack-config` sets it (without enforcementLevel). */
    readonly config?: Record<string, unknown>;
    readonly stackTags?: Readonly<Record<string, string>>;
}

/** A full `ResourceValidationArgs`, as `Analyze` builds it for a resource's registered inputs. */
export async function resourceArgs(type: string, inputs: object, ids: ResourceIds): Promise<ResourceValidationArgs> {
    const stack = ids.stack ?? (ids.parent ? stackOf(ids.parent) : "production");
    const parent = ids.parent ?? stackUrn(stack);
    const props = await policyProps(inputs);
    const opts: PolicyResourceOptions = {
        protect: false,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        parent,
        ...ids.opts,
    };
    return {
        type,
        props,
        urn: ids.urn ?? resourceUrn(stack, type, ids.name, parent),
        name: ids.name,
        opts,
        stackTags: frozenMap(new Map(Object.entries(ids.stackTags ?? {}))),
        ...typeCheckers(type, props),
        getConfig: <T extends object>() => ({ ...(ids.config ?? {}) }) as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicableError(reason);
        },
    };
}

/**
 * A full `StackValidationArgs`, as `AnalyzeStack` builds it: every resource with
 * its parent linked as a PolicyResource (from `opts.parent`, when that resource
 * is in the list). The props are whatever each resource's args hold; the engine
 * sends final outputs here (for a component: what it passed to registerOutputs).
 */
export function stackArgs(resources: readonly ResourceValidationArgs[], options: Pick<ResourceIds, "config" | "stackTags"> = {}): StackValidationArgs {
    const policyResources: PolicyResource[] = resources.map((r) => ({
        type: r.type,
        props: r.props,
        urn: r.urn,
        name: r.name,
        opts: r.opts,
        dependencies: [],
        propertyDependencies: {},
        ...typeCheckers(r.type, r.props),
    }));
    const byUrn = new Map(policyResources.map((r) => [r.urn, r]));
    for (const r of policyResources) {
        const parent = r.opts.parent ? byUrn.get(r.opts.parent) : undefined;
        if (parent) r.parent = parent;
    }
    return {
        resources: policyResources,
        stackTags: frozenMap(new Map(Object.entries(options.stackTags ?? {}))),
        getConfig: <T extends object>() => ({ ...(options.config ?? {}) }) as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicableError(reason);
        },
    };
}

// ------------------------------------------------------------------------------------------------
// The fleet's resources, from the components' own builders
// ------------------------------------------------------------------------------------------------

/** The Fleet as index.ts declares it: top level, named "fleet". */
export function fleetIds(stack: string): ResourceIds {
    return { name: FLEET_NAME, stack };
}

export function fleetUrn(stack: string): string {
    return resourceUrn(stack, FLEET_TYPE, FLEET_NAME, stackUrn(stack));
}

/** An agent's AgentService, a child of the Fleet, named as Fleet names it. */
export function agentServiceIds(agent: string, stack: string): ResourceIds {
    return { name: `${FLEET_NAME}-${agent}`, parent: fleetUrn(stack) };
}

export function agentServiceUrn(agent: string, stack: string): string {
    return resourceUrn(stack, AGENT_SERVICE_TYPE, `${FLEET_NAME}-${agent}`, fleetUrn(stack));
}


/** What AgentService registers as its inputs for an agent deployed in `stack`. */
export function agentServiceInputsOf(agent: AgentSpec, stack: string = agent.environment): AgentServiceInputs {
    return { agent, stack, stackFile: stackFileName(stack) };
}

export function fleetArgs(spec: FleetSpec): Promise<ResourceValidationArgs> {
    return resourceArgs(FLEET_TYPE, fleetInputsOf(spec), fleetIds(spec.stack));
}

export function agentServiceArgs(agent: AgentSpec, stack: string = agent.environment): Promise<ResourceValidationArgs> {
    return resourceArgs(AGENT_SERVICE_TYPE, agentServiceInputsOf(agent, stack), agentServiceIds(agent.name, stack));
}

export interface ContainerOptions {
    /** Stack the agent is deployed in; defaults to its environment. */
    readonly stack?: string;
    readonly replica?: number;
    /** Adjusts the container args, as a `transform.container` hook would. */
    readonly transform?: Transform<docker.ContainerArgs>;
    /** A first preview: the image id and the network name are not known yet. */
    readonly preview?: boolean;
}

/** The docker.ContainerArgs the container runtime builds for one replica of an agent, with their options. */
export function agentContainerArgs(spec: AgentSpec, options: ContainerOptions = {}): { args: docker.ContainerArgs; deleteBeforeReplace: boolean } {
    const stack = options.stack ?? spec.environment;
    const secretValues = Object.fromEntries(Object.keys(spec.secrets).map((envName) => [envName, pulumi.secret(`seeded-${envName.toLowerCase()}`)]));
    const name = replicaResourceName(`${FLEET_NAME}-${spec.name}`, options.replica ?? 0);
    const data: RuntimeDeployData = {
        spec,
        image: options.preview ? pulumi.output<string>(pulumi.unknown as unknown as string) : `sha256:${"ab".repeat(32)}`,
        env: agentEnv(spec, secretValues),
        labels: agentLabels(spec, stack),
        networkName: options.preview ? pulumi.output<string>(pulumi.unknown as unknown as string) : `${FLEET_NAME}-${spec.environment}-network`,
    };
    const [args] = applyTransform(options.transform, name, containerArgs(data), {});
    return { args, deleteBeforeReplace: !canCreateBeforeDelete(spec) };
}

/** The validation args of one agent container, a child of the agent's AgentService. */
export async function containerResourceArgs(spec: AgentSpec, options: ContainerOptions = {}): Promise<ResourceValidationArgs> {
    const stack = options.stack ?? spec.environment;
    const { args, deleteBeforeReplace } = agentContainerArgs(spec, options);
    return resourceArgs(CONTAINER_TYPE, args, {
        name: replicaResourceName(`${FLEET_NAME}-${spec.name}`, options.replica ?? 0),
        parent: agentServiceUrn(spec.name, stack),
        opts: { deleteBeforeReplace },
    });
}

/**
 * Every resource a Fleet registers for a fleet spec, in registration order:
 * the Fleet, then per agent its AgentService and one container per replica
 * (the image and network carry nothing the policies read).
 */
export async function fleetResources(spec: FleetSpec, options: Pick<ContainerOptions, "transform" | "preview"> = {}): Promise<ResourceValidationArgs[]> {
    const resources = [await fleetArgs(spec)];
    for (const agent of spec.agents) {
        resources.push(await agentServiceArgs(agent, spec.stack));
        for (let replica = 0; replica < agent.replicas; replica++) {
            resources.push(await containerResourceArgs(agent, { ...options, stack: spec.stack, replica }));
        }
    }
    return resources;
}

// ------------------------------------------------------------------------------------------------
// Running a policy
// ------------------------------------------------------------------------------------------------

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
 * Runs one policy as server.js does and returns its violations. A disabled
 * policy or one that calls `notApplicable()` reports nothing; reading an
 * unknown value throws, which the engine turns into an advisory "can't run
 * during preview".
 */
export async function runPolicy(fleetPolicy: FleetPolicy, args: ResourceValidationArgs | StackValidationArgs): Promise<Violation[]> {
    const { policy } = fleetPolicy;
    const violations: Violation[] = [];
    if (policy.enforcementLevel === "disabled") return violations;
    try {
        if (isStackArgs(args)) {
            const validate = (policy as Partial<StackValidationPolicy>).validateStack;
            if (!validate) throw new Error(`${policy.name} is a resource policy; give it resourceArgs()`);
            const report: ReportViolation = (message, urn) => violations.push({ message, urn });
            await validate(args, report);
        } else {
            const validate = (policy as Partial<ResourceValidationPolicy>).validateResource;
            if (!validate) throw new Error(`${policy.name} is a stack policy; give it stackArgs()`);
            const report: ReportViolation = (message, urn) => violations.push({ message, urn: urn ?? args.urn });
            for (const validation of Array.isArray(validate) ? validate : [validate]) await validation(args, report);
        }
    } catch (error) {
        if (error instanceof NotApplicableError) return [];
        throw error;
    }
    return violations;
}

/** The messages alone, for exact assertions. */
export async function messages(fleetPolicy: FleetPolicy, args: ResourceValidationArgs | StackValidationArgs): Promise<string[]> {
    return (await runPolicy(fleetPolicy, args)).map((v) => v.message);
}
