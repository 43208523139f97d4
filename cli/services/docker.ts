/**
 * A Docker Engine API client (dockerode) for a `DOCKER_HOST`-style address,
 * the way the Docker provider reads it: `unix://` sockets, `tcp://` and
 * `ssh://` hosts. Shared by doctor, verify and status.
 */
import Docker from "dockerode";
import { DEFAULT_DOCKER_HOST, StackEngine, StackView } from "../../config";
import { LABELS } from "../../contract";
import { fetchTransport, type SmokeCheckTransport } from "../../contract";
import { SshDialAgent, sshSmokeTransport } from "./ssh-dial";

/** One engine of a stack, ready to ask: its client, and how to reach what its containers publish. */
export interface EngineClient extends StackEngine {
    readonly docker: Docker;
    /** An ssh:// host's loopback through that host; a local engine's directly. */
    readonly checks: SmokeCheckTransport;
    /** How messages name it: "host app-1 (ssh://deploy@app-1)", or the address of a stack's one engine. */
    readonly label: string;
}

/**
 * A client for each engine a stack deploys to (the stack module's one
 * answer, StackView.engines): each host of `fleet.hosts`, or its one engine.
 */
export function stackEngineClients(view: StackView, env: NodeJS.ProcessEnv = process.env): EngineClient[] {
    return view.engines(env).map((engine) => ({
        ...engine,
        docker: dockerFor(engine.host),
        checks: engine.host.startsWith("ssh://") ? sshSmokeTransport(new URL(engine.host)) : fetchTransport,
        label: engine.name === undefined ? engine.host : `host ${engine.name} (${engine.host})`,
    }));
}

/** The engine a container of the stack runs on, by its host label (or the `instanceHosts` output); the one engine when the stack has no hosts. */
export function engineNamed(engines: readonly EngineClient[], host: string | undefined): EngineClient | undefined {
    return host === undefined ? (engines.length === 1 && engines[0].name === undefined ? engines[0] : undefined) : engines.find((e) => e.name === host);
}

/** Each engine, and why it does not answer (undefined when it does): asked once per command, at the same time. */
export async function reachability(engines: readonly EngineClient[]): Promise<Map<EngineClient, string | undefined>> {
    const answers = await Promise.all(engines.map((engine) => engine.docker.ping().then(
        () => undefined,
        (error: unknown) => `no Docker engine answers at ${engine.label} (${error instanceof Error ? error.message : String(error)})`,
    )));
    return new Map(engines.map((engine, i) => [engine, answers[i]]));
}

export function dockerFor(host: string = DEFAULT_DOCKER_HOST): Docker {
    if (host.startsWith("unix://")) return new Docker({ socketPath: host.slice("unix://".length) });
    const url = new URL(host);
    // Over the system ssh, as the provider and the Docker CLI do (see ssh-dial.ts); the host part of the URL is never used.
    if (url.protocol === "ssh:") return new Docker({ protocol: "http", host: "docker", port: 80, agent: new SshDialAgent(url) } as Docker.DockerOptions);
    return new Docker({ host: url.hostname, port: url.port ? Number(url.port) : 2375, protocol: "http" });
}

/** The label Swarm puts on every task's container: the id of the service it belongs to. */
export const SWARM_SERVICE_ID_LABEL = "com.docker.swarm.service.id";

/** Swarm's update states that are still under way; the others are where an update ends. */
const SWARM_UPDATING: ReadonlySet<string> = new Set(["updating", "rollback_started"]);

/**
 * A container's labels as the agent's: under the swarm runtime a task's
 * container carries only the agent's identity, and the version, image and
 * commit labels live on its service (see components/runtimes/swarm.ts).
 * `services` caches each service's labels for one listing.
 */
export async function instanceLabels(docker: Docker, labels: Record<string, string>, services = new Map<string, Promise<Record<string, string>>>()): Promise<Record<string, string>> {
    const serviceId = labels[SWARM_SERVICE_ID_LABEL];
    if (!serviceId) return labels;
    if (!services.has(serviceId)) {
        services.set(serviceId, docker.getService(serviceId).inspect().then((s: { Spec?: { Labels?: Record<string, string> } }) => s.Spec?.Labels ?? {}, () => ({})));
    }
    return { ...(await services.get(serviceId)), ...labels };
}

/** One running instance of an agent: a container, or a Swarm task. */
export interface AgentInstance {
    /** The container's name, or "<service>.<slot>" for a task. */
    readonly name: string;
    /** "healthy", "unhealthy", "starting", "not running", "missing", or why a Swarm update did not finish. */
    readonly health: string;
    /** The last healthcheck output, when Docker kept one. */
    readonly lastProbe?: string;
    /** Where its HTTP port answers from this host; undefined when unknown. */
    readonly baseUrl?: string;
}

