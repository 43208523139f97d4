/** `fleet release`: its definition, help and run. Release a new image for one agent. */
import type { Command } from "commander";
import { exitCodesHelp } from "../output";
import type { VerbContext } from "./context";
import { AGENT_ARGUMENT, STACK_FILE_OPTION, CWD_OPTION } from "./options";

export function defineRelease(fleet: Command, { output, onExit }: VerbContext): void {
    fleet.command("release")
        .description("Release a new image for one agent: in the stack file, its current image becomes rollbackImage and <image> becomes image. Comments and formatting are kept.")
        .argument("<agent>", AGENT_ARGUMENT)
        .argument("<image>", "the new image reference; staging and production need a version tag or a digest")
        .requiredOption("-s, --stack <name>", STACK_FILE_OPTION)
        .option("--json", "print { stack, agent, file, image, rollbackImage, changed } as JSON")
        .option("--cwd <projectDir>", CWD_OPTION)
        .addHelpText("after", [
            ...exitCodesHelp({
                ok: "released (or the agent already runs that image)",
                invalid: "bad input: unknown stack or agent, an unpinned image in staging or production, an edit that makes the config invalid (nothing is written)",
            }),
            "",
            "Example:",
            "  npx fleet release pesti ghcr.io/acme/pesti:1.5.0 --stack staging",
        ].join("\n"))
        .action(async (agent: string, image: string, options: { stack: string; json?: boolean; cwd?: string }) => {
            const { runRelease } = await import("../services/release");
            onExit(await runRelease({ agent, image, ...options }, output));
        });
}
