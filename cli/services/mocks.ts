/**
 * Runs Pulumi code under the SDK's own mocks and records every registration
 * as the engine would receive it: raw inputs (with secret markers intact),
 * parent, resource options, and the final state (the provider's outputs, or
 * what a component passed to registerOutputs).
 *
 * `fleet check` runs the real program this way; the tests and benchmarks use
 * it through test/support/pulumi.ts.
 */
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import type { RegisterResourceOutputsRequest, RegisterResourceRequest, RegisterResourceResponse } from "@pulumi/pulumi/proto/resource_pb";
import { DOCKER_TYPES, parseGoDurationMs } from "../../contract";
import { EngineResource, defaultProvider, plainValue } from "../../policies/analyzer";

/** The project name in Pulumi.yaml. */
const DEFAULT_PROJECT = "agent-fleet";

/** The markers Pulumi's wire format puts on a secret value, from the SDK itself. */
const SECRET_SIG = pulumi.runtime.specialSecretSig;
const SIG_KEY = pulumi.runtime.specialSigKey;

/** A value in Pulumi's wire format (plain JSON plus secret, asset and resource markers). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- wire payloads are untyped; tests read them freely.
export type WireValue = any;
type WireObject = Record<string, WireValue>;

export interface RegisteredResource {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    readonly parent: string;
    readonly custom: boolean;
    /** Inputs with secrets unwrapped, for reading values. */
    readonly inputs: WireObject;
    /** Inputs exactly as sent to the engine, secret markers included. */
    readonly wireInputs: WireObject;
    /**
     * Final state in wire form, as the engine hands it to stack policies: the
     * (mock) provider's outputs for a custom resource, and for a component
     * what it last passed to registerOutputs.
     */
    wireOutputs: WireObject;
    readonly deleteBeforeReplace: boolean;
    /** True when the program set deleteBeforeReplace, overriding the provider's own choice. */
    readonly deleteBeforeReplaceDefined: boolean;
    readonly replaceOnChanges: string[];
    readonly ignoreChanges: string[];
    readonly dependencies: string[];
    /** Property name → URNs it depends on (properties without dependencies left out, as the engine does). */
    readonly propertyDependencies: Record<string, string[]>;
    readonly protect: boolean;
    readonly additionalSecretOutputs: string[];
    readonly aliases: string[];
    readonly customTimeouts: { readonly createSeconds: number; readonly updateSeconds: number; readonly deleteSeconds: number };
    /** Package version the SDK asked for; selects the default provider. */
    readonly version: string;
    /** The explicit provider's reference ("<urn>::<id>"), or "" for the default provider. */
    readonly provider: string;
    /** Names of the resource and error hooks bound to it, by lifecycle point (only the points that have any). */
    readonly hooks: Readonly<Record<string, readonly string[]>>;
}

