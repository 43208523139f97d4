/**
 * Runs policies over engine resources the way @pulumi/policy's analyzer
 * server does for the Pulumi engine: enforcement levels and config per policy,
 * "not applicable" skipped, an unknown value read during a preview downgraded
 * to an advisory, any other exception a failure. `fleet check` and the tests
 * both run the pack through here.
 */
import { UnknownValueError } from "@pulumi/policy";
import type {
    EnforcementLevel, Policy, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy,
} from "@pulumi/policy";
import { NotApplicableError, resourceValidationArgs, stackValidationArgs, typedFor } from "./args";
import type { EngineResource } from "./resource";

/** The levels a violation is reported at: remediate is reported as mandatory, as the server does. */
import type { ViolationLevel } from "../../contract/policy-findings";

export type { ViolationLevel };

export interface Diagnostic {
    readonly policy: string;
    /** The policy's description; the engine prints the message under it. */
    readonly description: string;
    readonly level: ViolationLevel;
    /**
     * The resource it is about: the one the policy named, else for a resource
     * policy the one analyzed (as the engine files it); undefined when a stack
     * policy names none.
     */
    readonly urn?: string;
    /** What the policy reported (for the fleet's policies: file, field and fix); its description when it gave no message. */
    readonly message: string;
}

/** A policy's enforcement level and config for this run (stacks/policy.<stack>.json over the policy's own). */
export interface PolicySettings {
    readonly level: EnforcementLevel;
    readonly config?: Readonly<Record<string, unknown>>;
}

export interface AnalyzeOptions {
    /** Each policy's level and config; default: the policy's own level (else advisory) and no config. */
    readonly settings?: (policy: Policy) => PolicySettings;
    /** The stack's tags; default none. */
    readonly stackTags?: Readonly<Record<string, string>>;
}

/** A policy threw something other than "not applicable" or an unknown read; `pulumi preview` fails on it too. */
export class PolicyCrashError extends Error {
    constructor(readonly policy: string, readonly urn: string | undefined, readonly reason: unknown) {
        super(`policy "${policy}" failed${urn ? ` on ${urn}` : ""}: ${reason instanceof Error ? reason.message : String(reason)}`);
        this.name = "PolicyCrashError";
    }
}

export function isResourcePolicy(policy: Policy): policy is ResourceValidationPolicy {
    const validate = (policy as ResourceValidationPolicy).validateResource;
    return typeof validate === "function" || (Array.isArray(validate) && validate.every((v) => typeof v === "function"));
}

export function isStackPolicy(policy: Policy): policy is StackValidationPolicy {
    return typeof (policy as StackValidationPolicy).validateStack === "function";
}

function ownSettings(policy: Policy): PolicySettings {
    return { level: policy.enforcementLevel ?? "advisory" };
}

function violationLevel(level: EnforcementLevel): ViolationLevel {
    return level === "remediate" || level === "mandatory" ? "mandatory" : "advisory";
}

/** server.js's makeReportViolationFun, keeping the policy's own message apart from its description. */
function reporter(policy: Policy, level: EnforcementLevel, analyzed: string | undefined, sink: Diagnostic[]): ReportViolation {
    const report = (message: unknown, urn?: string) => {
        if (typeof message === "object" && message !== null) {
            const info = message as { name?: string; message?: string; description?: string; urn?: string; enforcementLevel?: EnforcementLevel };
            sink.push({
                policy: info.name || policy.name,
                description: info.description || policy.description,
                level: violationLevel(info.enforcementLevel || level),
                urn: info.urn || analyzed,
                message: info.message || info.description || policy.description,
            });
        } else {
            sink.push({
                policy: policy.name,
                description: policy.description,
                level: violationLevel(level),
                urn: urn || analyzed,
                message: typeof message === "string" && message ? message : policy.description,
            });
        }
    };
    return report as ReportViolation;
}

async function guarded(policy: Policy, analyzed: string | undefined, sink: Diagnostic[], run: () => unknown): Promise<void> {
    try {
        await run();
    } catch (error) {
        if (error instanceof NotApplicableError) return;
        if (error instanceof UnknownValueError) {
            sink.push({
                policy: policy.name,
                description: policy.description,
                level: "advisory",
                urn: analyzed,
                message: `can't run policy '${policy.name}' during preview: ${(error as Error).message}`,
            });
            return;
        }
        throw new PolicyCrashError(policy.name, analyzed, error);
    }
}

/** One resource policy at `level` over args already built (each of its validations in turn). */
export async function runResourcePolicy(policy: ResourceValidationPolicy, args: ResourceValidationArgs, level: EnforcementLevel): Promise<Diagnostic[]> {
    const sink: Diagnostic[] = [];
    if (level === "disabled" || !policy.validateResource) return sink;
    const report = reporter(policy, level, args.urn, sink);
    for (const validate of Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource]) {
        await guarded(policy, args.urn, sink, () => validate(args, report));
    }
    return sink;
}

/** One stack policy at `level` over args already built. */
export async function runStackPolicy(policy: StackValidationPolicy, args: StackValidationArgs, level: EnforcementLevel): Promise<Diagnostic[]> {
    const sink: Diagnostic[] = [];
    if (level === "disabled") return sink;
    await guarded(policy, undefined, sink, () => policy.validateStack(args, reporter(policy, level, undefined, sink)));
    return sink;
}

/** `Analyze`: every enabled resource policy, in pack order, on one resource's inputs. */
export async function analyze(resource: EngineResource, policies: readonly Policy[], options: AnalyzeOptions = {}): Promise<Diagnostic[]> {
    const found: Diagnostic[] = [];
    for (const policy of policies) {
        if (!isResourcePolicy(policy) || !policy.validateResource) continue;
        const { level, config } = (options.settings ?? ownSettings)(policy);
        // The server skips a single typed validation for other types up front.
        const typed = Array.isArray(policy.validateResource) ? undefined : typedFor(policy.validateResource);
        if (level === "disabled" || (typed && typed !== resource.type)) continue;
        // Fresh args for each policy, as the server deserializes them anew.
        found.push(...await runResourcePolicy(policy, resourceValidationArgs(resource, { config, stackTags: options.stackTags }), level));
    }
    return found;
}

/** `AnalyzeStack`: every enabled stack policy, in pack order, over all resources (their final outputs, after an update). */
export async function analyzeStack(resources: readonly EngineResource[], policies: readonly Policy[], options: AnalyzeOptions = {}): Promise<Diagnostic[]> {
    const found: Diagnostic[] = [];
    for (const policy of policies) {
        if (!isStackPolicy(policy)) continue;
        const { level, config } = (options.settings ?? ownSettings)(policy);
        const typed = typedFor(policy.validateStack);
        if (level === "disabled" || (typed && !resources.some((r) => r.type === typed))) continue;
        found.push(...await runStackPolicy(policy, stackValidationArgs(resources, { config, stackTags: options.stackTags }), level));
    }
    return found;
}
