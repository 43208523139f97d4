/**
 * `fleet up --stack <name> [--agent <name>]`: a deploy that is never a silent
 * success or a silent failure. In order:
 * 1. preflight: `fleet doctor` and `fleet check` (the policy pack, offline);
 * 2. `pulumi up` with the policy pack through the Automation API, targeted at
 *    one agent's resources with --agent, printing each agent's progress;
 * 3. `fleet verify` of what was deployed;
 * 4. every agent this update changed that then failed (its update or its
 *    verification) is rolled back as its tier promises: tiers 1 and 2 to
 *    their rollbackImage, tier 3 with its flags off. The rollback is written
 *    to the stack file, applied, verified and announced (`rolled_back`), and
 *    the command still exits 1.
 * An agent that fails verification without being changed by this update is
 * reported, never rolled back: its previous version is what runs.
 */
import { CheckResult, checkStack } from "../engine";
import { ProgramError } from "../program";
import { EXIT, OperateInputError, Output, asCommand, formatTable } from "./common";
import { UpdateResult, updateStack } from "./deploy";
import { DoctorFinding, doctor } from "./doctor";
import { RollbackPlan, applyRollbacks, writeRollback } from "./rollback";
import { StackFileEditor } from "./stack-edit";
import { targetUrnsOf } from "./targets";
import { VerifyRow, verifyStack } from "./verify";

export interface UpOptions {
    readonly stack: string;
    /** Deploy this agent's resources only; default the whole stack. */
    readonly agent?: string;
    readonly cwd?: string;
    readonly json?: boolean;
    /** The clock, for a tier 3 rollback's flag history; default now. */
    readonly now?: Date;
}

/** One agent's outcome. */
export interface UpAgentRow {
    readonly agent: string;
    /** What the update did to it: "replaced", "created", "failed", "unchanged". */
    readonly update: string;
    /** "ok", or why verification failed. */
    readonly verify: string;
    /** "rolled back to <image>" / "flags off", why it could not be, or absent when none was needed. */
    readonly rollback?: string;
    /** Deployed and verified, with no rollback. */
    readonly ok: boolean;
}

export interface UpJson {
    readonly stack: string;
    readonly agent: string | null;
    readonly ok: boolean;
    readonly durationMs: number;
    /** Problems that stopped the deploy before it started: doctor findings and mandatory policy violations. */
    readonly preflight: { readonly problems: string[] };
    readonly update?: Omit<UpdateResult, "agents">;
    readonly agents: UpAgentRow[];
    /** The rollback's own update, when there was one. */
    readonly rollbackUpdate?: Omit<UpdateResult, "agents">;
}

/** Why a verify row failed, in a few words. */
function verifyProblem(rows: readonly VerifyRow[]): string {
    const failed = rows.filter((r) => !r.ok);
    if (failed.length === 0) return "ok";
    return failed.map((r) => (r.failedChecks.length > 0 ? `smoke check ${r.failedChecks.map((c) => `${c.check}: ${c.detail}`).join("; ")}` : r.health)).join("; ");
}

function withoutAgents(result: UpdateResult): Omit<UpdateResult, "agents"> {
    const { agents: _agents, ...rest } = result;
    return rest;
}

/** Preflight: everything doctor finds wrong and every mandatory violation, as lines; none means go. */
async function preflight(cwd: string, stack: string, progress: (text: string) => void): Promise<{ problems: string[]; resources: CheckResult["resources"] }> {
    progress("preflight: fleet doctor…");
    const findings: DoctorFinding[] = await doctor({ stack, cwd });
    const problems = findings.filter((f) => !f.ok).map((f) => `${f.check}: ${f.detail}${f.fix ? ` (fix: ${f.fix})` : ""}`);
    if (problems.length > 0) return { problems, resources: [] };
    progress("preflight: fleet check (the policy pack, offline)…");
    try {
        const check = await checkStack({ projectDir: cwd, stack });
        const mandatory = check.violations.filter((v) => v.level === "mandatory");
        return { problems: mandatory.map((v) => `policy ${v.policy}${v.agent ? ` (${v.agent})` : ""}: ${v.message}`), resources: check.resources };
    } catch (error) {
        if (error instanceof ProgramError) throw new OperateInputError(error.message);
        throw error;
    }
}

