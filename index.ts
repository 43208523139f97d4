/**
 * The agent-fleet Pulumi program: validate the stack's fleet config, then
 * declare one Fleet. Nothing is registered when the config is invalid.
 */
import * as pulumi from "@pulumi/pulumi";
import { FleetConfigError, loadStackFleet } from "./config";
import { Fleet } from "./components";

function loadFleetOrExplain() {
    try {
        // Deploys label containers with the commit only when asked: a label change replaces the container.
        // Pulumi runs the program in the project directory; `fleet check` does the same for the project it checks.
        return loadStackFleet({ projectRoot: process.cwd(), gitCommit: process.env.FLEET_GIT_COMMIT || undefined });
    } catch (error) {
        // RunError makes Pulumi print the message alone: a config mistake is not a crash.
        if (error instanceof FleetConfigError) throw new pulumi.RunError(error.message);
        throw error;
    }
}

const config = new pulumi.Config();
const fleet = new Fleet("fleet", {
    spec: loadFleetOrExplain(),
    secretConfig: (key) => config.requireSecret(key),
});

export const networkName = fleet.networkName;
export const agents = fleet.agents;
/** The sentinel's container, when the fleet has one (a fleet with alert channels does, unless `fleet.sentinel.enabled: false`). */
export const sentinel = fleet.sentinelContainerName;
