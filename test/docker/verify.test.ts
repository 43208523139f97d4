/**
 * `fleet verify` through the real bin against real sample-agent containers:
 * a healthy stack passes; an unhealthy agent fails, named; a failing smoke
 * check fails, named; an agent the config declares but the outputs lack fails.
 */
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { copyProject, fleet, removeProjects } from "../cli/project";
import { RunningContainer, TestContainers, buildSampleAgentImage, requireDocker, waitForHealthStatus } from "../support/docker";
import { FAST_AGENT_HEALTH } from "../support/sentinel";

const containers = new TestContainers();
let image = "";
let dir = "";
let jarvis: RunningContainer;
let email: RunningContainer;
const names: Record<string, string> = {};

/** What `pulumi stack output --json --show-secrets` would say for these containers. */
function outputsFile(agents: Record<string, RunningContainer>): string {
    const file = path.join(dir, `outputs-${Object.keys(agents).join("-")}.json`);
    fs.writeFileSync(file, JSON.stringify({
        networkName: "fleet-dev-network",
        agents: Object.fromEntries(Object.entries(agents).map(([agent, c]) => [agent, { instances: [names[agent]], healthUrls: [`${c.baseUrl}/health`], tier: 2, version: "dev" }])),
    }));
    return file;
}

interface Row { agent: string; ok: boolean; health: string; failedChecks: { check: string; detail: string }[]; passedChecks: string[] }
const verify = async (file: string) => {
    const run = await fleet(["verify", "--stack", "dev", "--cwd", dir, "--outputs", file, "--json"]);
    return { code: run.exitCode, stderr: run.stderr, ...(JSON.parse(run.stdout || "{}") as { ok: boolean; agents: Row[] }) };
};

