/**
 * The fleet on two servers, on the real engine: a stack ("remote", dev's
 * file) whose `fleet.hosts` names app-1 and app-2, hosts of the test's own
 * (network namespaces, each with its own dockerd and sshd, test/support/
 * remote-host.ts). jarvis runs on both, scout on app-1, pesti on app-2.
 * Every verb reaches the agents where they run, through the same ssh and
 * the same trust as the deploy, never through this machine's loopback:
 * 1. `fleet up` deploys and verifies on both hosts; nothing runs here; a preview after it has nothing to do.
 * 2. A decoy answering 200 on this machine's copy of every port the agents
 *    got receives nothing, and an agent that really is down fails verify on its host alone.
 * 3. A host presenting another key is refused by every verb and by `pulumi up`, naming the host.
 * 4. doctor and status report both hosts.
 * 5. Releases: a good one and a broken one (rolled back by itself) on both hosts; `fleet rollback --apply`'s MTTR.
 * 6. A release pulled from a registry that needs a login (docker-registry, htpasswd): the password comes
 *    from secret config, reaches the daemon through the host's provider, and is in no output and no plain state.
 * 7. app-2's sshd down: app-1's agents deploy and verify, app-2 is named, nothing is rolled back for it;
 *    once it is back the next `fleet up` converges with nothing lost or duplicated.
 * 8. Thirty containers on one host verify with 0 spurious failures over one SSH login.
 * 9. A sentinel on each host, reading Docker only through its filtering proxy: a health flip reaches a
 *    receiver the host can reach; from inside the sentinel, a create and an exec are refused.
 * 10. The edge on each host: exposed agents answer over HTTPS through their own host's edge, which routes to
 *     that host's containers only; `fleet verify` asks each host's edge, and fails on the host whose agent stopped.
 * 11. `pulumi destroy` leaves nothing of the stack on either host.
 */
import { promises as fs } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_CADDY_IMAGE, dockerClient, provideDefaultCaddyImage, requireDocker, NODE_BASE_IMAGE } from "../support/docker";
import { Receiver } from "../support/receiver";
import { verifySignature } from "../../alerts";
import { HOST_PORT_RANGE, RemoteHost, SshClient, remoteHostsUnavailable } from "../support/remote-host";
import { LocalRegistry } from "../support/swarm";
import { skipUnlessAvailable } from "../support/requirements";
import { until } from "../support/sentinel";
import { Workspace, expectOk, missingForDeployments, provideDefaultNodeImage, pulumiOnPath } from "./workspace";

const STEP_TIMEOUT = 600_000;
/** A stack of its own (dev's file, copied): the dev suite runs its own dev stack on this machine's engine at the same time. */
const STACK = "remote";
const cli = pulumiOnPath();
const hostsMissing = remoteHostsUnavailable();
const skip = skipUnlessAvailable("test/e2e/remote", [...(cli ? missingForDeployments() : ["a `pulumi` CLI on PATH"]), ...(hostsMissing ? [hostsMissing] : [])]);

