/**
 * The arguments a policy gets, built from engine resources as @pulumi/policy's
 * analyzer server builds them (server.js: Analyze, AnalyzeStack).
 */
import type {
    PolicyProviderResource, PolicyResource, PolicyResourceOptions, ResourceValidationArgs, StackValidationArgs,
} from "@pulumi/policy";
import { policyProps } from "./props";
import type { EngineResource } from "./resource";

/** What `args.notApplicable()` throws; the analyzer then reports nothing for the policy. */
export class NotApplicableError extends Error {
    constructor(readonly reason?: string) {
        super(reason ?? "Policy does not apply");
        this.name = "NotApplicableError";
    }
}

function notApplicable(reason?: string): never {
    throw new NotApplicableError(reason);
}

/** What one policy is given besides the resources: its config (without enforcementLevel) and the stack's tags. */
export interface PolicyEnvironment {
    /** The policy's config from `--policy-pack-config`; default {}. */
    readonly config?: Readonly<Record<string, unknown>>;
    /** The stack's tags; default none. */
    readonly stackTags?: Readonly<Record<string, string>>;
}

/** server.js's freezeMap: a read-only view of the stack tags. */
function frozenTags(tags: Readonly<Record<string, string>> = {}): ReadonlyMap<string, string> {
    const map = new Map(Object.entries(tags));
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

function pulumiTypeOf(value: unknown): string | undefined {
    const type = (value as { __pulumiType?: unknown } | undefined)?.__pulumiType;
    return typeof type === "string" && type.length > 0 ? type : undefined;
}

/** server.js's isTypeOf: the class's registered type token, else its isInstance. */
function isTypeOf(type: string, resourceClass: unknown): boolean {
    const token = pulumiTypeOf(resourceClass);
    if (token) return type === token;
    const isInstance = (resourceClass as { isInstance?: unknown } | undefined)?.isInstance;
    return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

/** The type a single typed validation (validateResourceOfType, validateStackResourcesOfType) applies to. */
export function typedFor(validation: unknown): string | undefined {
    return pulumiTypeOf(validation);
}

/** server.js's getResourceOptions; AnalyzeStack sends the parent on the resource rather than in its options. */
function options(resource: EngineResource, withParent: boolean): PolicyResourceOptions {
    return {
        protect: resource.protect,
        ignoreChanges: [...resource.ignoreChanges],
        aliases: [...resource.aliases],
        customTimeouts: { ...resource.customTimeouts },
        additionalSecretOutputs: [...resource.additionalSecretOutputs],
        ...(resource.deleteBeforeReplace !== undefined ? { deleteBeforeReplace: resource.deleteBeforeReplace } : {}),
        ...(withParent && resource.parent ? { parent: resource.parent } : {}),
    };
}

function provider(resource: EngineResource): PolicyProviderResource | undefined {
    const p = resource.provider;
    return p && { type: p.type, name: p.name, urn: p.urn, props: policyProps(p.props) };
}

/** What a resource's args share with a stack policy's view of it: identity, props behind the proxy, options, type checks, provider. */
type ResourceView = Pick<ResourceValidationArgs, "type" | "props" | "urn" | "name" | "opts" | "isType" | "asType" | "provider">;

function resourceView(resource: EngineResource, withParent: boolean): ResourceView {
    const props = policyProps(resource.props);
    const view: ResourceView = {
        type: resource.type,
        props,
        urn: resource.urn,
        name: resource.name,
        opts: options(resource, withParent),
        isType: (resourceClass) => isTypeOf(resource.type, resourceClass),
        asType: ((resourceClass: unknown) => (isTypeOf(resource.type, resourceClass) ? props : undefined)) as ResourceValidationArgs["asType"],
    };
    const providerResource = provider(resource);
    if (providerResource) view.provider = providerResource;
    return view;
}

/** `ResourceValidationArgs` for one resource, as `Analyze` builds them (fresh props for each call). */
export function resourceValidationArgs(resource: EngineResource, environment: PolicyEnvironment = {}): ResourceValidationArgs {
    return {
        ...resourceView(resource, true),
        stackTags: frozenTags(environment.stackTags),
        getConfig: <T extends object>() => ({ ...environment.config }) as T,
        notApplicable,
    };
}

/**
 * `StackValidationArgs` over every resource, as `AnalyzeStack` builds them:
 * parents, dependencies and property dependencies linked to the other
 * PolicyResources. Built afresh per call, so no policy sees another's changes.
 */
export function stackValidationArgs(resources: readonly EngineResource[], environment: PolicyEnvironment = {}): StackValidationArgs {
    const byUrn = new Map<string, PolicyResource>();
    const built = resources.map((r) => {
        const resource: PolicyResource = { ...resourceView(r, false), dependencies: [], propertyDependencies: {} };
        byUrn.set(r.urn, resource);
        return resource;
    });
    resources.forEach((r, i) => {
        const parent = r.parent ? byUrn.get(r.parent) : undefined;
        if (parent) built[i].parent = parent;
        built[i].dependencies = r.dependencies.flatMap((urn) => byUrn.get(urn) ?? []);
        for (const [key, urns] of Object.entries(r.propertyDependencies)) {
            built[i].propertyDependencies[key] = urns.flatMap((urn) => byUrn.get(urn) ?? []);
        }
    });
    return {
        resources: built,
        stackTags: frozenTags(environment.stackTags),
        getConfig: <T extends object>() => ({ ...environment.config }) as T,
        notApplicable,
    };
}