beforeAll(async () => {
    await requireDocker();
    image = await buildSampleAgentImage();
    // A dev stack of two agents from the catalog: jarvis (smoke checks "health" and "answer a question") and email-agent ("draft an email").
    dir = copyProject();
    const file = path.join(dir, "stacks", "Pulumi.dev.yaml");
    const doc = parseDocument(fs.readFileSync(file, "utf8"));
    doc.setIn(["config", "agent-fleet:fleet", "agents"], doc.createNode({ jarvis: {}, "email-agent": {} }));
    fs.writeFileSync(file, doc.toString());
    [jarvis, email] = await Promise.all(["jarvis", "email-agent"].map((agent) => containers.run({ image, containerPort: 8080, healthcheck: FAST_AGENT_HEALTH, env: { AGENT_NAME: agent } })));
    names.jarvis = (await jarvis.container.inspect()).Name.replace(/^\//, "");
    names["email-agent"] = (await email.container.inspect()).Name.replace(/^\//, "");
    await Promise.all([waitForHealthStatus(jarvis.container, "healthy"), waitForHealthStatus(email.container, "healthy")]);
}, 180_000);

afterAll(async () => {
    await containers.removeAll();
    removeProjects();
});

describe("fleet verify", () => {
    it("passes a healthy fleet, running every smoke check", async () => {
        const result = await verify(outputsFile({ jarvis, "email-agent": email }));
        expect(result.code, result.stderr).toBe(0);
        expect(result.agents.map((r) => [r.agent, r.ok, r.health, r.passedChecks])).toEqual([
            ["email-agent", true, "healthy", ["draft an email"]],
            ["jarvis", true, "healthy", ["health", "answer a question"]],
        ]);
    }, 60_000);

    it("asks the engine the stack deploys to (its docker:host), never DOCKER_HOST or the local socket in its place", async () => {
        const stackFile = path.join(dir, "stacks", "Pulumi.dev.yaml");
        const original = fs.readFileSync(stackFile, "utf8");
        const setDockerHost = (host: string) => {
            const doc = parseDocument(original);
            doc.setIn(["config", "docker:host"], host);
            fs.writeFileSync(stackFile, doc.toString());
        };
        const outputs = outputsFile({ jarvis, "email-agent": email });
        const run = async (env: Record<string, string>) => {
            const result = await fleet(["verify", "--stack", "dev", "--cwd", dir, "--outputs", outputs, "--json"], { env });
            return { code: result.exitCode, stderr: result.stderr, ...(JSON.parse(result.stdout || "{}") as { agents: Row[] }) };
        };
        try {
            // The stack names this engine: DOCKER_HOST pointing elsewhere does not move it.
            setDockerHost("unix:///var/run/docker.sock");
            const own = await run({ DOCKER_HOST: "unix:///nonexistent/elsewhere.sock" });
            expect(own.code, own.stderr).toBe(0);
            // The stack names another engine: the containers of this one must not pass for its agents.
            setDockerHost("unix:///nonexistent/another-engine.sock");
            const other = await run({ DOCKER_HOST: "" });
            expect(other.code).toBe(1);
            const elsewhere = expect.stringMatching(/^no Docker engine answers at unix:\/\/\/nonexistent\/another-engine\.sock \(/);
            expect(other.agents.map((r) => [r.agent, r.ok, r.health])).toEqual([["email-agent", false, elsewhere], ["jarvis", false, elsewhere]]);
        } finally {
            fs.writeFileSync(stackFile, original);
        }
    }, 60_000);

    it("reads a stack last deployed before `instances` was named `containerNames`", async () => {
        const current = JSON.parse(fs.readFileSync(outputsFile({ jarvis, "email-agent": email }), "utf8")) as { agents: Record<string, { instances?: string[]; containerNames?: string[] }> };
        for (const agent of Object.values(current.agents)) {
            agent.containerNames = agent.instances;
            delete agent.instances;
        }
        const old = path.join(dir, "outputs-before-rename.json");
        fs.writeFileSync(old, JSON.stringify(current));
        const result = await verify(old);
        expect(result.code, result.stderr).toBe(0);
        expect(result.agents.map((r) => r.ok)).toEqual([true, true]);
    }, 60_000);

    it("fails an agent the config declares but the stack did not deploy", async () => {
        const result = await verify(outputsFile({ jarvis }));
        expect(result.code).toBe(1);
        expect(result.agents.find((r) => r.agent === "email-agent")).toMatchObject({ ok: false, health: "not deployed" });
    }, 60_000);

    it("fails a failing smoke check, naming it", async () => {
        await fetch(`${email.baseUrl}/admin/errors`, { method: "POST", body: JSON.stringify({ percent: 100 }) });
        try {
            const result = await verify(outputsFile({ jarvis, "email-agent": email }));
            expect(result.code).toBe(1);
            expect(result.agents.find((r) => r.agent === "email-agent")).toMatchObject({
                ok: false, health: "healthy", failedChecks: [{ check: "draft an email", detail: "POST /v1/reply answered 500, expected 200" }],
            });
            expect(result.agents.find((r) => r.agent === "jarvis")).toMatchObject({ ok: true });
        } finally {
            await fetch(`${email.baseUrl}/admin/errors`, { method: "POST", body: JSON.stringify({ percent: 0 }) });
        }
    }, 60_000);

    it("fails an unhealthy agent, naming it with Docker's last probe output, in the table too", async () => {
        await fetch(`${jarvis.baseUrl}/admin/health/fail`, { method: "POST", body: JSON.stringify({ reason: "verify-test" }) });
        await waitForHealthStatus(jarvis.container, "unhealthy");
        const file = outputsFile({ jarvis, "email-agent": email });
        const result = await verify(file);
        expect(result.code).toBe(1);
        expect(result.agents.find((r) => r.agent === "jarvis")).toMatchObject({ ok: false, health: expect.stringMatching(/^unhealthy/) });
        const table = await fleet(["verify", "--stack", "dev", "--cwd", dir, "--outputs", file]);
        expect(table.exitCode).toBe(1);
        expect(table.stdout).toMatch(/^jarvis\s+\S+\s+FAIL\s+unhealthy/m);
        expect(table.stdout).toContain("dev: jarvis failed verification.");
    }, 60_000);
});
