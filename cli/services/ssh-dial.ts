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
import { ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { Duplex, PassThrough } from "node:stream";
import type { SmokeCheckTransport } from "../../contract";

/**
 * Where ssh keeps this command's shared connections: one socket per host
 * (named by ssh's hash of it, %C) in a folder of this process's own. A master
 * is never reused by a later command, so each command makes its own SSH
 * connection, and ssh checks the host's key for each; it is closed when the
 * command exits (and by ssh itself a minute after its last use, should the
 * command be killed).
 */
let controlFolder: string | undefined;
const mastersOpened = new Map<string, readonly string[]>();

function controlDir(): string {
    if (controlFolder) return controlFolder;
    controlFolder = path.join(os.tmpdir(), `agent-fleet-ssh-${process.getuid?.() ?? "user"}`, String(process.pid));
    mkdirSync(controlFolder, { recursive: true, mode: 0o700 });
    const folder = controlFolder;
    process.once("exit", () => {
        for (const [destination, args] of mastersOpened) {
            spawnSync("ssh", [...args, "-o", `ControlPath=${path.join(folder, "%C")}`, "-O", "exit", destination], { stdio: "ignore", timeout: 5_000 });
        }
        rmSync(folder, { recursive: true, force: true });
    });
    return controlFolder;
}

/** The options that make every ssh of this command to one host share one connection. */
function multiplexed(destination: string, args: readonly string[]): string[] {
    mastersOpened.set(destination, args);
    return ["-o", "ControlMaster=auto", "-o", `ControlPath=${path.join(controlDir(), "%C")}`, "-o", "ControlPersist=60s"];
}

/** `ssh://[user@]host[:port]` as ssh's own arguments: the destination, and the port when one is given. */
function sshDestination(url: URL): { readonly destination: string; readonly args: readonly string[] } {
    const user = url.username ? `${decodeURIComponent(url.username)}@` : "";
    return { destination: `${user}${url.hostname}`, args: url.port ? ["-p", url.port] : [] };
}

/**
 * A child's stdin and stdout as the socket Node's http client expects. When
 * ssh fails before the engine says anything (a refused host key, no route, a
 * refused login), the read side errors with ssh's own last line, so callers
 * see why rather than "socket hang up".
 */
function childSocket(child: ChildProcessWithoutNullStreams, destination: string): Duplex {
    let stderr = "";
    let received = false;
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => void (stderr += chunk));
    const readable = new PassThrough();
    child.stdout.on("data", () => void (received = true));
    child.stdout.pipe(readable, { end: false });
    child.on("close", (code) => {
        if (code !== 0 && code !== null && !received) {
            readable.destroy(new Error(`ssh ${destination}: ${stderr.trim().split("\n").filter(Boolean).at(-1) ?? `ssh exited ${code}`}`));
        } else {
            readable.end();
        }
    });
    // Writes go through a pipe of our own: ssh closing its stdin first must not end the socket before its reason is known.
    const writable = new PassThrough();
    writable.pipe(child.stdin);
    child.stdin.on("error", () => undefined);
    const stream = Duplex.from({ readable, writable }) as Duplex & Record<string, unknown>;
    child.on("error", (error) => stream.destroy(new Error(`ssh ${destination}: ${error.message}`)));
    stream.on("close", () => child.kill());
    // What Node's http client may call on a socket; a pipe has no such settings.
    stream.setNoDelay = () => stream;
    stream.setKeepAlive = () => stream;
    stream.setTimeout = () => stream;
    stream.ref = () => stream;
    stream.unref = () => stream;
    return stream;
}

/** An http.Agent whose every connection is `ssh <host> docker system dial-stdio`, over one shared SSH connection. */
export class SshDialAgent extends http.Agent {
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
            ...multiplexed(destination, args),
            // Never ask: a password or a host key prompt would hang a deploy.
            "-o", "BatchMode=yes",
            "-T", "--", destination, "docker", "system", "dial-stdio",
        ], { stdio: ["pipe", "pipe", "pipe"] });
        return childSocket(child, destination);
    }
}

/** An http.Agent whose connections are `ssh -W 127.0.0.1:<port>`: the host's own loopback port, reached through that host. */
class SshForwardAgent extends http.Agent {
    constructor(private readonly url: URL) {
        super({ keepAlive: false });
    }

    override createConnection(options: { port?: number | string | null }): Duplex {
        const { destination, args } = sshDestination(this.url);
        const child = spawn("ssh", [
            ...args,
            ...multiplexed(destination, args),
            "-o", "BatchMode=yes",
            // The agents publish on the host's loopback only: that is where the check must arrive.
            "-W", `127.0.0.1:${options.port}`, "--", destination,
        ], { stdio: ["pipe", "pipe", "pipe"] });
        return childSocket(child, destination);
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

/** What `fleet doctor` learns of an ssh:// host in one round trip, or why it could not. */
export type SshHostProbe =
    | { readonly ok: true; readonly socketGroup: number; readonly freeBytes: number; readonly dataRoot: string }
    | { readonly ok: false; readonly problem: string; readonly fix: string; /** ssh never reached the host (down, or no route): not a refusal. */ readonly down?: boolean };

/** How ssh's last words read for a person, with the fix. */
function sshProblem(host: string, stderr: string): { problem: string; fix: string; down?: boolean } {
    const last = stderr.trim().split("\n").filter(Boolean).at(-1) ?? "ssh failed";
    if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/i.test(stderr)) {
        return { problem: `${host} presents a host key other than the one known_hosts pins for it`, fix: `check the host's new key out of band (not from the network), then replace its line: ssh-keygen -R <host>, and add the checked key` };
    }
    if (/No .*host key is known|Host key verification failed/i.test(stderr)) {
        return { problem: `${host}'s host key is not in known_hosts (strict checking is on)`, fix: "add the host's key, checked out of band, to ~/.ssh/known_hosts (in CI: the KNOWN_HOSTS secret); never `StrictHostKeyChecking no`" };
    }
    if (/Permission denied/i.test(stderr)) return { problem: `${host} refused the login: ${last}`, fix: "install the deploy key in the deploy user's authorized_keys, or point ~/.ssh/config at the right key" };
    return { problem: `${host} cannot be reached over ssh: ${last}`, fix: "check the host is up and sshd runs, and the name in ~/.ssh/config", down: true };
}

/** One ssh round trip: the host's Docker socket group and the free space under its engine's data root. */
export async function probeSshHost(url: URL): Promise<SshHostProbe> {
    const { destination, args } = sshDestination(url);
    const script = 'root=$(docker info --format "{{.DockerRootDir}}") && stat -c %g /var/run/docker.sock && echo "$root" && df -Pk "$root" | tail -1';
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn("ssh", [...args, "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "--", destination, script], { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (c: string) => void (stdout += c));
        child.stderr.setEncoding("utf8").on("data", (c: string) => void (stderr += c));
        child.on("error", (error) => resolve({ code: -1, stdout, stderr: error.message }));
        child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
    if (result.code !== 0) {
        // 255 is ssh's own failure; anything else is the command on the host.
        if (result.code === 255 || result.code === -1) return { ok: false, ...sshProblem(destination, result.stderr) };
        return { ok: false, problem: `${destination}: the Docker CLI there could not read its engine: ${result.stderr.trim().split("\n").at(-1) ?? ""}`, fix: "install Docker on the host and add the deploy user to its docker group" };
    }
    const [group, dataRoot, df] = result.stdout.trim().split("\n");
    const available = Number(df?.trim().split(/\s+/)[3] ?? "0") * 1024;
    return { ok: true, socketGroup: Number(group), freeBytes: available, dataRoot };
}
