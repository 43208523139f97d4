/**
 * `fleet up` through the real bin, up to the point where it would deploy:
 * bad input exits 2, and a failed preflight (doctor, then the policy pack)
 * exits 1 having deployed nothing. The deploy itself, its verification and
 * the automatic rollback run on the real engine in test/e2e/dev-fleet.test.ts.
 */
import * as fs from "fs";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { copyProject, fleet, removeProjects } from "../cli/project";
import { pulumiOnPath } from "../e2e/workspace";
import { skipUnlessAvailable } from "../support/requirements";

afterAll(removeProjects);

/** The steps that run the policy pack or ask the CLI need a `pulumi` CLI on PATH. */
const withoutPulumi = skipUnlessAvailable("test/operate/up (its CLI steps)", pulumiOnPath() ? [] : ["a `pulumi` CLI on PATH"]);

describe("fleet up", () => {
    it.concurrent("refuses an agent the stack does not declare, naming the stack's agents", async () => {
        const dir = copyProject();
        const run = await fleet(["up", "--stack", "dev", "--agent", "jarvs", "--cwd", dir]);
        expect(run.exitCode).toBe(2);
        expect(run.stderr.trim()).toBe('stacks/Pulumi.dev.yaml: fleet.agents: no agent "jarvs" (agents: email-agent, jarvis, outreach-agent, pesti, research-agent)');
        expect(run.stdout).toBe("");
    });

    it.concurrent("stops at a failed doctor, listing each problem with its fix, and deploys nothing", async () => {
        const dir = copyProject();
        // The check beside doctor would find a mandatory violation too: doctor's problems are reported, not it.
        const file = path.join(dir, "stacks", "Pulumi.dev.yaml");
        const doc = parseDocument(fs.readFileSync(file, "utf8"));
        doc.setIn(["config", "agent-fleet:fleet", "agents", "outreach-agent", "env"], doc.createNode({ OUTREACH_API_TOKEN: "plain-text-value" }));
        fs.writeFileSync(file, doc.toString());
        const run = await fleet(["up", "--stack", "dev", "--create-stack", "--cwd", dir, "--json"], { env: { DOCKER_HOST: "unix:///nonexistent/docker.sock" } });
        expect(run.exitCode).toBe(1);
        const json = JSON.parse(run.stdout);
        expect(json).toMatchObject({ stack: "dev", agent: null, ok: false, agents: [] });
        expect(json.update).toBeUndefined();
        expect(json.preflight.problems).toContainEqual("docker: no Docker engine answers at unix:///nonexistent/docker.sock (connect ENOENT /nonexistent/docker.sock) (fix: start the engine DOCKER_HOST names, or unset DOCKER_HOST)");
        // Progress went to stderr, so stdout stayed one JSON document.
        expect(run.stderr).toContain("preflight: fleet doctor and fleet check (the policy pack, offline)…");
        // Doctor's problems are the report: the check beside it is not (nor would it be worth reading without an engine).
        expect(json.preflight.problems.length).toBeGreaterThan(0);
        expect(json.preflight.problems.filter((p: string) => p.startsWith("policy "))).toEqual([]);
    });

    it.skipIf(withoutPulumi).concurrent("stops at a mandatory policy violation, naming the policy and the agent, and deploys nothing", async () => {
        const dir = copyProject();
        const file = path.join(dir, "stacks", "Pulumi.dev.yaml");
        const doc = parseDocument(fs.readFileSync(file, "utf8"));
        // A credential in plain env: no-plaintext-secrets is mandatory even in dev.
        doc.setIn(["config", "agent-fleet:fleet", "agents", "outreach-agent", "env"], doc.createNode({ OUTREACH_API_TOKEN: "plain-text-value" }));
        fs.writeFileSync(file, doc.toString());
        // --create-stack: the copy's backend has no dev stack yet, which fleet up would create once preflight passes.
        const run = await fleet(["up", "--stack", "dev", "--create-stack", "--cwd", dir]);
        expect(run.exitCode).toBe(1);
        expect(run.stdout).toContain("preflight: fleet doctor and fleet check (the policy pack, offline)…");
        expect(run.stdout).toMatch(/fleet up: preflight failed for stack dev; nothing was deployed:\n {2}policy no-plaintext-secrets \(outreach-agent\): /);
        expect(run.stdout).not.toContain("up: stack dev");
        expect(run.stdout).not.toContain("plain-text-value");
        // Not even the stack was created: --create-stack acts only once preflight has passed.
        expect(fs.existsSync(path.join(dir, ".pulumi-state", ".pulumi", "stacks", "agent-fleet", "dev.json"))).toBe(false);
    });
});
