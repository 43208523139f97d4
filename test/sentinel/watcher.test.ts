/**
 * The sentinel's Docker watcher against a fake Docker daemon on a unix socket:
 * it asks only for its stack's agent containers, turns events into
 * observations, and reconnects with backoff when the daemon goes away and
 * comes back (a daemon restart), without losing what happens afterwards.
 */
import { promises as fs } from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { afterEach, describe, expect, it } from "vitest";
import { ContainerEvent, DockerWatcher, WatchedContainer } from "../../agents/sentinel/src/watcher";
import { LABELS } from "../../contract";
import { until } from "../support/sentinel";

const CREATED = "2026-11-22T08:00:00.000Z";
/** The labels of every fake container: agent "id-<agent>" with the AgentService's watch labels. */
const labelsOf = (agent: string) => ({
    [LABELS.agent]: agent, [LABELS.stack]: "dev", [LABELS.tier]: "2", [LABELS.version]: "1.4.2",
    [LABELS.monitorWindow]: "1h0m0s", [LABELS.port]: "8080", [LABELS.errorRateLimit]: "2",
    [LABELS.smokeChecks]: JSON.stringify([{ name: "reply", method: "POST", path: "/v1/reply", expectStatus: 200, body: "{}" }]),
});

interface FakeDaemon {
    readonly socket: string;
    /** Query strings of each /events connection. */
    readonly eventRequests: string[];
    /** Other paths asked for, to prove the watcher only reads. */
    readonly calls: string[];
    /** Events to send on the next /events connection; the connection then ends, as when the daemon restarts. */
    next: object[][];
    /** Query strings of each container list. */
    readonly listRequests: string[];
    /** Agents whose containers are running (listed at connect). */
    running: string[];
    close(): Promise<void>;
}

async function fakeDaemon(): Promise<FakeDaemon> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "fake-docker-"));
    const socket = path.join(dir, "docker.sock");
    const daemon: FakeDaemon = { socket, eventRequests: [], listRequests: [], calls: [], next: [], running: [], close: async () => undefined };
    const server = http.createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://docker");
        daemon.calls.push(`${req.method} ${url.pathname}`);
        if (url.pathname.endsWith("/events")) {
            daemon.eventRequests.push(decodeURIComponent(url.search));
            const batch = daemon.next.shift() ?? [];
            res.writeHead(200, { "content-type": "application/json" });
            for (const e of batch) res.write(`${JSON.stringify(e)}\n`);
            setTimeout(() => res.end(), 50);
            return;
        }
        if (url.pathname.endsWith("/containers/json")) {
            daemon.listRequests.push(decodeURIComponent(url.search));
            res.writeHead(200, { "content-type": "application/json" });
            res.end(JSON.stringify(daemon.running.map((agent) => ({ Id: `id-${agent}` }))));
            return;
        }
        const inspect = /\/containers\/id-([^/]+)\/json$/.exec(url.pathname);
        if (inspect) {
            res.writeHead(200, { "content-type": "application/json" });
            res.end(JSON.stringify({
                Created: CREATED, Config: { Labels: labelsOf(inspect[1]) },
                NetworkSettings: { Networks: { bridge: { IPAddress: "172.17.0.9" }, "fleet-dev": { IPAddress: "10.5.0.7" } } },
                State: { StartedAt: CREATED, Health: { Status: "healthy", Log: [{ Output: "GET /health 503\n" }] } },
            }));
            return;
        }
        res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    daemon.close = () => new Promise((resolve) => server.close(() => resolve()));
    return daemon;
}

const event = (action: string, agent: string, stack = "dev", extra: Record<string, string> = {}) => ({
    Type: "container", Action: action, Actor: { ID: `id-${agent}`, Attributes: { [LABELS.agent]: agent, [LABELS.stack]: stack, ...extra } }, timeNano: 1_763_798_400_000_000_000,
});

let daemon: FakeDaemon | undefined;
let watcher: DockerWatcher | undefined;
afterEach(async () => {
    watcher?.stop();
    await daemon?.close();
});

