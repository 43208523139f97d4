/**
 * The agent-fleet Pulumi program: validate the stack's fleet config, then
 * declare one Fleet. Nothing is registered when the config is invalid.
 */
import * as pulumi from "@pulumi/pulumi";
import { FleetConfigError, FleetSpec, ShallowHistoryError, agentSourceCommits, loadStackFleet } from "./config";
import { Fleet } from "./components";

function loadFleetOrExplain() {
    try {
        // Pulumi runs the program in the project directory; `fleet check` does the same for the project it checks.
        return loadStackFleet({ projectRoot: process.cwd() });
    } catch (error) {
        // RunError makes Pulumi print the message alone: a config mistake is not a crash.
        if (error instanceof FleetConfigError) throw new pulumi.RunError(error.message);
        throw error;
    }
}

/** Each agent's containers are labelled with the commit that last changed it, for `fleet status`. */
function withSourceCommits(spec: FleetSpec): FleetSpec {
    try {
        return { ...spec, sourceCommits: agentSourceCommits(process.cwd(), spec) };
    } catch (error) {
        if (error instanceof ShallowHistoryError) throw new pulumi.RunError(error.message);
        throw error;
    }
}

const config = new pulumi.Config();
const fleet = new Fleet("fleet", {
    spec: withSourceCommits(loadFleetOrExplain()),
    secretConfig: (key) => config.requireSecret(key),
});

export const networkName = fleet.networkName;
export const agents = fleet.agents;
/** The sentinel's container, when the fleet has one (a fleet with alert channels does, unless `fleet.sentinel.enabled: false`). */
export const sentinel = fleet.sentinelContainerName;
