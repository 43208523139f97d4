"use strict";
// Sample mini-agent. CommonJS with one dependency, prom-client, which
// `npm run build:agents` bundles into dist/server.js: the image still needs
// only a `node` binary (the offline test base image is FROM scratch + node).

const { createHmac, timingSafeEqual } = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const promClient = require("prom-client");

const MAX_BODY_BYTES = 64 * 1024;
const STARTED_AT = Date.now();

// One JSON object per line so log shippers can parse without a grammar.
// Callers must never pass raw env values: they may carry secrets.
function log(stream, level, event, fields) {
    stream.write(JSON.stringify({ ts: new Date().toISOString(), level, event, ...fields }) + "\n");
}

function fatal(message) {
    log(process.stderr, "error", "startup_failed", { message });
    process.exit(1);
}

function intFromEnv(name, fallback, min, max) {
    const raw = process.env[name];
    if (raw === undefined || raw === "") return fallback;
    if (!/^\d+$/.test(raw.trim())) fatal(`${name} must be an integer between ${min} and ${max}`);
    const value = Number(raw.trim());
    if (value < min || value > max) fatal(`${name} must be an integer between ${min} and ${max}`);
    return value;
}

// Validated once at startup so a bad rollout config fails the deploy (container
// exits 1 and never turns healthy) instead of surfacing later as a 500.
function parseFeatureFlags(raw) {
    if (raw === undefined || raw.trim() === "") return {};
    const expected = 'FEATURE_FLAGS must be a JSON object mapping flag name to rollout stage string, e.g. {"smart-replies":"team"}';
    let parsed;
    try {
        parsed = JSON.parse(raw);
    } catch (err) {
        // V8's parse error quotes the input; report only the position so a
        // misplaced secret in the variable never reaches the logs.
        const pos = /position (\d+)/.exec(String(err && err.message));
        fatal(`invalid FEATURE_FLAGS: not valid JSON${pos ? ` (error at position ${pos[1]})` : ""}. ${expected}`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        fatal(`invalid FEATURE_FLAGS: top-level value is ${Array.isArray(parsed) ? "an array" : parsed === null ? "null" : typeof parsed}. ${expected}`);
    }
    for (const [name, stage] of Object.entries(parsed)) {
        if (typeof stage !== "string") {
            fatal(`invalid FEATURE_FLAGS: flag "${name}" has a ${stage === null ? "null" : typeof stage} stage. ${expected}`);
        }
    }
    return Object.freeze({ ...parsed });
}

// Secrets arrive as env vars (the container runtime) or as files under
// /run/secrets that <NAME>_FILE points at (the swarm runtime mounts them
// there, as Compose does). Only paths under /run/secrets count: plenty of
// unrelated variables end in _FILE (SSL_CERT_FILE, TF_CLI_CONFIG_FILE).
// Every file secret is read once at startup, so an unreadable one fails the
// deploy rather than the first request that needs it. Values are never logged:
// only names.
const SECRET_FILE_SUFFIX = "_FILE";
const SECRETS_DIR = "/run/secrets/";
function loadFileSecrets() {
    const secrets = {};
    for (const [key, file] of Object.entries(process.env)) {
        if (!key.endsWith(SECRET_FILE_SUFFIX) || key.length === SECRET_FILE_SUFFIX.length || !file || !file.startsWith(SECRETS_DIR)) continue;
        const name = key.slice(0, -SECRET_FILE_SUFFIX.length);
        try {
            // One trailing newline is how secrets usually end up in files; it is not part of the value.
            secrets[name] = fs.readFileSync(file, "utf8").replace(/\r?\n$/, "");
        } catch (err) {
            fatal(`${key} points at ${file}, which cannot be read (${err && err.code ? err.code : "error"})`);
        }
    }
    return secrets;
}
const fileSecrets = loadFileSecrets();

/** A secret by its env var name: the file <NAME>_FILE names, else the env var itself; undefined when neither is set. */
function readSecret(name) {
    if (Object.prototype.hasOwnProperty.call(fileSecrets, name)) return fileSecrets[name];
    const value = process.env[name];
    return value === undefined || value === "" ? undefined : value;
}

// Inbound webhooks, as the platform describes them in WEBHOOKS:
// [{"name","source":"github"|"generic","path","secretEnv"}]. Each one's
// secret must be there at startup: a webhook nobody can verify is refused
// by failing the deploy, not by answering 401 forever.
const WEBHOOK_SOURCES = new Set(["github", "generic"]);
function parseWebhooks(raw) {
    if (raw === undefined || raw.trim() === "") return [];
    const expected = 'WEBHOOKS must be a JSON list like [{"name":"github-push","source":"github","path":"/webhooks/github","secretEnv":"WEBHOOK_GITHUB_PUSH_SECRET"}]';
    let parsed;
    try {
        parsed = JSON.parse(raw);
    } catch {
        fatal(`invalid WEBHOOKS: not valid JSON. ${expected}`);
    }
    if (!Array.isArray(parsed)) fatal(`invalid WEBHOOKS: not a list. ${expected}`);
    return parsed.map((w, i) => {
        const ok = w && typeof w.name === "string" && WEBHOOK_SOURCES.has(w.source) && typeof w.path === "string" && w.path.startsWith("/") && typeof w.secretEnv === "string";
        if (!ok) fatal(`invalid WEBHOOKS: entry ${i} needs a name, a source (github or generic), a path starting with / and a secretEnv. ${expected}`);
        const secret = readSecret(w.secretEnv);
        if (!secret) fatal(`webhook "${w.name}": its secret ${w.secretEnv} is not set (as ${w.secretEnv} or ${w.secretEnv}${SECRET_FILE_SUFFIX})`);
        return Object.freeze({ name: w.name, source: w.source, path: w.path, secret });
    });
}
const webhooks = parseWebhooks(process.env.WEBHOOKS);

const config = Object.freeze({
    port: intFromEnv("PORT", 8080, 1, 65535),
    agent: process.env.AGENT_NAME || "sample-agent",
    version: process.env.AGENT_VERSION || "0.0.0-dev",
    flags: parseFeatureFlags(process.env.FEATURE_FLAGS),
    shutdownGraceMs: intFromEnv("SHUTDOWN_GRACE_MS", 5000, 0, 24 * 60 * 60 * 1000),
    faultInjection: (process.env.FAULT_INJECTION || "on").toLowerCase() !== "off",
});

const state = {
    healthFailure: process.env.FAIL_HEALTH === "1" ? "FAIL_HEALTH=1 at startup" : null,
    draining: false,
    /** Percent of /v1/* requests answered 500 (fault injection), and how many /v1/* requests came in. */
    errorPercent: 0,
    v1Requests: 0,
};

// Prometheus metrics at GET /metrics: the sentinel scrapes them during the
// watch window and compares the 5xx ratio with the agent's errorRateLimit.
const metrics = new promClient.Registry();
promClient.collectDefaultMetrics({ register: metrics });
const requestsTotal = new promClient.Counter({
    name: "http_requests_total",
    help: "HTTP requests answered, by method, route and status code.",
    // The route is the matched pattern (or "unmatched"), never the raw path: bounded label values.
    labelNames: ["method", "route", "status"],
    registers: [metrics],
});

class HttpError extends Error {
    constructor(status, message, extra) {
        super(message);
        this.status = status;
        this.extra = extra;
    }
}

/** A non-JSON answer (the metrics exposition). */
class RawBody {
    constructor(text, contentType) {
        this.text = text;
        this.contentType = contentType;
    }
}

function send(res, status, body, headers) {
    const raw = body instanceof RawBody;
    const payload = raw ? body.text : JSON.stringify(body);
    const h = { "content-type": raw ? body.contentType : "application/json; charset=utf-8", "content-length": Buffer.byteLength(payload), ...headers };
    // Keep-alive sockets would otherwise hold server.close() open until the
    // client gives up; ask clients to reconnect (elsewhere) once we drain.
    if (state.draining) h.connection = "close";
    res.writeHead(status, h);
    res.end(payload);
}

function readBody(req) {
    return readRawBody(req).then((raw) => raw.toString("utf8"));
}

// Refuses an oversized body from its Content-Length before reading it, and
// stops collecting as soon as a body without one grows past the limit.
function readRawBody(req) {
    return new Promise((resolve, reject) => {
        const declared = Number(req.headers["content-length"]);
        if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
            reject(new HttpError(413, `request body exceeds ${MAX_BODY_BYTES} bytes`));
            return;
        }
        const chunks = [];
        let size = 0;
        let rejected = false;
        req.on("data", (chunk) => {
            if (rejected) return;
            size += chunk.length;
            if (size > MAX_BODY_BYTES) {
                rejected = true;
                chunks.length = 0;
                reject(new HttpError(413, `request body exceeds ${MAX_BODY_BYTES} bytes`));
                return;
            }
            chunks.push(chunk);
        });
        req.on("end", () => {
            if (!rejected) resolve(Buffer.concat(chunks));
        });
        req.on("error", (err) => {
            if (!rejected) reject(err);
        });
    });
}

