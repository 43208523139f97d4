/**
 * The agent-fleet Pulumi program: validate the stack's fleet config, then
 * declare one Fleet. Nothing is registered when the config is invalid.
 */
import * as pulumi from "@pulumi/pulumi";
import { FleetConfigError, FleetSpec, ShallowHistoryError, agentSourceCommits, loadStackFleet, stackGithubConfig, stackSecretKeyState } from "./config";
import { Fleet, GithubGovernance } from "./components";

function loadOrExplain<T>(load: () => T): T {
    try {
        return load();
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

// Both configs are checked before anything is declared. Pulumi runs the program in the project directory.
const spec = loadOrExplain(() => loadStackFleet({ projectRoot: process.cwd() }));
const githubConfig = loadOrExplain(() => stackGithubConfig(stackSecretKeyState({ projectRoot: process.cwd() }), process.cwd()));

const config = new pulumi.Config();
const fleet = new Fleet("fleet", {
    spec: withSourceCommits(spec),
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
