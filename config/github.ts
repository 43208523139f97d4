/**
 * `agent-fleet:github` in a stack file: the opt-in GitHub side of the fleet
 * (components/github-governance). Validated like the fleet config: every
 * problem at once, each with its file and field; Actions secrets name secret
 * stack config keys, never values.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { ACTIONS_NAME_RE, GITHUB_REPOSITORY_RE, githubRepositoryKey, stackFileName } from "../contract";
import { ConfigProblem, FleetConfigError } from "./errors";
import { SecretKeyState, collect, secretKeyProblem } from "./load";
import { configKey, expected } from "./schema";
import { listStacks, readStackFile } from "./stack";

const ids = (what: string) => z.array(z.number(expected(what)).int(expected(what)).positive(expected(what)), expected(`a list of ${what}s`));

export const githubConfigSchema = z.strictObject({
    /** The repository that holds the fleet. */
    repository: z.string(expected('a repository like "acme/agent-fleet"')).regex(GITHUB_REPOSITORY_RE, expected('a repository like "acme/agent-fleet"')),
    /** Who approves production deploys: GitHub user and team ids. */
    productionReviewers: z.strictObject({ users: ids("GitHub user id").optional(), teams: ids("GitHub team id").optional() }, expected("an object with users and/or teams")),
    productionWaitMinutes: z.number(expected("whole minutes from 0 to 43200")).int(expected("whole minutes from 0 to 43200")).min(0, expected("whole minutes from 0 to 43200")).max(43_200, expected("whole minutes from 0 to 43200")).optional(),
    productionBranch: z.string(expected('a branch like "main"')).min(1, expected('a branch like "main"')).optional(),
    /** Actions secret name → secret stack config key. */
    actionsSecrets: z.record(
        z.string().regex(ACTIONS_NAME_RE, expected("an Actions secret name like PULUMI_CONFIG_PASSPHRASE")),
        configKey("configPassphrase"),
        expected("a map of Actions secret names to secret config keys"),
    ).optional(),
    /** Actions variable name → value. */
    actionsVariables: z.record(
        z.string().regex(ACTIONS_NAME_RE, expected("an Actions variable name like FLEET_STACKS")),
        z.string(expected("a string value")),
        expected("a map of Actions variable names to values"),
    ).optional(),
}, expected("a github object with a repository and productionReviewers"));

export type GithubConfig = z.infer<typeof githubConfigSchema>;

/** GitHub's limit on an environment's required reviewers (users and teams together). */
const MAX_PRODUCTION_REVIEWERS = 6;

/**
 * What is wrong with a production environment's reviewers, if anything: the
 * one home of this rule, which the loader reports with its file and field and
 * the GithubGovernance component applies to args given in code.
 */
export function productionReviewersProblem(reviewers: { readonly users?: readonly unknown[]; readonly teams?: readonly unknown[] }): string | undefined {
    const count = (reviewers.users?.length ?? 0) + (reviewers.teams?.length ?? 0);
    if (count === 0) return "expected at least one user or team id: production deploys must be approved, got none";
    if (count > MAX_PRODUCTION_REVIEWERS) return `expected at most ${MAX_PRODUCTION_REVIEWERS} users and teams (GitHub's limit for an environment's reviewers), got ${count}`;
    return undefined;
}

/** Another stack file's governance opt-in: which repository it manages. */
export interface OtherGovernance {
    readonly file: string;
    readonly repository: string;
}

/**
 * The stack's `github` config, or undefined when the stack does not opt in.
 * Throws FleetConfigError listing every problem, secret keys included, and
 * refuses a repository that another stack file (`others`) also manages: two
 * stacks would overwrite each other's environments, secrets and labels.
 */
/**
 * The secret config keys a stack file's GitHub side names (its Actions secrets), read from the file as
 * written: what `fleet check` gives placeholders, as it does the fleet's own secret keys, so that a check
 * needs no secret at all.
 */
export function governanceSecretKeys(stackConfig: Readonly<Record<string, unknown>>, project: string): string[] {
    const github = stackConfig[`${project}:github`];
    const secrets = github !== null && typeof github === "object" ? (github as { actionsSecrets?: unknown }).actionsSecrets : undefined;
    if (secrets === null || typeof secrets !== "object") return [];
    return Object.values(secrets as Record<string, unknown>).filter((key): key is string => typeof key === "string");
}

export function loadGithubConfig(
    stack: string,
    value: unknown,
    secretKeyState: (key: string) => SecretKeyState,
    others: readonly OtherGovernance[] = [],
): GithubConfig | undefined {
    if (value === undefined) return undefined;
    const file = stackFileName(stack);
    const problems: ConfigProblem[] = [];
    const config = collect(githubConfigSchema, value, file, "github", problems);
    for (const [name, key] of Object.entries(config?.actionsSecrets ?? {})) {
        const problem = secretKeyProblem(stack, key, secretKeyState(key));
        if (problem) problems.push({ file, path: `github.actionsSecrets.${name}`, message: problem });
    }
    const reviewers = config && productionReviewersProblem(config.productionReviewers);
    if (reviewers) problems.push({ file, path: "github.productionReviewers", message: reviewers });
    const rivals = others.filter((o) => config && o.file !== file && githubRepositoryKey(o.repository) === githubRepositoryKey(config.repository)).map((o) => o.file);
    if (rivals.length > 0) {
        problems.push({ file, path: "github.repository", message: `expected one stack to manage ${config!.repository}'s GitHub side, but ${rivals.join(" and ")} ${rivals.length > 1 ? "do" : "does"} too; keep the \`github\` config in one stack file` });
    }
    if (problems.length > 0) throw new FleetConfigError(stack, problems);
    return config;
}

/** Every stack file's governance opt-in (`<project>:github`), read from stacks/ under the project root. */
export function governanceInStackFiles(projectRoot: string, project: string): OtherGovernance[] {
    return listStacks(projectRoot).flatMap((stack) => {
        const { display, config } = readStackFile({ dir: projectRoot, name: project }, stack);
        const repository = (config[`${project}:github`] as { repository?: unknown } | undefined)?.repository;
        return typeof repository === "string" ? [{ file: display, repository }] : [];
    });
}

/** The running stack's `github` config (`agent-fleet:github`), or undefined. */
export function stackGithubConfig(secretKeyState: (key: string) => SecretKeyState, projectRoot: string): GithubConfig | undefined {
    return loadGithubConfig(pulumi.getStack(), new pulumi.Config().getObject<unknown>("github"), secretKeyState, governanceInStackFiles(projectRoot, pulumi.getProject()));
}