function shortHash(text: string, length = 7): string {
    return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/**
 * Outputs a real provider would compute, so that components can use them. On
 * a preview nothing exists yet, so what the provider computes is unknown, as
 * on a first `pulumi preview`; what the program set stays known.
 */
function mockState(type: string, name: string, inputs: WireObject, index: number, preview: boolean): WireObject {
    const computed = <T>(value: T): T | typeof pulumi.unknown => (preview ? pulumi.unknown : value);
    switch (type) {
        case DOCKER_TYPES.container:
            return {
                ...inputs,
                name: inputs.name ?? computed(`${name}-${shortHash(name)}`),
                ports: (inputs.ports ?? []).map((port: WireObject, i: number) => ({
                    protocol: "tcp",
                    ...port,
                    external: port.external ?? computed(32768 + index * 10 + i),
                })),
            };
        case DOCKER_TYPES.remoteImage: {
            const digest = `sha256:${createHash("sha256").update(inputs.name).digest("hex")}`;
            const repository = String(inputs.name).replace(/@sha256:.*$/, "").replace(/:[^:/]+$/, "");
            return { ...inputs, imageId: computed(digest), repoDigest: computed(`${repository}@${digest}`) };
        }
        case DOCKER_TYPES.image:
            return { ...inputs, repoDigest: computed(`sha256:${createHash("sha256").update(`built:${inputs.imageName}`).digest("hex")}`) };
        case DOCKER_TYPES.network:
        case DOCKER_TYPES.volume:
        case DOCKER_TYPES.service:
        case DOCKER_TYPES.secret:
            return { ...inputs, name: inputs.name ?? computed(`${name}-${shortHash(name)}`) };
        default:
            return inputs;
    }
}

export interface MockRun {
    readonly resources: RegisteredResource[];
    byType(type: string): RegisteredResource[];
    byName(name: string): RegisteredResource;
}

export interface MockOptions {
    /** A first preview: resources get no id and computed outputs are unknown. Default false (an update). */
    readonly preview?: boolean;
    /** Project name; defaults to "agent-fleet". */
    readonly project?: string;
}

/** Seconds in a Go duration string ("5m", "1m30s"), as the engine reads custom timeouts. */
function goDurationSeconds(text: string | undefined): number {
    return (parseGoDurationMs(text) ?? 0) / 1000;
}

function timeouts(req: RegisterResourceRequest): RegisteredResource["customTimeouts"] {
    const t = req.getCustomtimeouts();
    return { createSeconds: goDurationSeconds(t?.getCreate()), updateSeconds: goDurationSeconds(t?.getUpdate()), deleteSeconds: goDurationSeconds(t?.getDelete()) };
}

type Callback<T> = (err: Error | null, res: T) => void;

function hookNames(req: RegisterResourceRequest): Record<string, string[]> {
    const binding = req.getHooks();
    if (!binding) return {};
    const points: [string, string[]][] = [
        ["beforeCreate", binding.getBeforeCreateList()], ["afterCreate", binding.getAfterCreateList()],
        ["beforeUpdate", binding.getBeforeUpdateList()], ["afterUpdate", binding.getAfterUpdateList()],
        ["beforeDelete", binding.getBeforeDeleteList()], ["afterDelete", binding.getAfterDeleteList()],
        ["onError", binding.getOnErrorList()],
    ];
    return Object.fromEntries(points.filter(([, names]) => names.length > 0));
}

/** The parts of the SDK's MockMonitor this file wraps. */
interface MockMonitor {
    newUrn(parent: string, type: string, name: string): string;
    registerResourceHook?(req: unknown, callback: Callback<unknown>): void;
    registerErrorHook?(req: unknown, callback: Callback<unknown>): void;
    registerResource(req: RegisterResourceRequest, callback: Callback<RegisterResourceResponse>): void;
    registerResourceOutputs(req: RegisterResourceOutputsRequest, callback: Callback<unknown>): void;
}

/** Installs mocks for one program run and returns the live list of registrations. */
export async function startMocks(stack: string, options: MockOptions = {}): Promise<MockRun> {
    const resources: RegisteredResource[] = [];
    const byUrn = new Map<string, RegisteredResource>();
    let created = 0;
    const preview = options.preview ?? false;
    await pulumi.runtime.setMocks({
        newResource: (args) => ({ id: preview ? undefined : `${args.name}-id`, state: mockState(args.type, args.name, args.inputs, created++, preview) }),
        call: (args) => args.inputs,
    }, options.project ?? DEFAULT_PROJECT, stack, preview);

    // Wrap the SDK's MockMonitor to see what it drops: resource options, secret markers and component outputs.
    const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitor;
    // The SDK's mocks qualify a child's type with its parent's last type only; the engine uses the parent's
    // whole chain (Fleet$AgentService$Container), and so must the URNs that `fleet check` prints and compares.
    // The engine accepts hook registrations; the SDK's mocks have no such method. Hooks never run under mocks.
    monitor.registerResourceHook = (_req, callback) => callback(null, {});
    monitor.registerErrorHook = (_req, callback) => callback(null, {});
    // Children of the root stack are not qualified by it.
    monitor.newUrn = (parent, type, name) => {
        const parentType = parent ? parent.split("::")[2] : "pulumi:pulumi:Stack";
        const qualified = parentType === "pulumi:pulumi:Stack" ? type : `${parentType}$${type}`;
        return `urn:pulumi:${stack}::${options.project ?? DEFAULT_PROJECT}::${qualified}::${name}`;
    };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) => {
        const wireInputs = (req.getObject()?.toJavaScript() ?? {}) as WireObject;
        register(req, (err, res) => {
            // The engine refuses a second registration of one URN; the SDK's mocks would accept it.
            if (!err && byUrn.has(res.getUrn())) {
                callback(new Error(`Duplicate resource URN '${res.getUrn()}'; try giving it a unique name`), res);
                return;
            }
            if (!err) {
                const propertyDependencies: Record<string, string[]> = {};
                req.getPropertydependenciesMap().forEach((value, key) => {
                    const urns = value.getUrnsList();
                    if (urns.length > 0) propertyDependencies[key] = urns;
                });
                const resource: RegisteredResource = {
                    type: req.getType(),
                    name: req.getName(),
                    urn: res.getUrn(),
                    parent: req.getParent(),
                    custom: req.getCustom(),
                    inputs: plainValue(wireInputs) as WireObject,
                    wireInputs,
                    wireOutputs: (res.getObject()?.toJavaScript() ?? {}) as WireObject,
                    deleteBeforeReplace: req.getDeletebeforereplace(),
                    deleteBeforeReplaceDefined: req.getDeletebeforereplacedefined(),
                    replaceOnChanges: req.getReplaceonchangesList(),
                    ignoreChanges: req.getIgnorechangesList(),
                    dependencies: req.getDependenciesList(),
                    propertyDependencies,
                    protect: Boolean(req.getProtect()),
                    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
                    aliases: req.getAliasurnsList(),
                    customTimeouts: timeouts(req),
                    version: req.getVersion(),
                    provider: req.getProvider(),
                    hooks: hookNames(req),
                };
                resources.push(resource);
                byUrn.set(resource.urn, resource);
            }
            callback(err, res);
        });
    };
    const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req, callback) => {
        const resource = byUrn.get(req.getUrn());
        // The engine overwrites a component's outputs with whatever it registers last.
        if (resource) resource.wireOutputs = (req.getOutputs()?.toJavaScript() ?? {}) as WireObject;
        registerOutputs(req, callback);
    };
    return {
        resources,
        byType: (type) => resources.filter((r) => r.type === type),
        byName: (name) => {
            const found = resources.find((r) => r.name === name);
            if (!found) throw new Error(`no resource named ${name}; have ${resources.map((r) => r.name).join(", ")}`);
            return found;
        },
    };
}

