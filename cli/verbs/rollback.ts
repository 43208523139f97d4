/** `fleet rollback`: its definition, help and run. Roll one agent back. */
import type { Command } from "commander";
import { exitCodesHelp } from "../output";
import type { VerbContext } from "./context";
import { AGENT_ARGUMENT, STACK_FILE_OPTION, CWD_OPTION } from "./options";

export function defineRollback(fleet: Command, { output, onExit }: VerbContext): void {
    fleet.command("rollback")
        .description(
            "Roll one agent back: to its last deployed-and-verified spec (image, env, resources, healthcheck, flags), tier 3 with its flags off too; "
            + "without a verified spec, as its tier promises (tiers 1 and 2 swap image and rollbackImage, tier 3 turns its flags off). "
            + "Edits the stack file and prints the `fleet up` that deploys it, or with --apply deploys, verifies and records it. "
            + "A rollback written but not yet applied is applied again on a retry, never swapped back.",
        )
        .argument("<agent>", AGENT_ARGUMENT)
        .requiredOption("-s, --stack <name>", STACK_FILE_OPTION)
        .option("--apply", "deploy it too (a targeted update, holding the stack's fleet lock), verify the agent, and record it as verified")
        .option("--json", "print { stack, agent, tier, kind, changes, to, fromHash, toHash, command, applied, verify } as JSON")
        .option("--cwd <projectDir>", CWD_OPTION)
        .addHelpText("after", [
            ...exitCodesHelp({
                ok: "the rollback is written (and with --apply deployed and verified)",
                failed: "--apply: the update or the verification failed; the rollback stays written and recorded as pending, and the same command retries it",
                invalid: "bad input: unknown stack or agent, nothing to roll back to (nothing is written); or the stack cannot be reached: backend, passphrase, a lock another operation holds",
            }),
            "",
            "Example:",
            "  npx fleet rollback jarvis --stack production --apply",
        ].join("\n"))
        .action(async (agent: string, options: { stack: string; apply?: boolean; json?: boolean; cwd?: string }) => {
            const { runRollback } = await import("../services/rollback");
            onExit(await runRollback({ agent, ...options }, output));
        });
}
