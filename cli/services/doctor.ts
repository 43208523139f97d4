/**
 * `fleet doctor --stack <name>`: everything a deploy of the stack needs,
 * checked at once, each problem with the command that fixes it: the fleet
 * config, its secret keys, its channels, the GitHub token when the stack
 * talks to GitHub, the Docker engine the stack deploys to, the Pulumi CLI,
 * the backend and the passphrase, the fleet lock, and anything an
 * interrupted operation left for a person (a dead Pulumi lock, pending
 * operations, containers the state does not know).
 */
import * as fs from "fs";
import * as path from "path";
import { execa } from "execa";
import * as semver from "semver";
import { DEFAULT_DOCKER_HOST, FleetConfigError, FleetSpec, probeIntervalMs, StackEngine, StackView, dockerAddressProblem, governanceInStackFiles, loadGithubConfig, openStackView, secretKeyStateInFile } from "../../config";
import { backendUrl, describeHolder, healthFeaturesOfApi, fileBackendDir, holderAlive, lockFilePath, readLockFile } from "../../contract";
import { EXIT, Output, asCommand, formatTable } from "../output";
import { dockerFor } from "./docker";
import { probeSshHost } from "./ssh-dial";
import { describeLeftovers, findLeftovers } from "./recover";
import { StackAccessError, explainPulumiFailure, openStack, pulumiEnv, stackEnvFileName } from "./stack-access";
import type { StackFile, StackProject } from "../../config";

/** The oldest engine the fleet is tested on; and engines before 27.5 fail image builds with the containerd store (as scripts/deploy-dev.sh says). */
const MIN_DOCKER_VERSION = "20.10.0";
const CONTAINERD_STORE_MIN_VERSION = "27.5.0";
/** Below this much free disk under a host's data root, a deploy can fail to pull or build: 2 GiB. */
const MIN_FREE_DISK_BYTES = 2 * 2 ** 30;

export interface DoctorOptions {
    readonly stack: string;
    readonly cwd?: string;
    readonly json?: boolean;
    /** The environment to read DOCKER_HOST and PATH from; default the process's. */
    readonly env?: NodeJS.ProcessEnv;
    /**
     * Run as `fleet up`'s preflight: what an interrupted operation left is not a
     * problem there (fleet up puts it right itself), and a stack not created yet
     * is fine when fleet up will create it.
     */
    readonly forUp?: boolean | { readonly createStack?: boolean };
}

export interface DoctorFinding {
    readonly check: "config" | "secrets" | "channels" | "github" | "host" | "docker" | "pulumi" | "backend" | "lock";
    readonly ok: boolean;
    readonly detail: string;
    /** The command (or edit) that fixes it, when it failed. */
    readonly fix?: string;
    /** Set on a passing finding worth reading anyway: `fleet up` prints it in its preflight. */
    readonly note?: boolean;
    /**
     * Set on a failed finding when a host of `fleet.hosts` is down (does not answer; never for a refused key or
     * login): `fleet up` then deploys the other hosts, and that host's agents fail on their own.
     */
    readonly hostDown?: string;
}

/** Engines and CLIs report versions like "20.10.24+dfsg1" or "v3.259.0"; compare their major.minor.patch. */
function versionAtLeast(version: string, minimum: string): boolean {
    const parsed = semver.coerce(version);
    return parsed !== null && semver.gte(parsed, minimum);
}

/** A config error's problems, one finding each, with the file and field to edit. */
function configProblemFindings(error: FleetConfigError): DoctorFinding[] {
    return error.problems.map((p) => ({ check: "config", ok: false, detail: `${p.path}: ${p.message}`, fix: `edit ${p.file} at ${p.path}` }));
}

