/**
 * The watch-window probes against the real sample agent (its server.js in a
 * child process): the 5xx share from its prom-client counters over a sliding
 * window, and its smoke checks; nothing outside the window.
 */
import { ChildProcess, spawn } from "child_process";
import * as net from "net";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorRateWindow, requestCounts } from "../../agents/sentinel/src/metrics";
import { DEFAULT_PROBES, ProbeTarget, Prober } from "../../agents/sentinel/src/probe";
import { watchFromLabels } from "../../contract";
import { agentLabels } from "../../components/agent-service";
import { agentSpec } from "../support/specs";
import { REPO_ROOT } from "../support/docker";
import { freePort } from "../support/sentinel";

const EXPOSITION = `# HELP http_requests_total HTTP requests answered, by method, route and status code.
# TYPE http_requests_total counter
http_requests_total{method="POST",route="/v1/reply",status="200"} 90
http_requests_total{method="POST",route="/v1/reply",status="500"} 7
http_requests_total{method="GET",route="/health",status="503"} 40
http_requests_total{method="GET",route="/metrics",status="200"} 12
http_requests_total{method="GET",route="unmatched",status="502"} 3
process_cpu_seconds_total 0.5
`;

describe("reading the request counters", () => {
    it("sums http_requests_total over every route but the probes, and counts 5xx answers as errors", () => {
        expect(requestCounts(EXPOSITION)).toEqual({ total: 100, errors: 10 });
    });

    it("says nothing when the agent has no such counter", () => {
        expect(requestCounts("process_cpu_seconds_total 0.5\n")).toBeUndefined();
    });
});

describe("the sliding 5xx window", () => {
    it("judges the requests between the oldest scrape in the window and the newest, once there are enough", () => {
        const window = new ErrorRateWindow(60_000, 20);
        expect(window.add(0, { total: 0, errors: 0 })).toBeUndefined();
        expect(window.add(10_000, { total: 10, errors: 5 })).toBeUndefined(); // 10 requests: too few to judge
        expect(window.add(20_000, { total: 40, errors: 6 })).toEqual({ requests: 40, errors: 6, ratePercent: 15 });
        // 90 s later the bad start has left the window: 100 clean requests since the scrape at 20 s… and the one at 70 s.
        window.add(70_000, { total: 90, errors: 6 });
        expect(window.add(130_000, { total: 140, errors: 6 })).toEqual({ requests: 50, errors: 0, ratePercent: 0 });
    });

    it("starts over when a counter goes down (the agent restarted)", () => {
        const window = new ErrorRateWindow(60_000, 1);
        window.add(0, { total: 100, errors: 50 });
        expect(window.add(1_000, { total: 5, errors: 0 })).toBeUndefined();
        expect(window.add(2_000, { total: 9, errors: 1 })).toEqual({ requests: 4, errors: 1, ratePercent: 25 });
    });
});

describe("the prober against the sample agent", () => {
    let agent: ChildProcess;
    let base = "";

    beforeAll(async () => {
        const port = await freePort();
        base = `http://127.0.0.1:${port}`;
        agent = spawn(process.execPath, [path.join(REPO_ROOT, "agents", "sample-agent", "server.js")], { env: { ...process.env, PORT: String(port) }, stdio: "ignore" });
        for (let i = 0; i < 100; i++) {
            if (await fetch(`${base}/health`).then((r) => r.ok, () => false)) return;
            await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error("the sample agent did not start");
    });
    afterAll(() => { agent.kill(); });

    const reply = () => fetch(`${base}/v1/reply`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ message: "hi" }) });
    const errors = (percent: number) => fetch(`${base}/admin/errors`, { method: "POST", body: JSON.stringify({ percent }) });

    function target(fields: Record<string, unknown>, createdAt = Date.now()): ProbeTarget {
        const { watch } = watchFromLabels(agentLabels(agentSpec({ tier: 2, ...fields }, "dev"), "dev"));
        return { agent: "pesti", containerId: `c-${Math.random()}`, baseUrl: base, createdAt, watch };
    }

    it("observes the 5xx share against the agent's errorRateLimit inside the window, and nothing outside it", async () => {
        const prober = new Prober({ ...DEFAULT_PROBES, scrapeEveryMs: 0, minRequests: 20 });
        const inside = target({ monitorWindow: "1h", errorRateLimit: 5 });
        const outside = target({ monitorWindow: "1m", errorRateLimit: 5 }, Date.now() - 120_000);
        prober.set(inside);
        prober.set(outside);
        await errors(10);
        expect(await prober.round(Date.now())).toEqual([]); // the baseline scrape
        for (let i = 0; i < 40; i++) await reply();
        const results = await prober.round(Date.now());
        expect(results).toEqual([{ target: inside, observation: { kind: "error_rate", ratePercent: 10, limitPercent: 5 } }]);
        await errors(0);
    });

    it("runs the smoke checks and names the one that fails", async () => {
        const prober = new Prober({ ...DEFAULT_PROBES, smokeEveryMs: 0 });
        const watched = target({
            monitorWindow: "1h",
            smokeChecks: [{ name: "reply", method: "POST", path: "/v1/reply", body: JSON.stringify({ message: "smoke" }) }, { name: "flags", path: "/flags" }],
        });
        prober.set(watched);
        expect((await prober.round(Date.now())).map((r) => r.observation)).toEqual([
            { kind: "smoke", check: "reply", ok: true }, { kind: "smoke", check: "flags", ok: true },
        ]);
        await errors(100);
        expect((await prober.round(Date.now())).map((r) => r.observation)).toEqual([
            { kind: "smoke", check: "reply", ok: false, detail: "POST /v1/reply answered 500, expected 200" }, { kind: "smoke", check: "flags", ok: true },
        ]);
        await errors(0);
    });
});

describe("the prober against an agent without metrics", () => {
    it("logs that its error rate is not watched once, not at every scrape", async () => {
        const http = await import("http");
        const server = http.createServer((_req, res) => res.writeHead(404).end()).listen(0, "127.0.0.1");
        await new Promise((r) => server.once("listening", r));
        const { port } = server.address() as net.AddressInfo;
        const logs: string[] = [];
        const prober = new Prober({ ...DEFAULT_PROBES, scrapeEveryMs: 0 }, (m) => logs.push(m));
        const { watch } = watchFromLabels(agentLabels(agentSpec({ tier: 2, monitorWindow: "1h", errorRateLimit: 5 }, "dev"), "dev"));
        prober.set({ agent: "mute", containerId: "c-mute", baseUrl: `http://127.0.0.1:${port}`, createdAt: Date.now(), watch });
        for (let i = 0; i < 3; i++) expect(await prober.round(Date.now())).toEqual([]);
        server.close();
        expect(logs).toEqual(["mute: no /metrics request counters (HTTP 404); its error rate is not watched"]);
    });
});
