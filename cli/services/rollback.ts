/**
 * `fleet rollback <agent> --stack <name> [--apply]`: the rollback each tier
 * promises, written into the stack file, and with --apply deployed, verified
 * and recorded. `fleet up` rolls a failed agent back through the same code.
 *
 * Where an agent goes back to, in order:
 * 1. a rollback already written and not yet applied (`agent-fleet:pending:`
 *    while the stack file still says it): applied again, never swapped
 *    back, so a retry after a failure converges;
 * 2. its last deployed-and-verified spec (`agent-fleet:verified:`), image,
 *    env, secret key names, resources, healthcheck and flags alike, so a
 *    failure caused by config is undone too; tier 3 with its flags off as well;
 * 3. without one: tiers 1 and 2 swap image and rollbackImage, tier 3 turns
 *    its flags off.
 *
 * The rollback is recorded as pending before the file is written, and the
 * record is cleared once the rolled-back agent is verified: whatever fails in
 * between (the update, verification, a killed process, the backend), running
 * the same command again finishes the job.
 */
import { isDeepStrictEqual } from "util";
import Docker from "dockerode";
import type { Stack } from "@pulumi/pulumi/automation";
import { AgentConfig, AgentSpec, TIERS, agentSpecHash } from "../../config";
import { DOCKER_TYPES, LABELS, isPlainObject, labelsOf } from "../../contract";
import { runProgram } from "./program";
import { announceRollback, rollbackAnnouncedEnv } from "./announce";
import { EXIT, UserError, Output, asCommand, formatTable } from "../output";
import { UpdateResult, updateStack } from "./deploy";
import { EngineClient, containerHealth, engineNamed, stackEngineClients } from "./docker";
import { StackOperation } from "./operation";
import { StackRecords, clearPending, forgetPrevious, recordPending, recordVerified } from "./records";
import { requirePassphrase } from "./stack-access";
import { StackFileEditor, isoSeconds } from "./stack-edit";
import { fleetUpCommand, targetUrnsOf } from "./targets";
import { VerifyRow, verifyProblem, verifyStack } from "./verify";

export interface RollbackOptions {
    readonly agent: string;
    readonly stack: string;
    /** Run the targeted update, verify and record it, instead of printing the command that does. */
    readonly apply?: boolean;
    readonly cwd?: string;
    readonly json?: boolean;
    /** The clock, for the flags' history; default now. */
    readonly now?: Date;
}

/** One agent's rollback as written to the stack file. */
export interface RollbackPlan {
    readonly agent: string;
    readonly tier: number;
    /**
     * "spec": back to its last verified spec; "image": rollbackImage (no verified spec to go back to);
     * "flags": tier 3, flags off; "pending": the file already holds a rollback that was not applied yet.
     */
    readonly kind: "spec" | "image" | "flags" | "pending";
    /** What changed, field by field: [field, from, to]; empty for "pending". */
    readonly changes: [string, string, string][];
    /** Where the agent goes back to, in words: "its spec verified at …", "ghcr.io/acme/jarvis:1.4.1", "flags off". */
    readonly to: string;
    /** The agent's spec hash before and after the rollback. */
    readonly fromHash: string;
    readonly toHash: string;
    /** For "spec" (and a "pending" one): which record it restores; "previous" once the file already held the last verified spec. */
    readonly restores?: "verified" | "previous";
}

interface RollbackJson extends RollbackPlan {
    readonly stack: string;
    /** The command that deploys it (without --apply), or that ran. */
    readonly command: string;
    readonly applied: boolean;
    /** With --apply: the verification of the rolled-back agent. */
    readonly verify?: string;
}