/** The fleet config and its secret keys, from the stack file alone (ciphertext is `secure:`, anything else plain). */
function checkConfig(view: StackView, findings: DoctorFinding[]): FleetSpec | undefined {
    const { file, stack } = view;
    try {
        // Keys are judged below, one finding each, with their fix; the loader checks everything else.
        const spec = view.specWithoutSecretKeys();
        const keys = view.secretKeysNamed();
        findings.push({ check: "config", ok: true, detail: `${file.display}: ${spec.agents.length} agents, ${spec.channels.length} channels` });
        for (const [key, s] of [...keys].sort(([a], [b]) => a.localeCompare(b))) {
            if (s === "secret") findings.push({ check: "secrets", ok: true, detail: `${key} is set as a secret` });
            else findings.push({
                check: "secrets", ok: false,
                detail: s === "missing" ? `${key} is not set` : `${key} is set in plain text in ${file.display}`,
                fix: `npx pulumi config set --secret ${key} <value> --stack ${stack}`,
            });
        }
        return spec;
    } catch (error) {
        if (!(error instanceof FleetConfigError)) throw error;
        findings.push(...configProblemFindings(error));
        return undefined;
    }
}

/**
 * A stack that registers GitHub webhooks or manages the repository's GitHub
 * side needs a token: GITHUB_TOKEN, or `github:token` set as a secret. The
 * governance config is checked like the fleet's. Offline: GitHub is not asked.
 */
function checkGithub(project: StackProject, file: StackFile, stack: string, spec: FleetSpec | undefined, env: NodeJS.ProcessEnv, findings: DoctorFinding[]): void {
    const governance = file.config[`${project.name}:github`];
    const hookRepositories = [...new Set((spec?.agents ?? []).flatMap((a) => a.webhooks.filter((w) => w.source === "github").map((w) => w.repository!)))].sort();
    if (governance === undefined && hookRepositories.length === 0) return;
    const state = secretKeyStateInFile(project.name, file.config);
    try {
        const config = loadGithubConfig(stack, governance, state, governanceInStackFiles(project.dir, project.name));
        if (config) findings.push({ check: "config", ok: true, detail: `${file.display}: the GitHub side of ${config.repository}` });
    } catch (error) {
        if (!(error instanceof FleetConfigError)) throw error;
        findings.push(...configProblemFindings(error));
    }
    const needs = [...(governance !== undefined ? ["governance"] : []), ...(hookRepositories.length > 0 ? [`webhooks on ${hookRepositories.join(", ")}`] : [])].join(" and ");
    // `github:token` is the provider's own key, outside the project's namespace.
    const tokenInFile = secretKeyStateInFile("github", file.config)("token");
    const setToken = `npx pulumi config set --secret github:token <token> --stack ${stack}`;
    if (tokenInFile === "plain") {
        findings.push({ check: "github", ok: false, detail: `github:token is set in plain text in ${file.display}`, fix: setToken });
    } else if (tokenInFile === "secret") {
        findings.push({ check: "github", ok: true, detail: `${needs}: github:token is set as a secret` });
    } else if (env.GITHUB_TOKEN) {
        findings.push({ check: "github", ok: true, detail: `${needs}: GITHUB_TOKEN is set` });
    } else {
        findings.push({ check: "github", ok: false, detail: `${needs} need a GitHub token, and neither GITHUB_TOKEN nor github:token is set`, fix: `export GITHUB_TOKEN=<token>, or ${setToken} (scopes: see docs/guides/github.md#the-token)` });
    }
}

function checkChannels(spec: FleetSpec, findings: DoctorFinding[]): void {
    for (const channel of spec.channels) {
        const heard = spec.agents.filter((a) => a.alertChannels.includes(channel.name)).map((a) => a.name);
        findings.push(heard.length > 0
            ? { check: "channels", ok: true, detail: `${channel.name} (${channel.type}, ${channel.minSeverity} and up) hears ${heard.join(", ")}` }
            : { check: "channels", ok: false, detail: `${channel.name} hears no agent`, fix: `edit ${spec.stackFile}: list it in an agent's alertChannels, or give it tiers or agents` });
    }
}

/** A swarm stack creates services: the engine must be a swarm manager. */
function checkSwarm(host: string, info: { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } }): DoctorFinding {
    const state = info.Swarm?.LocalNodeState ?? "inactive";
    if (state !== "active") {
        return { check: "docker", ok: false, detail: `the stack runs on Swarm (fleet.runtime: swarm), but the engine at ${host} is not in a swarm (${state})`, fix: "docker swarm init --advertise-addr <this host's address>, or point DOCKER_HOST (or docker:host) at a swarm manager" };
    }
    if (!info.Swarm?.ControlAvailable) {
        return { check: "docker", ok: false, detail: `the engine at ${host} is a swarm worker; services are created on a manager`, fix: "point DOCKER_HOST (or docker:host) at a swarm manager" };
    }
    return { check: "docker", ok: true, detail: `the engine at ${host} is a swarm manager` };
}

