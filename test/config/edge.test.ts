// fleet.edge and each agent's `expose`: how the loader reads them, and what it refuses.
import { describe, expect, it } from "vitest";
import { webhookBaseUrlOf } from "../../config";
import { Draft, load, problemsOf, secretStore, sourceWith, stackProblem } from "./fixtures";

const withEdge = (edge: unknown, expose: Record<string, unknown> = {}) => sourceWith((s) => {
    if (edge !== undefined) s.fleet.edge = edge;
    for (const [agent, value] of Object.entries(expose)) s.fleet.agents[agent].expose = value;
});

/** The same source under runtime swarm. */
const swarm = (source: Draft): Draft => {
    source.fleet.runtime = "swarm";
    return source;
};

describe("fleet.edge", () => {
    it("resolves its defaults: acme outside dev, ports 80 and 443 on every address, the agents' 1 MiB body limit", () => {
        const spec = load(withEdge({ hostname: "agents.acme.dev" }, { pesti: "pesti.acme.dev", jarvis: "/api/agents/jarvis" }));
        expect(spec.edge).toEqual({ hostname: "agents.acme.dev", tls: "acme", image: "caddy:2-alpine", httpPort: 80, httpsPort: 443, listenAddress: "0.0.0.0", maxBodyBytes: 1024 * 1024, placementConstraints: [] });
        expect(spec.agents.find((a) => a.name === "pesti")?.expose).toEqual({ hostname: "pesti.acme.dev", url: "https://pesti.acme.dev" });
        expect(spec.agents.find((a) => a.name === "jarvis")?.expose).toEqual({ pathPrefix: "/api/agents/jarvis", url: "https://agents.acme.dev/api/agents/jarvis" });
    });

    it("runs on the swarm's managers by default, or on the nodes its placement constraints pick", () => {
        const onSwarm = (edge: Record<string, unknown>) => swarm(withEdge(edge, { pesti: "pesti.acme.dev" }));
        expect(load(onSwarm({ hostname: "agents.acme.dev" })).edge?.placementConstraints).toEqual(["node.role==manager"]);
        expect(load(onSwarm({ hostname: "agents.acme.dev", placementConstraints: ["node.hostname==edge-1"] })).edge?.placementConstraints).toEqual(["node.hostname==edge-1"]);
    });

    it("refuses a listen address on the swarm (it publishes on every address) and placement constraints on the container runtime", () => {
        expect(problemsOf(swarm(withEdge({ hostname: "agents.acme.dev", listenAddress: "127.0.0.1" })))).toEqual([stackProblem("fleet.edge.listenAddress",
            'expected no listenAddress under runtime swarm (Swarm publishes a task\'s ports on every address of its node; firewall the node instead), got "127.0.0.1"')]);
        expect(problemsOf(withEdge({ hostname: "agents.acme.dev", placementConstraints: ["node.role==manager"] }))).toEqual([stackProblem("fleet.edge.placementConstraints",
            'expected no placementConstraints under runtime container (they place the swarm\'s edge; the container runtime runs one edge per host), got ["node.role==manager"]')]);
        expect(problemsOf(swarm(withEdge({ hostname: "agents.acme.dev", placementConstraints: ["role==manager"] })))).toEqual([
            stackProblem("fleet.edge.placementConstraints[0]", 'expected a placement constraint like "node.role==manager" or "node.hostname==edge-1", got "role==manager"'),
        ]);
    });

    it("gives an exposed agent its public URL, with the HTTPS port when it is not 443", () => {
        const spec = load(withEdge({ hostname: "agents.acme.dev", httpsPort: 8443 }, { pesti: "pesti.acme.dev", jarvis: "/api/agents/jarvis" }));
        expect(spec.agents.map((a) => a.expose?.url)).toEqual(["https://agents.acme.dev:8443/api/agents/jarvis", "https://pesti.acme.dev:8443"]);
    });

    it("leaves an agent unexposed by default, and with expose: false", () => {
        const spec = load(withEdge({ hostname: "agents.acme.dev" }, { jarvis: false }));
        expect(spec.agents.map((a) => a.expose)).toEqual([undefined, undefined]);
    });

    it("refuses an exposure without an edge, one address twice, and the edge's own hostname", () => {
        expect(problemsOf(withEdge(undefined, { pesti: "pesti.acme.dev" }))).toEqual([stackProblem("fleet.agents.pesti.expose",
            'expected fleet.edge to be declared (the HTTPS proxy exposed agents are reached through), got an exposure of "pesti.acme.dev" and no edge')]);
        expect(problemsOf(withEdge({ hostname: "agents.acme.dev" }, { jarvis: "/api/x", pesti: "/api/x" }))).toEqual([stackProblem("fleet.agents.pesti.expose",
            'expected an address no other agent is exposed at, got "/api/x", agent jarvis\'s')]);
        expect(problemsOf(withEdge({ hostname: "agents.acme.dev" }, { pesti: "agents.acme.dev" }))).toEqual([stackProblem("fleet.agents.pesti.expose",
            'expected a hostname of the agent\'s own or a path prefix, got the edge\'s own hostname "agents.acme.dev" (its paths belong to the agents exposed by path)')]);
    });

    it("refuses an exposure that is neither a hostname nor a path prefix, naming both forms", () => {
        expect(problemsOf(withEdge({ hostname: "agents.acme.dev" }, { pesti: "https://pesti.acme.dev/" }))).toEqual([stackProblem("fleet.agents.pesti.expose",
            'expected a hostname like "pesti.acme.dev", a path prefix like "/api/agents/pesti", or false, got "https://pesti.acme.dev/"')]);
    });
});

