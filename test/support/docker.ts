// Helpers for tests that drive a real Docker engine. Shared by the sample-agent
// container tests and the Pulumi component tests, so everything here is
// engine-version tolerant (server 20.10, classic builder) and works offline.
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { execa } from "execa";
import { SAMPLE_AGENT, SENTINEL, bundle } from "../../scripts/build-agents";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const SAMPLE_AGENT_DIR = path.join(REPO_ROOT, "agents", "sample-agent");
export const NODE_BASE_IMAGE = "agent-fleet/node-base:local";
export const SAMPLE_AGENT_TEST_IMAGE = "agent-fleet/sample-agent:test";
/** Label put on every container these helpers create, so leaks are easy to find by hand. */
export const TEST_LABEL = "agent-fleet.test";
/** Port the sample agent listens on inside the container (its Dockerfile's ENV PORT). */
export const SAMPLE_AGENT_PORT = 8080;

const NODE_VERSION_LABEL = "agent-fleet.node-version";

let client: Docker | undefined;

/** One shared client: dockerode honours DOCKER_HOST/DOCKER_CERT_PATH, so tests follow the CLI's target. */
export function dockerClient(): Docker {
    client ??= new Docker();
    return client;
}

function engineAddress(docker: Docker): string {
    const modem = docker.modem as unknown as { socketPath?: string; host?: string; port?: number; protocol?: string };
    if (modem.socketPath) return `unix://${modem.socketPath}`;
    return `${modem.protocol ?? "http"}://${modem.host ?? "localhost"}:${modem.port ?? ""}`;
}

/**
 * Fail fast with an actionable message: without this, a missing daemon shows
 * up as an opaque ECONNREFUSED/ENOENT deep inside the first build.
 */
