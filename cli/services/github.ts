/**
 * Posts a stack's report to its pull request: one sticky comment per project
 * and stack, found by a hidden marker, created or updated; then the PR's
 * managed labels set from what every stack's comment asks for, so matrix jobs
 * posting different stacks never undo each other. Octokit with the
 * throttling and retry plugins: writes are spaced, and rate-limit answers
 * (primary and secondary) are waited out and retried.
 */
import { promises as fs } from "fs";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import { UserError } from "../../config/errors";
import { MANAGED_LABELS } from "./comment/labels";
import { labelsFromComment } from "./comment/render";

const FleetOctokit = Octokit.plugin(throttling, retry);
export type GitHubClient = InstanceType<typeof FleetOctokit>;

export interface PullRequest {
    readonly owner: string;
    readonly repo: string;
    readonly number: number;
}

/** How often a rate-limited request is retried before the post fails. */
const RATE_LIMIT_RETRIES = 3;

export interface ClientOptions {
    readonly token: string;
    /** The REST API root; GitHub Actions sets GITHUB_API_URL (GitHub Enterprise differs). */
    readonly baseUrl?: string;
    /** Milliseconds per second of `retry-after`; tests shorten the wait. Default 1000. */
    readonly retryAfterUnitMs?: number;
    /** Where the client says that it waits out a rate limit. */
    readonly log?: (message: string) => void;
}

export function githubClient(options: ClientOptions): GitHubClient {
    const onLimit = (kind: string) => (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
        options.log?.(`GitHub ${kind} on ${request.method} ${request.url}; retrying after ${retryAfter}s (attempt ${retryCount + 1} of ${RATE_LIMIT_RETRIES})`);
        return retryCount < RATE_LIMIT_RETRIES;
    };
    return new FleetOctokit({
        auth: options.token,
        ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
        userAgent: "agent-fleet-comment",
        throttle: {
            onRateLimit: onLimit("rate limit"),
            onSecondaryRateLimit: onLimit("secondary rate limit"),
            retryAfterBaseValue: options.retryAfterUnitMs ?? 1000,
        },
        // Octokit logs request failures to the console itself; the command reports them once, its own way.
        log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    });
}

/** The pull request of a `pull_request` (or `pull_request_target`) workflow run, from its event payload. */
export async function pullRequestFromEnv(env: NodeJS.ProcessEnv): Promise<PullRequest> {
    const eventPath = env.GITHUB_EVENT_PATH;
    if (!eventPath) throw new UserError("--post: GITHUB_EVENT_PATH is not set; run it in a GitHub Actions pull_request workflow");
    let payload: { pull_request?: { number?: unknown }; repository?: { name?: unknown; owner?: { login?: unknown } } };
    try {
        payload = JSON.parse(await fs.readFile(eventPath, "utf8"));
    } catch {
        throw new UserError(`--post: GITHUB_EVENT_PATH (${eventPath}): expected the workflow's JSON event payload`);
    }
    const number = payload.pull_request?.number;
    if (typeof number !== "number") throw new UserError(`--post: GITHUB_EVENT_PATH (${eventPath}): expected a pull_request event with pull_request.number`);
    const [owner, repo] = (env.GITHUB_REPOSITORY ?? "").split("/");
    const fromPayload = { owner: payload.repository?.owner?.login, repo: payload.repository?.name };
    const resolved = { owner: owner || fromPayload.owner, repo: repo || fromPayload.repo };
    if (typeof resolved.owner !== "string" || typeof resolved.repo !== "string") {
        throw new UserError("--post: expected GITHUB_REPOSITORY as owner/name, or a repository in the event payload");
    }
    return { owner: resolved.owner, repo: resolved.repo, number };
}

export interface PostResult {
    readonly action: "created" | "updated";
    readonly commentId: number;
}

async function comments(client: GitHubClient, pr: PullRequest) {
    return client.paginate(client.rest.issues.listComments, { owner: pr.owner, repo: pr.repo, issue_number: pr.number, per_page: 100 });
}

/** Creates the stack's comment, or updates the one that carries its marker. */
export async function upsertComment(client: GitHubClient, pr: PullRequest, marker: string, body: string): Promise<PostResult> {
    const existing = (await comments(client, pr)).find((c) => c.body?.includes(marker));
    if (existing) {
        await client.rest.issues.updateComment({ owner: pr.owner, repo: pr.repo, comment_id: existing.id, body });
        return { action: "updated", commentId: existing.id };
    }
    const created = await client.rest.issues.createComment({ owner: pr.owner, repo: pr.repo, issue_number: pr.number, body });
    return { action: "created", commentId: created.data.id };
}

export interface LabelChanges {
    readonly added: string[];
    readonly removed: string[];
}

/** Sets the managed labels to the union of what every stack's comment on the PR asks for; leaves other labels alone. */
export async function syncLabels(client: GitHubClient, pr: PullRequest): Promise<LabelChanges> {
    const wanted = new Set((await comments(client, pr)).flatMap((c) => labelsFromComment(c.body ?? "") ?? []).filter((l) => MANAGED_LABELS.includes(l)));
    const current = new Set((await client.paginate(client.rest.issues.listLabelsOnIssue, { owner: pr.owner, repo: pr.repo, issue_number: pr.number, per_page: 100 }))
        .map((l) => l.name));
    const added = [...wanted].filter((l) => !current.has(l)).sort();
    const removed = MANAGED_LABELS.filter((l) => current.has(l) && !wanted.has(l));
    if (added.length > 0) await client.rest.issues.addLabels({ owner: pr.owner, repo: pr.repo, issue_number: pr.number, labels: added });
    for (const name of removed) {
        try {
            await client.rest.issues.removeLabel({ owner: pr.owner, repo: pr.repo, issue_number: pr.number, name });
        } catch (error) {
            // Someone removed it in the meantime: the outcome is the one wanted.
            if ((error as { status?: number }).status !== 404) throw error;
        }
    }
    return { added, removed };
}
