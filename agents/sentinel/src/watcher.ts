/**
 * Docker events for one stack's agent containers only (selected by the agent
 * and stack labels), turned into the rules' observations. It uses only read endpoints:
 * the event stream, container inspect and list. (The socket is mounted
 * read-only, but that does not restrict the API: the code is the limit.)
 * The stream reconnects with backoff after the daemon restarts.
 */
import Docker from "dockerode";
import { LABELS } from "../../../contract";
import type { Observation } from "./rules";

export interface ContainerEvent {
    readonly agent: string;
    readonly containerId: string;
    /** When the container started, for the watch window. */
    readonly startedAt: number;
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
    readonly socketPath: string;
    /** Only this stack's containers (its stack label): two stacks may share an engine. */
    readonly stack: string;
    readonly onEvent: (event: ContainerEvent) => void;
    readonly log: (message: string) => void;
    /** Reconnect backoff bounds. Defaults 500 ms and 30 s. */
    readonly minBackoffMs?: number;
    readonly maxBackoffMs?: number;
}

export class DockerWatcher {
    private readonly docker: Docker;
    private stream: NodeJS.ReadableStream | undefined;
    private stopped = false;
    connected = false;
    /** Container starts seen, so that a start after a death counts as a restart. */
    private readonly died = new Set<string>();

    constructor(private readonly options: WatcherOptions) {
        this.docker = new Docker({ socketPath: options.socketPath });
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

    /** One connection to the event stream, until it ends. */
    private async follow(): Promise<void> {
        const stream = await this.docker.getEvents({
            filters: { type: ["container"], label: [LABELS.agent, `${LABELS.stack}=${this.options.stack}`], event: ["health_status", "die", "oom", "start"] },
        });
        this.stream = stream;
        this.connected = true;
        this.options.log("watching docker events for the fleet's containers");
        let buffer = "";
        await new Promise<void>((resolve, reject) => {
            stream.on("data", (chunk: Buffer) => {
                buffer += chunk.toString("utf8");
                let newline: number;
                while ((newline = buffer.indexOf("\n")) >= 0) {
                    const line = buffer.slice(0, newline).trim();
                    buffer = buffer.slice(newline + 1);
                    if (line) void this.handle(JSON.parse(line) as DockerEvent).catch((e) => this.options.log(`event not handled: ${String(e)}`));
                }
            });
            stream.on("end", () => resolve());
            stream.on("error", reject);
        });
    }

    private async handle(event: DockerEvent): Promise<void> {
        const action = event.Action ?? event.status ?? "";
        const id = event.Actor?.ID ?? event.id ?? "";
        const attributes = event.Actor?.Attributes ?? {};
        const agent = attributes[LABELS.agent];
        if (!agent || !id) return;
        const time = event.timeNano ? Math.floor(event.timeNano / 1e6) : (event.time ?? 0) * 1000;
        const info = await this.docker.getContainer(id).inspect().catch(() => undefined);
        const startedAt = info?.State?.StartedAt ? Date.parse(info.State.StartedAt) : time;
        let observation: Observation | undefined;
        if (action.startsWith("health_status")) {
            const status = action.split(":")[1]?.trim();
            if (status === "healthy" || status === "unhealthy") {
                const log = info?.State?.Health?.Log ?? [];
                const output = status === "unhealthy" ? log.at(-1)?.Output?.trim() : undefined;
                observation = { kind: "health", status, ...(output ? { output } : {}) };
            }
        } else if (action === "die") {
            this.died.add(id);
            observation = { kind: "die", exitCode: Number(attributes.exitCode ?? -1) };
        } else if (action === "oom") {
            observation = { kind: "oom" };
        } else if (action === "start" && this.died.has(id)) {
            observation = { kind: "restart" };
        }
        if (observation) this.options.onEvent({ agent, containerId: id, startedAt, observation, time });
    }
}
