/**
 * `fleet verify --stack <name> [--outputs <file>]`: after a deploy, every
 * agent the stack file declares is running, healthy by Docker's own
 * healthcheck (the Engine API, through dockerode), and passes its smoke
 * checks on each replica: each container, or under the swarm runtime each
 * running task of its service once Swarm has finished watching an update. An agent the config declares but the stack's
 * outputs lack is a failure too: never silently undeployed.
 */
import { promises as fs } from "fs";
import type { Stack } from "@pulumi/pulumi/automation";
import { EDGE_TRY_DURATION_MS, runSmokeCheck } from "../../contract";
import { EXIT, UserError, Output, asCommand, formatTable } from "../output";
import { EngineClient, agentInstances, engineNamed, reachability, stackEngineClients } from "./docker";
import { edgeAddress, edgeRequest, edgeSmokeTransport, edgeTrust } from "./edge-check";
import { openStack, requirePassphrase, withStackAccess } from "./stack-access";
import { type AgentSpec, type FleetSpec, openStackView } from "../../config";

export interface VerifyOptions {
    readonly stack: string;
    /** A file holding `pulumi stack output --json --show-secrets`; default: read the stack's outputs through the Automation API. */
    readonly outputs?: string;
    readonly cwd?: string;
    readonly json?: boolean;
    /** Verify only these agents; default every agent the stack file declares. */
    readonly agents?: readonly string[];
    /** Per smoke check. Default 5 s. */
    readonly timeoutMs?: number;
    /** The stack, already opened by the operation that verifies it; default: open it. */
    readonly stackHandle?: Stack;
    /** The outputs the update that is being verified returned; default: read them from the stack. */
    readonly stackOutputs?: Readonly<Record<string, unknown>>;
}

/** What the stack exports per agent (index.ts `agents`). */
interface AgentOutput {
    readonly instances?: string[];
    /** The name `instances` had before; a stack last deployed then still exports it until its next update. */
    readonly containerNames?: string[];
    /** The host of each instance, when the stack names hosts (`fleet.hosts`). */
    readonly instanceHosts?: string[];
    readonly healthUrls: string[];
}

export interface VerifyRow {
    readonly agent: string;
    /** A container name, "-" when the agent has none, or "edge <its public URL>" for the check through the edge. */
    readonly container: string;
    /** The host (`fleet.hosts`) the container runs on; absent when the stack names no hosts. */
    readonly host?: string;
    /** Set when that host did not answer: the row says nothing of the agent itself. */
    readonly hostDown?: boolean;
    readonly ok: boolean;
    /** Docker's health status ("healthy", "unhealthy", "starting"), "not running", "missing" or "not deployed". */
    readonly health: string;
    /** Failed smoke checks by name, with why. */
    readonly failedChecks: { readonly check: string; readonly detail: string }[];
    readonly passedChecks: string[];
}

async function stackAgents(options: VerifyOptions, cwd: string): Promise<Record<string, AgentOutput>> {
    let outputs: Record<string, unknown>;
    if (options.stackOutputs) {
        // The update just returned them: reading them again would cost two more Pulumi CLI runs.
        outputs = { ...options.stackOutputs };
    } else if (options.outputs) {
        const text = await fs.readFile(options.outputs, "utf8").catch(() => {
            throw new UserError(`--outputs ${options.outputs}: expected a readable file of \`pulumi stack output --json --show-secrets\``);
        });
        try {
            outputs = JSON.parse(text) as Record<string, unknown>;
        } catch {
            throw new UserError(`--outputs ${options.outputs}: expected JSON, as \`pulumi stack output --json --show-secrets\` writes it`);
        }
    } else {
        // The outputs are read with their secrets (the health URLs of an agent with secrets are secret too).
        if (!options.stackHandle) requirePassphrase(cwd, options.stack, openStackView(cwd, options.stack).file);
        const stack = options.stackHandle ?? await openStack(cwd, options.stack);
        const read = await withStackAccess(options.stack, stack.workspace.envVars, () => stack.outputs());
        outputs = Object.fromEntries(Object.entries(read).map(([k, v]) => [k, v.value]));
    }
    const agents = outputs.agents;
    if (typeof agents !== "object" || agents === null) {
        if (options.outputs) throw new UserError(`--outputs ${options.outputs}: no \`agents\` map, as \`pulumi stack output --json --show-secrets\` of a deployed stack has`);
        // A stack whose first update never finished has no outputs: every agent it declares is then "not deployed", never an error.
        return {};
    }
    return agents as Record<string, AgentOutput>;
}