async function readJson(req, { optional = false } = {}) {
    const text = await readBody(req);
    if (text.trim() === "") {
        if (optional) return {};
        throw new HttpError(400, "request body must be a JSON object", { field: "body" });
    }
    let value;
    try {
        value = JSON.parse(text);
    } catch {
        throw new HttpError(400, "request body is not valid JSON", { field: "body" });
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
        throw new HttpError(400, "request body must be a JSON object", { field: "body" });
    }
    return value;
}

function identity() {
    return { agent: config.agent, version: config.version };
}

function health() {
    if (state.draining) return [503, { status: "draining", ...identity(), flags: config.flags }];
    if (state.healthFailure) return [503, { status: "failing", ...identity(), reason: state.healthFailure, flags: config.flags }];
    return [200, { status: "ok", ...identity(), uptimeSeconds: Math.floor((Date.now() - STARTED_AT) / 1000), flags: config.flags }];
}

// Deterministic on purpose: tests and canary comparisons need the same answer
// from every replica and every version that shares the contract.
function cannedReply(message) {
    return `echo: ${message}`;
}

const routes = {
    "GET /health": async () => health(),
    "GET /metrics": async () => [200, new RawBody(await metrics.metrics(), metrics.contentType)],
    "GET /flags": async () => [200, { flags: config.flags }],
    "POST /v1/reply": async (req) => {
        injectedError();
        const body = await readJson(req);
        if (typeof body.message !== "string") {
            throw new HttpError(400, "field 'message' is required and must be a string", { field: "message" });
        }
        return [200, { agent: config.agent, reply: cannedReply(body.message) }];
    },
};

