/**
 * The edge on the swarm runtime, on the real engine and a single-node swarm:
 * Caddy as a global service publishing its ports on the node, an exposed
 * agent reached over HTTPS at its hostname (anything else gets the edge's
 * 404), and a probe through the edge every 50 ms that sees no failed request
 * across ten rolling (start-first) releases, a second agent exposed by a path
 * prefix and then removed, and a broken release that Swarm rolls back (with
 * `fleet up`'s rollback after it). The edge routes to each agent's service
 * name, which Swarm's DNS answers with the tasks that passed their
 * healthchecks; a release changes no route.
 *
 * The container runtime's edge suite (edge.test.ts) covers what does not
 * depend on the runtime: webhooks through the edge, body limits, access logs.
 */
import { promises as fs } from "node:fs";
import https from "node:https";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EDGE_ROLE, LABELS } from "../../contract";
import { buildSampleAgentImage, dockerClient, execsSince, provideDefaultCaddyImage, requireDocker } from "../support/docker";
import { SAMPLE_AGENT_EDGE_FIELDS, edgeProbe, releaseUnderProbe, request } from "../support/edge";
import { skipUnlessAvailable } from "../support/requirements";
import { freePort } from "../support/sentinel";
import { LocalRegistry, SWARM_TURN_MS, ensureSwarm, missingForSwarm } from "../support/swarm";
import { DOCKER_PLUGIN_VERSION, Workspace, expectOk, missingForDeployments, pulumiOnPath } from "./workspace";

const STEP_TIMEOUT = 900_000;
const STACK = "edgeswarm";
const AGENT = "pesti";
const EDGE_HOST = "agents.e2e.test";
const AGENT_HOST = "pesti.e2e.test";

const cli = pulumiOnPath();
const skip = skipUnlessAvailable("test/e2e/edge-swarm",
    [...(cli ? missingForDeployments([{ name: "docker", version: DOCKER_PLUGIN_VERSION }]) : ["a `pulumi` CLI on PATH"]), ...missingForSwarm()]);

function stackFile(images: { agent: string; edge: string }, httpPort: number, httpsPort: number): string {
    return [
        "config:",
        "  agent-fleet:fleet:",
        "    environment: dev",
        "    runtime: swarm",
        "    edge:",
        `      hostname: ${EDGE_HOST}`,
        `      image: ${images.edge}`,
        `      httpPort: ${httpPort}`,
        `      httpsPort: ${httpsPort}`,
        "    agents:",
        `      ${AGENT}:`,
        "        tier: 1",
        "        port: 8080",
        '        owner: "@acme/e2e"',
        "        memory: 128Mi",
        `        image: ${images.agent}`,
        "        build: false",
        `        expose: ${AGENT_HOST}`,
        "        smokeChecks:",
        "          - name: health",
        "            path: /health",
        ...SAMPLE_AGENT_EDGE_FIELDS,
        "",
    ].join("\n");
}

