/**
 * `fleet flag <agent> <flag> --stage next|<stage> --stack <name>`: moves a
 * tier 3 flag one stage at a time along its rollout, refuses a skipped stage
 * or an unfinished soak unless --force, and records in the stack file when
 * each stage began (a forced move is marked), so that the soak, a skipped
 * stage and the current stage's age can be read from the file later.
 */
import { FeatureFlagSpec, currentStageSince, rolloutStepProblems } from "../../config";
import { EXIT, UserError, Output, asCommand, formatTable } from "../output";
import { StackFileEditor, isoSeconds } from "./stack-edit";
import { fleetUpCommand } from "./targets";
import { humanDuration } from "../../contract";

export interface FlagOptions {
    readonly agent: string;
    readonly flag: string;
    /** "next", or a stage of the flag's rollout. */
    readonly stage: string;
    readonly stack: string;
    readonly force?: boolean;
    readonly cwd?: string;
    readonly json?: boolean;
    /** The clock, for tests; default now. */
    readonly now?: Date;
}

interface FlagJson {
    readonly stack: string;
    readonly agent: string;
    readonly flag: string;
    readonly from: string;
    readonly to: string;
    readonly since: string;
    readonly forced: boolean;
    /** What --force overrode, when it did. */
    readonly overrode: string[];
    /** The targeted `pulumi up` that deploys it. */
    readonly command: string;
}

/** Why moving `flag` to `target` now needs --force; [] when it does not. */
function flagMoveProblems(flag: FeatureFlagSpec, target: string, now: Date): string[] {
    return rolloutStepProblems(flag.stages, flag.currentStage, target, currentStageSince(flag), now);
}

export function runFlag(options: FlagOptions, output: Output): Promise<number> {
    return asCommand(output, async () => {
        const now = options.now ?? new Date();
        const cwd = options.cwd ?? process.cwd();
        const editor = StackFileEditor.open(cwd, options.stack);
        const agent = editor.agent(options.agent);
        const at = `${editor.file.display}: fleet.agents.${agent.name}.featureFlags`;
        const flag = agent.featureFlags.find((f) => f.name === options.flag);
        if (!flag) {
            throw new UserError(`${at}: no flag "${options.flag}" (flags: ${agent.featureFlags.map((f) => f.name).join(", ") || "none"})`);
        }
        const order = flag.stages.map((s) => s.stage);
        const from = order.indexOf(flag.currentStage);
        const target = options.stage === "next" ? order[from + 1] : options.stage;
        if (target === undefined) throw new UserError(`${at}: "${flag.name}" is at its last stage (${flag.currentStage}); there is no next one`);
        if (!order.includes(target)) throw new UserError(`${at}: expected "next" or one of the flag's stages (${order.join(", ")}), got "${target}"`);
        if (target === flag.currentStage) throw new UserError(`${at}: "${flag.name}" is already at ${target}`);
        const problems = flagMoveProblems(flag, target, now);
        if (problems.length > 0 && !options.force) {
            throw new UserError(`${at}: moving "${flag.name}" to ${target} ${problems.join("; and ")}. Pass --force to do it anyway (the stack file records that it was forced).`);
        }

        const forced = problems.length > 0;
        editor.moveFlag(agent, flag, target, now, forced);
        const since = isoSeconds(now);
        editor.save();

        const command = `npx ${fleetUpCommand(options.stack, agent.name)}`;
        const result: FlagJson = { stack: options.stack, agent: agent.name, flag: flag.name, from: flag.currentStage, to: target, since, forced, overrode: forced ? problems : [], command };
        if (options.json) {
            output.out(JSON.stringify(result, null, 2));
        } else {
            output.out(formatTable(["agent", "flag", "from", "to", "since", "forced"], [[agent.name, flag.name, flag.currentStage, target, since, forced ? "yes" : "no"]]));
            if (forced) output.out(`\nForced: it ${problems.join("; and ")}.`);
            const soak = flag.stages[order.indexOf(target)].soakMs;
            output.out(`\n${soak ? `${target} soaks ${humanDuration(soak)} before the next stage. ` : ""}Deploy this agent with:\n  ${command}`);
        }
        return EXIT.ok;
    });
}
