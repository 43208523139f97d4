/**
 * Servers for the remote-host tests: each one a network namespace of the
 * test's own, joined to this machine by a veth pair, running its own
 * `dockerd` and Debian's `openssh-server`, in a private mount namespace with
 * a fresh /run. The private /run matters: `docker system dial-stdio`, which
 * the Docker CLI and the Pulumi provider run over SSH, opens
 * /var/run/docker.sock, and with this machine's /run it would reach this
 * machine's engine and a "remote" deploy would land locally.
 *
 * Auth is by key only, with a fresh host key per server pinned in a
 * known_hosts file the test controls (StrictHostKeyChecking yes). OpenSSH
 * reads ~/.ssh/config from the passwd entry, not $HOME, so the client side
 * is a `ssh` wrapper first on PATH that adds `-F <the test's config>`: the
 * Docker CLI, the provider and the fleet CLI all run that same `ssh`.
 *
 * Traffic goes only to loopback and to these namespaces.
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { execa } from "execa";
import { until } from "./sentinel";

/** Why the remote-host tests cannot run here, or undefined when they can. Synchronous: suites decide at collection. */
export function remoteHostsUnavailable(): string | undefined {
    if (process.getuid?.() !== 0) return "they need root (network namespaces, a dockerd and an sshd per host)";
    for (const tool of ["ip", "dockerd", "nsenter", "unshare", "flock", "ssh", "ssh-keygen"]) {
        if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `they need \`${tool}\` on PATH`;
    }
    return existsSync("/usr/sbin/sshd") ? undefined : "they need Debian's openssh-server (/usr/sbin/sshd)";
}

/** The test's SSH client: its key, its known_hosts, its config, and the `ssh` that reads them. */
export class SshClient {
    private constructor(readonly dir: string) {}

    static async create(): Promise<SshClient> {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), "agent-fleet-ssh-"));
        await fs.mkdir(path.join(dir, "bin"));
        await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "agent-fleet-e2e", "-f", path.join(dir, "id_ed25519")]);
        await fs.writeFile(path.join(dir, "known_hosts"), "");
        await fs.writeFile(path.join(dir, "config"), "", { mode: 0o600 });
        // Docker and the provider run `ssh` from PATH: this one reads the test's config, as a user's reads ~/.ssh/config.
        await fs.writeFile(path.join(dir, "bin", "ssh"), `#!/bin/sh\nexec /usr/bin/ssh -F ${path.join(dir, "config")} "$@"\n`, { mode: 0o755 });
        return new SshClient(dir);
    }

    get publicKeyFile(): string {
        return path.join(this.dir, "id_ed25519.pub");
    }

    get knownHostsFile(): string {
        return path.join(this.dir, "known_hosts");
    }

    /** The environment that makes every `ssh` this process starts the test's own. */
    env(base: NodeJS.ProcessEnv = process.env): Record<string, string> {
        return { PATH: `${path.join(this.dir, "bin")}:${base.PATH ?? "/usr/bin:/bin"}` };
    }

    /** Adds a host to the config (key auth only, strict host keys) and pins its key. */
    async addHost(alias: string, address: string, hostKey: string): Promise<void> {
        await fs.appendFile(path.join(this.dir, "config"), [
            `Host ${alias}`,
            `  HostName ${address}`,
            "  User root",
            `  IdentityFile ${path.join(this.dir, "id_ed25519")}`,
            "  IdentitiesOnly yes",
            `  UserKnownHostsFile ${this.knownHostsFile}`,
            "  StrictHostKeyChecking yes",
            "  BatchMode yes",
            "  ConnectTimeout 5",
            "",
        ].join("\n"));
        await this.pin(address, hostKey);
    }

    /** Pins `hostKey` ("ssh-ed25519 AAAA…") for `address`, replacing what was pinned. */
    async pin(address: string, hostKey: string): Promise<void> {
        const kept = (await fs.readFile(this.knownHostsFile, "utf8")).split("\n").filter((line) => line && !line.startsWith(`${address} `));
        await fs.writeFile(this.knownHostsFile, [...kept, `${address} ${hostKey}`, ""].join("\n"));
    }

    /** Runs a command on a host through this client's `ssh`. */
    run(alias: string, command: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
        return execa("ssh", [alias, "--", command], { env: this.env(), reject: false, timeout: 30_000 })
            .then((r) => ({ exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr }));
    }

    async remove(): Promise<void> {
        await fs.rm(this.dir, { recursive: true, force: true });
    }
}

