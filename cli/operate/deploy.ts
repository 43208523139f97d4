/**
 * One `pulumi up` through Pulumi's Automation API (LocalWorkspace), with the
 * policy pack and the stack's policy config, optionally targeted, printing
 * each agent's progress as the engine reports it (`onEvent`). Shared by
 * `fleet up` and `fleet rollback --apply`.
 */
import * as path from "path";
import { CommandError, EngineEvent, LocalWorkspace } from "@pulumi/pulumi/automation";
import { DOCKER_TYPES, LABELS, labelsOf } from "../../contract";
import type { Output } from "./common";
import { StackFileEditor } from "./stack-edit";

export interface UpdateOptions {
    readonly cwd: string;
    readonly stack: string;
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

export async function updateStack(options: UpdateOptions, output: Output): Promise<UpdateResult> {
    const started = Date.now();
    const agents: Record<string, string> = {};
    const say = (agent: string, text: string) => output.out(`${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s  ${agent}: ${text}`);
    const onEvent = (event: EngineEvent) => {
        const pre = event.resourcePreEvent;
        if (pre) {
            const agent = agentOf(pre);
            if (agent && pre.metadata.op !== "same" && pre.metadata.op !== "replace") say(agent, `${pre.metadata.op}…`);
        }
        const outputs = event.resOutputsEvent;
        if (outputs) {
            const agent = agentOf(outputs);
            const op = outputs.metadata.op;
            if (agent && op !== "same" && op !== "replace") {
                if (!NOT_AN_OUTCOME.has(op) || agents[agent] === undefined) agents[agent] = DONE[op] ?? op;
                say(agent, DONE[op] ?? op);
            }
        }
        const failed = event.resOpFailedEvent;
        if (failed) {
            const agent = agentOf(failed);
            if (agent) {
                agents[agent] = "failed";
                say(agent, "FAILED");
            }
        }
    };
    const stack = await LocalWorkspace.selectStack({ stackName: options.stack, workDir: options.cwd }, options.env ? { envVars: { ...options.env } } : undefined);
    try {
        if (options.refresh ?? StackFileEditor.open(options.cwd, options.stack).spec().runtime === "swarm") {
            // A targeted refresh refuses targets the stack does not hold yet (a new release's image),
            // so read back only the targets that exist; `up --refresh` would refuse the whole update.
            const existing = new Set(((await stack.exportStack()).deployment?.resources ?? []).map((r: { urn: string }) => r.urn));
            const targets = options.targets?.filter((urn) => existing.has(urn));
            if (!targets || targets.length > 0) {
                output.err("refresh: reading the services back from Swarm…");
                await stack.refresh({ ...(targets ? { target: targets } : {}), color: "never" });
            }
        }
        const result = await stack.up({
            ...(options.targets ? { target: [...options.targets] } : {}),
            policyPacks: [path.join(options.cwd, "policies")],
            policyPackConfigs: [path.join(options.cwd, "stacks", `policy.${options.stack}.json`)],
            color: "never",
            onEvent,
        });
        return { ok: result.summary.result === "succeeded", durationMs: Date.now() - started, agents, changes: { ...result.summary.resourceChanges } };
    } catch (error) {
        // The engine's message: which resource failed and why (a failed health wait, a mandatory policy).
        const text = error instanceof CommandError ? error.message : error instanceof Error ? error.message : String(error);
        const line = text.split("\n").find((l) => /error:/.test(l))?.trim() ?? text.split("\n")[0];
        return { ok: false, durationMs: Date.now() - started, agents, changes: {}, error: line };
    }
}