/** What to do when the stack's engine does not answer, by what named it. */
const ENGINE_FIX: Readonly<Record<StackEngine["from"], (stackFile: string) => string>> = {
    "fleet.hosts": (stackFile) => `start Docker on that host, or correct its docker address under fleet.hosts in ${stackFile}`,
    "docker:host": (stackFile) => `start the engine docker:host names in ${stackFile}, or correct docker:host there`,
    DOCKER_HOST: () => "start the engine DOCKER_HOST names, or unset DOCKER_HOST",
    default: () => "start Docker (or set DOCKER_HOST)",
};

async function checkDocker(view: StackView, env: NodeJS.ProcessEnv, findings: DoctorFinding[], spec: FleetSpec | undefined): Promise<void> {
    // The engines the stack deploys to, as every verb and the providers reach them (config/stack.ts); every host at once.
    const engines = view.engines(env);
    if (spec && spec.environment !== "dev" && engines[0].from === "default" && env.RUNNER_ENVIRONMENT === "github-hosted") {
        // A GitHub-hosted runner's engine is thrown away with the runner: a "successful" deploy there reaches no one.
        findings.push({
            check: "docker", ok: false,
            detail: `stack ${view.stack} (${spec.environment}) names no server, so it would deploy to this GitHub-hosted runner's own Docker engine, which is thrown away with the runner`,
            fix: `name its servers under fleet.hosts (or docker:host) in ${view.file.display}; see docs/guides/servers.md`,
        });
        return;
    }
    if (engines[0].from === "default") {
        // The Docker provider ignores Docker contexts: a non-default context needs DOCKER_HOST.
        const context = await execa("docker", ["context", "inspect", "--format", "{{.Endpoints.docker.Host}}"], { reject: false, env });
        const contextHost = context.exitCode === 0 ? context.stdout.trim() : "";
        if (contextHost && contextHost !== DEFAULT_DOCKER_HOST) {
            findings.push({ check: "docker", ok: false, detail: `the current Docker context points at ${contextHost}, which Pulumi's Docker provider ignores`, fix: `export DOCKER_HOST=${contextHost}` });
            return;
        }
    }
    await Promise.all(engines.map((engine) => checkEngine(engine, view.file, findings, spec)));
}

/**
 * CPU seconds one default healthcheck probe costs the engine (node started in
 * the container, and Docker's exec): measured on Docker 20.10, 5 sample
 * agents, 30 s of whole-machine CPU at a probe every 10 s and every 2 s
 * (0.046 and 0.137 cores: 0.091 cores for 2 more probes a second).
 */
const PROBE_CPU_SECONDS = 0.045;
/** The share of an engine's cores its agents' probes may take before doctor says so. */
const PROBE_LOAD_NOTE_SHARE = 0.1;

/**
 * On an engine without start_interval, agents that set healthcheck.startInterval
 * probe that often for their whole life (components/runtimes/healthcheck.ts):
 * a note when that takes more than a tenth of the engine's cores. 50 agents
 * probing every 2 s on 2 cores failed their health gates (docs/guides/deploy-speed.md).
 */
function probeLoadNote(spec: FleetSpec, engine: StackEngine, named: string, version: string, apiVersion: string, cpus: number): DoctorFinding | undefined {
    const features = healthFeaturesOfApi(apiVersion);
    const here = spec.agents.filter((a) => engine.name === undefined || a.hosts.includes(engine.name));
    const shortened = here.filter((a) => probeIntervalMs(a.healthcheck, features) < a.healthcheck.intervalMs);
    if (shortened.length === 0) return undefined;
    const probesPerSecond = here.reduce((sum, a) => sum + a.replicas / (probeIntervalMs(a.healthcheck, features) / 1000), 0);
    const cores = probesPerSecond * PROBE_CPU_SECONDS;
    if (cores <= PROBE_LOAD_NOTE_SHARE * cpus) return undefined;
    return {
        check: "docker", ok: true, note: true,
        detail: `note: ${named}: engine ${version} has no start_interval, so ${shortened.length} agents probe every ${probeIntervalMs(shortened[0].healthcheck, features) / 1000} s for their whole life, about ${cores.toFixed(2)} of its ${cpus} cores; `
            + `upgrade Docker to 25 or later, or remove healthcheck.startInterval (or set it as long as the interval) to probe every interval there (deploys then wait about one interval for health)`,
    };
}

