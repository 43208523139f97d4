/**
 * Taking and releasing the fleet lock (contract/operation-lock.ts) for one
 * `fleet` operation. A second operator is refused at once, told who holds the
 * lock and since when. A lock whose holder is gone (killed on this machine)
 * is taken over, and the caller is told, so that it can recover what that
 * operation left half-done.
 *
 * File backends: an exclusively created file, so at most one holder, ever.
 * Other backends: the stack tag `agent-fleet:lock`, written then read back.
 * Two operators who start within the same moment could both read it free;
 * Pulumi's own lock still keeps their updates from overlapping, and CI runs
 * deploys one at a time (the workflows' concurrency groups).
 */
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Stack } from "@pulumi/pulumi/automation";
import { FLEET_ENV, LockHolder, backendUrl, describeHolder, fileBackendDir, holderAlive, lockFilePath, readLockFile } from "../../contract";
import { StackAccessError } from "./stack-access";

const LOCK_TAG = "agent-fleet:lock";

/** Another operation holds the stack (exit 2): who, and since when. */
class FleetLockedError extends StackAccessError {
    constructor(stack: string, holder: LockHolder, where: string) {
        super(`stack ${stack} is busy: ${describeHolder(holder)} holds its fleet lock (${where}). `
            + `Wait for it to finish. If that process is gone${holder.host === os.hostname() ? "" : ` (it ran on ${holder.host})`}, remove the lock: ${where.startsWith("stack tag") ? `npx pulumi stack tag rm ${LOCK_TAG} --stack ${stack}` : `rm ${where}`}`);
        this.name = "FleetLockedError";
    }
}

export class FleetLock {
    /** Use FleetLock.acquire. */
    constructor(
        readonly holder: LockHolder,
        /** The operation this one took the lock over from, when its holder was gone. */
        readonly recoveredFrom: LockHolder | undefined,
        private readonly release_: () => Promise<void>,
    ) {}

    /** The environment of this operation's updates: the program lets them through. */
    get env(): Record<string, string> {
        return { [FLEET_ENV.operation]: this.holder.id };
    }

    /** Takes the lock or throws FleetLockedError. */
    static async acquire(projectDir: string, project: string, stack: Stack, command: string, env: NodeJS.ProcessEnv = process.env): Promise<FleetLock> {
        const holder: LockHolder = {
            id: randomUUID(), command, user: os.userInfo().username, host: os.hostname(), pid: process.pid, since: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
        };
        const dir = fileBackendDir(projectDir, backendUrl(projectDir, env));
        return dir ? acquireFile(lockFilePath(dir, project, stack.name), stack.name, holder) : acquireTag(stack, holder);
    }

    release(): Promise<void> {
        return this.release_();
    }
}

/** Removes the lock file if it is still ours: never one another operation took over after ours was declared gone. */
function releaseFile(file: string, holder: LockHolder): () => Promise<void> {
    return async () => {
        if (readLockFile(file)?.id === holder.id) fs.rmSync(file, { force: true });
    };
}

async function acquireFile(file: string, stackName: string, holder: LockHolder): Promise<FleetLock> {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    for (let attempt = 0; attempt < 3; attempt++) {
        try {
            fs.writeFileSync(file, `${JSON.stringify(holder, null, 2)}\n`, { flag: "wx" });
            return new FleetLock(holder, undefined, releaseFile(file, holder));
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        }
        const current = readLockFile(file);
        if (current && holderAlive(current)) throw new FleetLockedError(stackName, current, file);
        // Gone (or unreadable): move it aside atomically, so that of two operators recovering at once only one wins.
        const aside = `${file}.${holder.id}.stale`;
        try {
            fs.renameSync(file, aside);
        } catch {
            continue;
        }
        fs.rmSync(aside, { force: true });
        try {
            fs.writeFileSync(file, `${JSON.stringify(holder, null, 2)}\n`, { flag: "wx" });
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code === "EEXIST") continue;
            throw error;
        }
        return new FleetLock(holder, current ?? { id: "unknown", command: "an unreadable lock", user: "?", host: os.hostname(), pid: 0, since: "?" }, releaseFile(file, holder));
    }
    throw new StackAccessError(`stack ${stackName}: could not take the fleet lock at ${file}; another operation keeps taking it`);
}

async function acquireTag(stack: Stack, holder: LockHolder): Promise<FleetLock> {
    const tags = await stack.listTags();
    let current: LockHolder | undefined;
    try {
        current = tags[LOCK_TAG] ? JSON.parse(tags[LOCK_TAG]) as LockHolder : undefined;
    } catch {
        current = undefined;
    }
    if (current && holderAlive(current)) throw new FleetLockedError(stack.name, current, `stack tag ${LOCK_TAG}`);
    await stack.setTag(LOCK_TAG, JSON.stringify(holder));
    const readBack = JSON.parse((await stack.listTags())[LOCK_TAG] ?? "{}") as Partial<LockHolder>;
    if (readBack.id !== holder.id) throw new FleetLockedError(stack.name, readBack as LockHolder, `stack tag ${LOCK_TAG}`);
    const release = async () => {
        const now = JSON.parse((await stack.listTags())[LOCK_TAG] ?? "{}") as Partial<LockHolder>;
        if (now.id === holder.id) await stack.removeTag(LOCK_TAG);
    };
    return new FleetLock(holder, current, release);
}
