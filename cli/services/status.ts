/**
 * `fleet status [--stack dev,staging,production]`: the deployment gap. For
 * each agent of each stack, what runs (image, version, health and spec hash,
 * from the containers' labels through the Docker Engine API) against what
 * main declares, with the deployed spec's commit, its lag behind HEAD and
 * how long ago main's spec of the agent arrived (./history). It flags:
 * - agents that changed on main but were not deployed within --max-lag, and
 *   agents declared but not running: the fleet must never silently have this gap;
 * - staging and production running different images for longer than --max-lag.
 */
import Docker from "dockerode";
import { execa } from "execa";
import { AgentSpec, FleetSpec, agentSpecHash, listStacks, openStackView } from "../../config";
import { LABELS, sameImage, durationMs, humanDuration, isDuration } from "../../contract";
import { EXIT, UserError, Output, asCommand, formatTable } from "../output";
import { SWARM_SERVICE_ID_LABEL, containerHealth, instanceLabels, reachability, stackEngineClients } from "./docker";
import { AgentHistory, CommitRef, hasGitHistory, requireFullHistory } from "./git-history";
import { issueClientFromEnv, reconcileDeploymentIssue } from "./deployment-issue";
import type { StatusJson, StatusRow, SyncRow } from "./status-report";
import { builtVersions } from "../../components";

interface StatusOptions {
    /** Stacks to read, in order; default dev, staging and production where the project has them. */
    readonly stacks?: readonly string[];
    /** How long a change may wait on main before it counts as stale, as a duration ("1h"). Default 1h. */
    readonly maxLag?: string;
    readonly cwd?: string;
    readonly json?: boolean;
    /** Print the markdown dashboard (for a job summary) instead of the table. */
    readonly markdown?: boolean;
    /** The clock; default now. */
    readonly now?: Date;
    /** Where DOCKER_HOST comes from; default the process's environment. */
    readonly env?: NodeJS.ProcessEnv;
}

const DEFAULT_STACKS = ["dev", "staging", "production"];
const short = (sha?: string) => (sha ? sha.slice(0, 7) : "-");

/** How long ago, to the minute: "2h", "1h30m", "just now". */
function ago(now: number, at: number): string {
    const minutes = Math.floor(Math.max(0, now - at) / 60_000);
    return minutes === 0 ? "just now" : `${humanDuration(minutes * 60_000)} ago`;
}

/** --max-lag as milliseconds; bad input otherwise. */
function maxLagMs(maxLag: string): number {
    if (!isDuration(maxLag)) throw new UserError(`--max-lag ${maxLag}: expected a duration like "30m", "1h" or "1h30m"`);
    return durationMs(maxLag);
}

interface Replica {
    readonly labels: Record<string, string>;
    readonly health: string;
}

/** The stack's agent containers by agent, or why they cannot be read. */
async function replicasByAgent(docker: Docker, stack: string): Promise<Map<string, Replica[]>> {
    const listed = await docker.listContainers({ all: true, filters: { label: [`${LABELS.stack}=${stack}`, LABELS.agent] } });
    const byAgent = new Map<string, Replica[]>();
    const services = new Map<string, Promise<Record<string, string>>>();
    // A Swarm service keeps its old tasks' stopped containers as history: only its running ones are replicas.
    await Promise.all(listed.filter((c) => !c.Labels[SWARM_SERVICE_ID_LABEL] || c.State === "running").map(async (c) => {
        const info = await docker.getContainer(c.Id).inspect().catch(() => undefined);
        const health = containerHealth(info);
        const agent = c.Labels[LABELS.agent];
        byAgent.set(agent, [...(byAgent.get(agent) ?? []), { labels: await instanceLabels(docker, c.Labels, services), health }]);
    }));
    return byAgent;
}

/** What git says of one agent: when main's spec arrived, and where the deployed one came from. */
interface AgentGit {
    readonly main?: CommitRef;
    readonly deployed?: CommitRef;
    readonly lag?: number;
}

function agentRow(
    spec: FleetSpec, agent: AgentSpec, replicas: Replica[] | undefined, history: AgentGit,
    now: number, maxLagMs: number, unreachable?: string, builtVersion?: string,
): StatusRow {
    const row = agentRowOnEveryHost(spec, agent, replicas, history, now, maxLagMs, unreachable, builtVersion);
    if (row.problem || row.state === "pending" || spec.hosts.length === 0) return row;
    // Running somewhere is not running where the file says: each of the agent's hosts runs it, or that is the gap.
    const without = agent.hosts.filter((host) => !(replicas ?? []).some((r) => r.labels[LABELS.host] === host && r.health !== "not running" && r.health !== "missing"));
    if (without.length === 0) return row;
    return { ...row, state: "not deployed", problem: `${agent.name} (${spec.stack}): declared on host${without.length === 1 ? "" : "s"} ${without.join(", ")} but not running there` };
}

