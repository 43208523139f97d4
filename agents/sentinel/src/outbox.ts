/**
 * Drains the spool: each due entry is tried once per pass, several at a time,
 * so one slow channel never holds the others. A 2xx removes the entry; a
 * refusal that retrying cannot fix (a 4xx other than 408/429) buries it; any
 * other failure waits with exponential backoff and full jitter, at least as
 * long as `Retry-After` asks, and is tried again, for as long as it takes.
 */
import { AlertEvent, DeliveryTarget, backoffDelayMs, deliverTo } from "../../../alerts";
import { Spool, SpoolEntry } from "./spool";

export interface OutboxSettings {
    /** Deliveries in flight at once. Default 16. */
    readonly concurrency: number;
    /** Per request. Default 5 s. */
    readonly timeoutMs: number;
    /** Backoff ceiling after the first failure; doubles per failure up to maxDelayMs. Defaults 1 s and 5 min. */
    readonly baseDelayMs: number;
    readonly maxDelayMs: number;
}

export const DEFAULT_OUTBOX: OutboxSettings = { concurrency: 16, timeoutMs: 5_000, baseDelayMs: 1_000, maxDelayMs: 5 * 60_000 };

export interface OutboxClock {
    now(): number;
    random(): number;
}

const REAL_CLOCK: OutboxClock = { now: Date.now, random: Math.random };

export class Outbox {
    private draining: Promise<void> | undefined;

    constructor(
        private readonly spool: Spool,
        /** Channel name → where and how to send; a spooled entry for a channel no longer configured is buried. */
        private readonly targets: ReadonlyMap<string, DeliveryTarget>,
        private readonly settings: OutboxSettings = DEFAULT_OUTBOX,
        private readonly clock: OutboxClock = REAL_CLOCK,
        private readonly log: (message: string) => void = () => undefined,
    ) {}

    /** Spools the event for each channel; it is delivered by the next drain. */
    async enqueue(event: AlertEvent, channels: readonly string[]): Promise<void> {
        for (const channel of channels) await this.spool.put(channel, event, this.clock.now());
    }

    /** One pass over the due entries; concurrent calls share the pass in progress. */
    drain(): Promise<void> {
        this.draining ??= this.pass().finally(() => { this.draining = undefined; });
        return this.draining;
    }

    /** The earliest time an entry is due, or undefined when the spool is empty. */
    async nextDue(): Promise<number | undefined> {
        const entries = await this.spool.list();
        return entries.length === 0 ? undefined : Math.min(...entries.map((e) => e.nextAt));
    }

    private async pass(): Promise<void> {
        const due = (await this.spool.list()).filter((e) => e.nextAt <= this.clock.now());
        let next = 0;
        const worker = async () => {
            while (next < due.length) await this.attempt(due[next++]);
        };
        await Promise.all(Array.from({ length: Math.min(this.settings.concurrency, due.length) }, worker));
    }

    private async attempt(entry: SpoolEntry): Promise<void> {
        const target = this.targets.get(entry.channel);
        if (!target) {
            await this.spool.bury(entry, `channel ${entry.channel} is no longer configured`);
            return;
        }
        const outcome = await deliverTo(target, entry.event, { attempts: 1, timeoutMs: this.settings.timeoutMs });
        if (outcome.delivered) {
            await this.spool.remove(entry);
            return;
        }
        if (outcome.final) {
            this.log(`${entry.event.event} ${entry.event.id} refused by channel ${entry.channel} (${outcome.error}); kept under dead/`);
            await this.spool.bury(entry, outcome.error ?? "refused");
            return;
        }
        const attempts = entry.attempts + 1;
        const delay = backoffDelayMs(attempts, this.settings, this.clock.random, outcome.retryAfterMs);
        await this.spool.update({ ...entry, attempts, nextAt: this.clock.now() + delay });
    }
}

