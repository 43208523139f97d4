/**
 * The swarm runtime across two hosts: a second Docker engine, with its own
 * data root, in a network namespace of the test's own (a veth pair), joins
 * this engine's swarm as a worker. A TLS registry (Debian's docker-registry)
 * on the test's own address serves both nodes the agent's image by digest.
 * A two-replica agent, with the service args the component declares under
 * mocks, puts one task on each node; stopping the worker's daemon makes
 * Swarm reschedule its task on the manager while the manager's task answers
 * every probe. Everything the test made is removed afterwards.
 *
 * It changes host networking and trusts its registry's certificate under
 * /etc/docker/certs.d, so it runs only where that is wanted: in CI (CI=true)
 * or with AGENT_FLEET_MULTINODE=1, as root, on an engine not already in a swarm.
 */
import { spawn, spawnSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSampleAgentImage, dockerClient, execsSince, requireDocker } from "../support/docker";
import { skipUnlessAvailable } from "../support/requirements";
import { until } from "../support/sentinel";
import { LocalRegistry, SWARM_TURN_MS, engineServiceSpec, lockSwarm, swarmServiceInputs } from "../support/swarm";
import { loadRoutes } from "../../components/edge/routes";

const AGENT = "spread-agent";
const HEALTHCHECK = { interval: "2s", timeout: "2s", retries: 2, startPeriod: "1s" };
/** The test's own link between the two hosts. */
const SUBNET = "10.231.77";
const MANAGER_IP = `${SUBNET}.1`;
const WORKER_IP = `${SUBNET}.2`;
const NETNS = "agent-fleet-worker";
const VETH_HOST = "afleet-mgr0";
const VETH_WORKER = "afleet-wkr0";

function whyNot(): string | undefined {
    if (process.env.CI !== "true" && process.env.AGENT_FLEET_MULTINODE !== "1") return "it changes host networking: set AGENT_FLEET_MULTINODE=1 (CI=true does too)";
    if (process.getuid?.() !== 0) return "it needs root (network namespaces, a second dockerd)";
    for (const [tool, args] of [["ip", ["-V"]], ["dockerd", ["--version"]], ["docker-registry", ["--version"]], ["openssl", ["version"]], ["nsenter", ["--version"]]] as const) {
        if (spawnSync(tool, [...args]).status !== 0) return `${tool} is missing (apt-get install iproute2 docker.io docker-registry openssl util-linux)`;
    }
    return undefined;
}

