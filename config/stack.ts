/**
 * A stack, in one place. Every verb, the benchmarks and the program read a
 * stack through this module:
 * - where its files are: `stacks/Pulumi.<stack>.yaml`, the shared catalog,
 *   the policy config `stacks/policy.<stack>.json`, the env file `stacks/<stack>.env`;
 * - how they are read: each file once, YAML through one parser, every
 *   problem a UserError naming the file (and field);
 * - what the fleet config in them resolves to, and which secret keys they set;
 * - which Docker engine the stack deploys to.
 *
 * A `StackView` is read-only. Editing a stack file is a separate, explicit
 * step (cli/services/stack-edit.ts), which starts from a view.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { STACKS_DIR, isPlainObject, stackFileName } from "../contract";
import { FleetConfigError, UserError } from "./errors";
import { FleetConfigSource, ResolvedFleet, SecretKeyState, loadFleetConfig, resolveFleet } from "./load";
import type { FleetSpec } from "./spec";

export { stackFileName };
export const CATALOG_FILE = `${STACKS_DIR}/catalog.yaml`;

/** The policy pack's config for a stack, relative to the project: what `--policy-pack-config` takes. */
export function policyConfigFileName(stack: string): string {
    return `${STACKS_DIR}/policy.${stack}.json`;
}

/** The env file of a stack, relative to the project: `stacks/dev.env`. */
export function stackEnvFileName(stack: string): string {
    return `${STACKS_DIR}/${stack}.env`;
}

const STACK_FILE_RE = /^Pulumi\.([A-Za-z0-9_.-]+)\.yaml$/;
// Pulumi's own rule for stack names; it also keeps --stack from naming a path.
const STACK_NAME_RE = /^[A-Za-z0-9_.-]+$/;

/** The stacks that have a file under stacks/ ("dev" for stacks/Pulumi.dev.yaml), sorted. */
export function listStacks(projectRoot: string): string[] {
    const dir = path.join(projectRoot, STACKS_DIR);
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir).map((f) => STACK_FILE_RE.exec(f)?.[1]).filter((s): s is string => s !== undefined).sort();
}

/** Parses YAML text: the one parser of the project's files; a parse error is a UserError naming the file, with the parser's first line. */
function parseYaml(text: string, display: string): unknown {
    try {
        return parse(text);
    } catch (error) {
        // The parser's first line says what and where; the rest is a source excerpt.
        const reason = (error instanceof Error ? error.message.split("\n")[0] : String(error)).replace(/:\s*$/, "");
        throw new UserError(`${display}: expected valid YAML, got a parse error: ${reason}`);
    }
}

function readYaml(file: string, display: string): unknown {
    return parseYaml(fs.readFileSync(file, "utf8"), display);
}

export interface ProjectInfo {
    /** Absolute project directory, where Pulumi.yaml lives. */
    readonly dir: string;
    /** `name` in Pulumi.yaml: the namespace of the project's config keys. */
    readonly name: string;
    /** Absolute path of the program (`main` in Pulumi.yaml, else index.ts). */
    readonly program: string;
}

/** Reads Pulumi.yaml, as `pulumi preview` does before anything else. */
export function readProject(projectDir: string): ProjectInfo {
    const dir = path.resolve(projectDir);
    const file = path.join(dir, "Pulumi.yaml");
    if (!fs.existsSync(file)) throw new UserError(`no Pulumi project in ${dir}: ${file} does not exist (pass --cwd <projectDir>)`);
    const project = readYaml(file, file);
    const name = isPlainObject(project) ? project.name : undefined;
    if (typeof name !== "string" || name === "") throw new UserError(`${file}: name: expected a project name, got nothing`);
    const main = isPlainObject(project) && typeof project.main === "string" ? project.main : "index.ts";
    const program = path.resolve(dir, main);
    const candidates = [program, path.join(program, "index.ts"), `${program}.ts`];
    const found = candidates.find((candidate) => fs.existsSync(candidate) && fs.statSync(candidate).isFile());
    if (!found) throw new UserError(`${file}: main: expected the program at ${program}, found no such file`);
    return { dir, name, program: found };
}

