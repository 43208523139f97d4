/**
 * `fleet up --stack <name> [--agent <name>]`: a deploy that is never a silent
 * success or a silent failure. In order:
 * 1. preflight: `fleet doctor` and `fleet check` (the policy pack, offline);
 * 2. the stack's fleet lock, and whatever an interrupted operation left put
 *    right (./operation);
 * 3. `pulumi up` with the policy pack through the Automation API, targeted at
 *    one agent's resources with --agent, printing each agent's progress and,
 *    at least every 5 s, what it waits for;
 * 4. `fleet verify` of what was deployed; each agent that passes has its spec
 *    recorded as its last verified one;
 * 5. every agent this update changed that then failed (its update or its
 *    verification) is rolled back as ./rollback says: to its last verified
 *    spec, else its tier's rollback, keeping its previous container where it
 *    still serves. The rollback is written to the stack file, applied,
 *    verified and announced (`rolled_back`), and the command still exits 1.
 * An agent that fails verification without being changed by this update is
 * reported, never rolled back: its previous version is what runs. The last
 * line and --json say, per agent, what happened: deployed and verified,
 * rolled back and verified, rollback failed (why), or not rolled back (why).
 */
import Docker from "dockerode";
import { agentSpecHash } from "../../config";
import { LABELS } from "../../contract";
import { CheckResult, checkStack } from "./offline-check";
import { ProgramError } from "./program";
import { EXIT, UserError, Output, asCommand, formatTable } from "../output";
import { UpdateResult, updateStack } from "./deploy";
import { stackEngineClients } from "./docker";
import { DoctorFinding, doctor } from "./doctor";
import { StackOperation } from "./operation";
import { recordVerified } from "./records";
import { AppliedRollback, RollbackPlan, applyRollbacks, savePendingRollbacks, writeRollback } from "./rollback";
import { openStack, requirePassphrase } from "./stack-access";
import { StackFileEditor, isoSeconds } from "./stack-edit";
import { targetUrnsOf } from "./targets";
import { verifyProblem, verifyStack } from "./verify";

export interface UpOptions {
    readonly stack: string;
    /** Deploy this agent's resources only; default the whole stack. */
    readonly agent?: string;
    /** Create the stack in its backend when it does not exist yet (`npm run deploy:dev` does). */
    readonly createStack?: boolean;
    readonly cwd?: string;
    readonly json?: boolean;
    /** The clock, for a tier 3 rollback's flag history; default now. */
    readonly now?: Date;
}

/** What happened to one agent's rollback. */
interface RollbackOutcome {
    readonly outcome: "rolled back and verified" | "rollback failed" | "not rolled back";
    /** Where it went back to, when a rollback was written. */
    readonly to?: string;
    /** Why it failed, or why none was made. */
    readonly why?: string;
    /** Its previous container was kept serving: no new container, no health wait. */
    readonly keptPrevious?: boolean;
}

/** One agent's outcome. */
interface UpAgentRow {
    readonly agent: string;
    /** What the update did to it: "replaced", "created", "failed", "unchanged". */
    readonly update: string;
    /** "ok", or why verification failed (with the healthcheck's own last output when it has one). */
    readonly verify: string;
    /** Present when the agent failed after this update changed it, or failed unchanged (then: not rolled back, and why). */
    readonly rollback?: RollbackOutcome;
    /** Deployed and verified, with no rollback. */
    readonly ok: boolean;
}

interface UpJson {
    readonly stack: string;
    readonly agent: string | null;
    readonly ok: boolean;
    readonly durationMs: number;
    /** Problems that stopped the deploy before it started: doctor findings and mandatory policy violations. */
    readonly preflight: { readonly problems: string[] };
    /** What recovery put right first, after an interrupted operation. */
    readonly recovered?: string[];
    readonly update?: UpdateSummary;
    readonly agents: UpAgentRow[];
    /** The rollback's own update, when there was one. */
    readonly rollbackUpdate?: UpdateSummary;
}

/** An update as --json reports it: never its outputs, which hold secrets in plain text. */
type UpdateSummary = Omit<UpdateResult, "agents" | "outputs">;

function summaryOf(result: UpdateResult): UpdateSummary {
    const { agents: _agents, outputs: _outputs, ...rest } = result;
    return rest;
}

