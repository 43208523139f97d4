/** `fleet verify`: its definition, help and run. Check a deployed stack. */
import type { Command } from "commander";
import { exitCodesHelp } from "../output";
import type { VerbContext } from "./context";
import { CWD_OPTION } from "./options";

export function defineVerify(fleet: Command, { output, onExit }: VerbContext): void {
    fleet.command("verify")
        .description("Check a deployed stack: every agent the stack file declares is deployed, running and healthy by Docker's own healthcheck, and passes its smoke checks on each replica; an agent exposed through the edge is also asked for at its public URL, through each host's edge over HTTPS, with its health path and smoke checks.")
        .requiredOption("-s, --stack <name>", "the stack to verify")
        .option("--outputs <file>", "read the stack's outputs from this file (`pulumi stack output --json --show-secrets`) instead of from the stack")
        .option("--json", "print { stack, ok, agents: [{ agent, container, ok, health, failedChecks, passedChecks }] } as JSON")
        .option("--cwd <projectDir>", CWD_OPTION)
        .addHelpText("after", [
            ...exitCodesHelp({
                ok: "every agent is healthy and passes its smoke checks",
                failed: "an agent is not deployed, not running, not healthy, or fails a smoke check (each named)",
                invalid: "bad input: unknown stack, unreadable outputs; or the stack cannot be reached: backend, passphrase",
            }),
            "",
            "Example:",
            "  npx fleet verify --stack staging",
        ].join("\n"))
        .action(async (options: { stack: string; outputs?: string; json?: boolean; cwd?: string }) => {
            const { runVerify } = await import("../services/verify");
            onExit(await runVerify(options, output));
        });
}