export async function verifyStack(options: VerifyOptions): Promise<VerifyRow[]> {
    const cwd = options.cwd ?? process.cwd();
    const view = openStackView(cwd, options.stack);
    const spec = view.spec();
    const deployed = await stackAgents(options, cwd);
    // The engines the stack deploys to, as the program's providers reach them; each is asked once whether it answers.
    const engines = stackEngineClients(view);
    const reach = await reachability(engines);
    const rows: VerifyRow[] = [];
    const agents = spec.agents.filter((a) => !options.agents || options.agents.includes(a.name));
    await Promise.all(agents.map(async (agent) => {
        const out = deployed[agent.name];
        const names = out?.instances ?? out?.containerNames ?? [];
        if (!out || names.length === 0) {
            rows.push({ agent: agent.name, container: "-", ok: false, health: "not deployed", failedChecks: [], passedChecks: [] });
            return;
        }
        await Promise.all(names.map(async (name, replica) => {
            const hostName = out.instanceHosts?.[replica];
            const at = hostName === undefined ? {} : { host: hostName };
            const engine = engineNamed(engines, hostName);
            if (!engine) {
                rows.push({ agent: agent.name, container: name, ...at, ok: false, health: `on host ${hostName ?? "(none)"}, which ${view.file.display} does not name in fleet.hosts`, failedChecks: [], passedChecks: [] });
                return;
            }
            // An engine that does not answer fails its own agents with that reason, not as "missing"; the other hosts' agents are verified.
            const unreachable = reach.get(engine);
            if (unreachable) {
                rows.push({ agent: agent.name, container: name, ...at, ...(hostName === undefined ? {} : { hostDown: true }), ok: false, health: unreachable, failedChecks: [], passedChecks: [] });
                return;
            }
            const instances = await agentInstances(engine.docker, name, { healthUrl: out.healthUrls[replica], image: agent.image, containerPort: agent.port });
            await Promise.all(instances.map(async ({ name: instance, health, lastProbe, baseUrl }) => {
                const healthy = health === "healthy";
                // Smoke checks only against a healthy replica: an unhealthy one already fails, and says why.
                const results = healthy && baseUrl ? await Promise.all(agent.smokeChecks.map((check) => runSmokeCheck(baseUrl, check, options.timeoutMs ?? 5_000, engine.checks))) : [];
                const failedChecks = results.filter((r) => !r.ok).map((r) => ({ check: r.check, detail: r.detail ?? "failed" }));
                rows.push({
                    agent: agent.name, container: instance, ...at, ok: healthy && failedChecks.length === 0,
                    health: healthy || !lastProbe ? health : `${health}: ${lastProbe.split("\n")[0].slice(0, 120)}`,
                    failedChecks, passedChecks: results.filter((r) => r.ok).map((r) => r.check),
                });
            }));
        }));
    }));
    if (spec.edge) rows.push(...await publicRows(spec, agents.filter((a) => a.expose !== undefined), engines, reach, options.timeoutMs ?? 5_000));
    return rows.sort((a, b) => a.agent.localeCompare(b.agent) || (a.host ?? "").localeCompare(b.host ?? "") || a.container.localeCompare(b.container));
}

/** How long the public side may take to answer at all: an edge obtaining a new hostname's certificate from ACME, or just restarted. */
const EDGE_SETTLE_MS = 60_000;

/**
 * Asks until the edge answers, for up to EDGE_SETTLE_MS: a refused or reset
 * connection, or a handshake the edge ends for want of a certificate (an
 * OpenSSL alert), is retried. An answer, a certificate that does not check
 * out, or no answer in time is final.
 */