/** True when the wire value is a Pulumi secret. */
export function isWireSecret(value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/**
 * A registration as the engine hands it to the policy pack. `Analyze` gets its
 * inputs; with `outputs`, the props are what `AnalyzeStack` gets at the end of
 * an update (step_generator.go: `Properties: v.Outputs`): a custom resource's
 * provider outputs, a component's last registerOutputs. A custom resource
 * gets the default provider, since the program sets no explicit one.
 */
export function engineResourceOf(resource: RegisteredResource, context: { readonly stack: string; readonly project: string; readonly outputs?: boolean }): EngineResource {
    return {
        type: resource.type,
        name: resource.name,
        urn: resource.urn,
        parent: resource.parent,
        custom: resource.custom,
        props: structuredClone(context.outputs ? resource.wireOutputs : resource.wireInputs),
        dependencies: resource.dependencies,
        propertyDependencies: resource.propertyDependencies,
        protect: resource.protect,
        ignoreChanges: resource.ignoreChanges,
        aliases: resource.aliases,
        additionalSecretOutputs: resource.additionalSecretOutputs,
        customTimeouts: resource.customTimeouts,
        ...(resource.deleteBeforeReplaceDefined ? { deleteBeforeReplace: resource.deleteBeforeReplace } : {}),
        ...(resource.custom ? { provider: defaultProvider(resource.type, resource.version, context) } : {}),
    };
}
