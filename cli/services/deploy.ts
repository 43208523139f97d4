/**
 * One `pulumi up` through Pulumi's Automation API (LocalWorkspace), with the
 * policy pack and the stack's policy config, optionally targeted, printing
 * each agent's progress as the engine reports it (`onEvent`), and at least
 * every 5 s what it is waiting for. Shared by `fleet up` and `fleet rollback
 * --apply`.
 */
import * as os from "os";
import * as path from "path";
import { CommandError, EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { DOCKER_TYPES, LABELS, labelsOf, processMayRun } from "../../contract";
import { policyConfigFileName } from "../../config";
import type { Output } from "../output";
import { explainPulumiFailure } from "./stack-access";

export interface UpdateOptions {
    /** The stack, opened with its Pulumi environment (./stack-access). */
    readonly stack: Stack;
    /** Project directory: the policy pack and the stack's policy config live under it. */
    readonly cwd: string;
    /** Exact URNs to update; default the whole stack. */
    readonly targets?: readonly string[];
    /** Extra environment for the engine and the program (FLEET_ENV). */
    readonly env?: Readonly<Record<string, string>>;
    /**
     * Read the resources back before updating. Default: when the stack runs on
     * Swarm, whose automatic rollback leaves Pulumi's state holding the spec
     * Swarm refused, so that an update without a refresh would see no change.
     */
    readonly refresh?: boolean;
    /** How often to say what the update is waiting for; default 5 s. */
    readonly heartbeatMs?: number;
    /**
     * How long to wait while another Pulumi process on this machine holds the
     * stack's update lock (a plain `pulumi up` that the program is about to
     * refuse, or a preview); default 2 min. A lock whose process is gone, or
     * held from another machine, fails at once with its fix.
     */
    readonly lockWaitMs?: number;
}

export interface UpdateResult {
    readonly ok: boolean;
    readonly durationMs: number;
    /** Per agent, what happened to its containers: "created", "replaced", "failed", … */
    readonly agents: Readonly<Record<string, string>>;
    /** The engine's own summary of changes by operation. */
    readonly changes: Readonly<Record<string, number>>;
    /** The first error, one line, when the update failed. */
    readonly error?: string;
    /** The stack's outputs after a finished update, secrets in plain text (never printed): what `fleet verify` reads. */
    readonly outputs?: Readonly<Record<string, unknown>>;
}

const DONE: Readonly<Record<string, string>> = {
    create: "created", "create-replacement": "replaced", update: "updated", delete: "deleted", "delete-replaced": "old container removed", same: "unchanged",
};

/**
 * Steps that are progress but not an agent's outcome: `replace` is the
 * engine's logical step around create-replacement and delete-replaced, and
 * removing the old container is the tail of a replacement.
 */
const NOT_AN_OUTCOME: ReadonlySet<string> = new Set(["replace", "delete-replaced"]);

/** Which agent a step is about: its container's (or Swarm service's) agent label. */
function agentOf(event: { metadata: { type: string; old?: { inputs?: unknown }; new?: { inputs?: unknown } } }): string | undefined {
    if (event.metadata.type !== DOCKER_TYPES.container && event.metadata.type !== DOCKER_TYPES.service) return undefined;
    return labelsOf(event.metadata.new?.inputs ?? event.metadata.old?.inputs)[LABELS.agent];
}

/** How progress lines name a step's agent: "jarvis", or "jarvis@app-1" on a stack with hosts. */
function speakerOf(event: { metadata: { type: string; old?: { inputs?: unknown }; new?: { inputs?: unknown } } }, agent: string): string {
    const host = labelsOf(event.metadata.new?.inputs ?? event.metadata.old?.inputs)[LABELS.host];
    return host ? `${agent}@${host}` : agent;
}

/** What a step in flight is waiting for, in a few words. */
function waitingFor(type: string, op: string): string {
    if (op.startsWith("delete")) return "the old instance to stop (its grace period)";
    if (type === DOCKER_TYPES.container) return "its healthcheck (the health gate)";
    if (type === DOCKER_TYPES.service) return "Swarm's rolling update and its healthchecks";
    if (type === DOCKER_TYPES.image) return "the image build";
    if (type === DOCKER_TYPES.remoteImage) return "the image pull";
    return op;
}

/**
 * The engine's first error, in one line a person reads: which resource, and
 * the provider's own words without its source position and plugin version
 * ("fleet-jarvis: container failed to be in healthy state").
 */
function engineError(text: string): string {
    const line = text.split("\n").find((l) => /error:/.test(l))?.trim() ?? text.split("\n")[0].trim();
    const resource = /^\S+\s+\S+\s+(\S+)\s+(?:creating|updating|deleting|refreshing)/.exec(line.replace(/^[+\-~ ]+/, ""))?.[1]
        ?? /docker:index:\w+\s+(\S+)/.exec(line)?.[1];
    const cause = line.slice(line.lastIndexOf("error:") + "error:".length).trim()
        .replace(/^(?:\S+\.go:\d+:\s*)?(?:sdk\.helper_schema:\s*)?/, "")
        .replace(/:\s*provider=\S+$/, "");
    return resource && !cause.includes(resource) ? `${resource}: ${cause}` : cause;
}

export async function updateStack(options: UpdateOptions, output: Output): Promise<UpdateResult> {
    const started = Date.now();
    const agents: Record<string, string> = {};
    let lastLine = Date.now();
    const say = (who: string, text: string) => {
        lastLine = Date.now();
        output.out(`${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s  ${who}: ${text}`);
    };
    /** Steps started and not yet finished, by URN. */
    const inFlight = new Map<string, { readonly who: string; readonly what: string; readonly since: number }>();
    let sawStep = false;
    const onEvent = (event: EngineEvent) => {
        const pre = event.resourcePreEvent;
        if (pre) {
            sawStep = true;
            const agent = agentOf(pre);
            const op = pre.metadata.op;
            // Components and the stack only wait for their children: what is waited for is a provider's resource.
            const custom = !pre.metadata.type.startsWith("pulumi:") && !pre.metadata.type.startsWith("agent-fleet:");
            if (custom && op !== "same" && op !== "replace" && op !== "read" && op !== "refresh") {
                inFlight.set(pre.metadata.urn, { who: agent ? speakerOf(pre, agent) : pre.metadata.urn.split("::").at(-1)!, what: waitingFor(pre.metadata.type, op), since: Date.now() });
            }
            if (agent && op !== "same" && op !== "replace") say(speakerOf(pre, agent), `${op}…`);
        }
        const outputs = event.resOutputsEvent;
        if (outputs) {
            inFlight.delete(outputs.metadata.urn);
            const agent = agentOf(outputs);
            const op = outputs.metadata.op;
            if (agent && op !== "same" && op !== "replace") {
                // An agent on several hosts failed if any of its steps failed: a later success elsewhere does not undo that.
                if (agents[agent] !== "failed" && (!NOT_AN_OUTCOME.has(op) || agents[agent] === undefined)) agents[agent] = DONE[op] ?? op;
                say(speakerOf(outputs, agent), DONE[op] ?? op);
            }
        }
        const failed = event.resOpFailedEvent;
        if (failed) {
            inFlight.delete(failed.metadata.urn);
            const agent = agentOf(failed);
            if (agent) {
                agents[agent] = "failed";
                say(speakerOf(failed, agent), "FAILED");
            }
        }
    };
    // Never a silence longer than the heartbeat: say what the update waits for.
    let waitingForLock: string | undefined;
    const heartbeatMs = options.heartbeatMs ?? 5_000;
    const heartbeat = setInterval(() => {
        // Ticks every second, so speaking after 1 s less than the heartbeat keeps every silence within it.
        if (Date.now() - lastLine < heartbeatMs - 1_000) return;
        if (waitingForLock) return say("waiting", waitingForLock);
        const steps = [...inFlight.values()];
        if (steps.length === 0) return say("engine", sawStep ? "comparing the program's resources with the state…" : "running the program and the policy pack…");
        say("waiting", steps.map((s) => `${s.who} (${Math.round((Date.now() - s.since) / 1000)} s: ${s.what})`).join(", "));
    }, 1_000);
    const workspace = options.stack.workspace;
    const extraEnv = { ...options.env };
    try {
        Object.assign(workspace.envVars, extraEnv);
        if (options.refresh) {
            // A targeted refresh refuses targets the stack does not hold yet (a new release's image),
            // so read back only the targets that exist; `up --refresh` would refuse the whole update.
            const existing = new Set(((await options.stack.exportStack()).deployment?.resources ?? []).map((r: { urn: string }) => r.urn));
            const targets = options.targets?.filter((urn) => existing.has(urn));
            if (!targets || targets.length > 0) {
                say("refresh", "reading the services back from Swarm…");
                await options.stack.refresh({ ...(targets ? { target: targets } : {}), color: "never" });
            }
        }
        const up = () => options.stack.up({
            ...(options.targets ? { target: [...options.targets] } : {}),
            // No continueOnError: with it the engine goes on to its deletes after a failed step, and deletes the
            // previous container of a failed create-first replacement, the one still serving (engine:
            // deployment_executor.go, performPostSteps). Steps already running finish either way.
            policyPacks: [path.join(options.cwd, "policies")],
            policyPackConfigs: [path.join(options.cwd, policyConfigFileName(options.stack.name))],
            color: "never",
            onEvent,
        });
        const lockDeadline = Date.now() + (options.lockWaitMs ?? 120_000);
        let result: Awaited<ReturnType<typeof up>>;
        for (;;) {
            try {
                result = await up();
                break;
            } catch (error) {
                const holder = livePulumiLockHolder(error);
                if (!holder || Date.now() > lockDeadline) throw error;
                if (!waitingForLock) say("waiting", `Pulumi's lock on the stack, held by ${holder}…`);
                waitingForLock = `Pulumi's lock on the stack, held by ${holder}…`;
                await new Promise((resolve) => setTimeout(resolve, 1_000));
            }
        }
        waitingForLock = undefined;
        return {
            ok: result.summary.result === "succeeded", durationMs: Date.now() - started, agents, changes: { ...result.summary.resourceChanges },
            outputs: Object.fromEntries(Object.entries(result.outputs).map(([key, output]) => [key, output.value])),
        };
    } catch (error) {
        // A backend, passphrase or lock failure is the environment's, not the deployment's: exit 2 with its fix.
        const access = explainPulumiFailure(error, options.stack.name);
        if (access) throw access;
        // The engine's message: which resource failed and why (a failed health wait, a mandatory policy).
        const text = error instanceof CommandError ? error.message : error instanceof Error ? error.message : String(error);
        return { ok: false, durationMs: Date.now() - started, agents, changes: {}, error: engineError(text) };
    } finally {
        clearInterval(heartbeat);
        for (const key of Object.keys(extraEnv)) delete workspace.envVars[key];
    }
}

/**
 * The holder of a Pulumi update lock that stopped this update, when it is a
 * live process on this machine ("root@host (pid 4242)"): worth waiting for.
 * A dead one is a crash's leftover (StackOperation recovers it), and one from
 * another machine cannot be checked: both fail at once.
 */
function livePulumiLockHolder(error: unknown): string | undefined {
    const text = error instanceof Error ? error.message : String(error);
    if (!/the stack is currently locked by/.test(text)) return undefined;
    const created = /created by (\S+)@(\S+) \(pid (\d+)\)/.exec(text);
    if (!created || created[2] !== os.hostname() || !processMayRun(created[2], Number(created[3]))) return undefined;
    return `${created[1]}@${created[2]} (pid ${created[3]})`;
}
