/**
 * Talks to the policy pack the way the Pulumi engine does: a fake Engine gRPC
 * server, the pack started by `run-policy-pack` exactly as the CLI starts a
 * Node.js pack, and an Analyzer client built from the generated stubs. Tests
 * compare its verdicts with the shared in-process analyzer (policies/analyzer).
 *
 * The stubs, grpc-js and google-protobuf are all loaded from the pack's own
 * node_modules (one tree), so message classes pass the stubs' instanceof checks.
 */
import { ChildProcess, spawn } from "child_process";
import { createRequire } from "module";
import * as path from "path";
import type * as grpcTypes from "@grpc/grpc-js";
import type * as analyzerPbTypes from "@pulumi/pulumi/proto/analyzer_pb";
import type * as enginePbTypes from "@pulumi/pulumi/proto/engine_pb";
import type { EngineResource } from "../../policies/analyzer";
import { PROJECT_ROOT } from "./pulumi";

export const POLICY_PACK_DIR = path.join(PROJECT_ROOT, "policies");
const PROTO_DIR = path.join(POLICY_PACK_DIR, "node_modules/@pulumi/pulumi/proto");
const RUN_POLICY_PACK = path.join(POLICY_PACK_DIR, "node_modules/@pulumi/pulumi/cmd/run-policy-pack");

const packRequire = createRequire(path.join(PROTO_DIR, "analyzer_grpc_pb.js"));
const grpc = packRequire("@grpc/grpc-js") as typeof grpcTypes;
const analyzerPb = packRequire("./analyzer_pb") as typeof analyzerPbTypes;
const analyzerGrpc = packRequire("./analyzer_grpc_pb") as any;
const enginePb = packRequire("./engine_pb") as typeof enginePbTypes;
const engineGrpc = packRequire("./engine_grpc_pb") as any;
const structPb = packRequire("google-protobuf/google/protobuf/struct_pb") as typeof import("google-protobuf/google/protobuf/struct_pb");
const emptyPb = packRequire("google-protobuf/google/protobuf/empty_pb") as typeof import("google-protobuf/google/protobuf/empty_pb");

export type EnforcementLevelName = "advisory" | "mandatory" | "disabled" | "remediate";

const LEVEL_NAMES: Record<number, EnforcementLevelName> = {
    [analyzerPb.EnforcementLevel.ADVISORY]: "advisory",
    [analyzerPb.EnforcementLevel.MANDATORY]: "mandatory",
    [analyzerPb.EnforcementLevel.DISABLED]: "disabled",
    [analyzerPb.EnforcementLevel.REMEDIATE]: "remediate",
};

// ------------------------------------------------------------------------------------------------
// Fake engine
// ------------------------------------------------------------------------------------------------

export interface EngineCall {
    readonly method: string;
    readonly request: Record<string, unknown>;
}

export interface FakeEngine {
    /** host:port, as the engine passes it to plugins. */
    readonly address: string;
    /** Every RPC the pack made, in order. */
    readonly calls: EngineCall[];
    /** Messages of the Log calls. */
    logMessages(): string[];
    stop(): Promise<void>;
}

/** An Engine gRPC server on 127.0.0.1 and an ephemeral port, recording every call. */
export async function startFakeEngine(): Promise<FakeEngine> {
    const calls: EngineCall[] = [];
    let rootUrn = "";
    const server = new grpc.Server();
    const record = (method: string, call: { request: { toObject(): object } }) => calls.push({ method, request: call.request.toObject() as Record<string, unknown> });
    server.addService(engineGrpc.EngineService, {
        log: (call: any, callback: any) => {
            record("Log", call);
            callback(null, new emptyPb.Empty());
        },
        getRootResource: (call: any, callback: any) => {
            record("GetRootResource", call);
            callback(null, new enginePb.GetRootResourceResponse().setUrn(rootUrn));
        },
        setRootResource: (call: any, callback: any) => {
            record("SetRootResource", call);
            rootUrn = call.request.getUrn();
            callback(null, new enginePb.SetRootResourceResponse());
        },
        startDebugging: (call: any, callback: any) => {
            record("StartDebugging", call);
            callback(null, new emptyPb.Empty());
        },
        requirePulumiVersion: (call: any, callback: any) => {
            record("RequirePulumiVersion", call);
            callback(null, new enginePb.RequirePulumiVersionResponse());
        },
    });
    const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))));
    return {
        address: `127.0.0.1:${port}`,
        calls,
        logMessages: () => calls.filter((c) => c.method === "Log").map((c) => String(c.request.message)),
        stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
    };
}

