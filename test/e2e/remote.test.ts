/**
 * The fleet on a server, on the real engine: a stack ("remote", dev's file) whose `docker:host` is
 * `ssh://app-1`, a host of the test's own (a network namespace with its own
 * dockerd and sshd, test/support/remote-host.ts). Every verb reaches the
 * agents where they run, through the same ssh and the same trust as the
 * deploy, never through this machine's loopback:
 * 1. `fleet up` deploys and verifies there; nothing of the stack runs here.
 * 2. A decoy answering 200 on this machine's copy of every port the agents
 *    got receives nothing, and an agent that really is down fails verify.
 * 3. A host presenting another key is refused by every verb and by
 *    `pulumi up`, naming the host.
 */
import { promises as fs } from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerClient, requireDocker, NODE_BASE_IMAGE } from "../support/docker";
import { HOST_PORT_RANGE, RemoteHost, SshClient, remoteHostsUnavailable } from "../support/remote-host";
import { skipUnlessAvailable } from "../support/requirements";
import { until } from "../support/sentinel";
import { Workspace, expectOk, missingForDeployments, provideDefaultNodeImage, pulumiOnPath } from "./workspace";

const STEP_TIMEOUT = 600_000;
/** A stack of its own (dev's file, copied): the dev suite runs its own dev stack on this machine's engine at the same time. */
const STACK = "remote";
const cli = pulumiOnPath();
const hostsMissing = remoteHostsUnavailable();
const skip = skipUnlessAvailable("test/e2e/remote", [...(cli ? missingForDeployments() : ["a `pulumi` CLI on PATH"]), ...(hostsMissing ? [hostsMissing] : [])]);

