/** `fleet flag`: its definition, help and run. Move a feature flag one stage along its rollout (off → team → 10% → 100% for tier 3), recording in the stack file when the stage began. */
import type { Command } from "commander";
import { exitCodesHelp } from "../output";
import type { VerbContext } from "./context";
import { AGENT_ARGUMENT, STACK_FILE_OPTION, CWD_OPTION } from "./options";

export function defineFlag(fleet: Command, { output, onExit }: VerbContext): void {
    fleet.command("flag")
        .description("Move a feature flag one stage along its rollout (off → team → 10% → 100% for tier 3), recording in the stack file when the stage began.")
        .argument("<agent>", AGENT_ARGUMENT)
        .argument("<flag>", "the flag's name")
        .requiredOption("--stage <next|stage>", "\"next\", or a stage of the flag's rollout (moving back towards off is always allowed)")
        .requiredOption("-s, --stack <name>", STACK_FILE_OPTION)
        .option("--force", "skip a stage or cut a soak short; the stack file records that the move was forced")
        .option("--json", "print { stack, agent, flag, from, to, since, forced, overrode } as JSON")
        .option("--cwd <projectDir>", CWD_OPTION)
        .addHelpText("after", [
            ...exitCodesHelp({
                ok: "moved",
                invalid: "bad input, or refused: a skipped stage or an unfinished soak without --force (nothing is written)",
            }),
            "",
            "Examples:",
            "  npx fleet flag pesti smart-followups --stage next --stack staging",
            "  npx fleet flag pesti smart-followups --stage off --stack production      # the tier 3 rollback",
        ].join("\n"))
        .action(async (agent: string, flag: string, options: { stage: string; stack: string; force?: boolean; json?: boolean; cwd?: string }) => {
            const { runFlag } = await import("../services/flag");
            onExit(await runFlag({ agent, flag, ...options }, output));
        });
}
