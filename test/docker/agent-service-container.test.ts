/**
 * Takes the container the AgentService component declares (captured under
 * Pulumi mocks, exactly as the engine would receive it) and runs it on the
 * real Docker engine: proves the default node probe works inside the image,
 * and that the non-root, read-only, tmpfs and limits settings let the agent run.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentService } from "../../components";

import { TestContainers, buildSampleAgentImage, dockerClient, requireDocker, waitForHealthStatus } from "../support/docker";
import { outputOf, settle, startMocks } from "../support/pulumi";
import { agentSpec } from "../support/specs";
import { durationMs } from "../../contract";

const containers = new TestContainers();
let image: string;

beforeAll(async () => {
    await requireDocker();
    image = await buildSampleAgentImage();
}, 180_000);

afterAll(async () => {
    await containers.removeAll();
});

/** Docker API durations are nanoseconds; the provider's are Go duration strings. */
const nanos = (goDuration: string) => durationMs(goDuration) * 1_000_000;

/** The provider's healthcheck fields as the Docker Engine API takes them. */
function engineHealthcheck(healthcheck: { tests: string[]; interval: string; timeout: string; retries: number; startPeriod: string }) {
    return {
        Test: healthcheck.tests,
        Interval: nanos(healthcheck.interval),
        Timeout: nanos(healthcheck.timeout),
        Retries: healthcheck.retries,
        StartPeriod: nanos(healthcheck.startPeriod),
    };
}

/** Declares one agent with the real component and returns the container inputs it registered. */
async function declaredContainer(fields: Record<string, unknown>) {
    const run = await startMocks("dev");
    const service = new AgentService("probe", { spec: agentSpec(fields, "dev"), networkName: "bridge" });
    await outputOf(service.instances);
    await settle();
    return run.byType("docker:index/container:Container")[0].inputs;
}

describe("AgentService container on a real engine", () => {
    it("turns healthy with the component's own probe, non-root on a read-only root, and serves its version and flags", async () => {
        const args = await declaredContainer({
            tier: 3,
            image: "agent-fleet/sample-agent:test",
            version: "9.9.9",
            memory: "128Mi",
            cpus: 0.5,
            healthcheck: { interval: "1s", timeout: "1s", retries: 2, startPeriod: "1s" },
            featureFlags: [{ name: "smart-followups", currentStage: "team" }],
        });
        const docker = dockerClient();
        const created = await docker.createContainer({
            Image: image,
            Env: args.envs,
            User: args.user,
            Labels: Object.fromEntries(args.labels.map((l: { label: string; value: string }) => [l.label, l.value])),
            StopSignal: args.stopSignal,
            StopTimeout: args.stopTimeout,
            ExposedPorts: { [`${args.ports[0].internal}/tcp`]: {} },
            Healthcheck: engineHealthcheck(args.healthcheck),
            HostConfig: {
                ReadonlyRootfs: args.readOnly,
                Tmpfs: args.tmpfs,
                Memory: args.memory * 1024 * 1024,
                NanoCpus: Number(args.cpus) * 1e9,
                RestartPolicy: { Name: args.restart, MaximumRetryCount: args.maxRetryCount },
                PortBindings: { [`${args.ports[0].internal}/tcp`]: [{ HostIp: args.ports[0].ip, HostPort: "" }] },
            },
        });
        containers.track(created.id);
        await created.start();

        await waitForHealthStatus(created, "healthy", { timeoutMs: 20_000 });
        const info = await created.inspect();
        expect(info.Config.User).toBe("1000:1000");
        expect(info.HostConfig.ReadonlyRootfs).toBe(true);
        const hostPort = info.NetworkSettings.Ports[`${args.ports[0].internal}/tcp`]![0].HostPort;
        const health = await (await fetch(`http://127.0.0.1:${hostPort}/health`)).json() as Record<string, unknown>;
        expect(health).toMatchObject({ status: "ok", agent: "pesti", version: "9.9.9" });
        const flags = await (await fetch(`http://127.0.0.1:${hostPort}/flags`)).json() as { flags: Record<string, string> };
        expect(flags.flags).toEqual({ "smart-followups": "team" });
    });

    it("reports unhealthy through the component's probe when the agent's health fails", async () => {
        const args = await declaredContainer({
            image: "agent-fleet/sample-agent:test",
            healthcheck: { interval: "1s", timeout: "1s", retries: 1, startPeriod: "1s" },
            env: { FAIL_HEALTH: "1" },
        });
        const created = await dockerClient().createContainer({
            Image: image,
            Env: args.envs,
            User: args.user,
            Healthcheck: engineHealthcheck(args.healthcheck),
            HostConfig: { ReadonlyRootfs: args.readOnly, Tmpfs: args.tmpfs },
        });
        containers.track(created.id);
        await created.start();
        await waitForHealthStatus(created, "unhealthy", { timeoutMs: 20_000 });
    });
});