describe.skipIf(skip).sequential(`the fleet on a server over ssh:// (${cli})`, () => {
    let client: SshClient;
    let host: RemoteHost;
    let ws: Workspace;
    const env = () => ({ ...ws.env, ...client.env() });
    const fleet = async (...args: string[]) => {
        const result = await execa(process.execPath, [path.join(ws.dir, "cli", "fleet.js"), ...args], { cwd: ws.dir, env: env(), reject: false });
        return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr, ms: 0 };
    };
    const findingsOf = (stdout: string) => (JSON.parse(stdout) as { findings: { check: string; ok: boolean; detail: string; fix?: string }[] }).findings;
    const remoteContainers = async () => (await host.docker.listContainers({ all: true, filters: { label: [`agent-fleet.stack=${STACK}`] } }));

    beforeAll(async () => {
        await requireDocker();
        await provideDefaultNodeImage();
        client = await SshClient.create();
        host = await RemoteHost.start({ name: "app-1", client });
        // The host builds the agents' image itself (the provider sends the context over ssh), on the base image it has.
        await host.loadImages(NODE_BASE_IMAGE, "node:20-alpine");
        ws = await Workspace.create();
        await fs.copyFile(path.join(ws.dir, "stacks", "Pulumi.dev.yaml"), path.join(ws.dir, "stacks", `Pulumi.${STACK}.yaml`));
        await fs.copyFile(path.join(ws.dir, "stacks", "policy.dev.json"), path.join(ws.dir, "stacks", `policy.${STACK}.json`));
        await ws.editStack(STACK, (doc) => {
            doc.setIn(["config", "docker:host"], host.dockerHost);
            doc.setIn(["config", "agent-fleet:fleet", "agents"], doc.createNode({ jarvis: {}, pesti: { featureFlags: [{ name: "smart-followups", currentStage: "team" }] } }));
        });
    }, STEP_TIMEOUT);

    afterAll(async () => {
        if (ws) {
            await execa("pulumi", ["destroy", "--yes", "--skip-preview", "--stack", STACK, "--non-interactive"], { cwd: ws.dir, env: env(), reject: false });
            await ws.remove();
        }
        await host?.stop();
        await client?.remove();
    }, STEP_TIMEOUT);

    it("1. `fleet up` deploys and verifies the agents on the host; nothing of the stack runs on this machine", async () => {
        const up = await fleet("up", "--stack", STACK, "--create-stack");
        expectOk(up, "fleet up on ssh://app-1");
        expect(up.stdout).toMatch(/fleet up: stack remote deployed and verified in [\d.]+ s\./);
        const there = await remoteContainers();
        expect(there.map((c) => c.Labels["agent-fleet.agent"]).sort()).toEqual(["jarvis", "pesti"]);
        expect(there.every((c) => c.State === "running")).toBe(true);
        expect(await dockerClient().listContainers({ all: true, filters: { label: [`agent-fleet.stack=${STACK}`] } })).toEqual([]);
    }, STEP_TIMEOUT);

    it("2. verify checks the real containers through the host: a decoy on this machine's ports gets nothing, and a stopped agent fails", async () => {
        let decoyHits = 0;
        const decoys: http.Server[] = [];
        try {
            for (const container of await remoteContainers()) {
                for (const port of container.Ports.filter((p) => p.PublicPort)) {
                    expect(port.PublicPort).toBeGreaterThanOrEqual(HOST_PORT_RANGE[0]);
                    expect(port.PublicPort).toBeLessThanOrEqual(HOST_PORT_RANGE[1]);
                    const decoy = http.createServer((_, res) => void (decoyHits++, res.end("{\"status\":\"ok\"}")));
                    await new Promise<void>((resolve) => decoy.listen(port.PublicPort, "127.0.0.1", resolve));
                    decoys.push(decoy);
                }
            }
            expect(decoys.length).toBe(2);
            const passing = await fleet("verify", "--stack", STACK, "--json");
            expect(passing.exitCode, passing.stderr).toBe(0);
            const jarvis = (await remoteContainers()).find((c) => c.Labels["agent-fleet.agent"] === "jarvis")!;
            await host.docker.getContainer(jarvis.Id).stop();
            const failing = await fleet("verify", "--stack", STACK, "--json");
            expect(failing.exitCode).toBe(1);
            const rows = (JSON.parse(failing.stdout) as { agents: { agent: string; ok: boolean; health: string }[] }).agents;
            expect(rows.find((r) => r.agent === "jarvis")).toMatchObject({ ok: false, health: expect.stringMatching(/^not running/) });
            expect(rows.find((r) => r.agent === "pesti")).toMatchObject({ ok: true });
            expect(decoyHits).toBe(0);
            await host.docker.getContainer(jarvis.Id).start();
            await until("jarvis to be healthy again", async () => ((await host.docker.getContainer(jarvis.Id).inspect()).State.Health?.Status === "healthy" ? true : undefined), 60_000, 500);
        } finally {
            for (const decoy of decoys) decoy.close();
        }
    }, STEP_TIMEOUT);

    it("3. a host presenting another key is refused by every verb and by `pulumi up`, naming the host", async () => {
        const stranger = (await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(client.dir, "stranger"), "-C", "stranger"]), await import("node:fs/promises"))
            .readFile(path.join(client.dir, "stranger.pub"), "utf8");
        try {
            await client.pin(host.address, (await stranger).split(" ").slice(0, 2).join(" "));
            const verify = await fleet("verify", "--stack", STACK);
            expect(verify.exitCode).not.toBe(0);
            expect(verify.stdout + verify.stderr).toMatch(/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);
            const doctor = await fleet("doctor", "--stack", STACK, "--json");
            expect(findingsOf(doctor.stdout).find((f) => f.check === "host")).toMatchObject({
                ok: false, detail: "app-1 presents a host key other than the one known_hosts pins for it", fix: expect.stringContaining("out of band"),
            });
            const up = await execa("pulumi", ["up", "--yes", "--skip-preview", "--stack", STACK, "--non-interactive", "--refresh"], { cwd: ws.dir, env: env(), reject: false });
            expect(up.exitCode).not.toBe(0);
            expect(up.stdout + up.stderr).toMatch(/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);
        } finally {
            await client.pin(host.address, host.hostKey);
        }
        const again = await fleet("verify", "--stack", STACK);
        expect(again.exitCode, again.stdout + again.stderr).toBe(0);
    }, STEP_TIMEOUT);

    it("4. `fleet doctor` checks the host over ssh: its key, its Docker socket group, its free disk and its engine", async () => {
        const doctor = await fleet("doctor", "--stack", STACK, "--json");
        const findings = findingsOf(doctor.stdout);
        const dataRoot = (await host.docker.info() as { DockerRootDir: string }).DockerRootDir;
        expect(findings.find((f) => f.check === "host")).toMatchObject({
            ok: true, detail: expect.stringMatching(new RegExp(`^ssh://app-1: ssh ok \\(host key as pinned\\), Docker socket group \\d+, [\\d.]+ GiB free under ${dataRoot}$`)),
        });
        expect(findings.find((f) => f.check === "docker")).toMatchObject({ ok: true, detail: expect.stringMatching(/^engine \S+ \(API \S+\) at ssh:\/\/app-1$/) });
    }, STEP_TIMEOUT);

    it("5. a host whose sshd is down is named by doctor and verify, and the next verify passes once it is back", async () => {
        await host.stopSsh();
        try {
            const doctor = await fleet("doctor", "--stack", STACK, "--json");
            expect(findingsOf(doctor.stdout).find((f) => f.check === "host")).toMatchObject({ ok: false, detail: expect.stringMatching(/^app-1 cannot be reached over ssh: .*Connection refused/) });
            const verify = await fleet("verify", "--stack", STACK);
            expect(verify.exitCode).toBe(1);
            expect(verify.stdout).toMatch(/no Docker engine answers at ssh:\/\/app-1 \(ssh app-1: .*Connection refused/);
        } finally {
            await host.startSsh(client);
        }
        const again = await fleet("verify", "--stack", STACK);
        expect(again.exitCode, again.stdout + again.stderr).toBe(0);
    }, STEP_TIMEOUT);

    it("6. releases on the host: a good one through `fleet up --agent`, a broken one rolled back by itself, the other agent untouched", async () => {
        // Pulled releases as staging and production run them, already on the host (it has no registry here): a good one and a broken one.
        const built = "agent-fleet/sample-agent:dev";
        await host.docker.getImage(built).tag({ repo: "agent-fleet/sample-agent", tag: "release-1.1.0" });
        await execa("docker", ["-H", `unix://${host.dir}/docker.sock`, "build", "-q", "-t", "agent-fleet/sample-agent:release-1.2.0", "-"], { input: "FROM agent-fleet/sample-agent:release-1.1.0\nENV FAIL_HEALTH=1\n" });
        const idOf = async (agent: string) => (await remoteContainers()).find((c) => c.Labels["agent-fleet.agent"] === agent && c.State === "running")?.Id;
        const pesti = await idOf("pesti");

        expectOk(await fleet("release", "jarvis", "agent-fleet/sample-agent:release-1.1.0", "--stack", STACK), "fleet release (good)");
        const started = performance.now();
        const good = await fleet("up", "--stack", STACK, "--agent", "jarvis");
        const goodMs = performance.now() - started;
        expectOk(good, "fleet up --agent jarvis (good release) on ssh://app-1");
        expect(good.stdout).toMatch(/^jarvis +replaced +ok +-$/m);
        const serving = await idOf("jarvis");

        expectOk(await fleet("release", "jarvis", "agent-fleet/sample-agent:release-1.2.0", "--stack", STACK), "fleet release (broken)");
        const brokenStarted = performance.now();
        const broken = await fleet("up", "--stack", STACK, "--agent", "jarvis");
        const mttrMs = performance.now() - brokenStarted;
        expect(broken.exitCode, broken.stdout + broken.stderr).toBe(1);
        expect(broken.stdout).toMatch(/rolled back and verified/);
        // The container that served the good release still serves; the other agent never moved.
        expect(await idOf("jarvis")).toBe(serving);
        expect(await idOf("pesti")).toBe(pesti);
        const verify = await fleet("verify", "--stack", STACK);
        expect(verify.exitCode, verify.stdout).toBe(0);
        console.info(`e2e: on ssh://app-1, fleet up --agent jarvis (good release) took ${(goodMs / 1000).toFixed(1)} s; a broken release failed, rolled back and verified in ${(mttrMs / 1000).toFixed(1)} s`);
    }, STEP_TIMEOUT);

    it("7. thirty containers on one host verify with 0 spurious failures: every request of a command shares one SSH connection", async () => {
        const workers = Array.from({ length: 28 }, (_, i) => `worker-${String(i + 1).padStart(2, "0")}`);
        await ws.editStack(STACK, (doc) => {
            for (const name of workers) doc.setIn(["config", "agent-fleet:fleet", "agents", name], doc.createNode({ tier: 1, owner: "@acme/e2e", port: 8080, memory: "64Mi" }));
        });
        const up = await fleet("up", "--stack", STACK);
        expectOk(up, "fleet up of 30 agents on ssh://app-1");
        expect((await remoteContainers()).length).toBe(30);
        for (let round = 0; round < 3; round++) {
            const started = performance.now();
            const logins = await host.sshLogins();
            const verify = await fleet("verify", "--stack", STACK, "--json");
            // 30 inspects and 30 smoke checks (and more), all channels of one login.
            expect(await host.sshLogins() - logins, `round ${round + 1}: SSH logins`).toBe(1);
            const rows = (JSON.parse(verify.stdout) as { agents: { agent: string; ok: boolean; health: string }[] }).agents;
            console.info(`e2e: fleet verify of 30 agents on ssh://app-1 took ${((performance.now() - started) / 1000).toFixed(1)} s`);
            expect(rows.filter((r) => !r.ok), `round ${round + 1}`).toEqual([]);
            expect(rows).toHaveLength(30);
        }
    }, STEP_TIMEOUT);
});
