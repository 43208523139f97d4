/**
 * What a locally built image is made from, for its version label: the commit
 * that last changed the agent's build context, and "-dirty" when the working
 * tree changes the context further. It moves only when the context does, so
 * committing another agent's change relabels (and replaces) nothing.
 * Hand-written over `git`: two plumbing calls need no git library.
 */
import { execaSync } from "execa";
import { DEFAULT_BUILD_VERSION, type FleetSpec } from "../config";


function git(repoDir: string, args: readonly string[]): string | undefined {
    const run = execaSync("git", args, { cwd: repoDir, reject: false, stdin: "ignore" });
    return run.exitCode === 0 ? String(run.stdout).trim() : undefined;
}

/** "3f2a1c9", "3f2a1c9-dirty", "uncommitted" (a context git has never seen committed), or "dev" outside git. */
export function buildVersion(repoDir: string, context: string): string {
    if (git(repoDir, ["rev-parse", "--verify", "-q", "HEAD"]) === undefined) return "dev";
    const last = git(repoDir, ["log", "-1", "--format=%h", "--abbrev=7", "--", context]);
    const dirty = (git(repoDir, ["status", "--porcelain", "--untracked-files=all", "--", context]) ?? "") !== "";
    if (!last) return "uncommitted";
    return dirty ? `${last}-dirty` : last;
}

/** Per agent that builds and whose version is the loader's default for builds ("dev"), its build version. */
export function builtVersions(repoDir: string, spec: FleetSpec): Record<string, string> {
    const byContext = new Map<string, string>();
    const out: Record<string, string> = {};
    for (const agent of spec.agents) {
        if (!agent.build || agent.version !== DEFAULT_BUILD_VERSION) continue;
        if (!byContext.has(agent.build.context)) byContext.set(agent.build.context, buildVersion(repoDir, agent.build.context));
        out[agent.name] = byContext.get(agent.build.context)!;
    }
    return out;
}