export interface RemoteHostOptions {
    /** The SSH alias and the host's name in messages: "app-1". */
    readonly name: string;
    readonly client: SshClient;
}

/**
 * Where hosts claim their slot (their link 10.231.<slot>.0/24, namespace and
 * veth). /run is shared by every test run on this machine, including another
 * clone's CI running at the same time, so a slot is claimed, never assumed.
 */
const SLOT_DIR = "/run/agent-fleet-test-hosts";
const SLOTS = { first: 100, last: 249 } as const;

/** A claimed slot: held by a `flock` child whose lock the kernel drops when this process dies, however it dies. */
interface Slot {
    readonly index: number;
    release(): void;
}

/**
 * Claims a free slot. A run killed mid-test leaves its namespace and link
 * behind but not its lock, so whoever claims that slot next removes them.
 * flock rather than a pid file: a lock ends with its holder, whatever pid
 * namespace either run is in.
 */
async function claimSlot(): Promise<Slot> {
    await fs.mkdir(SLOT_DIR, { recursive: true });
    await sweepLeftovers();
    const count = SLOTS.last - SLOTS.first + 1;
    // Start at a point of this process's own, so that runs starting together rarely contend for the same slot.
    const offset = process.pid % count;
    for (let i = 0; i < count; i += 1) {
        const index = SLOTS.first + ((offset + i) % count);
        const holder = await lockSlot(index);
        if (!holder) continue;
        await removeLeftovers(index);
        return { index, release: () => holder.kill("SIGTERM") };
    }
    throw new Error(`no free test-host slot in ${SLOT_DIR} (${count} are held)`);
}

/** Takes slot `index`'s lock without waiting: its holder process, or undefined when another run holds it. */
async function lockSlot(index: number): Promise<ChildProcess | undefined> {
    const holder = spawn("flock", ["--nonblock", path.join(SLOT_DIR, `${index}.lock`), "sh", "-c", "echo claimed; exec cat"], { stdio: ["pipe", "pipe", "ignore"] });
    const claimed = await new Promise<boolean>((resolve) => {
        holder.stdout!.once("data", () => resolve(true));
        holder.once("exit", () => resolve(false));
        holder.once("error", () => resolve(false));
    });
    if (!claimed) return undefined;
    // The holder lives as long as its stdin is open: until it is released, or until this process exits.
    holder.unref();
    for (const stream of [holder.stdin, holder.stdout]) (stream as unknown as { unref?: () => void }).unref?.();
    return holder;
}

/**
 * What a killed run left in slot `index`: the processes in its namespaces
 * (dockerd, sshd), the namespaces, and its link. Called only by the holder
 * of the slot's lock, so nothing in it belongs to a live run.
 */
async function removeLeftovers(index: number): Promise<void> {
    for (const netns of await namespacesOf(index)) {
        const pids = async () => (await execa("ip", ["netns", "pids", netns], { reject: false })).stdout.split("\n").filter(Boolean).map(Number);
        for (const pid of await pids()) signal(pid, "SIGTERM");
        await until(`what a killed run left in ${netns} to stop`, async () => ((await pids()).length === 0 ? true : undefined), 15_000, 250)
            .catch(async () => { for (const pid of await pids()) signal(pid, "SIGKILL"); });
        await execa("ip", ["netns", "del", netns], { reject: false });
    }
    await execa("ip", ["link", "del", vethOf(index)], { reject: false });
}

async function namespacesOf(index?: number): Promise<string[]> {
    const names = (await execa("ip", ["netns", "list"], { reject: false })).stdout.split("\n").map((line) => line.split(" ")[0]);
    return names.filter((n) => (index === undefined ? /^afleet-\d+-/.test(n) : n.startsWith(`afleet-${index}-`)));
}

let swept = false;

/** Once per process: clears every slot that holds leftovers and whose lock is free (its run is gone). */
async function sweepLeftovers(): Promise<void> {
    if (swept) return;
    swept = true;
    const slots = new Set((await namespacesOf()).map((n) => Number(n.split("-")[1])));
    for (const index of slots) {
        const holder = await lockSlot(index);
        if (!holder) continue;
        await removeLeftovers(index);
        holder.kill("SIGTERM");
    }
}

