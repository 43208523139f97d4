/**
 * The Docker Engine API over SSH the way the Docker CLI and the Pulumi
 * provider reach it: the system `ssh`, running `docker system dial-stdio`
 * on the host. So the CLI trusts what they trust and reaches what they
 * reach: ~/.ssh/config (aliases, users, keys, ProxyJump), the agent, and
 * known_hosts with strict checking (an unknown or changed key is refused by
 * ssh itself, never accepted here).
 *
 * Hand-written because dockerode's own ssh transport (ssh2) reads none of
 * that, accepts any host key, and opens one SSH connection per API call: sshd
 * starts dropping them (MaxStartups) from about a dozen containers. Here every
 * request of one command shares one SSH connection per host: ssh's own
 * multiplexing (ControlMaster), each request a channel of it.
 */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { Duplex } from "node:stream";
import type { SmokeCheckTransport } from "../../contract";

/** Where ssh keeps this user's shared connections: one socket per host, named by ssh's hash of it (%C). */
function controlDir(): string {
    const dir = path.join(os.tmpdir(), `agent-fleet-ssh-${process.getuid?.() ?? "user"}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
}

/** `ssh://[user@]host[:port]` as ssh's own arguments: the destination, and the port when one is given. */
export function sshDestination(url: URL): { readonly destination: string; readonly args: readonly string[] } {
    const user = url.username ? `${decodeURIComponent(url.username)}@` : "";
    return { destination: `${user}${url.hostname}`, args: url.port ? ["-p", url.port] : [] };
}

/** An http.Agent whose every connection is `ssh <host> docker system dial-stdio`, over one shared SSH connection. */
export class SshDialAgent extends http.Agent {
    private readonly control = controlDir();

    constructor(private readonly url: URL) {
        // A few requests at once (one per agent's inspect, say), each a channel of the one connection.
        super({ keepAlive: true, maxSockets: 8 });
    }

    /** The host, for messages: "deploy@app-1.example.com". */
    get host(): string {
        return sshDestination(this.url).destination;
    }

    override createConnection(): Duplex {
        const { destination, args } = sshDestination(this.url);
        const child = spawn("ssh", [
            ...args,
            "-o", "ControlMaster=auto",
            "-o", `ControlPath=${path.join(this.control, "%C")}`,
            "-o", "ControlPersist=15s",
            // Never ask: a password or a host key prompt would hang a deploy.
            "-o", "BatchMode=yes",
            "-T", "--", destination, "docker", "system", "dial-stdio",
        ], { stdio: ["pipe", "pipe", "pipe"] });
        let stderr = "";
        child.stderr.setEncoding("utf8");
        child.stderr.on("data", (chunk: string) => void (stderr += chunk));
        const stream = Duplex.from({ readable: child.stdout, writable: child.stdin }) as Duplex & Record<string, unknown>;
        child.on("error", (error) => stream.destroy(new Error(`ssh ${destination}: ${error.message}`)));
        child.on("exit", (code) => {
            if (code !== 0 && code !== null) {
                // ssh says why in its last line: a refused host key, no route, a refused login.
                const why = stderr.trim().split("\n").filter(Boolean).at(-1) ?? `ssh exited ${code}`;
                stream.destroy(new Error(`ssh ${destination}: ${why}`));
            }
        });
        stream.on("close", () => child.kill());
        // What Node's http client may call on a socket; a pipe has no such settings.
        stream.setNoDelay = () => stream;
        stream.setKeepAlive = () => stream;
        stream.setTimeout = () => stream;
        stream.ref = () => stream;
        stream.unref = () => stream;
        return stream;
    }
}

/** An http.Agent whose connections are `ssh -W 127.0.0.1:<port>`: the host's own loopback port, reached through that host. */
class SshForwardAgent extends http.Agent {
    private readonly control = controlDir();

    constructor(private readonly url: URL) {
        super({ keepAlive: false });
    }

    override createConnection(options: { port?: number | string | null }): Duplex {
        const { destination, args } = sshDestination(this.url);
        const child = spawn("ssh", [
            ...args,
            "-o", "ControlMaster=auto",
            "-o", `ControlPath=${path.join(this.control, "%C")}`,
            "-o", "ControlPersist=15s",
            "-o", "BatchMode=yes",
            // The agents publish on the host's loopback only: that is where the check must arrive.
            "-W", `127.0.0.1:${options.port}`, "--", destination,
        ], { stdio: ["pipe", "pipe", "pipe"] });
        let stderr = "";
        child.stderr.setEncoding("utf8");
        child.stderr.on("data", (chunk: string) => void (stderr += chunk));
        const stream = Duplex.from({ readable: child.stdout, writable: child.stdin }) as Duplex & Record<string, unknown>;
        child.on("error", (error) => stream.destroy(new Error(`ssh ${destination}: ${error.message}`)));
        child.on("exit", (code) => {
            if (code !== 0 && code !== null) stream.destroy(new Error(`ssh ${destination}: ${stderr.trim().split("\n").filter(Boolean).at(-1) ?? `ssh exited ${code}`}`));
        });
        stream.on("close", () => child.kill());
        stream.setNoDelay = () => stream;
        stream.setKeepAlive = () => stream;
        stream.setTimeout = () => stream;
        stream.ref = () => stream;
        stream.unref = () => stream;
        return stream;
    }
}

/** Smoke checks of the agents on an ssh:// host, sent through that host to its loopback: never this machine's. */
export function sshSmokeTransport(url: URL): SmokeCheckTransport {
    const agent = new SshForwardAgent(url);
    return ({ method, url: target, body, timeoutMs }) => new Promise<number>((resolve, reject) => {
        const request = http.request(target, { method, agent, headers: body === undefined ? {} : { "content-type": "application/json" } }, (response) => {
            response.resume();
            response.on("end", () => resolve(response.statusCode ?? 0));
        });
        request.setTimeout(timeoutMs, () => {
            const timeout = new Error(`no answer within ${timeoutMs} ms`);
            timeout.name = "TimeoutError";
            request.destroy(timeout);
        });
        request.on("error", reject);
        request.end(body);
    });
}
