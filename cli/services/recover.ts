/**
 * What an interrupted operation leaves behind, found and put right before the
 * next one starts (`fleet up`, `fleet rollback --apply`), and listed by
 * `fleet doctor` for a person:
 *
 * - Pulumi's own lock, held by a `pulumi` process that is gone (killed with
 *   its `fleet up`): cleared, but only when every lock's process is gone;
 * - pending operations in the state: an interrupted create may have left a
 *   container (or Swarm service) the state does not know, running under the
 *   agent's name and network alias. The pending operation names it exactly
 *   (its inputs' `name`), so that one object is removed and the pending
 *   create dropped, which is what Pulumi asks a person to confirm by hand.
 *
 * Other objects labelled with the stack that its state does not hold are only
 * reported: a stack's name is not unique (another checkout, another backend,
 * a test on the same engine may run a "dev" too), so none is ever removed for
 * its label alone.
 */
import * as fs from "fs";
import * as path from "path";
import Docker from "dockerode";
import type { Stack } from "@pulumi/pulumi/automation";
import { LABELS, backendUrl, fileBackendDir, processMayRun } from "../../contract";
import { SWARM_SERVICE_ID_LABEL } from "./docker";
import { StackAccessError } from "./stack-access";

interface PulumiLock {
    readonly file: string;
    readonly pid: number;
    readonly hostname: string;
    readonly username?: string;
    readonly timestamp?: string;
}

/** Pulumi's lock files for the stack, in a file backend (`.pulumi/locks/<org>/<project>/<stack>/*.json`). */
function pulumiLocks(projectDir: string, project: string, stack: string, env: NodeJS.ProcessEnv = process.env): PulumiLock[] | undefined {
    const dir = fileBackendDir(projectDir, backendUrl(projectDir, env));
    if (!dir) return undefined;
    const root = path.join(dir, ".pulumi", "locks");
    if (!fs.existsSync(root)) return [];
    const locks: PulumiLock[] = [];
    for (const org of fs.readdirSync(root)) {
        const stackDir = path.join(root, org, project, stack);
        if (!fs.existsSync(stackDir)) continue;
        for (const name of fs.readdirSync(stackDir).filter((f) => f.endsWith(".json"))) {
            try {
                const lock = JSON.parse(fs.readFileSync(path.join(stackDir, name), "utf8")) as Omit<PulumiLock, "file">;
                locks.push({ ...lock, file: path.join(stackDir, name) });
            } catch {
                // Unreadable: not ours to judge; Pulumi will report it.
            }
        }
    }
    return locks;
}

function processGone(lock: PulumiLock): boolean {
    return !processMayRun(lock.hostname, lock.pid);
}

export interface Leftovers {
    /** Pulumi locks whose process is gone. */
    readonly deadLocks: readonly PulumiLock[];
    /** Pulumi locks whose process may still run (here, or on another machine). */
    readonly liveLocks: readonly PulumiLock[];
    /** URNs with a pending operation, and its type ("creating", "updating", "deleting", …). */
    readonly pending: readonly { readonly urn: string; readonly type: string }[];
    /** Objects an interrupted create of this stack made: named by its pending operation, absent from the state. */
    readonly orphans: readonly Orphan[];
    /** Other objects labelled with the stack's name that its state does not hold: reported, never removed. */
    readonly strangers: readonly Orphan[];
    /** Engines that did not answer, with why: what an interrupted create left there is found on a later run. */
    readonly unreachable: readonly string[];
}

/** An engine to look for leftovers on (see docker.ts's EngineClient). */
interface LeftoverEngine {
    readonly docker: Docker;
    /** How messages name it: "host app-1 (ssh://…)". */
    readonly label: string;
}

interface Orphan {
    /** Where it runs. */
    readonly engine: LeftoverEngine;
    readonly kind: "container" | "service";
    readonly id: string;
    readonly name: string;
    readonly agent?: string;
}

interface Deployment {
    resources?: { urn: string; type: string; id?: string }[];
    pending_operations?: { resource: { urn: string; type: string; inputs?: Record<string, unknown> }; type: string }[];
}

