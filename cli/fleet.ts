/**
 * The `fleet` command line. cli/fleet.js (the package's bin) installs the
 * ts-node loader (cli/register.js) and calls main(); nothing needs building.
 */
import { Command, CommanderError, Option } from "commander";

/** Exit codes (cli/check.ts has the same; kept here so --help does not load the program's dependencies). */
const EXIT_OK = 0;
const EXIT_USAGE = 2;

const output = {
    out: (text: string) => void process.stdout.write(`${text}\n`),
    err: (text: string) => void process.stderr.write(`${text}\n`),
};

/** `--stack a --stack b,c`: every name given, in order. */
function collectStacks(value: string, previous: string[] = []): string[] {
    return [...previous, ...value.split(",").map((s) => s.trim()).filter(Boolean)];
}

/** Help texts the commands share. */
const AGENT_ARGUMENT = "the agent, as named under fleet.agents";
const STACK_FILE_OPTION = "the stack whose file (stacks/Pulumi.<name>.yaml) to edit";
const CWD_OPTION = "project directory, where Pulumi.yaml is (default: the current directory)";

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
        .option("--cwd <projectDir>", CWD_OPTION)
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
    fleet.command("release")
        .description("Release a new image for one agent: in the stack file, its current image becomes rollbackImage and <image> becomes image. Comments and formatting are kept.")
        .argument("<agent>", AGENT_ARGUMENT)
        .argument("<image>", "the new image reference; staging and production need a version tag or a digest")
        .requiredOption("-s, --stack <name>", STACK_FILE_OPTION)
        .option("--json", "print { stack, agent, file, image, rollbackImage, changed } as JSON")
        .option("--cwd <projectDir>", CWD_OPTION)
        .addHelpText("after", [
            "",
            "Exit codes:",
            "  0  released (or the agent already runs that image)",
            "  2  bad input: unknown stack or agent, an unpinned image in staging or production, an edit that makes the config invalid (nothing is written)",
            "",
            "Example:",
            "  npx fleet release pesti ghcr.io/acme/pesti:1.5.0 --stack staging",
        ].join("\n"))
        .action(async (agent: string, image: string, options: { stack: string; json?: boolean; cwd?: string }) => {
            const { runRelease } = await import("./operate/release");
            onExit(await runRelease({ agent, image, ...options }, output));
        });
    fleet.command("flag")
        .description("Move a feature flag one stage along its rollout (off → team → 10% → 100% for tier 3), recording in the stack file when the stage began.")
        .argument("<agent>", AGENT_ARGUMENT)
        .argument("<flag>", "the flag's name")
        .requiredOption("--stage <next|stage>", "\"next\", or a stage of the flag's rollout (moving back towards off is always allowed)")
        .requiredOption("-s, --stack <name>", STACK_FILE_OPTION)
        .option("--force", "skip a stage or cut a soak short; the stack file records that the move was forced")
        .option("--json", "print { stack, agent, flag, from, to, since, forced, overrode } as JSON")
        .option("--cwd <projectDir>", CWD_OPTION)
        .addHelpText("after", [
            "",
            "Exit codes:",
            "  0  moved",
            "  2  bad input, or refused: a skipped stage or an unfinished soak without --force (nothing is written)",
            "",
            "Examples:",
            "  npx fleet flag pesti smart-followups --stage next --stack staging",
            "  npx fleet flag pesti smart-followups --stage off --stack production      # the tier 3 rollback",
        ].join("\n"))
        .action(async (agent: string, flag: string, options: { stage: string; stack: string; force?: boolean; json?: boolean; cwd?: string }) => {
            const { runFlag } = await import("./operate/flag");
            onExit(await runFlag({ agent, flag, ...options }, output));
        });
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
            "",
            "Exit codes:",
            "  0  the rollback is written (and with --apply deployed and verified)",
            "  1  --apply: the update or the verification failed; the rollback stays written and recorded as pending, and the same command retries it",
            "  2  bad input: unknown stack or agent, nothing to roll back to (nothing is written); or the stack cannot be reached: backend, passphrase, a lock another operation holds",
            "",
            "Example:",
            "  npx fleet rollback jarvis --stack production --apply",
        ].join("\n"))
        .action(async (agent: string, options: { stack: string; apply?: boolean; json?: boolean; cwd?: string }) => {
            const { runRollback } = await import("./operate/rollback");
            onExit(await runRollback({ agent, ...options }, output));
        });
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
            "",
            "Exit codes:",
            "  0  deployed, and every deployed agent is healthy and passes its smoke checks",
            "  1  preflight failed (nothing deployed), the update failed, or verification failed; the last line says, per agent, rolled back and verified, rollback failed (why) or not rolled back (why)",
            "  2  bad input: unknown stack or agent, a program that cannot run; or the stack cannot be reached: backend, passphrase, a lock another operation holds",
            "",
            "Examples:",
            "  npx fleet up --stack dev",
            "  npx fleet up --stack production --agent jarvis",
        ].join("\n"))
        .action(async (options: { stack: string; agent?: string; createStack?: boolean; json?: boolean; cwd?: string }) => {
            const { runUp } = await import("./operate/up");
            onExit(await runUp(options, output));
        });
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
            "",
            "Exit codes:",
            "  0  no deployment gap",
            "  1  a gap (each problem listed), an engine that cannot be reached, or the deployment issue could not be updated",
            "  2  bad input: unknown stack, a bad --max-lag, --issue outside GitHub Actions",
            "",
            "Examples:",
            "  npx fleet status",
            "  npx fleet status --stack staging,production --markdown >> \"$GITHUB_STEP_SUMMARY\"",
        ].join("\n"))
        .action(async (options: { stack?: string[]; stacks?: string[]; maxLag: string; json?: boolean; markdown?: boolean; issue?: boolean; cwd?: string }) => {
            const { runStatus } = await import("./operate/status");
            const { stack, stacks, ...rest } = options;
            const named = [...(stack ?? []), ...(stacks ?? [])];
            onExit(await runStatus({ ...rest, ...(named.length > 0 ? { stacks: [...new Set(named)] } : {}) }, output));
        });
    fleet.command("doctor")
        .description("Check everything a deploy of the stack needs, all at once: the fleet config, its secret keys (set, and set as secrets), its channels, the Docker engine the stack deploys to, the Pulumi CLI, the backend and the passphrase, the fleet lock, and anything an interrupted operation left (a dead Pulumi lock, pending operations, containers the state does not know). Each problem comes with the command that fixes it.")
        .requiredOption("-s, --stack <name>", "the stack to check (stacks/Pulumi.<name>.yaml)")
        .option("--json", "print { stack, ok, findings: [{ check, ok, detail, fix }] } as JSON")
        .option("--cwd <projectDir>", CWD_OPTION)
        .addHelpText("after", [
            "",
            "Exit codes:",
            "  0  everything is ready",
            "  1  at least one problem (each listed with its fix)",
            "  2  bad input: unknown stack, unreadable stack file",
            "",
            "Example:",
            "  npx fleet doctor --stack staging",
        ].join("\n"))
        .action(async (options: { stack: string; json?: boolean; cwd?: string }) => {
            const { runDoctor } = await import("./operate/doctor");
            onExit(await runDoctor(options, output));
        });
    fleet.command("codeowners")
        .description("Write the CODEOWNERS entries for each agent's own files (its build context) from the agents' owner fields in every stack, so that owners review changes to their agents. Lines outside the managed block are kept.")
        .option("--check", "compare instead of writing: exit 1 when .github/CODEOWNERS differs (for CI)")
        .option("--json", "print { file, current, entries: [{ path, owners, agents }] } as JSON")
        .option("--cwd <projectDir>", CWD_OPTION)
        .addHelpText("after", [
            "",
            "Exit codes:",
            "  0  written, or (--check) current",
            "  1  (--check) the file differs from the agents' owners",
            "  2  bad input: an invalid stack file, an owner CODEOWNERS cannot take",
            "",
            "Examples:",
            "  npx fleet codeowners",
            "  npx fleet codeowners --check",
        ].join("\n"))
        .action(async (options: { check?: boolean; json?: boolean; cwd?: string }) => {
            const { runCodeowners } = await import("./operate/codeowners");
            onExit(await runCodeowners(options, output));
        });
    fleet.command("verify")
        .description("Check a deployed stack: every agent the stack file declares is deployed, running and healthy by Docker's own healthcheck, and passes its smoke checks on each replica.")
        .requiredOption("-s, --stack <name>", "the stack to verify")
        .option("--outputs <file>", "read the stack's outputs from this file (`pulumi stack output --json --show-secrets`) instead of from the stack")
        .option("--json", "print { stack, ok, agents: [{ agent, container, ok, health, failedChecks, passedChecks }] } as JSON")
        .option("--cwd <projectDir>", CWD_OPTION)
        .addHelpText("after", [
            "",
            "Exit codes:",
            "  0  every agent is healthy and passes its smoke checks",
            "  1  an agent is not deployed, not running, not healthy, or fails a smoke check (each named)",
            "  2  bad input: unknown stack, unreadable outputs; or the stack cannot be reached: backend, passphrase",
            "",
            "Example:",
            "  npx fleet verify --stack staging",
        ].join("\n"))
        .action(async (options: { stack: string; outputs?: string; json?: boolean; cwd?: string }) => {
            const { runVerify } = await import("./operate/verify");
            onExit(await runVerify(options, output));
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