export async function requireDocker(timeoutMs = 5_000): Promise<Docker> {
    const docker = dockerClient();
    const where = engineAddress(docker);
    let timer: NodeJS.Timeout | undefined;
    try {
        await Promise.race([
            docker.ping(),
            new Promise((_, reject) => {
                timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs}ms`)), timeoutMs);
            }),
        ]);
    } catch (err) {
        throw new Error(`Docker engine not reachable at ${where}; start dockerd (see .ci/run). Cause: ${(err as Error).message}`);
    } finally {
        clearTimeout(timer);
    }
    return docker;
}

/** Nanoseconds, because that is the unit Docker's Healthcheck API expects. */
export const seconds = (n: number): number => Math.round(n * 1e9);

interface BuildEvent {
    stream?: string;
    error?: string;
    errorDetail?: { message?: string };
    aux?: { ID?: string };
}

/**
 * dockerode resolves a build as soon as the HTTP stream ends, even when the
 * Dockerfile failed (the error is just another JSON line), so the stream must
 * be drained and checked. Returns the image id.
 */
async function buildAndWait(context: Docker.ImageBuildContext, options: Docker.ImageBuildOptions): Promise<string> {
    const docker = dockerClient();
    const stream = await docker.buildImage(context, { rm: true, forcerm: true, ...options });
    const events = await new Promise<BuildEvent[]>((resolve, reject) => {
        docker.modem.followProgress(stream, (err: Error | null, output: BuildEvent[]) => (err ? reject(err) : resolve(output)));
    });
    const failure = events.find((e) => e.error || e.errorDetail);
    if (failure) {
        const transcript = events.map((e) => e.stream ?? "").join("").trim().split("\n").slice(-20).join("\n");
        throw new Error(`docker build of ${options.t ?? context.context} failed: ${failure.errorDetail?.message ?? failure.error}\n${transcript}`);
    }
    const fromAux = [...events].reverse().find((e) => e.aux?.ID)?.aux?.ID;
    if (fromAux) return fromAux;
    if (!options.t) throw new Error(`docker build of ${context.context} reported no image id`);
    return (await docker.getImage(options.t).inspect()).Id;
}

/** Shared objects `ldd` resolves for a binary, plus the dynamic loader; [] for a static binary. */
async function sharedLibraries(binary: string): Promise<string[]> {
    const result = await execa("ldd", [binary], { reject: false });
    const out = `${result.stdout}\n${result.stderr}`;
    if (/not a dynamic executable|statically linked/.test(out)) return [];
    if (result.exitCode !== 0) throw new Error(`ldd ${binary} failed (exit ${result.exitCode}): ${out.trim()}`);
    const libs: string[] = [];
    for (const line of result.stdout.split("\n")) {
        if (/=>\s*not found/.test(line)) throw new Error(`ldd cannot resolve a library of ${binary}: ${line.trim()}`);
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)";
        // linux-vdso has no path because the kernel maps it in.
        const match = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/i.exec(line);
        if (match) libs.push(match[1]);
    }
    return [...new Set(libs)];
}

async function imageLabels(tag: string): Promise<Record<string, string> | undefined> {
    try {
        const info = await dockerClient().getImage(tag).inspect();
        return info.Config?.Labels ?? {};
    } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return undefined;
        throw err;
    }
}

/**
 * There is no registry in CI, so `FROM node:20-alpine` cannot be pulled. This
 * packs the host's own node binary and exactly the libraries it links against
 * into a FROM scratch image, which the sample agent's Dockerfile accepts via
 * its NODE_IMAGE build arg. Rebuilt only when absent or built from a
 * different node version.
 */
export async function ensureLocalNodeBaseImage(tag = NODE_BASE_IMAGE): Promise<string> {
    const docker = dockerClient();
    const labels = await imageLabels(tag);
    if (labels && labels[NODE_VERSION_LABEL] === process.version) {
        return (await docker.getImage(tag).inspect()).Id;
    }

    const nodeBinary = await fs.realpath(process.execPath);
    const libs = await sharedLibraries(nodeBinary);
    const context = await fs.mkdtemp(path.join(os.tmpdir(), "agent-fleet-node-base-"));
    try {
        const rootfs = path.join(context, "rootfs");
        const place = async (source: string, target: string, mode: number) => {
            const dest = path.join(rootfs, target);
            await fs.mkdir(path.dirname(dest), { recursive: true });
            // copyFile follows symlinks (libc.so.6 -> libc-2.x.so on older
            // distros), so the image gets real files at the linked-against paths.
            await fs.copyFile(source, dest);
            await fs.chmod(dest, mode);
        };
        await place(nodeBinary, "usr/local/bin/node", 0o755);
        for (const lib of libs) await place(await fs.realpath(lib), lib, 0o755);
        // Node and libuv fall back to /tmp for os.tmpdir(); scratch has no /tmp at all.
        await fs.mkdir(path.join(rootfs, "tmp"));
        await fs.chmod(path.join(rootfs, "tmp"), 0o1777);

        await fs.writeFile(
            path.join(context, "Dockerfile"),
            [
                "FROM scratch",
                "COPY rootfs/ /",
                "ENV PATH=/usr/local/bin",
                `LABEL ${NODE_VERSION_LABEL}="${process.version}"`,
                'CMD ["node"]',
                "",
            ].join("\n"),
        );
        return await buildAndWait({ context, src: ["Dockerfile", "rootfs"] }, { t: tag });
    } finally {
        await fs.rm(context, { recursive: true, force: true });
    }
}

/** The base the docker proxy's Dockerfile names by default (agents/docker-proxy, ARG CADDY_IMAGE). */
export const DEFAULT_CADDY_IMAGE = "caddy:2-alpine";
const CADDY_BINARY_LABEL = "agent-fleet.caddy-binary";

/**
 * `FROM caddy:2-alpine` cannot be pulled here either: this packs Debian's
 * `caddy` and exactly the libraries it links against into a FROM scratch
 * image tagged as that base, with caddy at /usr/bin/caddy as in the official
 * image. Rebuilt only when absent or built from another binary.
 */
export async function provideDefaultCaddyImage(tag = DEFAULT_CADDY_IMAGE): Promise<string> {
    const binary = await fs.realpath("/usr/bin/caddy").catch(() => {
        throw new Error("the docker proxy's tests need Debian's caddy (apt-get install caddy)");
    });
    const stamp = `${binary}:${(await fs.stat(binary)).mtimeMs}`;
    const labels = await imageLabels(tag);
    if (labels && labels[CADDY_BINARY_LABEL] === stamp) return (await dockerClient().getImage(tag).inspect()).Id;
    const context = await fs.mkdtemp(path.join(os.tmpdir(), "agent-fleet-caddy-base-"));
    try {
        const rootfs = path.join(context, "rootfs");
        const place = async (source: string, target: string) => {
            const dest = path.join(rootfs, target);
            await fs.mkdir(path.dirname(dest), { recursive: true });
            await fs.copyFile(source, dest);
            await fs.chmod(dest, 0o755);
        };
        await place(binary, "usr/bin/caddy");
        for (const lib of await sharedLibraries(binary)) await place(await fs.realpath(lib), lib);
        await fs.mkdir(path.join(rootfs, "tmp"));
        await fs.chmod(path.join(rootfs, "tmp"), 0o1777);
        await fs.writeFile(path.join(context, "Dockerfile"), ["FROM scratch", "COPY rootfs/ /", "ENV PATH=/usr/bin", `LABEL ${CADDY_BINARY_LABEL}="${stamp}"`, 'CMD ["caddy", "version"]', ""].join("\n"));
        return await buildAndWait({ context, src: ["Dockerfile", "rootfs"] }, { t: tag });
    } finally {
        await fs.rm(context, { recursive: true, force: true });
    }
}

/**
 * Builds the real agents/sample-agent/Dockerfile (so tests cover it, not a
 * test-only copy) on top of the offline base image.
 */
export async function buildSampleAgentImage(tag = SAMPLE_AGENT_TEST_IMAGE): Promise<string> {
    await ensureLocalNodeBaseImage(NODE_BASE_IMAGE);
    await bundle(SAMPLE_AGENT);
    // The agent's .dockerignore still filters this list, as the CLI would. Files under a directory are listed
    // one by one: dockerode matches a walked directory's files by their absolute path, which `*` never allows.
    const src = (await fs.readdir(SAMPLE_AGENT_DIR, { recursive: true, withFileTypes: true }))
        .filter((entry) => entry.isFile())
        .map((entry) => path.relative(SAMPLE_AGENT_DIR, path.join(entry.parentPath, entry.name)));
    return buildAndWait({ context: SAMPLE_AGENT_DIR, src }, { t: tag, buildargs: { NODE_IMAGE: NODE_BASE_IMAGE } });
}

export const SENTINEL_TEST_IMAGE = "agent-fleet/sentinel:test";

/** Bundles the sentinel and builds its real Dockerfile on the offline base image. */
export async function buildSentinelImage(tag = SENTINEL_TEST_IMAGE): Promise<string> {
    await ensureLocalNodeBaseImage(NODE_BASE_IMAGE);
    await bundle(SENTINEL);
    return buildAndWait({ context: SENTINEL.context, src: ["Dockerfile", "dist", "spool"] }, { t: tag, buildargs: { NODE_IMAGE: NODE_BASE_IMAGE } });
}

export const DOCKER_PROXY_TEST_IMAGE = "agent-fleet/docker-proxy:test";

/** Builds the sentinel's docker proxy from its real Dockerfile and Caddyfile, on the offline Caddy base. */
export async function buildDockerProxyImage(tag = DOCKER_PROXY_TEST_IMAGE): Promise<string> {
    await provideDefaultCaddyImage();
    return buildAndWait({ context: path.join(REPO_ROOT, "agents", "docker-proxy"), src: ["Dockerfile", "Caddyfile"] }, { t: tag });
}

export interface RunOptions {
    image: string;
    env?: Record<string, string>;
    /** Container port to publish on 127.0.0.1 with an ephemeral host port. */
    containerPort?: number;
    /** Overrides the image HEALTHCHECK timings; omitted fields (incl. Test) are inherited from the image. */
    healthcheck?: Docker.HealthConfig;
    user?: string;
    readonlyRootfs?: boolean;
    cmd?: string[];
    name?: string;
    /** Labels besides the test label (e.g. the fleet's agent labels). */
    labels?: Record<string, string>;
    /** "host" shares the host's network (loopback included); default the bridge. */
    networkMode?: string;
    /** Bind mounts and named volumes, "host-path-or-volume:container-path[:ro]". */
    binds?: string[];
    /** Supplementary groups, e.g. the Docker socket's gid. */
    groupAdd?: string[];
    /** Docker's restart policy; default none. */
    restart?: { Name: "no" | "on-failure" | "always" | "unless-stopped"; MaximumRetryCount?: number };
}

export interface RunningContainer {
    id: string;
    container: Docker.Container;
    /** Ephemeral host port bound on 127.0.0.1, or undefined when nothing was published. */
    hostPort?: number;
    /** http://127.0.0.1:<hostPort> */
    baseUrl: string;
}

/**
 * Tracks the containers one test file starts so afterAll removes exactly
 * those (by id) and never touches containers owned by anyone else on a shared
 * engine.
 */
export class TestContainers {
    private readonly ids = new Set<string>();

    constructor(private readonly docker: Docker = dockerClient()) {}

    /** Creates, starts and (if a port is published) resolves the host port of a container. */
    async run(opts: RunOptions): Promise<RunningContainer> {
        const port = opts.containerPort;
        const portKey = port === undefined ? undefined : `${port}/tcp`;
        const container = await this.docker.createContainer({
            Image: opts.image,
            name: opts.name,
            Cmd: opts.cmd,
            User: opts.user,
            Env: Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`),
            Labels: { ...opts.labels, [TEST_LABEL]: "true" },
            ExposedPorts: portKey ? { [portKey]: {} } : undefined,
            Healthcheck: opts.healthcheck,
            HostConfig: {
                // Loopback only: test agents expose unauthenticated admin endpoints.
                PortBindings: portKey ? { [portKey]: [{ HostIp: "127.0.0.1", HostPort: "" }] } : undefined,
                ReadonlyRootfs: opts.readonlyRootfs ?? false,
                ...(opts.networkMode ? { NetworkMode: opts.networkMode } : {}),
                ...(opts.binds ? { Binds: opts.binds } : {}),
                ...(opts.groupAdd ? { GroupAdd: opts.groupAdd } : {}),
                ...(opts.restart ? { RestartPolicy: opts.restart } : {}),
            },
        });
        this.ids.add(container.id);
        await container.start();

        let hostPort: number | undefined;
        if (portKey) {
            const info = await container.inspect();
            const binding = info.NetworkSettings.Ports?.[portKey]?.find((b) => b.HostIp === "127.0.0.1") ?? info.NetworkSettings.Ports?.[portKey]?.[0];
            if (!binding) throw new Error(`container ${container.id.slice(0, 12)} has no host binding for ${portKey} (state: ${info.State.Status})`);
            hostPort = Number(binding.HostPort);
        }
        return { id: container.id, container, hostPort, baseUrl: hostPort ? `http://127.0.0.1:${hostPort}` : "" };
    }

    /** Registers a container created elsewhere so removeAll cleans it up too. */
    track(id: string): void {
        this.ids.add(id);
    }

    /** Force-removes every tracked container; safe to call when some are already gone. */
    async removeAll(): Promise<void> {
        const ids = [...this.ids];
        this.ids.clear();
        const results = await Promise.allSettled(ids.map((id) => this.docker.getContainer(id).remove({ force: true, v: true })));
        const failures = results.flatMap((r, i) =>
            r.status === "rejected" && (r.reason as { statusCode?: number }).statusCode !== 404 ? [`${ids[i].slice(0, 12)}: ${(r.reason as Error).message}`] : [],
        );
        if (failures.length > 0) throw new Error(`failed to remove test containers: ${failures.join("; ")}`);
    }
}

