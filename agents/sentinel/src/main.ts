/**
 * The sentinel: watches the fleet's containers after go-live and alerts the
 * routed channels. Docker events → rules → a spooled outbox → channels; its
 * own /health; SIGTERM stops it after one last delivery pass.
 */
import * as http from "http";
import { AlertEvent, alertId, oneLine } from "../../../alerts";
import { channelsFor } from "../../../alerts/routing";
import { SentinelConfigError, SentinelSettings, WatchedAgent, settingsFromEnv } from "./config";
import { Outbox } from "./outbox";
import { DEFAULT_PROBES, Prober, inWatchWindow } from "./probe";
import { AlertRules, DEFAULT_RULES, Decision, Observation } from "./rules";
import { Spool } from "./spool";
import { DockerWatcher, WatchedContainer } from "./watcher";

const DRAIN_EVERY_MS = 1_000;
const TICK_EVERY_MS = 30_000;
/** How often the probes look for work; each probe keeps its own interval. */
const PROBE_TICK_MS = 1_000;

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
    const prober = new Prober({ ...DEFAULT_PROBES, ...config.probes }, log);
    /** The latest container per agent, for reminders and their watch window. */
    const latest = new Map<string, WatchedContainer>();

    const send = async (agent: WatchedAgent, container: WatchedContainer, d: Decision, now: number) => {
        const event: AlertEvent = {
            id: alertId(d.event, config.stack, agent.name, `${container.containerId}:${d.occurrence}`), source: "sentinel",
            event: d.event, severity: d.severity, stack: config.stack, environment: config.environment,
            agent: agent.name, tier: container.watch.tier, version: container.watch.version, time: new Date(now).toISOString(), reason: oneLine(d.reason),
        };
        const channels = channelsFor(config.channels, agent, d.severity).map((c) => c.name);
        if (channels.length === 0) return;
        await outbox.enqueue(event, channels);
        log(`${event.event} (${event.severity}) for ${agent.name} → ${channels.join(", ")}`);
        void outbox.drain();
    };

    const observe = (container: WatchedContainer, observation: Observation, now: number) => {
        const agent = agents.get(container.agent);
        if (!agent) return;
        latest.set(agent.name, container);
        for (const d of rules.observe({ agent: agent.name, inWindow: inWatchWindow(container, now) }, observation, now)) {
            void send(agent, container, d, now).catch((error) => log(`could not spool an alert: ${String(error)}`));
        }
    };

    const watcher = new DockerWatcher({
        dockerHost: settings.dockerHost,
        stack: config.stack,
        ...(config.network ? { network: config.network } : {}),
        onEvent: (e) => observe(e, e.observation, Date.now()),
        onRunning: (c) => {
            if (!agents.has(c.agent) || !c.address) return;
            latest.set(c.agent, c);
            prober.set({ agent: c.agent, containerId: c.containerId, createdAt: c.createdAt, watch: c.watch, baseUrl: `http://${c.address}:${c.watch.port}` });
        },
        onStopped: (id) => prober.remove(id),
        log,
    });
    void watcher.start();

    let probing = false;
    const probeTimer = setInterval(() => {
        if (probing) return;
        probing = true;
        const now = Date.now();
        prober.round(now)
            .then((results) => results.forEach((r) => observe(r.target, r.observation, now)))
            .catch((e: unknown) => log(`probe round failed: ${String(e)}`))
            .finally(() => { probing = false; });
    }, PROBE_TICK_MS);
    const drainTimer = setInterval(() => void outbox.drain().catch((e) => log(`drain failed: ${String(e)}`)), DRAIN_EVERY_MS);
    const tickTimer = setInterval(() => {
        const now = Date.now();
        for (const [name, container] of latest) {
            const agent = agents.get(name)!;
            for (const d of rules.tick({ agent: name, inWindow: inWatchWindow(container, now) }, now)) void send(agent, container, d, now);
        }
    }, TICK_EVERY_MS);

    const server = http.createServer(async (req, res) => {
        if (req.method === "GET" && req.url === "/health") {
            const pending = (await spool.list()).length;
            // Not watching is unhealthy: a sentinel that cannot read Docker events must not pass its deploy's health wait.
            res.writeHead(watcher.connected ? 200 : 503, { "content-type": "application/json" });
            res.end(JSON.stringify({ status: watcher.connected ? "ok" : "not watching", docker: watcher.connected ? "connected" : "reconnecting", pending, probed: prober.size }));
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
        clearInterval(probeTimer);
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