async function askThroughEdge<T>(ask: () => Promise<T>): Promise<T | NodeJS.ErrnoException> {
    const deadline = Date.now() + EDGE_SETTLE_MS;
    for (;;) {
        const result = await ask().catch((error: NodeJS.ErrnoException) => error);
        const settling = result instanceof Error && /^(ECONNREFUSED|ECONNRESET|EPROTO|ERR_SSL_)/.test(result.code ?? "");
        if (!settling || Date.now() > deadline) return result;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
}

/**
 * Each exposed agent through each of its hosts' edges, as the public asks for
 * it (edge-check.ts): its health path answers 200 from the agent itself (the
 * edge names it), and then its smoke checks pass there too.
 */
async function publicRows(
    spec: FleetSpec, exposed: readonly AgentSpec[], engines: readonly EngineClient[], reach: Map<EngineClient, string | undefined>, timeoutMs: number,
): Promise<VerifyRow[]> {
    const edge = spec.edge!;
    const perEngine = await Promise.all(engines.map(async (engine) => {
        // Swarm places the agents itself: its one engine's edge routes to every exposed agent.
        const on = exposed.filter((a) => spec.runtime === "swarm" || engine.name === undefined || a.hosts.includes(engine.name));
        if (on.length === 0) return [];
        const at = engine.name === undefined ? {} : { host: engine.name };
        const row = (agent: AgentSpec, fields: Pick<VerifyRow, "ok" | "health"> & Partial<VerifyRow>): VerifyRow => ({
            agent: agent.name, container: `edge ${agent.expose!.url}`, ...at, failedChecks: [], passedChecks: [], ...fields,
        });
        const unreachable = reach.get(engine);
        if (unreachable) return on.map((agent) => row(agent, { ok: false, health: unreachable, ...(engine.name === undefined ? {} : { hostDown: true }) }));
        const trust = await edgeTrust(engine.docker, spec.stack, edge);
        if ("problem" in trust) return on.map((agent) => row(agent, { ok: false, health: `through the edge: ${trust.problem}` }));
        const target = { address: edgeAddress(engine, edge), port: edge.httpsPort, ...trust };
        return Promise.all(on.map(async (agent) => {
            const url = `${agent.expose!.url}${agent.healthcheck.path}`;
            // The edge may try the agent's containers for EDGE_TRY_DURATION_MS before it answers 502 itself: wait for that answer.
            const answer = await askThroughEdge(() => edgeRequest(target, { method: "GET", url, timeoutMs: timeoutMs + EDGE_TRY_DURATION_MS }));
            if (answer instanceof Error) return row(agent, { ok: false, health: `through the edge: GET ${url}: ${answer.code ?? answer.message}` });
            if (answer.status !== 200 || answer.agent !== agent.name) {
                const from = answer.agent === undefined ? "the edge itself" : answer.agent === agent.name ? "the agent" : `agent ${answer.agent}`;
                return row(agent, { ok: false, health: `through the edge: GET ${url} answered ${answer.status} from ${from}, expected 200 from ${agent.name}` });
            }
            const results = await Promise.all(agent.smokeChecks.map((check) => runSmokeCheck(agent.expose!.url, check, timeoutMs + EDGE_TRY_DURATION_MS, edgeSmokeTransport(target))));
            const failedChecks = results.filter((r) => !r.ok).map((r) => ({ check: r.check, detail: r.detail ?? "failed" }));
            return row(agent, { ok: failedChecks.length === 0, health: "public URL ok", failedChecks, passedChecks: results.filter((r) => r.ok).map((r) => r.check) });
        }));
    }));
    return perEngine.flat();
}

/** Why an agent's verify rows failed, in a few words; "ok" when none did. */
export function verifyProblem(rows: readonly VerifyRow[]): string {
    const failed = rows.filter((r) => !r.ok);
    if (failed.length === 0) return rows.length === 0 ? "not verified" : "ok";
    return failed.map((r) => (r.failedChecks.length > 0 ? `smoke check ${r.failedChecks.map((c) => `${c.check}: ${c.detail}`).join("; ")}` : r.health)).join("; ");
}

export function runVerify(options: VerifyOptions, output: Output): Promise<number> {
    return asCommand(output, async () => {
        const rows = await verifyStack(options);
        const failed = rows.filter((r) => !r.ok);
        if (options.json) {
            output.out(JSON.stringify({ stack: options.stack, ok: failed.length === 0, agents: rows }, null, 2));
        } else {
            const hosts = rows.some((r) => r.host !== undefined);
            output.out(formatTable(["agent", ...(hosts ? ["host"] : []), "container", "status", "health", "smoke checks"], rows.map((r) => [
                r.agent, ...(hosts ? [r.host ?? "-"] : []), r.container, r.ok ? "ok" : "FAIL", r.health,
                r.failedChecks.length > 0 ? r.failedChecks.map((c) => `✗ ${c.check}: ${c.detail}`).join("; ") : r.passedChecks.length > 0 ? `${r.passedChecks.length} passed` : "-",
            ])));
            output.out(failed.length === 0 ? `\n${options.stack}: every agent is healthy and passes its smoke checks.` : `\n${options.stack}: ${[...new Set(failed.map((r) => r.agent))].join(", ")} failed verification.`);
        }
        return failed.length === 0 ? EXIT.ok : EXIT.failed;
    });
}
