/** `fleet comment`: its definition, help and run. Render one PR report per stack from `pulumi preview --event-log` files. */
import type { Command } from "commander";
import { exitCodesHelp } from "../output";
import type { VerbContext } from "./context";

export function defineComment(fleet: Command, { output, onExit }: VerbContext): void {
    fleet.command("comment")
        .description(
            "Render one PR report per stack from `pulumi preview --event-log` files: each changed agent in fleet-config terms, "
            + "warnings, and every policy violation; with --post, keep one comment per stack on the pull request and set its labels.",
        )
        .requiredOption("-e, --events <file...>", "event log of one stack's preview (repeat for several stacks)")
        .option("-o, --out <file>", "write the report(s) here instead of stdout")
        .option("--post", "post to the pull request of this GitHub Actions run (needs GITHUB_TOKEN) and write the full report to the job summary")
        .addHelpText("after", [
            ...exitCodesHelp({
                ok: "no mandatory violation",
                failed: "a mandatory violation blocks a stack, or a preview failed",
                invalid: "bad input: an unreadable event log, two logs for one stack, --post outside a pull_request run",
                internal: "GitHub refused the post",
            }),
            "",
            "Examples:",
            "  PULUMI_DEBUG_COMMANDS=true npx pulumi preview --stack staging --policy-pack policies --policy-pack-config stacks/policy.staging.json --event-log staging.jsonl",
            "  npx fleet comment --events staging.jsonl --events production.jsonl --out report.md",
        ].join("\n"))
        .action(async (options: { events: string[]; out?: string; post?: boolean }) => {
            const { runComment } = await import("../services/comment");
            onExit(await runComment(options, output));
        });
}
