/**
 * `fleet comment --post` against a local HTTP server that answers the GitHub
 * REST calls the poster makes, as GitHub does: paginated comment lists with
 * Link headers, comment create and update, issue labels, and a secondary
 * rate-limit refusal. The test asserts the requests, not only the outcome.
 */
import { promises as fs } from "fs";
import * as os from "os";
import * as path from "path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { commentMarker } from "../../cli/services/comment";
import { comment, eventLog } from "./support";
import { GitHubStub, Send, StubRequest } from "../support/github-stub";

const TOKEN = "ghs_SEEDEDtoken0123456789abcdefABCDEF";
const OWNER = "acme";
const REPO = "agent-fleet";
const PR = 42;

interface FakeComment {
    id: number;
    body: string;
}

class FakeGitHub extends GitHubStub {
    comments: FakeComment[] = [];
    labels: string[] = [];
    /** Refuse the next write this many times with a secondary rate limit. */
    secondaryLimits = 0;
    private nextId = 1000;

    protected route({ method, url, text }: StubRequest, send: Send): void {
        const issue = `/repos/${OWNER}/${REPO}/issues/${PR}`;
        if (method !== "GET" && this.secondaryLimits > 0) {
            this.secondaryLimits--;
            return send(403, { message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again." }, { "retry-after": "1" });
        }
        if (method === "GET" && url.pathname === `${issue}/comments`) {
            // Two per page, whatever per_page asks, so the poster must follow the Link header.
            const page = Number(url.searchParams.get("page") ?? "1");
            const pages = Math.max(1, Math.ceil(this.comments.length / 2));
            const link: Record<string, string> = page < pages ? { link: `<${url.origin}${url.pathname}?per_page=100&page=${page + 1}>; rel="next"` } : {};
            return send(200, this.comments.slice((page - 1) * 2, page * 2), link);
        }
        if (method === "POST" && url.pathname === `${issue}/comments`) {
            const created = { id: this.nextId++, body: (JSON.parse(text) as { body: string }).body };
            this.comments.push(created);
            return send(201, created);
        }
        const update = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(url.pathname);
        if (method === "PATCH" && update) {
            const found = this.comments.find((c) => c.id === Number(update[1]));
            if (!found) return send(404, { message: "Not Found" });
            found.body = (JSON.parse(text) as { body: string }).body;
            return send(200, found);
        }
        if (method === "GET" && url.pathname === `${issue}/labels`) return send(200, this.labels.map((name) => ({ name })));
        if (method === "POST" && url.pathname === `${issue}/labels`) {
            this.labels = [...new Set([...this.labels, ...(JSON.parse(text) as { labels: string[] }).labels])];
            return send(200, this.labels.map((name) => ({ name })));
        }
        const removal = new RegExp(`^${issue}/labels/(.+)$`).exec(url.pathname);
        if (method === "DELETE" && removal) {
            const name = decodeURIComponent(removal[1]);
            if (!this.labels.includes(name)) return send(404, { message: "Label does not exist" });
            this.labels = this.labels.filter((l) => l !== name);
            return send(200, this.labels.map((l) => ({ name: l })));
        }
    }
}

let github: FakeGitHub;
let env: NodeJS.ProcessEnv;
let summary: string;

beforeEach(async () => {
    github = new FakeGitHub();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "fleet-post-"));
    const event = path.join(dir, "event.json");
    summary = path.join(dir, "summary.md");
    await fs.writeFile(event, JSON.stringify({ pull_request: { number: PR }, repository: { name: REPO, owner: { login: OWNER } } }));
    env = {
        GITHUB_TOKEN: TOKEN, GITHUB_EVENT_PATH: event, GITHUB_REPOSITORY: `${OWNER}/${REPO}`, GITHUB_API_URL: await github.start(),
        GITHUB_STEP_SUMMARY: summary, GITHUB_SERVER_URL: "https://github.example", GITHUB_RUN_ID: "777",
    };
});

afterEach(() => github.stop());

const writes = () => github.seen.filter((s) => s.method !== "GET").map((s) => `${s.method} ${s.path}`);