function agentRowOnEveryHost(
    spec: FleetSpec, agent: AgentSpec, replicas: Replica[] | undefined, history: AgentGit,
    now: number, maxLagMs: number, unreachable?: string, builtVersion?: string,
): StatusRow {
    const { main } = history;
    const mainSpec = agentSpecHash(agent);
    const base = {
        stack: spec.stack, agent: agent.name, tier: agent.tier, image: agent.image, mainSpec,
        ...(agent.expose ? { url: agent.expose.url } : {}),
        ...(main ? { mainCommit: main.sha, changedAt: new Date(main.at).toISOString() } : {}),
    };
    const where = `${agent.name} (${spec.stack})`;
    if (unreachable) return { ...base, health: "unknown", state: "unknown", problem: `${where}: cannot see what runs: ${unreachable}` };
    // No commit means main's spec is not committed yet: it changed just now.
    const age = main ? now - main.at : 0;
    const changed = main ? `, changed on main ${ago(now, main.at)}` : "";
    const running = (replicas ?? []).filter((r) => r.health !== "not running" && r.health !== "missing");
    if (running.length === 0) {
        const health = replicas && replicas.length > 0 ? "not running" : "not deployed";
        const within = age !== undefined && age <= maxLagMs;
        return { ...base, health, state: within ? "pending" : "not deployed", ...(within ? {} : { problem: `${where}: declared on main but ${health}${changed}` }) };
    }
    const labels = running[0].labels;
    const deployedSpec = labels[LABELS.specHash];
    // What runs is main's agent when its spec hash is main's, and for an agent that builds, its build is main's too.
    const current = sameImage(labels[LABELS.image] ?? "", agent.image) && deployedSpec === mainSpec
        && (builtVersion === undefined || labels[LABELS.version] === builtVersion);
    const deployedCommit = current ? main?.sha : history.deployed?.sha;
    const lag = current ? 0 : history.lag;
    const row = {
        ...base, runningImage: labels[LABELS.image], version: labels[LABELS.version],
        health: [...new Set(running.map((r) => r.health))].join(", "),
        ...(deployedSpec ? { deployedSpec } : {}), ...(deployedCommit ? { deployedCommit } : {}), ...(lag !== undefined ? { lagCommits: lag } : {}),
    };
    if (current) return { ...row, state: "current" };
    if (age <= maxLagMs) return { ...row, state: "pending" };
    const behind = lag !== undefined ? `${lag} commit${lag === 1 ? "" : "s"} behind main` : "behind main";
    const runs = `${labels[LABELS.image] ?? "an unlabelled image"}${deployedCommit ? ` as of ${short(deployedCommit)}` : deployedSpec ? ` (spec ${deployedSpec.slice(0, 7)}, on no commit of main)` : ""}`;
    return { ...row, state: "stale", problem: `${where}: runs ${runs}, ${behind}; main has ${agent.image}${main ? ` as of ${short(main.sha)}` : ""}${changed}` };
}

