/**
 * The offline policy check behind `fleet check`: run the real program under
 * Pulumi mocks with the stack's config, then run the real policy pack over
 * what it registered, building every argument the way @pulumi/policy's
 * analyzer server builds it for the Pulumi engine.
 *
 *   1. stack config   stacks/Pulumi.<stack>.yaml → runtime config; secrets → placeholders
 *   2. program        <project>/index.ts, in-process, cwd = project, under mocks
 *   3. policies       validateResource per registration (its inputs), then
 *                     validateStack over every resource (its final outputs)
 *   4. levels         each policy's own, overridden by stacks/policy.<stack>.json
 */
import { createRequire } from "module";
import * as pulumi from "@pulumi/pulumi";
import type {
    EnforcementLevel, Policy, PolicyCustomTimeouts, PolicyProviderResource, PolicyResource, PolicyResourceOptions, ReportViolation,
    ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy,
} from "@pulumi/policy";
import { FleetConfigError, catalogSource, loadFleetConfig } from "../config";
import { LABELS } from "../contract";
import { AGENT_SERVICE_TYPE, FleetPolicy, fleetPolicies } from "../policies/rules";
import { RegisteredResource, WireValue, startMocks } from "./mocks";
import { PolicyConfig, readPolicyConfig } from "./policy-config";
import { ProjectInfo, StackFile, readProject, readStackFile, runtimeConfigFrom, withSecretPlaceholders } from "./stack-config";

const localRequire = createRequire(__filename);

// The analyzer server's own (internal) helpers, so props look exactly as they do under `pulumi preview`:
// wire secrets unwrapped, assets as asset objects, unknowns guarded by a proxy that throws on access.
const { deserializeProperties } = localRequire("@pulumi/policy/deserialize") as {
    deserializeProperties(struct: { toJavaScript(): unknown }, proxySecrets: boolean): Record<string, unknown>;
};
const { unknownCheckingProxy, UnknownValueError } = localRequire("@pulumi/policy/proxy") as {
    unknownCheckingProxy<T>(value: T): T;
    UnknownValueError: new (...args: never[]) => Error;
};

/** The program could not run with this config (exit code 2): a FleetConfigError, or any other failure it reports. */
export class ProgramError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ProgramError";
    }
}

/** A policy threw something other than "not applicable" (exit code 3), as `pulumi preview` fails on it too. */
export class PolicyCrashError extends Error {
    constructor(policy: string, urn: string | undefined, cause: unknown) {
        super(`policy "${policy}" failed${urn ? ` on ${urn}` : ""}: ${cause instanceof Error ? cause.message : String(cause)}`);
        this.name = "PolicyCrashError";
    }
}

export type ViolationLevel = Exclude<EnforcementLevel, "remediate" | "disabled">;

export interface Violation {
    readonly policy: string;
    readonly level: ViolationLevel;
    /** The agent the violation is about; null for the fleet as a whole. */
    readonly agent: string | null;
    /** The resource it is reported on; null when a stack policy names none. */
    readonly urn: string | null;
    /** What the policy reported: file, field and fix. */
    readonly message: string;
}

export interface PolicySummary {
    readonly name: string;
    readonly level: EnforcementLevel;
}

export interface CheckResult {
    readonly stack: string;
    /** Display path of the stack file, e.g. "stacks/Pulumi.production.yaml". */
    readonly stackFile: string;
    /** Display path of the policy config file, when the stack has one. */
    readonly policyConfigFile?: string;
    /** Names of the stack's agents, sorted. */
    readonly agents: string[];
    readonly resourceCount: number;
    readonly policies: PolicySummary[];
    readonly violations: Violation[];
    /** Warnings the program logged (never secret values: the program only ever sees placeholders). */
    readonly warnings: string[];
    /** Milliseconds spent running the program under mocks, and running the policies. */
    readonly timings: { readonly programMs: number; readonly policiesMs: number };
}

export interface CheckOptions {
    /** Project directory: Pulumi.yaml, the program and stacks/. */
    readonly projectDir: string;
    readonly stack: string;
    /**
     * Runs the program module. The default requires it afresh (the CLI runs
     * under ts-node); a host with its own module loader, such as vitest,
     * passes its own.
     */
    readonly loadProgram?: (program: string) => unknown;
    /** The pack's policies; defaults to fleetPolicies(). */
    readonly policies?: readonly FleetPolicy[];
}

/** Requires the program afresh, so that a second check in the same process runs it again. */
function requireProgram(program: string): unknown {
    const resolved = localRequire.resolve(program);
    delete localRequire.cache[resolved];
    return localRequire(resolved);
}

