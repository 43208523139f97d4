/**
 * The sentinel: watches the fleet's containers after go-live and alerts the
 * routed channels. Docker events → rules → a spooled outbox → channels; its
 * own /health; SIGTERM stops it after one last delivery pass.
 */
import * as http from "http";
import { AlertEvent, alertId, oneLine } from "../../../alerts";
import { channelsFor } from "../../../config/routing";
import { SentinelConfigError, SentinelSettings, WatchedAgent, settingsFromEnv } from "./config";
import { Outbox } from "./outbox";
import { AlertRules, DEFAULT_RULES, Decision } from "./rules";
import { Spool } from "./spool";
import { ContainerEvent, DockerWatcher } from "./watcher";

const DRAIN_EVERY_MS = 1_000;
const TICK_EVERY_MS = 30_000;

function log(message: string): void {
    process.stdout.write(`${new Date().toISOString()} sentinel: ${message}\n`);
}

export async function runSentinel(settings: SentinelSettings): Promise<() => Promise<void>> {
    const { config } = settings;
    const agents = new Map<string, WatchedAgent>(config.agents.map((a) => [a.name, a]));
    const spool = new Spool(settings.spoolDir);
    await spool.open();
    const outbox = new Outbox(spool, settings.targets, undefined, undefined, log);
    const rules = new AlertRules({
        ...DEFAULT_RULES,
        reminderAfterMs: config.reminderAfterMs ?? DEFAULT_RULES.reminderAfterMs,
        rateLimit: config.rateLimit ?? DEFAULT_RULES.rateLimit,
        rateWindowMs: config.rateWindowMs ?? DEFAULT_RULES.rateWindowMs,
    });
    /** The latest container start per agent, for its watch window. */
    const started = new Map<string, { containerId: string; startedAt: number }>();

    const send = async (agent: WatchedAgent, containerId: string, d: Decision, now: number) => {
        const event: AlertEvent = {
            id: alertId(d.event, config.stack, agent.name, `${containerId}:${d.occurrence}`),
            event: d.event, severity: d.severity, stack: config.stack, environment: config.environment,
            agent: agent.name, tier: agent.tier, version: agent.version, time: new Date(now).toISOString(), reason: oneLine(d.reason),
        };
        const channels = channelsFor(config.channels, agent, d.severity).map((c) => c.name);
        if (channels.length === 0) return;
        await outbox.enqueue(event, channels);
        log(`${event.event} (${event.severity}) for ${agent.name} → ${channels.join(", ")}`);
        void outbox.drain();
    };

    const inWindow = (agent: WatchedAgent, startedAt: number, now: number) => now - startedAt < agent.monitorWindowMs;

    const onEvent = (e: ContainerEvent) => {
        const agent = agents.get(e.agent);
        if (!agent) return;
        started.set(agent.name, { containerId: e.containerId, startedAt: e.startedAt });
        const now = Date.now();
        for (const d of rules.observe({ agent: agent.name, inWindow: inWindow(agent, e.startedAt, now) }, e.observation, now)) {
            void send(agent, e.containerId, d, now).catch((error) => log(`could not spool an alert: ${String(error)}`));
        }
    };

    const watcher = new DockerWatcher({ socketPath: settings.dockerSocket, stack: config.stack, onEvent, log });
    void watcher.start();

    const drainTimer = setInterval(() => void outbox.drain().catch((e) => log(`drain failed: ${String(e)}`)), DRAIN_EVERY_MS);
    const tickTimer = setInterval(() => {
        const now = Date.now();
        for (const [name, s] of started) {
            const agent = agents.get(name)!;
            for (const d of rules.tick({ agent: name, inWindow: inWindow(agent, s.startedAt, now) }, now)) void send(agent, s.containerId, d, now);
        }
    }, TICK_EVERY_MS);

    const server = http.createServer(async (req, res) => {
        if (req.method === "GET" && req.url === "/health") {
            const pending = (await spool.list()).length;
            res.writeHead(200, { "content-type": "application/json" });
            res.end(JSON.stringify({ status: "ok", docker: watcher.connected ? "connected" : "reconnecting", pending }));
            return;
        }
        res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(settings.port, resolve));
    log(`up on :${settings.port}, ${agents.size} agents, ${settings.targets.size} channels, spool ${settings.spoolDir}`);

    return async () => {
        watcher.stop();
        clearInterval(drainTimer);
        clearInterval(tickTimer);
        await outbox.drain().catch(() => undefined);
        await new Promise((resolve) => server.close(resolve));
    };
}

if (require.main === module) {
    let settings: SentinelSettings;
    try {
        settings = settingsFromEnv(process.env);
    } catch (error) {
        process.stderr.write(`sentinel: ${error instanceof SentinelConfigError ? error.message : "could not read its configuration"}\n`);
        process.exit(1);
    }
    runSentinel(settings).then((stop) => {
        process.once("SIGTERM", () => void stop().then(() => process.exit(0)));
        process.once("SIGINT", () => void stop().then(() => process.exit(0)));
    }, (error: unknown) => {
        process.stderr.write(`sentinel: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
    });
}
