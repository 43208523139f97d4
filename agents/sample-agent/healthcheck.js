"use strict";
// Docker HEALTHCHECK probe. Written in Node rather than curl/wget because the
// image may be built FROM scratch with nothing but a node binary.
//   node /app/healthcheck.js [url]
const http = require("node:http");
const https = require("node:https");

const TIMEOUT_MS = 2000;
const target = process.argv[2] || `http://127.0.0.1:${process.env.PORT || 8080}/health`;

function done(code, message) {
    // Docker stores probe output in `inspect .State.Health.Log`; one line helps triage.
    if (message) process.stdout.write(message + "\n");
    process.exit(code);
}

let url;
try {
    url = new URL(target);
} catch {
    done(1, `healthcheck: invalid url ${target}`);
}

// Hard deadline covering DNS, connect and a slow body; socket timeouts alone
// would not fire while bytes trickle in.
setTimeout(() => done(1, `healthcheck: timed out after ${TIMEOUT_MS}ms`), TIMEOUT_MS).unref();

const client = url.protocol === "https:" ? https : http;
const req = client.get(url, { timeout: TIMEOUT_MS, headers: { connection: "close" } }, (res) => {
    const status = res.statusCode || 0;
    res.resume();
    res.on("end", () => done(status >= 200 && status < 300 ? 0 : 1, `healthcheck: HTTP ${status}`));
    res.on("error", (err) => done(1, `healthcheck: ${err.message}`));
});
req.on("timeout", () => req.destroy(new Error(`timed out after ${TIMEOUT_MS}ms`)));
req.on("error", (err) => done(1, `healthcheck: ${err.message}`));
