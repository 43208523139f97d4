/** `fleet doctor`: its definition, help and run. Check everything a deploy of the stack needs, all at once. */
import type { Command } from "commander";
import { exitCodesHelp } from "../output";
import type { VerbContext } from "./context";
import { CWD_OPTION } from "./options";

export function defineDoctor(fleet: Command, { output, onExit }: VerbContext): void {
    fleet.command("doctor")
        .description("Check everything a deploy of the stack needs, all at once: the fleet config, its secret keys (set, and set as secrets), its channels, the Docker engine the stack deploys to, the Pulumi CLI, the backend and the passphrase, the fleet lock, and anything an interrupted operation left (a dead Pulumi lock, pending operations, containers the state does not know). Each problem comes with the command that fixes it.")
        .requiredOption("-s, --stack <name>", "the stack to check (stacks/Pulumi.<name>.yaml)")
        .option("--json", "print { stack, ok, findings: [{ check, ok, detail, fix }] } as JSON")
        .option("--cwd <projectDir>", CWD_OPTION)
        .addHelpText("after", [
            ...exitCodesHelp({
                ok: "everything is ready",
                failed: "at least one problem (each listed with its fix)",
                invalid: "bad input: unknown stack, unreadable stack file",
            }),
            "",
            "Example:",
            "  npx fleet doctor --stack staging",
        ].join("\n"))
        .action(async (options: { stack: string; json?: boolean; cwd?: string }) => {
            const { runDoctor } = await import("../services/doctor");
            onExit(await runDoctor(options, output));
        });
}
