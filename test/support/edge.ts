/**
 * Clients of the edge for the real-engine suites: one HTTPS request as the
 * public would send it to a hostname (on loopback, with SNI), and a probe
 * through the edge every 50 ms that counts what answered.
 */
import https from "node:https";

export interface Answer { readonly status: number | string; readonly agent?: string; readonly body: string }

export interface RequestOptions {
    readonly method?: string;
    readonly headers?: Record<string, string>;
    readonly body?: string;
    /** Roots to trust: the chain and the hostname are then checked; without, the answer is counted, not the certificate. */
    readonly ca?: string;
}

/** The status a request gets when its kept-alive connection was closed under it before any answer. */
const RESET_REUSED = "reset of a reused connection";

/** One HTTPS request to the edge on loopback, as a client of `host` would send it. */
export function request(port: number, host: string, pathname: string, agent: https.Agent | false, options: RequestOptions = {}): Promise<Answer> {
    return new Promise((resolve) => {
        const req = https.request({
            host: "127.0.0.1", port, servername: host, path: pathname, method: options.method ?? "GET", headers: { host, ...options.headers }, agent, timeout: 10_000,
            ...(options.ca ? { ca: options.ca, rejectUnauthorized: true } : agent === false ? { rejectUnauthorized: false } : {}),
        }, (res) => {
            let body = "";
            res.on("data", (chunk: Buffer) => { body += chunk.toString(); });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, agent: res.headers["x-agent-fleet-agent"] as string | undefined, body }));
        });
        req.on("error", (error: NodeJS.ErrnoException) => resolve({
            // A kept-alive connection the server closed as the request went out (Caddy's graceful reload closes idle
            // ones): nothing was processed, and HTTP clients retry (RFC 9112 §9.3.1; Node's docs give this very check).
            status: req.reusedSocket && error.code === "ECONNRESET" ? RESET_REUSED : error.code ?? error.message,
            body: "",
        }));
        req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
        req.end(options.body);
    });
}

/** Requests `host`'s /health through the edge every 50 ms until stopped; counts answers by outcome. */
export function edgeProbe(port: number, host: string) {
    // The edge's certificate comes from its own CA in dev: this probe counts answers, it does not judge the chain.
    const agent = new https.Agent({ keepAlive: true, rejectUnauthorized: false });
    const counts = { ok: 0, failed: 0, failures: {} as Record<string, number>, retriedResets: 0 };
    let running = true;
    const done = (async () => {
        while (running) {
            const started = Date.now();
            let answer = await request(port, host, "/health", agent);
            if (answer.status === RESET_REUSED) {
                counts.retriedResets++;
                answer = await request(port, host, "/health", agent);
            }
            if (answer.status === 200) counts.ok++;
            else {
                counts.failed++;
                counts.failures[String(answer.status)] = (counts.failures[String(answer.status)] ?? 0) + 1;
            }
            await new Promise((resolve) => setTimeout(resolve, Math.max(0, 50 - (Date.now() - started))));
        }
    })();
    return { counts, stop: async () => { running = false; await done; agent.destroy(); return counts; } };
}

/**
 * The end of the exposed sample agent's entry in an edge suite's stack file: a healthcheck that tolerates
 * two busy cores, and the env a release changes (REVISION).
 */
export const SAMPLE_AGENT_EDGE_FIELDS: readonly string[] = [
    "        healthcheck:",
    // A probe is a node process: on two busy cores starting one has taken more than a second.
    '          interval: "2s"',
    '          timeout: "2s"',
    "          retries: 2",
    '          startPeriod: "1s"',
    "        waitTimeout: 25s",
    "        env:",
    '          REVISION: "0"',
];

/** What `releaseUnderProbe` needs from a suite: how it changes REVISION, and how it runs `fleet up` for one release. */
export interface Releases {
    readonly setRevision: (revision: string) => Promise<void>;
    readonly up: () => Promise<{ readonly exitCode: number; readonly stdout: string; readonly stderr: string }>;
}

/**
 * `count` releases, one REVISION each, by `fleet up`, under a probe through the edge to `host`; throws on a
 * failed `fleet up`. Returns the probe's counts and a line per release (how long it took, the probe so far).
 */
export async function releaseUnderProbe(count: number, port: number, host: string, releases: Releases) {
    const watch = edgeProbe(port, host);
    const lines: string[] = [];
    try {
        for (let release = 1; release <= count; release++) {
            await releases.setRevision(String(release));
            const started = Date.now();
            const up = await releases.up();
            if (up.exitCode !== 0) throw new Error(`fleet up, release ${release}, exited ${up.exitCode}:\n${up.stdout.slice(-2000)}\n${up.stderr.slice(-2000)}`);
            lines.push(`release ${release}: fleet up ${((Date.now() - started) / 1000).toFixed(1)} s; probe so far ${watch.counts.ok} ok, ${watch.counts.failed} failed`);
        }
    } finally {
        await watch.stop();
    }
    return { counts: watch.counts, lines };
}