export function runUp(options: UpOptions, output: Output): Promise<number> {
    return asCommand(output, async () => {
        const started = Date.now();
        const cwd = options.cwd ?? process.cwd();
        // Progress goes to stderr with --json, so stdout stays one document.
        const progress = (text: string) => (options.json ? output.err(text) : output.out(text));
        const progressOutput: Output = { out: progress, err: output.err };
        const editor = StackFileEditor.open(cwd, options.stack);
        if (options.agent) editor.agent(options.agent);

        const report = (json: Omit<UpJson, "stack" | "agent" | "durationMs">, text: string[]): number => {
            if (options.json) output.out(JSON.stringify({ stack: options.stack, agent: options.agent ?? null, durationMs: Date.now() - started, ...json } satisfies UpJson, null, 2));
            else output.out(text.join("\n"));
            return json.ok ? EXIT.ok : EXIT.failed;
        };

        const pre = await preflight(cwd, options.stack, progress);
        if (pre.problems.length > 0) {
            return report({ ok: false, preflight: pre, agents: [] }, [
                `fleet up: preflight failed for stack ${options.stack}; nothing was deployed:`, ...pre.problems.map((p) => `  ${p}`),
            ]);
        }

        const targets = options.agent ? targetUrnsOf(pre.resources, [options.agent]) : undefined;
        progress(`up: stack ${options.stack}${options.agent ? `, ${options.agent} only (${targets?.length ?? 0} resources)` : ""}, with the policy pack…`);
        const update = await updateStack({ cwd, stack: options.stack, targets }, progressOutput);
        if (!update.ok) progress(`up: FAILED: ${update.error ?? "see the progress above"}`);

        progress("verify: health and smoke checks…");
        const verifyScope = options.agent ? [options.agent] : undefined;
        const verified = await verifyStack({ stack: options.stack, cwd, agents: verifyScope });
        const verifyOf = (agent: string) => verifyProblem(verified.filter((r) => r.agent === agent));
        const names = [...new Set([...verified.map((r) => r.agent), ...Object.keys(update.agents)])].sort();
        const failed = names.filter((a) => update.agents[a] === "failed" || verifyOf(a) !== "ok");
        const changed = (a: string) => update.agents[a] !== undefined && update.agents[a] !== "unchanged";

        // Roll back what this update changed and broke.
        const plans: RollbackPlan[] = [];
        const rollbackNote = new Map<string, string>();
        for (const agent of failed.filter(changed)) {
            try {
                plans.push(writeRollback(editor, editor.agent(agent), options.now ?? new Date()));
            } catch (error) {
                if (!(error instanceof OperateInputError)) throw error;
                rollbackNote.set(agent, `NOT rolled back: ${error.message}`);
            }
        }
        for (const agent of failed.filter((a) => !changed(a))) rollbackNote.set(agent, "not changed by this update; nothing to roll back");
        let rollbackUpdate: UpdateResult | undefined;
        if (plans.length > 0) {
            editor.save();
            const agents = plans.map((p) => p.agent);
            progress(`rollback: ${plans.map((p) => `${p.agent} → ${p.to}`).join(", ")} (written to ${editor.file.display})…`);
            const why = (plan: RollbackPlan) => {
                const what = update.agents[plan.agent] === "failed" ? `its update failed (${update.error ?? "see the deploy log"})` : `it failed verification (${verifyOf(plan.agent)})`;
                return `fleet up rolled ${plan.agent} back to ${plan.to}: ${what}`;
            };
            rollbackUpdate = await applyRollbacks(cwd, editor, plans, targetUrnsOf(pre.resources, agents), why, progressOutput);
            progress("verify: the rolled-back agents…");
            const after = await verifyStack({ stack: options.stack, cwd, agents });
            for (const plan of plans) {
                const state = verifyProblem(after.filter((r) => r.agent === plan.agent));
                rollbackNote.set(plan.agent, !rollbackUpdate.ok ? `rollback to ${plan.to} FAILED: ${rollbackUpdate.error ?? "see above"}`
                    : state === "ok" ? `rolled back to ${plan.to}; verified` : `rolled back to ${plan.to}, but it fails verification too: ${state}`);
            }
        }

        const rows: UpAgentRow[] = names.map((agent) => ({
            agent,
            update: update.agents[agent] ?? "unchanged",
            verify: update.agents[agent] === "failed" ? "-" : verifyOf(agent),
            ...(rollbackNote.has(agent) ? { rollback: rollbackNote.get(agent) } : {}),
            ok: !failed.includes(agent),
        }));
        const ok = update.ok && failed.length === 0;
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        const verdict = ok ? `fleet up: stack ${options.stack} deployed and verified in ${seconds} s.`
            : plans.length > 0 ? `fleet up: FAILED in ${seconds} s; rolled back ${plans.map((p) => p.agent).join(", ")}. Commit ${editor.file.display}, which now holds the rollback.`
                : `fleet up: FAILED in ${seconds} s${update.ok ? "" : `: ${update.error ?? "the update failed"}`}.`;
        return report({
            ok, preflight: { problems: [] }, update: withoutAgents(update), agents: rows,
            ...(rollbackUpdate ? { rollbackUpdate: withoutAgents(rollbackUpdate) } : {}),
        }, [
            "",
            formatTable(["agent", "update", "verify", "rollback"], rows.map((r) => [r.agent, r.update, r.verify, r.rollback ?? "-"])),
            "",
            verdict,
        ]);
    });
}
