/**
 * `fleet status` through the real bin, against real containers labelled as
 * the program labels them and a temporary git repository whose history says
 * when each agent changed: the deployment gap per agent, staging against
 * production, the markdown dashboard, an unreachable engine, and the one
 * `deployment` issue opened, updated and closed on a local GitHub stand-in.
 */
import * as fs from "fs";
import * as path from "path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { agentSpecHash, catalogSource, loadFleetConfig } from "../../config";
import { LABELS } from "../../contract";
import { DEPLOYMENT_ISSUE_MARKER } from "../../cli/services";
import { copyProject, fleet, removeProjects } from "../cli/project";
import { GitHubStub, Send, StubRequest } from "../support/github-stub";
import { TestContainers, ensureLocalNodeBaseImage, requireDocker, seconds, waitForHealthStatus } from "../support/docker";

const containers = new TestContainers();
/** Stack names of this run's own, so no other test's containers (labelled dev) are ever read. */
const run = Math.random().toString(36).slice(2, 8);
const STAGING = `st-${run}`;
const PRODUCTION = `pr-${run}`;
const HOUR = 3_600_000;
let dir = "";
/** Commit shas by name. */
const commits: Record<string, string> = {};
/** The agents' spec hashes as each named commit declared them, by stack. */
const specHashes: Record<string, Record<string, Record<string, string>>> = {};

function stackFile(environment: string, images: Record<string, string>, extra: Record<string, unknown> = {}): string {
    return stringify({
        config: {
            ...extra,
            "agent-fleet:fleet": {
                environment,
                agents: Object.fromEntries(Object.entries(images).map(([agent, image]) => [agent, { image, rollbackImage: image.replace(/:.*/, ":0.0.1") }])),
            },
        },
    });
}

/** Commits the project's files as they are now, dated `hoursAgo` in the past. */
async function commit(name: string, hoursAgo: number): Promise<void> {
    const date = new Date(Date.now() - hoursAgo * HOUR).toISOString();
    const env = { GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@localhost", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@localhost", GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
    await execa("git", ["add", "-A"], { cwd: dir });
    await execa("git", ["commit", "-q", "--allow-empty", "-m", name], { cwd: dir, env });
    commits[name] = (await execa("git", ["rev-parse", "HEAD"], { cwd: dir })).stdout.trim();
    specHashes[name] = Object.fromEntries([STAGING, PRODUCTION].map((stack) => {
        const file = parse(fs.readFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
        const spec = loadFleetConfig({ stack, stackFile: `stacks/Pulumi.${stack}.yaml`, fleet: file.config["agent-fleet:fleet"], catalog: catalogSource(dir), secretKeyState: () => "secret" });
        return [stack, Object.fromEntries(spec.agents.map((a) => [a.name, agentSpecHash(a)]))];
    }));
}

const write = (stack: string, text: string) => fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), text);

/** A running, healthy container labelled as the program labels an agent's, deployed from the named commit. */
async function deployed(stack: string, agent: string, image: string, commit: string) {
    const base = await ensureLocalNodeBaseImage();
    const c = await containers.run({
        image: base, cmd: ["node", "-e", "setInterval(() => {}, 1 << 30)"],
        healthcheck: { Test: ["CMD", "node", "-e", "0"], Interval: seconds(1), Timeout: seconds(2), Retries: 2, StartPeriod: seconds(0) },
        labels: { [LABELS.stack]: stack, [LABELS.agent]: agent, [LABELS.image]: image, [LABELS.version]: image.split(":")[1], [LABELS.specHash]: specHashes[commit][stack][agent] },
    });
    await waitForHealthStatus(c.container, "healthy");
}

interface Row { stack: string; agent: string; state: string; health: string; runningImage?: string; deployedCommit?: string; mainCommit?: string; lagCommits?: number; problem?: string }
interface Status { ok: boolean; head: string; agents: Row[]; sync: { agent: string; state: string; problem?: string }[]; problems: string[] }

