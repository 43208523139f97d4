/**
 * One stack's preview in fleet terms, reduced from its engine event log:
 * which agents change and how, what changed in the words of the fleet config,
 * the warnings a reviewer needs, and every policy violation next to its agent.
 */
import * as pulumi from "@pulumi/pulumi";
import type { EngineEvent, OpMap, StepEventMetadata } from "@pulumi/pulumi/automation";
import { AgentSpec } from "../../../config";
import { COMPONENT_TYPES, SECRET_MARKER, ViolationLevel } from "../../../contract";

import { agentsByUrn } from "../agents-by-urn";
import { CREDENTIAL_NAME_RE } from "../../../policies/rules";
import { FieldChange, agentDeployFields, agentFieldChanges, riskyFlagSteps } from "./spec-changes";

type AgentOperation = "deploy" | "update" | "replace" | "remove";

export interface PolicyFinding {
    readonly policy: string;
    readonly level: ViolationLevel;
    /** The agent it concerns; null for the stack as a whole. */
    readonly agent: string | null;
    /** The policy's own message (file, field, fix), without the description the engine puts above it. */
    readonly message: string;
}

interface ProviderFieldDiff {
    /** Property path as the engine names it, e.g. "envs[2]". */
    readonly path: string;
    /** add, delete, update, each possibly "-replace". */
    readonly kind: string;
    /** Old and new values, rendered; "[secret]" for any secret. Undefined when absent. */
    readonly from?: string;
    readonly to?: string;
}

export interface ProviderChange {
    /** The resource's type (last segment) and name, e.g. "Container fleet-jarvis". */
    readonly resource: string;
    readonly op: string;
    readonly fields: readonly ProviderFieldDiff[];
}

export interface AgentPreview {
    readonly name: string;
    readonly tier?: number;
    readonly owner?: string;
    readonly environment?: string;
    readonly operation: AgentOperation;
    /** A container is replaced delete-first, so the agent is down for a while. */
    readonly downtime: boolean;
    /** A feature flag moves forward sooner or further than its rollout plan allows (forced, or with no record of its soak). */
    readonly riskyFlagStep: boolean;
    /** Fleet-config fields that change (update only). */
    readonly changes: readonly FieldChange[];
    readonly warnings: readonly string[];
    readonly violations: readonly PolicyFinding[];
    /** Provider-level diffs, folded away in the report. */
    readonly providerChanges: readonly ProviderChange[];
}

export interface StackPreview {
    readonly project: string;
    readonly stack: string;
    /** Resource steps per operation, from the engine's summary. */
    readonly resourceChanges: Readonly<OpMap>;
    /** Changed agents, by name. */
    readonly agents: readonly AgentPreview[];
    /** Every violation, in the order the engine reported them. */
    readonly violations: readonly PolicyFinding[];
    /**
     * Policies the engine could not run in the preview, because they read what only
     * the update knows (a published host port, say): not violations, and not checked.
     */
    readonly notCheckedInPreview: readonly string[];
    /** The stack has never been deployed: everything is a create, and no release can be compared with a running one. */
    readonly firstPreview: boolean;
    /** True when a mandatory violation blocks the update. */
    readonly blocked: boolean;
    /** Errors the engine reported (the preview itself failed); secrets are never in them. */
    readonly errors: readonly string[];
}

const SECRET_TEXT = SECRET_MARKER;
const NO_CHANGE = new Set(["same", "read", "refresh", "discard", "import", "remove-pending-replace"]);
const REPLACEMENT = new Set(["replace", "create-replacement", "delete-replaced"]);

/** True for a value the engine marks secret in its events (masked as "[secret]", or with its plaintext under --show-secrets). */
function isSecret(value: unknown): boolean {
    return value === SECRET_TEXT
        || (typeof value === "object" && value !== null && (value as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig);
}

function containsSecret(value: unknown): boolean {
    if (isSecret(value)) return true;
    if (Array.isArray(value)) return value.some(containsSecret);
    if (typeof value === "object" && value !== null) return Object.values(value).some(containsSecret);
    return false;
}

/**
 * Masks what names itself a credential in plain data: a `NAME=value` entry
 * (how the provider lists env vars) or an object key with a credential name.
 */
function maskCredentialNames(value: unknown): unknown {
    if (typeof value === "string") {
        const eq = value.indexOf("=");
        return eq > 0 && CREDENTIAL_NAME_RE.test(value.slice(0, eq)) ? `${value.slice(0, eq + 1)}${SECRET_TEXT}` : value;
    }
    if (Array.isArray(value)) return value.map(maskCredentialNames);
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, CREDENTIAL_NAME_RE.test(k) ? SECRET_TEXT : maskCredentialNames(v)]));
    }
    return value;
}

