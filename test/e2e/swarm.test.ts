/**
 * The swarm runtime on the real Pulumi engine and a real single-node Docker
 * Swarm: a stack with `fleet.runtime: swarm` deploys two agents as services
 * running images by registry digest (a local `docker-registry`), then one
 * agent takes a good update and a bad one while a probe hits it by name on
 * the fleet network the whole time. Swarm rolls the bad one back by itself,
 * `pulumi up` fails, and no probe ever fails. The other agent is never touched.
 *
 * Skipped, saying why, without the engine build (see docs/contributing.md)
 * or Debian's docker-registry.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import Docker from "dockerode";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLLBACK_MONITOR_MS } from "../../components";

import { LABELS, durationMs } from "../../contract";
import { buildSampleAgentImage, dockerClient, requireDocker } from "../support/docker";
import { skipUnlessAvailable } from "../support/requirements";
import { until } from "../support/sentinel";
import { LocalRegistry, Probe, ProbeCounts, SWARM_TURN_MS, ensureSwarm, missingForSwarm } from "../support/swarm";
import { CommandResult, Workspace, expectOk, missingForDeployments, pulumiOnPath } from "./workspace";

const STEP_TIMEOUT = 600_000;
const STACK = "swarm";
const SEEDED_SECRET = "e2e-SEEDED-swarm-secret-c41e9a";
/** The agent that takes the updates; OTHER is never changed. */
const SUBJECT = "alpha";
const OTHER = "beta";
const HEALTHCHECK = { interval: "2s", timeout: "2s", retries: 2, startPeriod: "1s" };

const cli = pulumiOnPath();
const skip = skipUnlessAvailable("test/e2e/swarm", [...(cli ? missingForDeployments() : ["a `pulumi` CLI on PATH"]), ...missingForSwarm()]);

/** The stack file: two agents on the swarm, the subject with a secret. */
function stackFile(images: Record<string, string>): string {
    const agent = (name: string) => [
        `      ${name}:`,
        `        image: ${images[name]}`,
        ...(name === SUBJECT ? ["        secrets:", "          API_TOKEN: alphaToken"] : []),
    ];
    return [
        "config:",
        "  agent-fleet:fleet:",
        "    environment: dev",
        "    runtime: swarm",
        "    agentDefaults:",
        "      tier: 2",
        "      port: 8080",
        "      memory: 128Mi",
        // A fraction, so the provider's formatter is read back (step 2). Not 0.25: the healthcheck is a node process run in
        // the task's cgroup, and at 0.25 CPU one took up to 1.96 s here with the cores busy, against a 2 s timeout. And not
        // more than 0.5: Swarm reserves each task's limit, and a start-first update runs three tasks at once here (alpha's
        // old and new, and beta's) on 2 cores; at 1.5, beta could not even be placed beside alpha (it never converged).
        "      cpus: 0.5",
        `      healthcheck: ${JSON.stringify(HEALTHCHECK)}`,
        "      waitTimeout: 30s",
        "      monitorWindow: 5m",
        "    agents:",
        ...agent(SUBJECT),
        ...agent(OTHER),
        "",
    ].join("\n");
}

interface ServiceView {
    readonly id: string;
    readonly version: number;
    readonly image: string;
    readonly labels: Record<string, string>;
    readonly updateState?: string;
    readonly updateStarted?: string;
    readonly updateCompleted?: string;
    readonly spec: Docker.ServiceSpec;
}

/** The agent's service, found by its agent and stack labels. */
async function serviceOf(docker: Docker, agent: string): Promise<ServiceView> {
    const [service] = await docker.listServices({ filters: { label: [`${LABELS.agent}=${agent}`, `${LABELS.stack}=${STACK}`] } });
    if (!service) throw new Error(`no service for agent ${agent}`);
    const s = service as unknown as {
        ID: string; Version: { Index: number }; Spec: Docker.ServiceSpec & { Labels: Record<string, string>; TaskTemplate: { ContainerSpec: { Image: string } } };
        UpdateStatus?: { State?: string; StartedAt?: string; CompletedAt?: string };
    };
    return {
        id: s.ID, version: s.Version.Index, image: s.Spec.TaskTemplate.ContainerSpec.Image, labels: s.Spec.Labels, spec: s.Spec,
        updateState: s.UpdateStatus?.State, updateStarted: s.UpdateStatus?.StartedAt, updateCompleted: s.UpdateStatus?.CompletedAt,
    };
}

interface TaskView {
    readonly id: string;
    readonly state: string;
    readonly image: string;
    readonly containerId?: string;
}