export interface StackFile {
    /** Display path, relative to the project: "stacks/Pulumi.production.yaml". */
    readonly display: string;
    readonly path: string;
    /** The file as read, for an editor to start from without reading it again. */
    readonly text: string;
    /** The file's `config` map, as written. */
    readonly config: Readonly<Record<string, unknown>>;
    /** The salt of the stack's passphrase, when the file carries one: its secrets need the passphrase. */
    readonly encryptionSalt?: string;
}

/** `<namespace>:<name>`, or the legacy `<namespace>:config:<name>`, as Pulumi's config.ParseKey accepts. */
function isConfigKey(key: string): boolean {
    const parts = key.split(":");
    if (parts.some((part) => part === "")) return false;
    return parts.length === 2 || (parts.length === 3 && parts[1] === "config");
}

/** Reads `stacks/Pulumi.<stack>.yaml`; an unknown stack is a one-line UserError naming the file and the stacks there are. */
export function readStackFile(project: Pick<ProjectInfo, "dir" | "name">, stack: string): StackFile {
    if (!STACK_NAME_RE.test(stack)) {
        throw new UserError(`invalid stack name ${JSON.stringify(stack)}: expected letters, digits, "-", "_" or "."`);
    }
    const display = stackFileName(stack);
    const file = path.join(project.dir, display);
    if (!fs.existsSync(file)) {
        const known = listStacks(project.dir);
        const hint = known.length > 0 ? ` (stacks here: ${known.join(", ")})` : "";
        throw new UserError(`unknown stack "${stack}": ${display} does not exist in ${project.dir}${hint}`);
    }
    return parseStackFile(project, stack, fs.readFileSync(file, "utf8"), file);
}

/** A stack file's text as readStackFile reads it (from disk, or from a commit): every problem a UserError naming the file. */
export function parseStackFile(project: Pick<ProjectInfo, "name">, stack: string, text: string, file = stackFileName(stack)): StackFile {
    const display = stackFileName(stack);
    const content = parseYaml(text, display) ?? {};
    if (!isPlainObject(content)) throw new UserError(`${display}: expected a stack file with a config map, got ${Array.isArray(content) ? "a list" : typeof content}`);
    const config = content.config ?? {};
    if (!isPlainObject(config)) throw new UserError(`${display}: config: expected a map of config keys, got ${Array.isArray(config) ? "a list" : typeof config}`);
    for (const key of Object.keys(config)) {
        // The Pulumi CLI refuses the same keys: every key lives in a namespace.
        if (!isConfigKey(key)) {
            const example = key.includes(":") ? "" : ` like "${project.name}:${key}"`;
            throw new UserError(`${display}: config.${key}: expected a configuration key of the form <namespace>:<name>${example}`);
        }
    }
    return { display, path: file, text, config, ...(typeof content.encryptionsalt === "string" ? { encryptionSalt: content.encryptionsalt } : {}) };
}

/** The shared agent catalog as the loader takes it, when the project has one. */
export function catalogSource(projectRoot: string): FleetConfigSource["catalog"] {
    const catalogPath = path.join(projectRoot, CATALOG_FILE);
    return fs.existsSync(catalogPath) ? { file: CATALOG_FILE, value: readYaml(catalogPath, CATALOG_FILE) } : undefined;
}

/** The catalog from its text (a commit's, say); a parse error is a UserError naming the file. */
export function parseCatalog(text: string): NonNullable<FleetConfigSource["catalog"]> {
    return { file: CATALOG_FILE, value: parseYaml(text, CATALOG_FILE) };
}

/**
 * Whether a key is set, and set as a secret. The stack file tells plain text
 * (a bare string) from ciphertext (`secure:`); a key set elsewhere (an ESC
 * environment, say) arrives without the file's say and counts as secret, as
 * Pulumi hands it to the program as one.
 */
export function secretKeyStateFrom(
    project: string,
    allConfig: Readonly<Record<string, string>>,
    stackFile: unknown,
): (key: string) => SecretKeyState {
    const fileConfig = (stackFile as { config?: Record<string, unknown> } | undefined)?.config ?? {};
    return (key) => {
        const fullKey = `${project}:${key}`;
        if (!(fullKey in allConfig)) return "missing";
        if (!(fullKey in fileConfig)) return "secret";
        const value = fileConfig[fullKey];
        // Only `{ secure: … }` is ciphertext; a string, number or boolean in the file is plain text.
        const isCiphertext = typeof value === "object" && value !== null && "secure" in value;
        return isCiphertext ? "secret" : "plain";
    };
}

