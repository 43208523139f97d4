/**
 * `fleet comment`: one report per stack from `pulumi preview --event-log`
 * files; printed, written to a file, and with --post put on the pull request.
 *
 * Exit codes: 0 nothing blocks, 1 a mandatory violation (or a failed
 * preview), 2 bad input (an unreadable log, two logs of one stack, --post
 * outside a pull_request run), 3 GitHub refused the post.
 */
import { promises as fs } from "fs";
import { readEventLog } from "./events";
import { githubClient, pullRequestFromEnv, syncLabels, upsertComment } from "../github";
import { labelsFor } from "./labels";
import { StackPreview, previewOf } from "./preview";
import { redactCredentials } from "./redact";
import { commentMarker, renderFullReport, renderReport } from "./render";
import { UserError } from "../../../config/errors";
import { EXIT, Output } from "../../output";


export interface CommentOptions {
    /** Event log files, one per stack. */
    readonly events: readonly string[];
    /** Writes the report(s) here instead of stdout. */
    readonly out?: string;
    /** Posts each stack's comment to the pull request of this GitHub Actions run. */
    readonly post?: boolean;
}


/** Where the job summary lives, when the run says. */
function jobSummaryLink(env: NodeJS.ProcessEnv): string | undefined {
    const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = env;
    return server && repo && run ? `[the job summary](${server}/${repo}/actions/runs/${run})` : undefined;
}

async function previews(files: readonly string[]): Promise<StackPreview[]> {
    const found: StackPreview[] = [];
    for (const file of files) {
        const preview = await redactCredentials(previewOf(await readEventLog(file), file));
        const twin = found.find((p) => p.stack === preview.stack && p.project === preview.project);
        if (twin) throw new UserError(`${file}: a second event log for stack ${preview.stack}; give one log per stack`);
        found.push(preview);
    }
    return found;
}

function messageOf(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}

export async function runComment(options: CommentOptions, output: Output, env: NodeJS.ProcessEnv = process.env): Promise<number> {
    let stacks: StackPreview[];
    try {
        stacks = await previews(options.events);
    } catch (error) {
        output.err(`fleet comment: ${messageOf(error)}`);
        return EXIT.invalid;
    }
    const fullReport = jobSummaryLink(env);
    const reports = stacks.map((preview) => {
        const labels = labelsFor(preview);
        return { preview, labels, body: renderReport(preview, { labels, fullReport }), full: renderFullReport(preview, { labels }) };
    });
    const text = reports.map((r) => r.body).join("\n---\n\n");
    if (options.out) await fs.writeFile(options.out, text);
    else output.out(text.trimEnd());

    if (options.post) {
        try {
            const token = env.GITHUB_TOKEN;
            if (!token) throw new UserError("--post: GITHUB_TOKEN is not set; pass it from secrets.GITHUB_TOKEN with pull-requests: write");
            const pr = await pullRequestFromEnv(env);
            const client = githubClient({ token, baseUrl: env.GITHUB_API_URL, log: (m) => output.err(`fleet comment: ${m}`) });
            for (const { preview, body } of reports) {
                const posted = await upsertComment(client, pr, commentMarker(preview.project, preview.stack), body);
                output.err(`fleet comment: ${posted.action} the ${preview.stack} comment on ${pr.owner}/${pr.repo}#${pr.number}`);
            }
            const labels = await syncLabels(client, pr);
            if (labels.added.length + labels.removed.length > 0) {
                output.err(`fleet comment: labels${labels.added.length ? ` +${labels.added.join(" +")}` : ""}${labels.removed.length ? ` -${labels.removed.join(" -")}` : ""}`);
            }
        } catch (error) {
            if (error instanceof UserError) {
                output.err(`fleet comment: ${error.message}`);
                return EXIT.invalid;
            }
            const status = (error as { status?: number }).status;
            output.err(`fleet comment: GitHub refused the post${status ? ` (HTTP ${status})` : ""}: ${messageOf(error)}`);
            return EXIT.internal;
        }
        if (env.GITHUB_STEP_SUMMARY) await fs.appendFile(env.GITHUB_STEP_SUMMARY, reports.map((r) => r.full).join("\n---\n\n"));
    }
    return stacks.some((s) => s.blocked || s.errors.length > 0) ? EXIT.failed : EXIT.ok;
}
