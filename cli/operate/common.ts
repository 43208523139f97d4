/**
 * What the operating commands (release, flag, rollback, up, verify, status,
 * doctor) share: exit codes, how a user mistake becomes one line and exit 2,
 * and aligned tables.
 */
import { CommandError } from "@pulumi/pulumi/automation";
import { FleetConfigError } from "../../config";
import type { Output } from "../check";
import { CheckInputError } from "../stack-config";

export type { Output };

/** 0 ok; 1 a failed check or deploy; 2 bad input. */
export const EXIT = { ok: 0, failed: 1, invalid: 2 } as const;

/** A refusal the user can fix (an unpinned image, a skipped stage): exit 2, one line, no stack trace. */
export class OperateInputError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "OperateInputError";
    }
}

/** 3: the command itself failed in a way no input explains (a Pulumi CLI failure it does not know). */
const EXIT_INTERNAL = 3;

/**
 * Runs a command body; a user or environment mistake prints its message and
 * exits 2. A Pulumi CLI failure nothing explains prints the CLI's own error
 * lines (never a JavaScript stack trace) and exits 3; anything else propagates.
 */
export async function asCommand(output: Output, body: () => Promise<number> | number): Promise<number> {
    try {
        return await body();
    } catch (error) {
        if (error instanceof OperateInputError || error instanceof CheckInputError || error instanceof FleetConfigError) {
            output.err(error.message);
            return EXIT.invalid;
        }
        if (error instanceof CommandError) {
            const lines = error.message.split("\n").filter((l) => /error:/i.test(l)).map((l) => l.trim());
            output.err(`the Pulumi CLI failed: ${[...new Set(lines)].join("; ") || error.message.split("\n")[0]}`);
            return EXIT_INTERNAL;
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
