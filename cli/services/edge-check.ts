/**
 * `fleet verify`'s public side: each exposed agent is asked for over HTTPS
 * the way the public asks for it, at its host's edge, with its public
 * hostname in the TLS handshake (SNI) and the Host header, and the edge's
 * certificate checked against that hostname. Each host's edge is asked on its
 * own (as `curl --resolve` would), so a host whose edge lost its routes fails
 * even when DNS sends the public to another one.
 *
 * What the certificate is checked against: the edge's own CA under
 * `tls: internal` (its root, read from the edge's container), and under
 * `tls: acme` the machine's trusted roots, as any client's (Node's, plus
 * NODE_EXTRA_CA_CERTS).
 */
import { spawnSync } from "node:child_process";
import https from "node:https";
import type Docker from "dockerode";
import { extract } from "tar-stream";
import type { EdgeSpec, StackEngine } from "../../config";
import { EDGE_AGENT_HEADER, EDGE_INTERNAL_ROOT_CERT, EDGE_ROLE, LABELS, type SmokeCheckTransport } from "../../contract";

/** Node gives response headers in lower case. */
const AGENT_HEADER = EDGE_AGENT_HEADER.toLowerCase();

/** Where this machine reaches one host's edge: an address to connect to, and what the certificate must be signed by. */
export interface EdgeTarget {
    readonly address: string;
    readonly port: number;
    /** PEM roots to trust instead of the machine's (the edge's own CA); undefined: the machine's. */
    readonly ca?: string;
}

/** An answer through the edge: its status, and the agent the edge says answered (its header). */
export interface EdgeAnswer {
    readonly status: number;
    readonly agent?: string;
}

/**
 * The address the public reaches a host's edge at: the host part of its
 * `ssh://` address (an ssh alias resolved as ssh resolves it, `ssh -G`), or
 * for the machine's own engine the edge's listen address (loopback for
 * "every address").
 */
export function edgeAddress(engine: Pick<StackEngine, "host">, edge: Pick<EdgeSpec, "listenAddress">): string {
    if (!engine.host.startsWith("ssh://")) return edge.listenAddress === "0.0.0.0" ? "127.0.0.1" : edge.listenAddress;
    const url = new URL(engine.host);
    const resolved = spawnSync("ssh", ["-G", ...(url.port ? ["-p", url.port] : []), url.hostname], { encoding: "utf8", timeout: 5_000 });
    const hostname = /^hostname (\S+)$/m.exec(resolved.stdout ?? "")?.[1];
    return hostname ?? url.hostname;
}

/** The edge container of the stack on one engine (by its role label), or undefined when there is none. */
async function edgeContainer(docker: Docker, stack: string): Promise<string | undefined> {
    const found = await docker.listContainers({ filters: { label: [`${LABELS.stack}=${stack}`, `${LABELS.role}=${EDGE_ROLE}`], status: ["running"] } });
    return found[0]?.Id;
}

/**
 * What a client of the edge trusts: under `tls: internal`, the root of the
 * edge's own CA, read out of its container (the Engine API hands a file out
 * as a tar archive); under `acme`, nothing more than the machine's roots.
 */
export async function edgeTrust(docker: Docker, stack: string, edge: Pick<EdgeSpec, "tls">): Promise<{ ca?: string } | { problem: string }> {
    if (edge.tls !== "internal") return {};
    const id = await edgeContainer(docker, stack);
    if (!id) return { problem: "no edge container runs on this host" };
    try {
        const archive = await docker.getContainer(id).getArchive({ path: EDGE_INTERNAL_ROOT_CERT });
        const entries = extract();
        archive.pipe(entries);
        for await (const entry of entries) {
            const chunks: Buffer[] = [];
            for await (const chunk of entry) chunks.push(chunk as Buffer);
            return { ca: Buffer.concat(chunks).toString("utf8") };
        }
        return { problem: `the edge holds no root certificate at ${EDGE_INTERNAL_ROOT_CERT}` };
    } catch (error) {
        return { problem: `the edge's root certificate could not be read (${error instanceof Error ? error.message.split("\n")[0] : String(error)})` };
    }
}

/** One HTTPS request to `url` through the edge at `target`: TLS for the URL's hostname, its Host header, the certificate checked. */
export function edgeRequest(target: EdgeTarget, request: { readonly method: string; readonly url: string; readonly body?: string; readonly timeoutMs: number }): Promise<EdgeAnswer> {
    const url = new URL(request.url);
    return new Promise((resolve, reject) => {
        const req = https.request({
            host: target.address, port: target.port, servername: url.hostname, method: request.method, path: `${url.pathname}${url.search}`,
            headers: { host: url.host, ...(request.body === undefined ? {} : { "content-type": "application/json" }) },
            ...(target.ca ? { ca: target.ca } : {}), agent: false, timeout: request.timeoutMs,
        }, (res) => {
            res.resume();
            res.on("end", () => resolve({ status: res.statusCode ?? 0, ...(typeof res.headers[AGENT_HEADER] === "string" ? { agent: res.headers[AGENT_HEADER] } : {}) }));
        });
        req.on("timeout", () => req.destroy(Object.assign(new Error(`no answer within ${request.timeoutMs} ms`), { name: "TimeoutError" })));
        req.on("error", reject);
        req.end(request.body);
    });
}

/** The smoke checks' transport through the edge at `target`. */
export function edgeSmokeTransport(target: EdgeTarget): SmokeCheckTransport {
    return async (request) => (await edgeRequest(target, request)).status;
}
