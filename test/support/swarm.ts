/**
 * Helpers for tests that run agents on a real Docker Swarm: a single-node
 * swarm on loopback, a local registry (Debian's `docker-registry`) so that
 * services run images by registry digest, and a probe that hits an agent by
 * its name on the fleet's overlay network the whole time an update runs.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import net from "node:net";
import path from "node:path";
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { execa } from "execa";
import type Docker from "dockerode";
import * as pulumi from "@pulumi/pulumi";
import { Fleet } from "../../components";
import { DOCKER_TYPES, parseGoDurationMs } from "../../contract";
import { fleetSpec } from "./specs";
import { settle, startMocks } from "./pulumi";
import { NODE_BASE_IMAGE, TEST_LABEL, dockerClient, ensureLocalNodeBaseImage } from "./docker";
import { freePort, until } from "./sentinel";

/** What is missing for the swarm tests on this machine; empty when they can run. */
export function missingForSwarm(): string[] {
    const missing: string[] = [];
    if (spawnSync("docker-registry", ["--version"]).status !== 0) missing.push("Debian's docker-registry (apt-get install docker-registry)");
    if (spawnSync("docker", ["version"]).status !== 0) missing.push("a running Docker engine");
    return missing;
}

/**
 * Test files run in parallel processes, and one that leaves the swarm it made
 * would take another's services with it: each holds this lock while it uses
 * the swarm. A directory, because mkdir is atomic and needs no dependency.
 */
const SWARM_LOCK = path.join(os.tmpdir(), "agent-fleet-swarm-tests.lock");

/**
 * How long a suite may wait for its turn at the swarm: the suites that hold it one after another
 * (swarm, swarm-conformance, swarm-multinode, edge, edge-swarm) took about 27 min in all in CI. A hook
 * that takes the lock allows this on top of its own work: a hook that timed out while waiting its
 * turn skipped its whole suite (swarm-multinode's, at 300 s, in a clean-clone run of 4458c5f).
 */
export const SWARM_TURN_MS = 40 * 60_000;

export async function lockSwarm(timeoutMs = SWARM_TURN_MS): Promise<() => Promise<void>> {
    const owner = path.join(SWARM_LOCK, "pid");
    await until(`the other swarm tests to finish (lock ${SWARM_LOCK})`, async () => {
        if (await fs.mkdir(SWARM_LOCK).then(() => true, () => false)) {
            await fs.writeFile(owner, String(process.pid));
            return true;
        }
        // A lock whose process is gone (a killed run) is stale.
        const pid = Number(await fs.readFile(owner, "utf8").catch(() => ""));
        if (pid > 0 && !isAlive(pid)) await fs.rm(SWARM_LOCK, { recursive: true, force: true });
        return undefined;
    }, timeoutMs, 1_000);
    return () => fs.rm(SWARM_LOCK, { recursive: true, force: true });
}

function isAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

/**
 * Makes this engine a single-node swarm manager unless it already is one, for
 * this test file alone. Returns how to undo exactly that: leave only a swarm
 * the test created, and let the next swarm test in.
 */
export async function ensureSwarm(docker: Docker = dockerClient()): Promise<() => Promise<void>> {
    const unlock = await lockSwarm();
    try {
        const info = await docker.info() as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } };
        if (info.Swarm?.LocalNodeState === "active") {
            if (!info.Swarm.ControlAvailable) throw new Error("this Docker engine is a swarm worker; the swarm tests need a manager");
            return unlock;
        }
        await docker.swarmInit({ ListenAddr: "127.0.0.1:2377", AdvertiseAddr: "127.0.0.1" });
    } catch (error) {
        await unlock();
        throw error;
    }
    return async () => {
        await docker.swarmLeave({ force: true }).catch(() => undefined);
        await unlock();
    };
}

