/**
 * A throwaway copy of the project for real-engine tests: the real program, the
 * real stack files and the real scripts, with a file backend in a temp dir.
 * Tests edit the copy's stack files freely and read its git status; the
 * checkout itself is never touched.
 *
 * It runs whichever `pulumi` is on PATH: the CLI built by scripts/build-engine.sh
 * in CI, or the official CLI on a laptop.
 */
import { spawnSync } from "node:child_process";
import { promises as fs, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { execa, Result } from "execa";
import { Document, parseDocument } from "yaml";
import { AgentSpec, catalogSource, loadFleetConfig } from "../../config";
import { LABELS, stackFileName } from "../../contract";
import { SAMPLE_AGENT, SENTINEL, bundle } from "../../scripts/build-agents";
import { NODE_BASE_IMAGE, REPO_ROOT, dockerClient, ensureLocalNodeBaseImage } from "../support/docker";

export const STACK = "dev";
export const PASSPHRASE = "dev";
/** The base image the sample agent's Dockerfile names by default. */
const DEFAULT_NODE_IMAGE = "node:20-alpine";

/** The version of the Pulumi CLI on PATH, or undefined when there is none. Synchronous, for `describe.skipIf`. */
export function pulumiOnPath(): string | undefined {
    const result = spawnSync("pulumi", ["version"], { encoding: "utf8", env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" } });
    return result.status === 0 ? result.stdout.trim() : undefined;
}

/** The plugin version a Pulumi package asks the engine for: its npm package's own. */
function pluginVersionOf(pkg: "docker" | "github"): string {
    return (JSON.parse(readFileSync(path.join(REPO_ROOT, "node_modules", "@pulumi", pkg, "package.json"), "utf8")) as { version: string }).version;
}

export const DOCKER_PLUGIN_VERSION: string = pluginVersionOf("docker");
export const GITHUB_PLUGIN_VERSION: string = pluginVersionOf("github");

/**
 * What a deployment needs besides the CLI: the Node.js language host (on PATH,
 * where the CLI finds it) and the resource plugins at the program's versions
 * (default the Docker plugin). Returns what is missing.
 */
export function missingForDeployments(plugins: readonly { readonly name: string; readonly version: string }[] = [{ name: "docker", version: DOCKER_PLUGIN_VERSION }]): string[] {
    const missing: string[] = [];
    if (spawnSync("pulumi-language-nodejs", ["-version"], { encoding: "utf8" }).status !== 0) missing.push("pulumi-language-nodejs on PATH");
    const listed = spawnSync("pulumi", ["plugin", "ls", "--json"], { encoding: "utf8", env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" } });
    const installed = listed.status === 0 ? (JSON.parse(listed.stdout || "[]") as { name: string; kind: string; version: string }[]) : [];
    for (const plugin of plugins) {
        if (!installed.some((p) => p.name === plugin.name && p.kind === "resource" && p.version === plugin.version)) {
            missing.push(`the ${plugin.name} resource plugin ${plugin.version}`);
        }
    }
    return missing;
}

/**
 * The user-facing Dockerfile builds FROM node:20-alpine. No registry is
 * reachable in CI, so when that image is absent locally, the offline node
 * image (the host's node in a scratch image) is tagged under its name.
 */
export async function provideDefaultNodeImage(): Promise<void> {
    const docker = dockerClient();
    try {
        await docker.getImage(DEFAULT_NODE_IMAGE).inspect();
        return;
    } catch (error) {
        if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    }
    await ensureLocalNodeBaseImage(NODE_BASE_IMAGE);
    const [repo, tag] = DEFAULT_NODE_IMAGE.split(":");
    await docker.getImage(NODE_BASE_IMAGE).tag({ repo, tag });
}

export interface CommandResult {
    readonly exitCode: number;
    readonly stdout: string;
    readonly stderr: string;
    readonly ms: number;
}

/** Fails with the command's output tails when it did not exit 0. */
export function expectOk(result: CommandResult, what: string): void {
    if (result.exitCode !== 0) {
        throw new Error(`${what} exited ${result.exitCode}\n--- stdout\n${result.stdout.slice(-4000)}\n--- stderr\n${result.stderr.slice(-4000)}`);
    }
}

export class Workspace {
    private constructor(
        /** The project copy. */
        readonly dir: string,
        /** File backend directory. */
        readonly stateDir: string,
        /** Everything the CLI printed, for secret scans. */
        readonly transcript: string[] = [],
    ) {}

    /** Copies the tracked and untracked (not ignored) files of a checkout (default: this one); links node_modules. */
    static async create(source: string = REPO_ROOT): Promise<Workspace> {
        const root = await fs.mkdtemp(path.join(os.tmpdir(), "agent-fleet-e2e-"));
        const dir = path.join(root, "project");
        const stateDir = path.join(root, "state");
        await fs.mkdir(stateDir);
        const listed = await execa("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: source });
        for (const file of listed.stdout.split("\0").filter(Boolean)) {
            const from = path.join(source, file);
            const stat = await fs.lstat(from).catch(() => undefined);
            if (!stat?.isFile()) continue;
            await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
            await fs.copyFile(from, path.join(dir, file));
        }
        // What `npm install` builds (the bundles the images copy), from the current source.
        for (const target of [SAMPLE_AGENT, SENTINEL]) {
            const file = path.join(dir, path.relative(REPO_ROOT, await bundle(target)));
            await fs.mkdir(path.dirname(file), { recursive: true });
            await fs.copyFile(target.outfile, file);
        }
        await fs.symlink(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"));
        await fs.symlink(path.join(REPO_ROOT, "policies", "node_modules"), path.join(dir, "policies", "node_modules"));
        // A repository of its own, so a test can ask git whether a deploy wrote into tracked files.
        const git = (...args: string[]) => execa("git", args, { cwd: dir, env: { GIT_AUTHOR_NAME: "e2e", GIT_AUTHOR_EMAIL: "e2e@localhost", GIT_COMMITTER_NAME: "e2e", GIT_COMMITTER_EMAIL: "e2e@localhost" } });
        await git("init", "-q");
        await git("add", "-A");
        await git("commit", "-q", "-m", "snapshot");
        return new Workspace(dir, stateDir);
    }

    get env(): Record<string, string> {
        return {
            PULUMI_BACKEND_URL: `file://${this.stateDir}`,
            PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_SKIP_CONFIRMATIONS: "true",
            // Unhides `--event-log`, which the PR-comment fixtures are captured with.
            PULUMI_DEBUG_COMMANDS: "true",
            // Plain output: no colour codes in what the tests read.
            NO_COLOR: "1",
            FORCE_COLOR: "0",
        };
    }

    private async run(file: string, args: string[], env: Record<string, string> = {}): Promise<CommandResult> {
        const started = performance.now();
        const result: Result = await execa(file, args, { cwd: this.dir, env: { ...this.env, ...env }, reject: false, all: false });
        const out = { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr), ms: performance.now() - started };
        this.transcript.push(out.stdout, out.stderr);
        return out;
    }

    /** Runs the Pulumi CLI on the dev stack. */
    pulumi(...args: string[]): Promise<CommandResult> {
        return this.pulumiOn(STACK, ...args);
    }

    /** Runs the Pulumi CLI on another stack of the copy. */
    pulumiOn(stack: string, ...args: string[]): Promise<CommandResult> {
        return this.pulumiOnWith(stack, {}, ...args);
    }

    /** Runs the Pulumi CLI on the dev stack with extra environment variables. */
    pulumiWith(env: Record<string, string>, ...args: string[]): Promise<CommandResult> {
        return this.pulumiOnWith(STACK, env, ...args);
    }

    /** Runs the Pulumi CLI on a stack of the copy with extra environment variables. */
    pulumiOnWith(stack: string, env: Record<string, string>, ...args: string[]): Promise<CommandResult> {
        return this.run("pulumi", [...args, "--stack", stack, "--non-interactive", "--color", "never"], env);
    }

    /** Runs the copy's `fleet` command, as `npx fleet` does. */
    fleet(...args: string[]): Promise<CommandResult> {
        return this.fleetWith({}, ...args);
    }

    /** Runs the copy's `fleet` command with extra environment variables (a provider's token, say). */
    fleetWith(env: Record<string, string>, ...args: string[]): Promise<CommandResult> {
        return this.run(process.execPath, [path.join(this.dir, "cli", "fleet.js"), ...args], env);
    }

    /** Runs one of the project's npm scripts, exactly as the README tells users to. */
    npm(script: string, ...args: string[]): Promise<CommandResult> {
        return this.run("npm", ["run", "--silent", script, ...(args.length > 0 ? ["--", ...args] : [])]);
    }

    async git(...args: string[]): Promise<string> {
        return (await execa("git", args, { cwd: this.dir })).stdout;
    }

    stackFile(): string {
        return path.join(this.dir, "stacks", `Pulumi.${STACK}.yaml`);
    }

    /** Edits the copy's dev stack file through yaml's Document API, keeping its comments. */
    async editFleet(edit: (fleet: Document) => void): Promise<void> {
        await this.editStack(STACK, edit);
    }

    /** Edits one of the copy's stack files through yaml's Document API, keeping its comments and secrets. */
    async editStack(stack: string, edit: (file: Document) => void): Promise<void> {
        const file = path.join(this.dir, stackFileName(stack));
        const doc = parseDocument(await fs.readFile(file, "utf8"));
        edit(doc);
        await fs.writeFile(file, doc.toString());
    }

    /** Sets (or with undefined, removes) one field of one agent in the dev stack file. */
    async setAgentField(agent: string, field: string[], value: unknown): Promise<void> {
        await this.editFleet((doc) => {
            const at = ["config", "agent-fleet:fleet", "agents", agent, ...field];
            if (value === undefined) doc.deleteIn(at);
            else doc.setIn(at, doc.createNode(value));
        });
    }

    /** One agent as the loader resolves it from the copy's dev stack file and catalog now (secrets not needed). */
    agentSpec(agent: string): Promise<AgentSpec> {
        return this.agentSpecOf(STACK, agent);
    }

    /** One agent as the loader resolves it from one of the copy's stack files and the catalog now. */
    async agentSpecOf(stack: string, agent: string): Promise<AgentSpec> {
        const file = parseDocument(await fs.readFile(path.join(this.dir, stackFileName(stack)), "utf8")).toJS() as { config: Record<string, unknown> };
        const spec = loadFleetConfig({
            stack,
            stackFile: stackFileName(stack),
            fleet: file.config["agent-fleet:fleet"],
            catalog: catalogSource(this.dir),
            secretKeyState: () => "secret",
        });
        const found = spec.agents.find((a) => a.name === agent);
        if (!found) throw new Error(`no agent ${agent} in the ${stack} stack`);
        return found;
    }

    /** The secret config keys a stack file of the copy names, as the loader asks for them. */
    async secretKeys(stack: string): Promise<string[]> {
        const file = parseDocument(await fs.readFile(path.join(this.dir, stackFileName(stack)), "utf8")).toJS() as { config: Record<string, unknown> };
        const keys = new Set<string>();
        loadFleetConfig({
            stack,
            stackFile: stackFileName(stack),
            fleet: file.config["agent-fleet:fleet"],
            catalog: catalogSource(this.dir),
            secretKeyState: (key) => (keys.add(key), "secret"),
        });
        return [...keys];
    }

    /**
     * Two pulled releases of `agent`'s current image, tagged locally as a
     * registry would serve them: a good one, and a broken one that starts but
     * never turns healthy. `fleet release` of either makes the agent pull it
     * (in dev it writes `build: false`), while the others keep building.
     */
    async usePulledReleases(agent: string): Promise<{ good: string; broken: string }> {
        const current = (await this.agentSpec(agent)).image;
        const [repo] = current.split(":");
        const good = `${repo}:release-1.1.0`;
        const broken = `${repo}:release-1.2.0`;
        await dockerClient().getImage(current).tag({ repo, tag: "release-1.1.0" });
        const build = await execa("docker", ["build", "-q", "-t", broken, "-"], { input: `FROM ${good}\nENV FAIL_HEALTH=1\n`, reject: false });
        if (build.exitCode !== 0) throw new Error(`docker build of ${broken} failed: ${build.stderr}`);
        return { good, broken };
    }

    async restoreStackFile(): Promise<void> {
        await this.git("checkout", "--", path.relative(this.dir, this.stackFile()));
    }

    /** The stack's `agents` output, secrets shown. */
    async agentsOutput(): Promise<Record<string, { instances: string[]; healthUrls: string[]; version: string; imageRef: string }>> {
        const result = await this.pulumi("stack", "output", "agents", "--json", "--show-secrets");
        if (result.exitCode !== 0) throw new Error(`pulumi stack output failed: ${result.stderr}`);
        return JSON.parse(result.stdout);
    }

    /** Every file of the backend state, concatenated, for secret scans. */
    async stateText(): Promise<string> {
        const parts: string[] = [];
        const walk = async (dir: string) => {
            for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
                const full = path.join(dir, entry.name);
                if (entry.isDirectory()) await walk(full);
                else parts.push(await fs.readFile(full, "utf8").catch(() => ""));
            }
        };
        await walk(this.stateDir);
        return parts.join("\n");
    }

    async remove(): Promise<void> {
        await fs.rm(path.dirname(this.dir), { recursive: true, force: true });
    }
}

export interface FleetContainer {
    readonly id: string;
    readonly name: string;
    readonly agent: string;
    readonly health?: string;
    readonly running: boolean;
}

/** The dev fleet's containers on the engine, by agent. */
export async function fleetContainers(docker: Docker = dockerClient()): Promise<FleetContainer[]> {
    const list = await docker.listContainers({ all: true, filters: { label: [`${LABELS.stack}=${STACK}`, LABELS.agent] } });
    return list.map((c) => ({
        id: c.Id,
        name: c.Names[0]?.replace(/^\//, "") ?? c.Id,
        agent: c.Labels[LABELS.agent],
        health: /\((healthy|unhealthy|health: starting)\)/.exec(c.Status)?.[1],
        running: c.State === "running",
    }));
}

/** Container id per agent; throws when an agent has more or less than one. */
export async function containerIdByAgent(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const c of await fleetContainers()) {
        if (out[c.agent]) throw new Error(`agent ${c.agent} has more than one container`);
        out[c.agent] = c.id;
    }
    return out;
}

/** GETs a URL and returns status and parsed JSON body, or the error. */
export async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> } | { error: string }> {
    try {
        const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
        return { status: response.status, body: await response.json() as Record<string, unknown> };
    } catch (error) {
        return { error: (error as Error).message };
    }
}