/** The same, from a stack file alone (the CLI, which runs outside Pulumi): a key the file does not set is missing. */
export function secretKeyStateInFile(project: string, fileConfig: Readonly<Record<string, unknown>>): (key: string) => SecretKeyState {
    return secretKeyStateFrom(project, fileConfig as Readonly<Record<string, string>>, { config: fileConfig });
}

/** Where Docker listens when neither the stack nor DOCKER_HOST says otherwise. */
export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

/** A Docker engine a stack deploys to, and what said so. */
export interface StackEngine {
    /** The host's name under `fleet.hosts`; undefined for a stack without hosts (its one engine). */
    readonly name?: string;
    /** A DOCKER_HOST-style address: `unix://…`, `tcp://…` or `ssh://…`. */
    readonly host: string;
    /** `fleet.hosts`, the stack's `docker:host` config, the DOCKER_HOST variable, or none of them (the local socket). */
    readonly from: "fleet.hosts" | "docker:host" | "DOCKER_HOST" | "default";
}

/**
 * The one answer to "which Docker engine" for a stack without hosts: the one
 * the program's default Docker provider reaches, which reads its
 * `docker:host` config, else DOCKER_HOST, else the local socket.
 */
function stackEngine(stackConfig: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv = process.env): StackEngine {
    const configured = stackConfig["docker:host"];
    if (typeof configured === "string" && configured !== "") return { host: configured, from: "docker:host" };
    if (env.DOCKER_HOST) return { host: env.DOCKER_HOST, from: "DOCKER_HOST" };
    return { host: DEFAULT_DOCKER_HOST, from: "default" };
}

/**
 * Every engine a stack deploys to, in name order: each host of `fleet.hosts`
 * (each through its own provider), else its one engine (stackEngine). Read
 * from the file as written, so that a verb reaches the hosts even when
 * another part of the config is invalid; the loader judges the addresses.
 */
function stackEngines(stackConfig: Readonly<Record<string, unknown>>, fleet: unknown, env: NodeJS.ProcessEnv = process.env): StackEngine[] {
    const hosts = isPlainObject(fleet) && isPlainObject(fleet.hosts) ? fleet.hosts : {};
    const named = Object.keys(hosts).sort().flatMap((name) => {
        const host = hosts[name];
        return isPlainObject(host) && typeof host.docker === "string" ? [{ name, host: host.docker, from: "fleet.hosts" as const }] : [];
    });
    return named.length > 0 ? named : [stackEngine(stackConfig, env)];
}

/** What a view needs of its project: where its files are, and the namespace of its config keys. */
export type StackProject = Pick<ProjectInfo, "dir" | "name">;

/** Which secret keys a view counts as set: "file" asks the file alone; "assume-set" counts a key the file lacks as a secret set elsewhere (an ESC environment). */
export type SecretKeysFrom = "file" | "assume-set";

/** One stack of a project, read once, as every verb sees it (a commit's view needs only the project's dir and name). */
export class StackView<P extends StackProject = ProjectInfo> {
    private resolvedFleet?: ResolvedFleet;
    private readonly catalog: FleetConfigSource["catalog"];

    /** `catalog`: the catalog to resolve against; default the project's own, read once (a commit's view passes that commit's). */
    constructor(
        readonly project: P,
        readonly stack: string,
        readonly file: StackFile,
        catalog: FleetConfigSource["catalog"] | null = catalogSource(project.dir),
    ) {
        this.catalog = catalog ?? undefined;
    }

    /** The fleet config as the file writes it (`<project>:fleet`). */
    get fleetValue(): unknown {
        return this.file.config[`${this.project.name}:fleet`];
    }

    /** Absolute path of the stack's policy config file (which may not exist). */
    get policyConfigPath(): string {
        return path.join(this.project.dir, policyConfigFileName(this.stack));
    }

    /** Each secret key's state, from this file (see SecretKeysFrom). */
    secretKeyState(keys: SecretKeysFrom = "assume-set"): (key: string) => SecretKeyState {
        const inFile = secretKeyStateInFile(this.project.name, this.file.config);
        return keys === "file" ? inFile : (key) => (inFile(key) === "missing" ? "secret" : inFile(key));
    }