export interface RegistryOptions {
    /** The address it listens on; default loopback, which Docker trusts over plain HTTP. */
    readonly host?: string;
    /**
     * Serve TLS with a certificate made for `host`, trusted by every engine on
     * this machine through /etc/docker/certs.d/<host:port>/ca.crt (removed by
     * `stop`): what any address but loopback needs. Default false.
     */
    readonly tls?: boolean;
    /** Require this login (htpasswd, bcrypt through apache2-utils' `htpasswd`); `push` logs in with it. Default: no auth. */
    readonly login?: { readonly username: string; readonly password: string };
}

/** A registry (Debian's docker-registry), storing under a temporary directory, stopped and removed by `stop`. */
export class LocalRegistry {
    private constructor(
        readonly address: string, private readonly process: ChildProcess, private readonly dir: string, private readonly trustDir?: string,
        /** A Docker CLI config of the test's own, logged in to this registry (never the user's ~/.docker). */
        private readonly dockerConfig?: string,
    ) {}

    static async start(options: RegistryOptions = {}): Promise<LocalRegistry> {
        const host = options.host ?? "127.0.0.1";
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), "agent-fleet-registry-"));
        const port = await freePort();
        const address = `${host}:${port}`;
        let tls = "";
        let trustDir: string | undefined;
        if (options.tls) {
            const key = path.join(dir, "registry.key");
            const cert = path.join(dir, "registry.crt");
            await execa("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", `/CN=${host}`, "-addext", `subjectAltName=IP:${host}`]);
            trustDir = path.join("/etc/docker/certs.d", address);
            await fs.mkdir(trustDir, { recursive: true });
            await fs.copyFile(cert, path.join(trustDir, "ca.crt"));
            tls = `, tls: { certificate: ${cert}, key: ${key} }`;
        }
        let auth: string[] = [];
        if (options.login) {
            const htpasswd = await execa("htpasswd", ["-Bbn", options.login.username, options.login.password]);
            await fs.writeFile(path.join(dir, "htpasswd"), `${htpasswd.stdout.trim()}\n`);
            auth = [`auth: { htpasswd: { realm: agent-fleet-test, path: ${path.join(dir, "htpasswd")} } }`];
        }
        const config = path.join(dir, "config.yml");
        await fs.writeFile(config, [
            "version: 0.1",
            "log: { level: error }",
            `storage: { filesystem: { rootdirectory: ${path.join(dir, "data")} }, delete: { enabled: true } }`,
            `http: { addr: "${address}"${tls} }`,
            ...auth,
        ].join("\n"));
        const child = spawn("docker-registry", ["serve", config], { stdio: "ignore" });
        const dockerConfig = options.login ? path.join(dir, "docker-config") : undefined;
        const registry = new LocalRegistry(address, child, dir, trustDir, dockerConfig);
        await until(`the registry at ${address} to accept connections`, () => new Promise<true | undefined>((resolve) => {
            const socket = net.connect(port, host, () => { socket.end(); resolve(true); });
            socket.on("error", () => resolve(undefined));
        }), 15_000, 250);
        if (options.login && dockerConfig) {
            await execa("docker", ["--config", dockerConfig, "login", "--username", options.login.username, "--password-stdin", address], { input: options.login.password });
        }
        return registry;
    }

    /** Tags a local image into this registry, pushes it, and returns "repo@sha256:…". */
    async push(localImage: string, repoTag: string): Promise<string> {
        const target = `${this.address}/${repoTag}`;
        await execa("docker", ["tag", localImage, target]);
        const pushed = await execa("docker", [...(this.dockerConfig ? ["--config", this.dockerConfig] : []), "push", target]);
        const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)?.[1];
        if (!digest) throw new Error(`docker push ${target} printed no digest:\n${pushed.stdout}`);
        return `${target.replace(/:[^:/]+$/, "")}@${digest}`;
    }

    async stop(): Promise<void> {
        this.process.kill("SIGTERM");
        if (this.trustDir) await fs.rm(this.trustDir, { recursive: true, force: true });
        await fs.rm(this.dir, { recursive: true, force: true });
    }
}