/** Sends one Log to an engine, as the SDK's `log.*` would; proves the recorder works. */
export async function logToEngine(address: string, message: string): Promise<void> {
    const client = new engineGrpc.EngineClient(address, grpc.credentials.createInsecure());
    const request = new enginePb.LogRequest().setSeverity(enginePb.LogSeverity.INFO).setMessage(message);
    try {
        await new Promise<void>((resolve, reject) => client.log(request, (err: Error | null) => (err ? reject(err) : resolve())));
    } finally {
        client.close();
    }
}

// ------------------------------------------------------------------------------------------------
// The policy pack process
// ------------------------------------------------------------------------------------------------

/** What the engine knows about the stack it runs the pack for (see constructEnv in analyzer_plugin.go). */
export interface StackContext {
    readonly project: string;
    readonly stack: string;
    readonly organization: string;
    readonly dryRun: boolean;
    /** Full config keys ("agent-fleet:fleet") to values as the program sees them (objects as JSON text). */
    readonly config: Readonly<Record<string, string>>;
    /** Full config keys that are secrets. */
    readonly secretKeys: readonly string[];
}

export interface PolicyPackProcess {
    readonly pid: number;
    /** The analyzer's address, from the first line of stdout. */
    readonly address: string;
    stdout(): string;
    stderr(): string;
    /** Kills this process (and only it) and waits for it to exit. */
    kill(): Promise<void>;
}

/**
 * The environment the engine gives a Node.js policy pack: its own environment
 * plus PULUMI_CONFIG (every config value, secrets decrypted) and the stack's
 * identity. Test-runner and Pulumi variables of this process are left out, so
 * the pack sees only what the engine would pass.
 */
export function policyPackEnv(context: StackContext): NodeJS.ProcessEnv {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) =>
        !key.startsWith("VITEST") && !key.startsWith("PULUMI_") && key !== "NODE_OPTIONS" && key !== "TS_NODE_PROJECT"));
    const dryRun = String(context.dryRun);
    return {
        ...inherited,
        PULUMI_CONFIG: JSON.stringify(context.config),
        PULUMI_NODEJS_ORGANIZATION: context.organization,
        PULUMI_NODEJS_PROJECT: context.project,
        PULUMI_NODEJS_STACK: context.stack,
        PULUMI_NODEJS_DRY_RUN: dryRun,
        PULUMI_ORGANIZATION: context.organization,
        PULUMI_PROJECT: context.project,
        PULUMI_STACK: context.stack,
        PULUMI_DRY_RUN: dryRun,
    };
}

/**
 * Starts the pack as the CLI does for a nodejs PulumiPolicy.yaml: cwd = the pack
 * directory, `node <pack>/node_modules/@pulumi/pulumi/cmd/run-policy-pack <engine> .`,
 * and the port read from the first line of stdout.
 */
