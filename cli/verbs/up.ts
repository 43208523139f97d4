/** `fleet up`: its definition, help and run. Deploy a stack, or one agent of it, and never leave it silently broken. */
import type { Command } from "commander";
import { exitCodesHelp } from "../output";
import type { VerbContext } from "./context";
import { CWD_OPTION } from "./options";

export function defineUp(fleet: Command, { output, onExit }: VerbContext): void {
    fleet.command("up")
        .description(
            "Deploy a stack, or one agent of it, and never leave it silently broken: preflight (fleet doctor and fleet check), "
            + "the stack's fleet lock (recovering what an interrupted operation left), `pulumi up` with the policy pack (each agent's progress as it happens), "
            + "fleet verify (each verified agent's spec is recorded), and for every agent the update changed that then fails: a rollback to its last "
            + "verified spec (else its tier's: rollbackImage, or flags off), keeping its previous container where it still serves, applied, verified and announced (rolled_back).",
        )
        .requiredOption("-s, --stack <name>", "the stack to deploy")
        .option("-a, --agent <name>", "deploy only this agent's resources (a targeted update)")
        .option("--create-stack", "create the stack in its backend when it does not exist yet (npm run deploy:dev passes it)")
        .option("--json", "print { stack, agent, ok, durationMs, preflight, recovered, update, agents: [{ agent, update, verify, rollback: { outcome, to, why, keptPrevious }, ok }], rollbackUpdate } as JSON; progress goes to stderr")
        .option("--cwd <projectDir>", CWD_OPTION)
        .addHelpText("after", [
            ...exitCodesHelp({
                ok: "deployed, and every deployed agent is healthy and passes its smoke checks",
                failed: "preflight failed (nothing deployed), the update failed, or verification failed; the last line says, per agent, rolled back and verified, rollback failed (why) or not rolled back (why)",
                invalid: "bad input: unknown stack or agent, a program that cannot run; or the stack cannot be reached: backend, passphrase, a lock another operation holds",
            }),
            "",
            "Examples:",
            "  npx fleet up --stack dev",
            "  npx fleet up --stack production --agent jarvis",
        ].join("\n"))
        .action(async (options: { stack: string; agent?: string; createStack?: boolean; json?: boolean; cwd?: string }) => {
            const { runUp } = await import("../services/up");
            onExit(await runUp(options, output));
        });
}