async function status(args: string[] = [], env: Record<string, string> = {}) {
    const result = await fleet(["status", "--stack", STAGING, "--stack", PRODUCTION, "--cwd", dir, ...args], { env });
    return { ...result, json: args.includes("--json") ? (JSON.parse(result.stdout) as Status) : undefined };
}

beforeAll(async () => {
    await requireDocker();
    dir = copyProject();
    await execa("git", ["init", "-q"], { cwd: dir });
    // 5 h ago: both agents' first releases, on both stacks.
    write(STAGING, stackFile("staging", { jarvis: "ghcr.io/acme/jarvis:2.2.4", "outreach-agent": "ghcr.io/acme/outreach-agent:1.0.3" }));
    write(PRODUCTION, stackFile("production", { jarvis: "ghcr.io/acme/jarvis:2.2.4", "outreach-agent": "ghcr.io/acme/outreach-agent:1.0.3" }));
    await commit("first", 5);
    // 3 h ago: jarvis 2.3.0 released to staging, and deployed there.
    write(STAGING, stackFile("staging", { jarvis: "ghcr.io/acme/jarvis:2.3.0", "outreach-agent": "ghcr.io/acme/outreach-agent:1.0.3" }));
    await commit("jarvis-2.3.0", 3);
    // 2 h ago: outreach-agent 1.1.0 released to staging, never deployed.
    write(STAGING, stackFile("staging", { jarvis: "ghcr.io/acme/jarvis:2.3.0", "outreach-agent": "ghcr.io/acme/outreach-agent:1.1.0" }));
    await commit("outreach-1.1.0", 2);
    // Changes to other files move HEAD but not the agents.
    fs.writeFileSync(path.join(dir, "NOTES.md"), "unrelated\n");
    await commit("unrelated", 1.5);
    await Promise.all([
        deployed(STAGING, "jarvis", "ghcr.io/acme/jarvis:2.3.0", "jarvis-2.3.0"),
        deployed(STAGING, "outreach-agent", "ghcr.io/acme/outreach-agent:1.0.3", "first"),
        deployed(PRODUCTION, "jarvis", "ghcr.io/acme/jarvis:2.2.4", "first"),
        // production's outreach-agent: declared, not running.
    ]);
}, 180_000);

afterAll(async () => {
    await containers.removeAll();
    removeProjects();
});

