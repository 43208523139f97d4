/**
 * Which commit each agent was last changed in, on temporary git repositories:
 * its build context and the stack file's line that releases its image count;
 * anything else in the repository does not; a shallow clone is refused.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execaSync } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { FleetSpec, ShallowHistoryError, agentSourceCommit, agentSourceCommits } from "../../config";

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

const git = (dir: string, ...args: string[]) => String(execaSync("git", args, {
    cwd: dir, env: { GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@localhost", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@localhost" },
}).stdout).trim();

function repo(): { dir: string; write: (file: string, text: string) => void; commit: (message: string) => string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "source-commit-"));
    dirs.push(dir);
    git(dir, "init", "-q");
    return {
        dir,
        write: (file, text) => { fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true }); fs.writeFileSync(path.join(dir, file), text); },
        commit: (message) => { git(dir, "add", "-A"); git(dir, "commit", "-q", "--allow-empty", "-m", message); return git(dir, "rev-parse", "HEAD"); },
    };
}

const built = { image: "agent-fleet/sample-agent:dev", build: { context: "agents/sample-agent", args: {} } };
const pulled = { image: "ghcr.io/acme/jarvis:2.3.0" };
const spec = { stack: "staging", agents: [{ name: "jarvis", ...pulled }, { name: "pesti", ...built }] } as unknown as FleetSpec;

describe("agentSourceCommit", () => {
    it("is the commit that released the image in the stack file, and later edits of other agents or files do not move it", () => {
        const r = repo();
        r.write("stacks/Pulumi.staging.yaml", "jarvis: ghcr.io/acme/jarvis:2.2.4\n");
        r.commit("2.2.4");
        r.write("stacks/Pulumi.staging.yaml", "jarvis: ghcr.io/acme/jarvis:2.3.0\n");
        const release = r.commit("release 2.3.0");
        r.write("stacks/Pulumi.staging.yaml", "jarvis: ghcr.io/acme/jarvis:2.3.0\npesti: ghcr.io/acme/pesti:1.5.0\n");
        r.write("README.md", "docs\n");
        r.commit("pesti, docs");
        expect(agentSourceCommit(r.dir, spec, pulled)?.sha).toBe(release);
    });

    it("for an agent that builds, is the newest commit that touched its build context or released its image", () => {
        const r = repo();
        r.write("stacks/Pulumi.staging.yaml", "image: agent-fleet/sample-agent:dev\n");
        r.write("agents/sample-agent/server.js", "v1\n");
        r.commit("first");
        r.write("agents/sample-agent/server.js", "v2\n");
        const change = r.commit("agent change");
        r.write("agents/other/server.js", "x\n");
        r.commit("another agent");
        expect(agentSourceCommit(r.dir, spec, built)?.sha).toBe(change);
        // At an older revision, the older commit.
        expect(agentSourceCommit(r.dir, spec, built, `${change}~1`)?.sha).toBe(git(r.dir, "rev-parse", `${change}~1`));
    });

    it("is nothing outside a git repository, and a shallow clone is refused with what to do", () => {
        const plain = fs.mkdtempSync(path.join(os.tmpdir(), "source-commit-plain-"));
        dirs.push(plain);
        expect(agentSourceCommits(plain, spec)).toEqual({});

        const r = repo();
        r.write("stacks/Pulumi.staging.yaml", "jarvis: ghcr.io/acme/jarvis:2.3.0\n");
        r.commit("one");
        r.commit("two");
        const shallow = fs.mkdtempSync(path.join(os.tmpdir(), "source-commit-shallow-"));
        dirs.push(shallow);
        git(shallow, "clone", "-q", "--depth", "1", `file://${r.dir}`, ".");
        expect(() => agentSourceCommits(shallow, spec)).toThrow(ShallowHistoryError);
        expect(() => agentSourceCommits(shallow, spec)).toThrow(/shallow clone.*git fetch --unshallow/);
        expect(agentSourceCommits(r.dir, spec)).toEqual({ jarvis: git(r.dir, "rev-parse", "HEAD~1") });
    });
});
