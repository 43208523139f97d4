/**
 * The one GitHub issue that says the fleet has a deployment gap: opened
 * (labelled `deployment`) when `fleet status` finds a problem, its body kept
 * to the latest dashboard while the gap lasts, and closed with a comment once
 * every agent is deployed. Found again by a hidden marker, so a renamed title
 * or a second `deployment` issue of someone else's never confuses it.
 */
import { GitHubClient, githubClient } from "./github";
import { LABEL } from "./comment/labels";
import type { StatusJson } from "./status-report";
import { UserError } from "../../config/errors";

export const DEPLOYMENT_ISSUE_MARKER = "<!-- agent-fleet:deployment-gap -->";

export interface Repository {
    readonly owner: string;
    readonly repo: string;
}

type IssueAction = "opened" | "updated" | "closed" | "none";

export interface IssueOutcome {
    readonly action: IssueAction;
    readonly number?: number;
}

/** The repository and client of a GitHub Actions run, from its environment. */
export function issueClientFromEnv(env: NodeJS.ProcessEnv): { client: GitHubClient; repository: Repository } {
    const token = env.GITHUB_TOKEN;
    if (!token) throw new UserError("--issue: GITHUB_TOKEN is not set; give the workflow `issues: write` and pass secrets.GITHUB_TOKEN");
    const [owner, repo] = (env.GITHUB_REPOSITORY ?? "").split("/");
    if (!owner || !repo) throw new UserError("--issue: expected GITHUB_REPOSITORY as owner/name");
    return { client: githubClient({ token, baseUrl: env.GITHUB_API_URL }), repository: { owner, repo } };
}

function title(status: StatusJson): string {
    return `Deployment gap: ${status.problems.length} problem${status.problems.length === 1 ? "" : "s"} in the fleet`;
}

/** Opens, updates or closes the deployment issue to match the status. */
export async function reconcileDeploymentIssue(client: GitHubClient, repository: Repository, status: StatusJson, markdown: string): Promise<IssueOutcome> {
    const open = (await client.paginate(client.rest.issues.listForRepo, { ...repository, labels: LABEL.deployment, state: "open", per_page: 100 }))
        .find((i) => !i.pull_request && i.body?.includes(DEPLOYMENT_ISSUE_MARKER));
    const body = `${DEPLOYMENT_ISSUE_MARKER}\n${markdown}\n\n_Kept by \`fleet status --issue\` (the monitor workflow); it closes this issue once every agent is deployed._`;
    if (!status.ok) {
        if (open) {
            await client.rest.issues.update({ ...repository, issue_number: open.number, title: title(status), body });
            return { action: "updated", number: open.number };
        }
        const created = await client.rest.issues.create({ ...repository, title: title(status), body, labels: [LABEL.deployment] });
        return { action: "opened", number: created.data.number };
    }
    if (!open) return { action: "none" };
    await client.rest.issues.createComment({ ...repository, issue_number: open.number, body: `Every agent is deployed as of \`${(status.head ?? "").slice(0, 7)}\` (${status.checkedAt}). Closing.` });
    await client.rest.issues.update({ ...repository, issue_number: open.number, state: "closed", state_reason: "completed", body });
    return { action: "closed", number: open.number };
}
