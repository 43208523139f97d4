/**
 * The edge's Caddy config, from the fleet's specs: routes by hostname and by
 * path prefix to each container by name, the 404 last, HSTS in production
 * only, the body limit; and Caddy itself (Debian's binary) accepts it.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { EDGE_BODY_TOO_LARGE, EdgeRoute, edgeCaddyConfig } from "../../components/edge";
import { EDGE_AGENT_HEADER } from "../../contract";
import { fleetSpec } from "../support/specs";

const SPEC = fleetSpec({
    edge: { hostname: "agents.acme.dev", acmeEmail: "ops@acme.dev", maxBodySize: "512KiB" },
    agents: {
        pesti: { tier: 1, port: 8080, image: "ghcr.io/acme/pesti:1.4.2", expose: "pesti.acme.dev" },
        jarvis: { tier: 1, port: 9090, image: "ghcr.io/acme/jarvis:2.2.4", expose: "/api/agents/jarvis" },
    },
});
const ROUTES: EdgeRoute[] = [
    { agent: "pesti", expose: { hostname: "pesti.acme.dev", url: "https://pesti.acme.dev" }, upstreams: ["fleet-pesti-1a2b3c4"], port: 8080 },
    { agent: "jarvis", expose: { pathPrefix: "/api/agents/jarvis", url: "https://agents.acme.dev/api/agents/jarvis" }, upstreams: ["fleet-jarvis-5d6e7f8", "fleet-jarvis-1-9a8b7c6"], port: 9090 },
];

type Json = Record<string, any>;
const serverOf = (config: Json) => config.apps.http.servers.edge;

describe("the edge's Caddy config", () => {
    it("routes each exposed agent to its containers by name, with passive health checks and retries, and answers 404 for anything else, last", () => {
        const routes = serverOf(edgeCaddyConfig(SPEC.edge!, "production", ROUTES)).routes as Json[];
        expect(routes.map((r) => r.match ?? "everything else")).toEqual([
            [{ host: ["agents.acme.dev"], path: ["/api/agents/jarvis", "/api/agents/jarvis/*"] }],
            [{ host: ["pesti.acme.dev"] }],
            "everything else",
        ]);
        const [tooLarge, proxied] = routes[0].handle[0].routes as Json[];
        // First the edge's own 413 for a declared length over the limit (its answer carries no agent's name).
        expect(tooLarge.match).toEqual([{ expression: "{http.request.header.Content-Length} != '' && int({http.request.header.Content-Length}) > 524288" }]);
        expect(tooLarge.handle).toEqual([{ handler: "static_response", status_code: 413, body: `${EDGE_BODY_TOO_LARGE} (524288 bytes)\n`, close: true }]);
        const jarvis = proxied.handle as Json[];
        expect(jarvis.map((h) => h.handler)).toEqual(["headers", "request_body", "rewrite", "reverse_proxy"]);
        expect(jarvis[1].max_size).toBe(512 * 1024);
        expect(jarvis[2].strip_path_prefix).toBe("/api/agents/jarvis");
        const proxy = jarvis[3];
        expect(proxy.upstreams).toEqual([{ dial: "fleet-jarvis-5d6e7f8:9090" }, { dial: "fleet-jarvis-1-9a8b7c6:9090" }]);
        // No active checks: the health gate admits a container, and a slow probe under load must not turn it away.
        expect(proxy.health_checks).toEqual({ passive: { fail_duration: "10s", max_fails: 3 } });
        // The edge lets an idle connection go before an agent's server would (Node: 5 s).
        expect(proxy.transport).toEqual({ protocol: "http", keep_alive: { idle_timeout: "1s" } });
        expect(routes[2].handle).toEqual([{ handler: "static_response", status_code: 404, body: "no agent is exposed here\n" }]);
    });

    it("names the agent on what the agent answered (the access log records it), never on the edge's own errors, and sends HSTS in production only", () => {
        const pesti = (environment: "dev" | "production") => serverOf(edgeCaddyConfig(SPEC.edge!, environment, ROUTES)).routes[1].handle[0].routes[1].handle as Json[];
        // Set by the proxy on the upstream's response: a 502 or 503 of the edge's own carries no agent's name.
        expect(pesti("production").at(-1)!.headers).toEqual({ response: { set: { [EDGE_AGENT_HEADER]: ["pesti"] } } });
        expect(pesti("production")[0]).toEqual({ handler: "headers", response: { set: { "Strict-Transport-Security": ["max-age=31536000"] } } });
        expect(pesti("dev").map((h) => h.handler)).toEqual(["request_body", "reverse_proxy"]);
    });

    it("asks ACME (or the edge's own CA) for the edge's name and every agent hostname", () => {
        const tls = (edgeCaddyConfig(SPEC.edge!, "production", ROUTES) as Json).apps.tls;
        expect(tls.certificates.automate).toEqual(["agents.acme.dev", "pesti.acme.dev"]);
        expect(tls.automation.policies).toEqual([{ subjects: ["agents.acme.dev", "pesti.acme.dev"], issuers: [{ module: "acme", email: "ops@acme.dev" }] }]);
        const internal = (edgeCaddyConfig({ ...SPEC.edge!, tls: "internal" }, "dev", ROUTES) as Json).apps.tls;
        expect(internal.automation.policies[0].issuers).toEqual([{ module: "internal" }]);
    });

    it("is a config Caddy accepts (caddy validate)", async () => {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), "agent-fleet-edge-config-"));
        try {
            const file = path.join(dir, "edge.json");
            await fs.writeFile(file, JSON.stringify(edgeCaddyConfig({ ...SPEC.edge!, tls: "internal" }, "production", ROUTES)));
            const run = await execa("caddy", ["validate", "--config", file], { reject: false, env: { XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir, HOME: dir } });
            expect(run.exitCode, run.stderr.split("\n").slice(-3).join("\n")).toBe(0);
        } finally {
            await fs.rm(dir, { recursive: true, force: true });
        }
    });
});