async function runningTasks(docker: Docker, serviceId: string): Promise<TaskView[]> {
    const tasks = await docker.listTasks({ filters: { service: [serviceId], "desired-state": ["running"] } }) as {
        ID: string; Status: { State: string; ContainerStatus?: { ContainerID?: string } }; Spec: { ContainerSpec: { Image: string } };
    }[];
    return tasks.map((t) => ({ id: t.ID, state: t.Status.State, image: t.Spec.ContainerSpec.Image, containerId: t.Status.ContainerStatus?.ContainerID }));
}

describe.skipIf(skip).sequential(`the swarm runtime on the real engine (${cli})`, () => {
    const docker = dockerClient();
    let ws: Workspace;
    let registry: LocalRegistry;
    let leaveSwarm: () => Promise<void> = async () => undefined;
    let network: string;
    /** Registry digests: the first release, a good second one, and a broken one that never turns healthy. */
    const digests: Record<"v1" | "v2" | "broken", string> = { v1: "", v2: "", broken: "" };
    const tags: string[] = [];
    /** The other agent as it was after the first deploy. */
    let otherBefore: ServiceView;
    const otherTasksBefore: string[] = [];

    const pulumi = (...args: string[]) => ws.pulumiOn(STACK, ...args);
    const stackPath = () => path.join(ws.dir, "stacks", `Pulumi.${STACK}.yaml`);
    /** Points the subject at another release, as a release PR would. */
    const release = async (subjectImage: string) => {
        await ws.editStack(STACK, (doc) => doc.setIn(["config", "agent-fleet:fleet", "agents", SUBJECT, "image"], subjectImage));
    };
    const expectOtherUntouched = async () => {
        const other = await serviceOf(docker, OTHER);
        expect(other.version, `${OTHER}'s service spec version`).toBe(otherBefore.version);
        expect((await runningTasks(docker, other.id)).map((t) => t.id).sort()).toEqual(otherTasksBefore);
    };

    beforeAll(async () => {
        await requireDocker();
        leaveSwarm = await ensureSwarm(docker);
        registry = await LocalRegistry.start();
        const local = await buildSampleAgentImage();
        const broken = "agent-fleet/sample-agent:e2e-swarm-broken";
        await execa("docker", ["build", "-q", "-t", broken, "-"], { input: `FROM ${local}\nENV FAIL_HEALTH=1\n` });
        const repo = "agent-fleet/e2e-subject";
        digests.v1 = await registry.push(local, `${repo}:1.0.0`);
        // A second release: the same bits under a new label, so it has its own digest.
        await execa("docker", ["build", "-q", "-t", "agent-fleet/sample-agent:e2e-swarm-v2", "-"], { input: `FROM ${local}\nLABEL release=2\n` });
        digests.v2 = await registry.push("agent-fleet/sample-agent:e2e-swarm-v2", `${repo}:1.1.0`);
        digests.broken = await registry.push(broken, `${repo}:1.2.0`);
        await registry.push(local, "agent-fleet/e2e-other:1.0.0");
        tags.push(...["1.0.0", "1.1.0", "1.2.0"].map((t) => `${registry.address}/${repo}:${t}`), `${registry.address}/agent-fleet/e2e-other:1.0.0`);
        ws = await Workspace.create();
        await fs.writeFile(stackPath(), stackFile({ [SUBJECT]: `${registry.address}/${repo}:1.0.0`, [OTHER]: `${registry.address}/agent-fleet/e2e-other:1.0.0` }));
        expectOk(await ws.pulumiOn(STACK, "stack", "init", "--secrets-provider", "passphrase"), "pulumi stack init");
        expectOk(await ws.pulumiOn(STACK, "config", "set", "--secret", "alphaToken", SEEDED_SECRET), "pulumi config set --secret");
    }, SWARM_TURN_MS + STEP_TIMEOUT);

    afterAll(async () => {
        if (ws) {
            await pulumi("destroy", "--yes", "--skip-preview").catch(() => undefined);
            await ws.remove();
        }
        await registry?.stop();
        for (const tag of tags) await execa("docker", ["rmi", tag], { reject: false });
        await leaveSwarm();
    }, STEP_TIMEOUT);

    it("1. deploys both agents as services: every task runs the registry digest and turns healthy, the secret arrives as a file only", async () => {
        const up = await pulumi("up", "--yes", "--skip-preview");
        expectOk(up, "pulumi up");
        network = JSON.parse((await pulumi("stack", "output", "networkName", "--json")).stdout) as string;
        for (const agent of [SUBJECT, OTHER]) {
            const service = await serviceOf(docker, agent);
            expect(service.image, `${agent}'s image`).toMatch(/@sha256:[0-9a-f]{64}$/);
            const tasks = await runningTasks(docker, service.id);
            expect(tasks.map((t) => t.state)).toEqual(["running"]);
            const info = await docker.getContainer(tasks[0].containerId!).inspect();
            expect(info.State.Health?.Status).toBe("healthy");
        }
        expect((await serviceOf(docker, SUBJECT)).image).toBe(digests.v1);

        // The secret is a file the agent's user can read, and nowhere in the service's env.
        const subject = await serviceOf(docker, SUBJECT);
        const [task] = await runningTasks(docker, subject.id);
        const read = await execa("docker", ["exec", task.containerId!, "node", "-e", "process.stdout.write(require('fs').readFileSync(process.env.API_TOKEN_FILE, 'utf8'))"]);
        expect(read.stdout).toBe(SEEDED_SECRET);
        // The agent found it through API_TOKEN_FILE, and logged its name only.
        const logs = (await docker.getContainer(task.containerId!).logs({ stdout: true, stderr: true })).toString("utf8");
        expect(logs).toMatch(/"event":"startup".*"secretFiles":\["API_TOKEN"\]/);
        expect(logs).not.toContain(SEEDED_SECRET);
        expect(JSON.stringify(subject.spec)).not.toContain(SEEDED_SECRET);
        // Never in plain text in the state, or in anything the CLI printed.
        expect(await ws.stateText()).not.toContain(SEEDED_SECRET);
        expect(ws.transcript.join("\n")).not.toContain(SEEDED_SECRET);

        // `fleet verify` finds each agent's tasks through its service and checks each one.
        const verified = await ws.fleet("verify", "--stack", STACK, "--json");
        expectOk(verified, "fleet verify");
        const rows = (JSON.parse(verified.stdout) as { agents: { agent: string; container: string; ok: boolean; health: string }[] }).agents;
        expect(rows.map((r) => [r.agent, r.ok, r.health])).toEqual([[SUBJECT, true, "healthy"], [OTHER, true, "healthy"]]);
        expect(rows[0].container).toMatch(/^fleet-alpha-[0-9a-f]{7}\.1$/);

        otherBefore = await serviceOf(docker, OTHER);
        otherTasksBefore.push(...(await runningTasks(docker, otherBefore.id)).map((t) => t.id).sort());
    }, STEP_TIMEOUT);

    it("2. reads every field back as it was written: a refresh and a preview straight after change nothing", async () => {
        expectOk(await pulumi("preview", "--refresh", "--expect-no-changes", "--diff"), "pulumi preview --refresh --expect-no-changes");
        expectOk(await pulumi("preview", "--expect-no-changes"), "pulumi preview --expect-no-changes");
    }, STEP_TIMEOUT);

    /** Releases `image` to the subject with `pulumi up` while a probe asks for it by name, from 2 s before to 2 s after. */
    const releaseUnderProbe = async (image: string): Promise<{ up: CommandResult; counts: ProbeCounts }> => {
        await release(image);
        const probe = await Probe.start(network, `http://${SUBJECT}:8080/health`);
        await new Promise((r) => setTimeout(r, 2_000));
        const up = await pulumi("up", "--yes", "--skip-preview");
        await new Promise((r) => setTimeout(r, 2_000));
        return { up, counts: await probe.stop() };
    };

    it("3. rolls a good release start-first while a probe hits the agent by name: zero failed probes", async () => {
        const { up, counts: good } = await releaseUnderProbe(`${registry.address}/agent-fleet/e2e-subject:1.1.0`);
        expectOk(up, "pulumi up of a good release");
        console.log(`good update: ${JSON.stringify(good)}; pulumi up took ${(up.ms / 1000).toFixed(1)} s`);
        expect(good.failed, JSON.stringify(good, null, 1)).toBe(0);
        expect(good.ok).toBeGreaterThan(50);
        // Both versions answered: the handover happened under the probe.
        expect(Object.keys(good.versions).sort()).toEqual(["1.0.0", "1.1.0"]);
        const subject = await serviceOf(docker, SUBJECT);
        expect(subject.image).toBe(digests.v2);
        expect(subject.updateState).toBe("completed");
        await expectOtherUntouched();
    }, STEP_TIMEOUT);

    it("4. a release that never turns healthy: Swarm rolls it back by itself in time, `pulumi up` fails, the old version answers every probe", async () => {
        const { up, counts: bad } = await releaseUnderProbe(`${registry.address}/agent-fleet/e2e-subject:1.2.0`);
        console.log(`bad update: ${JSON.stringify(bad)}; pulumi up took ${(up.ms / 1000).toFixed(1)} s and exited ${up.exitCode}`);
        expect(up.exitCode).not.toBe(0);
        expect(up.stdout + up.stderr).toMatch(/rollback completed/);
        expect(bad.failed, JSON.stringify(bad, null, 1)).toBe(0);
        expect(bad.ok).toBeGreaterThan(50);
        expect(Object.keys(bad.versions)).toEqual(["1.1.0"]);

        const subject = await until("the rollback to finish", async () => {
            const s = await serviceOf(docker, SUBJECT);
            return s.updateState === "rollback_completed" ? s : undefined;
        }, 60_000);
        expect(subject.image).toBe(digests.v2);
        const tasks = await runningTasks(docker, subject.id);
        expect(tasks.map((t) => [t.state, t.image])).toEqual([["running", digests.v2]]);
        // From the update's start to Swarm's "rollback completed", within startPeriod + interval × retries + 10 s.
        const rollbackMs = Date.parse(subject.updateCompleted!) - Date.parse(subject.updateStarted!);
        const boundMs = durationMs(HEALTHCHECK.startPeriod) + durationMs(HEALTHCHECK.interval) * HEALTHCHECK.retries + 10_000;
        console.log(`rollback: ${rollbackMs} ms from update start to rollback completed; bound ${boundMs} ms (rollback watch ${ROLLBACK_MONITOR_MS} ms)`);
        expect(rollbackMs).toBeLessThanOrEqual(boundMs);
        await expectOtherUntouched();

        // `fleet verify` says so, against the release the config names.
        const verified = await ws.fleet("verify", "--stack", STACK, "--json");
        expect(verified.exitCode).toBe(1);
        const rows = (JSON.parse(verified.stdout) as { agents: { agent: string; ok: boolean; health: string }[] }).agents;
        expect(rows.find((r) => r.agent === SUBJECT)).toMatchObject({ ok: false, health: expect.stringMatching(/^swarm rolled back the update to .*e2e-subject:1\.2\.0 and runs .*e2e-subject:1\.1\.0/) });
        expect(rows.find((r) => r.agent === OTHER)).toMatchObject({ ok: true });
    }, STEP_TIMEOUT);

    it("5. recovers with `pulumi up --refresh` once the config names the good release again, and then changes nothing", async () => {
        await release(`${registry.address}/agent-fleet/e2e-subject:1.1.0`);
        expectOk(await pulumi("up", "--yes", "--skip-preview", "--refresh"), "pulumi up --refresh");
        expectOk(await pulumi("preview", "--expect-no-changes"), "pulumi preview --expect-no-changes after the rollback");
        expect((await serviceOf(docker, SUBJECT)).image).toBe(digests.v2);
        await expectOtherUntouched();
        expectOk(await ws.fleet("verify", "--stack", STACK), "fleet verify after the recovery");
    }, STEP_TIMEOUT);

    it("6. `fleet up` of a broken release on Swarm: the update fails, the agent is rolled back to its rollback image and verified, exit 1, and a probe by name never fails", async () => {
        const good = `${registry.address}/agent-fleet/e2e-subject:1.1.0`;
        const broken = `${registry.address}/agent-fleet/e2e-subject:1.2.0`;
        // The dev policy levels for this stack, as a repository would keep them next to its stack file.
        await fs.copyFile(path.join(ws.dir, "stacks", "policy.dev.json"), path.join(ws.dir, "stacks", `policy.${STACK}.json`));
        expectOk(await ws.fleet("release", SUBJECT, broken, "--stack", STACK), "fleet release (broken)");
        // A probe every 50 ms by the agent's stable name, from 2 s before the failed release to 2 s after its rollback.
        const probe = await Probe.start(network, `http://${SUBJECT}:8080/health`);
        await new Promise((r) => setTimeout(r, 2_000));
        const failed = await ws.fleet("up", "--stack", STACK, "--agent", SUBJECT, "--json");
        await new Promise((r) => setTimeout(r, 2_000));
        const counts = await probe.stop();
        console.log(`fleet up of a broken release on Swarm under the probe: ${JSON.stringify(counts)}`);
        expect(counts.failed, JSON.stringify(counts, null, 1)).toBe(0);
        expect(counts.ok).toBeGreaterThan(50);
        expect(Object.keys(counts.versions)).toEqual(["1.1.0"]);
        expect(failed.exitCode, failed.stderr.slice(-3000)).toBe(1);
        const json = JSON.parse(failed.stdout) as { ok: boolean; agents: { agent: string; update: string; rollback?: unknown; ok: boolean }[] };
        // No `fleet up` verified this agent before (plain `pulumi up`s deployed it), so its tier's rollback applies: rollbackImage.
        expect(json.agents).toEqual([{ agent: SUBJECT, update: "failed", verify: expect.any(String), rollback: { outcome: "rolled back and verified", to: good }, ok: false }]);
        expect(await ws.agentSpecOf(STACK, SUBJECT)).toMatchObject({ image: good, rollbackImage: broken });
        expect((await serviceOf(docker, SUBJECT)).image).toBe(digests.v2);
        await expectOtherUntouched();
        console.log(`fleet up with a broken release on Swarm: failed, rolled back and verified in ${(failed.ms / 1000).toFixed(1)} s`);
    }, STEP_TIMEOUT);
});
