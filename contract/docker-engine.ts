/**
 * What a Docker engine offers an agent's health probes, by its Engine API
 * version: one rule for the program (which asks each engine,
 * components/runtimes/engine-features.ts) and `fleet doctor`.
 */
import * as semver from "semver";

export interface EngineHealthFeatures {
    /** The engine probes at `start_interval` during the start period: Docker 25 and later (API 1.44). */
    readonly startInterval: boolean;
}

/** An engine of unknown version: probed as one without start_interval, which every engine runs correctly. */
export const UNKNOWN_ENGINE: EngineHealthFeatures = { startInterval: false };

/** The first Engine API version with a healthcheck's start_interval (Docker 25). */
const START_INTERVAL_API = "1.44.0";

/** What an engine of this Engine API version ("1.41", as `docker version` reports it) offers; unknown text reads as UNKNOWN_ENGINE. */
export function healthFeaturesOfApi(apiVersion: string): EngineHealthFeatures {
    const version = semver.coerce(apiVersion.trim())?.version;
    return { startInterval: version !== undefined && semver.gte(version, START_INTERVAL_API) };
}
