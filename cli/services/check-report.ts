/**
 * `fleet check`: runs the stack's program and the policy pack offline and
 * prints the violations, grouped by agent, or as JSON.
 *
 * Exit codes: 0 clean or advisory only, 1 a mandatory violation, 2 the stack
 * cannot be checked (invalid fleet config, unknown stack, bad policy config
 * file), 3 the check itself failed (a policy threw).
 */
import * as path from "path";
import { CheckResult, PolicyCrashError, ProgramError, Violation, checkStack } from "./offline-check";
import { FleetConfigError, UserError } from "../../config/errors";
import { EXIT, Output } from "../output";



export interface CheckCommandOptions {
    readonly stack: string;
    readonly json?: boolean;
    readonly cwd?: string;
}


/** The --json document: exactly these fields. */
export interface CheckJson {
    readonly stack: string;
    readonly agents: string[];
    readonly resourceCount: number;
    readonly violations: { policy: string; level: string; agent: string | null; urn: string | null; message: string }[];
}

function toJson(result: CheckResult): CheckJson {
    return {
        stack: result.stack,
        agents: result.agents,
        resourceCount: result.resourceCount,
        violations: result.violations.map(({ policy, level, agent, urn, message }) => ({ policy, level, agent, urn, message })),
    };
}

const STACK_GROUP = "(stack)";

function plural(count: number, one: string, many = `${one}s`): string {
    return `${count} ${count === 1 ? one : many}`;
}

/** Violations by agent, agents in name order, fleet-level ones last under "(stack)". */
function groupByAgent(violations: readonly Violation[]): [string, Violation[]][] {
    const groups = new Map<string, Violation[]>();
    for (const v of violations) {
        const key = v.agent ?? STACK_GROUP;
        groups.set(key, [...(groups.get(key) ?? []), v]);
    }
    return [...groups.entries()].sort(([a], [b]) => (a === STACK_GROUP ? 1 : b === STACK_GROUP ? -1 : a.localeCompare(b)));
}

function exitCodeOf(result: CheckResult): number {
    return result.violations.some((v) => v.level === "mandatory") ? EXIT.failed : EXIT.ok;
}

/** The human report: a header, violations grouped by agent, a summary line. */
function formatReport(result: CheckResult): string {
    const enabled = result.policies.filter((p) => p.level !== "disabled").length;
    const disabled = result.policies.length - enabled;
    const levels = result.policyConfigFile ? `levels from ${result.policyConfigFile}` : "each policy's own level";
    const lines = [
        `fleet check: stack "${result.stack}" (${result.stackFile}), ${plural(enabled, "policy", "policies")}${disabled > 0 ? ` (${disabled} disabled)` : ""}, ${levels}`,
    ];
    const width = Math.max(0, ...result.violations.map((v) => v.level.length));
    for (const [agent, violations] of groupByAgent(result.violations)) {
        lines.push("", agent);
        for (const v of violations) lines.push(`  ${v.level.padEnd(width)}  ${v.policy}: ${v.message}`);
    }
    const mandatory = result.violations.filter((v) => v.level === "mandatory").length;
    const advisory = result.violations.length - mandatory;
    const verdict = mandatory > 0 ? "FAILED" : advisory > 0 ? "passed with advisories" : "passed";
    lines.push(
        "",
        `${verdict}: ${plural(mandatory, "mandatory violation")}, ${plural(advisory, "advisory violation")} `
        + `(${plural(result.agents.length, "agent")}, ${plural(result.resourceCount, "resource")})`,
    );
    return lines.join("\n");
}

/** Runs the command and returns its exit code; every message goes through `output`. */
export async function runCheck(options: CheckCommandOptions, output: Output): Promise<number> {
    const projectDir = path.resolve(options.cwd ?? process.cwd());
    let result: CheckResult;
    try {
        result = await checkStack({ projectDir, stack: options.stack });
    } catch (error) {
        // Only the message: a config mistake is not a crash, and a stack trace says nothing to a fleet owner.
        // The program's own report (an invalid fleet config above all) stands alone; any other input mistake is the check's.
        if (error instanceof ProgramError || error instanceof FleetConfigError) {
            output.err(error.message);
            return EXIT.invalid;
        }
        if (error instanceof UserError) {
            output.err(`fleet check: ${error.message}`);
            return EXIT.invalid;
        }
        // A policy that throws fails `pulumi preview` too; FLEET_DEBUG=1 adds the stack trace.
        const detail = process.env.FLEET_DEBUG && error instanceof Error ? `\n${error.stack}` : "";
        const what = error instanceof PolicyCrashError ? "" : "internal error: ";
        output.err(`fleet check: ${what}${error instanceof Error ? error.message : String(error)}${detail}`);
        return EXIT.internal;
    }
    // Warnings go to stderr, so that --json output stays one document.
    for (const warning of result.warnings) output.err(`warning: ${warning}`);
    output.out(options.json ? JSON.stringify(toJson(result), null, 2) : formatReport(result));
    return exitCodeOf(result);
}
