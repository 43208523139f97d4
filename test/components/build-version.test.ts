/**
 * What a locally built image is labelled with, on temporary git repositories:
 * the commit that last changed the agent's build context, "-dirty" while the
 * working tree changes it, and never a commit that touched something else.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execaSync } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { FleetSpec, loadFleetConfig } from "../../config";
import { buildVersion, builtVersions } from "../../components";

/** A dev fleet of these agents (tier 1, port 8080). */
function fleetSpecOf(agents: Record<string, Record<string, unknown>>): FleetSpec {
    return loadFleetConfig({
        stack: "dev", stackFile: "stacks/Pulumi.dev.yaml", secretKeyState: () => "secret",
        fleet: { environment: "dev", agents: Object.fromEntries(Object.entries(agents).map(([name, fields]) => [name, { tier: 1, port: 8080, ...fields }])) },
    });
}

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

const git = (dir: string, ...args: string[]) => String(execaSync("git", args, {
    cwd: dir, env: { GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@localhost", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@localhost" },
}).stdout).trim();

function repo() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "build-version-"));
    dirs.push(dir);
    git(dir, "init", "-q");
    return {
        dir,
        write: (file: string, text: string) => { fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true }); fs.writeFileSync(path.join(dir, file), text); },
        commit: (message: string) => { git(dir, "add", "-A"); git(dir, "commit", "-q", "--allow-empty", "-m", message); return git(dir, "rev-parse", "--short=7", "HEAD"); },
    };
}

describe("buildVersion", () => {
    it("is the commit that last changed the context; other files and other agents' changes do not move it", () => {
        const r = repo();
        r.write("agents/sample-agent/server.js", "v1\n");
        r.commit("first");
        r.write("agents/sample-agent/server.js", "v2\n");
        const change = r.commit("agent change");
        r.write("stacks/Pulumi.dev.yaml", "jarvis env change\n");
        r.write("agents/other/server.js", "x\n");
        r.commit("another agent, and config");
        expect(buildVersion(r.dir, "agents/sample-agent")).toBe(change);
    });

    it("says -dirty while the working tree changes the context, and uncommitted for a context never committed", () => {
        const r = repo();
        r.write("agents/sample-agent/server.js", "v1\n");
        const first = r.commit("first");
        r.write("agents/sample-agent/server.js", "v2, not committed\n");
        expect(buildVersion(r.dir, "agents/sample-agent")).toBe(`${first}-dirty`);
        r.write("agents/new-agent/server.js", "new\n");
        expect(buildVersion(r.dir, "agents/new-agent")).toBe("uncommitted");
    });

    it("is the loader's default outside git", () => {
        const plain = fs.mkdtempSync(path.join(os.tmpdir(), "build-version-plain-"));
        dirs.push(plain);
        expect(buildVersion(plain, "agents/sample-agent")).toBe("dev");
    });

    it("applies to agents that build and name no version of their own", () => {
        const r = repo();
        r.write("agents/sample-agent/server.js", "v1\n");
        const first = r.commit("first");
        const spec = fleetSpecOf({
            built: { image: "agent-fleet/sample-agent:dev", build: { context: "agents/sample-agent" } },
            pinned: { image: "agent-fleet/sample-agent:dev", build: { context: "agents/sample-agent" }, version: "2.0.0" },
            pulled: { image: "ghcr.io/acme/pulled:1.0.0" },
        });
        expect(builtVersions(r.dir, spec)).toEqual({ built: first });
    });
});