/** Staging against production, agent by agent: what runs there, else what is declared. */
async function syncRows(rows: readonly StatusRow[], specs: readonly FleetSpec[], cwd: string, projectName: string, now: number, maxLagMs: number, inGit: boolean): Promise<SyncRow[]> {
    const staging = specs.find((s) => s.environment === "staging");
    const production = specs.find((s) => s.environment === "production");
    if (!staging || !production) return [];
    const runs = (stack: string, agent: string) => {
        const row = rows.find((r) => r.stack === stack && r.agent === agent);
        return row?.runningImage ?? row?.image;
    };
    return Promise.all(staging.agents.filter((a) => production.agents.some((p) => p.name === a.name)).map(async (agent): Promise<SyncRow> => {
        const onStaging = runs(staging.stack, agent.name) ?? "-";
        const onProduction = runs(production.stack, agent.name) ?? "-";
        if (sameImage(onStaging, onProduction)) return { agent: agent.name, staging: onStaging, production: onProduction, state: "in sync" };
        // Production follows staging: the clock starts when staging's image was released.
        const released = inGit ? (await AgentHistory.read(cwd, projectName, staging.stack, agent.name)).since((a) => sameImage(a.image, onStaging)) : undefined;
        const since = released ? { stagingSince: new Date(released.at).toISOString() } : {};
        if (released && now - released.at <= maxLagMs) return { agent: agent.name, staging: onStaging, production: onProduction, state: "pending", ...since };
        return {
            agent: agent.name, staging: onStaging, production: onProduction, state: "out of sync", ...since,
            problem: `${agent.name}: staging runs ${onStaging} but production runs ${onProduction}${released ? ` (staging's since ${ago(now, released.at)})` : ""}`,
        };
    }));
}

async function fleetStatus(options: StatusOptions): Promise<StatusJson> {
    const cwd = options.cwd ?? process.cwd();
    const env = options.env ?? process.env;
    const now = (options.now ?? new Date()).getTime();
    const maxLag = options.maxLag ?? "1h";
    const lagMs = maxLagMs(maxLag);
    const inGit = await hasGitHistory(cwd);
    if (inGit) await requireFullHistory(cwd);
    // Without --stack: those of dev, staging and production the project has a file for.
    const stacks = options.stacks ?? listStacks(cwd).filter((s) => DEFAULT_STACKS.includes(s));
    const views = stacks.map((s) => openStackView(cwd, s));
    const specs = views.map((v) => v.spec());
    const rows: StatusRow[] = [];
    for (const [i, spec] of specs.entries()) {
        // Every engine of the stack: one that does not answer leaves only its own agents unknown.
        const engines = stackEngineClients(views[i], env);
        const reach = await reachability(engines);
        const replicas = new Map<string, Replica[]>();
        const down = new Map<string | undefined, string>();
        await Promise.all(engines.map(async (engine) => {
            const why = reach.get(engine);
            if (why) {
                down.set(engine.name, why);
                return;
            }
            try {
                for (const [agent, list] of await replicasByAgent(engine.docker, spec.stack)) replicas.set(agent, [...(replicas.get(agent) ?? []), ...list]);
            } catch (error) {
                down.set(engine.name, `no Docker engine answers at ${engine.label} (${error instanceof Error ? error.message : String(error)})`);
            }
        }));
        const unreachableFor = (agent: AgentSpec) => (spec.hosts.length === 0 ? down.get(undefined) : agent.hosts.map((h) => down.get(h)).filter(Boolean).join("; ") || undefined);
        const built = builtVersions(cwd, spec);
        for (const agent of spec.agents) {
            const history = inGit ? await agentGit(cwd, views[i].project.name, spec.stack, agent, replicas.get(agent.name)?.[0]?.labels[LABELS.specHash]) : {};
            rows.push(agentRow(spec, agent, replicas.get(agent.name), history, now, lagMs, unreachableFor(agent), built[agent.name]));
        }
    }
    const sync = await syncRows(rows, specs, cwd, views[0]?.project.name ?? "", now, lagMs, inGit);
    const problems = [...rows.flatMap((r) => (r.problem ? [r.problem] : [])), ...sync.flatMap((s) => (s.problem ? [s.problem] : []))];
    const head = inGit ? (await execa("git", ["rev-parse", "HEAD"], { cwd })).stdout.trim() : null;
    return { head, checkedAt: new Date(now).toISOString(), maxLag, ok: problems.length === 0, agents: rows, sync, problems };
}

/** When main's spec of the agent arrived, and which commit the deployed spec came from. */
async function agentGit(cwd: string, projectName: string, stack: string, agent: AgentSpec, deployedSpec: string | undefined): Promise<AgentGit> {
    const history = await AgentHistory.read(cwd, projectName, stack, agent.name);
    const main = history.specSince(agentSpecHash(agent));
    const deployed = deployedSpec ? history.commitOf(deployedSpec) : undefined;
    const lag = deployed ? await history.commitsSince(deployed.sha) : undefined;
    return { ...(main ? { main } : {}), ...(deployed ? { deployed } : {}), ...(lag !== undefined ? { lag } : {}) };
}

const ROW_HEADER = ["agent", "image", "version", "health", "deployed", "main", "lag", "changed", "state"];

function rowCells(r: StatusRow, now: number): string[] {
    const changed = r.changedAt ? ago(now, Date.parse(r.changedAt)) : "-";
    return [
        r.agent, r.runningImage ?? "-", r.version ?? "-", r.health, short(r.deployedCommit), short(r.mainCommit),
        r.lagCommits === undefined ? "-" : String(r.lagCommits), changed, r.state === "current" || r.state === "pending" ? r.state : r.state.toUpperCase(),
    ];
}

/** One stack's table: a url column when the stack exposes any agent through the edge. */
function stackTable(rows: readonly StatusRow[], now: number): { header: string[]; cells: string[][] } {
    const urls = rows.some((r) => r.url !== undefined);
    return {
        header: urls ? [...ROW_HEADER, "url"] : ROW_HEADER,
        cells: rows.map((r) => (urls ? [...rowCells(r, now), r.url ?? "-"] : rowCells(r, now))),
    };
}

/** The human report: a table per stack, staging against production, and the problems. */
function formatStatus(status: StatusJson): string {
    const now = Date.parse(status.checkedAt);
    const lines: string[] = [`main at ${short(status.head ?? undefined)}; a change is stale after ${status.maxLag} undeployed`];
    for (const stack of [...new Set(status.agents.map((r) => r.stack))]) {
        const { header, cells } = stackTable(status.agents.filter((r) => r.stack === stack), now);
        lines.push("", `${stack}:`, formatTable(header, cells));
    }
    if (status.sync.length > 0) {
        lines.push("", "staging ↔ production:", formatTable(["agent", "staging", "production", "state"], status.sync.map((s) => [s.agent, s.staging, s.production, s.state === "out of sync" ? "OUT OF SYNC" : s.state])));
    }
    lines.push("", status.ok ? "No deployment gap." : `${status.problems.length} problem${status.problems.length === 1 ? "" : "s"}:`, ...status.problems.map((p) => `  ${p}`));
    return lines.join("\n");
}

/** Markdown for a job summary or the deployment issue. Hand-written: a few tables need no renderer. */
function statusMarkdown(status: StatusJson): string {
    const now = Date.parse(status.checkedAt);
    const cell = (text: string) => text.replace(/\|/g, "\\|");
    const table = (header: string[], rows: string[][]) => [`| ${header.join(" | ")} |`, `|${header.map(() => " --- ").join("|")}|`, ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`)];
    const lines = [
        "## Fleet deployment status", "",
        `${status.ok ? "✅ No deployment gap." : `❌ ${status.problems.length} problem${status.problems.length === 1 ? "" : "s"}.`} main at \`${short(status.head ?? undefined)}\`, checked ${status.checkedAt}; a change is stale after ${status.maxLag} undeployed.`,
    ];
    if (!status.ok) lines.push("", ...status.problems.map((p) => `- ${p}`));
    for (const stack of [...new Set(status.agents.map((r) => r.stack))]) {
        const { header, cells } = stackTable(status.agents.filter((r) => r.stack === stack), now);
        lines.push("", `### ${stack}`, "", ...table(header, cells));
    }
    if (status.sync.length > 0) lines.push("", "### staging ↔ production", "", ...table(["agent", "staging", "production", "state"], status.sync.map((s) => [s.agent, s.staging, s.production, s.state])));
    return lines.join("\n");
}

export interface StatusCommandOptions extends StatusOptions {
    /** Open, update or close the repository's `deployment` issue (GitHub Actions: GITHUB_TOKEN, GITHUB_REPOSITORY). */
    readonly issue?: boolean;
}

export function runStatus(options: StatusCommandOptions, output: Output): Promise<number> {
    return asCommand(output, async () => {
        let github: ReturnType<typeof issueClientFromEnv> | undefined;
        try {
            // Before the slow part: a run that cannot report should say so at once.
            maxLagMs(options.maxLag ?? "1h");
            if (options.issue) github = issueClientFromEnv(options.env ?? process.env);
        } catch (error) {
            if (error instanceof UserError) throw new UserError(error.message);
            throw error;
        }
        output.err("reading the stacks, their containers and the repository's history…");
        const status = await fleetStatus(options);
        const markdown = statusMarkdown(status);
        if (options.json) output.out(JSON.stringify(status, null, 2));
        else output.out(options.markdown ? markdown : formatStatus(status));
        if (github) {
            try {
                const outcome = await reconcileDeploymentIssue(github.client, github.repository, status, markdown);
                output.err(`deployment issue: ${outcome.action}${outcome.number ? ` #${outcome.number}` : ""}`);
            } catch (error) {
                output.err(`fleet status: could not update the deployment issue: ${error instanceof Error ? error.message : String(error)}`);
                return EXIT.failed;
            }
        }
        return status.ok ? EXIT.ok : EXIT.failed;
    });
}