interface TaskInfo {
    Slot?: number;
    NodeID?: string;
    Status: { State: string; ContainerStatus?: { ContainerID?: string }; PortStatus?: { Ports?: { PublishedPort?: number }[] } };
}

/** A container's health in one word: Docker's status, or "missing", "not running", "no healthcheck". */
export function containerHealth(info: Docker.ContainerInspectInfo | undefined): string {
    return !info ? "missing" : !info.State.Running ? "not running" : info.State.Health?.Status ?? "no healthcheck";
}

async function containerInstance(docker: Docker, id: string, name: string, baseUrl: string | undefined, containerPort?: number): Promise<AgentInstance | undefined> {
    const info = await docker.getContainer(id).inspect().catch(() => undefined);
    if (!info) return undefined;
    // Where the container publishes its port now: a restart gets a new ephemeral host port, which the stack's outputs do not know.
    const live = containerPort === undefined ? undefined : info.NetworkSettings?.Ports?.[`${containerPort}/tcp`]?.[0];
    const url = live ? `http://${live.HostIp && live.HostIp !== "0.0.0.0" ? live.HostIp : "127.0.0.1"}:${live.HostPort}` : baseUrl;
    return { name, health: containerHealth(info), lastProbe: info.State.Health?.Log?.at(-1)?.Output?.trim(), baseUrl: url };
}

/**
 * The instances behind one entry of an agent's `instances` output: the
 * container of that name (container runtime), or the running tasks of the
 * Swarm service of that name (swarm runtime), once any update Swarm is still
 * watching has ended. An update Swarm rolled back or paused is the answer.
 */
export async function agentInstances(docker: Docker, name: string, options: { healthUrl?: string; image?: string; containerPort?: number; settleTimeoutMs?: number } = {}): Promise<AgentInstance[]> {
    const { healthUrl, image, containerPort, settleTimeoutMs = 300_000 } = options;
    const container = await containerInstance(docker, name, name, healthUrl ? new URL(healthUrl).origin : undefined, containerPort);
    if (container) return [container];
    type ServiceInfo = { ID: string; Spec: { Name: string; Labels?: Record<string, string> }; UpdateStatus?: { State?: string; Message?: string } };
    const inspect = () => docker.getService(name).inspect().then((s) => s as ServiceInfo, () => undefined);
    let service = await inspect();
    if (!service) return [{ name, health: "missing" }];
    const deadline = Date.now() + settleTimeoutMs;
    while (service && SWARM_UPDATING.has(service.UpdateStatus?.State ?? "") && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 1_000));
        service = await inspect();
    }
    if (!service) return [{ name, health: "missing" }];
    // Swarm keeps the last update's outcome until the next update: a rollback matters
    // only while the service does not run the image the config names.
    const state = service.UpdateStatus?.State ?? "completed";
    const why = service.UpdateStatus?.Message ? `: ${service.UpdateStatus.Message}` : "";
    if (state.endsWith("paused")) return [{ name, health: `swarm update ${state}${why}` }];
    const running = service.Spec.Labels?.[LABELS.image];
    if (state === "rollback_completed" && image !== undefined && running !== image) {
        return [{ name, health: `swarm rolled back the update to ${image} and runs ${running ?? "an unlabelled image"}${why}` }];
    }
    const [tasks, nodes] = await Promise.all([
        docker.listTasks({ filters: { service: [service.ID], "desired-state": ["running"] } }) as Promise<TaskInfo[]>,
        docker.listNodes() as Promise<{ ID: string; Status?: { Addr?: string } }[]>,
    ]);
    if (tasks.length === 0) return [{ name, health: "no running task" }];
    const addressOf = (nodeId?: string) => {
        const addr = nodes.find((n) => n.ID === nodeId)?.Status?.Addr;
        return !addr || addr === "0.0.0.0" ? "127.0.0.1" : addr;
    };
    return Promise.all(tasks.map(async (task) => {
        const taskName = `${service!.Spec.Name}.${task.Slot ?? 0}`;
        const port = task.Status.PortStatus?.Ports?.find((p) => p.PublishedPort)?.PublishedPort;
        const baseUrl = port ? `http://${addressOf(task.NodeID)}:${port}` : undefined;
        const containerId = task.Status.ContainerStatus?.ContainerID;
        // A task on another node has no container here; Swarm holds a task in "starting" until its healthcheck passes.
        const local = containerId ? await containerInstance(docker, containerId, taskName, baseUrl) : undefined;
        return local ?? { name: taskName, health: task.Status.State === "running" ? "healthy" : task.Status.State, baseUrl };
    }));
}
