/**
 * Pending deliveries on disk, one file per event and channel, so that nothing
 * is lost when the sentinel restarts: the outbox deletes a file only after the
 * channel answered 2xx. Writes are atomic (a temp file renamed into place), so
 * a crash never leaves half an entry. A receiver drops a repeat by the event
 * id, which covers a crash between the answer and the delete.
 */
import { promises as fs } from "fs";
import * as path from "path";
import type { AlertEvent } from "../../../alerts";

export interface SpoolEntry {
    readonly channel: string;
    readonly event: AlertEvent;
    /** Attempts so far. */
    readonly attempts: number;
    /** Not before this time (ms since the epoch). */
    readonly nextAt: number;
    /** When it was first spooled, for the drain order. */
    readonly queuedAt: number;
}

const SAFE = /^[a-z0-9-]+$/i;

export class Spool {
    private readonly dead: string;

    constructor(readonly dir: string) {
        this.dead = path.join(dir, "dead");
    }

    async open(): Promise<void> {
        await fs.mkdir(this.dead, { recursive: true });
        // A temp file is a write that never finished: its entry was never promised.
        for (const name of await fs.readdir(this.dir)) if (name.endsWith(".tmp")) await fs.rm(path.join(this.dir, name), { force: true });
    }

    private file(channel: string, id: string): string {
        if (!SAFE.test(channel) || !SAFE.test(id)) throw new Error(`spool: unsafe channel or event id ${JSON.stringify(channel)} ${JSON.stringify(id)}`);
        return path.join(this.dir, `${id}.${channel}.json`);
    }

    private async write(file: string, entry: SpoolEntry): Promise<void> {
        const tmp = `${file}.${process.pid}.tmp`;
        await fs.writeFile(tmp, JSON.stringify(entry));
        await fs.rename(tmp, file);
    }

    /** Adds an entry unless the same event is already pending for the channel; true when added. */
    async put(channel: string, event: AlertEvent, now: number): Promise<boolean> {
        const file = this.file(channel, event.id);
        try {
            await fs.access(file);
            return false;
        } catch {
            await this.write(file, { channel, event, attempts: 0, nextAt: now, queuedAt: now });
            return true;
        }
    }

    /** Every pending entry, oldest first. */
    async list(): Promise<SpoolEntry[]> {
        const entries: SpoolEntry[] = [];
        for (const name of await fs.readdir(this.dir)) {
            if (!name.endsWith(".json")) continue;
            try {
                entries.push(JSON.parse(await fs.readFile(path.join(this.dir, name), "utf8")) as SpoolEntry);
            } catch {
                // Deleted by a concurrent drain between readdir and read: nothing to deliver.
            }
        }
        return entries.sort((a, b) => a.queuedAt - b.queuedAt || a.event.id.localeCompare(b.event.id) || a.channel.localeCompare(b.channel));
    }

    async update(entry: SpoolEntry): Promise<void> {
        await this.write(this.file(entry.channel, entry.event.id), entry);
    }

    async remove(entry: SpoolEntry): Promise<void> {
        await fs.rm(this.file(entry.channel, entry.event.id), { force: true });
    }

    /** Moves an entry the channel refused for good aside, with the reason, for a person to look at. */
    async bury(entry: SpoolEntry, reason: string): Promise<void> {
        await fs.writeFile(path.join(this.dead, path.basename(this.file(entry.channel, entry.event.id))), JSON.stringify({ ...entry, reason }));
        await this.remove(entry);
    }

    async buried(): Promise<string[]> {
        return (await fs.readdir(this.dead)).sort();
    }
}