export type HealthStatus = "starting" | "healthy" | "unhealthy" | "none";

/**
 * Docker only exposes health by polling inspect. Fails early if the container
 * stops, and includes the last probe outputs on timeout because that is what
 * explains a health failure.
 */
export async function waitForHealthStatus(
    container: Docker.Container,
    want: HealthStatus,
    { timeoutMs = 20_000, pollMs = 200 }: { timeoutMs?: number; pollMs?: number } = {},
): Promise<Docker.ContainerInspectInfo> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const info = await container.inspect();
        const status = (info.State.Health?.Status ?? "none") as HealthStatus;
        if (status === want) return info;
        if (!info.State.Running) {
            throw new Error(`container ${info.Id.slice(0, 12)} stopped (exit ${info.State.ExitCode}) while waiting for health "${want}"`);
        }
        if (Date.now() >= deadline) {
            const probes = (info.State.Health?.Log ?? []).slice(-3).map((l) => `exit ${l.ExitCode}: ${l.Output.trim()}`);
            throw new Error(`container ${info.Id.slice(0, 12)} health is "${status}", wanted "${want}" within ${timeoutMs}ms; last probes: ${probes.join(" | ") || "none"}`);
        }
        await sleep(pollMs);
    }
}

/** Bounded container.wait(): an unbounded wait would hang the suite until vitest's hook timeout. */
export async function waitForExit(container: Docker.Container, timeoutMs = 15_000): Promise<{ exitCode: number; info: Docker.ContainerInspectInfo }> {
    let timer: NodeJS.Timeout | undefined;
    try {
        await Promise.race([
            container.wait({ condition: "not-running" }),
            new Promise((_, reject) => {
                timer = setTimeout(() => reject(new Error(`container ${container.id.slice(0, 12)} still running after ${timeoutMs}ms`)), timeoutMs);
            }),
        ]);
    } finally {
        clearTimeout(timer);
    }
    const info = await container.inspect();
    return { exitCode: info.State.ExitCode, info };
}