function signal(pid: number, name: NodeJS.Signals): void {
    try {
        process.kill(pid, name);
    } catch {
        // Already gone.
    }
}

const vethOf = (index: number) => `afh${index}`;

/** Where a test server's engine publishes container ports: below this machine's ephemeral range. */
export const HOST_PORT_RANGE = [20000, 20999] as const;

/** One server: its namespace, engine and sshd, reachable as `ssh://<name>`. */
export class RemoteHost {
    private host?: ChildProcess;

    private constructor(
        readonly name: string,
        readonly address: string,
        readonly gateway: string,
        readonly dir: string,
        /** The namespace's name under /run/netns. */
        readonly netns: string,
        private readonly veth: string,
        readonly hostKey: string,
        private readonly slot: Slot,
    ) {}

    /** The DOCKER_HOST-style address a stack names: ssh://<alias>. */
    get dockerHost(): string {
        return `ssh://${this.name}`;
    }

    /**
     * This host's engine for the test's own assertions, straight through a
     * second socket in the shared /tmp (never through SSH, so that a check
     * of what the fleet did does not depend on the path the fleet used).
     */
    get docker(): Docker {
        return new Docker({ socketPath: path.join(this.dir, "docker.sock") });
    }

    static async start(options: RemoteHostOptions): Promise<RemoteHost> {
        const { name, client } = options;
        const slot = await claimSlot();
        const { index } = slot;
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), `agent-fleet-host-${name}-`));
        const netns = `afleet-${index}-${name}`;
        const veth = vethOf(index);
        const gateway = `10.231.${index}.1`;
        const address = `10.231.${index}.2`;
        const ip = (...args: string[]) => execa("ip", args);
        let hostKey: string;
        try {
            for (const sub of ["data", "exec", "ssh"]) await fs.mkdir(path.join(dir, sub));
            await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path.join(dir, "ssh", "host_ed25519")]);
            hostKey = (await fs.readFile(path.join(dir, "ssh", "host_ed25519.pub"), "utf8")).split(" ").slice(0, 2).join(" ");
            await fs.copyFile(client.publicKeyFile, path.join(dir, "ssh", "authorized_keys"));
        } catch (error) {
            slot.release();
            await fs.rm(dir, { recursive: true, force: true });
            throw error;
        }
        const host = new RemoteHost(name, address, gateway, dir, netns, veth, hostKey, slot);
        try {
            await ip("netns", "add", netns);
            await ip("link", "add", veth, "type", "veth", "peer", "name", `${veth}n`);
            await ip("link", "set", `${veth}n`, "netns", netns);
            await ip("addr", "add", `${gateway}/24`, "dev", veth);
            await ip("link", "set", veth, "up");
            await ip("-n", netns, "addr", "add", `${address}/24`, "dev", `${veth}n`);
            await ip("-n", netns, "link", "set", `${veth}n`, "up");
            await ip("-n", netns, "link", "set", "lo", "up");
            await ip("-n", netns, "route", "add", "default", "via", gateway);
            // The host's engine picks the ports it publishes from this range, away from this machine's (32768 up), so that a
            // test can listen on this machine's copy of each of them: the decoy a check through the wrong loopback would hit.
            await execa("nsenter", [`--net=/var/run/netns/${netns}`, "sysctl", "-q", "-w", `net.ipv4.ip_local_port_range=${HOST_PORT_RANGE.join(" ")}`]);
            await fs.writeFile(path.join(dir, "ssh", "sshd_config"), [
                `ListenAddress ${address}`,
                `HostKey ${path.join(dir, "ssh", "host_ed25519")}`,
                `AuthorizedKeysFile ${path.join(dir, "ssh", "authorized_keys")}`,
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                // The keys live under /tmp, which is world-writable.
                "StrictModes no",
                "UsePAM no",
                "PidFile /run/sshd.pid",
                "",
            ].join("\n"));
            await host.startHost();
            await until(`${name}'s dockerd to answer`, async () => (await host.docker.ping().then(() => true, () => undefined)), 60_000, 250);
            await client.addHost(name, address, hostKey);
            await until(`${name}'s sshd to answer`, async () => ((await client.run(name, "true")).exitCode === 0 ? true : undefined), 30_000, 250);
            return host;
        } catch (error) {
            await host.stop();
            throw error;
        }
    }

    /** The host's init: a private /run, then its dockerd and sshd, in the host's network namespace. */
    private async startHost(): Promise<void> {
        const script = path.join(this.dir, "host.sh");
        await fs.writeFile(script, [
            "#!/bin/sh",
            "set -e",
            "mount --make-rprivate /",
            // A fresh /run (and so /var/run): docker.sock here is this host's engine, and only its.
            "mount -t tmpfs tmpfs /run",
            "mkdir -p /run/sshd",
            `dockerd --data-root ${this.dir}/data --exec-root ${this.dir}/exec --pidfile /run/docker.pid -H unix:///run/docker.sock -H unix://${this.dir}/docker.sock > ${this.dir}/dockerd.log 2>&1 &`,
            "echo $! > " + path.join(this.dir, "dockerd.pid"),
            `/usr/sbin/sshd -D -e -f ${this.dir}/ssh/sshd_config > ${this.dir}/sshd.log 2>&1 &`,
            "echo $! > " + path.join(this.dir, "sshd.pid"),
            "wait",
            "",
        ].join("\n"), { mode: 0o755 });
        this.host = spawn("nsenter", [`--net=/var/run/netns/${this.netns}`, "unshare", "--mount", "--propagation", "private", script], { detached: true, stdio: "ignore" });
    }

    /** Stops the host's sshd (its engine keeps running): the host is down as far as SSH goes. */
    async stopSsh(): Promise<void> {
        const pid = Number((await fs.readFile(path.join(this.dir, "sshd.pid"), "utf8")).trim());
        process.kill(pid, "SIGTERM");
        await until(`${this.name}'s sshd to stop`, async () => (processGone(pid) ? true : undefined), 10_000, 100);
    }

    /** Starts the host's sshd again, in the host's namespaces. */
    async startSsh(client: SshClient): Promise<void> {
        // Enter the host's mount namespace through its dockerd, so that the sshd sees the private /run.
        const dockerd = Number((await fs.readFile(path.join(this.dir, "dockerd.pid"), "utf8")).trim());
        const log = await fs.open(path.join(this.dir, "sshd.log"), "a");
        const sshd = spawn("nsenter", ["-t", String(dockerd), "--net", "--mount", "/usr/sbin/sshd", "-D", "-e", "-f", path.join(this.dir, "ssh", "sshd_config")], { detached: true, stdio: ["ignore", log.fd, log.fd] });
        sshd.unref();
        await log.close();
        await fs.writeFile(path.join(this.dir, "sshd.pid"), `${sshd.pid}\n`);
        await until(`${this.name}'s sshd to answer again`, async () => ((await client.run(this.name, "true")).exitCode === 0 ? true : undefined), 30_000, 250);
    }

    /** How many SSH logins the host's sshd has accepted so far. */
    async sshLogins(): Promise<number> {
        return (await fs.readFile(path.join(this.dir, "sshd.log"), "utf8")).split("\n").filter((line) => line.includes("Accepted publickey")).length;
    }

    /** Loads local images into this host's engine (there is no registry it could pull them from). */
    async loadImages(...refs: string[]): Promise<void> {
        const quoted = refs.map((r) => `'${r.replace(/'/g, "")}'`).join(" ");
        await execa("sh", ["-c", `docker save ${quoted} | docker -H unix://${path.join(this.dir, "docker.sock")} load -q`]);
    }

    /** Stops everything the host ran and removes its namespace, link and files. */
    async stop(): Promise<void> {
        if (this.host?.pid) {
            try {
                process.kill(-this.host.pid, "SIGTERM");
            } catch {
                // Already gone.
            }
            await until(`${this.name} to stop`, async () => (processGone(this.host!.pid!) ? true : undefined), 30_000, 200).catch(() => {
                try {
                    process.kill(-this.host!.pid!, "SIGKILL");
                } catch {
                    // Already gone.
                }
            });
        }
        // An sshd started again by startSsh is in its own process group.
        const sshdPid = Number(await fs.readFile(path.join(this.dir, "sshd.pid"), "utf8").then((t) => t.trim(), () => "0"));
        if (sshdPid > 0 && !processGone(sshdPid)) process.kill(sshdPid, "SIGTERM");
        await execa("ip", ["link", "del", this.veth], { reject: false });
        await execa("ip", ["netns", "del", this.netns], { reject: false });
        await fs.rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
        this.slot.release();
    }
}

function processGone(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return false;
    } catch {
        return true;
    }
}
