/**
 * The sentinel's configuration, from its environment. The stack passes the
 * channel URLs and signing secrets as a secret env var (`SENTINEL_CHANNELS`),
 * and everything else as `SENTINEL_CONFIG`; the sentinel never logs either.
 */
import { CHANNEL_TYPES } from "../../../contract/channels";
import type { Severity } from "../../../contract";
import type { DeliveryTarget } from "../../../alerts";
import type { ProbeSettings } from "./probe";

/**
 * An agent the sentinel alerts for, and where. What describes the running
 * container (tier, version, watch window, limits, smoke checks) comes from
 * the container's own labels, so that it always matches what runs.
 */
export interface WatchedAgent {
    readonly name: string;
    /** Channels that hear it, already routed by the config loader. */
    readonly alertChannels: readonly string[];
}

interface ChannelRoute {
    readonly name: string;
    readonly minSeverity: Severity;
}

interface SentinelEnvConfig {
    readonly stack: string;
    readonly environment: string;
    readonly agents: readonly WatchedAgent[];
    readonly channels: readonly ChannelRoute[];
    /** Reminder after this long while a problem lasts; default 30 min. */
    readonly reminderAfterMs?: number;
    /** At most this many alerts per agent per rateWindowMs; defaults 10 per 10 min. */
    readonly rateLimit?: number;
    readonly rateWindowMs?: number;
    /** The fleet network, on which the sentinel reaches the agents it probes; default: each container's first network. */
    readonly network?: string;
    /** Probe timing in the watch window (see probe.ts for the defaults). */
    readonly probes?: Partial<ProbeSettings>;
}

export interface SentinelSettings {
    readonly config: SentinelEnvConfig;
    /** Channel name → delivery target (URL and signing secret: secrets). */
    readonly targets: ReadonlyMap<string, DeliveryTarget>;
    readonly port: number;
    readonly spoolDir: string;
    /** Where the Docker API is: `unix:///var/run/docker.sock`, or the fleet's docker proxy (`tcp://docker-api:2375`). */
    readonly dockerHost: string;
}

/** Bad configuration: the message names the variable and what was expected, never a value. */
export class SentinelConfigError extends Error {}

function json(env: NodeJS.ProcessEnv, name: string): unknown {
    const text = env[name];
    if (!text) throw new SentinelConfigError(`${name}: expected JSON, got nothing`);
    try {
        return JSON.parse(text);
    } catch {
        throw new SentinelConfigError(`${name}: expected JSON, got text that does not parse (not shown: it may hold secrets)`);
    }
}

export function settingsFromEnv(env: NodeJS.ProcessEnv): SentinelSettings {
    const config = json(env, "SENTINEL_CONFIG") as SentinelEnvConfig;
    if (!config || !Array.isArray(config.agents) || !Array.isArray(config.channels)) {
        throw new SentinelConfigError("SENTINEL_CONFIG: expected { stack, environment, agents: [...], channels: [...] }");
    }
    // The same list of targets the deploy hooks deliver to (components/notifications deliveryTargets).
    const listed = json(env, "SENTINEL_CHANNELS") as DeliveryTarget[];
    if (!Array.isArray(listed)) throw new SentinelConfigError("SENTINEL_CHANNELS: expected a list of { channel, type, url, signingSecret? }");
    const targets = new Map<string, DeliveryTarget>();
    for (const route of config.channels) {
        const target = listed.find((t) => t?.channel === route.name);
        if (!target || typeof target.url !== "string" || !CHANNEL_TYPES.includes(target.type)) {
            throw new SentinelConfigError(`SENTINEL_CHANNELS: expected a type and a url for channel ${route.name}`);
        }
        targets.set(route.name, target);
    }
    return {
        config,
        targets,
        port: Number(env.PORT ?? 8080),
        spoolDir: env.SPOOL_DIR ?? "/var/spool/sentinel",
        // DOCKER_HOST (the component's docker proxy) wins; DOCKER_SOCKET is a socket mounted straight in.
        dockerHost: env.DOCKER_HOST ?? `unix://${env.DOCKER_SOCKET ?? "/var/run/docker.sock"}`,
    };
}
