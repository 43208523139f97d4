/**
 * The fleet lock: one `fleet` operation at a time per stack, for the whole
 * operation (its stack file edits, preflight, update, verification and
 * rollback), where Pulumi's own lock covers one update. The CLI takes it
 * (cli/services/lock.ts); the program reads it, so that a plain `pulumi up`
 * cannot slip in between a `fleet up`'s steps.
 *
 * For a file backend the lock is a file in the backend's own folder, created
 * exclusively, so two operators on one backend can never both hold it. Other
 * backends (S3, GCS, Azure, Pulumi Cloud) keep it as a stack tag, which the
 * CLI writes and reads back: see cli/services/lock.ts for what that covers.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface LockHolder {
    /** The operation's id (FLEET_ENV.operation in its updates). */
    readonly id: string;
    /** What it runs, e.g. "fleet up --stack dev --agent jarvis". */
    readonly command: string;
    readonly user: string;
    readonly host: string;
    readonly pid: number;
    /** When it took the lock (ISO). */
    readonly since: string;
}

/** The backend's URL: PULUMI_BACKEND_URL, else Pulumi.yaml's backend.url; undefined when neither says. */
export function backendUrl(projectDir: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
    if (env.PULUMI_BACKEND_URL) return env.PULUMI_BACKEND_URL;
    try {
        // A regular expression, not a YAML parser: the policy pack imports this module and has no yaml dependency.
        const text = fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8");
        return /^backend:\s*\n\s+url:\s*["']?([^"'\s#]+)/m.exec(text)?.[1];
    } catch {
        return undefined;
    }
}

/** The folder a `file://` backend keeps its state in, as Pulumi resolves it; undefined for any other backend. */
export function fileBackendDir(projectDir: string, url: string | undefined): string | undefined {
    if (!url?.startsWith("file://")) return undefined;
    const rest = url.slice("file://".length).replace(/\?.*$/, "");
    if (rest === "~" || rest.startsWith("~/")) return path.join(os.homedir(), rest.slice(1));
    return path.resolve(projectDir, rest);
}

/** Where a file backend keeps a stack's fleet lock. */
export function lockFilePath(backendDir: string, project: string, stack: string): string {
    return path.join(backendDir, ".agent-fleet", "locks", project, `${stack}.json`);
}

/** The holder written in a lock file; undefined when there is none (or it cannot be read). */
export function readLockFile(file: string): LockHolder | undefined {
    try {
        return JSON.parse(fs.readFileSync(file, "utf8")) as LockHolder;
    } catch {
        return undefined;
    }
}

/**
 * Whether the holder may still be running. A holder on another machine is
 * assumed alive: only a person can tell it is gone.
 */
export function holderAlive(holder: LockHolder): boolean {
    return processMayRun(holder.host, holder.pid);
}

/**
 * Whether process `pid` on `host` may still be running: false only when it
 * is on this machine and gone. Shared by the fleet lock and Pulumi's own
 * update locks (which name their holder the same way).
 */
export function processMayRun(host: string, pid: number): boolean {
    if (host !== os.hostname()) return true;
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}

/** "fleet up --stack dev by alice@laptop (pid 4242) since 2026-12-03T10:00:00Z" */
export function describeHolder(holder: LockHolder): string {
    return `\`${holder.command}\` by ${holder.user}@${holder.host} (pid ${holder.pid}) since ${holder.since}`;
}
