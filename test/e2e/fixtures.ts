/**
 * Engine event logs (`pulumi preview --event-log`) of the real-engine previews,
 * kept as fixtures for the PR-comment renderer. `npm run fixtures:events`
 * re-runs the real-engine suite with FLEET_CAPTURE_FIXTURES=1 to refresh them.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../support/docker";
import { CommandResult, STACK, Workspace } from "./workspace";

const EVENT_FIXTURES_DIR = path.join(REPO_ROOT, "test", "fixtures", "events");

/**
 * Makes a log byte-stable across runs and machines: temp paths become
 * placeholders and wall-clock timestamps become 0. Everything else (URNs,
 * diffs, policy events, sequence numbers) is kept as the engine wrote it.
 */
function normalizeEventLog(text: string, ws: Pick<Workspace, "dir" | "stateDir">): string {
    return text
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => {
            const event = JSON.parse(line.split(ws.dir).join("<project>").split(ws.stateDir).join("<state>")) as Record<string, unknown>;
            if ("timestamp" in event) event.timestamp = 0;
            return JSON.stringify(event);
        })
        .join("\n") + "\n";
}

/** Runs a preview that writes an event log; with FLEET_CAPTURE_FIXTURES=1 the log becomes test/fixtures/events/<name>.jsonl. */
export async function captureEventLog(ws: Workspace, name: string, extraArgs: string[] = [], stack = STACK): Promise<CommandResult & { events: string }> {
    const logFile = path.join(path.dirname(ws.dir), `${name}.events.jsonl`);
    const result = await ws.pulumiOn(stack, "preview", "--diff", "--event-log", logFile, ...extraArgs);
    const events = normalizeEventLog(await fs.readFile(logFile, "utf8").catch(() => ""), ws);
    if (process.env.FLEET_CAPTURE_FIXTURES === "1") {
        await fs.mkdir(EVENT_FIXTURES_DIR, { recursive: true });
        await fs.writeFile(path.join(EVENT_FIXTURES_DIR, `${name}.jsonl`), events);
    }
    return { ...result, events };
}
