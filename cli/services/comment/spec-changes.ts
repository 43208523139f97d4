/**
 * What changed between two resolved agents, in the words of the fleet config:
 * the field names a user writes in a stack file or the catalog, and values
 * spelled as they would write them ("512Mi", "5m", "10%"). The loader turns
 * config into specs; this turns two specs back into a reviewer's diff.
 */
import { humanDuration } from "../../../contract/duration";
import { currentStageSince, rolloutStepProblems, stageRank } from "../../../config/rollout";
import type { AgentSpec, FeatureFlagSpec } from "../../../config/spec";

export interface FieldChange {
    /** The config field, e.g. "memory", "env `LOG_LEVEL`", "flag `smart-followups`". */
    readonly field: string;
    /** The old value as a user writes it; undefined when the field is new. */
    readonly from?: string;
    /** The new value; undefined when the field was removed. */
    readonly to?: string;
}

/** A flag moved forward in a way its rollout plan does not allow without --force. */
export interface RiskyFlagStep {
    readonly flag: string;
    readonly from: string;
    readonly to: string;
    /** What the step skips: stages, a soak cut short, a soak with no record to check it against. */
    readonly problems: readonly string[];
    /** `fleet flag --force` made it (the history says so). */
    readonly forced: boolean;
}

function memory(mb: number | undefined): string | undefined {
    if (mb === undefined) return undefined;
    return mb % 1024 === 0 ? `${mb / 1024}Gi` : `${mb}Mi`;
}

const duration = (ms: number | undefined) => (ms === undefined ? undefined : humanDuration(ms));
const text = (value: unknown) => (value === undefined ? undefined : typeof value === "string" ? value : JSON.stringify(value));

/** How one agent field reads in a report: its name in the config and its value there, for each part shown. */
type FieldWording = readonly (readonly [configName: string, read: (agent: AgentSpec) => string | undefined])[];

/**
 * Every field of an agent's spec, and how a change to it reads in a PR
 * report. Typed over every key of AgentSpec: a field added to the spec fails
 * the typecheck until it says how it reads here. "item by item": a map or
 * list compared entry by entry in agentFieldChanges; "not shown": the agent's
 * identity, or derived from a field that is shown (its tier).
 */
const AGENT_FIELD_WORDING: { readonly [K in keyof AgentSpec]-?: FieldWording | "item by item" | "not shown" } = {
    name: "not shown",
    environment: "not shown",
    tier: [["tier", (a) => text(a.tier)]],
    owner: [["owner", (a) => a.owner]],
    image: [["image", (a) => a.image]],
    version: [["version", (a) => a.version]],
    rollbackImage: [["rollbackImage", (a) => a.rollbackImage]],
    // Its args are compared item by item.
    build: [["build.context", (a) => a.build?.context], ["build.dockerfile", (a) => a.build?.dockerfile]],
    port: [["port", (a) => text(a.port)]],
    hostPort: [["hostPort", (a) => text(a.hostPort)]],
    containerName: [["containerName", (a) => a.containerName]],
    memoryMb: [["memory", (a) => memory(a.memoryMb)]],
    cpus: [["cpus", (a) => text(a.cpus)]],
    replicas: [["replicas", (a) => text(a.replicas)]],
    monitorWindowMs: [["monitorWindow", (a) => duration(a.monitorWindowMs)]],
    waitTimeoutMs: [["waitTimeout", (a) => duration(a.waitTimeoutMs)]],
    errorRateLimitPercent: [["errorRateLimit", (a) => (a.errorRateLimitPercent === undefined ? undefined : `${a.errorRateLimitPercent}%`)]],
    stopGraceMs: [["stopGracePeriod", (a) => duration(a.stopGraceMs)]],
    restartMaxRetries: "not shown",
    user: [["user", (a) => a.user]],
    // Specs recorded in state before a field existed lack it: read them as the loader's default.
    readOnlyRootFilesystem: [["readOnlyRootFilesystem", (a) => text(a.readOnlyRootFilesystem ?? true)]],
    healthcheck: [
        ["healthcheck.path", (a) => (a.healthcheck.command ? undefined : a.healthcheck.path)],
        ["healthcheck.command", (a) => (a.healthcheck.command ? a.healthcheck.command.join(" ") : undefined)],
        ["healthcheck.interval", (a) => duration(a.healthcheck.intervalMs)],
        ["healthcheck.timeout", (a) => duration(a.healthcheck.timeoutMs)],
        ["healthcheck.retries", (a) => text(a.healthcheck.retries)],
        ["healthcheck.startPeriod", (a) => duration(a.healthcheck.startPeriodMs)],
    ],
    alertChannels: [["alertChannels", (a) => (a.alertChannels.length > 0 ? a.alertChannels.join(", ") : undefined)]],
    // Specs recorded before hosts existed lack it.
    hosts: [["hosts", (a) => (a.hosts?.length ? a.hosts.join(", ") : undefined)]],
    // Where the public reaches it: its URL at the edge (a hostname of its own, or a path prefix under the edge's),
    // so that a change of the edge's hostname or port shows too. Specs recorded before the URL existed lack it.
    expose: [["expose", (a) => (a.expose === undefined ? undefined : (a.expose as { url?: string }).url ?? ("hostname" in a.expose ? a.expose.hostname : a.expose.pathPrefix))]],
    placementConstraints: [["placementConstraints", (a) => (a.placementConstraints?.length ? a.placementConstraints.join(", ") : undefined)]],
    env: "item by item",
    secrets: "item by item",
    webhooks: "item by item",
    smokeChecks: "item by item",
    featureFlags: "item by item",
};

