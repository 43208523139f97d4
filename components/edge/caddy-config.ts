/**
 * The edge's whole Caddy configuration (Caddy's native JSON), from the fleet's
 * specs: one route per exposed agent to its containers by name, a 404 for
 * everything else, certificates from ACME or the edge's own CA, and access
 * logs as JSON lines that name the agent.
 *
 * Why routes name each container rather than the agent's network alias:
 * Docker's DNS answers for a container that has not passed its healthcheck,
 * and Caddy checks the health of configured upstreams only (its dynamic
 * upstreams get no active checks). Routes are loaded after the new containers
 * passed the health gate, so the edge never sends a request to one that did
 * not, and a graceful reload hands over without dropping a request.
 */
import type { AgentExposure, EdgeSpec } from "../../config";
import { EDGE_AGENT_HEADER, EDGE_TRY_DURATION_MS, type Environment } from "../../contract";

/** One exposed agent on one host: where the public reaches it, and its containers there. */
export interface EdgeRoute {
    readonly agent: string;
    readonly expose: AgentExposure;
    /** The agent's containers on this host, by name (Docker's DNS on the fleet network resolves them). */
    readonly upstreams: readonly string[];
    readonly port: number;
}

/** Where the edge's container holds `acmeCaRoot`, the root a private ACME directory's TLS chains to. */
export const ACME_CA_ROOT_FILE = "/etc/caddy/acme-ca-root.pem";

/** The edge's own answer to a body over `maxBodySize`, before the limit in bytes. */
export const EDGE_BODY_TOO_LARGE = "request body larger than the edge takes";

/** A year, as browsers expect HSTS to last once a site is HTTPS for good. */
const HSTS = "max-age=31536000";

function proxyTo(route: EdgeRoute): Record<string, unknown> {
    return {
        handler: "reverse_proxy",
        // The agent's name on what the agent itself answered: set on the upstream's response only, so that the
        // edge's own 502 or 503 (no container could take the request) never reads as the agent's.
        headers: { response: { set: { [EDGE_AGENT_HEADER]: [route.agent] } } },
        upstreams: route.upstreams.map((name) => ({ dial: `${name}:${route.port}` })),
        // Passive checks only: the health gate already decided that the container may serve (routes name only
        // containers past it), and Caddy 2.6's active checks mark an upstream down on one slow probe, which under
        // load turned a healthy container away (503s in the edge suite run beside the swarm suite). A container
        // that stops answering is skipped after three failed dials within 10 s, and retries go elsewhere.
        health_checks: { passive: { fail_duration: "10s", max_fails: 3 } },
        // A request whose upstream cannot be dialled (a container stopping) is retried on another for up to EDGE_TRY_DURATION_MS.
        load_balancing: { selection_policy: { policy: "round_robin" }, try_duration: `${EDGE_TRY_DURATION_MS}ms`, try_interval: "100ms" },
        // An idle connection to an agent is closed by the edge first: Caddy keeps one 2 min by default, Node's server
        // closes it after 5 s and gunicorn's after 2 s, and a request sent as the agent closes it fails (a 502) — the
        // race every proxy in front of keep-alive servers has. 1 s is below all three.
        transport: { protocol: "http", keep_alive: { idle_timeout: "1s" } },
    };
}

function routeFor(edge: EdgeSpec, environment: Environment, route: EdgeRoute): Record<string, unknown> {
    // The agent's own hostname, or a path prefix under the edge's (stripped before the agent sees the request).
    const prefix = "pathPrefix" in route.expose ? route.expose.pathPrefix : undefined;
    const match = "hostname" in route.expose
        ? [{ host: [route.expose.hostname] }]
        : [{ host: [edge.hostname], path: [prefix, `${prefix}/*`] }];
    const hsts = environment === "production" ? { "Strict-Transport-Security": [HSTS] } : undefined;
    return {
        match,
        handle: [{
            handler: "subroute",
            routes: [
                // A declared length over the limit is refused before the agent sees a byte: Caddy 2.6's proxy answers 502,
                // not 413, when the body it streams upstream hits `request_body`'s limit (a chunked body gets its 413 there).
                {
                    match: [{ expression: `{http.request.header.Content-Length} != '' && int({http.request.header.Content-Length}) > ${edge.maxBodyBytes}` }],
                    handle: [{ handler: "static_response", status_code: 413, body: `${EDGE_BODY_TOO_LARGE} (${edge.maxBodyBytes} bytes)\n`, close: true }],
                    terminal: true,
                },
                {
                    handle: [
                        ...(hsts ? [{ handler: "headers", response: { set: hsts } }] : []),
                        { handler: "request_body", max_size: edge.maxBodyBytes },
                        // The agent serves its own paths: the prefix it is exposed under is the edge's business.
                        ...(prefix ? [{ handler: "rewrite", strip_path_prefix: prefix }] : []),
                        proxyTo(route),
                    ],
                },
            ],
        }],
        terminal: true,
    };
}

/** The edge's Caddy JSON config for these routes. */
export function edgeCaddyConfig(edge: EdgeSpec, environment: Environment, routes: readonly EdgeRoute[]): Record<string, unknown> {
    const sorted = [...routes].sort((a, b) => a.agent.localeCompare(b.agent));
    const subjects = [...new Set([edge.hostname, ...sorted.flatMap((r) => ("hostname" in r.expose ? [r.expose.hostname] : []))])].sort();
    const issuer = edge.tls === "internal"
        ? { module: "internal" }
        : {
            module: "acme", ...(edge.acmeEmail ? { email: edge.acmeEmail } : {}), ...(edge.acmeCa ? { ca: edge.acmeCa } : {}),
            ...(edge.acmeCaRoot ? { trusted_roots_pem_files: [ACME_CA_ROOT_FILE] } : {}),
        };
    return {
        // The admin API answers inside the edge's container only: routes are loaded through `docker exec`.
        admin: { listen: "localhost:2019" },
        logging: {
            logs: {
                default: { level: "WARN", exclude: ["http.log.access"] },
                access: { writer: { output: "stdout" }, encoder: { format: "json" }, include: ["http.log.access"] },
            },
        },
        apps: {
            http: {
                http_port: edge.httpPort,
                https_port: edge.httpsPort,
                servers: {
                    edge: {
                        listen: [`:${edge.httpsPort}`],
                        routes: [
                            ...sorted.map((route) => routeFor(edge, environment, route)),
                            { handle: [{ handler: "static_response", status_code: 404, body: "no agent is exposed here\n" }] },
                        ],
                        logs: {},
                    },
                },
            },
            // `automate`: the edge's own name has no host matcher (its 404 catches every host), so Caddy would not manage it by itself.
            tls: { certificates: { automate: subjects }, automation: { policies: [{ subjects, issuers: [issuer] }] } },
        },
    };
}