/** As Pulumi's Node.js host runs a program: a module whose export is a function (or a promise) is awaited. */
async function runModule(exported: unknown): Promise<void> {
    const main = typeof exported === "object" && exported !== null && typeof (exported as { default?: unknown }).default === "function"
        ? (exported as { default: () => unknown }).default
        : exported;
    if (typeof main === "function") await main();
    else if (main && typeof (main as PromiseLike<unknown>).then === "function") await main;
}

/**
 * The secret config keys the fleet config names, asked of the loader itself,
 * from the stack file the CLI has already parsed. Secret values cannot be
 * decrypted offline, so each gets a placeholder before the program runs.
 */
function secretKeysNeeded(project: ProjectInfo, stackFile: StackFile, stack: string): Set<string> {
    // The loader asks for every key it reads, even in a config it then rejects for other reasons.
    const keys = new Set<string>();
    try {
        loadFleetConfig({
            stack,
            stackFile: stackFile.display,
            fleet: stackFile.config[`${project.name}:fleet`],
            catalog: catalogSource(project.dir),
            secretKeyState: (key) => (keys.add(key), "secret"),
        });
    } catch {
        // An invalid config fails the program's own run below, with the loader's own message.
    }
    return keys;
}

type LogLevel = "debug" | "info" | "warn" | "error";

/** Captures what the program logs: under mocks the SDK would print it, and an error fails `pulumi up`. */
function captureLogs(): { errors: string[]; warnings: string[]; restore(): void } {
    const log = pulumi.log as unknown as Record<LogLevel, (message: string, ...rest: unknown[]) => Promise<void>>;
    const originals = { debug: log.debug, info: log.info, warn: log.warn, error: log.error };
    const captured = { errors: [] as string[], warnings: [] as string[] };
    log.debug = async () => undefined;
    log.info = async () => undefined;
    log.warn = async (message) => void captured.warnings.push(message);
    log.error = async (message) => void captured.errors.push(message);
    return { ...captured, restore: () => Object.assign(log, originals) };
}

function messageOf(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}

interface ProgramRun {
    readonly resources: RegisteredResource[];
    readonly warnings: string[];
}

/** Steps 1 and 2: the stack's config, then the program under mocks, in the project directory. */
async function runProgram(project: ProjectInfo, stackFile: StackFile, stack: string, load: (program: string) => unknown): Promise<ProgramRun> {
    const config = withSecretPlaceholders(runtimeConfigFrom(stackFile), project.name, secretKeysNeeded(project, stackFile, stack));
    pulumi.runtime.setAllConfig(config.values, config.secretKeys);

    const mocks = await startMocks(stack, { project: project.name });
    const logs = captureLogs();
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => void rejections.push(reason);
    process.on("unhandledRejection", onRejection);
    const cwd = process.cwd();
    process.chdir(project.dir);
    // The SDK captures a stack trace for every promise it makes (leak reports, source positions); the check
    // prints messages only, and without the traces a 1000-agent program runs twice as fast.
    const stackTraceLimit = Error.stackTraceLimit;
    if (!process.env.FLEET_DEBUG) Error.stackTraceLimit = 0;
    try {
        await runModule(load(project.program));
        // Wait for every registration and registerOutputs still in flight.
        await pulumi.runtime.disconnect();
    } catch (error) {
        // index.ts turns a FleetConfigError into a RunError: its message is the whole report.
        if (pulumi.RunError.isInstance(error) || error instanceof FleetConfigError) throw new ProgramError(messageOf(error));
        throw new ProgramError(`the program failed: ${messageOf(error)}`);
    } finally {
        Error.stackTraceLimit = stackTraceLimit;
        process.chdir(cwd);
        logs.restore();
        process.off("unhandledRejection", onRejection);
    }
    if (rejections.length > 0) throw new ProgramError(`the program failed: ${messageOf(rejections[0])}`);
    if (logs.errors.length > 0) {
        // Logged errors fail `pulumi up` (the Fleet logs an agent it could not declare); they fail the check too.
        throw new ProgramError([`the program reported ${logs.errors.length === 1 ? "an error" : `${logs.errors.length} errors`}:`, ...logs.errors.map((e) => `error: ${e}`)].join("\n"));
    }
    return { resources: mocks.resources, warnings: logs.warnings };
}

// ---- step 3: the policy pack, as @pulumi/policy's server.js runs it ------------------------------

class NotApplicableError extends Error {}