/**
 * Splits Docker's multiplexed log/exec framing (8-byte header per frame) used
 * for non-TTY containers; returned text would otherwise contain binary headers.
 */
export function demuxDockerStream(buf: Buffer): { stdout: string; stderr: string } {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let offset = 0;
    while (offset + 8 <= buf.length) {
        const kind = buf[offset];
        const size = buf.readUInt32BE(offset + 4);
        const frame = buf.subarray(offset + 8, offset + 8 + size);
        (kind === 2 ? err : out).push(frame);
        offset += 8 + size;
    }
    return { stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}

/** Logs so far (works on stopped containers, which is when crash output matters). */
export async function containerLogs(container: Docker.Container): Promise<{ stdout: string; stderr: string }> {
    const raw = await container.logs({ stdout: true, stderr: true, follow: false });
    return demuxDockerStream(Buffer.isBuffer(raw) ? raw : Buffer.from(raw as unknown as string));
}

/** Runs a command inside a running container, e.g. to check uid or a read-only filesystem from the inside. */
export async function execInContainer(
    container: Docker.Container,
    cmd: string[],
    timeoutMs = 10_000,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    try {
        await Promise.race([
            new Promise<void>((resolve, reject) => {
                stream.on("data", (c: Buffer) => chunks.push(c));
                stream.on("end", () => resolve());
                stream.on("close", () => resolve());
                stream.on("error", reject);
            }),
            new Promise((_, reject) => {
                timer = setTimeout(() => reject(new Error(`exec ${cmd.join(" ")} did not finish within ${timeoutMs}ms`)), timeoutMs);
            }),
        ]);
    } finally {
        clearTimeout(timer);
    }
    const { ExitCode } = await exec.inspect();
    return { exitCode: ExitCode ?? -1, ...demuxDockerStream(Buffer.concat(chunks)) };
}

export function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The commands `docker exec` ran in any container of `docker`'s engine since `sinceMs` (its exec_create
 * events), whose command contains `containing`: e.g. the edge's `caddy reload`, to show routes were or were
 * not loaded. Healthchecks are execs too; `containing` leaves them out.
 */
export async function execsSince(docker: Docker, sinceMs: number, containing: string): Promise<string[]> {
    const events = await docker.getEvents({ since: Math.floor(sinceMs / 1000), until: Math.ceil(Date.now() / 1000), filters: { type: ["container"] } }) as NodeJS.ReadableStream;
    let text = "";
    for await (const chunk of events) text += String(chunk);
    return text.split("\n").filter(Boolean).map((line) => (JSON.parse(line) as { Action: string }).Action)
        .filter((action) => action.startsWith("exec_create") && action.includes(containing));
}