/** The single-valued parts of every field, in the order a report lists them. */
const SCALARS: FieldWording = Object.values(AGENT_FIELD_WORDING).flatMap((wording) => (typeof wording === "string" ? [] : wording));

function keyed<T>(field: (key: string) => string, before: Readonly<Record<string, T>>, after: Readonly<Record<string, T>>, show: (value: T) => string): FieldChange[] {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => {
        const from = key in before ? show(before[key]) : undefined;
        const to = key in after ? show(after[key]) : undefined;
        return from === to ? [] : [{ field: field(key), ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) }];
    });
}

const byName = <T extends { readonly name: string }>(items: readonly T[]) => Object.fromEntries(items.map((item) => [item.name, item]));
const stages = (flag: FeatureFlagSpec) => flag.stages.map((s) => (s.soakMs ? `${s.stage} (soak ${humanDuration(s.soakMs)})` : s.stage)).join(" → ");

/**
 * A stage change says how long the stage it leaves soaked, when the
 * history records both moves: "`team` (since 2026-11-20T09:00:00Z, soaked 28h)".
 */
function soaked(change: FieldChange, before: Readonly<Record<string, FeatureFlagSpec>>, after: Readonly<Record<string, FeatureFlagSpec>>): FieldChange {
    const name = /^flag `(.+)`$/.exec(change.field)?.[1];
    const old = name === undefined ? undefined : before[name];
    const since = old && currentStageSince(old);
    if (!old || !since || change.from === undefined) return change;
    const left = name === undefined ? undefined : after[name] && currentStageSince(after[name]);
    const age = left ? `, soaked ${humanDuration(Math.floor((Date.parse(left) - Date.parse(since)) / 60_000) * 60_000)}` : "";
    return { ...change, from: `${change.from} (since ${since}${age})` };
}

/**
 * Every config field that differs between two versions of an agent, in a
 * fixed order: scalars, then env, secrets (names only: values never reach a
 * spec), webhooks, smoke checks, and feature flags.
 */
