/**
 * `fleet check` on synthetic fleets (bench/fleets.ts's rawFleet): a temporary
 * project whose production stack file holds N agents, checked in-process by
 * the same engine the CLI runs (program under mocks, then the policy pack).
 *
 * Used by bench/fleet.bench.ts (vitest bench) and bench/report.ts.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { CheckResult, checkStack } from "../cli/services/offline-check";
import { STACK, rawFleet } from "./fleets";

const REPO = path.resolve(__dirname, "..");

/** A project dir with the repo's Pulumi.yaml, index.ts and catalog, and an N-agent production stack file. */
export function writeCheckProject(n: number): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `fleet-check-bench-${n}-`));
    fs.mkdirSync(path.join(dir, "stacks"));
    fs.symlinkSync(path.join(REPO, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.symlinkSync(path.join(REPO, "index.ts"), path.join(dir, "index.ts"));
    fs.copyFileSync(path.join(REPO, "stacks", "catalog.yaml"), path.join(dir, "stacks", "catalog.yaml"));
    fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${STACK}.yaml`), stringify({ config: { "agent-fleet:fleet": rawFleet(n) } }));
    return dir;
}

export function removeCheckProject(dir: string): void {
    fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * rawFleet gives every fifth agent a rollbackImage equal to its image
 * (`1.x.0` twice), which rollback-image reports: n / 5 violations, all else clean.
 */
export function expectedViolations(n: number): number {
    return Math.ceil(n / 5);
}

/** Throws unless the check saw every agent and reported exactly the expected violations. */
export function checkCheck(result: CheckResult, n: number): void {
    const policies = new Set(result.violations.map((v) => v.policy));
    if (result.agents.length !== n || result.resourceCount !== 3 * n + 2 || result.violations.length !== expectedViolations(n)
        || (policies.size > 0 && (policies.size !== 1 || !policies.has("rollback-image")))) {
        throw new Error(`fleet check (N=${n}): expected ${n} agents, ${3 * n + 2} resources and ${expectedViolations(n)} rollback-image violations, `
            + `got ${result.agents.length}, ${result.resourceCount} and ${result.violations.length} (${[...policies].join(", ")})`);
    }
}

/** One in-process check of the project's production stack. */
export function runCheck(dir: string, loadProgram?: (program: string) => unknown): Promise<CheckResult> {
    return checkStack({ projectDir: dir, stack: STACK, loadProgram });
}