// Webhook signatures. GitHub: X-Hub-Signature-256 = "sha256=" + HMAC-SHA256 of
// the raw body. Generic senders: the fleet's alert scheme (alerts/sign.ts),
// X-Agent-Fleet-Signature = "v1=" + HMAC-SHA256 of "<timestamp>.<body>", with
// X-Agent-Fleet-Timestamp within five minutes of this clock, and a signature
// seen before in that window refused as a replay. Written out here because
// the agent is its own program: it shares the scheme, not the fleet's code.
const WEBHOOK_REPLAY_WINDOW_SECONDS = 300;
const seenSignatures = new Map();

function hmacHex(secret, ...parts) {
    const mac = createHmac("sha256", secret);
    for (const part of parts) mac.update(part);
    return mac.digest("hex");
}

function sameText(a, b) {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
}

/** Why a delivery is refused, or null when it is authentic. */
function webhookRefusal(webhook, headers, raw) {
    if (webhook.source === "github") {
        const given = headers["x-hub-signature-256"];
        if (typeof given !== "string" || given === "") return "missing signature";
        return sameText(given, `sha256=${hmacHex(webhook.secret, raw)}`) ? null : "bad signature";
    }
    const given = headers["x-agent-fleet-signature"];
    const timestamp = headers["x-agent-fleet-timestamp"];
    if (typeof given !== "string" || given === "" || typeof timestamp !== "string" || !/^\d+$/.test(timestamp)) return "missing signature";
    const now = Math.floor(Date.now() / 1000);
    if (Math.abs(now - Number(timestamp)) > WEBHOOK_REPLAY_WINDOW_SECONDS) return "stale timestamp";
    if (!sameText(given, `v1=${hmacHex(webhook.secret, `${timestamp}.`, raw)}`)) return "bad signature";
    for (const [signature, expires] of seenSignatures) if (expires < now) seenSignatures.delete(signature);
    if (seenSignatures.has(given)) return "replayed delivery";
    seenSignatures.set(given, Number(timestamp) + WEBHOOK_REPLAY_WINDOW_SECONDS);
    return null;
}

