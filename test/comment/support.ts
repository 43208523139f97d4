/** Drives `fleet comment` through its command function, with stdout and stderr captured. */
import * as path from "path";
import { CommentOptions, runComment } from "../../cli/services/comment";
import { PROJECT_ROOT } from "../support/pulumi";

const EVENTS_DIR = path.join(PROJECT_ROOT, "test", "fixtures", "events");

export function eventLog(name: string): string {
    return path.join(EVENTS_DIR, `${name}.jsonl`);
}

export interface CommentRun {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

export async function comment(options: CommentOptions, env: NodeJS.ProcessEnv = {}): Promise<CommentRun> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runComment(options, { out: (t) => out.push(t), err: (t) => err.push(t) }, env);
    return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}