const whyNotHere = whyNot();
const skip = skipUnlessAvailable("test/docker/swarm-multinode", whyNotHere ? [whyNotHere] : []);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skip).sequential("the swarm runtime across two nodes", () => {
    const manager = dockerClient();
    const dir = path.join(os.tmpdir(), `agent-fleet-worker-${process.pid}`);
    const workerSocket = path.join(dir, "docker.sock");
    const worker = new Docker({ socketPath: workerSocket });
    const undo: (() => Promise<unknown>)[] = [];
    let imageDigestRef = "";
    let service: Docker.Service;
    let workerPid = 0;
    const nodeIds = { manager: "", worker: "" };

    const ip = (...args: string[]) => execa("ip", args);
    const tasksByNode = async () => {
        const tasks = await manager.listTasks({ filters: { service: [AGENT], "desired-state": ["running"] } }) as { ID: string; NodeID: string; Status: { State: string } }[];
        return tasks.filter((t) => t.Status.State === "running").map((t) => ({ id: t.ID, node: t.NodeID }));
    };

    beforeAll(async () => {
        await requireDocker();
        const unlock = await lockSwarm();
        undo.push(unlock);
        const swarm = (await manager.info() as { Swarm?: { LocalNodeState?: string } }).Swarm?.LocalNodeState;
        if (swarm === "active") throw new Error("this engine is already in a swarm; the multi-node test builds its own (docker swarm leave first)");
        const inputs = await swarmServiceInputs(AGENT, { healthcheck: HEALTHCHECK, replicas: 2 });
        const image = await buildSampleAgentImage();
        await fs.mkdir(dir, { recursive: true });

        // The second host: a network namespace joined to this one by a veth pair. Holding the swarm lock, the test
        // owns these names: what is there now a killed run left behind.
        await execa("ip", ["netns", "del", NETNS], { reject: false });
        await execa("ip", ["link", "del", VETH_HOST], { reject: false });
        await ip("netns", "add", NETNS);
        undo.push(() => ip("netns", "del", NETNS));
        await ip("link", "add", VETH_HOST, "type", "veth", "peer", "name", VETH_WORKER);
        undo.push(() => ip("link", "del", VETH_HOST).catch(() => undefined));
        await ip("link", "set", VETH_WORKER, "netns", NETNS);
        await ip("addr", "add", `${MANAGER_IP}/24`, "dev", VETH_HOST);
        await ip("link", "set", VETH_HOST, "up");
        await ip("-n", NETNS, "addr", "add", `${WORKER_IP}/24`, "dev", VETH_WORKER);
        await ip("-n", NETNS, "link", "set", VETH_WORKER, "up");
        await ip("-n", NETNS, "link", "set", "lo", "up");

        // Its Docker engine. nsenter, not `ip netns exec`: that remounts /sys and hides the cgroups dockerd needs.
        const daemon = spawn("nsenter", [`--net=/var/run/netns/${NETNS}`, "dockerd",
            "--data-root", path.join(dir, "data"), "--exec-root", path.join(dir, "exec"), "--pidfile", path.join(dir, "docker.pid"),
            "-H", `unix://${workerSocket}`], { stdio: ["ignore", "ignore", "pipe"] });
        workerPid = daemon.pid ?? 0;
        undo.push(async () => {
            daemon.kill("SIGTERM");
            await until("the worker's dockerd to stop", async () => (daemon.exitCode !== null || daemon.signalCode !== null ? true : undefined), 30_000).catch(() => daemon.kill("SIGKILL"));
        });
        await until("the worker's dockerd to answer", async () => (await worker.ping().then(() => true, () => undefined)), 60_000, 500);

        // The swarm: this engine manages it on the link's address; the worker joins over the veth.
        await manager.swarmInit({ ListenAddr: `${MANAGER_IP}:2377`, AdvertiseAddr: MANAGER_IP });
        undo.push(() => manager.swarmLeave({ force: true }).catch(() => undefined));
        const token = (await manager.swarmInspect() as { JoinTokens: { Worker: string } }).JoinTokens.Worker;
        await worker.swarmJoin({ ListenAddr: `${WORKER_IP}:2377`, AdvertiseAddr: WORKER_IP, RemoteAddrs: [`${MANAGER_IP}:2377`], JoinToken: token });
        const nodes = await manager.listNodes() as { ID: string; Spec: { Role: string } }[];
        nodeIds.manager = nodes.find((n) => n.Spec.Role === "manager")!.ID;
        nodeIds.worker = nodes.find((n) => n.Spec.Role === "worker")!.ID;

        // The registry both nodes pull from, on the link's address, over TLS with a certificate both engines trust.
        const registry = await LocalRegistry.start({ host: MANAGER_IP, tls: true });
        undo.push(() => registry.stop());
        undo.push(() => execa("docker", ["rmi", `${registry.address}/agent-fleet/spread-agent:1.0.0`], { reject: false }));
        imageDigestRef = await registry.push(image, "agent-fleet/spread-agent:1.0.0");

        const network = await manager.createNetwork({ Name: `spread-${process.pid}`, Driver: "overlay", Attachable: true });
        undo.push(() => until("the spread network to be removable", async () => (await network.remove().then(() => true, () => undefined)), 30_000, 500).catch(() => undefined));
        const created = await manager.createService(engineServiceSpec(inputs, imageDigestRef, network.id, [], AGENT)) as { id?: string; ID?: string };
        service = manager.getService(created.id ?? created.ID!);
        undo.push(() => service.remove().catch(() => undefined));
        await until("both tasks to run healthy", async () => ((await tasksByNode()).length === 2 ? true : undefined), 120_000, 1_000);
    }, SWARM_TURN_MS + 300_000);

    afterAll(async () => {
        // Undo in reverse, each step on its own: one failing must not leave the rest behind.
        for (const step of undo.reverse()) await step().catch(() => undefined);
        await fs.rm(dir, { recursive: true, force: true });
    }, 180_000);

    it("puts one task of a two-replica agent on each node, both running the registry digest", async () => {
        const tasks = await tasksByNode();
        expect(tasks.map((t) => t.node).sort()).toEqual([nodeIds.manager, nodeIds.worker].sort());
        const workerImages = await worker.listImages({ digests: true }) as { RepoDigests?: string[] }[];
        expect(workerImages.flatMap((i) => i.RepoDigests ?? [])).toContain(imageDigestRef);
        const spec = (await service.inspect() as { Spec: { TaskTemplate: { ContainerSpec: { Image: string } } } }).Spec;
        expect(spec.TaskTemplate.ContainerSpec.Image).toBe(imageDigestRef);
    });

    it("refuses to load an edge's routes while its global service has a task on a node this engine cannot reach, naming that node, and loads none", async () => {
        // A global service stands in for the edge: the refusal comes before any `docker exec`, from where its tasks run.
        const inputs = await swarmServiceInputs(AGENT, { healthcheck: HEALTHCHECK });
        const spec = engineServiceSpec(inputs, imageDigestRef, (await manager.listNetworks({ filters: { name: [`spread-${process.pid}`] } }))[0].Id, [], `${AGENT}-edge`) as Record<string, unknown>;
        const created = await manager.createService({ ...spec, Mode: { Global: {} } } as Docker.CreateServiceOptions) as { id?: string; ID?: string };
        const edge = manager.getService(created.id ?? created.ID!);
        try {
            await until("a task of the stand-in edge on each node", async () => {
                const tasks = await manager.listTasks({ filters: { service: [`${AGENT}-edge`], "desired-state": ["running"] } }) as { NodeID: string }[];
                return new Set(tasks.map((t) => t.NodeID)).size === 2 ? true : undefined;
            }, 120_000, 1_000);
            const started = Date.now();
            const load = loadRoutes({ dockerHost: "", container: `${AGENT}-edge`, kind: "service", config: "{}" });
            await expect(load).rejects.toThrow(new RegExp(`the edge ${AGENT}-edge did not take its routes: its service runs on node \\S+ \\(${nodeIds.worker.slice(0, 12)}\\) as well, `
                + `and routes are loaded through the engine the deploy reaches \\(node ${nodeIds.manager.slice(0, 12)}\\) only; set fleet.edge.placementConstraints to that node, \\["node.id==${nodeIds.manager}"\\]`));
            // Nothing was loaded: the engine saw no `docker exec` of `caddy reload` in any container while it refused.
            expect(await execsSince(manager, started, "caddy")).toEqual([]);
        } finally {
            await edge.remove().catch(() => undefined);
        }
    }, 240_000);

    it("reschedules the worker's task on the manager when the worker's daemon stops; the manager's task answers every probe", async () => {
        // The manager's task, through its host-mode port on this host.
        const containers = await manager.listContainers({ filters: { label: [`com.docker.swarm.service.name=${AGENT}`] } });
        expect(containers).toHaveLength(1);
        const published = containers[0].Ports.find((p) => p.PrivatePort === 8080 && p.PublicPort)!.PublicPort;
        let ok = 0;
        let failed = 0;
        let probing = true;
        const probe = (async () => {
            while (probing) {
                const answered = await fetch(`http://127.0.0.1:${published}/health`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
                if (answered) ok++;
                else failed++;
                await sleep(100);
            }
        })();
        await sleep(1_000);
        const stopped = Date.now();
        process.kill(workerPid, "SIGTERM");
        await until("the worker's task to run again on the manager", async () => {
            const tasks = await tasksByNode();
            return tasks.length === 2 && tasks.every((t) => t.node === nodeIds.manager) ? true : undefined;
        }, 180_000, 1_000);
        const rescheduledMs = Date.now() - stopped;
        await sleep(2_000);
        probing = false;
        await probe;
        console.log(`multi-node: worker stopped, both tasks on the manager after ${rescheduledMs} ms; manager probes ${ok} ok, ${failed} failed`);
        expect(failed).toBe(0);
        expect(ok).toBeGreaterThan(20);
    }, 240_000);
});