export function startPolicyPack(engineAddress: string, env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<PolicyPackProcess> {
    const child: ChildProcess = spawn(process.execPath, [RUN_POLICY_PACK, engineAddress, "."], {
        cwd: POLICY_PACK_DIR,
        env,
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => { stdout += chunk; });
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => { stderr += chunk; });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

    const kill = async () => {
        if (child.exitCode === null && child.signalCode === null) {
            child.kill("SIGTERM");
            const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
            await exited;
            clearTimeout(timer);
        }
    };

    return new Promise((resolve, reject) => {
        let settled = false;
        const fail = (why: string) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            void kill().then(() => reject(new Error(`policy pack ${why}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`)));
        };
        const timer = setTimeout(() => fail(`printed no port within ${timeoutMs} ms`), timeoutMs);
        child.once("exit", (code, signal) => fail(`exited before printing a port (code ${code}, signal ${signal})`));
        child.stdout!.on("data", () => {
            const newline = stdout.indexOf("\n");
            if (settled || newline < 0) return;
            const first = stdout.slice(0, newline).trim();
            if (!/^\d+$/.test(first)) return fail(`printed ${JSON.stringify(first)} instead of a port on its first line`);
            settled = true;
            clearTimeout(timer);
            resolve({
                pid: child.pid!,
                address: `127.0.0.1:${first}`,
                stdout: () => stdout,
                stderr: () => stderr,
                kill,
            });
        });
    });
}

// ------------------------------------------------------------------------------------------------
// Analyzer client, as the engine uses it
// ------------------------------------------------------------------------------------------------

/** A diagnostic, reduced to what the engine shows and acts on. */
export interface Verdict {
    readonly policyName: string;
    readonly message: string;
    readonly enforcementLevel: EnforcementLevelName;
    /** "" when the policy did not name a resource (the engine then attaches the analyzed one). */
    readonly urn: string;
}

export interface PolicyInfoView {
    readonly name: string;
    readonly description: string;
    readonly enforcementLevel: EnforcementLevelName;
    readonly type: "resource" | "stack" | "unknown";
}

export interface AnalyzerInfoView {
    readonly name: string;
    readonly version: string;
    readonly supportsConfig: boolean;
    readonly policies: PolicyInfoView[];
}

export type HandshakeOutcome = { readonly ok: true } | { readonly ok: false; readonly code: number; readonly details: string };

/** Wire props as a protobuf Struct (wire values are JSON by construction). */
function struct(props: Readonly<Record<string, unknown>>) {
    return structPb.Struct.fromJavaScript(props as Parameters<typeof structPb.Struct.fromJavaScript>[0]);
}

function resourceOptions(resource: EngineResource, withParent = true) {
    const t = resource.customTimeouts;
    const timeouts = new analyzerPb.AnalyzerResourceOptions.CustomTimeouts().setCreate(t.createSeconds).setUpdate(t.updateSeconds).setDelete(t.deleteSeconds);
    return new analyzerPb.AnalyzerResourceOptions()
        .setProtect(resource.protect)
        .setIgnorechangesList([...resource.ignoreChanges])
        .setDeletebeforereplace(resource.deleteBeforeReplace ?? false)
        .setDeletebeforereplacedefined(resource.deleteBeforeReplace !== undefined)
        .setAdditionalsecretoutputsList([...resource.additionalSecretOutputs])
        .setAliasesList([...resource.aliases])
        .setCustomtimeouts(timeouts)
        .setParent(withParent ? resource.parent : "");
}

function providerOf(resource: EngineResource) {
    const p = resource.provider;
    if (!p) return undefined;
    return new analyzerPb.AnalyzerProviderResource().setType(p.type).setName(p.name).setUrn(p.urn).setProperties(struct(p.props));
}

export function analyzeRequest(resource: EngineResource): analyzerPbTypes.AnalyzeRequest {
    const request = new analyzerPb.AnalyzeRequest()
        .setType(resource.type)
        .setName(resource.name)
        .setUrn(resource.urn)
        .setProperties(struct(resource.props))
        .setOptions(resourceOptions(resource));
    const provider = providerOf(resource);
    if (provider) request.setProvider(provider);
    return request;
}

export function analyzeStackRequest(resources: readonly EngineResource[]): analyzerPbTypes.AnalyzeStackRequest {
    return new analyzerPb.AnalyzeStackRequest().setResourcesList(resources.map((resource) => {
        const r = new analyzerPb.AnalyzerResource()
            .setType(resource.type)
            .setName(resource.name)
            .setUrn(resource.urn)
            .setProperties(struct(resource.props))
            // AnalyzeResources (step_generator.go) sets Parent on the resource and leaves it out of the options.
            .setOptions(resourceOptions(resource, false))
            .setParent(resource.parent)
            .setDependenciesList([...resource.dependencies]);
        const provider = providerOf(resource);
        if (provider) r.setProvider(provider);
        for (const [key, urns] of Object.entries(resource.propertyDependencies)) {
            // The engine skips properties without dependencies.
            if (urns.length > 0) r.getPropertydependenciesMap().set(key, new analyzerPb.AnalyzerPropertyDependencies().setUrnsList([...urns]));
        }
        return r;
    }));
}