describe("the sentinel's Docker watcher", () => {
    it("follows its stack's agent containers, and reconnects with backoff after the daemon goes away", async () => {
        daemon = await fakeDaemon();
        daemon.next = [[event("health_status: healthy", "jarvis"), event("health_status: unhealthy", "jarvis")], [event("die", "jarvis", "dev", { exitCode: "137" }), event("start", "jarvis")]];
        const seen: ContainerEvent[] = [];
        const logs: string[] = [];
        watcher = new DockerWatcher({ dockerHost: `unix://${daemon.socket}`, stack: "dev", onEvent: (e) => seen.push(e), log: (m) => logs.push(m), minBackoffMs: 100, maxBackoffMs: 400 });
        void watcher.start();
        await until("four observations over two connections", () => (seen.length >= 4 ? true : undefined), 5_000);

        expect(seen.map((e) => e.observation)).toEqual([
            { kind: "health", status: "healthy" },
            { kind: "health", status: "unhealthy", output: "GET /health 503" },
            { kind: "die", exitCode: 137 },
            { kind: "restart" },
        ]);
        expect(seen[0]).toMatchObject({ agent: "jarvis", containerId: "id-jarvis", createdAt: Date.parse(CREATED), watch: { tier: 2, version: "1.4.2", monitorWindowMs: 3_600_000 } });
        expect(daemon.eventRequests.length).toBeGreaterThanOrEqual(2);
        // Only this stack's agent containers, and only the events the rules use.
        expect(JSON.parse(new URLSearchParams(daemon.eventRequests[0]).get("filters")!)).toEqual({
            type: ["container"], label: [LABELS.agent, `${LABELS.stack}=dev`], event: ["health_status", "die", "oom", "start", "destroy", "kill"],
        });
        expect(daemon.calls.every((c) => c.startsWith("GET "))).toBe(true);
        expect(logs.filter((l) => l.startsWith("watching docker events")).length).toBeGreaterThanOrEqual(2);
    });

    it("reports the containers past their health gate at connect and once healthy, from their labels, with their address on the fleet network; and their stop", async () => {
        daemon = await fakeDaemon();
        daemon.running = ["pesti"];
        daemon.next = [[
            event("die", "pesti", "dev", { exitCode: "1" }), event("start", "pesti"), event("health_status: healthy", "pesti"), event("destroy", "pesti"),
        ]];
        const running: WatchedContainer[] = [];
        const stopped: string[] = [];
        watcher = new DockerWatcher({
            dockerHost: `unix://${daemon.socket}`, stack: "dev", network: "fleet-dev", onEvent: () => undefined,
            onRunning: (c) => running.push(c), onStopped: (id) => stopped.push(id), log: () => undefined, minBackoffMs: 5_000,
        });
        void watcher.start();
        await until("the destroy", () => (stopped.length >= 2 ? true : undefined), 5_000);
        expect(running).toHaveLength(2);
        expect(running[0]).toEqual({
            agent: "pesti", containerId: "id-pesti", createdAt: Date.parse(CREATED), address: "10.5.0.7",
            watch: {
                tier: 2, version: "1.4.2", monitorWindowMs: 3_600_000, port: 8080, errorRateLimitPercent: 2,
                smokeChecks: [{ name: "reply", method: "POST", path: "/v1/reply", expectStatus: 200, body: "{}" }],
            },
        });
        // Stopped at its death, probed again once healthy after its restart, gone at its removal.
        expect(stopped).toEqual(["id-pesti", "id-pesti"]);
        expect(JSON.parse(new URLSearchParams(daemon.listRequests[0]).get("filters")!)).toEqual({ label: [LABELS.agent, `${LABELS.stack}=dev`], status: ["running"] });
    });

    it("sends nothing for a stop on request (a deploy replacing a container) or for a container still in its health gate; a SIGKILL is a death", async () => {
        daemon = await fakeDaemon();
        daemon.next = [[
            // Replaced by a deploy: asked to stop with SIGTERM, then dies.
            event("kill", "pesti", "dev", { signal: "15" }), event("die", "pesti", "dev", { exitCode: "0" }),
            // A new container that never turns healthy: its deploy's health wait fails and says so.
            event("start", "email-agent"), event("health_status: unhealthy", "email-agent"),
            // Killed outright.
            event("kill", "jarvis", "dev", { signal: "9" }), event("die", "jarvis", "dev", { exitCode: "137" }),
        ]];
        const seen: ContainerEvent[] = [];
        const logs: string[] = [];
        watcher = new DockerWatcher({ dockerHost: `unix://${daemon.socket}`, stack: "dev", onEvent: (e) => seen.push(e), log: (m) => logs.push(m), minBackoffMs: 5_000 });
        void watcher.start();
        await until("the death of jarvis", () => (seen.length >= 1 ? true : undefined), 5_000);
        await new Promise((r) => setTimeout(r, 200));
        expect(seen.map((e) => [e.agent, e.observation])).toEqual([["jarvis", { kind: "die", exitCode: 137 }]]);
        expect(logs).toContain("pesti: stopped on request");
        expect(logs).toContain("email-agent: unhealthy before it was ever healthy (its deploy's health gate reports that)");
    });

    it("keeps trying while the daemon is down, and picks up once it is back", async () => {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), "fake-docker-down-"));
        const logs: string[] = [];
        const seen: ContainerEvent[] = [];
        const socket = path.join(dir, "docker.sock");
        watcher = new DockerWatcher({ dockerHost: `unix://${socket}`, stack: "dev", onEvent: (e) => seen.push(e), log: (m) => logs.push(m), minBackoffMs: 50, maxBackoffMs: 200 });
        void watcher.start();
        await new Promise((r) => setTimeout(r, 400));
        expect(logs.some((l) => /docker event stream lost .*; reconnecting in \d+ ms/.test(l))).toBe(true);
        expect(watcher.connected).toBe(false);

        daemon = await fakeDaemon();
        await fs.rm(socket, { force: true });
        await fs.symlink(daemon.socket, socket);
        daemon.next = [[event("oom", "pesti")]];
        await until("the observation after the daemon is back", () => (seen.length >= 1 ? true : undefined), 5_000);
        expect(seen.map((e) => [e.agent, e.observation.kind])).toEqual([["pesti", "oom"]]);
    });
});