/** One engine: over ssh, the host itself (reachable, its key the pinned one, socket group, disk); then its Docker engine. */
async function checkEngine(engine: StackEngine, file: StackFile, findings: DoctorFinding[], spec: FleetSpec | undefined): Promise<void> {
    const host = engine.host;
    const named = engine.name === undefined ? host : `host ${engine.name} (${host})`;
    const problem = dockerAddressProblem(host);
    if (problem) {
        findings.push({ check: "docker", ok: false, detail: `${named}: ${problem}`, fix: engine.from === "DOCKER_HOST" ? "set DOCKER_HOST to an ssh:// address, or unset it" : `correct the address in ${file.display}` });
        return;
    }
    if (host.startsWith("ssh://")) {
        // A server: reachable, its key the pinned one, and what a deploy needs there; every problem at once.
        const probe = await probeSshHost(new URL(host));
        if (!probe.ok) {
            findings.push({
                check: "host", ok: false, detail: engine.name === undefined ? probe.problem : `${engine.name}: ${probe.problem}`, fix: probe.fix,
                ...(probe.down && engine.name !== undefined ? { hostDown: engine.name } : {}),
            });
            return;
        }
        const gib = (probe.freeBytes / 2 ** 30).toFixed(1);
        const lowDisk = probe.freeBytes < MIN_FREE_DISK_BYTES;
        findings.push({
            check: "host", ok: !lowDisk,
            detail: `${named}: ssh ok (host key as pinned), Docker socket group ${probe.socketGroup}, ${gib} GiB free under ${probe.dataRoot}`,
            ...(lowDisk ? { fix: `free disk on ${host}: images and containers need at least ${MIN_FREE_DISK_BYTES / 2 ** 30} GiB under ${probe.dataRoot}` } : {}),
        });
    }
    const docker = dockerFor(host);
    try {
        const version = await docker.version();
        const info = await docker.info() as { DriverStatus?: [string, string][]; Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } };
        const containerdStore = JSON.stringify(info.DriverStatus ?? []).includes("io.containerd.snapshotter");
        if (!versionAtLeast(version.Version, MIN_DOCKER_VERSION)) {
            findings.push({ check: "docker", ok: false, detail: `engine ${version.Version} at ${named} is older than ${MIN_DOCKER_VERSION}`, fix: "upgrade Docker" });
        } else if (containerdStore && !versionAtLeast(version.Version, CONTAINERD_STORE_MIN_VERSION)) {
            findings.push({ check: "docker", ok: false, detail: `engine ${version.Version} at ${named} uses the containerd image store, which fails image builds before ${CONTAINERD_STORE_MIN_VERSION}`, fix: "upgrade Docker, or turn the containerd image store off" });
        } else {
            const swarm = info.Swarm?.LocalNodeState === "active" ? (info.Swarm.ControlAvailable ? ", swarm manager" : ", swarm worker") : "";
            findings.push({ check: "docker", ok: true, detail: `engine ${version.Version} (API ${version.ApiVersion}) at ${named}${swarm}` });
        }
        const probeLoad = spec && spec.runtime === "container" ? probeLoadNote(spec, engine, named, version.Version, version.ApiVersion, (info as { NCPU?: number }).NCPU ?? 1) : undefined;
        if (probeLoad) findings.push(probeLoad);
        if (spec?.runtime === "swarm") findings.push(checkSwarm(named, info));
    } catch (error) {
        findings.push({
            check: "docker", ok: false, detail: `no Docker engine answers at ${named} (${error instanceof Error ? error.message : String(error)})`, fix: ENGINE_FIX[engine.from](file.display),
            ...(engine.name !== undefined ? { hostDown: engine.name } : {}),
        });
    }
}