/**
 * Preflight: everything doctor finds wrong and every mandatory violation, as
 * lines; none means go. Doctor (mostly waiting on Docker and the Pulumi CLI)
 * and the offline check (the program and the pack, in this process) run side
 * by side; doctor's problems come first, and a check that fails with them
 * is not reported, as when it ran after them.
 */
async function preflight(cwd: string, stack: string, createStack: boolean, progress: (text: string) => void): Promise<{ problems: string[]; resources: CheckResult["resources"] }> {
    progress("preflight: fleet doctor and fleet check (the policy pack, offline)…");
    const checking = checkStack({ projectDir: cwd, stack }).then((check) => ({ check }), (error: unknown) => ({ error }));
    const findings: DoctorFinding[] = await doctor({ stack, cwd, forUp: { createStack } });
    // A host that is down fails only its own agents: the others deploy, unless no host answers at all.
    const down = findings.filter((f) => !f.ok && f.hostDown !== undefined);
    const hostsAnswering = findings.some((f) => f.ok && (f.check === "docker" || f.check === "host"));
    for (const f of hostsAnswering ? down : []) progress(`preflight: host ${f.hostDown} is down, so its agents fail this run and the other hosts deploy: ${f.detail}`);
    for (const f of findings.filter((finding) => finding.ok && finding.note)) progress(`preflight: ${f.detail}`);
    const problems = findings.filter((f) => !f.ok && !(hostsAnswering && f.hostDown !== undefined)).map((f) => `${f.check}: ${f.detail}${f.fix ? ` (fix: ${f.fix})` : ""}`);
    const checked = await checking;
    if (problems.length > 0) return { problems, resources: [] };
    if ("error" in checked) {
        if (checked.error instanceof ProgramError) throw new UserError(checked.error.message);
        throw checked.error;
    }
    const mandatory = checked.check.violations.filter((v) => v.level === "mandatory");
    return { problems: mandatory.map((v) => `policy ${v.policy}${v.agent ? ` (${v.agent})` : ""}: ${v.message}`), resources: checked.check.resources };
}

/**
 * The last output of the healthcheck of the agent's newest container: what a
 * failed health gate saw ("GET /health: 503 {…}"). Undefined when Docker kept none.
 */
async function lastProbeOf(engines: readonly Docker[], stack: string, agent: string): Promise<string | undefined> {
    const listed = (await Promise.all(engines.map(async (docker) => (await docker.listContainers({ all: true, filters: { label: [`${LABELS.stack}=${stack}`, `${LABELS.agent}=${agent}`] } }).catch(() => []))
        .map((container) => ({ docker, container }))))).flat();
    const newest = listed.sort((a, b) => b.container.Created - a.container.Created)[0];
    if (!newest) return undefined;
    const info = await newest.docker.getContainer(newest.container.Id).inspect().catch(() => undefined);
    return info?.State.Health?.Log?.at(-1)?.Output?.trim().split("\n")[0].slice(0, 200) || undefined;
}