const webhookDeliveries = new promClient.Counter({
    name: "webhook_deliveries_total",
    help: "Webhook deliveries, by webhook and outcome (accepted, or why refused).",
    labelNames: ["webhook", "outcome"],
    registers: [metrics],
});

for (const webhook of webhooks) {
    routes[`POST ${webhook.path}`] = async (req) => {
        let raw;
        try {
            raw = await readRawBody(req);
        } catch (err) {
            if (err instanceof HttpError) webhookDeliveries.inc({ webhook: webhook.name, outcome: "too large" });
            throw err;
        }
        const refusal = webhookRefusal(webhook, req.headers, raw);
        if (refusal) {
            // The body is never parsed, logged or acted on.
            webhookDeliveries.inc({ webhook: webhook.name, outcome: refusal });
            log(process.stdout, "warn", "webhook_refused", { webhook: webhook.name, reason: refusal });
            throw new HttpError(401, `webhook refused: ${refusal}`);
        }
        let payload;
        try {
            payload = JSON.parse(raw.toString("utf8"));
        } catch {
            throw new HttpError(400, "webhook body is not valid JSON", { field: "body" });
        }
        webhookDeliveries.inc({ webhook: webhook.name, outcome: "accepted" });
        const event = req.headers["x-github-event"] ?? (payload && typeof payload.event === "string" ? payload.event : undefined);
        log(process.stdout, "info", "webhook_received", { webhook: webhook.name, event, delivery: req.headers["x-github-delivery"] });
        return [202, { accepted: webhook.name, event: event ?? null }];
    };
}

// Deterministic and evenly spread: request n fails when floor(n·p/100) steps up, so any
// run of requests fails p% of them (to the nearest request) and a test knows the exact 5xx ratio.
function injectedError() {
    const n = ++state.v1Requests;
    const p = state.errorPercent;
    if (Math.floor((n * p) / 100) > Math.floor(((n - 1) * p) / 100)) throw new Error("injected failure (fault injection)");
}

// Fault injection exists so alerting and automated rollback can be exercised
// against a real container; FAULT_INJECTION=off removes the surface entirely.
const adminRoutes = {
    "POST /admin/health/fail": async (req) => {
        const body = await readJson(req, { optional: true });
        if (body.reason !== undefined && typeof body.reason !== "string") {
            throw new HttpError(400, "field 'reason' must be a string", { field: "reason" });
        }
        state.healthFailure = (body.reason || "failed on demand").slice(0, 200);
        log(process.stdout, "warn", "health_failed", { reason: state.healthFailure });
        return [200, { status: "failing", reason: state.healthFailure }];
    },
    "POST /admin/health/recover": async () => {
        state.healthFailure = null;
        log(process.stdout, "info", "health_recovered", {});
        return [200, { status: "ok" }];
    },
    // Answers this percent of /v1/* requests with 500 from now on; 0 stops it.
    "POST /admin/errors": async (req) => {
        const body = await readJson(req);
        const percent = body.percent;
        if (typeof percent !== "number" || !Number.isInteger(percent) || percent < 0 || percent > 100) {
            throw new HttpError(400, "field 'percent' must be an integer from 0 to 100", { field: "percent" });
        }
        state.errorPercent = percent;
        state.v1Requests = 0;
        log(process.stdout, "warn", "errors_injected", { percent });
        return [200, { errorPercent: percent }];
    },
    // Holds a request open so graceful shutdown can be tested with real
    // in-flight work, not just an idle server.
    "GET /admin/slow": async (_req, url) => {
        const ms = Math.min(Math.max(Number(url.searchParams.get("ms")) || 0, 0), 60_000);
        await new Promise((r) => setTimeout(r, ms));
        return [200, { slept: ms }];
    },
};

