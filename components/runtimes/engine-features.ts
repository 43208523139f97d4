/**
 * What each Docker engine the fleet deploys to offers its health probes,
 * asked once per engine and program run: `docker version` of the engine the
 * provider reaches (DOCKER_HOST set to the host's `ssh://` or socket URL,
 * else the program's own), whose API version says whether it has
 * `start_interval` (API 1.44, Docker 25).
 *
 * Asked through the `docker` CLI, as the edge loads its routes: it reaches an
 * `ssh://` host with the user's own ssh setup, as the provider does, and the
 * Docker provider has no data source for the engine's version. An engine that
 * cannot be asked (no CLI, a host that is down, an offline `fleet check`) is
 * probed as one without start_interval, which every engine runs correctly:
 * every interval, or the agent's own opt-in startInterval (./healthcheck).
 */
import { execFileSync } from "child_process";
import { EngineHealthFeatures, FLEET_ENV, UNKNOWN_ENGINE, healthFeaturesOfApi } from "../../contract";

const asked = new Map<string, EngineHealthFeatures>();

/** The engine at `dockerHost` ("ssh://…", "unix://…", "" for the program's own). */
export function engineHealthFeatures(dockerHost: string): EngineHealthFeatures {
    if (process.env[FLEET_ENV.engineProbe] === "off") return UNKNOWN_ENGINE;
    const known = asked.get(dockerHost);
    if (known) return known;
    let features = UNKNOWN_ENGINE;
    try {
        const out = execFileSync("docker", ["version", "--format", "{{.Server.APIVersion}}"], {
            env: { ...process.env, ...(dockerHost ? { DOCKER_HOST: dockerHost } : {}) },
            timeout: 10_000,
            stdio: ["ignore", "pipe", "ignore"],
            encoding: "utf8",
        });
        features = healthFeaturesOfApi(out);
    } catch {
        // Asked again next run; this one probes as on an engine without start_interval.
    }
    asked.set(dockerHost, features);
    return features;
}
