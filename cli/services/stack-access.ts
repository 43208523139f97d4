/**
 * How the CLI reaches a stack in its Pulumi backend, in one place:
 *
 * - the environment Pulumi needs. The backend is PULUMI_BACKEND_URL, else
 *   Pulumi.yaml's `backend.url` (the project's own `.pulumi-state/`, which
 *   is what dev uses). The passphrase is PULUMI_CONFIG_PASSPHRASE or
 *   PULUMI_CONFIG_PASSPHRASE_FILE, else the stack's documented env file,
 *   `stacks/<stack>.env` (dev has one: its passphrase protects nothing);
 * - what a backend, passphrase, lock or missing-stack failure of the Pulumi
 *   CLI means, as a StackAccessError: one line with its fix, exit 2, never
 *   a stack trace.
 */
import * as fs from "fs";
import * as path from "path";
import { parseEnv } from "util";
import { CommandError, LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { stackEnvFileName } from "../../config";

export { stackEnvFileName };
import { UserError } from "../output";

/** A stack the CLI cannot reach, or cannot decrypt: the environment's fault, not the fleet's (exit 2). */
export class StackAccessError extends UserError {
    constructor(message: string) {
        super(message);
        this.name = "StackAccessError";
    }
}

/** The variables of `stacks/<stack>.env`, when the stack has one. */
function stackEnvFile(projectDir: string, stack: string): Record<string, string> {
    const file = path.join(projectDir, stackEnvFileName(stack));
    if (!fs.existsSync(file)) return {};
    return parseEnv(fs.readFileSync(file, "utf8")) as Record<string, string>;
}

/** Variables that name the same setting: a file's value is a default only when neither is set. */
const SAME_SETTING: Readonly<Record<string, readonly string[]>> = {
    PULUMI_CONFIG_PASSPHRASE: ["PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"],
    PULUMI_CONFIG_PASSPHRASE_FILE: ["PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"],
};

/**
 * The environment Pulumi runs with for this stack: `base` (default the
 * process's), with the stack's env file filling in only what `base` leaves
 * unset. Values a person or CI exported always win.
 */
export function pulumiEnv(projectDir: string, stack: string, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(base)) if (value !== undefined) env[key] = value;
    for (const [key, value] of Object.entries(stackEnvFile(projectDir, stack))) {
        const setting = SAME_SETTING[key] ?? [key];
        if (setting.every((k) => !base[k])) env[key] = value;
    }
    env.PULUMI_SKIP_UPDATE_CHECK ??= "true";
    return env;
}

/** The backend the stack lives in, for messages: "the backend <PULUMI_BACKEND_URL>", else the one Pulumi.yaml names. */
function backendOf(env: Readonly<Record<string, string>>): string {
    return env.PULUMI_BACKEND_URL ? `the backend ${env.PULUMI_BACKEND_URL}` : "the backend Pulumi.yaml names (backend.url)";
}

/**
 * What a failed Pulumi CLI call means when the cause is the backend, the
 * passphrase, a lock or a missing stack; undefined for anything else (a
 * failed deployment is reported as such by its caller).
 */
