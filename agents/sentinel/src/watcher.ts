/**
 * Docker events for one stack's agent containers only (selected by the agent
 * and stack labels), turned into the rules' observations, and the set of
 * agent containers past their health gate, for the probes of the watch window. It uses only
 * read endpoints: the event stream, container list and inspect. (The socket
 * is mounted read-only, but that does not restrict the API: the code is the
 * limit.) The stream reconnects with backoff after the daemon restarts.
 */
import Docker from "dockerode";
import { AgentWatch, LABELS, watchFromLabels } from "../../../contract";
import type { Observation } from "./rules";

/** A running agent container, as the watcher knows it. */
export interface WatchedContainer {
    readonly agent: string;
    readonly containerId: string;
    /** When the container was created: its deploy, since every change replaces it. The watch window starts here. */
    readonly createdAt: number;
    /** From its labels. */
    readonly watch: AgentWatch;
    /** Its address on the sentinel's network (or the first network it has); undefined when it has none. */
    readonly address?: string;
}

export interface ContainerEvent extends WatchedContainer {
    readonly observation: Observation;
    /** Docker's own time of the event, in ms. */
    readonly time: number;
}

interface DockerEvent {
    Type?: string;
    Action?: string;
    status?: string;
    id?: string;
    timeNano?: number;
    time?: number;
    Actor?: { ID?: string; Attributes?: Record<string, string> };
}

export interface WatcherOptions {
    /** `unix:///path/to/docker.sock`, or `tcp://host:port` (the fleet's docker proxy, plain HTTP on a network of its own). */
    readonly dockerHost: string;
    /** Only this stack's containers (its stack label): two stacks may share an engine. */
    readonly stack: string;
    /** The network the sentinel shares with the agents, whose address it probes; default: each container's first. */
    readonly network?: string;
    readonly onEvent: (event: ContainerEvent) => void;
    /** A container passed its health gate (turned healthy), or was past it when the watcher (re)connected: probe it. */
    readonly onRunning?: (container: WatchedContainer) => void;
    /** A container stopped or was removed. */
    readonly onStopped?: (containerId: string) => void;
    readonly log: (message: string) => void;
    /** Reconnect backoff bounds. Defaults 500 ms and 30 s. */
    readonly minBackoffMs?: number;
    readonly maxBackoffMs?: number;
}

function dockerAt(address: string): Docker {
    if (address.startsWith("unix://")) return new Docker({ socketPath: address.slice("unix://".length) });
    const url = new URL(address);
    return new Docker({ protocol: "http", host: url.hostname, port: Number(url.port || 2375) });
}

export class DockerWatcher {
    private readonly docker: Docker;
    private stream: NodeJS.ReadableStream | undefined;
    private stopped = false;
    connected = false;
    /** Containers seen dying, so that their next start counts as a restart. */
    private readonly died = new Set<string>();
    /**
     * Containers asked to stop (a kill with a signal other than SIGKILL: `docker stop`, or the provider
     * replacing or deleting a container). Their death is a stop, not a failure: the deploy's own
     * notifications cover it, and alerting on it would page on every release.
     */
    private readonly stopping = new Set<string>();
    /**
     * Containers seen healthy. One that never was is still in its deploy's health gate, which fails the
     * deploy and notifies on its own; only a turn from healthy to unhealthy is the sentinel's to report.
     */
    private readonly wasHealthy = new Set<string>();
    /** Events waiting to be handled, in order. */
    private queue: Promise<void> = Promise.resolve();
    /** Label-derived problems already logged, by container, so that each is logged once. */
    private readonly reported = new Set<string>();

    constructor(private readonly options: WatcherOptions) {
        this.docker = dockerAt(options.dockerHost);
    }

    private get labelFilter(): string[] {
        return [LABELS.agent, `${LABELS.stack}=${this.options.stack}`];
    }

    async start(): Promise<void> {
        let backoff = this.options.minBackoffMs ?? 500;
        while (!this.stopped) {
            try {
                await this.follow();
                backoff = this.options.minBackoffMs ?? 500;
            } catch (error) {
                this.options.log(`docker event stream lost (${error instanceof Error ? error.message : String(error)}); reconnecting in ${backoff} ms`);
            }
            this.connected = false;
            if (this.stopped) break;
            await new Promise((r) => setTimeout(r, backoff));
            backoff = Math.min(this.options.maxBackoffMs ?? 30_000, backoff * 2);
        }
    }

    stop(): void {
        this.stopped = true;
        (this.stream as unknown as { destroy?: () => void } | undefined)?.destroy?.();
    }

