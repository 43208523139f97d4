/**
 * Which commit each agent was last changed in: the newest commit that
 * touched its own files. The program labels an agent's containers with it
 * (agent-fleet.git-commit), and `fleet status` compares the label with the
 * same computation on main, so a change that was never deployed shows up.
 *
 * An agent's own files are its build context, when it builds its image, and
 * the line of the stack file (or catalog) that names its image: the release.
 * Both only move when the agent itself changes, so the label never replaces
 * a container that had nothing new to run. Hand-written over `git`: no git
 * library answers "the commit that introduced this string" (`git log -S`).
 */
import { execaSync } from "execa";
import { CATALOG_FILE, stackFileName } from "./stack";
import type { AgentSpec, FleetSpec } from "./spec";

export interface SourceCommit {
    readonly sha: string;
    /** Commit time, in milliseconds since the epoch. */
    readonly at: number;
}

function git(repoDir: string, args: readonly string[]): string | undefined {
    const run = execaSync("git", args, { cwd: repoDir, reject: false, stdin: "ignore" });
    return run.exitCode === 0 ? String(run.stdout).trim() : undefined;
}

/** The newest commit reachable from `revision` matching a `git log` filter, or undefined. */
function newest(repoDir: string, revision: string, filter: readonly string[]): SourceCommit | undefined {
    const line = git(repoDir, ["log", "-1", "--format=%H %ct", revision, ...filter]);
    if (!line) return undefined;
    const [sha, seconds] = line.split(" ");
    return { sha, at: Number(seconds) * 1000 };
}

/** Whether `repoDir` is inside a git work tree with at least one commit. */
export function hasGitHistory(repoDir: string): boolean {
    return git(repoDir, ["rev-parse", "--verify", "-q", "HEAD"]) !== undefined;
}

/** One agent's source commit as of `revision` (default HEAD); undefined outside git or when no commit touched its files. */
export function agentSourceCommit(repoDir: string, spec: Pick<FleetSpec, "stack">, agent: Pick<AgentSpec, "image" | "build">, revision = "HEAD"): SourceCommit | undefined {
    const candidates = [
        agent.build ? newest(repoDir, revision, ["--", agent.build.context]) : undefined,
        newest(repoDir, revision, [`-S${agent.image}`, "--", stackFileName(spec.stack), CATALOG_FILE]),
    ].filter((c): c is SourceCommit => c !== undefined);
    return candidates.sort((a, b) => b.at - a.at)[0];
}

/** A shallow clone, whose history is cut off: every agent would look changed in its oldest commit. */
export class ShallowHistoryError extends Error {
    constructor(repoDir: string) {
        super(`${repoDir} is a shallow clone: the program labels each agent's containers with the commit that last changed it, which needs the whole history `
            + "(a cut-off history would relabel, and so replace, every container). Fetch it whole: `git fetch --unshallow`, or actions/checkout with `fetch-depth: 0`.");
        this.name = "ShallowHistoryError";
    }
}

/** Throws ShallowHistoryError in a shallow clone. */
export function requireFullHistory(repoDir: string): void {
    if (git(repoDir, ["rev-parse", "--is-shallow-repository"]) === "true") throw new ShallowHistoryError(repoDir);
}

/** Every agent's source commit sha, for the program's labels; {} outside a git repository; ShallowHistoryError in a shallow clone. */
export function agentSourceCommits(repoDir: string, spec: FleetSpec): Record<string, string> {
    if (!hasGitHistory(repoDir)) return {};
    requireFullHistory(repoDir);
    return Object.fromEntries(spec.agents.flatMap((agent) => {
        const commit = agentSourceCommit(repoDir, spec, agent);
        return commit ? [[agent.name, commit.sha]] : [];
    }));
}
