/**
 * A sentinel container watching sample-agent containers on the real Docker
 * engine and alerting a local receiver: shared by the sentinel's Docker tests
 * and its latency benchmark.
 */
import { promises as fs } from "fs";
import * as net from "net";
import { verifySignature } from "../../alerts";
import { agentLabels } from "../../components/agent-service";
import { agentSpec } from "./specs";
import { RunOptions, RunningContainer, TestContainers, buildSampleAgentImage, buildSentinelImage, requireDocker } from "./docker";
import { Receiver } from "./receiver";

const SOCKET = "/var/run/docker.sock";
/** The sample agent's probe in these rigs: every second, unhealthy after two failures. */
export const FAST_AGENT_HEALTH = { Interval: 1e9, Timeout: 1e9, Retries: 2, StartPeriod: 1e9 };

export interface ReceivedAlert {
    readonly id: string;
    readonly event: string;
    readonly agent: string;
    readonly severity: string;
    readonly reason: string;
    readonly tier: number;
    readonly environment: string;
    /** The webhook signature checked out. */
    readonly verified: boolean;
    /** When the receiver got it (ms). */
    readonly at: number;
}

export interface SentinelRigOptions {
    /** Agent names the sentinel watches (all tier 2, routed to one webhook channel). */
    readonly agents: readonly string[];
    readonly signingSecret: string;
    /** A path segment of the channel URL (the URL is a secret too). */
    readonly urlToken: string;
    /** Per-agent alert rate limit; default the sentinel's own. */
    readonly rateLimit?: number;
}

/** A TCP port free on loopback right now. */
export async function freePort(): Promise<number> {
    return new Promise((resolve) => {
        const server = net.createServer().listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

export class SentinelRig {
    readonly containers = new TestContainers();
    readonly receiver = new Receiver();
    /** The spool's named volume, this rig's own. */
    readonly spoolVolume = `agent-fleet-sentinel-${process.pid}-${Date.now()}`;
    /** A stack of its own, so that the sentinel ignores every other fleet on the engine (the e2e suite's, say). */
    readonly stack = `sentinel-test-${process.pid}-${Date.now()}`;
    receiverBase = "";
    sentinelUrl = "";
    agentImage = "";
    sentinel!: RunningContainer;

    constructor(private readonly options: SentinelRigOptions) {}

    async start(): Promise<void> {
        await requireDocker();
        this.agentImage = await buildSampleAgentImage();
        const sentinelImage = await buildSentinelImage();
        this.receiverBase = await this.receiver.start();
        const port = await freePort();
        this.sentinelUrl = `http://127.0.0.1:${port}`;
        this.sentinel = await this.containers.run({
            image: sentinelImage,
            // Host networking, so that the sentinel reaches the receiver on this host's loopback.
            networkMode: "host",
            binds: [`${SOCKET}:${SOCKET}:ro`, `${this.spoolVolume}:/var/spool/sentinel`],
            groupAdd: [String((await fs.stat(SOCKET)).gid)],
            env: {
                PORT: String(port),
                SENTINEL_CONFIG: JSON.stringify({
                    stack: this.stack, environment: "dev", reminderAfterMs: 3_600_000,
                    ...(this.options.rateLimit ? { rateLimit: this.options.rateLimit } : {}),
                    agents: this.options.agents.map((name) => ({ name, alertChannels: ["hook"] })),
                    probes: { scrapeEveryMs: 1_000, smokeEveryMs: 1_000, errorRateWindowMs: 60_000, minRequests: 20, timeoutMs: 2_000 },
                    channels: [{ name: "hook", minSeverity: "info" }],
                }),
                SENTINEL_CHANNELS: JSON.stringify([{ channel: "hook", type: "webhook", url: `${this.receiverBase}/hook/${this.options.urlToken}`, signingSecret: this.options.signingSecret }]),
            },
        });
        const deadline = Date.now() + 20_000;
        for (;;) {
            const health = await fetch(`${this.sentinelUrl}/health`).then((r) => r.json() as Promise<{ docker: string }>).catch(() => undefined);
            if (health?.docker === "connected") return;
            if (Date.now() > deadline) throw new Error(`the sentinel did not connect to Docker: ${JSON.stringify(health)}\n${await this.logs()}`);
            await new Promise((r) => setTimeout(r, 200));
        }
    }

    /**
     * A sample agent with a fast healthcheck and the labels the AgentService gives `name`: a dev tier 2 agent
     * with `fields` from the fleet config (default: a 1 s watch window, so that it is outside it at once).
     */
    startAgent(name: string, extra: Partial<RunOptions> = {}, fields: Record<string, unknown> = {}): Promise<RunningContainer> {
        const spec = { ...agentSpec({ tier: 2, monitorWindow: "1s", ...fields }, "dev"), name };
        return this.containers.run({
            image: this.agentImage, containerPort: 8080, healthcheck: FAST_AGENT_HEALTH,
            labels: agentLabels(spec, this.stack),
            env: { AGENT_NAME: name },
            ...extra,
        });
    }

    alerts(): ReceivedAlert[] {
        return this.receiver.received.map((r) => ({
            ...(JSON.parse(r.body) as Omit<ReceivedAlert, "verified" | "at">),
            verified: verifySignature(this.options.signingSecret, r.body, { signature: String(r.headers["x-agent-fleet-signature"]), timestamp: String(r.headers["x-agent-fleet-timestamp"]) }).ok,
            at: r.at,
        }));
    }

    async logs(): Promise<string> {
        return (await this.sentinel.container.logs({ stdout: true, stderr: true, follow: false })).toString("utf8");
    }

    async stop(): Promise<void> {
        await this.containers.removeAll();
        await this.receiver.stop().catch(() => undefined);
        await (await requireDocker()).getVolume(this.spoolVolume).remove().catch(() => undefined);
    }
}

/** Polls `check` until it returns something. */
export async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs: number, everyMs = 50): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const found = await check();
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, everyMs));
    }
}