    /** One connection to the event stream, until it ends; first, the containers already running. */
    private async follow(): Promise<void> {
        const stream = await this.docker.getEvents({
            filters: { type: ["container"], label: this.labelFilter, event: ["health_status", "die", "oom", "start", "destroy", "kill"] },
        });
        this.stream = stream;
        this.connected = true;
        this.options.log("watching docker events for the fleet's containers");
        // Listed after subscribing, so that a container starting in between is not missed.
        for (const listed of await this.docker.listContainers({ filters: { label: this.labelFilter, status: ["running"] } })) {
            const info = await this.docker.getContainer(listed.Id).inspect().catch(() => undefined);
            // Already past its gate, or failing now: either way, from here on its health is the sentinel's to report.
            if (info?.State?.Health?.Status !== "healthy" && info?.State?.Health?.Status !== "unhealthy") continue;
            this.wasHealthy.add(listed.Id);
            const running = await this.describe(listed.Id, info);
            if (running) this.options.onRunning?.(running);
        }
        let buffer = "";
        await new Promise<void>((resolve, reject) => {
            stream.on("data", (chunk: Buffer) => {
                buffer += chunk.toString("utf8");
                let newline: number;
                while ((newline = buffer.indexOf("\n")) >= 0) {
                    const line = buffer.slice(0, newline).trim();
                    buffer = buffer.slice(newline + 1);
                    if (!line) continue;
                    const event = JSON.parse(line) as DockerEvent;
                    // One at a time, in Docker's order: a stop's kill must be seen before its die.
                    this.queue = this.queue.then(() => this.handle(event)).catch((e) => this.options.log(`event not handled: ${String(e)}`));
                }
            });
            stream.on("end", () => resolve());
            stream.on("error", reject);
        });
    }

    /** An agent container from its inspect: labels, creation and address. */
    private async describe(id: string, inspected?: Docker.ContainerInspectInfo): Promise<WatchedContainer | undefined> {
        const info = inspected ?? await this.docker.getContainer(id).inspect().catch(() => undefined);
        const labels = info?.Config?.Labels ?? {};
        const agent = labels[LABELS.agent];
        if (!info || !agent) return undefined;
        const { watch, problems } = watchFromLabels(labels);
        if (problems.length > 0 && !this.reported.has(id)) {
            this.reported.add(id);
            this.options.log(`${agent}: labels not understood (${problems.join("; ")}); health is still watched`);
        }
        const networks = info.NetworkSettings?.Networks ?? {};
        const address = (this.options.network ? networks[this.options.network]?.IPAddress : undefined)
            || Object.values(networks).map((n) => n.IPAddress).find(Boolean)
            || undefined;
        return { agent, containerId: id, createdAt: Date.parse(info.Created), watch, ...(address ? { address } : {}) };
    }

    private async handle(event: DockerEvent): Promise<void> {
        const action = event.Action ?? event.status ?? "";
        const id = event.Actor?.ID ?? event.id ?? "";
        const attributes = event.Actor?.Attributes ?? {};
        if (!attributes[LABELS.agent] || !id) return;
        if (action === "destroy") {
            for (const set of [this.died, this.reported, this.stopping, this.wasHealthy]) set.delete(id);
            this.options.onStopped?.(id);
            return;
        }
        const time = event.timeNano ? Math.floor(event.timeNano / 1e6) : (event.time ?? 0) * 1000;
        const info = await this.docker.getContainer(id).inspect().catch(() => undefined);
        // A container removed before its inspect still has its labels in the event.
        const container = (info && await this.describe(id, info))
            ?? { agent: attributes[LABELS.agent], containerId: id, createdAt: time, watch: watchFromLabels(attributes).watch };
        let observation: Observation | undefined;
        if (action === "kill") {
            if (!["9", "SIGKILL", "KILL"].includes(attributes.signal ?? "")) this.stopping.add(id);
            return;
        }
        if (action.startsWith("health_status")) {
            const status = action.split(":")[1]?.trim();
            if (status === "healthy" && !this.wasHealthy.has(id)) {
                // Past its deploy's health gate: from now on it is probed in its watch window.
                this.wasHealthy.add(id);
                this.options.onRunning?.(container);
            }
            if (status === "unhealthy" && !this.wasHealthy.has(id)) {
                this.options.log(`${container.agent}: unhealthy before it was ever healthy (its deploy's health gate reports that)`);
            } else if (status === "healthy" || status === "unhealthy") {
                const log = info?.State?.Health?.Log ?? [];
                const output = status === "unhealthy" ? log.at(-1)?.Output?.trim() : undefined;
                observation = { kind: "health", status, ...(output ? { output } : {}) };
            }
        } else if (action === "die") {
            this.options.onStopped?.(id);
            if (this.stopping.delete(id)) {
                this.options.log(`${container.agent}: stopped on request`);
            } else {
                this.died.add(id);
                observation = { kind: "die", exitCode: Number(attributes.exitCode ?? -1) };
            }
        } else if (action === "oom") {
            observation = { kind: "oom" };
        } else if (action === "start") {
            // Started (or restarted): probed again once it is healthy.
            this.stopping.delete(id);
            this.wasHealthy.delete(id);
            if (this.died.has(id)) observation = { kind: "restart" };
        }
        if (observation) this.options.onEvent({ ...container, observation, time });
    }
}