/** What a probe saw: every request's outcome while it ran. */
export interface ProbeCounts {
    readonly ok: number;
    readonly failed: number;
    /** Failures by cause (HTTP status or error code), for the failure message. */
    readonly errors: Record<string, number>;
    /** Versions that answered, by count (the agent's /health reports its version). */
    readonly versions: Record<string, number>;
    /** When the first and the last failure happened (ISO times), to line them up with the engine's events. */
    readonly firstFailure?: string;
    readonly lastFailure?: string;
    /** With a failure only: the engine's events while the probe ran (see EngineEvents). */
    readonly events?: readonly string[];
}

/**
 * The probe itself, run by `node -e` in a container on the fleet network: it
 * asks for `url` every 50 ms (a fresh DNS lookup and connection each time, as
 * a client of the agent would), and prints its counts when stopped.
 */
const PROBE_SCRIPT = `
const url = process.argv[1]; let ok = 0, failed = 0; const errors = {}, versions = {}; let stop = false, firstFailure, lastFailure;
const fail = (k) => { failed++; errors[k] = (errors[k] || 0) + 1; lastFailure = new Date().toISOString(); firstFailure = firstFailure || lastFailure; };
process.on("SIGTERM", () => { stop = true; });
(async () => {
  while (!stop) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000), headers: { connection: "close" } });
      const body = await r.text();
      if (r.ok) { ok++; const v = (() => { try { return JSON.parse(body).version; } catch { return "?"; } })(); versions[v] = (versions[v] || 0) + 1; }
      else fail(r.status);
    } catch (e) { fail((e.cause && e.cause.code) || e.name); }
    await new Promise((r) => setTimeout(r, 50));
  }
  console.log(JSON.stringify({ ok, failed, errors, versions, firstFailure, lastFailure }));
})();`;

/** A probe container on `network`, hitting `url` until `stop()` returns its counts. */
export class Probe {
    private constructor(private readonly container: Docker.Container, private readonly events: EngineEvents) {}

    static async start(network: string, url: string, docker: Docker = dockerClient()): Promise<Probe> {
        await ensureLocalNodeBaseImage();
        const events = await EngineEvents.start(docker);
        const container = await docker.createContainer({
            Image: NODE_BASE_IMAGE,
            Entrypoint: ["node", "-e", PROBE_SCRIPT],
            Cmd: [url],
            Labels: { [TEST_LABEL]: "swarm-probe" },
            HostConfig: { NetworkMode: network },
            StopSignal: "SIGTERM",
        });
        await container.start();
        return new Probe(container, events);
    }

    async stop(): Promise<ProbeCounts> {
        await this.container.stop({ t: 10 }).catch(() => undefined);
        const logs = (await this.container.logs({ stdout: true, stderr: true })).toString("utf8");
        await this.container.remove({ force: true }).catch(() => undefined);
        const events = this.events.stop();
        const line = logs.split("\n").map((l) => l.replace(/^[\s\S]{0,8}?\{/, "{")).find((l) => l.startsWith("{\"ok\""));
        if (!line) throw new Error(`the probe printed no counts:\n${logs}`);
        const counts = JSON.parse(line) as ProbeCounts;
        return counts.failed > 0 ? { ...counts, events } : counts;
    }
}

/**
 * The engine's service, task container and network events while a probe runs:
 * when a probe fails, its counts carry them, so the failure message shows what
 * the engine did around the first and the last failure.
 */
class EngineEvents {
    private readonly lines: string[] = [];

    private constructor(private readonly stream: NodeJS.ReadableStream & { destroy?: () => void }) {
        let buffered = "";
        stream.on("data", (chunk: Buffer) => {
            buffered += chunk.toString("utf8");
            const complete = buffered.split("\n");
            buffered = complete.pop() ?? "";
            for (const raw of complete.filter(Boolean)) {
                const e = JSON.parse(raw) as { Type: string; Action: string; timeNano: number; Actor: { ID: string; Attributes?: Record<string, string> } };
                const name = e.Actor.Attributes?.name ?? e.Actor.ID.slice(0, 12);
                this.lines.push(`${new Date(e.timeNano / 1e6).toISOString()} ${e.Type} ${e.Action} ${name}`);
            }
        });
        stream.on("error", () => undefined);
    }

