/**
 * Runs Pulumi code under the SDK's own mocks and records every registration
 * as the engine would receive it: raw inputs (with secret markers intact),
 * parent and resource options.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";

export const PROJECT = "agent-fleet";
export const PROJECT_ROOT = path.resolve(__dirname, "../..");

/** The marker Pulumi's wire format puts on a secret value. */
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";

export interface RegisteredResource {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    readonly parent: string;
    readonly custom: boolean;
    /** Inputs with secrets unwrapped, for reading values. */
    readonly inputs: Record<string, any>;
    /** Inputs exactly as sent to the engine, secret markers included. */
    readonly wireInputs: Record<string, any>;
    readonly deleteBeforeReplace: boolean;
    /** True when the program set deleteBeforeReplace, overriding the provider's own choice. */
    readonly deleteBeforeReplaceDefined: boolean;
    readonly replaceOnChanges: string[];
    readonly ignoreChanges: string[];
    readonly dependencies: string[];
}

function shortHash(text: string, length = 7): string {
    return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/** Outputs a real provider would compute, so that components can use them. */
function mockState(type: string, name: string, inputs: Record<string, any>, index: number): Record<string, any> {
    switch (type) {
        case "docker:index/container:Container":
            return {
                ...inputs,
                name: inputs.name ?? `${name}-${shortHash(name)}`,
                ports: (inputs.ports ?? []).map((port: Record<string, any>, i: number) => ({
                    protocol: "tcp",
                    ...port,
                    external: port.external ?? 32768 + index * 10 + i,
                })),
            };
        case "docker:index/remoteImage:RemoteImage":
            return { ...inputs, imageId: `sha256:${createHash("sha256").update(inputs.name).digest("hex")}`, repoDigest: "" };
        case "docker:index/image:Image":
            return { ...inputs, repoDigest: `sha256:${createHash("sha256").update(`built:${inputs.imageName}`).digest("hex")}` };
        case "docker:index/network:Network":
            return { ...inputs, name: inputs.name ?? `${name}-${shortHash(name)}` };
        default:
            return inputs;
    }
}

export interface MockRun {
    readonly resources: RegisteredResource[];
    byType(type: string): RegisteredResource[];
    byName(name: string): RegisteredResource;
}

/** Installs mocks for one program run and returns the live list of registrations. */
export async function startMocks(stack: string, options: { preview?: boolean } = {}): Promise<MockRun> {
    const resources: RegisteredResource[] = [];
    let created = 0;
    await pulumi.runtime.setMocks({
        newResource: (args) => ({ id: `${args.name}-id`, state: mockState(args.type, args.name, args.inputs, created++) }),
        call: (args) => args.inputs,
    }, PROJECT, stack, options.preview ?? false);

    // Wrap the SDK's MockMonitor to see what it drops: resource options and secret markers.
    const monitor = pulumi.runtime.getMonitor() as any;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: any, res: any) => void) => {
        const wireInputs = req.getObject()?.toJavaScript() ?? {};
        register(req, (err: any, res: any) => {
            if (!err) {
                resources.push({
                    type: req.getType(),
                    name: req.getName(),
                    urn: res.getUrn(),
                    parent: req.getParent(),
                    custom: req.getCustom(),
                    inputs: unwrapSecrets(wireInputs),
                    wireInputs,
                    deleteBeforeReplace: req.getDeletebeforereplace(),
                    deleteBeforeReplaceDefined: req.getDeletebeforereplacedefined(),
                    replaceOnChanges: req.getReplaceonchangesList(),
                    ignoreChanges: req.getIgnorechangesList(),
                    dependencies: req.getDependenciesList(),
                });
            }
            callback(err, res);
        });
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

function unwrapSecrets(value: any): any {
    if (isWireSecret(value)) return unwrapSecrets(value.value);
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
    }
    return value;
}

/** Resolves an Output in a test; never assert inside an un-awaited apply. */
export function outputOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((value) => { resolve(value); return value; }));
}

/** Lets pending registrations and outputs settle. */
export async function settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    // Component outputs register a few ticks later; let them reach this run's monitor, not the next test's.
    await new Promise((resolve) => setTimeout(resolve, 20));
}

export interface StackConfigOptions {
    /** Secret config values by key (without project prefix). */
    readonly secrets?: Readonly<Record<string, string>>;
    /** Replaces the stack file's `fleet` value. */
    readonly fleet?: unknown;
}

export function readStackFile(stack: string, root = PROJECT_ROOT): Record<string, unknown> {
    const file = path.join(root, "stacks", `Pulumi.${stack}.yaml`);
    return (parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> }).config ?? {};
}

/** Sets the runtime config exactly as the Pulumi CLI hands a stack's config to a program. */
export function setStackConfig(stack: string, options: StackConfigOptions = {}, root = PROJECT_ROOT): void {
    const fileConfig = readStackFile(stack, root);
    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries(fileConfig)) {
        // Objects reach the program as JSON text, just as `pulumi up` passes them.
        config[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    if (options.fleet !== undefined) config[`${PROJECT}:fleet`] = JSON.stringify(options.fleet);
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(options.secrets ?? {})) {
        config[`${PROJECT}:${key}`] = value;
        secretKeys.push(`${PROJECT}:${key}`);
    }
    pulumi.runtime.setAllConfig(config, secretKeys);
}
