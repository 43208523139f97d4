/**
 * `fleet rollback <agent> --stack <name> [--apply]`: the rollback each tier
 * promises, written into the stack file. Tiers 1 and 2 swap image and
 * rollbackImage; tier 3 turns the agent's flags off (recorded in their
 * history). Then it prints the exact targeted `pulumi up`, or runs it.
 * `fleet up` rolls back a failed agent through the same functions.
 */
import { AgentSpec, TIERS } from "../../config";
import { announceRollback, rollbackAnnouncedEnv } from "./announce";
import { EXIT, OperateInputError, Output, asCommand, formatTable } from "./common";
import { UpdateResult, updateStack } from "./deploy";
import { StackFileEditor } from "./stack-edit";
import { agentTargetUrns, targetedUpCommand } from "./targets";

export interface RollbackOptions {
    readonly agent: string;
    readonly stack: string;
    /** Run the targeted update instead of printing it. */
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
    /** "image" (tiers 1 and 2) or "flags" (tier 3). */
    readonly kind: "image" | "flags";
    /** What changed, field by field: [field, from, to]. */
    readonly changes: [string, string, string][];
    /** Where the agent goes back to, in words: "ghcr.io/acme/jarvis:1.4.1", "flags off". */
    readonly to: string;
}

export interface RollbackJson extends RollbackPlan {
    readonly stack: string;
    readonly command: string;
    readonly targets: string[];
    readonly applied: boolean;
}

/**
 * Writes one agent's rollback into the editor (not yet saved). Throws
 * OperateInputError when the agent has no rollback to make: no rollbackImage,
 * or every flag already off.
 */
export function writeRollback(editor: StackFileEditor, agent: AgentSpec, now: Date): RollbackPlan {
    const changes: [string, string, string][] = [];
    if (!TIERS[agent.tier].requiresFeatureFlag) {
        if (!agent.rollbackImage || agent.rollbackImage === agent.image) {
            throw new OperateInputError(`${editor.file.display}: fleet.agents.${agent.name}.rollbackImage: expected an image to roll back to (other than image), got ${agent.rollbackImage ?? "nothing"} (tier ${agent.tier}'s rollback is "${TIERS[agent.tier].rollback}")`);
        }
        editor.setAgentField(agent.name, ["image"], agent.rollbackImage);
        editor.setAgentField(agent.name, ["rollbackImage"], agent.image);
        changes.push(["image", agent.image, agent.rollbackImage], ["rollbackImage", agent.rollbackImage, agent.image]);
        return { agent: agent.name, tier: agent.tier, kind: "image", changes, to: agent.rollbackImage };
    }
    const on = agent.featureFlags.filter((f) => f.currentStage !== "off");
    if (on.length === 0) throw new OperateInputError(`${editor.file.display}: fleet.agents.${agent.name}.featureFlags: every flag is already off; nothing to roll back`);
    for (const flag of on) {
        editor.moveFlag(agent, flag, "off", now);
        changes.push([`flag ${flag.name}`, flag.currentStage, "off"]);
    }
    return { agent: agent.name, tier: agent.tier, kind: "flags", changes, to: "flags off" };
}

/**
 * Runs the targeted update of written rollbacks and, when it succeeds,
 * announces each one (`rolled_back`, with why) to the agent's channels.
 */
export async function applyRollbacks(
    cwd: string, editor: StackFileEditor, plans: readonly RollbackPlan[], targets: readonly string[], why: (plan: RollbackPlan) => string, output: Output,
): Promise<UpdateResult> {
    const result = await updateStack({ cwd, stack: editor.stack, targets, env: rollbackAnnouncedEnv(plans.map((p) => p.agent)) }, output);
    if (result.ok) {
        const spec = editor.spec();
        for (const plan of plans) await announceRollback(cwd, spec, editor.agent(plan.agent), why(plan), output);
    }
    return result;
}

export function runRollback(options: RollbackOptions, output: Output): Promise<number> {
    return asCommand(output, async () => {
        const cwd = options.cwd ?? process.cwd();
        const editor = StackFileEditor.open(cwd, options.stack);
        const plan = writeRollback(editor, editor.agent(options.agent), options.now ?? new Date());
        editor.save();
        const targets = await agentTargetUrns(cwd, options.stack, plan.agent, output);
        const command = targetedUpCommand(options.stack, targets);
        let applied = false;
        if (options.apply) {
            const result = await applyRollbacks(cwd, editor, [plan], targets, (p) => `fleet rollback: ${p.agent} rolled back to ${p.to}`, output);
            if (!result.ok) output.err(`fleet rollback: the update failed: ${result.error ?? "see the progress above"}`);
            applied = result.ok;
        }
        const result: RollbackJson = { stack: options.stack, ...plan, command, targets, applied };
        if (options.json) {
            output.out(JSON.stringify(result, null, 2));
        } else {
            output.out(formatTable(["agent", "tier", "field", "from", "to"], plan.changes.map(([field, from, to]) => [plan.agent, String(plan.tier), field, from, to])));
            output.out(options.apply
                ? `\n${applied ? "Rolled back" : "The rollback update FAILED"}: ${editor.file.display} has the rollback; the update ran:\n${command}`
                : `\n${editor.file.display} has the rollback. Apply it with:\n${command}`);
        }
        return options.apply && !applied ? EXIT.failed : EXIT.ok;
    });
}