export function runUp(options: UpOptions, output: Output): Promise<number> {
    return asCommand(output, async () => {
        const started = Date.now();
        const cwd = options.cwd ?? process.cwd();
        // Progress goes to stderr with --json, so stdout stays one document.
        const progress = (text: string) => (options.json ? output.err(text) : output.out(text));
        const progressOutput: Output = { out: progress, err: output.err };
        const command = `fleet up --stack ${options.stack}${options.agent ? ` --agent ${options.agent}` : ""}`;
        // Bad input (unknown stack or agent, an invalid config) fails first, with exit 2.
        const initial = StackFileEditor.open(cwd, options.stack);
        if (options.agent) initial.agent(options.agent);
        progress(`${command}: starting…`);
        // So is a stack that cannot be reached or decrypted (exit 2, with the fix), before the preflight's work.
        requirePassphrase(cwd, options.stack, initial.file);
        if (!options.createStack) await openStack(cwd, options.stack);

        const report = (json: Omit<UpJson, "stack" | "agent" | "durationMs">, text: string[]): number => {
            if (options.json) output.out(JSON.stringify({ stack: options.stack, agent: options.agent ?? null, durationMs: Date.now() - started, ...json } satisfies UpJson, null, 2));
            else output.out(text.join("\n"));
            return json.ok ? EXIT.ok : EXIT.failed;
        };

        const pre = await preflight(cwd, options.stack, options.createStack ?? false, progress);
        if (pre.problems.length > 0) {
            return report({ ok: false, preflight: pre, agents: [] }, [
                `fleet up: preflight failed for stack ${options.stack}; nothing was deployed:`, ...pre.problems.map((p) => `  ${p}`),
            ]);
        }

        // From here to after the rollback the operation holds the stack's fleet lock: a second operator is
        // refused (exit 2) with who holds it, and a dead holder's leftovers are recovered first. The preflight
        // before it only reads, so --create-stack creates nothing for a stack that fails it.
        const op = await StackOperation.begin(cwd, options.stack, command, { out: progress, err: progress }, { create: options.createStack });
        try {
            const spec = op.editor.spec();
            const engines = stackEngineClients(op.editor.view);
            const targets = options.agent ? targetUrnsOf(pre.resources, [options.agent]) : undefined;
            progress(`up: stack ${options.stack}${options.agent ? `, ${options.agent} only (${targets?.length ?? 0} resources)` : ""}, with the policy pack…`);
            const update = await updateStack({ stack: op.stack, cwd, targets, env: op.updateEnv, refresh: spec.runtime === "swarm" }, progressOutput);
            if (!update.ok) progress(`up: FAILED: ${update.error ?? "see the progress above"}`);
            const probes = new Map<string, string>();
            for (const [agent, what] of Object.entries(update.agents)) {
                if (what !== "failed") continue;
                const probe = await lastProbeOf(engines.map((e) => e.docker), options.stack, agent);
                if (probe) {
                    probes.set(agent, probe);
                    progress(`up: ${agent} failed its health gate; its healthcheck said: ${probe}`);
                }
            }

            progress("verify: health and smoke checks…");
            const scope = options.agent ? [options.agent] : undefined;
            const rows = await verifyStack({ stack: options.stack, cwd, agents: scope, stackHandle: op.stack, stackOutputs: update.outputs });
            const verifyOf = (agent: string) => verifyProblem(rows.filter((r) => r.agent === agent));
            const names = [...new Set([...rows.map((r) => r.agent), ...Object.keys(update.agents)])].sort();
            // An agent taken out of the stack file and deleted by this update has nothing left to verify: done, not failed.
            const specNames = new Set(op.editor.resolved().spec.agents.map((a) => a.name));
            const removed = (a: string) => update.agents[a] === "deleted" && !specNames.has(a);
            const failed = names.filter((a) => !removed(a) && (update.agents[a] === "failed" || verifyOf(a) !== "ok"));
            const changed = (a: string) => update.agents[a] !== undefined && update.agents[a] !== "unchanged";

            // Each agent that passes is now its last verified spec.
            const resolved = op.editor.resolved();
            for (const agent of names.filter((a) => !failed.includes(a))) {
                const agentSpec = resolved.spec.agents.find((a) => a.name === agent);
                if (!agentSpec) continue;
                const hash = agentSpecHash(agentSpec);
                if (op.records.verified.get(agent)?.hash === hash && !changed(agent)) continue;
                await recordVerified(op.stack, agent, { hash, at: isoSeconds(new Date()), by: command, config: resolved.agentConfigs[agent] }, progressOutput, op.records.verified.get(agent));
            }

            // An agent whose only failures are on hosts that did not answer is not what broke: a rollback could
            // not reach those hosts either. It is reported, and the next `fleet up` once they are back converges.
            const outcomes = new Map<string, RollbackOutcome>();
            const downHostsOf = (agent: string) => [...new Set(rows.filter((r) => r.agent === agent && r.hostDown).map((r) => r.host!))];
            const onlyDown = failed.filter((a) => downHostsOf(a).length > 0 && !rows.some((r) => r.agent === a && !r.ok && !r.hostDown));
            for (const agent of onlyDown) {
                const hosts = downHostsOf(agent);
                outcomes.set(agent, { outcome: "not rolled back", why: `host${hosts.length === 1 ? "" : "s"} ${hosts.join(", ")} did not answer, so what it runs there is unknown; \`fleet up\` again once ${hosts.length === 1 ? "it is" : "they are"} back` });
            }

            // Roll back what this update changed and broke.
            const editor = StackFileEditor.open(cwd, options.stack);
            const plans: RollbackPlan[] = [];
            for (const agent of failed.filter((a) => changed(a) && !onlyDown.includes(a))) {
                try {
                    const plan = writeRollback(editor, agent, op.records, options.now ?? new Date());
                    if (plan.kind === "pending") {
                        outcomes.set(agent, { outcome: "not rolled back", why: `the stack file already holds its rollback to ${plan.to}, written earlier, and that is what failed now` });
                    } else {
                        plans.push(plan);
                    }
                } catch (error) {
                    if (!(error instanceof UserError)) throw error;
                    outcomes.set(agent, { outcome: "not rolled back", why: error.message });
                }
            }
            for (const agent of failed.filter((a) => !changed(a) && !onlyDown.includes(a))) {
                outcomes.set(agent, { outcome: "not rolled back", why: "this update did not change it: what fails is what ran before" });
            }
            let rollback: AppliedRollback | undefined;
            if (plans.length > 0) {
                await savePendingRollbacks(op, editor, plans, command, progressOutput);
                progress(`rollback: ${plans.map((p) => `${p.agent} → ${p.to}`).join(", ")} (written to ${editor.file.display})…`);
                const why = (plan: RollbackPlan) => {
                    const probe = probes.get(plan.agent);
                    const what = update.agents[plan.agent] === "failed"
                        ? `its update failed (${probe ? `healthcheck: ${probe}` : update.error ?? "see the deploy log"})`
                        : `it failed verification (${verifyOf(plan.agent)})`;
                    return `fleet up rolled ${plan.agent} back to ${plan.to}: ${what}`;
                };
                rollback = await applyRollbacks(op, plans, why, command, progressOutput);
                for (const plan of plans) {
                    const state = rollback.verified[plan.agent];
                    outcomes.set(plan.agent, state === "ok"
                        ? { outcome: "rolled back and verified", to: plan.to, ...(rollback.kept.includes(plan.agent) ? { keptPrevious: true } : {}) }
                        : { outcome: "rollback failed", to: plan.to, why: state });
                }
            }

            const agentRows: UpAgentRow[] = names.map((agent) => ({
                agent,
                update: update.agents[agent] ?? "unchanged",
                verify: update.agents[agent] === "failed" ? (probes.has(agent) ? `unhealthy: ${probes.get(agent)}` : "-") : removed(agent) ? "-" : verifyOf(agent),
                ...(outcomes.has(agent) ? { rollback: outcomes.get(agent) } : {}),
                ok: !failed.includes(agent),
            }));
            const ok = update.ok && failed.length === 0;
            const seconds = ((Date.now() - started) / 1000).toFixed(1);
            const by = (outcome: RollbackOutcome["outcome"]) => [...outcomes].filter(([, o]) => o.outcome === outcome).map(([a]) => a);
            const parts = [
                by("rolled back and verified").length > 0 ? `rolled back and verified: ${by("rolled back and verified").join(", ")}` : "",
                by("rollback failed").length > 0 ? `rollback FAILED: ${by("rollback failed").join(", ")}` : "",
                by("not rolled back").length > 0 ? `not rolled back: ${by("not rolled back").join(", ")}` : "",
            ].filter(Boolean);
            const written = plans.length > 0
                ? ` ${editor.file.display} holds the rollback${by("rollback failed").length > 0 ? " (recorded as pending: `fleet up` or `fleet rollback <agent> --apply` retries it)" : ""}; commit it.`
                : "";
            const verdict = ok ? `fleet up: stack ${options.stack} deployed and verified in ${seconds} s.`
                : `fleet up: FAILED in ${seconds} s${update.ok ? "" : `: ${update.error ?? "the update failed"}`}${parts.length > 0 ? `; ${parts.join("; ")}` : ""}.${written}`;
            const explain = [...outcomes].filter(([, o]) => o.why).map(([a, o]) => `  ${a}: ${o.outcome}: ${o.why}`);
            return report({
                ok, preflight: { problems: [] }, ...(op.recovered.length > 0 ? { recovered: [...op.recovered] } : {}), update: summaryOf(update), agents: agentRows,
                ...(rollback ? { rollbackUpdate: summaryOf(rollback.update) } : {}),
            }, [
                "",
                formatTable(["agent", "update", "verify", "rollback"], agentRows.map((r) => [
                    r.agent, r.update, r.verify, r.rollback ? `${r.rollback.outcome}${r.rollback.to ? ` (to ${r.rollback.to})` : ""}` : "-",
                ])),
                ...(explain.length > 0 ? ["", ...explain] : []),
                "",
                verdict,
            ]);
        } finally {
            await op.end();
        }
    });
}
