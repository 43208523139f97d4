/**
 * The `fleet` command reference (docs/reference/cli.md), generated from the
 * commander definitions that parse the real command line: each verb's name,
 * description, arguments, options and the help text it adds after the
 * options (exit codes, examples).
 */
import * as path from "path";
import type { Command } from "commander";
import { block, markers, prose, replaceBlock, tableCell } from "./blocks";

export const CLI_REFERENCE = "cli-reference";
export const { start: CLI_REFERENCE_START, end: CLI_REFERENCE_END } = markers(CLI_REFERENCE);

/**
 * The whole `fleet` program, every verb defined. Loaded by its `.ts` path:
 * cli/fleet.js (the bin, which runs the CLI as soon as it is loaded) sits
 * beside cli/fleet.ts, and an extensionless import would find it first.
 */
export async function loadFleetProgram(): Promise<Command> {
    const file = path.join(__dirname, "..", "..", "cli", "fleet.ts");
    const { program }: typeof import("../../cli/fleet") = await import(file);
    return program(() => undefined);
}

/** What the verb prints after its options with `--help` (addHelpText("after")), without the help itself. */
export function helpAfter(command: Command): string {
    const chunks: string[] = [];
    command.configureOutput({ writeOut: (text) => chunks.push(text), getOutHasColors: () => false });
    const help = command.helpInformation();
    command.outputHelp();
    const at = chunks.indexOf(help);
    return (at < 0 ? "" : chunks.slice(at + 1).join("")).replace(/^\n+/, "").trimEnd();
}

function code(text: string): string {
    return `\`${text}\``;
}

function renderCommand(program: Command, command: Command): string[] {
    const name = `${program.name()} ${command.name()}`;
    const args = command.registeredArguments.map((a) => `| ${[
        code(a.required ? `<${a.name()}${a.variadic ? "..." : ""}>` : `[${a.name()}${a.variadic ? "..." : ""}]`),
        prose(a.description),
        a.defaultValue === undefined ? "" : code(JSON.stringify(a.defaultValue)),
    ].map(tableCell).join(" | ")} |`);
    const options = command.options.filter((o) => !o.hidden).map((o) => `| ${[
        code(o.flags),
        prose(o.description) + (o.mandatory ? " (required)" : ""),
        o.defaultValue === undefined ? "" : code(typeof o.defaultValue === "string" ? o.defaultValue : JSON.stringify(o.defaultValue)),
    ].map(tableCell).join(" | ")} |`);
    const after = helpAfter(command);
    return [
        `## \`${name}\``,
        "",
        prose(command.description()),
        "",
        "```text",
        `${name} ${command.usage()}`,
        "```",
        "",
        ...(args.length > 0 ? ["| argument | meaning | default |", "|---|---|---|", ...args, ""] : []),
        ...(options.length > 0 ? ["| option | meaning | default |", "|---|---|---|", ...options, ""] : []),
        ...(after ? ["```text", after, "```", ""] : []),
    ];
}

export function renderCliReference(program: Command): string {
    const commands = [...program.commands];
    const lines = [
        `${prose(program.description())} Every verb also takes \`-h, --help\`.`,
        "",
        ...commands.map((c) => `- [\`${program.name()} ${c.name()}\`](#${program.name()}-${c.name()}): ${prose(firstSentence(c.description()))}`),
        "",
        ...commands.flatMap((c) => renderCommand(program, c)),
    ];
    return block(CLI_REFERENCE, lines.join("\n").trimEnd());
}

/** Up to the first full stop or colon that ends a clause, for the list of verbs. */
function firstSentence(text: string): string {
    const match = /^(.*?[.:])(\s|$)/.exec(text);
    return (match ? match[1].replace(/:$/, ".") : text).trim();
}

/** Replaces the generated block in a page, or throws if the markers are missing. */
export function withCliReference(page: string, program: Command, file?: string): string {
    return replaceBlock(page, CLI_REFERENCE, renderCliReference(program), file);
}
