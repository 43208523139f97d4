/**
 * What the fleet remembers about a stack between commands, kept in the stack's
 * own Pulumi backend as stack tags, so every operator and CI read the same:
 *
 * - `agent-fleet:verified:<agent>`: the agent's last deployed-and-verified
 *   spec, in config terms (image, env, secret key names, resources,
 *   healthcheck, flags), with its spec hash. A rollback restores it.
 * - `agent-fleet:previous:<agent>`: the verified spec a later deploy replaced.
 *   When the stack file already holds the last verified spec (a release that
 *   deployed and verified, then turned out wrong), a rollback restores this
 *   one. A rollback never writes it, so a second rollback does not flip back.
 * - `agent-fleet:pending:<agent>`: a rollback written to the stack file whose
 *   update has not been verified yet. A retry finds the file already holding
 *   it and applies it again instead of swapping back.
 *
 * Nothing secret goes in: secret config is named by its key, never its value.
 * Tags live beside the state in every self-managed backend (file, S3, GCS,
 * Azure). Pulumi Cloud limits a tag's value to 256 characters, which a spec
 * outgrows: there a record that does not fit is skipped with a warning, and
 * rollbacks fall back to rollbackImage.
 */
import type { Stack } from "@pulumi/pulumi/automation";
import type { AgentConfig } from "../../config";
import type { Output } from "../output";

const VERIFIED_PREFIX = "agent-fleet:verified:";
const PENDING_PREFIX = "agent-fleet:pending:";
const PREVIOUS_PREFIX = "agent-fleet:previous:";

export interface VerifiedRecord {
    /** The agent's spec hash when it was verified (config/spec-hash.ts). */
    readonly hash: string;
    /** When it was verified (ISO). */
    readonly at: string;
    /** The command that verified it, e.g. "fleet up --stack dev --agent jarvis". */
    readonly by: string;
    /** The agent's config, merged from every layer (catalog, agentDefaults, its entry), as the loader validated it. */
    readonly config: AgentConfig;
}

export interface PendingRollback {
    /** The agent's spec hash before the rollback was written. */
    readonly fromHash: string;
    /** Its spec hash with the rollback written: while the stack file still says this, the rollback is not done. */
    readonly toHash: string;
    /** Where it goes back to, in words ("the spec verified at …", "ghcr.io/acme/jarvis:1.4.1", "flags off"). */
    readonly to: string;
    readonly since: string;
    readonly by: string;
    /** The record the rollback restores, when it restores one. */
    readonly restores?: "verified" | "previous";
}

export interface StackRecords {
    readonly verified: ReadonlyMap<string, VerifiedRecord>;
    /** The verified spec each agent ran before its current verified one. */
    readonly previous: ReadonlyMap<string, VerifiedRecord>;
    readonly pending: ReadonlyMap<string, PendingRollback>;
}

function parseTag<T>(value: string): T | undefined {
    try {
        return JSON.parse(value) as T;
    } catch {
        return undefined;
    }
}

/** Every record of the stack, in one read of its tags. */
export async function readRecords(stack: Stack): Promise<StackRecords> {
    const tags = await stack.listTags();
    const verified = new Map<string, VerifiedRecord>();
    const previous = new Map<string, VerifiedRecord>();
    const pending = new Map<string, PendingRollback>();
    for (const [key, value] of Object.entries(tags)) {
        for (const [prefix, into] of [[VERIFIED_PREFIX, verified], [PREVIOUS_PREFIX, previous]] as const) {
            if (!key.startsWith(prefix)) continue;
            const record = parseTag<VerifiedRecord>(value);
            if (record?.hash && record.config) into.set(key.slice(prefix.length), record);
        }
        if (key.startsWith(PENDING_PREFIX)) {
            const record = parseTag<PendingRollback>(value);
            if (record?.toHash) pending.set(key.slice(PENDING_PREFIX.length), record);
        }
    }
    return { verified, previous, pending };
}

/** Writes one tag; a backend that refuses it (Pulumi Cloud's size limit) costs a warning, not the command. */
async function setTag(stack: Stack, key: string, value: unknown, output: Output): Promise<boolean> {
    try {
        await stack.setTag(key, JSON.stringify(value));
        return true;
    } catch (error) {
        const why = (error instanceof Error ? error.message : String(error)).split("\n").find((l) => /error:/.test(l))?.trim() ?? "refused";
        output.err(`warning: the backend did not keep ${key} (${why}); a later rollback of this agent falls back to its rollbackImage`);
        return false;
    }
}

async function removeTag(stack: Stack, key: string): Promise<void> {
    // A tag that is not there is already what we want.
    await stack.removeTag(key).catch(() => undefined);
}

/**
 * Records the agent's newly verified spec. A deploy passes the record it
 * replaces, which is kept as the agent's previous one when its spec differs;
 * a rollback passes none.
 */
export async function recordVerified(stack: Stack, agent: string, record: VerifiedRecord, output: Output, replaces?: VerifiedRecord): Promise<boolean> {
    if (replaces && replaces.hash !== record.hash) await setTag(stack, `${PREVIOUS_PREFIX}${agent}`, replaces, output);
    return setTag(stack, `${VERIFIED_PREFIX}${agent}`, record, output);
}

/** Forgets the agent's previous verified spec: a rollback restored it, and it is now the verified one. */
export function forgetPrevious(stack: Stack, agent: string): Promise<void> {
    return removeTag(stack, `${PREVIOUS_PREFIX}${agent}`);
}

export function recordPending(stack: Stack, agent: string, record: PendingRollback, output: Output): Promise<boolean> {
    return setTag(stack, `${PENDING_PREFIX}${agent}`, record, output);
}

export function clearPending(stack: Stack, agent: string): Promise<void> {
    return removeTag(stack, `${PENDING_PREFIX}${agent}`);
}
