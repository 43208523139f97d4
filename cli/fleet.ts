/**
 * The `fleet` command line. cli/fleet.js (the package's bin) installs the
 * ts-node loader (cli/register.js) and calls main(); nothing needs building.
 */
import { Command, CommanderError } from "commander";

/** Exit codes (cli/check.ts has the same; kept here so --help does not load the program's dependencies). */
const EXIT_OK = 0;
const EXIT_USAGE = 2;

const output = {
    out: (text: string) => void process.stdout.write(`${text}\n`),
    err: (text: string) => void process.stderr.write(`${text}\n`),
};

export function program(onExit: (code: number) => void): Command {
    const fleet = new Command("fleet")
        .description("Tools for the agent-fleet Pulumi project.")
        .showHelpAfterError()
        .exitOverride();

    fleet.command("check")
        .description(
            "Check a stack against the policy pack offline: run the program under Pulumi mocks with the stack's config "
            + "and run every policy in policies/ on what it declares. No Pulumi backend, Docker or secrets needed.",
        )
        .requiredOption("-s, --stack <name>", "stack to check: reads stacks/Pulumi.<name>.yaml (and stacks/policy.<name>.json for enforcement levels)")
        .option("--json", "print { stack, agents, resourceCount, violations } as JSON")
        .option("--cwd <projectDir>", "project directory, where Pulumi.yaml is (default: the current directory)")
        .addHelpText("after", [
            "",
            "Exit codes:",
            "  0  no violations, or advisory ones only",
            "  1  at least one mandatory violation",
            "  2  the stack cannot be checked: invalid fleet config, unknown stack, bad policy config file",
            "  3  the check itself failed (a policy threw)",
            "",
            "Examples:",
            "  npx fleet check --stack production",
            "  npx fleet check --stack staging --json",
        ].join("\n"))
        .action(async (options: { stack: string; json?: boolean; cwd?: string }) => {
            // Loaded on use: it brings in Pulumi, the program and the policies.
            const { runCheck } = await import("./check");
            onExit(await runCheck(options, output));
        });
    fleet.command("comment")
        .description(
            "Render one PR report per stack from `pulumi preview --event-log` files: each changed agent in fleet-config terms, "
            + "warnings, and every policy violation; with --post, keep one comment per stack on the pull request and set its labels.",
        )
        .requiredOption("-e, --events <file...>", "event log of one stack's preview (repeat for several stacks)")
        .option("-o, --out <file>", "write the report(s) here instead of stdout")
        .option("--post", "post to the pull request of this GitHub Actions run (needs GITHUB_TOKEN) and write the full report to the job summary")
        .addHelpText("after", [
            "",
            "Exit codes:",
            "  0  no mandatory violation",
            "  1  a mandatory violation blocks a stack, or a preview failed",
            "  2  bad input: an unreadable event log, two logs for one stack, --post outside a pull_request run",
            "  3  GitHub refused the post",
            "",
            "Examples:",
            "  PULUMI_DEBUG_COMMANDS=true npx pulumi preview --stack staging --policy-pack policies --event-log staging.jsonl",
            "  npx fleet comment --events staging.jsonl --events production.jsonl --out report.md",
        ].join("\n"))
        .action(async (options: { events: string[]; out?: string; post?: boolean }) => {
            const { runComment } = await import("./comment");
            onExit(await runComment(options, output));
        });
    return fleet;
}

/** Parses argv (as process.argv) and resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
    let code = EXIT_OK;
    try {
        await program((c) => { code = c; }).parseAsync([...argv]);
    } catch (error) {
        // --help and --version exit 0; a usage error exits 2 after commander has printed it.
        if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
        throw error;
    }
    return code;
}
