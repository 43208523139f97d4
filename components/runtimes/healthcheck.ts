import { HealthcheckSpec, probeIntervalMs } from "../../config";
import { EngineHealthFeatures, UNKNOWN_ENGINE, goDuration } from "../../contract";

/**
 * The default probe runs the image's own `node`, because agent images are Node
 * services and many ship without curl or wget. Images without node set
 * `healthcheck.command` instead. It prints one line either way, which Docker
 * keeps as the probe's output (`State.Health.Log`), so that `fleet verify`,
 * `fleet up` and the alerts can say why an agent is unhealthy:
 * "GET /health: 503 {"status":"failing","reason":"…"}", "GET /health: ECONNREFUSED".
 */
function defaultProbeCommand(port: number, healthcheck: HealthcheckSpec): string[] {
    const url = `http://127.0.0.1:${port}${healthcheck.path}`;
    const what = JSON.stringify(`GET ${healthcheck.path}: `);
    const script = `fetch(${JSON.stringify(url)},{signal:AbortSignal.timeout(${healthcheck.timeoutMs})})`
        + `.then(r=>r.text().then(b=>{console.log(${what}+r.status+" "+b.slice(0,200));process.exit(r.ok?0:1)}),`
        + `e=>{console.log(${what}+(e.cause&&e.cause.code||e.name||e));process.exit(1)})`;
    return ["CMD", "node", "-e", script];
}

/**
 * Docker healthcheck fields, with durations spelled as the provider reads them
 * back: Go's form for containers, `swarmDuration` for services.
 *
 * A ready agent should turn healthy within a second or two, not at the first
 * probe one `interval` after it starts. Where the engine has start_interval,
 * it probes at `startInterval` while the agent starts. Elsewhere (and for
 * Swarm services, which the provider gives no start_interval) an agent that
 * sets `healthcheck.startInterval` itself has the interval shortened to it,
 * at least the tier's `startIntervalFallback` (2 s), with retries raised
 * so that startPeriod + interval × retries, the time to unhealthy the tier
 * promises and the health gate, the watch and Swarm's update monitor are
 * measured against, is the same.
 */
export function dockerHealthcheck(port: number, healthcheck: HealthcheckSpec, duration: (ms: number) => string = goDuration, engine: EngineHealthFeatures = UNKNOWN_ENGINE) {
    const base = {
        tests: [...(healthcheck.command ?? defaultProbeCommand(port, healthcheck))],
        timeout: duration(healthcheck.timeoutMs),
        startPeriod: duration(healthcheck.startPeriodMs),
    };
    if (engine.startInterval && healthcheck.startIntervalMs < healthcheck.intervalMs) {
        return { ...base, interval: duration(healthcheck.intervalMs), retries: healthcheck.retries, startInterval: duration(healthcheck.startIntervalMs) };
    }
    const intervalMs = probeIntervalMs(healthcheck, engine);
    return { ...base, interval: duration(intervalMs), retries: Math.ceil((healthcheck.intervalMs * healthcheck.retries) / intervalMs) };
}
