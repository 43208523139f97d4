/**
 * The agent-fleet Pulumi program: validate the stack's fleet config, then
 * declare one Fleet. Nothing is registered when the config is invalid.
 */
import * as pulumi from "@pulumi/pulumi";
import { FleetConfigError, FleetSpec, loadStackFleet, stackGithubConfig, stackSecretKeyState } from "./config";
import { Fleet, GithubGovernance, builtVersions } from "./components";
import { FLEET_ENV, backendUrl, describeHolder, fileBackendDir, holderAlive, lockFilePath, readLockFile } from "./contract";

function loadOrExplain<T>(load: () => T): T {
    try {
        return load();
    } catch (error) {
        // RunError makes Pulumi print the message alone: a config mistake is not a crash.
        if (error instanceof FleetConfigError) throw new pulumi.RunError(error.message);
        throw error;
    }
}

/** An agent that builds its image says what it was built from: its context's last commit, and whether it was dirty. */
function withBuiltVersions(spec: FleetSpec): FleetSpec {
    return { ...spec, builtVersions: builtVersions(process.cwd(), spec) };
}

/**
 * A plain `pulumi up` may not slip in between the steps of a `fleet` operation
 * (its file edits, update, verification and rollback): while one holds the
 * stack's fleet lock, only its own updates run. Previews always run.
 */
function refuseWhileFleetBusy(): void {
    // Previews, and the program under mocks (`fleet check`, which has no engine), change nothing.
    if (pulumi.runtime.isDryRun() || pulumi.runtime.getEngine() === undefined) return;
    const dir = fileBackendDir(process.cwd(), backendUrl(process.cwd()));
    if (!dir) return;
    const holder = readLockFile(lockFilePath(dir, pulumi.getProject(), pulumi.getStack()));
    if (!holder || holder.id === process.env[FLEET_ENV.operation] || !holderAlive(holder)) return;
    throw new pulumi.RunError(`stack ${pulumi.getStack()} is busy: ${describeHolder(holder)} holds its fleet lock, and this update would interleave with it. `
        + `Wait for it to finish; if that process is gone, \`npx fleet up --stack ${pulumi.getStack()}\` takes the lock over and finishes its job.`);
}

refuseWhileFleetBusy();
// Both configs are checked before anything is declared. Pulumi runs the program in the project directory.
const spec = loadOrExplain(() => loadStackFleet({ projectRoot: process.cwd() }));
const githubConfig = loadOrExplain(() => stackGithubConfig(stackSecretKeyState({ projectRoot: process.cwd() }), process.cwd()));

const config = new pulumi.Config();
const fleet = new Fleet("fleet", {
    spec: withBuiltVersions(spec),
    secretConfig: (key) => config.requireSecret(key),
});

// Opt-in per stack (`agent-fleet:github`): the repository's environments, Actions secrets and labels.
if (githubConfig) {
    new GithubGovernance("github", {
        repository: githubConfig.repository,
        productionReviewers: githubConfig.productionReviewers,
        productionWaitMinutes: githubConfig.productionWaitMinutes,
        productionBranch: githubConfig.productionBranch,
        actionsSecrets: Object.fromEntries(Object.entries(githubConfig.actionsSecrets ?? {}).map(([name, key]) => [name, config.requireSecret(key)])),
        actionsVariables: githubConfig.actionsVariables,
    });
}

export const networkName = fleet.networkName;
export const agents = fleet.agents;
/** The sentinel's container, when the fleet has one (a fleet with alert channels does, unless `fleet.sentinel.enabled: false`). */
export const sentinel = fleet.sentinelContainerName;