async function checkPulumi(env: NodeJS.ProcessEnv, findings: DoctorFinding[]): Promise<void> {
    // The CLI must be at least as new as the SDK the program uses: older ones lack what the SDK asks for (resource hooks).
    const sdk = (JSON.parse(fs.readFileSync(require.resolve("@pulumi/pulumi/package.json"), "utf8")) as { version: string }).version;
    const run = await execa("pulumi", ["version"], { reject: false, env: { ...env, PULUMI_SKIP_UPDATE_CHECK: "true" } });
    if (run.exitCode !== 0 || run.failed) {
        findings.push({ check: "pulumi", ok: false, detail: "no `pulumi` CLI on PATH", fix: `npm ci (the \`pulumi\` npm package provides it: run fleet through npx, which puts ${path.join("node_modules", ".bin")} on PATH)` });
        return;
    }
    const version = run.stdout.trim();
    findings.push(versionAtLeast(version, sdk)
        ? { check: "pulumi", ok: true, detail: `CLI ${version} (the program's SDK is ${sdk})` }
        : { check: "pulumi", ok: false, detail: `CLI ${version} is older than the program's SDK ${sdk}`, fix: "npm ci (installs the CLI version package.json pins), or upgrade pulumi" });
}

/** Where the stack's state lives, in words, for findings. */
function backendName(projectDir: string, env: NodeJS.ProcessEnv): string {
    const url = backendUrl(projectDir, env);
    return url ? url : "the backend of your `pulumi login`";
}

/**
 * The backend answers and holds the stack; its passphrase is set and opens its
 * secrets; no other operation holds its fleet lock; and nothing an interrupted
 * operation left waits for a person. Needs the Pulumi CLI.
 */
async function checkBackend(
    project: StackProject, file: StackFile, stack: string, engines: readonly StackEngine[], env: NodeJS.ProcessEnv, findings: DoctorFinding[], forUp: DoctorOptions["forUp"],
): Promise<void> {
    const stackEnv = pulumiEnv(project.dir, stack, env);
    const where = backendName(project.dir, stackEnv);
    const hasPassphrase = Boolean(stackEnv.PULUMI_CONFIG_PASSPHRASE || stackEnv.PULUMI_CONFIG_PASSPHRASE_FILE);
    const passphraseStack = file.encryptionSalt !== undefined || JSON.stringify(file.config).includes('"secure"');
    if (passphraseStack && !hasPassphrase) {
        findings.push({ check: "backend", ok: false, detail: `the stack's secrets need a passphrase, and none is set`, fix: `export PULUMI_CONFIG_PASSPHRASE=<the stack's passphrase>, or put it in ${stackEnvFileName(stack)}` });
    }
    const dir = fileBackendDir(project.dir, backendUrl(project.dir, stackEnv));
    if (dir && !fs.existsSync(dir)) {
        findings.push({ check: "backend", ok: false, detail: `the backend ${where} is a folder that does not exist`, fix: `mkdir -p ${dir}, or point PULUMI_BACKEND_URL at your team's backend` });
        return;
    }
    let stackHandle: Awaited<ReturnType<typeof openStack>>;
    try {
        stackHandle = await openStack(project.dir, stack);
    } catch (error) {
        const access = error instanceof StackAccessError ? error : explainPulumiFailure(error, stack, stackEnv as Record<string, string>);
        if (!access) throw error;
        const missing = /does not exist in/.test(access.message);
        const createStack = typeof forUp === "object" && forUp.createStack;
        if (missing && createStack) {
            findings.push({ check: "backend", ok: true, detail: `${where}: stack ${stack} does not exist yet; fleet up creates it` });
        } else {
            findings.push({ check: "backend", ok: false, detail: access.message.replace(/ Fix: .*$/, ""), fix: /Fix: (.*)$/.exec(access.message)?.[1] ?? "see above" });
        }
        return;
    }
    findings.push({ check: "backend", ok: true, detail: `${where} holds stack ${stack}` });
    // A secret in the file must open with the passphrase we have.
    const secretKey = Object.entries(file.config).find(([, v]) => JSON.stringify(v).includes('"secure"'))?.[0];
    if (secretKey && hasPassphrase) {
        try {
            await stackHandle.getConfig(secretKey.slice(secretKey.indexOf(":") + 1));
            findings.push({ check: "backend", ok: true, detail: "the passphrase opens the stack's secrets" });
        } catch (error) {
            const access = explainPulumiFailure(error, stack, stackEnv as Record<string, string>);
            findings.push({ check: "backend", ok: false, detail: access?.message.replace(/ Fix: .*$/, "") ?? `${secretKey} cannot be read`, fix: /Fix: (.*)$/.exec(access?.message ?? "")?.[1] ?? `export the stack's own PULUMI_CONFIG_PASSPHRASE` });
        }
    }
    // The fleet lock: another operation may hold it now, or a killed one may have left it. (fleet up takes
    // it after its preflight: over from a dead holder, never from a live one.)
    if (dir && !forUp) {
        const lockFile = lockFilePath(dir, project.name, stack);
        const holder = readLockFile(lockFile);
        if (holder && holderAlive(holder)) {
            findings.push({ check: "lock", ok: false, detail: `${describeHolder(holder)} holds the fleet lock`, fix: `wait for it to finish; if that process is gone, rm ${lockFile}` });
        } else if (holder) {
            findings.push({ check: "lock", ok: false, detail: `${describeHolder(holder)} did not finish (its process is gone)`, fix: `npx fleet up --stack ${stack} takes the lock over and finishes the job` });
        } else {
            findings.push({ check: "lock", ok: true, detail: "no fleet operation holds the stack" });
        }
    }
    // fleet up recovers leftovers itself once it holds the lock (./operation), and reports what it put right:
    // reading the stack and every engine for them here too would only repeat that.
    if (forUp) return;
    try {
        // Engines that do not answer are the docker check's findings; the others are looked at.
        const clients = engines.map((engine) => ({ docker: dockerFor(engine.host), label: engine.name ?? engine.host }));
        const leftovers = await findLeftovers(project.dir, project.name, stackHandle, clients, stackEnv);
        for (const stranger of leftovers.strangers) {
            findings.push({
                check: "lock", ok: true,
                detail: `note: ${stranger.kind} ${stranger.name} is labelled with stack ${stack} but this stack's state does not hold it (another checkout or backend on this engine, or made by hand); it is left alone`,
            });
        }
        const lines = describeLeftovers(leftovers);
        if (lines.length === 0) return;
        for (const line of lines) {
            findings.push({ check: "lock", ok: false, detail: line, fix: leftovers.liveLocks.length > 0 ? "wait for that Pulumi operation to finish" : `npx fleet up --stack ${stack} clears it (or, by hand: npx pulumi refresh --stack ${stack}, then remove the named containers)` });
        }
    } catch (error) {
        if (!(error instanceof Error)) throw error;
        // An unreachable engine is the docker check's finding.
    }
}