/** An env var's change whose name says it holds a credential shows "[secret]" on both sides. */
function maskCredentialEnv(change: FieldChange): FieldChange {
    const name = /^env `([^`]+)`$/.exec(change.field)?.[1];
    if (name === undefined || !CREDENTIAL_NAME_RE.test(name)) return change;
    return { field: change.field, ...(change.from !== undefined ? { from: SECRET_TEXT } : {}), ...(change.to !== undefined ? { to: SECRET_TEXT } : {}) };
}

/** A value for the report: secrets as "[secret]", credential-named entries masked, long values cut. */
function renderValue(value: unknown): string | undefined {
    if (value === undefined) return undefined;
    if (containsSecret(value)) return SECRET_TEXT;
    const masked = maskCredentialNames(value);
    const text = typeof masked === "string" ? masked : JSON.stringify(masked);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Reads an engine property path ("envs[2]", "healthcheck.tests[0]", `labels["a.b"]`) from an object; stops at a secret. */
function valueAt(root: unknown, path: string): unknown {
    const parts = [...path.matchAll(/\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]|([^.[\]]+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
    let value = root;
    for (const part of parts) {
        if (isSecret(value)) return value;
        if (value === null || typeof value !== "object") return undefined;
        value = (value as Record<string, unknown>)[part];
    }
    return value;
}

function nameOf(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}

function shortType(type: string): string {
    return type.slice(type.lastIndexOf(":") + 1);
}

function levelOf(enforcementLevel: string): ViolationLevel {
    return enforcementLevel === "mandatory" || enforcementLevel === "remediate" ? "mandatory" : "advisory";
}

/** The engine prints a policy's description above its message; the message alone is what names file, field and fix. */
function policyMessage(text: string): string {
    const lines = text.trim().split("\n");
    return (lines.length > 1 ? lines.slice(1) : lines).join("\n").trim();
}

function agentOf(step: StepEventMetadata): AgentSpec | undefined {
    return ((step.new ?? step.old)?.inputs as { agent?: AgentSpec } | undefined)?.agent;
}

/** Stack and project from the URNs: the log names them nowhere else. */
function identity(steps: readonly StepEventMetadata[], file: string): { stack: string; project: string } {
    const urn = steps[0]?.urn;
    const match = urn ? /^urn:pulumi:([^:]+)::([^:]+)::/.exec(urn) : null;
    if (!match) throw new Error(`${file}: the event log has no resource steps to tell its stack from`);
    return { stack: match[1], project: match[2] };
}

/** Which agent each step's resource belongs to (see agentsByUrn); steps of the fleet's own resources are left out. */
function attribution(steps: readonly StepEventMetadata[]): Map<string, string> {
    const agents = agentsByUrn(steps.map((step) => {
        const state = step.new ?? step.old;
        return { urn: step.urn, type: step.type, parent: state?.parent, inputs: state?.inputs };
    }));
    return new Map([...agents].filter((entry): entry is [string, string] => entry[1] !== null));
}

function providerChange(step: StepEventMetadata): ProviderChange {
    const detailed = step.detailedDiff ?? {};
    const paths = Object.keys(detailed).length > 0 ? Object.keys(detailed) : step.diffs ?? [];
    return {
        resource: `${shortType(step.type)} ${nameOf(step.urn)}`,
        op: step.op,
        fields: [...paths].sort().map((path) => {
            const from = renderValue(valueAt(step.old?.inputs, path));
            const to = renderValue(valueAt(step.new?.inputs, path));
            return { path, kind: detailed[path]?.diffKind ?? "update", ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
        }),
    };
}

interface AgentSteps {
    service?: StepEventMetadata;
    changed: StepEventMetadata[];
    /** Sequence of each replacement's delete-replaced and create-replacement, by URN. */
    deletedAt: Map<string, number>;
    createdAt: Map<string, number>;
}

function operationOf(steps: AgentSteps): AgentOperation {
    if (steps.service?.op === "create") return "deploy";
    if (steps.service?.op === "delete") return "remove";
    return steps.changed.some((s) => REPLACEMENT.has(s.op)) ? "replace" : "update";
}

function agentPreview(name: string, steps: AgentSteps, violations: readonly PolicyFinding[]): AgentPreview {
    const operation = operationOf(steps);
    const service = steps.service;
    const before = service?.old?.inputs?.agent as AgentSpec | undefined;
    const after = service?.new?.inputs?.agent as AgentSpec | undefined;
    const spec = after ?? before ?? (steps.changed.map(agentOf).find(Boolean));
    const changes: FieldChange[] = (operation === "deploy" && after
        ? agentDeployFields(after)
        : operation !== "remove" && before && after ? agentFieldChanges(before, after) : []).map(maskCredentialEnv);
    // A secret value that changed shows only as a masked provider diff: the spec names config keys, not values.
    const secretChanged = steps.changed.some((s) => s.op !== "delete-replaced" && (s.diffs ?? []).some((key) => containsSecret(s.old?.inputs?.[key]) || containsSecret(s.new?.inputs?.[key])));
    // An env or secret-mapping change explains a masked envs diff by itself; only otherwise is it a rotated value.
    const explained = changes.some((c) => c.field.startsWith("env ") || c.field.startsWith("secret "));
    const changesWithSecret = secretChanged && !explained
        ? [...changes, { field: "a secret value", from: SECRET_TEXT, to: SECRET_TEXT }]
        : changes;

    const warnings: string[] = [];
    let downtime = false;
    for (const [urn, deleted] of [...steps.deletedAt.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        const created = steps.createdAt.get(urn);
        if (created === undefined || deleted < created) {
            downtime = true;
            warnings.push(`\`${nameOf(urn)}\` is replaced delete-first: the old container stops before the new one starts, so the agent is down in between`);
        }
    }
    const risky = before && after ? riskyFlagSteps(before, after) : [];
    for (const step of risky) {
        warnings.push(`flag \`${step.flag}\` goes \`${step.from}\` → \`${step.to}\`${step.forced ? " (forced)" : ""}: it ${step.problems.join("; and ") || "was forced past its rollout plan"}`);
    }
    if (operation === "remove") warnings.push("removed from the stack: `pulumi up` deletes its containers");
    if (spec && spec.tier >= 2 && operation !== "remove" && spec.alertChannels.length === 0) {
        warnings.push(`tier ${spec.tier} agent changes with no alert channel: set \`alertChannels\` so a failure after deploy reaches someone`);
    }
    // The replacement's own step carries its diff; a create has none to show (the entry says what is deployed).
    const shown = steps.changed.filter((s) => !["create", "create-replacement", "delete-replaced"].includes(s.op) && s.type !== COMPONENT_TYPES.agentService);
    return {
        name,
        ...(spec ? { tier: spec.tier, environment: spec.environment } : {}),
        ...(spec?.owner ? { owner: spec.owner } : {}),
        operation,
        downtime,
        riskyFlagStep: risky.length > 0,
        changes: changesWithSecret,
        warnings,
        violations: violations.filter((v) => v.agent === name),
        providerChanges: shown.map(providerChange),
    };
}

