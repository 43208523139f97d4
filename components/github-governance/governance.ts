import * as pulumi from "@pulumi/pulumi";
import * as github from "@pulumi/github";
import { ACTIONS_NAME_RE, COMPONENT_TYPES, GITHUB_LABELS, GITHUB_REPOSITORY_RE } from "../../contract";
import { productionReviewersProblem } from "../../config";
import { githubProviderFor } from "../github-provider";
import { Transform, applyTransform } from "../transform";

/** The labels the fleet's tools set, with the colour and description the component gives them. */
export const FLEET_LABELS: readonly { readonly name: string; readonly color: string; readonly description: string }[] = [
    { name: GITHUB_LABELS.agentChanges, color: "1d76db", description: "The preview changes at least one agent" },
    { name: GITHUB_LABELS.manualDeploy, color: "d93f0b", description: "A production tier 3 change or a replacement with downtime: deploy by hand" },
    { name: GITHUB_LABELS.deployment, color: "b60205", description: "Agents main has that the fleet does not run (fleet status)" },
    { name: GITHUB_LABELS.tier(1), color: "c2e0c6", description: "Touches a tier 1 agent: ship now" },
    { name: GITHUB_LABELS.tier(2), color: "fef2c0", description: "Touches a tier 2 agent: ship with monitoring" },
    { name: GITHUB_LABELS.tier(3), color: "f9d0c4", description: "Touches a tier 3 agent: behind a feature flag" },
];

/** The environments the deploy workflow names (`environment: ${{ inputs.stack }}`). */
const DEPLOY_ENVIRONMENTS = ["staging", "production"] as const;

interface GithubGovernanceTransforms {
    /** Adjusts each `github.RepositoryEnvironment` (staging and production). */
    readonly environment?: Transform<github.RepositoryEnvironmentArgs>;
    /** Adjusts each `github.ActionsSecret`. */
    readonly actionsSecret?: Transform<github.ActionsSecretArgs>;
    /** Adjusts each `github.IssueLabel`. */
    readonly issueLabel?: Transform<github.IssueLabelArgs>;
}

export interface GithubGovernanceArgs {
    /** The repository that holds the fleet, "owner/name". */
    readonly repository: string;
    /** Who approves a production deploy: GitHub user ids and team ids (at least one). */
    readonly productionReviewers: { readonly users?: readonly number[]; readonly teams?: readonly number[] };
    /** Minutes a production deploy waits after approval; default 5. */
    readonly productionWaitMinutes?: number;
    /** The branch production deploys from; default "main". */
    readonly productionBranch?: string;
    /** Actions secrets the workflows read, by name (PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE, …); each stays a Pulumi secret. Default none. */
    readonly actionsSecrets?: Readonly<Record<string, pulumi.Input<string>>>;
    /** Actions variables, by name; plain values. Default none. */
    readonly actionsVariables?: Readonly<Record<string, pulumi.Input<string>>>;
    /** The GitHub provider; default one for the repository's owner (token from `github:token` or GITHUB_TOKEN). */
    readonly provider?: pulumi.ProviderResource;
    /** Hooks to adjust child resources. */
    readonly transform?: GithubGovernanceTransforms;
}

/** Checks args up front, so a bad call registers nothing. */
function validateGithubGovernanceArgs(name: string, args: GithubGovernanceArgs): void {
    if (!GITHUB_REPOSITORY_RE.test(args.repository)) {
        throw new Error(`GithubGovernance "${name}": repository must be "owner/name", got ${JSON.stringify(args.repository)}`);
    }
    const reviewers = productionReviewersProblem(args.productionReviewers);
    if (reviewers) throw new Error(`GithubGovernance "${name}": productionReviewers: ${reviewers}`);
    const wait = args.productionWaitMinutes ?? 5;
    if (!Number.isInteger(wait) || wait < 0 || wait > 43_200) throw new Error(`GithubGovernance "${name}": productionWaitMinutes must be a whole number from 0 to 43200, got ${wait}`);
    for (const key of [...Object.keys(args.actionsSecrets ?? {}), ...Object.keys(args.actionsVariables ?? {})]) {
        if (!ACTIONS_NAME_RE.test(key)) throw new Error(`GithubGovernance "${name}": ${JSON.stringify(key)} is not a name GitHub accepts for a secret or variable (upper case, digits, _; not GITHUB_)`);
    }
}

/**
 * The GitHub side of the fleet, as code: the staging and production
 * environments the deploy workflow runs in (production behind reviewers, a
 * wait timer and a branch policy), the Actions secrets and variables the
 * workflows read, and the labels the fleet's tools set.
 */
export class GithubGovernance extends pulumi.ComponentResource {
    /** Environment names, as the deploy workflow uses them. */
    public readonly environments: pulumi.Output<string[]>;

    constructor(name: string, args: GithubGovernanceArgs, opts?: pulumi.ComponentResourceOptions) {
        validateGithubGovernanceArgs(name, args);
        super(COMPONENT_TYPES.githubGovernance, name, {}, opts);
        const [owner, repository] = args.repository.split("/");
        const child = { parent: this, provider: args.provider ?? githubProviderFor(name, owner, { parent: this }) };

        const environments = DEPLOY_ENVIRONMENTS.map((environment) => {
            const production = environment === "production";
            const resourceName = `${name}-env-${environment}`;
            const [envArgs, envOpts] = applyTransform<github.RepositoryEnvironmentArgs>(args.transform?.environment, resourceName, {
                repository,
                environment,
                ...(production ? {
                    waitTimer: args.productionWaitMinutes ?? 5,
                    reviewers: [{ users: [...(args.productionReviewers.users ?? [])], teams: [...(args.productionReviewers.teams ?? [])] }],
                    preventSelfReview: true,
                    canAdminsBypass: false,
                    // Only the branches the policy below names may deploy to production.
                    deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
                } : {}),
            }, child);
            const created = new github.RepositoryEnvironment(resourceName, envArgs, envOpts);
            if (production) {
                new github.RepositoryEnvironmentDeploymentPolicy(`${name}-env-production-branch`, {
                    repository, environment, branchPattern: args.productionBranch ?? "main",
                }, { ...child, dependsOn: [created] });
            }
            return created.environment;
        });

        for (const [secretName, value] of Object.entries(args.actionsSecrets ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
            const resourceName = `${name}-secret-${secretName.toLowerCase().replace(/_/g, "-")}`;
            const [secretArgs, secretOpts] = applyTransform<github.ActionsSecretArgs>(args.transform?.actionsSecret, resourceName, {
                repository, secretName, value: pulumi.secret(value),
            }, child);
            new github.ActionsSecret(resourceName, secretArgs, secretOpts);
        }
        for (const [variableName, value] of Object.entries(args.actionsVariables ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
            new github.ActionsVariable(`${name}-variable-${variableName.toLowerCase().replace(/_/g, "-")}`, { repository, variableName, value }, child);
        }
        for (const label of FLEET_LABELS) {
            const resourceName = `${name}-label-${label.name}`;
            const [labelArgs, labelOpts] = applyTransform<github.IssueLabelArgs>(args.transform?.issueLabel, resourceName, { repository, ...label }, child);
            new github.IssueLabel(resourceName, labelArgs, labelOpts);
        }

        this.environments = pulumi.all(environments);
        this.registerOutputs({ environments: this.environments });
    }
}
