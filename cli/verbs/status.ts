/** `fleet status`: its definition, help and run. The deployment gap. */
import { Command, Option } from "commander";
import { exitCodesHelp } from "../output";
import type { VerbContext } from "./context";
import { CWD_OPTION, collectStacks } from "./options";

export function defineStatus(fleet: Command, { output, onExit }: VerbContext): void {
    fleet.command("status")
        .description(
            "The deployment gap: for each agent of each stack, the image, version and health that run (container labels, Docker Engine API) "
            + "against what main declares, the deployed commit's lag behind HEAD and how long ago the agent's own files changed. "
            + "Flags agents changed on main but not deployed within --max-lag, agents not running at all, and staging and production out of sync.",
        )
        .option("-s, --stack <name>", "a stack to read; repeat it or separate names with commas for several (default: dev, staging and production where stacks/ has them)", collectStacks)
        // The old spelling, kept working for workflows written before --stack: hidden from help.
        .addOption(new Option("--stacks <names>", "comma-separated stacks to read").argParser(collectStacks).hideHelp())
        .option("--max-lag <duration>", "how long a change may wait undeployed before it is flagged", "1h")
        .option("--json", "print { head, checkedAt, maxLag, ok, agents, sync, problems } as JSON")
        .option("--markdown", "print the markdown dashboard (for $GITHUB_STEP_SUMMARY) instead of the tables")
        .option("--issue", "open, update or close the one GitHub issue labelled `deployment` (needs GITHUB_TOKEN and GITHUB_REPOSITORY)")
        .option("--cwd <projectDir>", CWD_OPTION)
        .addHelpText("after", [
            "",
            "Each stack's engine is its `docker:host` config, else DOCKER_HOST, else the local socket. Run it in a full clone (git fetch-depth 0).",
            ...exitCodesHelp({
                ok: "no deployment gap",
                failed: "a gap (each problem listed), an engine that cannot be reached, or the deployment issue could not be updated",
                invalid: "bad input: unknown stack, a bad --max-lag, --issue outside GitHub Actions",
            }),
            "",
            "Examples:",
            "  npx fleet status",
            "  npx fleet status --stack staging,production --markdown >> \"$GITHUB_STEP_SUMMARY\"",
        ].join("\n"))
        .action(async (options: { stack?: string[]; stacks?: string[]; maxLag: string; json?: boolean; markdown?: boolean; issue?: boolean; cwd?: string }) => {
            const { runStatus } = await import("../services/status");
            const { stack, stacks, ...rest } = options;
            const named = [...(stack ?? []), ...(stacks ?? [])];
            onExit(await runStatus({ ...rest, ...(named.length > 0 ? { stacks: [...new Set(named)] } : {}) }, output));
        });
}
