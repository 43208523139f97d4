/**
 * `fleet release` through the real bin, on copies of the repository's own
 * stack files: exactly two lines change, comments and formatting stay, and a
 * refused release writes nothing.
 */
import * as fs from "fs";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO, copyProject, fleet, removeProjects } from "../cli/project";

afterAll(removeProjects);

const read = (dir: string, stack: string) => fs.readFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), "utf8");
const original = (stack: string) => fs.readFileSync(path.join(REPO, "stacks", `Pulumi.${stack}.yaml`), "utf8");

/** The lines that differ, as [before, after] pairs (the edits never add or remove lines here). */
function changedLines(before: string, after: string): [string, string][] {
    const a = before.split("\n");
    const b = after.split("\n");
    expect(b).toHaveLength(a.length);
    return a.flatMap((line, i) => (line === b[i] ? [] : [[line, b[i]] as [string, string]]));
}

describe("fleet release", () => {
    it.concurrent("moves the current image to rollbackImage and writes the new one, changing nothing else in the file", async () => {
        const dir = copyProject();
        const run = await fleet(["release", "jarvis", "ghcr.io/acme/jarvis:2.4.0", "--stack", "staging", "--cwd", dir]);
        expect(run.exitCode, run.stderr).toBe(0);
        expect(run.stderr.trim()).toBe("");
        // The one way to deploy one agent: fleet up --agent (the policy pack, verification, the automatic rollback).
        expect(run.stdout).toContain("Released. Deploy this agent with:\n  npx fleet up --stack staging --agent jarvis");
        expect(changedLines(original("staging"), read(dir, "staging"))).toEqual([
            ["        image: ghcr.io/acme/jarvis:2.3.0", "        image: ghcr.io/acme/jarvis:2.4.0"],
            ["        rollbackImage: ghcr.io/acme/jarvis:2.2.4", "        rollbackImage: ghcr.io/acme/jarvis:2.3.0"],
        ]);
    });

    it.concurrent("refuses an unpinned image in production, naming the file and field, and writes nothing", async () => {
        const dir = copyProject();
        const run = await fleet(["release", "jarvis", "ghcr.io/acme/jarvis:latest", "--stack", "production", "--cwd", dir]);
        expect(run.exitCode).toBe(2);
        expect(run.stderr.trim()).toBe('stacks/Pulumi.production.yaml: fleet.agents.jarvis.image: expected a pinned image in production (a version tag like "repo:1.4.3" or a digest "repo@sha256:…"), got "ghcr.io/acme/jarvis:latest"');
        expect(run.stderr).not.toMatch(/\n\s+at /);
        expect(read(dir, "production")).toBe(original("production"));
    });

    it.concurrent("in dev, a release of an agent that builds makes it pull the release instead (build: false), so nothing is built under the new tag", async () => {
        const dir = copyProject();
        const run = await fleet(["release", "jarvis", "agent-fleet/sample-agent:next", "--stack", "dev", "--cwd", dir, "--json"]);
        expect(run.exitCode, run.stderr).toBe(0);
        expect(JSON.parse(run.stdout)).toEqual({
            command: "npx fleet up --stack dev --agent jarvis", stoppedBuilding: true,
            stack: "dev", agent: "jarvis", file: "stacks/Pulumi.dev.yaml", image: "agent-fleet/sample-agent:next", rollbackImage: "agent-fleet/sample-agent:dev", changed: true,
        });
        // The `{}` entry became a block; the other agents still build from agentDefaults.
        expect(read(dir, "dev")).toContain("      jarvis:\n        image: agent-fleet/sample-agent:next\n        rollbackImage: agent-fleet/sample-agent:dev\n        build: false\n");
        const check = await fleet(["check", "--stack", "dev", "--cwd", dir, "--json"]);
        expect(check.exitCode, check.stderr).toBe(0);
        const text = await fleet(["release", "jarvis", "agent-fleet/sample-agent:next2", "--stack", "dev", "--cwd", dir]);
        expect(text.stdout).not.toContain("now pulls");
    });

    it.concurrent("writes nothing when the edit makes the config invalid, and says why in the loader's words", async () => {
        const dir = copyProject();
        const run = await fleet(["release", "jarvis", "Not An Image", "--stack", "dev", "--cwd", dir]);
        expect(run.exitCode).toBe(2);
        expect(run.stderr).toContain("stacks/Pulumi.dev.yaml");
        expect(run.stderr).toContain("fleet.agents.jarvis.image");
        expect(read(dir, "dev")).toBe(original("dev"));
    });

    it.concurrent("names the stack's agents for an unknown agent, and is a no-op for the image already running", async () => {
        const dir = copyProject();
        const unknown = await fleet(["release", "jarvi", "ghcr.io/acme/jarvis:2.4.0", "--stack", "staging", "--cwd", dir]);
        expect(unknown.exitCode).toBe(2);
        expect(unknown.stderr.trim()).toBe('stacks/Pulumi.staging.yaml: fleet.agents: no agent "jarvi" (agents: email-agent, jarvis, outreach-agent, pesti, research-agent)');
        const same = await fleet(["release", "jarvis", "ghcr.io/acme/jarvis:2.3.0", "--stack", "staging", "--cwd", dir]);
        expect(same.exitCode).toBe(0);
        expect(same.stdout).toContain("jarvis already runs ghcr.io/acme/jarvis:2.3.0; nothing changed.");
        expect(read(dir, "staging")).toBe(original("staging"));
    });
});
