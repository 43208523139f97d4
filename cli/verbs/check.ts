/** `fleet check`: its definition, help and run. Check a stack against the policy pack offline. */
import type { Command } from "commander";
import { exitCodesHelp } from "../output";
import type { VerbContext } from "./context";
import { CWD_OPTION } from "./options";

export function defineCheck(fleet: Command, { output, onExit }: VerbContext): void {
    fleet.command("check")
        .description(
            "Check a stack against the policy pack offline: run the program under Pulumi mocks with the stack's config "
            + "and run every policy in policies/ on what it declares. No Pulumi backend, Docker or secrets needed.",
        )
        .requiredOption("-s, --stack <name>", "stack to check: reads stacks/Pulumi.<name>.yaml (and stacks/policy.<name>.json for enforcement levels)")
        .option("--json", "print { stack, agents, resourceCount, violations } as JSON")
        .option("--cwd <projectDir>", CWD_OPTION)
        .addHelpText("after", [
            ...exitCodesHelp({
                ok: "no violations, or advisory ones only",
                failed: "at least one mandatory violation",
                invalid: "the stack cannot be checked: invalid fleet config, unknown stack, bad policy config file",
                internal: "the check itself failed (a policy threw)",
            }),
            "",
            "Examples:",
            "  npx fleet check --stack production",
            "  npx fleet check --stack staging --json",
        ].join("\n"))
        .action(async (options: { stack: string; json?: boolean; cwd?: string }) => {
            // Loaded on use: it brings in Pulumi, the program and the policies.
            const { runCheck } = await import("../services/check-report");
            onExit(await runCheck(options, output));
        });
}