/** Everything an interrupted operation may have left, without changing anything. */
export async function findLeftovers(projectDir: string, project: string, stack: Stack, engines: readonly LeftoverEngine[], env: NodeJS.ProcessEnv = process.env): Promise<Leftovers> {
    const locks = pulumiLocks(projectDir, project, stack.name, env) ?? [];
    const deployment = (await stack.exportStack()).deployment as Deployment | undefined;
    const known = new Set((deployment?.resources ?? []).filter((r) => r.id).map((r) => r.id!));
    const pendingOps = deployment?.pending_operations ?? [];
    const pending = pendingOps.map((p) => ({ urn: p.resource.urn, type: p.type }));
    const label = { label: [`${LABELS.stack}=${stack.name}`] };
    const unreachable: string[] = [];
    // Each engine on its own: a host that is down hides only its own leftovers.
    const unknown: Orphan[] = (await Promise.all(engines.map(async (engine): Promise<Orphan[]> => {
        const { docker } = engine;
        let containers: Docker.ContainerInfo[];
        try {
            containers = await docker.listContainers({ all: true, filters: label });
        } catch (error) {
            unreachable.push(`${engine.label} did not answer (${error instanceof Error ? error.message : String(error)}): what an interrupted operation left there is looked for next time`);
            return [];
        }
        const services = await docker.listServices({ filters: label }).catch(() => [] as Docker.Service[]);
        return [
            // A Swarm task's container belongs to its service.
            ...containers.filter((c) => !known.has(c.Id) && !c.Labels[SWARM_SERVICE_ID_LABEL])
                .map((c) => ({ engine, kind: "container" as const, id: c.Id, name: c.Names[0]?.replace(/^\//, "") ?? c.Id, agent: c.Labels[LABELS.agent] })),
            ...(services as unknown as { ID: string; Spec?: { Name?: string; Labels?: Record<string, string> } }[]).filter((s) => !known.has(s.ID))
                .map((s) => ({ engine, kind: "service" as const, id: s.ID, name: s.Spec?.Name ?? s.ID, agent: s.Spec?.Labels?.[LABELS.agent] })),
        ];
    }))).flat();
    // What interrupted creates named: exactly those objects are this stack's orphans.
    const created = new Set(pendingOps.filter((p) => p.type === "creating").map((p) => p.resource.inputs?.name).filter((n): n is string => typeof n === "string"));
    return {
        deadLocks: locks.filter(processGone), liveLocks: locks.filter((l) => !processGone(l)), pending,
        orphans: unknown.filter((o) => created.has(o.name)), strangers: unknown.filter((o) => !created.has(o.name)), unreachable,
    };
}

/** One line per leftover, for doctor and for the recovery's own report. */
export function describeLeftovers(leftovers: Leftovers): string[] {
    return [
        ...leftovers.liveLocks.map((l) => `Pulumi's lock is held by pid ${l.pid} on ${l.hostname}${l.timestamp ? ` since ${l.timestamp}` : ""}`),
        ...leftovers.deadLocks.map((l) => `Pulumi's lock is left by pid ${l.pid}, which is gone`),
        ...leftovers.pending.map((p) => `an interrupted ${p.type.replace(/ing$/, "e")} of ${p.urn.split("::").at(-1)} is pending in the state`),
        ...leftovers.orphans.map((o) => `${o.kind} ${o.name}${o.agent ? ` (agent ${o.agent})` : ""}, made by an interrupted create, runs but the state does not know it`),
    ];
}

/**
 * Puts right what an interrupted operation left: clears a dead process's Pulumi
 * lock, removes orphans, and drops the pending operations they explain.
 * Returns what it did, one line each. Throws StackAccessError when a live
 * process holds Pulumi's lock: then nothing is touched.
 */
export async function recoverLeftovers(projectDir: string, project: string, stack: Stack, engines: readonly LeftoverEngine[], env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
    const leftovers = await findLeftovers(projectDir, project, stack, engines, env);
    if (leftovers.liveLocks.length > 0) {
        const l = leftovers.liveLocks[0];
        throw new StackAccessError(`stack ${stack.name}: a Pulumi operation (pid ${l.pid} on ${l.hostname}${l.timestamp ? `, since ${l.timestamp}` : ""}) holds the backend's lock. `
            + `Fix: wait for it to finish; if it is gone from another machine, \`npx pulumi cancel --stack ${stack.name}\``);
    }
    const done: string[] = [...leftovers.unreachable];
    if (leftovers.deadLocks.length > 0) {
        await stack.cancel();
        done.push(`cleared Pulumi's lock left by pid ${leftovers.deadLocks.map((l) => l.pid).join(", ")}, which is gone`);
    }
    for (const orphan of leftovers.orphans) {
        const { docker } = orphan.engine;
        if (orphan.kind === "container") await docker.getContainer(orphan.id).remove({ force: true }).catch((e: { statusCode?: number }) => { if (e.statusCode !== 404) throw e; });
        else await docker.getService(orphan.id).remove().catch((e: { statusCode?: number }) => { if (e.statusCode !== 404) throw e; });
        done.push(`removed ${orphan.kind} ${orphan.name}${orphan.agent ? ` (agent ${orphan.agent})` : ""}, which an interrupted create left running`);
    }
    if (leftovers.pending.length > 0) {
        // Each interrupted create's object is gone now (removed above, or never made); the others are read back.
        const exported = await stack.exportStack();
        const deployment = exported.deployment as Deployment;
        const creates = (deployment.pending_operations ?? []).filter((p) => p.type === "creating");
        const others = (deployment.pending_operations ?? []).filter((p) => p.type !== "creating");
        if (creates.length > 0) {
            await stack.importStack({ ...exported, deployment: { ...deployment, pending_operations: others } });
            done.push(...creates.map((p) => `dropped the interrupted create of ${p.resource.urn.split("::").at(-1)} from the state`));
        }
        if (others.length > 0) {
            await stack.refresh({ target: others.map((p) => p.resource.urn), color: "never" });
            done.push(...others.map((p) => `read ${p.resource.urn.split("::").at(-1)} back from Docker after an interrupted ${p.type.replace(/ing$/, "e")}`));
        }
    }
    return done;
}
