/**
 * An agent's history on main, for `fleet status`: the agent as each commit
 * that touched its stack file or the catalog declared it, newest first, so
 * that status can say when main's spec (or image) arrived and which commit a
 * deployed spec hash came from. Specs are compared by their hash
 * (config/spec-hash.ts), the same one the program labels instances with.
 * Hand-written over `git`: `git log` and `git show` are all it needs.
 */
import { execa } from "execa";
import { AgentSpec, CATALOG_FILE, StackView, agentSpecHash, parseCatalog, parseStackFile, stackFileName } from "../../config";
import { UserError } from "../output";

async function git(repoDir: string, args: readonly string[]): Promise<string | undefined> {
    const run = await execa("git", args, { cwd: repoDir, reject: false, stdin: "ignore" });
    return run.exitCode === 0 ? String(run.stdout) : undefined;
}

/** Whether `repoDir` is inside a git work tree with at least one commit. */
export async function hasGitHistory(repoDir: string): Promise<boolean> {
    return (await git(repoDir, ["rev-parse", "--verify", "-q", "HEAD"])) !== undefined;
}

/** A shallow clone's history is cut off: every agent would look changed in its oldest commit. */
export async function requireFullHistory(repoDir: string): Promise<void> {
    if ((await git(repoDir, ["rev-parse", "--is-shallow-repository"]))?.trim() === "true") {
        throw new UserError(`${repoDir} is a shallow clone: fleet status reads when each agent changed on main, which needs the whole history. `
            + "Fetch it whole: `git fetch --unshallow`, or actions/checkout with `fetch-depth: 0`.");
    }
}

export interface CommitRef {
    readonly sha: string;
    /** Commit time, in milliseconds since the epoch. */
    readonly at: number;
}

interface Entry extends CommitRef {
    /** The agent as that commit declared it; undefined when it did not, or the config did not load. */
    readonly agent?: AgentSpec;
}

/** How many commits to read back at most: enough for months of releases, bounded for huge histories. */
const MAX_COMMITS = 500;

export class AgentHistory {
    private constructor(private readonly repoDir: string, private readonly entries: readonly Entry[]) {}

    /** The agent's history on HEAD in one stack; empty outside git. */
    static async read(repoDir: string, projectName: string, stack: string, agent: string): Promise<AgentHistory> {
        const log = await git(repoDir, ["log", `-${MAX_COMMITS}`, "--format=%H %ct", "HEAD", "--", stackFileName(stack), CATALOG_FILE]);
        const entries: Entry[] = [];
        for (const line of (log ?? "").split("\n").filter(Boolean)) {
            const [sha, seconds] = line.split(" ");
            entries.push({ sha, at: Number(seconds) * 1000, agent: await agentAt(repoDir, projectName, stack, agent, sha) });
        }
        return new AgentHistory(repoDir, entries);
    }

    /**
     * The commit in which the agent last became what `same` says it is now:
     * the oldest of the newest run of commits for which `same` holds.
     * Undefined when HEAD itself does not match (an uncommitted change) or there is no history.
     */
    since(same: (agent: AgentSpec) => boolean): CommitRef | undefined {
        let found: Entry | undefined;
        for (const entry of this.entries) {
            if (!entry.agent || !same(entry.agent)) break;
            found = entry;
        }
        return found && { sha: found.sha, at: found.at };
    }

    /** When main's spec of the agent (by hash) arrived. */
    specSince(hash: string): CommitRef | undefined {
        return this.since((a) => agentSpecHash(a) === hash);
    }

    /** The newest commit that declared the agent with this spec hash (what a running instance was deployed from). */
    commitOf(hash: string): CommitRef | undefined {
        const entry = this.entries.find((e) => e.agent && agentSpecHash(e.agent) === hash);
        return entry && { sha: entry.sha, at: entry.at };
    }

    /** Commits on HEAD after `sha`. */
    async commitsSince(sha: string): Promise<number | undefined> {
        const count = await git(this.repoDir, ["rev-list", "--count", `${sha}..HEAD`]);
        return count === undefined ? undefined : Number(count.trim());
    }
}

/** The agent as one commit's stack file and catalog declared it; undefined when they did not, or did not load. */
async function agentAt(repoDir: string, projectName: string, stack: string, agent: string, sha: string): Promise<AgentSpec | undefined> {
    const text = await git(repoDir, ["show", `${sha}:${stackFileName(stack)}`]);
    if (text === undefined) return undefined;
    const catalog = await git(repoDir, ["show", `${sha}:${CATALOG_FILE}`]);
    try {
        const project = { dir: repoDir, name: projectName };
        const view = new StackView(project, stack, parseStackFile(project, stack, text), catalog === undefined ? null : parseCatalog(catalog));
        // The hash is over key names, never values: every key counts as set.
        return view.specWithoutSecretKeys().agents.find((a) => a.name === agent);
    } catch {
        return undefined;
    }
}