describe.skipIf(skip).sequential(`the fleet on two servers over ssh:// (${cli})`, () => {
    let client: SshClient;
    let host: RemoteHost;
    let host2: RemoteHost;
    let ws: Workspace;
    const env = () => ({ ...ws.env, ...client.env() });
    const fleet = async (...args: string[]) => {
        const result = await execa(process.execPath, [path.join(ws.dir, "cli", "fleet.js"), ...args], { cwd: ws.dir, env: env(), reject: false });
        return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr, ms: 0 };
    };
    const findingsOf = (stdout: string) => (JSON.parse(stdout) as { findings: { check: string; ok: boolean; detail: string; fix?: string }[] }).findings;
    const remoteContainers = async (on: RemoteHost = host) => (await on.docker.listContainers({ all: true, filters: { label: [`agent-fleet.stack=${STACK}`] } }));
    /** Each host's running agent containers, as "agent@host" sorted: what runs where. */
    const placement = async () => (await Promise.all([host, host2].map(async (h) => (await remoteContainers(h))
        .filter((c) => c.State === "running" && c.Labels["agent-fleet.agent"]).map((c) => `${c.Labels["agent-fleet.agent"]}@${h.name}`)))).flat().sort();

    beforeAll(async () => {
        await requireDocker();
        await provideDefaultNodeImage();
        client = await SshClient.create();
        [host, host2] = [await RemoteHost.start({ name: "app-1", client }), await RemoteHost.start({ name: "app-2", client })];
        // Each host builds the agents' image itself (the provider sends the context over ssh), on the base image it has.
        await provideDefaultCaddyImage();
        for (const h of [host, host2]) await h.loadImages(NODE_BASE_IMAGE, "node:20-alpine", DEFAULT_CADDY_IMAGE);
        ws = await Workspace.create();
        await fs.copyFile(path.join(ws.dir, "stacks", "Pulumi.dev.yaml"), path.join(ws.dir, "stacks", `Pulumi.${STACK}.yaml`));
        await fs.copyFile(path.join(ws.dir, "stacks", "policy.dev.json"), path.join(ws.dir, "stacks", `policy.${STACK}.json`));
        await ws.editStack(STACK, (doc) => {
            doc.setIn(["config", "agent-fleet:fleet", "hosts"], doc.createNode({ "app-1": { docker: `ssh://root@${host.name}` }, "app-2": { docker: `ssh://root@${host2.name}` } }));
            doc.setIn(["config", "agent-fleet:fleet", "agents"], doc.createNode({
                jarvis: {},
                pesti: { hosts: ["app-2"], featureFlags: [{ name: "smart-followups", currentStage: "team" }] },
                scout: { tier: 1, owner: "@acme/e2e", port: 8080, memory: "64Mi", hosts: ["app-1"] },
            }));
        });
    }, STEP_TIMEOUT);

    afterAll(async () => {
        if (ws) {
            await execa("pulumi", ["destroy", "--yes", "--skip-preview", "--run-program", "--stack", STACK, "--non-interactive"], { cwd: ws.dir, env: env(), reject: false });
            await ws.remove();
        }
        await host?.stop();
        await host2?.stop();
        await client?.remove();
    }, STEP_TIMEOUT);

    it("1. `fleet up` deploys and verifies the agents on both hosts; nothing runs on this machine; a preview after it has nothing to do", async () => {
        const up = await fleet("up", "--stack", STACK, "--create-stack");
        expectOk(up, "fleet up on app-1 and app-2");
        expect(up.stdout).toMatch(/fleet up: stack remote deployed and verified in [\d.]+ s\./);
        console.info(`e2e: the transcript of fleet up on two hosts:\n${up.stdout}`);
        expect(await placement()).toEqual(["jarvis@app-1", "jarvis@app-2", "pesti@app-2", "scout@app-1"]);
        expect((await remoteContainers(host)).every((c) => c.Labels["agent-fleet.host"] === "app-1")).toBe(true);
        expect((await remoteContainers(host2)).every((c) => c.Labels["agent-fleet.host"] === "app-2")).toBe(true);
        expect(await dockerClient().listContainers({ all: true, filters: { label: [`agent-fleet.stack=${STACK}`] } })).toEqual([]);
        const verify = await fleet("verify", "--stack", STACK, "--json");
        expect(verify.exitCode, verify.stdout + verify.stderr).toBe(0);
        const rows = (JSON.parse(verify.stdout) as { agents: { agent: string; host: string; ok: boolean }[] }).agents;
        expect(rows.map((r) => `${r.agent}@${r.host}`)).toEqual(["jarvis@app-1", "jarvis@app-2", "pesti@app-2", "scout@app-1"]);
        const preview = await execa("pulumi", ["preview", "--expect-no-changes", "--stack", STACK, "--non-interactive"], { cwd: ws.dir, env: env(), reject: false });
        expect(preview.exitCode, preview.stdout.slice(-3000) + preview.stderr).toBe(0);
    }, STEP_TIMEOUT);

    it("2. verify checks the real containers through their hosts: a decoy on this machine's ports gets nothing, and a stopped agent fails on its host alone", async () => {
        let decoyHits = 0;
        const decoys: http.Server[] = [];
        try {
            for (const h of [host, host2]) {
                for (const container of await remoteContainers(h)) {
                    for (const port of container.Ports.filter((p) => p.PublicPort)) {
                        expect(port.PublicPort).toBeGreaterThanOrEqual(HOST_PORT_RANGE[0]);
                        expect(port.PublicPort).toBeLessThanOrEqual(HOST_PORT_RANGE[1]);
                        const decoy = http.createServer((_, res) => void (decoyHits++, res.end("{\"status\":\"ok\"}")));
                        // Two hosts may publish the same port number: one decoy per number is enough.
                        const listening = await new Promise<boolean>((resolve) => {
                            decoy.once("error", () => resolve(false));
                            decoy.listen(port.PublicPort, "127.0.0.1", () => resolve(true));
                        });
                        if (listening) decoys.push(decoy);
                    }
                }
            }
            expect(decoys.length).toBeGreaterThanOrEqual(2);
            const passing = await fleet("verify", "--stack", STACK, "--json");
            expect(passing.exitCode, passing.stderr).toBe(0);
            const jarvis = (await remoteContainers(host)).find((c) => c.Labels["agent-fleet.agent"] === "jarvis")!;
            await host.docker.getContainer(jarvis.Id).stop();
            const failing = await fleet("verify", "--stack", STACK, "--json");
            expect(failing.exitCode).toBe(1);
            const rows = (JSON.parse(failing.stdout) as { agents: { agent: string; host: string; ok: boolean; health: string }[] }).agents;
            expect(rows.filter((r) => !r.ok)).toEqual([expect.objectContaining({ agent: "jarvis", host: "app-1", health: expect.stringMatching(/^not running/) })]);
            expect(rows.filter((r) => r.ok).map((r) => `${r.agent}@${r.host}`)).toEqual(["jarvis@app-2", "pesti@app-2", "scout@app-1"]);
            expect(decoyHits).toBe(0);
            await host.docker.getContainer(jarvis.Id).start();
            await until("jarvis to be healthy again", async () => ((await host.docker.getContainer(jarvis.Id).inspect()).State.Health?.Status === "healthy" ? true : undefined), 60_000, 500);
        } finally {
            for (const decoy of decoys) decoy.close();
        }
    }, STEP_TIMEOUT);

    it("3. a host presenting another key is refused by every verb and by `pulumi up`, naming the host", async () => {
        await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(client.dir, "stranger"), "-C", "stranger"]);
        const stranger = (await fs.readFile(path.join(client.dir, "stranger.pub"), "utf8")).split(" ").slice(0, 2).join(" ");
        try {
            await client.pin(host.address, stranger);
            const verify = await fleet("verify", "--stack", STACK);
            expect(verify.exitCode).not.toBe(0);
            expect(verify.stdout).toMatch(/host app-1 \(ssh:\/\/root@app-1\) \(ssh root@app-1: (Host key verification failed|.*REMOTE HOST IDENTIFICATION HAS CHANGED)/);
            const status = await fleet("status", "--stack", STACK, "--json");
            expect(status.exitCode).toBe(1);
            const problems = (JSON.parse(status.stdout) as { problems: string[] }).problems;
            expect(problems.filter((p) => p.includes("app-1 (ssh://root@app-1)")).length).toBeGreaterThanOrEqual(2);
            const doctor = await fleet("doctor", "--stack", STACK, "--json");
            expect(findingsOf(doctor.stdout).filter((f) => f.check === "host" && !f.ok)).toEqual([
                expect.objectContaining({ detail: "app-1: root@app-1 presents a host key other than the one known_hosts pins for it", fix: expect.stringContaining("out of band") }),
            ]);
            const up = await fleet("up", "--stack", STACK);
            expect(up.exitCode).toBe(1);
            expect(up.stdout).toMatch(/preflight failed.*\n.*host: app-1: root@app-1 presents a host key other than the one known_hosts pins for it/);
            const pulumiUp = await execa("pulumi", ["up", "--yes", "--skip-preview", "--stack", STACK, "--non-interactive", "--refresh"], { cwd: ws.dir, env: env(), reject: false });
            expect(pulumiUp.exitCode).not.toBe(0);
            expect(pulumiUp.stdout + pulumiUp.stderr).toMatch(/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);
        } finally {
            await client.pin(host.address, host.hostKey);
        }
        const again = await fleet("verify", "--stack", STACK);
        expect(again.exitCode, again.stdout + again.stderr).toBe(0);
    }, STEP_TIMEOUT);

    it("4. `fleet doctor` and `fleet status` report both hosts: key, socket group, free disk, engine; what runs on each", async () => {
        const doctor = await fleet("doctor", "--stack", STACK, "--json");
        const findings = findingsOf(doctor.stdout);
        for (const h of [host, host2]) {
            const dataRoot = (await h.docker.info() as { DockerRootDir: string }).DockerRootDir;
            expect(findings.filter((f) => f.check === "host" && f.detail.startsWith(`host ${h.name} `))).toEqual([expect.objectContaining({
                ok: true, detail: expect.stringMatching(new RegExp(`^host ${h.name} \\(ssh://root@${h.name}\\): ssh ok \\(host key as pinned\\), Docker socket group \\d+, [\\d.]+ GiB free under ${dataRoot}$`)),
            })]);
            expect(findings.filter((f) => f.check === "docker" && f.detail.includes(`host ${h.name} `))).toEqual([expect.objectContaining({
                ok: true, detail: expect.stringMatching(new RegExp(`^engine \\S+ \\(API \\S+\\) at host ${h.name} \\(ssh://root@${h.name}\\)$`)),
            })]);
        }
        expect(doctor.exitCode, doctor.stdout).toBe(0);
        const status = await fleet("status", "--stack", STACK, "--json");
        expectOk(status, "fleet status");
        const rows = (JSON.parse(status.stdout) as { agents: { agent: string; state: string; health: string }[] }).agents;
        expect(rows.map((r) => [r.agent, r.state, r.health])).toEqual([["jarvis", "current", "healthy"], ["pesti", "current", "healthy"], ["scout", "current", "healthy"]]);
        // A container gone from one host of its agent is the gap, named with the host.
        const jarvis = (await remoteContainers(host2)).find((c) => c.Labels["agent-fleet.agent"] === "jarvis")!;
        await host2.docker.getContainer(jarvis.Id).stop();
        try {
            const gap = await fleet("status", "--stack", STACK, "--json");
            expect(gap.exitCode).toBe(1);
            expect((JSON.parse(gap.stdout) as { problems: string[] }).problems).toEqual(["jarvis (remote): declared on host app-2 but not running there"]);
        } finally {
            await host2.docker.getContainer(jarvis.Id).start();
            await until("jarvis on app-2 to be healthy again", async () => ((await host2.docker.getContainer(jarvis.Id).inspect()).State.Health?.Status === "healthy" ? true : undefined), 60_000, 500);
        }
    }, STEP_TIMEOUT);

    it("5. releases on both hosts: a good one through `fleet up --agent`, a broken one rolled back by itself, `fleet rollback --apply`; the other agents untouched", async () => {
        // Pulled releases as staging and production run them, already on each host (there is no registry here): a good one and a broken one.
        for (const h of [host, host2]) {
            await h.docker.getImage("agent-fleet/sample-agent:dev").tag({ repo: "agent-fleet/sample-agent", tag: "release-1.1.0" });
            await execa("docker", ["-H", `unix://${h.dir}/docker.sock`, "build", "-q", "-t", "agent-fleet/sample-agent:release-1.2.0", "-"], { input: "FROM agent-fleet/sample-agent:release-1.1.0\nENV FAIL_HEALTH=1\n" });
        }
        const idsOf = async (agent: string) => (await Promise.all([host, host2].map(async (h) => (await remoteContainers(h)).filter((c) => c.Labels["agent-fleet.agent"] === agent && c.State === "running").map((c) => c.Id)))).flat().sort();
        const others = { pesti: await idsOf("pesti"), scout: await idsOf("scout") };

        expectOk(await fleet("release", "jarvis", "agent-fleet/sample-agent:release-1.1.0", "--stack", STACK), "fleet release (good)");
        const started = performance.now();
        const good = await fleet("up", "--stack", STACK, "--agent", "jarvis");
        const goodMs = performance.now() - started;
        expectOk(good, "fleet up --agent jarvis (good release) on app-1 and app-2");
        expect(good.stdout).toMatch(/^jarvis +replaced +ok +-$/m);
        const serving = await idsOf("jarvis");
        expect(serving).toHaveLength(2);

        expectOk(await fleet("release", "jarvis", "agent-fleet/sample-agent:release-1.2.0", "--stack", STACK), "fleet release (broken)");
        const brokenStarted = performance.now();
        const broken = await fleet("up", "--stack", STACK, "--agent", "jarvis");
        const brokenMs = performance.now() - brokenStarted;
        expect(broken.exitCode, broken.stdout + broken.stderr).toBe(1);
        expect(broken.stdout).toMatch(/rolled back and verified/);
        // The containers that served the good release still serve, on both hosts.
        expect(await idsOf("jarvis")).toEqual(serving);

        // The good release's previous spec (the dev image) by `fleet rollback --apply`: a person's recovery, timed.
        const rollbackStarted = performance.now();
        const rollback = await fleet("rollback", "jarvis", "--apply", "--stack", STACK);
        const mttrMs = performance.now() - rollbackStarted;
        expectOk(rollback, "fleet rollback jarvis --apply");
        expect(rollback.stdout).toMatch(/Rolled back and verified: jarvis runs /);
        expect((await idsOf("jarvis")).filter((id) => serving.includes(id))).toEqual([]);
        expect(await idsOf("jarvis")).toHaveLength(2);
        expect({ pesti: await idsOf("pesti"), scout: await idsOf("scout") }).toEqual(others);
        const verify = await fleet("verify", "--stack", STACK);
        expect(verify.exitCode, verify.stdout).toBe(0);
        console.info(`e2e: on two hosts, fleet up --agent jarvis (good release) took ${(goodMs / 1000).toFixed(1)} s; a broken release failed, rolled back and verified in ${(brokenMs / 1000).toFixed(1)} s; fleet rollback --apply (MTTR) took ${(mttrMs / 1000).toFixed(1)} s`);
    }, STEP_TIMEOUT);

    it("6. a release pulled from a registry that needs a login: the credentials come from secret config, never shown nor stored in plain text", async () => {
        const password = "seeded-registry-pw/Zm9v+YmFy==";
        const registry = await LocalRegistry.start({ host: host2.gateway, tls: true, login: { username: "deploy", password } });
        try {
            const image = `${registry.address}/acme/pulled:1.0.0`;
            await registry.push("agent-fleet/sample-agent:dev", "acme/pulled:1.0.0");
            // The registry refuses a pull without the login: the host's engine has none of its own.
            const anonymous = await execa("docker", ["-H", `unix://${host2.dir}/docker.sock`, "pull", image], { reject: false });
            expect(anonymous.exitCode).not.toBe(0);
            expect(anonymous.stderr).toMatch(/no basic auth credentials|unauthorized/);
            const set = await execa("pulumi", ["config", "set", "--secret", "registryPassword", "--stack", STACK], { cwd: ws.dir, env: env(), input: password, reject: false });
            expect(set.exitCode, set.stderr).toBe(0);
            await ws.editStack(STACK, (doc) => {
                doc.setIn(["config", "agent-fleet:fleet", "registries"], doc.createNode({ [registry.address]: { username: "deploy", passwordSecret: "registryPassword" } }));
                doc.setIn(["config", "agent-fleet:fleet", "agents", "pulled"], doc.createNode({ tier: 1, owner: "@acme/e2e", port: 8080, memory: "64Mi", image, build: false, hosts: ["app-2"] }));
            });
            const up = await fleet("up", "--stack", STACK);
            expectOk(up, "fleet up with a registry login");
            expect(await placement()).toContain("pulled@app-2");
            expect(up.stdout + up.stderr).not.toContain(password);
            const state = await execa("pulumi", ["stack", "export", "--stack", STACK], { cwd: ws.dir, env: env() });
            expect(state.stdout).toContain("registryAuth");
            expect(state.stdout).not.toContain(password);
            expect(state.stdout).not.toContain(Buffer.from(password).toString("base64"));
        } finally {
            // Later steps do without it: the agent keeps running from the image its host now holds.
            await registry.stop();
        }
    }, STEP_TIMEOUT);

    it("7. app-2's sshd down: app-1's agents deploy and verify, app-2 is named and nothing is rolled back for it; back up, the next `fleet up` converges", async () => {
        const before = await placement();
        await ws.editStack(STACK, (doc) => doc.setIn(["config", "agent-fleet:fleet", "agents", "scout", "env"], doc.createNode({ REVISION: "2" })));
        await host2.stopSsh();
        let up: Awaited<ReturnType<typeof fleet>>;
        try {
            up = await fleet("up", "--stack", STACK, "--json");
        } finally {
            await host2.startSsh(client);
        }
        expect(up.exitCode, up.stderr.slice(-3000)).toBe(1);
        expect(up.stderr).toMatch(/preflight: host app-2 is down, so its agents fail this run and the other hosts deploy/);
        const json = JSON.parse(up.stdout) as { agents: { agent: string; update: string; verify: string; rollback?: { outcome: string; why?: string }; ok: boolean }[] };
        expect(json.agents.find((a) => a.agent === "scout")).toMatchObject({ update: "replaced", verify: "ok", ok: true });
        for (const agent of ["jarvis", "pesti"]) {
            expect(json.agents.find((a) => a.agent === agent), agent).toMatchObject({
                ok: false, verify: expect.stringContaining("no Docker engine answers at host app-2"),
                rollback: { outcome: "not rolled back", why: expect.stringMatching(/^host app-2 did not answer/) },
            });
        }
        // What ran on app-2 kept running; scout runs its new spec on app-1.
        expect(await placement()).toEqual(before);
        const again = await fleet("up", "--stack", STACK);
        expectOk(again, "fleet up once app-2 is back");
        expect(await placement()).toEqual(before);
        expect((await remoteContainers(host)).length + (await remoteContainers(host2)).length).toBe(before.length);
    }, STEP_TIMEOUT);

    it("8. thirty containers on one host verify with 0 spurious failures: every request of a command shares one SSH connection per host", async () => {
        const workers = Array.from({ length: 28 }, (_, i) => `worker-${String(i + 1).padStart(2, "0")}`);
        await ws.editStack(STACK, (doc) => {
            for (const name of workers) doc.setIn(["config", "agent-fleet:fleet", "agents", name], doc.createNode({ tier: 1, owner: "@acme/e2e", port: 8080, memory: "64Mi", hosts: ["app-1"] }));
        });
        const up = await fleet("up", "--stack", STACK);
        expectOk(up, "fleet up of 30 agents on app-1");
        expect((await remoteContainers(host)).length).toBe(30);
        for (let round = 0; round < 3; round++) {
            const started = performance.now();
            const logins = await host.sshLogins();
            const verify = await fleet("verify", "--stack", STACK, "--json");
            // 30 inspects and 30 smoke checks (and more) on app-1, all channels of one login.
            expect(await host.sshLogins() - logins, `round ${round + 1}: SSH logins to app-1`).toBe(1);
            const rows = (JSON.parse(verify.stdout) as { agents: { agent: string; ok: boolean; health: string }[] }).agents;
            console.info(`e2e: fleet verify of 33 agents (30 on app-1) took ${((performance.now() - started) / 1000).toFixed(1)} s`);
            expect(rows.filter((r) => !r.ok), `round ${round + 1}`).toEqual([]);
            expect(rows).toHaveLength(33);
        }
    }, STEP_TIMEOUT);

    it("9. a sentinel on each host reads Docker only through its proxy: a health flip on app-1 reaches a receiver the host can reach, and from inside the sentinel writes are refused", async () => {
        const signing = "seeded-remote-signing-5c1";
        const receiver = new Receiver();
        // On this machine's end of app-1's link: app-1 reaches it directly, app-2 through this machine.
        const hookUrl = `${await receiver.start(host.gateway)}/hook/remote`;
        try {
            for (const [key, value] of [["opsHookUrl", hookUrl], ["opsHookSigning", signing]]) {
                const set = await execa("pulumi", ["config", "set", "--secret", key, "--stack", STACK], { cwd: ws.dir, env: env(), input: value, reject: false });
                expect(set.exitCode, set.stderr).toBe(0);
            }
            await ws.editStack(STACK, (doc) => doc.setIn(["config", "agent-fleet:fleet", "channels"], doc.createNode({
                ops: { type: "webhook", urlSecret: "opsHookUrl", signingSecret: "opsHookSigning", minSeverity: "info", agents: ["scout"] },
            })));
            const up = await fleet("up", "--stack", STACK);
            expectOk(up, "fleet up with a channel (a sentinel per host)");
            for (const h of [host, host2]) {
                const [sentinel] = await h.docker.listContainers({ filters: { label: [`agent-fleet.stack=${STACK}`, "agent-fleet.role=sentinel"] } });
                const [proxy] = await h.docker.listContainers({ filters: { label: [`agent-fleet.stack=${STACK}`, "agent-fleet.role=sentinel-docker-proxy"] } });
                expect(sentinel?.Status, h.name).toMatch(/healthy/);
                expect(sentinel.Mounts.map((m) => m.Destination), h.name).not.toContain("/var/run/docker.sock");
                expect(proxy?.State, h.name).toBe("running");
            }
            // From inside app-1's sentinel: what it reads answers, what would write is refused, and nothing is made.
            const [sentinel] = await host.docker.listContainers({ filters: { label: [`agent-fleet.stack=${STACK}`, "agent-fleet.role=sentinel"] } });
            const scout = (await remoteContainers(host)).find((c) => c.Labels["agent-fleet.agent"] === "scout")!;
            const inside = async (container: string, script: string) => (await execa("docker", ["-H", `unix://${host.dir}/docker.sock`, "exec", container, "node", "-e", script])).stdout;
            const before = (await host.docker.listContainers({ all: true })).length;
            const statuses = JSON.parse(await inside(sentinel.Id, `
                const calls = [["events", "GET", "/v1.41/events"], ["inspect", "GET", "/v1.41/containers/${scout.Id}/json"], ["list", "GET", "/v1.41/containers/json"],
                    ["create", "POST", "/v1.41/containers/create", '{"Image":"agent-fleet/sample-agent:dev"}'], ["exec", "POST", "/v1.41/containers/${scout.Id}/exec", '{"Cmd":["sh"]}']];
                (async () => { const out = {}; for (const [n, m, p, b] of calls) { const r = await fetch("http://docker-api:2375" + p, { method: m, body: b, headers: b ? { "content-type": "application/json" } : {}, signal: AbortSignal.timeout(3000) });
                    out[n] = r.status; if (n === "events") r.body.cancel(); else await r.text(); } console.log(JSON.stringify(out)); })();`)) as Record<string, number>;
            expect(statuses).toEqual({ events: 200, inspect: 200, list: 200, create: 403, exec: 403 });
            expect((await host.docker.listContainers({ all: true })).length).toBe(before);
            // A health flip of scout on app-1: its host's sentinel reports it, signed, and then its recovery. Asked on the host,
            // at the port scout publishes on its loopback (a second node inside the agent's container could meet its memory limit).
            const port = scout.Ports.find((p) => p.PrivatePort === 8080 && p.PublicPort)!.PublicPort;
            const onHost = async (what: "fail" | "recover") => {
                const run = await client.run(host.name, `${process.execPath} -e "fetch('http://127.0.0.1:${port}/admin/health/${what}', { method: 'POST' }).then((r) => console.log(r.status))"`);
                expect(run.stdout.trim(), run.stderr).toBe("200");
            };
            receiver.received.length = 0;
            await onHost("fail");
            const fromSentinel = () => receiver.received.map((r) => ({ ...(JSON.parse(r.body) as { source: string; event: string; agent: string }), ok: verifySignature(signing, r.body, { signature: String(r.headers["x-agent-fleet-signature"]), timestamp: String(r.headers["x-agent-fleet-timestamp"]) }).ok }))
                .filter((n) => n.source === "sentinel");
            const failed = await until("app-1's sentinel to report scout's health.failed", () => fromSentinel().find((n) => n.event === "health.failed" && n.agent === "scout"), 60_000, 500);
            expect(failed.ok).toBe(true);
            await onHost("recover");
            await until("scout's health.recovered", () => fromSentinel().find((n) => n.event === "health.recovered" && n.agent === "scout"), 60_000, 500);
            expect(JSON.stringify(receiver.received)).not.toContain(signing);
        } finally {
            await receiver.stop();
        }
    }, STEP_TIMEOUT);

    it("10. the edge on each host: exposed agents answer over HTTPS through their own host's edge, which routes to that host's containers only; `fleet verify` asks each edge", async () => {
        await ws.editStack(STACK, (doc) => {
            // The namespaces' own 80 and 443: each host's edge listens on its address, as a server's would.
            doc.setIn(["config", "agent-fleet:fleet", "edge"], doc.createNode({ hostname: "agents.remote.test" }));
            doc.setIn(["config", "agent-fleet:fleet", "agents", "jarvis", "expose"], "jarvis.remote.test");
            doc.setIn(["config", "agent-fleet:fleet", "agents", "scout", "expose"], "/api/agents/scout");
        });
        const up = await fleet("up", "--stack", STACK);
        expectOk(up, "fleet up with the edge");
        /** One HTTPS request to a host's edge, as a client of `hostname` sends it (the chain is fleet verify's to check). */
        const ask = (on: RemoteHost, hostname: string, pathname: string) => new Promise<{ status: number; agent?: string }>((resolve, reject) => {
            https.get({ host: on.address, port: 443, servername: hostname, headers: { host: hostname }, path: pathname, rejectUnauthorized: false, agent: false }, (res) => {
                res.resume();
                res.on("end", () => resolve({ status: res.statusCode ?? 0, agent: res.headers["x-agent-fleet-agent"] as string | undefined }));
            }).on("error", reject);
        });
        // jarvis runs on both hosts and answers at each; scout runs on app-1 only, so app-2's edge has no route for it.
        expect(await ask(host, "jarvis.remote.test", "/health")).toEqual({ status: 200, agent: "jarvis" });
        expect(await ask(host2, "jarvis.remote.test", "/health")).toEqual({ status: 200, agent: "jarvis" });
        expect(await ask(host, "agents.remote.test", "/api/agents/scout/health")).toEqual({ status: 200, agent: "scout" });
        expect(await ask(host2, "agents.remote.test", "/api/agents/scout/health")).toEqual({ status: 404 });
        const rowsOf = (stdout: string) => (JSON.parse(stdout) as { agents: { agent: string; host: string; container: string; ok: boolean; health: string }[] }).agents
            .filter((r) => r.container.startsWith("edge ")).map((r) => `${r.agent}@${r.host}: ${r.ok ? "ok" : r.health}`);
        const verify = await fleet("verify", "--stack", STACK, "--json");
        expect(verify.exitCode, verify.stdout + verify.stderr).toBe(0);
        expect(rowsOf(verify.stdout)).toEqual(["jarvis@app-1: ok", "jarvis@app-2: ok", "scout@app-1: ok"]);
        // app-2's jarvis stopped: app-2's edge has nobody to send jarvis's requests to, app-1's still does.
        const [jarvis2] = (await remoteContainers(host2)).filter((c) => c.Labels["agent-fleet.agent"] === "jarvis");
        await host2.docker.getContainer(jarvis2.Id).stop({ t: 1 });
        try {
            expect((await ask(host2, "jarvis.remote.test", "/health")).status).toBe(502);
            expect(await ask(host, "jarvis.remote.test", "/health")).toEqual({ status: 200, agent: "jarvis" });
            const down = await fleet("verify", "--stack", STACK, "--json");
            expect(down.exitCode).toBe(1);
            expect(rowsOf(down.stdout)).toEqual([
                "jarvis@app-1: ok",
                expect.stringMatching(/^jarvis@app-2: through the edge: GET https:\/\/jarvis\.remote\.test\/health answered 502 from the edge itself, expected 200 from jarvis$/),
                "scout@app-1: ok",
            ]);
        } finally {
            await host2.docker.getContainer(jarvis2.Id).start();
        }
    }, STEP_TIMEOUT);

    it("11. `pulumi destroy` leaves nothing of the stack on either host", async () => {
        const destroy = await execa("pulumi", ["destroy", "--yes", "--skip-preview", "--run-program", "--stack", STACK, "--non-interactive"], { cwd: ws.dir, env: env(), reject: false });
        expect(destroy.exitCode, destroy.stdout.slice(-3000) + destroy.stderr).toBe(0);
        for (const h of [host, host2]) {
            expect(await remoteContainers(h), h.name).toEqual([]);
            expect(await h.docker.listNetworks({ filters: { label: [`agent-fleet.stack=${STACK}`] } }), h.name).toEqual([]);
        }
    }, STEP_TIMEOUT);
});
