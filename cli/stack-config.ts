/**
 * What `fleet check` reads from a project before it runs the program: the
 * project file, the stack file, and the runtime config the Pulumi CLI would
 * hand the program, with placeholders for secrets it cannot decrypt offline.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { STACKS_DIR, stackFileName } from "../config";

/** A problem with the command's input (project, stack, files): exit code 2, one line, no stack trace. */
export class CheckInputError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CheckInputError";
    }
}

/**
 * What every secret config value is replaced with. `secure:` values cannot be
 * decrypted offline and may not be set yet; a check needs only that they are
 * set, and set as secrets.
 */
export const SECRET_PLACEHOLDER = "fleet-check-secret-placeholder";

export interface ProjectInfo {
    /** Absolute project directory, where Pulumi.yaml lives. */
    readonly dir: string;
    /** `name` in Pulumi.yaml: the namespace of the project's config keys. */
    readonly name: string;
    /** Absolute path of the program (`main` in Pulumi.yaml, else index.ts). */
    readonly program: string;
}

function readYamlFile(file: string, display: string): unknown {
    try {
        return parse(fs.readFileSync(file, "utf8"));
    } catch (error) {
        // The parser's first line says what and where; the rest is a source excerpt.
        const reason = (error instanceof Error ? error.message.split("\n")[0] : String(error)).replace(/:\s*$/, "");
        throw new CheckInputError(`${display}: expected valid YAML, got a parse error: ${reason}`);
    }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads Pulumi.yaml, as `pulumi preview` does before anything else. */
export function readProject(projectDir: string): ProjectInfo {
    const dir = path.resolve(projectDir);
    const file = path.join(dir, "Pulumi.yaml");
    if (!fs.existsSync(file)) throw new CheckInputError(`no Pulumi project in ${dir}: ${file} does not exist (pass --cwd <projectDir>)`);
    const project = readYamlFile(file, file);
    const name = isPlainObject(project) ? project.name : undefined;
    if (typeof name !== "string" || name === "") throw new CheckInputError(`${file}: name: expected a project name, got nothing`);
    const main = isPlainObject(project) && typeof project.main === "string" ? project.main : "index.ts";
    const program = path.resolve(dir, main);
    const candidates = [program, path.join(program, "index.ts"), `${program}.ts`];
    const found = candidates.find((candidate) => fs.existsSync(candidate) && fs.statSync(candidate).isFile());
    if (!found) throw new CheckInputError(`${file}: main: expected the program at ${program}, found no such file`);
    return { dir, name, program: found };
}

// Pulumi's own rule for stack names; it also keeps --stack from naming a path.
const STACK_NAME_RE = /^[A-Za-z0-9_.-]+$/;

export interface StackFile {
    /** Display path, relative to the project: "stacks/Pulumi.production.yaml". */
    readonly display: string;
    readonly path: string;
    /** The file's `config` map, as written. */
    readonly config: Readonly<Record<string, unknown>>;
    /** The salt of the stack's passphrase, when the file carries one: its secrets need the passphrase. */
    readonly encryptionSalt?: string;
}

function existingStacks(projectDir: string): string[] {
    const dir = path.join(projectDir, STACKS_DIR);
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir)
        .map((name) => /^Pulumi\.(.+)\.yaml$/.exec(name)?.[1])
        .filter((name): name is string => name !== undefined)
        .sort();
}

/** Reads `stacks/Pulumi.<stack>.yaml`; an unknown stack is a one-line error naming the file. */
export function readStackFile(project: ProjectInfo, stack: string): StackFile {
    if (!STACK_NAME_RE.test(stack)) {
        throw new CheckInputError(`invalid stack name ${JSON.stringify(stack)}: expected letters, digits, "-", "_" or "."`);
    }
    const display = stackFileName(stack);
    const file = path.join(project.dir, display);
    if (!fs.existsSync(file)) {
        const known = existingStacks(project.dir);
        const hint = known.length > 0 ? ` (stacks here: ${known.join(", ")})` : "";
        throw new CheckInputError(`unknown stack "${stack}": ${display} does not exist in ${project.dir}${hint}`);
    }
    const content = readYamlFile(file, display) ?? {};
    if (!isPlainObject(content)) throw new CheckInputError(`${display}: expected a stack file with a config map, got ${Array.isArray(content) ? "a list" : typeof content}`);
    const config = content.config ?? {};
    if (!isPlainObject(config)) throw new CheckInputError(`${display}: config: expected a map of config keys, got ${Array.isArray(config) ? "a list" : typeof config}`);
    for (const key of Object.keys(config)) {
        // The Pulumi CLI refuses the same keys: every key lives in a namespace.
        if (!isConfigKey(key)) {
            const example = key.includes(":") ? "" : ` like "${project.name}:${key}"`;
            throw new CheckInputError(`${display}: config.${key}: expected a configuration key of the form <namespace>:<name>${example}`);
        }
    }
    return { display, path: file, config, ...(typeof content.encryptionsalt === "string" ? { encryptionSalt: content.encryptionsalt } : {}) };
}

/** `<namespace>:<name>`, or the legacy `<namespace>:config:<name>`, as Pulumi's config.ParseKey accepts. */
function isConfigKey(key: string): boolean {
    const parts = key.split(":");
    if (parts.some((part) => part === "")) return false;
    return parts.length === 2 || (parts.length === 3 && parts[1] === "config");
}

function isSecure(value: unknown): value is { secure: string } {
    return isPlainObject(value) && Object.keys(value).length === 1 && typeof value.secure === "string";
}

/** Replaces every `secure:` leaf with the placeholder; reports whether it found any. */
function withoutCiphertext(value: unknown): { value: unknown; secret: boolean } {
    if (isSecure(value)) return { value: SECRET_PLACEHOLDER, secret: true };
    if (Array.isArray(value)) {
        const items = value.map(withoutCiphertext);
        return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
    }
    if (isPlainObject(value)) {
        const entries = Object.entries(value).map(([k, v]) => [k, withoutCiphertext(v)] as const);
        return { value: Object.fromEntries(entries.map(([k, v]) => [k, v.value])), secret: entries.some(([, v]) => v.secret) };
    }
    return { value, secret: false };
}

/** Config as the Pulumi runtime takes it: full key → text, and which keys are secret. */
export interface RuntimeConfig {
    readonly values: Record<string, string>;
    readonly secretKeys: string[];
}

/**
 * The stack file's config as the Pulumi CLI hands it to the program: strings
 * as they are, anything else as JSON text, and every `secure:` value (whole or
 * nested) replaced by the placeholder and marked secret.
 */
export function runtimeConfigFrom(stackFile: StackFile): RuntimeConfig {
    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, raw] of Object.entries(stackFile.config)) {
        const { value, secret } = withoutCiphertext(raw);
        values[key] = typeof value === "string" ? value : JSON.stringify(value);
        if (secret) secretKeys.push(key);
    }
    return { values, secretKeys };
}

/**
 * Adds a secret placeholder for every key the fleet config needs as a secret
 * (names without the project prefix) that the stack file does not set yet. A
 * key the file sets in plain text is left alone, so the loader still refuses it.
 */
export function withSecretPlaceholders(config: RuntimeConfig, project: string, neededKeys: Iterable<string>): RuntimeConfig {
    const values = { ...config.values };
    const secretKeys = new Set(config.secretKeys);
    for (const key of neededKeys) {
        const fullKey = `${project}:${key}`;
        if (fullKey in values) continue;
        values[fullKey] = SECRET_PLACEHOLDER;
        secretKeys.add(fullKey);
    }
    return { values, secretKeys: [...secretKeys] };
}
