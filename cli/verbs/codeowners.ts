/** `fleet codeowners`: its definition, help and run. Write the CODEOWNERS entries for each agent's own files (its build context) from the agents' owner fields in every stack, so that owners review changes to their agents. */
import type { Command } from "commander";
import { exitCodesHelp } from "../output";
import type { VerbContext } from "./context";
import { CWD_OPTION } from "./options";

export function defineCodeowners(fleet: Command, { output, onExit }: VerbContext): void {
    fleet.command("codeowners")
        .description("Write the CODEOWNERS entries for each agent's own files (its build context) from the agents' owner fields in every stack, so that owners review changes to their agents. Lines outside the managed block are kept.")
        .option("--check", "compare instead of writing: exit 1 when .github/CODEOWNERS differs (for CI)")
        .option("--json", "print { file, current, entries: [{ path, owners, agents }] } as JSON")
        .option("--cwd <projectDir>", CWD_OPTION)
        .addHelpText("after", [
            ...exitCodesHelp({
                ok: "written, or (--check) current",
                failed: "(--check) the file differs from the agents' owners",
                invalid: "bad input: an invalid stack file, an owner CODEOWNERS cannot take",
            }),
            "",
            "Examples:",
            "  npx fleet codeowners",
            "  npx fleet codeowners --check",
        ].join("\n"))
        .action(async (options: { check?: boolean; json?: boolean; cwd?: string }) => {
            const { runCodeowners } = await import("../services/codeowners");
            onExit(await runCodeowners(options, output));
        });
}
