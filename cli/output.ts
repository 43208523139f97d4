/**
 * What every `fleet` verb shares for its output: where text goes (`Output`),
 * the exit codes (one table), how an error becomes one line and an exit code
 * (`asCommand`), and aligned tables. Light on purpose: `fleet --help` loads it.
 */
// The errors module alone: it requires nothing, where the Automation API's index loads the whole SDK.
import { CommandError } from "@pulumi/pulumi/automation/errors";
import { UserError } from "../config/errors";

export { UserError };

/** Writers for stdout and stderr, so a verb can be driven without a process. */
export interface Output {
    out(text: string): void;
    err(text: string): void;
}

/** The process's own stdout and stderr. */
export const processOutput: Output = {
    out: (text) => void process.stdout.write(`${text}\n`),
    err: (text) => void process.stderr.write(`${text}\n`),
};

/**
 * Every verb's exit codes:
 * - 0 ok: nothing failed (advisory policy violations included);
 * - 1 failed: what the verb checks or does failed: a mandatory violation, a
 *   failed deploy or verification, a deployment gap, a failed preview;
 * - 2 invalid: the user or their environment must fix something first: bad
 *   input, an unknown stack, an invalid fleet config, a backend or passphrase
 *   that does not work (a UserError), or a usage error;
 * - 3 internal: the verb itself failed in a way no input explains: a policy
 *   threw, an unknown Pulumi CLI failure, GitHub refused a post.
 */
export const EXIT = { ok: 0, failed: 1, invalid: 2, internal: 3 } as const;

/** The exit codes as a verb's help lists them, each with what it means for that verb. */
export function exitCodesHelp(meanings: Partial<Record<keyof typeof EXIT, string>>): string[] {
    return ["", "Exit codes:", ...Object.entries(EXIT).flatMap(([name, code]) => {
        const meaning = meanings[name as keyof typeof EXIT];
        return meaning ? [`  ${code}  ${meaning}`] : [];
    })];
}

/**
 * Runs a verb's body. A UserError prints its message and exits 2. A Pulumi
 * CLI failure nothing explains prints the CLI's own error lines (never a
 * JavaScript stack trace) and exits 3; anything else propagates (a bug).
 */
export async function asCommand(output: Output, body: () => Promise<number> | number): Promise<number> {
    try {
        return await body();
    } catch (error) {
        if (error instanceof UserError) {
            output.err(error.message);
            return EXIT.invalid;
        }
        if (error instanceof CommandError) {
            const lines = error.message.split("\n").filter((l) => /error:/i.test(l)).map((l) => l.trim());
            output.err(`the Pulumi CLI failed: ${[...new Set(lines)].join("; ") || error.message.split("\n")[0]}`);
            return EXIT.internal;
        }
        throw error;
    }
}

/**
 * Columns aligned with padEnd. Hand-written: the table libraries draw
 * borders and colours, which plain terminal and log output does not want.
 */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
    const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd();
    return [line(header), ...rows.map(line)].join("\n");
}
