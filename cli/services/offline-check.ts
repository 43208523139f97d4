/**
 * The offline policy check behind `fleet check`:
 *
 *   1. program    the stack's config, then the real program under mocks (./program)
 *   2. policies   the pack over what it registered, through the shared analyzer
 *                 (policies/analyzer): Analyze on each registration's inputs,
 *                 then AnalyzeStack over every resource's final outputs
 *   3. levels     each policy's own, overridden by stacks/policy.<stack>.json
 *   4. agents     each violation filed under the agent its resource belongs to (./agents)
 */
import type { EnforcementLevel, Policy } from "@pulumi/policy";
import { ViolationLevel, analyze, analyzeStack } from "../../policies/analyzer";
import { FleetPolicy, fleetPolicies } from "../../policies/rules";
import { agentsByUrn } from "./agents-by-urn";
import { RegisteredResource, engineResourceOf } from "./mocks";
import { PolicyConfig, readPolicyConfig } from "./policy-config";
import { runProgram } from "./program";
import { readProject, readStackFile } from "../../config";

export { PolicyCrashError } from "../../policies/analyzer";
export { ProgramError } from "./program";

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

interface PolicySummary {
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
    /** What the program declared, as registered under mocks (for targeting an agent's resources). */
    readonly resources: readonly RegisteredResource[];
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

/** Steps 2 to 4 over a finished program run: the pack as the engine runs it during an update. */
export async function evaluatePolicies(
    resources: readonly RegisteredResource[],
    policies: readonly Policy[],
    config: PolicyConfig,
    context: { readonly stack: string; readonly project: string },
): Promise<Violation[]> {
    const options = { settings: (policy: Policy) => config.settings(policy.name) };
    const found = [];
    for (const r of resources) found.push(...await analyze(engineResourceOf(r, context), policies, options));
    found.push(...await analyzeStack(resources.map((r) => engineResourceOf(r, { ...context, outputs: true })), policies, options));
    const agents = agentsByUrn(resources);
    return found.map((d) => ({
        policy: d.policy,
        level: d.level,
        agent: d.urn ? agents.get(d.urn) ?? null : null,
        urn: d.urn ?? null,
        message: d.message,
    }));
}

/** `fleet check` without the command line: throws UserError or ProgramError when the stack cannot be checked. */
export async function checkStack(options: CheckOptions): Promise<CheckResult> {
    const project = readProject(options.projectDir);
    const stackFile = readStackFile(project, options.stack);
    const policies = (options.policies ?? fleetPolicies()).map((p) => p.policy);
    const policyConfig = readPolicyConfig(project.dir, options.stack, policies);
    const started = performance.now();
    const run = await runProgram(project, stackFile, options.stack, options.loadProgram);
    const ran = performance.now();
    const violations = await evaluatePolicies(run.resources, policies, policyConfig, { stack: options.stack, project: project.name });
    const agents = new Set([...agentsByUrn(run.resources).values()].filter((a): a is string => a !== null));
    return {
        stack: options.stack,
        stackFile: stackFile.display,
        policyConfigFile: policyConfig.file,
        agents: [...agents].sort(),
        resourceCount: run.resources.length,
        resources: run.resources,
        policies: policies.map((p) => ({ name: p.name, level: policyConfig.settings(p.name).level })),
        violations,
        warnings: run.warnings,
        timings: { programMs: ran - started, policiesMs: performance.now() - ran },
    };
}
