/**
 * The `fleet` command line. cli/fleet.js (the package's bin) installs the
 * TypeScript loader (loader/typescript.js) and calls main(); nothing needs building.
 * Each verb lives in its own file under cli/verbs/; the work they share lives
 * in cli/services/; exit codes, errors and output in cli/output.ts.
 */
import { Command, CommanderError } from "commander";
import { EXIT, Output, processOutput } from "./output";
import { VERBS } from "./verbs";

/** The whole command line, every verb defined; docs/reference/cli.md is generated from it. */
export function program(onExit: (code: number) => void, output: Output = processOutput): Command {
    const fleet = new Command("fleet")
        .description("Tools for the agent-fleet Pulumi project.")
        .showHelpAfterError()
        .exitOverride();
    for (const define of VERBS) define(fleet, { output, onExit });
    return fleet;
}

/** Parses argv (as process.argv) and resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
    let code: number = EXIT.ok;
    try {
        await program((c) => { code = c; }).parseAsync([...argv]);
    } catch (error) {
        // --help and --version exit 0; a usage error exits 2 after commander has printed it.
        if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.invalid;
        throw error;
    }
    return code;
}
