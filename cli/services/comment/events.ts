/**
 * The engine event log that `pulumi preview --event-log <file>` writes: one
 * JSON engine event per line, the same events the Automation API's `onEvent`
 * yields (so the types come from there). Not `pulumi preview --json`: its
 * digest drops policy events.
 */
import { promises as fs } from "fs";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { UserError } from "../../../config/errors";

/** Parses a log's text; `file` names it in errors. Blank lines are skipped, as the CLI writes a trailing one. */
export function parseEventLog(text: string, file: string): EngineEvent[] {
    const events: EngineEvent[] = [];
    text.split("\n").forEach((line, index) => {
        if (line.trim() === "") return;
        let event: unknown;
        try {
            event = JSON.parse(line);
        } catch {
            throw new UserError(`${file}:${index + 1}: expected one JSON engine event per line (from \`pulumi preview --event-log\`), got text that is not JSON`);
        }
        if (typeof event !== "object" || event === null || typeof (event as { sequence?: unknown }).sequence !== "number") {
            throw new UserError(`${file}:${index + 1}: expected an engine event with a "sequence" number (from \`pulumi preview --event-log\`)`);
        }
        events.push(event as EngineEvent);
    });
    if (!events.some((e) => e.summaryEvent || e.resourcePreEvent)) {
        throw new UserError(`${file}: expected a preview's event log with resource and summary events (from \`pulumi preview --event-log\`), got none`);
    }
    return events;
}

export async function readEventLog(file: string): Promise<EngineEvent[]> {
    let text: string;
    try {
        text = await fs.readFile(file, "utf8");
    } catch (error) {
        throw new UserError(`${file}: cannot read the event log (${(error as NodeJS.ErrnoException).code ?? "error"})`);
    }
    return parseEventLog(text, file);
}