export function agentFieldChanges(before: AgentSpec, after: AgentSpec): FieldChange[] {
    const changes: FieldChange[] = [];
    for (const [field, read] of SCALARS) {
        const from = read(before);
        const to = read(after);
        if (from !== to) changes.push({ field, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
    }
    changes.push(...keyed((key) => `build arg \`${key}\``, before.build?.args ?? {}, after.build?.args ?? {}, String));
    changes.push(...keyed((key) => `env \`${key}\``, before.env, after.env, String));
    changes.push(...keyed((key) => `secret \`${key}\``, before.secrets, after.secrets, (configKey) => `from config key ${configKey}`));
    changes.push(...keyed((name) => `webhook \`${name}\``, byName(before.webhooks ?? []), byName(after.webhooks ?? []),
        (w) => `${w.source} POST ${w.path}${w.repository ? ` ← ${w.repository} (${w.events.join(", ")})` : ""}, signed with config key ${w.secretKey}`));
    changes.push(...keyed((name) => `smoke check \`${name}\``, byName(before.smokeChecks), byName(after.smokeChecks),
        (check) => `${check.method} ${check.path} → ${check.expectStatus}`));
    const flagsBefore = byName(before.featureFlags);
    const flagsAfter = byName(after.featureFlags);
    changes.push(...keyed((name) => `flag \`${name}\``, flagsBefore, flagsAfter, (flag) => flag.currentStage).map((change) => soaked(change, flagsBefore, flagsAfter)));
    changes.push(...keyed((name) => `flag \`${name}\` stages`,
        Object.fromEntries(Object.entries(flagsBefore).filter(([name]) => name in flagsAfter)),
        Object.fromEntries(Object.entries(flagsAfter).filter(([name]) => name in flagsBefore)), stages));
    return changes;
}

/**
 * Flags that move forward further or sooner than their rollout plan allows:
 * a skipped stage (`team` straight to `100%`), a soak cut short (`10%` →
 * `100%` after 15 minutes of 24 hours), or a step whose soak has no record.
 * Judged from the flag's own history as the new spec records it, with the
 * step's time that of its last record: the same rule `fleet flag` applies
 * (config/rollout.ts), so a forced step always shows. A move back towards
 * off is never risky: it is the rollback.
 */
export function riskyFlagSteps(before: AgentSpec, after: AgentSpec): RiskyFlagStep[] {
    const old = byName(before.featureFlags);
    return after.featureFlags.flatMap((flag) => {
        const previous = old[flag.name];
        if (!previous || previous.currentStage === flag.currentStage) return [];
        if (stageRank(flag.currentStage) <= stageRank(previous.currentStage)) return [];
        const history = flag.history ?? [];
        const last = history.at(-1);
        const step = last?.stage === flag.currentStage ? last : undefined;
        const fromSince = currentStageSince(previous);
        const at = step ? new Date(step.since) : new Date();
        const problems = rolloutStepProblems(flag.stages, previous.currentStage, flag.currentStage, fromSince, at);
        // Stages off the plan count by audience size, as rolloutStepProblems does not see them.
        if (problems.length === 0 && !flag.stages.some((s) => s.stage === previous.currentStage)) {
            const skipped = flag.stages.map((s) => s.stage).filter((stage) => stageRank(stage) > stageRank(previous.currentStage) && stageRank(stage) < stageRank(flag.currentStage));
            if (skipped.length > 0) problems.push(`skips ${skipped.join(", ")}`);
        }
        const forced = step?.forced ?? false;
        return problems.length > 0 || forced ? [{ flag: flag.name, from: previous.currentStage, to: flag.currentStage, problems, forced }] : [];
    });
}

/** What a reviewer checks first when an agent is deployed anew: its image, version, size and flags, as config values. */
export function agentDeployFields(agent: AgentSpec): FieldChange[] {
    const fields: FieldChange[] = [
        { field: "image", to: agent.image },
        { field: "version", to: agent.version },
        { field: "replicas", to: String(agent.replicas) },
    ];
    const mem = memory(agent.memoryMb);
    if (mem) fields.push({ field: "memory", to: mem });
    for (const flag of agent.featureFlags) fields.push({ field: `flag \`${flag.name}\``, to: flag.currentStage });
    return fields;
}