describe("webhooks through the edge", () => {
    const hook = { name: "github-push", source: "github", path: "/webhooks/github", secret: "pestiHookSecret", repository: "acme/crm", events: ["push"] };
    const withHook = (edge: unknown, expose: Record<string, unknown>, baseUrl?: string) => sourceWith((s) => {
        if (edge !== undefined) s.fleet.edge = edge;
        if (baseUrl !== undefined) s.fleet.webhookBaseUrl = baseUrl;
        for (const [agent, value] of Object.entries(expose)) s.fleet.agents[agent].expose = value;
        s.fleet.agents.pesti.webhooks = [hook];
        s.secretKeyState = secretStore({ pestiHookSecret: "secret" });
    });

    it("registers an exposed agent's GitHub webhooks under its public URL: no fleet.webhookBaseUrl needed", () => {
        const spec = load(withHook({ hostname: "agents.acme.dev" }, { pesti: "/api/agents/pesti" }));
        expect(spec.webhookBaseUrl).toBeUndefined();
        expect(webhookBaseUrlOf(spec.agents.find((a) => a.name === "pesti")!, spec)).toBe("https://agents.acme.dev/api/agents/pesti");
    });

    it("takes the edge's URL over fleet.webhookBaseUrl for an exposed agent, and the base URL for the others", () => {
        const spec = load(withHook({ hostname: "agents.acme.dev" }, { pesti: "pesti.acme.dev" }, "https://hooks.acme.dev"));
        const [jarvis, pesti] = spec.agents;
        expect(webhookBaseUrlOf(pesti, spec)).toBe("https://pesti.acme.dev");
        expect(webhookBaseUrlOf(jarvis, spec)).toBe("https://hooks.acme.dev");
    });

    it("still asks an unexposed agent's GitHub webhooks for fleet.webhookBaseUrl, saying the edge would do", () => {
        expect(problemsOf(withHook({ hostname: "agents.acme.dev" }, {}))).toEqual([stackProblem("fleet.webhookBaseUrl",
            'expected the public URL the agents\' webhook paths are reachable under, like "https://hooks.acme.dev" (agents pesti register GitHub webhooks and are not exposed through fleet.edge, which would give them their own), got nothing')]);
    });
});