describe.skipIf(skip).sequential(`the edge on the swarm runtime, on the real engine (${cli})`, () => {
    const docker = dockerClient();
    let ws: Workspace;
    let registry: LocalRegistry;
    let leaveSwarm: () => Promise<void> = async () => undefined;
    let httpsPort: number;
    const tags: string[] = [];
    const fleet = (...args: string[]) => ws.fleet(...args);
    const setEnv = (name: string, value: string | undefined) => ws.editStack(STACK, (doc) => {
        const at = ["config", "agent-fleet:fleet", "agents", AGENT, "env", name];
        if (value === undefined) doc.deleteIn(at);
        else doc.setIn(at, value);
    });
    const edgeServices = async () => docker.listServices({ filters: { label: [`${LABELS.stack}=${STACK}`, `${LABELS.role}=${EDGE_ROLE}`] } });

    beforeAll(async () => {
        await requireDocker();
        leaveSwarm = await ensureSwarm(docker);
        registry = await LocalRegistry.start();
        // Both images come from a registry, as every node of a swarm needs them to.
        const agentImage = await registry.push(await buildSampleAgentImage(), "agent-fleet/e2e-edge-agent:1.0.0");
        const edgeImage = await registry.push(await provideDefaultCaddyImage(), "agent-fleet/e2e-edge-caddy:2");
        tags.push(`${registry.address}/agent-fleet/e2e-edge-agent:1.0.0`, `${registry.address}/agent-fleet/e2e-edge-caddy:2`);
        ws = await Workspace.create();
        httpsPort = await freePort();
        await fs.writeFile(path.join(ws.dir, "stacks", `Pulumi.${STACK}.yaml`), stackFile({ agent: agentImage, edge: edgeImage }, await freePort(), httpsPort));
        await fs.copyFile(path.join(ws.dir, "stacks", "policy.dev.json"), path.join(ws.dir, "stacks", `policy.${STACK}.json`));
        expectOk(await ws.pulumiOn(STACK, "stack", "init", "--secrets-provider", "passphrase"), "pulumi stack init");
    }, SWARM_TURN_MS + STEP_TIMEOUT);

    afterAll(async () => {
        try {
            if (ws) {
                await ws.pulumiOn(STACK, "destroy", "--yes", "--skip-preview").catch(() => undefined);
                for (const v of (await docker.listVolumes({ filters: { label: [`${LABELS.stack}=${STACK}`] } })).Volumes ?? []) {
                    // The certificate volume outlives a destroy on purpose; the test's does not (its task may still be going).
                    for (let i = 0; i < 20 && await docker.getVolume(v.Name).remove().then(() => false, () => true); i++) await new Promise((r) => setTimeout(r, 500));
                }
                await ws.remove();
            }
            await registry?.stop();
            for (const tag of tags) await execa("docker", ["rmi", tag], { reject: false });
        } finally {
            await leaveSwarm();
        }
    }, STEP_TIMEOUT);

    it("1. `fleet up` deploys the edge as a global service: the exposed agent answers over HTTPS at its hostname, anything else gets the edge's 404, and a preview after changes nothing", async () => {
        expectOk(await fleet("up", "--stack", STACK), "fleet up");
        const [edge] = await edgeServices();
        expect((edge.Spec as { Mode?: unknown }).Mode).toEqual({ Global: {} });
        expect((await docker.listContainers({ filters: { label: [`${LABELS.stack}=${STACK}`, `${LABELS.role}=${EDGE_ROLE}`] } })).map((c) => c.Labels["com.docker.swarm.service.id"])).toEqual([edge.ID]);

        const agent = new https.Agent({ rejectUnauthorized: false });
        const health = await request(httpsPort, AGENT_HOST, "/health", agent);
        expect(health).toMatchObject({ status: 200, agent: AGENT });
        let elsewhere = await request(httpsPort, EDGE_HOST, "/api/agents/nobody", agent);
        // The edge issues its certificates as it loads the routes: the first may take a moment.
        for (let i = 0; i < 60 && typeof elsewhere.status === "string"; i++) {
            await new Promise((resolve) => setTimeout(resolve, 500));
            elsewhere = await request(httpsPort, EDGE_HOST, "/api/agents/nobody", agent);
        }
        expect(elsewhere).toMatchObject({ status: 404, body: "no agent is exposed here\n" });
        expect(elsewhere.agent).toBeUndefined();
        agent.destroy();

        // fleet verify asks for the agent through the edge's task on this node, checking its certificate against the edge's CA.
        const verify = await fleet("verify", "--stack", STACK, "--json");
        expectOk(verify, "fleet verify");
        const rows = (JSON.parse(verify.stdout) as { agents: { container: string; ok: boolean; health: string; passedChecks: string[] }[] }).agents;
        expect(rows.find((r) => r.container.startsWith("edge "))).toEqual(expect.objectContaining({
            container: `edge https://${AGENT_HOST}:${httpsPort}`, ok: true, health: "public URL ok", passedChecks: ["health"],
        }));
        // The edge's service and routes read back as they were written.
        expectOk(await ws.pulumiOn(STACK, "preview", "--refresh", "--expect-no-changes", "--diff"), "pulumi preview --refresh --expect-no-changes");
    }, STEP_TIMEOUT);

    it("2. ten rolling releases of the agent, probed through the edge every 50 ms: 0 failed requests, and the edge's routes never reloaded", async () => {
        const [before] = await edgeServices();
        const started = Date.now();
        const { counts, lines } = await releaseUnderProbe(10, httpsPort, AGENT_HOST, {
            setRevision: (revision) => setEnv("REVISION", revision), up: () => fleet("up", "--stack", STACK, "--agent", AGENT),
        });
        console.log(`e2e edge on swarm: ${lines.join("\ne2e edge on swarm: ")}\ne2e edge on swarm: ten releases: ${JSON.stringify(counts)}`);
        expect(counts.failed, JSON.stringify(counts.failures)).toBe(0);
        expect(counts.ok).toBeGreaterThan(100);
        // The edge itself was not touched: same service, same spec version, and no `caddy reload` ran in it.
        const [after] = await edgeServices();
        expect([after.ID, after.Version?.Index]).toEqual([before.ID, before.Version?.Index]);
        expect(await execsSince(docker, started, "caddy reload")).toEqual([]);
    }, STEP_TIMEOUT);

    it("3. adding a second agent exposed by a path prefix, then removing it: the first sees 0 failed requests; the prefix is stripped, and 404 once removed", async () => {
        const second = "jarvis";
        const agent = new https.Agent({ rejectUnauthorized: false });
        const watch = edgeProbe(httpsPort, AGENT_HOST);
        await ws.editStack(STACK, (doc) => {
            const entry = doc.getIn(["config", "agent-fleet:fleet", "agents", AGENT]) as { clone(): unknown };
            doc.setIn(["config", "agent-fleet:fleet", "agents", second], entry.clone());
            doc.setIn(["config", "agent-fleet:fleet", "agents", second, "expose"], "/api/agents/jarvis");
        });
        const adding = Date.now();
        expectOk(await fleet("up", "--stack", STACK), "fleet up with jarvis");
        // Exposing an agent is what loads routes (and what shows that step 2's check sees a reload when there is one).
        expect((await execsSince(docker, adding, "caddy reload")).length).toBeGreaterThan(0);
        const health = await request(httpsPort, EDGE_HOST, "/api/agents/jarvis/health", agent);
        expect(health).toMatchObject({ status: 200, agent: second });
        await ws.editStack(STACK, (doc) => { doc.deleteIn(["config", "agent-fleet:fleet", "agents", second]); });
        expectOk(await fleet("up", "--stack", STACK), "fleet up without jarvis");
        expect((await request(httpsPort, EDGE_HOST, "/api/agents/jarvis/health", agent)).status).toBe(404);
        const counts = await watch.stop();
        agent.destroy();
        console.log(`e2e edge on swarm: adding and removing a second agent: ${JSON.stringify(counts)}`);
        expect(counts.failed, JSON.stringify(counts.failures)).toBe(0);
        expect(counts.ok).toBeGreaterThan(100);
    }, STEP_TIMEOUT);

    it("4. a broken release: Swarm rolls it back, `fleet up` rolls the stack file back and verifies; 0 failed requests through the edge", async () => {
        const watch = edgeProbe(httpsPort, AGENT_HOST);
        await setEnv("FAIL_HEALTH", "1");
        const up = await fleet("up", "--stack", STACK, "--agent", AGENT, "--json");
        const counts = await watch.stop();
        console.log(`e2e edge on swarm: broken release: ${JSON.stringify(counts)}; fleet up exited ${up.exitCode} in ${(up.ms / 1000).toFixed(1)} s`);
        expect(up.exitCode, up.stderr.slice(-3000)).toBe(1);
        const json = JSON.parse(up.stdout) as { agents: { agent: string; update: string; rollback?: { outcome: string } }[] };
        expect(json.agents).toEqual([expect.objectContaining({ agent: AGENT, update: "failed", rollback: expect.objectContaining({ outcome: "rolled back and verified" }) })]);
        expect(counts.failed, JSON.stringify(counts.failures)).toBe(0);
        expect(counts.ok).toBeGreaterThan(20);
        // The rollback took FAIL_HEALTH out of the stack file again: what is deployed is what the file says.
        expect((await fs.readFile(path.join(ws.dir, "stacks", `Pulumi.${STACK}.yaml`), "utf8"))).not.toContain("FAIL_HEALTH");
        expectOk(await fleet("verify", "--stack", STACK), "fleet verify after the rollback");
    }, STEP_TIMEOUT);
});