function toVerdicts(response: analyzerPbTypes.AnalyzeResponse): Verdict[] {
    return response.getDiagnosticsList().map((d) => ({
        policyName: d.getPolicyname(),
        message: d.getMessage(),
        enforcementLevel: LEVEL_NAMES[d.getEnforcementlevel()],
        urn: d.getUrn(),
    }));
}

export interface AnalyzerClient {
    handshake(request: { engineAddress: string; directory: string }): Promise<HandshakeOutcome>;
    configureStack(context: StackContext, tags: Readonly<Record<string, string>>): Promise<void>;
    getAnalyzerInfo(): Promise<AnalyzerInfoView>;
    getPluginVersion(): Promise<string>;
    analyze(resource: EngineResource): Promise<Verdict[]>;
    analyzeStack(resources: readonly EngineResource[]): Promise<Verdict[]>;
    close(): void;
}

export function connectAnalyzer(address: string): AnalyzerClient {
    const client = new analyzerGrpc.AnalyzerClient(address, grpc.credentials.createInsecure(), {
        // As the engine: large stacks exceed grpc's 4 MB default.
        "grpc.max_receive_message_length": 400 * 1024 * 1024,
    });
    const unary = <T>(method: string, request: unknown) => new Promise<T>((resolve, reject) =>
        client[method](request, (err: Error | null, response: T) => (err ? reject(err) : resolve(response))));
    const policyType = (t: number): PolicyInfoView["type"] =>
        t === analyzerPb.PolicyType.POLICY_TYPE_RESOURCE ? "resource" : t === analyzerPb.PolicyType.POLICY_TYPE_STACK ? "stack" : "unknown";
    return {
        handshake: async ({ engineAddress, directory }) => {
            const request = new analyzerPb.AnalyzerHandshakeRequest().setEngineAddress(engineAddress).setRootDirectory(directory).setProgramDirectory(directory);
            try {
                await unary("handshake", request);
                return { ok: true };
            } catch (error) {
                const e = error as grpcTypes.ServiceError;
                return { ok: false, code: e.code, details: e.details };
            }
        },
        configureStack: async (context, tags) => {
            const request = new analyzerPb.AnalyzerStackConfigureRequest()
                .setStack(context.stack)
                .setProject(context.project)
                .setOrganization(context.organization)
                .setDryRun(context.dryRun)
                .setConfigSecretKeysList([...context.secretKeys]);
            for (const [key, value] of Object.entries(context.config)) request.getConfigMap().set(key, value);
            for (const [key, value] of Object.entries(tags)) request.getTagsMap().set(key, value);
            await unary("configureStack", request);
        },
        getAnalyzerInfo: async () => {
            const info = await unary<analyzerPbTypes.AnalyzerInfo>("getAnalyzerInfo", new emptyPb.Empty());
            return {
                name: info.getName(),
                version: info.getVersion(),
                supportsConfig: info.getSupportsconfig(),
                policies: info.getPoliciesList().map((p) => ({
                    name: p.getName(),
                    description: p.getDescription(),
                    enforcementLevel: LEVEL_NAMES[p.getEnforcementlevel()],
                    type: policyType(p.getPolicyType()),
                })),
            };
        },
        getPluginVersion: async () => (await unary<{ getVersion(): string }>("getPluginInfo", new emptyPb.Empty())).getVersion(),
        analyze: async (resource) => toVerdicts(await unary("analyze", analyzeRequest(resource))),
        analyzeStack: async (resources) => toVerdicts(await unary("analyzeStack", analyzeStackRequest(resources))),
        close: () => client.close(),
    };
}