describe("fleet comment --post", () => {
    it("creates one comment per stack, sets the labels, writes the job summary, and never prints the token", async () => {
        github.comments = [{ id: 1, body: "an unrelated review comment" }, { id: 2, body: "another" }, { id: 3, body: "a third, on page two" }];
        github.labels = ["needs-review", "tier-1"];
        const run = await comment({ events: [eventLog("pr-dev"), eventLog("pr-staging")], post: true }, env);
        expect(run.code).toBe(0);
        expect(writes()).toEqual([
            `POST /repos/${OWNER}/${REPO}/issues/${PR}/comments`,
            `POST /repos/${OWNER}/${REPO}/issues/${PR}/comments`,
            `POST /repos/${OWNER}/${REPO}/issues/${PR}/labels`,
        ]);
        // Every page of comments was read before deciding to create.
        expect(github.seen.filter((s) => s.method === "GET" && s.path.includes("/comments")).map((s) => s.path)).toContain(`/repos/${OWNER}/${REPO}/issues/${PR}/comments?per_page=100&page=2`);
        expect(github.seen.every((s) => s.auth === `token ${TOKEN}`)).toBe(true);
        expect(github.comments.map((c) => c.body.split("\n")[0])).toEqual(["an unrelated review comment", "another", "a third, on page two",
            commentMarker("agent-fleet", "dev"), commentMarker("agent-fleet", "staging")]);
        expect(github.labels.sort()).toEqual(["agent-changes", "needs-review", "tier-1", "tier-2", "tier-3"]);
        const written = await fs.readFile(summary, "utf8");
        expect(written).toContain(commentMarker("agent-fleet", "staging"));
        expect(written).toContain("<details>");
        expect(`${run.stdout}${run.stderr}${written}${JSON.stringify(github.comments)}`).not.toContain(TOKEN);
        expect(run.stderr).toContain(`created the dev comment on ${OWNER}/${REPO}#${PR}`);
    });

    it("updates the stack's own comment, found on a later page by its marker, and leaves the other stack's alone", async () => {
        github.comments = [
            { id: 1, body: "chatter" }, { id: 2, body: "more chatter" },
            { id: 3, body: `${commentMarker("agent-fleet", "staging")}\n<!-- agent-fleet:labels agent-changes,tier-3 -->\nold staging report` },
            { id: 4, body: `${commentMarker("agent-fleet", "dev")}\nold dev report` },
        ];
        github.labels = ["agent-changes", "tier-3", "requires-manual-deploy"];
        const run = await comment({ events: [eventLog("one-agent-change")], post: true }, env);
        expect(run.code).toBe(0);
        expect(writes()).toEqual([
            `PATCH /repos/${OWNER}/${REPO}/issues/comments/4`,
            `POST /repos/${OWNER}/${REPO}/issues/${PR}/labels`,
            `DELETE /repos/${OWNER}/${REPO}/issues/${PR}/labels/requires-manual-deploy`,
        ]);
        expect(github.comments.find((c) => c.id === 4)!.body).toContain("env `E2E_REVISION`: added `2`");
        expect(github.comments.find((c) => c.id === 3)!.body).toContain("old staging report");
        // tier-3 stays: the staging comment still asks for it; dev adds tier-2.
        expect(github.labels.sort()).toEqual(["agent-changes", "tier-2", "tier-3"]);
    });

    it("waits out a secondary rate limit and retries the write", async () => {
        github.secondaryLimits = 1;
        const run = await comment({ events: [eventLog("no-change")], post: true }, env);
        expect(run.code).toBe(0);
        expect(writes()).toEqual([`POST /repos/${OWNER}/${REPO}/issues/${PR}/comments`, `POST /repos/${OWNER}/${REPO}/issues/${PR}/comments`]);
        expect(github.comments).toHaveLength(1);
        expect(run.stderr).toContain("secondary rate limit");
    }, 30_000);

    it("exits 1 after posting when a mandatory violation blocks", async () => {
        const run = await comment({ events: [eventLog("policy-violation")], post: true }, env);
        expect(run.code).toBe(1);
        expect(github.comments).toHaveLength(1);
    });

    it("outside a pull_request run exits 2 and names what is missing, before any request", async () => {
        const missingToken = await comment({ events: [eventLog("pr-dev")], post: true }, { ...env, GITHUB_TOKEN: undefined });
        expect(missingToken).toMatchObject({ code: 2, stderr: expect.stringContaining("GITHUB_TOKEN is not set") });
        await fs.writeFile(env.GITHUB_EVENT_PATH!, JSON.stringify({ push: {} }));
        const noPr = await comment({ events: [eventLog("pr-dev")], post: true }, env);
        expect(noPr).toMatchObject({ code: 2, stderr: expect.stringContaining("expected a pull_request event with pull_request.number") });
        expect(github.seen).toEqual([]);
    });

    it("a refusal from GitHub exits 3 with the status, and no token", async () => {
        const run = await comment({ events: [eventLog("pr-dev")], post: true }, { ...env, GITHUB_REPOSITORY: "acme/elsewhere" });
        expect(run.code).toBe(3);
        expect(run.stderr).toContain("GitHub refused the post (HTTP 404)");
        expect(run.stderr).not.toContain(TOKEN);
    });
});