/** Reduces one stack's event log; `file` names it in errors. */
export function previewOf(events: readonly EngineEvent[], file: string): StackPreview {
    const ordered = [...events].sort((a, b) => a.sequence - b.sequence);
    const steps = ordered.flatMap((e) => (e.resourcePreEvent ? [e.resourcePreEvent.metadata] : []));
    const { stack, project } = identity(steps, file);
    const agentByUrn = attribution(steps);

    // "can't run policy 'x' … during preview" is the engine saying it did not check, not that anything is wrong.
    const notChecked = new Set<string>();
    const violations: PolicyFinding[] = ordered.flatMap((e) => {
        const p = e.policyEvent;
        if (!p) return [];
        if (/^can't run policy '[^']+'.* during preview/.test(p.message)) {
            notChecked.add(p.policyName);
            return [];
        }
        return [{ policy: p.policyName, level: levelOf(p.enforcementLevel), agent: (p.resourceUrn && agentByUrn.get(p.resourceUrn)) || null, message: policyMessage(p.message) }];
    });

    const byAgent = new Map<string, AgentSteps>();
    ordered.forEach((event) => {
        const step = event.resourcePreEvent?.metadata;
        const agent = step && agentByUrn.get(step.urn);
        if (!step || !agent) return;
        const entry: AgentSteps = byAgent.get(agent) ?? { changed: [], deletedAt: new Map(), createdAt: new Map() };
        byAgent.set(agent, entry);
        if (step.type === COMPONENT_TYPES.agentService) entry.service = step;
        if (NO_CHANGE.has(step.op)) return;
        entry.changed.push(step);
        if (step.op === "delete-replaced") entry.deletedAt.set(step.urn, event.sequence);
        if (step.op === "create-replacement") entry.createdAt.set(step.urn, event.sequence);
    });

    const agents = [...byAgent.entries()]
        .filter(([, s]) => s.changed.length > 0)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, s]) => agentPreview(name, s, violations));

    const summary = ordered.find((e) => e.summaryEvent)?.summaryEvent;
    const counted: OpMap = {};
    for (const step of steps) counted[step.op] = (counted[step.op] ?? 0) + 1;
    const errors = ordered.flatMap((e) => (e.diagnosticEvent?.severity === "error" ? [e.diagnosticEvent.message.trim()] : []));
    return {
        project,
        stack,
        resourceChanges: summary?.resourceChanges ?? counted,
        agents,
        violations,
        notCheckedInPreview: [...notChecked].sort(),
        firstPreview: steps.some((step) => step.type === "pulumi:pulumi:Stack" && step.op === "create"),
        blocked: violations.some((v) => v.level === "mandatory"),
        errors,
    };
}