export async function doctor(options: DoctorOptions): Promise<DoctorFinding[]> {
    const cwd = options.cwd ?? process.cwd();
    const env = options.env ?? process.env;
    const findings: DoctorFinding[] = [];
    const view = openStackView(cwd, options.stack);
    const { project, file } = view;
    const spec = checkConfig(view, findings);
    if (spec) checkChannels(spec, findings);
    checkGithub(project, file, options.stack, spec, env, findings);
    await Promise.all([checkDocker(view, env, findings, spec), checkPulumi(env, findings)]);
    // The backend is asked through the Pulumi CLI: only when there is one.
    if (!findings.some((f) => f.check === "pulumi" && !f.ok)) await checkBackend(project, file, options.stack, view.engines(env), env, findings, options.forUp);
    const order = ["config", "secrets", "channels", "github", "host", "docker", "pulumi", "backend", "lock"];
    return findings.sort((a, b) => order.indexOf(a.check) - order.indexOf(b.check));
}

export function runDoctor(options: DoctorOptions, output: Output): Promise<number> {
    return asCommand(output, async () => {
        const findings = await doctor(options);
        const failed = findings.filter((f) => !f.ok);
        if (options.json) {
            output.out(JSON.stringify({ stack: options.stack, ok: failed.length === 0, findings }, null, 2));
        } else {
            output.out(formatTable(["check", "status", "detail"], findings.map((f) => [f.check, f.ok ? "ok" : "FAIL", f.detail])));
            if (failed.length > 0) {
                output.out(`\n${failed.length} problem${failed.length === 1 ? "" : "s"}; to fix:`);
                for (const f of failed) output.out(`  ${f.fix ?? "see above"}`);
            }
        }
        return failed.length === 0 ? EXIT.ok : EXIT.failed;
    });
}
