/**
 * The GitHub side of the fleet under mocks: the component's environments,
 * Actions secrets and variables, and labels; the stack config that opts in;
 * and the real program declaring it from a stack file.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FLEET_LABELS, GithubGovernance } from "../../components";
import { FleetConfigError, governanceInStackFiles, loadGithubConfig } from "../../config";
import { COMPONENT_TYPES, GITHUB_LABELS } from "../../contract";
import { MockRun, PROJECT_ROOT, isWireSecret, outputOf, setStackConfig, settle, startMocks } from "../support/pulumi";

const SEEDED = "SEEDED-governance-passphrase-81c";
const SEEDED_TOKEN = "SEEDED-governance-token-2f9";
const ARGS = { repository: "acme/agent-fleet", productionReviewers: { users: [101], teams: [7] } };

let run: MockRun;
beforeEach(async () => {
    run = await startMocks("production");
});
afterEach(settle);

async function declare(extra: Partial<ConstructorParameters<typeof GithubGovernance>[1]> = {}) {
    const governance = new GithubGovernance("github", { ...ARGS, ...extra });
    const environments = await outputOf(governance.environments);
    await settle();
    return { environments, byType: (type: string) => run.byType(`github:index/${type}`) };
}

describe("GithubGovernance", () => {
    it("declares staging, and production behind reviewers, a wait timer and a deployment branch policy for main", async () => {
        const { environments, byType } = await declare({ productionWaitMinutes: 10 });
        expect(environments).toEqual(["staging", "production"]);
        const envs = byType("repositoryEnvironment:RepositoryEnvironment");
        expect(envs.find((e) => e.inputs.environment === "staging")!.inputs).toEqual({ repository: "agent-fleet", environment: "staging" });
        expect(envs.find((e) => e.inputs.environment === "production")!.inputs).toMatchObject({
            repository: "agent-fleet", waitTimer: 10, reviewers: [{ users: [101], teams: [7] }], preventSelfReview: true, canAdminsBypass: false,
            deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
        });
        const [policy] = byType("repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy");
        expect(policy.inputs).toEqual({ repository: "agent-fleet", environment: "production", branchPattern: "main" });
    });

    it("keeps each Actions secret a Pulumi secret, and sets variables in plain", async () => {
        const { byType } = await declare({ actionsSecrets: { PULUMI_CONFIG_PASSPHRASE: pulumi.output(SEEDED) }, actionsVariables: { FLEET_STACKS: "staging,production" } });
        const [secret] = byType("actionsSecret:ActionsSecret");
        expect(secret.name).toBe("github-secret-pulumi-config-passphrase");
        expect(secret.inputs).toMatchObject({ repository: "agent-fleet", secretName: "PULUMI_CONFIG_PASSPHRASE", value: SEEDED });
        expect(isWireSecret(secret.wireInputs.value)).toBe(true);
        const [variable] = byType("actionsVariable:ActionsVariable");
        expect(variable.inputs).toEqual({ repository: "agent-fleet", variableName: "FLEET_STACKS", value: "staging,production" });
    });

    it("works through a provider for the repository's owner, which takes github:token (kept secret) and github:baseUrl from stack config", async () => {
        // Explicit providers do not read stack config themselves; the component passes the default provider's keys on.
        pulumi.runtime.setAllConfig({ "github:token": SEEDED_TOKEN, "github:baseUrl": "https://ghe.acme.dev/" }, ["github:token"]);
        await declare();
        const providers = run.resources.filter((r) => r.type === "pulumi:providers:github");
        expect(providers.map((p) => [p.name, p.inputs.owner, p.inputs.token, p.inputs.baseUrl])).toEqual([["github-github-acme", "acme", SEEDED_TOKEN, "https://ghe.acme.dev/"]]);
        expect(isWireSecret(providers[0].wireInputs.token)).toBe(true);
        expect(providers[0].parent).toBe(run.resources.find((r) => r.type === COMPONENT_TYPES.githubGovernance)?.urn);
        pulumi.runtime.setAllConfig({}, []);
    });

    it("creates every label the fleet's tools set, under the names they use", async () => {
        const { byType } = await declare();
        const labels = byType("issueLabel:IssueLabel").map((l) => l.inputs.name);
        expect(labels).toEqual(FLEET_LABELS.map((l) => l.name));
        expect(labels).toEqual(expect.arrayContaining([GITHUB_LABELS.agentChanges, GITHUB_LABELS.manualDeploy, GITHUB_LABELS.deployment, "tier-1", "tier-2", "tier-3"]));
    });

    it.each([
        [{ repository: "agent-fleet" }, 'repository must be "owner/name", got "agent-fleet"'],
        [{ productionReviewers: {} }, "productionReviewers: expected at least one user or team id"],
        [{ productionReviewers: { users: [1, 2, 3, 4], teams: [5, 6, 7] } }, "productionReviewers: expected at most 6 users and teams (GitHub's limit for an environment's reviewers), got 7"],
        [{ actionsSecrets: { GITHUB_TOKEN: "x" } }, '"GITHUB_TOKEN" is not a name GitHub accepts'],
    ])("refuses bad args before registering anything (%o)", (extra, message) => {
        expect(() => new GithubGovernance("github", { ...ARGS, ...extra })).toThrow(message);
        expect(run.resources).toHaveLength(0);
    });
});

describe("the github stack config", () => {
    const secret = () => "secret" as const;

    it("is opt-in: no `github` key, no governance", () => {
        expect(loadGithubConfig("staging", undefined, secret)).toBeUndefined();
    });

    it("lists every problem with its file and field, and never a secret value", () => {
        const bad = () => loadGithubConfig("production", {
            repository: "acme/agent-fleet", productionReviewers: { users: [] }, actionsSecrets: { PULUMI_CONFIG_PASSPHRASE: "configPassphrase" },
        }, (key) => (key === "configPassphrase" ? "plain" : "secret"));
        expect(bad).toThrow(FleetConfigError);
        expect(bad).toThrow("stacks/Pulumi.production.yaml: github.productionReviewers: expected at least one user or team id: production deploys must be approved, got none");
        expect(bad).toThrow("stacks/Pulumi.production.yaml: github.actionsSecrets.PULUMI_CONFIG_PASSPHRASE: expected config key \"configPassphrase\" to be a secret");
        expect(() => loadGithubConfig("production", { ...ARGS, reviewers: [1] }, secret)).toThrow("stacks/Pulumi.production.yaml: github.reviewers: expected a known field");
    });

    it("refuses a repository another stack file also manages, naming both files", () => {
        const others = [{ file: "stacks/Pulumi.staging.yaml", repository: "Acme/Agent-Fleet" }, { file: "stacks/Pulumi.production.yaml", repository: "acme/agent-fleet" }];
        expect(() => loadGithubConfig("production", ARGS, secret, others)).toThrow(
            "stacks/Pulumi.production.yaml: github.repository: expected one stack to manage acme/agent-fleet's GitHub side, but stacks/Pulumi.staging.yaml does too; keep the `github` config in one stack file",
        );
        // Its own file, and another repository, are no rivals.
        expect(loadGithubConfig("production", ARGS, secret, [others[1], { file: "stacks/Pulumi.staging.yaml", repository: "acme/other" }])?.repository).toBe("acme/agent-fleet");
    });

    it("finds each stack file's opt-in under stacks/", async () => {
        const root = await fs.mkdtemp(path.join(os.tmpdir(), "governance-"));
        await fs.mkdir(path.join(root, "stacks"));
        await fs.writeFile(path.join(root, "stacks", "Pulumi.production.yaml"), "config:\n  agent-fleet:github:\n    repository: acme/agent-fleet\n");
        await fs.writeFile(path.join(root, "stacks", "Pulumi.dev.yaml"), "config:\n  agent-fleet:fleet: {}\n");
        await fs.writeFile(path.join(root, "stacks", "policy.dev.json"), "{}");
        expect(governanceInStackFiles(root, "agent-fleet")).toEqual([{ file: "stacks/Pulumi.production.yaml", repository: "acme/agent-fleet" }]);
        // The committed stack files: at most one opts in.
        expect(governanceInStackFiles(PROJECT_ROOT, "agent-fleet").length).toBeLessThanOrEqual(1);
        await fs.rm(root, { recursive: true });
    });

    it("the program declares the governance from a stack file, with the secret read from secret config", async () => {
        setStackConfig("staging", {
            secrets: { configPassphrase: SEEDED, ...seededFleetSecrets },
            github: { repository: "acme/agent-fleet", productionReviewers: { teams: [7] }, actionsSecrets: { PULUMI_CONFIG_PASSPHRASE: "configPassphrase" } },
        });
        run = await startMocks("staging");
        vi.resetModules();
        await import("../../index");
        await pulumi.runtime.disconnect();
        await settle();
        const [secretResource] = run.byType("github:index/actionsSecret:ActionsSecret");
        expect(secretResource.inputs.value).toBe(SEEDED);
        expect(isWireSecret(secretResource.wireInputs.value)).toBe(true);
        expect(run.byType("github:index/repositoryEnvironment:RepositoryEnvironment")).toHaveLength(2);
    });
});

/** Staging's own secret keys, so that its fleet loads. */
const seededFleetSecrets: Record<string, string> = Object.fromEntries([
    "calendarToken", "crmToken", "openaiApiKey", "searchApiKey", "smtpPassword", "stagingSlackWebhookUrl", "stagingWebhookSigningSecret", "stagingWebhookUrl",
].map((key) => [key, `seeded-${key}`]));