function notApplicable(reason?: string): never {
    throw new NotApplicableError(reason ?? "Policy does not apply");
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

function isStackPolicy(policy: Policy): policy is StackValidationPolicy {
    return typeof (policy as StackValidationPolicy).validateStack === "function";
}

function isResourcePolicy(policy: Policy): policy is ResourceValidationPolicy {
    const validate = (policy as ResourceValidationPolicy).validateResource;
    return typeof validate === "function" || (Array.isArray(validate) && validate.every((v) => typeof v === "function"));
}

function props(wire: Record<string, WireValue>): Record<string, unknown> {
    return unknownCheckingProxy(deserializeProperties({ toJavaScript: () => wire }, false));
}

function options(resource: RegisteredResource): PolicyResourceOptions {
    const customTimeouts: PolicyCustomTimeouts = { ...resource.customTimeouts };
    return {
        protect: resource.protect,
        ignoreChanges: [...resource.ignoreChanges],
        aliases: [...resource.aliases],
        customTimeouts,
        additionalSecretOutputs: [...resource.additionalSecretOutputs],
        ...(resource.deleteBeforeReplaceDefined ? { deleteBeforeReplace: resource.deleteBeforeReplace } : {}),
        ...(resource.parent ? { parent: resource.parent } : {}),
    };
}

interface Context {
    readonly stack: string;
    readonly project: string;
}

/** The default provider the engine attaches to a custom resource (the program sets no explicit one), with raw props. */
export function defaultProviderOf(resource: RegisteredResource, context: Context) {
    if (!resource.custom) return undefined;
    const pkg = resource.type.split(":")[0];
    const name = resource.version ? `default_${resource.version.replace(/[.+-]/g, "_")}` : "default";
    return {
        type: `pulumi:providers:${pkg}`,
        name,
        urn: `urn:pulumi:${context.stack}::${context.project}::pulumi:providers:${pkg}::${name}`,
        props: resource.version ? { version: resource.version } : {},
    };
}

function provider(resource: RegisteredResource, context: Context): PolicyProviderResource | undefined {
    const found = defaultProviderOf(resource, context);
    return found && { ...found, props: props(found.props) };
}

interface Reported {
    readonly policy: string;
    readonly level: ViolationLevel;
    readonly urn: string | undefined;
    readonly message: string;
}

function violationLevel(level: EnforcementLevel): ViolationLevel {
    // server.js reports a remediation policy that still finds a violation as mandatory.
    return level === "remediate" ? "mandatory" : level === "disabled" ? "advisory" : level;
}

/** server.js's makeReportViolationFun, keeping the policy's own message (it names file, field and fix) apart from its description. */
function reporter(policy: Policy, level: EnforcementLevel, sink: Reported[]): ReportViolation {
    const report = (message: unknown, urn?: string) => {
        if (typeof message === "object" && message !== null) {
            const info = message as { name?: string; message?: string; description?: string; urn?: string; enforcementLevel?: EnforcementLevel };
            sink.push({
                policy: info.name || policy.name,
                level: violationLevel(info.enforcementLevel || level),
                urn: info.urn,
                message: info.message || info.description || policy.description,
            });
        } else {
            sink.push({ policy: policy.name, level: violationLevel(level), urn, message: typeof message === "string" && message ? message : policy.description });
        }
    };
    return report as ReportViolation;
}

/** What server.js does with an exception from a policy: skip "not applicable", downgrade unknowns, fail on the rest. */
function handled(error: unknown, policy: Policy, urn: string | undefined, sink: Reported[]): void {
    if (error instanceof NotApplicableError) return;
    if (error instanceof UnknownValueError) {
        sink.push({ policy: policy.name, level: "advisory", urn, message: `can't run policy '${policy.name}' during preview: ${error.message}` });
        return;
    }
    throw new PolicyCrashError(policy.name, urn, error);
}

/** Analyze: every enabled resource policy on one resource's inputs. */
async function analyzeResource(resource: RegisteredResource, policies: readonly Policy[], config: PolicyConfig, context: Context, sink: Reported[]): Promise<void> {
    for (const policy of policies) {
        const { level, config: policyConfig } = config.settings(policy.name);
        if (level === "disabled" || !isResourcePolicy(policy) || !policy.validateResource) continue;
        // server.js skips a single typed validation (validateResourceOfType) for other types up front.
        const typed = Array.isArray(policy.validateResource) ? undefined : pulumiTypeOf(policy.validateResource);
        if (typed && typed !== resource.type) continue;
        const report = reporter(policy, level, sink);
        const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
        for (const validate of validations) {
            const resourceProps = props(resource.wireInputs);
            const args: ResourceValidationArgs = {
                type: resource.type,
                props: resourceProps,
                urn: resource.urn,
                name: resource.name,
                opts: options(resource),
                stackTags: new Map(),
                isType: (resourceClass) => isTypeOf(resource.type, resourceClass),
                asType: ((resourceClass: unknown) => (isTypeOf(resource.type, resourceClass) ? resourceProps : undefined)) as ResourceValidationArgs["asType"],
                getConfig: <T extends object>() => ({ ...policyConfig }) as T,
                notApplicable,
            };
            const providerResource = provider(resource, context);
            if (providerResource) args.provider = providerResource;
            const reportedBefore = sink.length;
            try {
                await validate(args, report);
            } catch (error) {
                handled(error, policy, resource.urn, sink);
            }
            // The engine files a resource policy's violation under the resource it analyzed.
            for (let i = reportedBefore; i < sink.length; i++) {
                if (!sink[i].urn) sink[i] = { ...sink[i], urn: resource.urn };
            }
        }
    }
}

/** AnalyzeStack: every enabled stack policy over all resources' final outputs, parents and dependencies linked. */
async function analyzeStack(resources: readonly RegisteredResource[], policies: readonly Policy[], config: PolicyConfig, context: Context, sink: Reported[]): Promise<void> {
    for (const policy of policies) {
        const { level, config: policyConfig } = config.settings(policy.name);
        if (level === "disabled" || !isStackPolicy(policy)) continue;
        const typed = pulumiTypeOf(policy.validateStack);
        if (typed && !resources.some((r) => r.type === typed)) continue;
        // Built afresh for each policy, as server.js does, so no policy sees another's mutations.
        const byUrn = new Map<string, PolicyResource>();
        const built = resources.map((r) => {
            const resourceProps = props(r.wireOutputs);
            const resource: PolicyResource = {
                type: r.type,
                props: resourceProps,
                urn: r.urn,
                name: r.name,
                opts: options(r),
                dependencies: [],
                propertyDependencies: {},
                isType: (resourceClass) => isTypeOf(r.type, resourceClass),
                asType: ((resourceClass: unknown) => (isTypeOf(r.type, resourceClass) ? resourceProps : undefined)) as PolicyResource["asType"],
            };
            const providerResource = provider(r, context);
            if (providerResource) resource.provider = providerResource;
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
        const args: StackValidationArgs = {
            resources: built,
            stackTags: new Map(),
            getConfig: <T extends object>() => ({ ...policyConfig }) as T,
            notApplicable,
        };
        try {
            await policy.validateStack(args, reporter(policy, level, sink));
        } catch (error) {
            handled(error, policy, undefined, sink);
        }
    }
}

/**
 * Which agent each resource belongs to: an AgentService's `agent.name`, a
 * container's agent label, else its parent's agent; null for the fleet itself.
 */
export function agentsByUrn(resources: readonly RegisteredResource[]): Map<string, string | null> {
    const agents = new Map<string, string | null>();
    for (const r of resources) {
        const fromInputs = r.type === AGENT_SERVICE_TYPE ? r.inputs.agent?.name : undefined;
        const labels: { label?: unknown; value?: unknown }[] = Array.isArray(r.inputs.labels) ? r.inputs.labels : [];
        const fromLabel = labels.find((l) => l.label === LABELS.agent)?.value;
        const agent = typeof fromInputs === "string" ? fromInputs : typeof fromLabel === "string" ? fromLabel : agents.get(r.parent) ?? null;
        agents.set(r.urn, agent);
    }
    return agents;
}

/** Steps 3 and 4 over a finished program run. */
export async function evaluatePolicies(
    resources: readonly RegisteredResource[],
    policies: readonly Policy[],
    config: PolicyConfig,
    context: Context,
): Promise<Violation[]> {
    const reported: Reported[] = [];
    for (const resource of resources) await analyzeResource(resource, policies, config, context, reported);
    await analyzeStack(resources, policies, config, context, reported);
    const agents = agentsByUrn(resources);
    return reported.map((r) => ({
        policy: r.policy,
        level: r.level,
        agent: r.urn ? agents.get(r.urn) ?? null : null,
        urn: r.urn ?? null,
        message: r.message,
    }));
}

/** `fleet check` without the command line: throws CheckInputError or ProgramError when the stack cannot be checked. */
export async function checkStack(options: CheckOptions): Promise<CheckResult> {
    const project = readProject(options.projectDir);
    const stackFile = readStackFile(project, options.stack);
    const policies = (options.policies ?? fleetPolicies()).map((p) => p.policy);
    const policyConfig = readPolicyConfig(project.dir, options.stack, policies);
    const started = performance.now();
    const run = await runProgram(project, stackFile, options.stack, options.loadProgram ?? requireProgram);
    const ran = performance.now();
    const violations = await evaluatePolicies(run.resources, policies, policyConfig, { stack: options.stack, project: project.name });
    const agents = new Set([...agentsByUrn(run.resources).values()].filter((a): a is string => a !== null));
    return {
        stack: options.stack,
        stackFile: stackFile.display,
        policyConfigFile: policyConfig.file,
        agents: [...agents].sort(),
        resourceCount: run.resources.length,
        policies: policies.map((p) => ({ name: p.name, level: policyConfig.settings(p.name).level })),
        violations,
        warnings: run.warnings,
        timings: { programMs: ran - started, policiesMs: performance.now() - ran },
    };
}
