/**
 * Enforcement levels for `fleet check`, read from the same file `pulumi
 * preview --policy-pack policies --policy-pack-config <file>` takes:
 *
 *   { "all": "advisory", "<policy>": "mandatory", "<policy>": { "enforcementLevel": "disabled", ...config } }
 *
 * Reconciled as the Pulumi engine does it: each policy's own level (the
 * pack's default, advisory, when it has none) and its config schema defaults,
 * then "all", then the policy's own entry.
 */
import * as fs from "fs";
import * as path from "path";
import type { EnforcementLevel, Policy } from "@pulumi/policy";
import { closest, distance } from "fastest-levenshtein";
import { policyConfigFileName } from "../../config";
import type { PolicySettings as AnalyzerPolicySettings } from "../../policies/analyzer";
import { UserError } from "../../config/errors";


const ENFORCEMENT_LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];
/** A PolicyPack without its own enforcementLevel defaults to this (see @pulumi/policy's policy.js). */
const PACK_DEFAULT_LEVEL: EnforcementLevel = "advisory";

/** A policy's level and what `args.getConfig()` returns: its config properties, without enforcementLevel. */
type PolicySettings = Required<AnalyzerPolicySettings>;

export interface PolicyConfig {
    /** Display path of the file the levels came from, when there is one. */
    readonly file?: string;
    settings(policyName: string): PolicySettings;
}

interface Entry {
    readonly level?: EnforcementLevel;
    readonly properties: Record<string, unknown>;
}

function isLevel(value: unknown): value is EnforcementLevel {
    return typeof value === "string" && (ENFORCEMENT_LEVELS as readonly string[]).includes(value);
}

function levelProblem(display: string, key: string, value: unknown): UserError {
    return new UserError(`${display}: ${key}: expected an enforcement level (${ENFORCEMENT_LEVELS.join(", ")}), got ${JSON.stringify(value)}`);
}

/** Parses the file the way the Pulumi CLI's parsePolicyPackConfig does; unknown policy names are refused. */
function parsePolicyConfig(text: string, display: string, policyNames: readonly string[]): Map<string, Entry> {
    const entries = new Map<string, Entry>();
    // Pulumi accepts an empty file as "no config".
    if (text.trim() === "") return entries;
    let raw: unknown;
    try {
        raw = JSON.parse(text);
    } catch (error) {
        throw new UserError(`${display}: expected valid JSON, got a parse error: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        throw new UserError(`${display}: expected an object of policy names to enforcement levels, got ${Array.isArray(raw) ? "a list" : JSON.stringify(raw)}`);
    }
    for (const [key, value] of Object.entries(raw)) {
        // Pulumi ignores a name it does not know; a typo there would silently keep the old level, so refuse it.
        if (key !== "all" && !policyNames.includes(key)) {
            const suggestion = policyNames.length > 0 ? closest(key, [...policyNames]) : undefined;
            const hint = suggestion !== undefined && distance(key, suggestion) <= 3 ? ` (did you mean "${suggestion}"?)` : "";
            throw new UserError(`${display}: ${key}: expected "all" or a policy of the pack${hint}, got unknown policy ${JSON.stringify(key)}`);
        }
        if (typeof value === "string") {
            if (!isLevel(value)) throw levelProblem(display, key, value);
            entries.set(key, { level: value, properties: {} });
        } else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
            const { enforcementLevel, ...properties } = value as Record<string, unknown>;
            if (enforcementLevel !== undefined && !isLevel(enforcementLevel)) throw levelProblem(display, `${key}.enforcementLevel`, enforcementLevel);
            entries.set(key, { level: enforcementLevel as EnforcementLevel | undefined, properties });
        } else {
            throw new UserError(`${display}: ${key}: expected an enforcement level or an object with enforcementLevel, got ${JSON.stringify(value)}`);
        }
    }
    return entries;
}

function schemaDefaults(policy: Policy): Record<string, unknown> {
    const defaults: Record<string, unknown> = {};
    for (const [name, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
        if (typeof schema === "object" && schema !== null && "default" in schema) defaults[name] = (schema as { default: unknown }).default;
    }
    return defaults;
}

/** Each policy's level and config: its defaults, then "all", then its own entry (Pulumi's ReconcilePolicyPackConfig). */
function reconcilePolicyConfig(policies: readonly Policy[], entries: ReadonlyMap<string, Entry>, file?: string): PolicyConfig {
    const all = entries.get("all")?.level;
    const resolved = new Map<string, PolicySettings>();
    for (const policy of policies) {
        const own = entries.get(policy.name);
        resolved.set(policy.name, {
            level: own?.level ?? all ?? policy.enforcementLevel ?? PACK_DEFAULT_LEVEL,
            config: { ...schemaDefaults(policy), ...own?.properties },
        });
    }
    return {
        file,
        settings: (name) => resolved.get(name) ?? { level: all ?? PACK_DEFAULT_LEVEL, config: {} },
    };
}

/** Reads `stacks/policy.<stack>.json` when the project has one; without it every policy keeps its own level. */
export function readPolicyConfig(projectDir: string, stack: string, policies: readonly Policy[]): PolicyConfig {
    const display = policyConfigFileName(stack);
    const file = path.join(projectDir, display);
    if (!fs.existsSync(file)) return reconcilePolicyConfig(policies, new Map());
    const entries = parsePolicyConfig(fs.readFileSync(file, "utf8"), display, policies.map((p) => p.name));
    return reconcilePolicyConfig(policies, entries, display);
}