function allowedMethods(table, pathname) {
    return Object.keys(table)
        .filter((k) => k.slice(k.indexOf(" ") + 1) === pathname)
        .map((k) => k.slice(0, k.indexOf(" ")));
}

async function handle(req, res) {
    const url = new URL(req.url || "/", "http://localhost");
    const table = url.pathname.startsWith("/admin/") ? (config.faultInjection ? adminRoutes : {}) : routes;
    const handler = table[`${req.method} ${url.pathname}`];
    res.on("finish", () => {
        const known = handler || allowedMethods(table, url.pathname).length > 0;
        requestsTotal.inc({ method: req.method, route: known ? url.pathname : "unmatched", status: String(res.statusCode) });
    });
    try {
        if (!handler) {
            const allow = allowedMethods(table, url.pathname);
            if (allow.length > 0) throw new HttpError(405, `method ${req.method} not allowed`);
            throw new HttpError(404, `no route for ${req.method} ${url.pathname}`);
        }
        const [status, body] = await handler(req, url);
        send(res, status, body);
    } catch (err) {
        if (err instanceof HttpError) {
            const allow = allowedMethods(table, url.pathname);
            const headers = err.status === 405 ? { allow: allow.join(", ") } : undefined;
            // Unread body bytes would be parsed as the next request on this socket.
            if (err.status === 413) res.setHeader("connection", "close");
            send(res, err.status, { error: err.message, ...err.extra }, headers);
        } else {
            log(process.stderr, "error", "request_failed", { method: req.method, path: url.pathname, message: String(err && err.message) });
            if (!res.headersSent) send(res, 500, { error: "internal error" });
            else res.destroy();
        }
    }
}

const server = http.createServer((req, res) => {
    // A socket that just finished its last in-flight response while draining
    // is now idle; release it so server.close() can complete promptly.
    res.on("finish", () => {
        if (state.draining) server.closeIdleConnections();
    });
    void handle(req, res);
});

server.on("error", (err) => {
    log(process.stderr, "error", "server_error", { code: err.code, message: err.message });
    process.exit(1);
});

function shutdown(signal) {
    if (state.draining) return;
    state.draining = true;
    const started = Date.now();
    log(process.stdout, "info", "shutdown_started", { signal, graceMs: config.shutdownGraceMs });
    // Exit 0 even when forced: the orchestrator asked us to stop, and a
    // non-zero code would read as a crash and trip restart/alert policies.
    const force = setTimeout(() => {
        log(process.stdout, "warn", "shutdown_forced", { signal, elapsedMs: Date.now() - started });
        process.exit(0);
    }, config.shutdownGraceMs);
    server.close(() => {
        clearTimeout(force);
        log(process.stdout, "info", "shutdown_complete", { signal, elapsedMs: Date.now() - started });
        process.exit(0);
    });
    server.closeIdleConnections();
}

process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));

server.listen(config.port, () => {
    log(process.stdout, "info", "startup", {
        agent: config.agent,
        version: config.version,
        port: config.port,
        flagCount: Object.keys(config.flags).length,
        faultInjection: config.faultInjection,
        healthFailing: state.healthFailure !== null,
        secretFiles: Object.keys(fileSecrets).sort(),
        webhooks: webhooks.map((w) => `${w.source} ${w.path}`),
        node: process.version,
    });
});