/** A value in a change row: short JSON, or "(unset)". */
function show(value: unknown): string {
    if (value === undefined) return "(unset)";
    const text = typeof value === "string" ? value : JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Fields a restore compares as a whole; flags are moved instead, so their history keeps every step. */
const RESTORED_APART = new Set(["featureFlags"]);

/**
 * Writes the recorded config into the agent's entry, as little as it takes:
 * a field whose recorded value is what the layers below give is removed from
 * the entry, an object field keeps only the keys that differ from below.
 * Then checks the result resolves to the recorded config; throws
 * UserError when it cannot (a field set below the entry that the
 * record lacks), and the caller discards the edits.
 */
function writeSpecRestore(editor: StackFileEditor, name: string, current: AgentConfig, recorded: AgentConfig): [string, string, string][] {
    const inherited = editor.inheritedAgentConfig(name) as Record<string, unknown>;
    const want = recorded as unknown as Record<string, unknown>;
    const have = current as unknown as Record<string, unknown>;
    const changes: [string, string, string][] = [];
    const fields = [...new Set([...Object.keys(have), ...Object.keys(want)])].filter((f) => !RESTORED_APART.has(f)).sort();
    for (const field of fields) {
        if (isDeepStrictEqual(have[field], want[field])) continue;
        const below = inherited[field];
        let entry: unknown;
        if (want[field] === undefined || isDeepStrictEqual(want[field], below)) {
            entry = undefined;
        } else if (isPlainObject(want[field]) && isPlainObject(below)) {
            const own = Object.entries(want[field] as Record<string, unknown>).filter(([k, v]) => !isDeepStrictEqual(v, (below as Record<string, unknown>)[k]));
            entry = own.length > 0 ? Object.fromEntries(own) : undefined;
        } else {
            entry = want[field];
        }
        editor.setAgentField(name, [field], entry);
        changes.push([field, show(have[field]), show(want[field])]);
    }
    const restored = editor.resolved().agentConfigs[name] as unknown as Record<string, unknown>;
    const off = fields.filter((f) => !isDeepStrictEqual(restored[f], want[f]));
    if (off.length > 0) {
        throw new UserError(`${editor.file.display}: fleet.agents.${name}: its verified spec cannot be restored from the agent's own entry: `
            + `${off.join(", ")} ${off.length === 1 ? "is" : "are"} set by fleet.agentDefaults or the catalog to what the verified spec did not have; edit ${off.length === 1 ? "it" : "them"} there`);
    }
    return changes;
}

/** Moves every flag of the agent to `stage(flag)` where it is not there yet, recording each move. */
function moveFlags(editor: StackFileEditor, agent: AgentSpec, stage: (flag: string) => string, now: Date): [string, string, string][] {
    const changes: [string, string, string][] = [];
    for (const flag of agent.featureFlags) {
        const target = stage(flag.name);
        if (target === flag.currentStage) continue;
        editor.moveFlag(editor.agent(agent.name), editor.agent(agent.name).featureFlags.find((f) => f.name === flag.name)!, target, now);
        changes.push([`flag ${flag.name}`, flag.currentStage, target]);
    }
    return changes;
}

/** The rollback when no verified spec helps: tiers 1 and 2 swap image and rollbackImage, tier 3 turns its flags off. */
function writeTierRollback(editor: StackFileEditor, agent: AgentSpec, now: Date, why: string): Omit<RollbackPlan, "fromHash" | "toHash"> {
    if (!TIERS[agent.tier].requiresFeatureFlag) {
        if (!agent.rollbackImage || agent.rollbackImage === agent.image) {
            throw new UserError(`${editor.file.display}: fleet.agents.${agent.name}.rollbackImage: expected an image to roll back to (other than image), got ${agent.rollbackImage ?? "nothing"} `
                + `(tier ${agent.tier}'s rollback is "${TIERS[agent.tier].rollback}", and ${why})`);
        }
        editor.setAgentField(agent.name, ["image"], agent.rollbackImage);
        editor.setAgentField(agent.name, ["rollbackImage"], agent.image);
        return {
            agent: agent.name, tier: agent.tier, kind: "image", to: agent.rollbackImage,
            changes: [["image", agent.image, agent.rollbackImage], ["rollbackImage", agent.rollbackImage, agent.image]],
        };
    }
    const changes = moveFlags(editor, agent, () => "off", now);
    if (changes.length === 0) throw new UserError(`${editor.file.display}: fleet.agents.${agent.name}.featureFlags: every flag is already off; nothing to roll back`);
    return { agent: agent.name, tier: agent.tier, kind: "flags", changes, to: "flags off" };
}

/**
 * Plans one agent's rollback and writes it into the editor (not saved).
 * Throws UserError, with the editor as it was, when there is none to make.
 */
export function writeRollback(editor: StackFileEditor, name: string, records: StackRecords, now: Date): RollbackPlan {
    const before = editor.resolved();
    const agent = editor.agent(name);
    const fromHash = agentSpecHash(agent);
    const pending = records.pending.get(name);
    if (pending && pending.toHash === fromHash) {
        return { agent: name, tier: agent.tier, kind: "pending", changes: [], to: pending.to, fromHash: pending.fromHash, toHash: fromHash, ...(pending.restores ? { restores: pending.restores } : {}) };
    }
    const snapshot = editor.snapshot();
    try {
        const verified = records.verified.get(name);
        const previous = records.previous.get(name);
        // The last verified spec, unless the file holds it already (a verified release that turned out wrong): then the one before it.
        const restores = verified && verified.hash !== fromHash ? "verified" : verified && previous && previous.hash !== fromHash ? "previous" : undefined;
        let plan: Omit<RollbackPlan, "fromHash" | "toHash">;
        if (restores) {
            const record = restores === "verified" ? verified! : previous!;
            const changes = writeSpecRestore(editor, name, before.agentConfigs[name], record.config);
            // Tier 3's rollback is its flags off; tiers 1 and 2 go back to the stages that were verified.
            const flags = moveFlags(editor, agent, TIERS[agent.tier].requiresFeatureFlag ? () => "off"
                : (flag) => record.config.featureFlags?.find((f) => f.name === flag)?.currentStage ?? agent.featureFlags.find((f) => f.name === flag)!.currentStage, now);
            plan = {
                agent: name, tier: agent.tier, kind: "spec", changes: [...changes, ...flags], restores,
                to: `its ${restores === "previous" ? "previous " : ""}spec verified at ${record.at}${TIERS[agent.tier].requiresFeatureFlag ? ", flags off" : ""}`,
            };
        } else {
            plan = writeTierRollback(editor, agent, now, verified ? `its last verified spec (${verified.at}) is what the stack file holds now, and no earlier one is recorded` : "no verified spec of it is recorded");
        }
        return { ...plan, fromHash, toHash: agentSpecHash(editor.agent(name)) };
    } catch (error) {
        editor.restore(snapshot);
        throw error;
    }
}

/** The URNs of these agents' resources in the stack file as it is now (written rollbacks included), from the program under mocks. */
async function targetsOfAgents(editor: StackFileEditor, agents: readonly string[]): Promise<string[]> {
    const run = await runProgram(editor.project, editor.file, editor.stack);
    return targetUrnsOf(run.resources, agents);
}

interface StateResource {
    urn: string;
    type: string;
    id?: string;
    delete?: boolean;
    inputs?: Record<string, unknown>;
    initErrors?: string[];
}

/**
 * Keeps what still serves. A create-first replacement that failed its health
 * gate leaves the new, unhealthy container in the state and the old one,
 * still running and healthy, marked for deletion. Where that old container is
 * healthy, the state is turned around (the old one live again, the new one
 * marked for deletion) and the new one is stopped at once. The rollback's
 * update then finds the old container already matching (no new container,
 * no health wait) and deletes the failed one. Returns the agents kept so.
 */
async function keepServingInstances(stack: Stack, agents: readonly string[], engines: readonly EngineClient[], output: Output): Promise<string[]> {
    const exported = await stack.exportStack();
    const resources = (exported.deployment?.resources ?? []) as StateResource[];
    const kept: string[] = [];
    const stopped: { docker: Docker; id: string }[] = [];
    for (const agent of agents) {
        const mine = resources.filter((r) => r.type === DOCKER_TYPES.container && labelsOf(r.inputs)[LABELS.agent] === agent);
        for (const old of mine.filter((r) => r.delete)) {
            const failed = mine.find((r) => r.urn === old.urn && !r.delete);
            if (!failed?.id || !old.id) continue;
            // Both are on the host the container's label names (the same URN, so the same provider).
            const docker = engineNamed(engines, labelsOf(old.inputs)[LABELS.host])?.docker;
            const oldInfo = docker ? await docker.getContainer(old.id).inspect().catch(() => undefined) : undefined;
            if (!docker || containerHealth(oldInfo) !== "healthy") continue;
            old.delete = undefined;
            delete old.delete;
            failed.delete = true;
            stopped.push({ docker, id: failed.id });
            if (!kept.includes(agent)) kept.push(agent);
        }
    }
    if (kept.length === 0) return [];
    await stack.importStack(exported);
    // The failed container must not answer under the agent's name a moment longer; the update deletes it.
    await Promise.all(stopped.map(({ docker, id }) => docker.getContainer(id).kill().catch(() => undefined)));
    output.err(`rollback: ${kept.join(", ")} still ${kept.length === 1 ? "has its" : "have their"} previous container running and healthy; kept, and the failed one stopped`);
    return kept;
}

export interface AppliedRollback {
    readonly update: UpdateResult;
    /** Per agent: "ok", or why it fails verification after the rollback. */
    readonly verified: Readonly<Record<string, string>>;
    readonly rows: readonly VerifyRow[];
    /** Agents whose previous container was kept serving (no new container, no health wait). */
    readonly kept: readonly string[];
}

/**
 * Applies written (and saved) rollbacks: keeps what still serves, runs the
 * targeted update with the rolled-back file's own targets, verifies, and for
 * each agent that passes records its spec as verified, clears its pending
 * record and announces `rolled_back` with why.
 */
export async function applyRollbacks(
    op: StackOperation, plans: readonly RollbackPlan[], why: (plan: RollbackPlan) => string, command: string, output: Output,
): Promise<AppliedRollback> {
    const agents = plans.map((p) => p.agent);
    const editor = StackFileEditor.open(op.cwd, op.stack.name);
    const engines = stackEngineClients(editor.view);
    const kept = editor.spec().runtime === "container" ? await keepServingInstances(op.stack, agents, engines, output) : [];
    const targets = await targetsOfAgents(editor, agents);
    const update = await updateStack({
        stack: op.stack, cwd: op.cwd, targets, env: { ...op.updateEnv, ...rollbackAnnouncedEnv(agents) }, refresh: editor.spec().runtime === "swarm",
    }, output);
    output.err(`verify: ${agents.join(", ")} after the rollback…`);
    const rows = await verifyStack({ stack: op.stack.name, cwd: op.cwd, agents, stackHandle: op.stack, stackOutputs: update.outputs });
    const verified: Record<string, string> = {};
    const resolved = editor.resolved();
    for (const plan of plans) {
        const state = verifyProblem(rows.filter((r) => r.agent === plan.agent));
        verified[plan.agent] = update.ok || update.agents[plan.agent] !== "failed" ? state : `its update failed: ${update.error ?? "see above"}`;
        if (verified[plan.agent] !== "ok") continue;
        const agent = resolved.spec.agents.find((a) => a.name === plan.agent)!;
        await recordVerified(op.stack, plan.agent, { hash: agentSpecHash(agent), at: isoSeconds(new Date()), by: command, config: resolved.agentConfigs[plan.agent] }, output);
        if (plan.restores === "previous") await forgetPrevious(op.stack, plan.agent);
        await clearPending(op.stack, plan.agent);
        await announceRollback(op.stack, resolved.spec, agent, why(plan), output);
    }
    return { update, verified, rows, kept };
}

/** Records a written rollback as pending, then saves the file: the record comes first, so a crash in between leaves a retry its way. */
export async function savePendingRollbacks(op: StackOperation, editor: StackFileEditor, plans: readonly RollbackPlan[], command: string, output: Output): Promise<void> {
    for (const plan of plans.filter((p) => p.kind !== "pending")) {
        await recordPending(op.stack, plan.agent, { fromHash: plan.fromHash, toHash: plan.toHash, to: plan.to, since: isoSeconds(new Date()), by: command, ...(plan.restores ? { restores: plan.restores } : {}) }, output);
    }
    if (plans.some((p) => p.kind !== "pending")) editor.save();
}

export function runRollback(options: RollbackOptions, output: Output): Promise<number> {
    return asCommand(output, async () => {
        const cwd = options.cwd ?? process.cwd();
        // Progress goes to stderr with --json, so stdout stays one document.
        const progress: Output = options.json ? { out: output.err, err: output.err } : output;
        const command = `fleet rollback ${options.agent} --stack ${options.stack}${options.apply ? " --apply" : ""}`;
        // Bad input fails before the backend is asked anything; an update needs the passphrase.
        const initial = StackFileEditor.open(cwd, options.stack);
        initial.agent(options.agent);
        if (options.apply) requirePassphrase(cwd, options.stack, initial.file);
        const op = await StackOperation.begin(cwd, options.stack, command, progress);
        try {
            const editor = op.editor;
            const plan = writeRollback(editor, options.agent, op.records, options.now ?? new Date());
            await savePendingRollbacks(op, editor, [plan], command, progress);
            const deploy = fleetUpCommand(options.stack, plan.agent);
            let applied = false;
            let verify: string | undefined;
            if (options.apply) {
                const result = await applyRollbacks(op, [plan], (p) => `fleet rollback: ${p.agent} rolled back to ${p.to}`, command, progress);
                verify = result.verified[plan.agent];
                applied = verify === "ok";
            }
            const json: RollbackJson = { stack: options.stack, ...plan, command: options.apply ? command : deploy, applied, ...(verify ? { verify } : {}) };
            if (options.json) {
                output.out(JSON.stringify(json, null, 2));
            } else {
                output.out(plan.kind === "pending"
                    ? `${plan.agent}: ${editor.file.display} already holds its rollback to ${plan.to} (written earlier, not yet verified); applying it as written.`
                    : formatTable(["agent", "tier", "field", "from", "to"], plan.changes.map(([field, from, to]) => [plan.agent, String(plan.tier), field, from, to])));
                if (!options.apply) output.out(`\n${editor.file.display} has the rollback. Deploy it with:\n  npx ${deploy}`);
                else if (applied) output.out(`\nRolled back and verified: ${plan.agent} runs ${plan.to}. Commit ${editor.file.display}.`);
                else output.out(`\nThe rollback is NOT done: ${verify}. ${editor.file.display} holds it and the stack records it as pending; run \`npx ${command}\` again to retry it (it will not swap back).`);
            }
            return options.apply && !applied ? EXIT.failed : EXIT.ok;
        } finally {
            await op.end();
        }
    });
}