export function explainPulumiFailure(error: unknown, stack: string, env: Readonly<Record<string, string>> = process.env as Record<string, string>): StackAccessError | undefined {
    const text = error instanceof CommandError || error instanceof Error ? error.message : String(error);
    const envFile = stackEnvFileName(stack);
    if (/ENOENT: pulumi|spawn pulumi ENOENT/.test(text)) {
        return new StackAccessError("no `pulumi` CLI on PATH. Fix: `npm ci` (the `pulumi` npm package provides it) and run fleet through npx, which puts node_modules/.bin on PATH");
    }
    if (/PULUMI_ACCESS_TOKEN must be set|pulumi login|not logged in/i.test(text)) {
        return new StackAccessError(`stack ${stack}: no Pulumi backend to read it from (PULUMI_BACKEND_URL is unset and no login is stored). `
            + "Fix: export PULUMI_BACKEND_URL=<your team's backend, e.g. s3://bucket/prefix or file://~/.pulumi-state>, or run `npx pulumi login <url>`");
    }
    if (/passphrase must be set|PULUMI_CONFIG_PASSPHRASE/.test(text) && !/incorrect passphrase/i.test(text)) {
        return new StackAccessError(`stack ${stack}: its secrets need a passphrase, and none is set. `
            + `Fix: export PULUMI_CONFIG_PASSPHRASE=<the stack's passphrase> (or PULUMI_CONFIG_PASSPHRASE_FILE=<file>), or put it in ${envFile}, as dev does`);
    }
    if (/incorrect passphrase|failed to decrypt|message authentication failed/i.test(text)) {
        return new StackAccessError(`stack ${stack}: the passphrase does not open its secrets. `
            + `Fix: export the stack's own PULUMI_CONFIG_PASSPHRASE (for dev it is in ${envFile})`);
    }
    const locked = /the stack is currently locked by[\s\S]*?(?:\n\s*(\S+: created by [^\n]+))?/.exec(text);
    if (locked) {
        const holder = /created by ([^\n]+)/.exec(text)?.[1]?.trim();
        return new StackAccessError(`stack ${stack}: another Pulumi operation holds the backend's lock${holder ? ` (created by ${holder})` : ""}. `
            + `Fix: wait for it to finish; if its process is gone (killed mid-update), run \`npx fleet up --stack ${stack}\` again, which clears a dead process's lock on this machine, or \`npx pulumi cancel --stack ${stack}\``);
    }
    const noStack = /no stack named '([^']+)' found/.exec(text);
    if (noStack) {
        return new StackAccessError(`stack ${stack} does not exist in ${backendOf(env)}. `
            + `Fix: point PULUMI_BACKEND_URL at the backend that holds it, or create it with \`npx pulumi stack init ${stack}\` (dev: \`npm run deploy:dev\`)`);
    }
    if (/unable to open state directory|failed to load checkpoint|could not (?:access|open) (?:the )?(?:backend|bucket)|NoSuchBucket|no such host|connection refused|i\/o timeout/i.test(text)
        && !/docker/i.test(text)) {
        const first = text.split("\n").find((l) => /error:/i.test(l))?.replace(/^.*?error:\s*/i, "") ?? text.split("\n")[0];
        return new StackAccessError(`stack ${stack}: ${backendOf(env)} cannot be reached: ${first.trim()}. Fix: check PULUMI_BACKEND_URL and the credentials it needs`);
    }
    return undefined;
}

/** Runs a Pulumi CLI call for a stack; a backend, passphrase, lock or missing-stack failure becomes a StackAccessError. */
export async function withStackAccess<T>(stack: string, env: Readonly<Record<string, string>>, call: () => Promise<T>): Promise<T> {
    try {
        return await call();
    } catch (error) {
        throw explainPulumiFailure(error, stack, env) ?? error;
    }
}

/**
 * A stack whose file carries a passphrase salt or secret values needs the
 * passphrase to deploy or read its outputs: without one, a StackAccessError
 * with the fix, before Pulumi is asked anything.
 */
export function requirePassphrase(projectDir: string, stack: string, file: { readonly encryptionSalt?: string; readonly config: Readonly<Record<string, unknown>> }): void {
    const env = pulumiEnv(projectDir, stack);
    if (env.PULUMI_CONFIG_PASSPHRASE || env.PULUMI_CONFIG_PASSPHRASE_FILE) return;
    if (file.encryptionSalt === undefined && !JSON.stringify(file.config).includes('"secure"')) return;
    throw explainPulumiFailure(new Error("passphrase must be set with PULUMI_CONFIG_PASSPHRASE"), stack, env)!;
}

/**
 * The Pulumi CLI, asked its version once per process: the Automation API asks
 * (`pulumi version`, about 0.15 s) for every workspace it opens otherwise.
 */
let pulumiCommand: Promise<PulumiCommand> | undefined;

/** Stacks already selected by this process, by project, stack and environment: each `stack select` is a CLI run. */
const opened = new Map<string, Promise<Stack>>();

/**
 * Selects the stack of the project in `projectDir` (creating it with
 * `create`), with its Pulumi environment. A verb opens it once: the
 * preflight, the lock, the update and the verification share the handle.
 */
export async function openStack(projectDir: string, stack: string, options: { readonly create?: boolean } = {}): Promise<Stack> {
    const env = pulumiEnv(projectDir, stack);
    const key = JSON.stringify([path.resolve(projectDir), stack, env]);
    const known = opened.get(key);
    if (known) return known;
    const args = { stackName: stack, workDir: projectDir };
    const open = withStackAccess(stack, env, async () => {
        pulumiCommand ??= PulumiCommand.get().catch((error: unknown) => {
            pulumiCommand = undefined;
            throw error;
        });
        const workspace = { envVars: env, pulumiCommand: await pulumiCommand };
        return options.create ? LocalWorkspace.createOrSelectStack(args, workspace) : LocalWorkspace.selectStack(args, workspace);
    });
    opened.set(key, open);
    // A stack that could not be opened (missing, unreachable) is asked again next time.
    open.catch(() => opened.delete(key));
    return open;
}
