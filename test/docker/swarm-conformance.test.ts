/**
 * The swarm runtime's update and rollback parameters, handed to Docker
 * itself through the Engine API (dockerode) on a single-node swarm. The
 * parameters come from the component's own args under mocks, never retyped,
 * so this holds without the Pulumi engine build: Swarm must accept them as
 * given, roll a good release start-first with no failed probe, and roll a
 * release that never turns healthy back by itself, in time, while the old
 * task serves every probe. test/e2e/swarm.test.ts runs the same through
 * `pulumi up`.
 */
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_LABEL, buildSampleAgentImage, dockerClient, requireDocker } from "../support/docker";
import { until } from "../support/sentinel";
import { Probe, SWARM_TURN_MS, engineServiceSpec, ensureSwarm, ns, swarmServiceInputs } from "../support/swarm";

const HEALTHCHECK = { interval: "2s", timeout: "2s", retries: 2, startPeriod: "1s" };
const AGENT = "conformance-agent";

interface ServiceState {
    readonly version: number;
    readonly spec: Record<string, any>;
    readonly updateStatus?: { State?: string; StartedAt?: string; CompletedAt?: string };
}

async function inspect(service: Docker.Service): Promise<ServiceState> {
    const info = await service.inspect() as { Version: { Index: number }; Spec: Record<string, any>; UpdateStatus?: ServiceState["updateStatus"] };
    return { version: info.Version.Index, spec: info.Spec, updateStatus: info.UpdateStatus };
}

async function runningTaskIds(docker: Docker, serviceId: string): Promise<string[]> {
    const tasks = await docker.listTasks({ filters: { service: [serviceId], "desired-state": ["running"] } }) as { ID: string; Status: { State: string } }[];
    return tasks.filter((t) => t.Status.State === "running").map((t) => t.ID).sort();
}

describe.sequential("the swarm runtime's update and rollback parameters, on Docker itself", () => {
    const docker = dockerClient();
    let leaveSwarm: () => Promise<void> = async () => undefined;
    let inputs: Record<string, any>;
    let image: string;
    let network: Docker.Network;
    let service: Docker.Service;
    let serviceId: string;
    let env: string[];

    const updateEnv = async (extra: string[]) => {
        const { version, spec } = await inspect(service);
        env = [...env.filter((e) => !e.startsWith("RELEASE=") && !e.startsWith("FAIL_HEALTH=")), ...extra];
        spec.TaskTemplate.ContainerSpec.Env = env;
        await service.update({ ...spec, version } as unknown as Docker.ServiceSpec);
    };
    const settled = (states: string[]) => until(`the update to end in ${states.join(" or ")}`, async () => {
        const state = await inspect(service);
        return states.includes(state.updateStatus?.State ?? "") ? state : undefined;
    }, 120_000, 500);

    beforeAll(async () => {
        await requireDocker();
        inputs = await swarmServiceInputs(AGENT, { healthcheck: HEALTHCHECK });
        image = await buildSampleAgentImage();
        leaveSwarm = await ensureSwarm(docker);
        network = await docker.createNetwork({ Name: `conformance-${Date.now()}`, Driver: "overlay", Attachable: true, Labels: { [TEST_LABEL]: "swarm-conformance" } });
        env = ["RELEASE=1"];
        const created = await docker.createService(engineServiceSpec(inputs, image, network.id, env)) as { id?: string; ID?: string };
        serviceId = created.id ?? created.ID!;
        service = docker.getService(serviceId);
        await until("the first task to run healthy", async () => ((await runningTaskIds(docker, serviceId)).length === 1 ? true : undefined), 60_000, 500);
    }, SWARM_TURN_MS + 180_000);

    afterAll(async () => {
        await service?.remove().catch(() => undefined);
        // Tasks leave the network a moment after their service goes.
        if (network) await until("the conformance network to be removable", async () => (await network.remove().then(() => true, () => undefined)), 30_000, 500).catch(() => undefined);
        await leaveSwarm();
    }, 60_000);

    it("Swarm keeps every update and rollback parameter exactly as the component sets it", async () => {
        const { spec } = await inspect(service);
        // The Engine API leaves a zero Delay out of what it returns.
        const sent = engineServiceSpec(inputs, image, network.id, env) as unknown as Record<string, Record<string, unknown>>;
        expect({ Delay: 0, ...spec.UpdateConfig }).toEqual(sent.UpdateConfig);
        expect({ Delay: 0, ...spec.RollbackConfig }).toEqual(sent.RollbackConfig);
        expect(sent.UpdateConfig).toMatchObject({ Parallelism: 1, Delay: 0, Order: "start-first", FailureAction: "rollback", MaxFailureRatio: 0 });
        // The watch covers the time a task needs to be declared unhealthy: startPeriod + interval × retries.
        expect(spec.UpdateConfig.Monitor).toBeGreaterThanOrEqual(ns(HEALTHCHECK.startPeriod) + ns(HEALTHCHECK.interval) * HEALTHCHECK.retries);
        expect(spec.EndpointSpec).toMatchObject({ Mode: "dnsrr", Ports: [{ TargetPort: 8080, PublishMode: "host", Protocol: "tcp" }] });
    });

    it("rolls a good release start-first: the agent's name answers every probe", async () => {
        const before = await runningTaskIds(docker, serviceId);
        const probe = await Probe.start(network.id, `http://${AGENT}:8080/health`);
        await new Promise((r) => setTimeout(r, 1_500));
        await updateEnv(["RELEASE=2"]);
        await settled(["completed"]);
        await new Promise((r) => setTimeout(r, 1_500));
        const counts = await probe.stop();
        expect(counts.failed, JSON.stringify(counts, null, 1)).toBe(0);
        expect(counts.ok).toBeGreaterThan(20);
        const after = await runningTaskIds(docker, serviceId);
        expect(after).toHaveLength(1);
        expect(after).not.toEqual(before);
    }, 180_000);

    it("rolls a release that never turns healthy back by itself within startPeriod + interval × retries + 10 s; the old task serves every probe", async () => {
        const before = await runningTaskIds(docker, serviceId);
        const probe = await Probe.start(network.id, `http://${AGENT}:8080/health`);
        await new Promise((r) => setTimeout(r, 1_500));
        await updateEnv(["RELEASE=3", "FAIL_HEALTH=1"]);
        const state = await settled(["rollback_completed", "rollback_paused", "paused"]);
        await new Promise((r) => setTimeout(r, 1_500));
        const counts = await probe.stop();
        expect(state.updateStatus?.State).toBe("rollback_completed");
        expect(counts.failed, JSON.stringify(counts, null, 1)).toBe(0);
        expect(counts.ok).toBeGreaterThan(20);
        // The task that served before serves still: start-first never stopped it.
        expect(await runningTaskIds(docker, serviceId)).toEqual(before);
        expect(state.spec.TaskTemplate.ContainerSpec.Env).not.toContain("FAIL_HEALTH=1");
        const rollbackMs = Date.parse(state.updateStatus!.CompletedAt!) - Date.parse(state.updateStatus!.StartedAt!);
        const boundMs = (ns(HEALTHCHECK.startPeriod) + ns(HEALTHCHECK.interval) * HEALTHCHECK.retries) / 1e6 + 10_000;
        expect(rollbackMs).toBeLessThanOrEqual(boundMs);
    }, 180_000);
});
