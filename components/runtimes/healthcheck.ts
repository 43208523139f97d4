import type { HealthcheckSpec } from "../../config";
import { goDuration } from "../../contract";

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
 */
export function dockerHealthcheck(port: number, healthcheck: HealthcheckSpec, duration: (ms: number) => string = goDuration) {
    return {
        tests: [...(healthcheck.command ?? defaultProbeCommand(port, healthcheck))],
        interval: duration(healthcheck.intervalMs),
        timeout: duration(healthcheck.timeoutMs),
        retries: healthcheck.retries,
        startPeriod: duration(healthcheck.startPeriodMs),
    };
}