    /** The loader's input for a fleet value of this stack (default: the file's own). */
    source(fleet: unknown = this.fleetValue, secretKeyState = this.secretKeyState()): FleetConfigSource {
        return { stack: this.stack, stackFile: this.file.display, fleet, catalog: this.catalog, secretKeyState, dockerHost: this.file.config["docker:host"] };
    }

    /** A fleet value of this stack (an editor's, as edited so far) resolved as the file's own would be. */
    resolvedWith(fleet: unknown): ResolvedFleet {
        return resolveFleet(this.source(fleet));
    }

    /** The fleet with each agent's merged config; FleetConfigError when the file is invalid. Resolved once. */
    resolved(): ResolvedFleet {
        this.resolvedFleet ??= resolveFleet(this.source());
        return this.resolvedFleet;
    }

    /** The fleet the file declares; FleetConfigError when it is invalid. */
    spec(): FleetSpec {
        return this.resolved().spec;
    }

    /**
     * Every secret config key the fleet config names, with its state in this
     * file. The loader itself is asked, so no list of keys is kept twice; it
     * asks for every key it reads, even of a config it then rejects.
     */
    secretKeysNamed(): ReadonlyMap<string, SecretKeyState> {
        const inFile = this.secretKeyState("file");
        const keys = new Map<string, SecretKeyState>();
        try {
            loadFleetConfig(this.source(this.fleetValue, (key) => (keys.set(key, inFile(key)), "secret")));
        } catch (error) {
            if (!(error instanceof FleetConfigError)) throw error;
        }
        return keys;
    }

    /** The fleet, its secret keys taken as set: for a verb that judges them itself (see secretKeysNamed). */
    specWithoutSecretKeys(): FleetSpec {
        return loadFleetConfig(this.source(this.fleetValue, () => "secret"));
    }

    /** Every Docker engine this stack deploys to: its hosts, or its one engine (see stackEngines). */
    engines(env: NodeJS.ProcessEnv = process.env): StackEngine[] {
        return stackEngines(this.file.config, this.fleetValue, env);
    }
}

/** Opens a stack of the project in `cwd`: reads Pulumi.yaml and the stack file, once. */
export function openStackView(cwd: string, stack: string): StackView {
    const project = readProject(cwd);
    return new StackView(project, stack, readStackFile(project, stack));
}

/** Every stack of the project in `cwd` that has a file under stacks/, opened. */
export function openStackViews(cwd: string): StackView[] {
    const project = readProject(cwd);
    return listStacks(project.dir).map((stack) => new StackView(project, stack, readStackFile(project, stack)));
}

// ---- The program's side: the running stack, as Pulumi hands it over ----

export interface StackSourceOptions {
    /** Project root, where Pulumi.yaml lives. */
    readonly projectRoot: string;
    readonly project?: string;
    readonly stack?: string;
}

/** Whether each secret config key of the running stack is set, and set as a secret. */
export function stackSecretKeyState(options: StackSourceOptions): (key: string) => SecretKeyState {
    const project = options.project ?? pulumi.getProject();
    const stack = options.stack ?? pulumi.getStack();
    const file = path.join(options.projectRoot, stackFileName(stack));
    return secretKeyStateFrom(project, pulumi.runtime.allConfig(), fs.existsSync(file) ? readYaml(file, stackFileName(stack)) : undefined);
}

/** Assembles the loader's input from the running Pulumi program. */
export function stackConfigSource(options: StackSourceOptions): FleetConfigSource {
    const project = options.project ?? pulumi.getProject();
    const stack = options.stack ?? pulumi.getStack();
    return {
        stack,
        stackFile: stackFileName(stack),
        fleet: new pulumi.Config(project).getObject<unknown>("fleet"),
        catalog: catalogSource(options.projectRoot),
        secretKeyState: stackSecretKeyState(options),
        dockerHost: new pulumi.Config("docker").get("host"),
    };
}

/** Loads the running stack's fleet, or throws FleetConfigError. */
export function loadStackFleet(options: StackSourceOptions): FleetSpec {
    return loadFleetConfig(stackConfigSource(options));
}
