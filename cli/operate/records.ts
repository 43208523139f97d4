/**
 * What the fleet remembers about a stack between commands, kept in the stack's
 * own Pulumi backend as stack tags, so every operator and CI read the same:
 *
 * - `agent-fleet:verified:<agent>`: the agent's last deployed-and-verified
 *   spec, in config terms (image, env, secret key names, resources,
 *   healthcheck, flags), with its spec hash. A rollback restores it.
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
import type { Output } from "./common";

const VERIFIED_PREFIX = "agent-fleet:verified:";
const PENDING_PREFIX = "agent-fleet:pending:";

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
}

export interface StackRecords {
    readonly verified: ReadonlyMap<string, VerifiedRecord>;
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
    const pending = new Map<string, PendingRollback>();
    for (const [key, value] of Object.entries(tags)) {
        if (key.startsWith(VERIFIED_PREFIX)) {
            const record = parseTag<VerifiedRecord>(value);
            if (record?.hash && record.config) verified.set(key.slice(VERIFIED_PREFIX.length), record);
        } else if (key.startsWith(PENDING_PREFIX)) {
            const record = parseTag<PendingRollback>(value);
            if (record?.toHash) pending.set(key.slice(PENDING_PREFIX.length), record);
        }
    }
    return { verified, pending };
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

export function recordVerified(stack: Stack, agent: string, record: VerifiedRecord, output: Output): Promise<boolean> {
    return setTag(stack, `${VERIFIED_PREFIX}${agent}`, record, output);
}

export function recordPending(stack: Stack, agent: string, record: PendingRollback, output: Output): Promise<boolean> {
    return setTag(stack, `${PENDING_PREFIX}${agent}`, record, output);
}

export function clearPending(stack: Stack, agent: string): Promise<void> {
    return removeTag(stack, `${PENDING_PREFIX}${agent}`);
}
