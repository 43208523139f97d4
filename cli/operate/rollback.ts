/**
 * `fleet rollback <agent> --stack <name> [--apply]`: the rollback each tier
 * promises, written into the stack file. Tiers 1 and 2 swap image and
 * rollbackImage; tier 3 turns the agent's flags off (recorded in their
 * history). Then it prints the exact targeted `pulumi up`, or runs it.
 */
import { TIERS } from "../../config";
import { EXIT, OperateInputError, Output, asCommand, formatTable } from "./common";
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

export interface RollbackJson {
    readonly stack: string;
    readonly agent: string;
    readonly tier: number;
    /** "image" (tiers 1 and 2) or "flags" (tier 3). */
    readonly kind: "image" | "flags";
    /** What changed, field by field: [field, from, to]. */
    readonly changes: [string, string, string][];
    readonly command: string;
    readonly targets: string[];
    readonly applied: boolean;
}

/** Runs the targeted update of a rollback (updateStack, in the CLI); resolves to whether it succeeded. */
export type ApplyRollback = (stack: string, targets: readonly string[], output: Output) => Promise<boolean>;

export function runRollback(options: RollbackOptions, output: Output, apply: ApplyRollback): Promise<number> {
    return asCommand(output, async () => {
        const cwd = options.cwd ?? process.cwd();
        const editor = StackFileEditor.open(cwd, options.stack);
        const agent = editor.agent(options.agent);
        const changes: [string, string, string][] = [];
        const kind = TIERS[agent.tier].requiresFeatureFlag ? "flags" : "image";
        if (kind === "image") {
            if (!agent.rollbackImage) {
                throw new OperateInputError(`${editor.file.display}: fleet.agents.${agent.name}.rollbackImage: expected the image to roll back to, got nothing (tier ${agent.tier}'s rollback is "${TIERS[agent.tier].rollback}")`);
            }
            editor.setAgentField(agent.name, ["image"], agent.rollbackImage);
            editor.setAgentField(agent.name, ["rollbackImage"], agent.image);
            changes.push(["image", agent.image, agent.rollbackImage], ["rollbackImage", agent.rollbackImage, agent.image]);
        } else {
            const on = agent.featureFlags.filter((f) => f.currentStage !== "off");
            if (on.length === 0) throw new OperateInputError(`${editor.file.display}: fleet.agents.${agent.name}.featureFlags: every flag is already off; nothing to roll back`);
            for (const flag of on) {
                editor.moveFlag(agent, flag, "off", options.now ?? new Date());
                changes.push([`flag ${flag.name}`, flag.currentStage, "off"]);
            }
        }
        editor.save();
        const targets = await agentTargetUrns(cwd, options.stack, agent.name, output);
        const command = targetedUpCommand(options.stack, targets);
        let applied = false;
        if (options.apply) applied = await apply(options.stack, targets, output);
        const result: RollbackJson = { stack: options.stack, agent: agent.name, tier: agent.tier, kind, changes, command, targets, applied };
        if (options.json) {
            output.out(JSON.stringify(result, null, 2));
        } else {
            output.out(formatTable(["agent", "tier", "field", "from", "to"], changes.map(([field, from, to]) => [agent.name, String(agent.tier), field, from, to])));
            output.out(options.apply
                ? `\n${applied ? "Rolled back" : "The rollback update FAILED"}: ${editor.file.display} has the rollback; the update ran:\n${command}`
                : `\n${editor.file.display} has the rollback. Apply it with:\n${command}`);
        }
        return options.apply && !applied ? EXIT.failed : EXIT.ok;
    });
}
