/**
 * Temporary agent-fleet projects for `fleet check` tests, and a runner for
 * the real `fleet` bin as a subprocess.
 *
 * A project gets the repo's Pulumi.yaml and index.ts as symlinks (Node runs
 * the real files, with the repo's modules), a copy of stacks/catalog.yaml
 * (or a replacement), and the stack and policy config files a test writes.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseEnv } from "util";
import { execa } from "execa";
import { stringify } from "yaml";
import type { CheckJson } from "../../cli/services/check-report";

export const REPO = path.resolve(__dirname, "../..");
const BIN = path.join(REPO, "cli", "fleet.js");
export const PROJECT = "agent-fleet";

export interface ProjectFiles {
    /** Stack name → the stack file's `config` map (keys with their namespace, e.g. "agent-fleet:fleet"). */
    readonly stacks: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
    /** Replaces stacks/catalog.yaml (default: a copy of the repo's). */
    readonly catalog?: unknown;
    /** Stack name → stacks/policy.<stack>.json content. */
    readonly policyConfig?: Readonly<Record<string, unknown>>;
    /** Replaces the symlinked index.ts with a program of the test's own. */
    readonly program?: string;
}

const created: string[] = [];

/** Writes a project into a fresh temp directory and returns its path. */
export function writeProject(files: ProjectFiles): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-check-"));
    created.push(dir);
    fs.mkdirSync(path.join(dir, "stacks"));
    fs.symlinkSync(path.join(REPO, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    if (files.program === undefined) {
        fs.symlinkSync(path.join(REPO, "index.ts"), path.join(dir, "index.ts"));
    } else {
        fs.writeFileSync(path.join(dir, "index.ts"), files.program);
        // The program's own imports (@pulumi/pulumi) must resolve to the modules the CLI runs with.
        fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"), "dir");
    }
    const catalog = files.catalog === undefined
        ? fs.readFileSync(path.join(REPO, "stacks", "catalog.yaml"), "utf8")
        : stringify(files.catalog);
    fs.writeFileSync(path.join(dir, "stacks", "catalog.yaml"), catalog);
    for (const [stack, config] of Object.entries(files.stacks)) {
        fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), stringify({ config }));
    }
    for (const [stack, config] of Object.entries(files.policyConfig ?? {})) {
        fs.writeFileSync(path.join(dir, "stacks", `policy.${stack}.json`), JSON.stringify(config, null, 2));
    }
    return dir;
}

/** A project with the repo's own stack files copied byte for byte (comments and all), for commands that edit them. */
export function copyProject(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-edit-"));
    created.push(dir);
    fs.symlinkSync(path.join(REPO, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.symlinkSync(path.join(REPO, "index.ts"), path.join(dir, "index.ts"));
    fs.cpSync(path.join(REPO, "stacks"), path.join(dir, "stacks"), { recursive: true });
    // As in a clone: the dev stacks' file backend (Pulumi.yaml's backend.url) is a tracked, empty folder.
    fs.mkdirSync(path.join(dir, ".pulumi-state"));
    return dir;
}

/**
 * Creates a stack of a copied project in a file backend of its own, with a
 * passphrase, and returns the environment for the commands that use it.
 */
export async function initStack(dir: string, stack: string): Promise<Record<string, string>> {
    // The stack's own passphrase where its file has a salt for one (dev's is in stacks/dev.env).
    const envFile = path.join(dir, "stacks", `${stack}.env`);
    const passphrase = fs.existsSync(envFile) ? parseEnv(fs.readFileSync(envFile, "utf8")).PULUMI_CONFIG_PASSPHRASE ?? "test" : "test";
    const env = { PULUMI_BACKEND_URL: `file://${path.join(dir, ".pulumi-state")}`, PULUMI_CONFIG_PASSPHRASE: passphrase, PULUMI_SKIP_UPDATE_CHECK: "true" };
    const init = await execa("pulumi", ["stack", "init", stack, "--non-interactive"], { cwd: dir, env, reject: false });
    if (init.exitCode !== 0) throw new Error(`pulumi stack init ${stack} failed: ${init.stderr}`);
    return env;
}

/** Removes every project writeProject or copyProject made (call from afterAll). */
export function removeProjects(): void {
    for (const dir of created.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

export interface FleetRun {
    readonly exitCode: number;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs the `fleet` bin with node, exactly as npx does after `npm ci`. */
export async function fleet(args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<FleetRun> {
    const result = await execa(process.execPath, [BIN, ...args], {
        cwd: options.cwd ?? REPO,
        reject: false,
        env: { FORCE_COLOR: "0", FLEET_DEBUG: "", ...options.env },
        timeout: 60_000,
    });
    return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}

export interface JsonRun extends FleetRun {
    /** The parsed --json document, when the command printed one. */
    readonly json?: CheckJson;
}

/** `fleet check --stack <stack> --json --cwd <dir>`. */
export async function checkJson(dir: string, stack: string): Promise<JsonRun> {
    const run = await fleet(["check", "--stack", stack, "--json", "--cwd", dir]);
    return { ...run, json: run.stdout.trim() ? (JSON.parse(run.stdout) as CheckJson) : undefined };
}

/** The fleet config value of a stack file. */
export function fleetConfig(fleetValue: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { [`${PROJECT}:fleet`]: fleetValue, ...extra };
}
