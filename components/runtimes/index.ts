import type { RuntimeName } from "../../config";
import { containerRuntime } from "./container";
import type { AgentRuntime } from "./runtime";
import { swarmRuntime } from "./swarm";

export * from "./container";
export * from "./engine-features";
export * from "./healthcheck";
export * from "./runtime";
export * from "./swarm";

/** The runtimes a fleet config can name in `fleet.runtime`. */
export const RUNTIMES_BY_NAME: Readonly<Record<RuntimeName, AgentRuntime>> = {
    container: containerRuntime,
    swarm: swarmRuntime,
};