    static async start(docker: Docker): Promise<EngineEvents> {
        const stream = await docker.getEvents({ filters: { type: ["service", "container", "network"] } }) as NodeJS.ReadableStream;
        return new EngineEvents(stream);
    }

    stop(): string[] {
        this.stream.destroy?.();
        // exec_* events are the healthchecks: hundreds of lines that say nothing about the handover.
        return this.lines.filter((l) => !/ container exec_/.test(l));
    }
}

/** The swarm runtime's Service inputs for one agent, as the engine would receive them (declared under mocks). */
export async function swarmServiceInputs(agent: string, fields: Record<string, unknown> = {}): Promise<Record<string, any>> {
    const run = await startMocks("dev");
    const spec = fleetSpec({ runtime: "swarm", agents: { [agent]: { tier: 2, port: 8080, image: "127.0.0.1:5000/agent:1.0.0", waitTimeout: "30s", ...fields } } }, "dev");
    new Fleet("fleet", { spec, secretConfig: (key) => pulumi.secret(key) });
    await pulumi.runtime.disconnect();
    await settle();
    const [service] = run.byType(DOCKER_TYPES.service);
    return service.inputs;
}

/** Nanoseconds, the Engine API's unit, of a duration as the swarm runtime spells it. */
export const ns = (goDuration: string): number => {
    const ms = parseGoDurationMs(goDuration);
    if (ms === undefined) throw new Error(`not a Go duration: ${goDuration}`);
    return ms * 1e6;
};

/**
 * The provider's service args in the Engine API's terms, for the fields this
 * test is about. Written here because the provider's own translation is Go
 * inside the plugin; the e2e suite checks that it agrees.
 */
export function engineServiceSpec(inputs: Record<string, any>, image: string, network: string, env: string[], name = `swarm-test-${Date.now()}`): Docker.CreateServiceOptions {
    const update = (c: Record<string, any>) => ({
        Parallelism: c.parallelism, Delay: ns(c.delay), FailureAction: c.failureAction, Monitor: ns(c.monitor), MaxFailureRatio: Number(c.maxFailureRatio), Order: c.order,
    });
    const { containerSpec, restartPolicy } = inputs.taskSpec;
    const hc = containerSpec.healthcheck;
    return {
        Name: name,
        Labels: { [TEST_LABEL]: name },
        TaskTemplate: {
            ContainerSpec: {
                Image: image, Env: env, User: containerSpec.user, StopSignal: containerSpec.stopSignal, StopGracePeriod: ns(containerSpec.stopGracePeriod),
                Healthcheck: { Test: hc.tests, Interval: ns(hc.interval), Timeout: ns(hc.timeout), Retries: hc.retries, StartPeriod: ns(hc.startPeriod) },
            },
            RestartPolicy: { Condition: restartPolicy.condition, Delay: ns(restartPolicy.delay), MaxAttempts: restartPolicy.maxAttempts, Window: ns(restartPolicy.window) },
            Networks: [{ Target: network, Aliases: inputs.taskSpec.networksAdvanceds[0].aliases }],
        },
        Mode: { Replicated: { Replicas: inputs.mode.replicated.replicas } },
        UpdateConfig: update(inputs.updateConfig),
        RollbackConfig: update(inputs.rollbackConfig),
        EndpointSpec: {
            Mode: inputs.endpointSpec.mode,
            Ports: inputs.endpointSpec.ports.map((p: Record<string, any>) => ({ TargetPort: p.targetPort, PublishMode: p.publishMode, Protocol: p.protocol })),
        },
    } as unknown as Docker.CreateServiceOptions;
}