describe("fleet status", () => {
    it("tells current, stale and undeployed agents apart, with the lag in commits and the commits whose specs the labels hash", async () => {
        const { exitCode, json, stderr } = await status(["--json"]);
        expect(exitCode, stderr).toBe(1);
        const row = (stack: string, agent: string) => json?.agents.find((r) => r.stack === stack && r.agent === agent);
        expect(row(STAGING, "jarvis")).toMatchObject({ state: "current", health: "healthy", runningImage: "ghcr.io/acme/jarvis:2.3.0", deployedCommit: commits["jarvis-2.3.0"], mainCommit: commits["jarvis-2.3.0"], lagCommits: 0 });
        // Deployed from "first", whose spec of outreach-agent main kept until 1.1.0 was released two hours ago: the
        // newest commit with the deployed spec is "jarvis-2.3.0" (only jarvis changed there), two commits before HEAD.
        expect(row(STAGING, "outreach-agent")).toMatchObject({ state: "stale", runningImage: "ghcr.io/acme/outreach-agent:1.0.3", deployedCommit: commits["jarvis-2.3.0"], mainCommit: commits["outreach-1.1.0"], lagCommits: 2 });
        expect(row(STAGING, "outreach-agent")?.problem).toBe(
            `outreach-agent (${STAGING}): runs ghcr.io/acme/outreach-agent:1.0.3 as of ${commits["jarvis-2.3.0"].slice(0, 7)}, 2 commits behind main; main has ghcr.io/acme/outreach-agent:1.1.0 as of ${commits["outreach-1.1.0"].slice(0, 7)}, changed on main 2h ago`,
        );
        expect(row(PRODUCTION, "jarvis")).toMatchObject({ state: "current", lagCommits: 0 });
        expect(row(PRODUCTION, "outreach-agent")).toMatchObject({ state: "not deployed", health: "not deployed" });
        expect(row(PRODUCTION, "outreach-agent")?.problem).toBe(`outreach-agent (${PRODUCTION}): declared on main but not deployed, changed on main 5h ago`);
        // Staging has run jarvis 2.3.0 for 3 h, production still 2.2.4; outreach-agent runs 1.0.3 on staging, production runs nothing (declared 1.0.3).
        expect(json?.sync).toEqual([
            expect.objectContaining({ agent: "jarvis", state: "out of sync", problem: "jarvis: staging runs ghcr.io/acme/jarvis:2.3.0 but production runs ghcr.io/acme/jarvis:2.2.4 (staging's since 3h ago)" }),
            expect.objectContaining({ agent: "outreach-agent", state: "in sync" }),
        ]);
        expect(json?.problems).toHaveLength(3);
        expect(json?.head).toBe(commits.unrelated);
    });

    it("counts nothing as stale within --max-lag, and exits 0", async () => {
        const { exitCode, json } = await status(["--json", "--max-lag", "6h"]);
        expect(exitCode).toBe(0);
        expect(json?.ok).toBe(true);
        expect(json?.agents.map((r) => r.state).sort()).toEqual(["current", "current", "pending", "pending"]);
        expect(json?.sync.map((s) => s.state)).toEqual(["pending", "in sync"]);
    });

    it("prints a table per stack and the problems, and a markdown dashboard for the job summary", async () => {
        const table = await status();
        expect(table.exitCode).toBe(1);
        expect(table.stdout).toMatch(new RegExp(`^${STAGING}:\\nagent +image +version +health +deployed +main +lag +changed +state$`, "m"));
        expect(table.stdout).toMatch(/^outreach-agent +ghcr\.io\/acme\/outreach-agent:1\.0\.3 +1\.0\.3 +healthy +[0-9a-f]{7} +[0-9a-f]{7} +2 +2h ago +STALE$/m);
        expect(table.stdout).toMatch(/^jarvis +ghcr\.io\/acme\/jarvis:2\.3\.0 +ghcr\.io\/acme\/jarvis:2\.2\.4 +OUT OF SYNC$/m);
        expect(table.stdout).toContain("3 problems:");
        const markdown = await status(["--markdown"]);
        expect(markdown.stdout).toMatch(/^## Fleet deployment status\n\n❌ 3 problems\. main at `[0-9a-f]{7}`/);
        expect(markdown.stdout).toContain(`### ${STAGING}\n\n| agent | image | version | health | deployed | main | lag | changed | state |`);
        expect(markdown.stdout).toMatch(/^\| outreach-agent \| ghcr\.io\/acme\/outreach-agent:1\.0\.3 \| 1\.0\.3 \| healthy \| [0-9a-f]{7} \| [0-9a-f]{7} \| 2 \| 2h ago \| STALE \|$/m);
    });

    it("says when a stack's engine cannot be reached, and fails rather than report nothing", async () => {
        const { exitCode, json } = await status(["--json"], { DOCKER_HOST: "unix:///nonexistent/docker.sock" });
        expect(exitCode).toBe(1);
        expect(json?.agents.every((r) => r.state === "unknown")).toBe(true);
        expect(json?.problems[0]).toMatch(new RegExp(`^jarvis \\(${STAGING}\\): cannot see what runs: no Docker engine answers at unix:///nonexistent/docker.sock`));
    });

    it("refuses a bad --max-lag and --issue outside GitHub Actions, with exit 2", async () => {
        const lag = await status(["--max-lag", "soon"]);
        expect(lag.exitCode).toBe(2);
        expect(lag.stderr.trim()).toBe('--max-lag soon: expected a duration like "30m", "1h" or "1h30m"');
        const issue = await status(["--issue"], { GITHUB_TOKEN: "", GITHUB_REPOSITORY: "" });
        expect(issue.exitCode).toBe(2);
        expect(issue.stderr.trim()).toBe("--issue: GITHUB_TOKEN is not set; give the workflow `issues: write` and pass secrets.GITHUB_TOKEN");
    });

    it("opens one `deployment` issue while agents are stale, updates it, and closes it once they are deployed", async () => {
        const github = new FakeIssues();
        const api = await github.start();
        const env = { GITHUB_TOKEN: "ghs_SEEDEDtoken0123456789", GITHUB_REPOSITORY: "acme/agent-fleet", GITHUB_API_URL: api };
        try {
            // Someone else's issue with the same label is left alone.
            github.issues.push({ number: 7, title: "deployment docs", body: "unrelated", state: "open", labels: [{ name: "deployment" }] });
            const opened = await status(["--issue"], env);
            expect(opened.exitCode).toBe(1);
            expect(opened.stderr).toContain("deployment issue: opened #8");
            const issue = github.issues.find((i) => i.number === 8);
            expect(issue).toMatchObject({ title: "Deployment gap: 3 problems in the fleet", state: "open", labels: [{ name: "deployment" }] });
            expect(issue?.body).toContain(DEPLOYMENT_ISSUE_MARKER);
            expect(issue?.body).toContain(`- outreach-agent (${STAGING}): runs ghcr.io/acme/outreach-agent:1.0.3`);

            const again = await status(["--issue"], env);
            expect(again.stderr).toContain("deployment issue: updated #8");
            expect(github.issues.filter((i) => i.state === "open")).toHaveLength(2);

            const closed = await status(["--issue", "--max-lag", "6h"], env);
            expect(closed.exitCode).toBe(0);
            expect(closed.stderr).toContain("deployment issue: closed #8");
            expect(github.issues.find((i) => i.number === 8)).toMatchObject({ state: "closed", state_reason: "completed" });
            expect(github.comments).toEqual([{ issue: 8, body: expect.stringMatching(/^Every agent is deployed as of `[0-9a-f]{7}`/) }]);
            expect(github.issues.find((i) => i.number === 7)).toMatchObject({ state: "open", body: "unrelated" });
            const quiet = await status(["--issue", "--max-lag", "6h"], env);
            expect(quiet.stderr).toContain("deployment issue: none");
            expect(github.writes).toBe(4);
        } finally {
            await github.stop();
        }
    });
});

interface FakeIssue { number: number; title: string; body: string; state: string; state_reason?: string; labels: { name: string }[] }

/** Answers the issue calls `fleet status --issue` makes, as GitHub's REST API does. */
class FakeIssues extends GitHubStub {
    readonly issues: FakeIssue[] = [];
    readonly comments: { issue: number; body: string }[] = [];

    /** Every request that changed something. */
    get writes(): number {
        return this.seen.filter((s) => s.method !== "GET").length;
    }

    protected route({ method, url, text }: StubRequest, send: Send): void {
        const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
        if (method === "GET" && url.pathname === "/repos/acme/agent-fleet/issues") {
            const label = url.searchParams.get("labels");
            return send(200, this.issues.filter((i) => i.state === url.searchParams.get("state") && i.labels.some((l) => l.name === label)));
        }
        if (method === "POST" && url.pathname === "/repos/acme/agent-fleet/issues") {
            const issue = { number: this.issues.length + 7, title: String(body.title), body: String(body.body), state: "open", labels: (body.labels as string[]).map((name) => ({ name })) };
            this.issues.push(issue);
            return send(201, issue);
        }
        const number = Number(/\/issues\/(\d+)/.exec(url.pathname)?.[1]);
        const issue = this.issues.find((i) => i.number === number);
        if (!issue) return;
        if (method === "PATCH") {
            Object.assign(issue, body);
            return send(200, issue);
        }
        if (method === "POST" && url.pathname.endsWith("/comments")) {
            this.comments.push({ issue: number, body: String(body.body) });
            return send(201, { id: 1 });
        }
    }
}
