/**
 * The config key reference (docs/reference/config.md), generated from the zod
 * schemas through their JSON Schema (`z.toJSONSchema`): every key path, its
 * type and whether it is required come from the schema, the words and the
 * defaults from ./config-descriptions.ts (or the schema's own description).
 */
import { z } from "zod";
import { agentSchema, channelSchema, githubConfigSchema, stackFleetSchema } from "../../config";
import { isDuration } from "../../contract";
import { block, markers, prose, replaceBlock, tableCell } from "./blocks";
import { AGENT_KEYS, CHANNEL_KEYS, FLEET_KEYS, GITHUB_KEYS, KeyDoc } from "./config-descriptions";

export const CONFIG_REFERENCE = "config-reference";
export const { start: CONFIG_REFERENCE_START, end: CONFIG_REFERENCE_END } = markers(CONFIG_REFERENCE);

/** The part of JSON Schema that zod emits for these schemas. */
export interface JsonSchema {
    readonly type?: string;
    readonly properties?: Readonly<Record<string, JsonSchema>>;
    readonly required?: readonly string[];
    readonly items?: JsonSchema;
    readonly anyOf?: readonly JsonSchema[];
    readonly enum?: readonly unknown[];
    readonly const?: unknown;
    readonly minimum?: number;
    readonly maximum?: number;
    readonly exclusiveMinimum?: number;
    readonly minItems?: number;
    readonly additionalProperties?: JsonSchema | boolean;
    readonly propertyNames?: JsonSchema;
    readonly format?: string;
    readonly description?: string;
    readonly default?: unknown;
}

export interface ConfigSection {
    /** The heading, which is also the anchor other pages link to. */
    readonly title: string;
    /** Where these keys are written, one line. */
    readonly where: string;
    readonly schema: z.ZodType;
    readonly docs: Readonly<Record<string, KeyDoc>>;
}

export interface KeyRow {
    readonly path: string;
    readonly type: string;
    readonly required: boolean;
    readonly default?: string;
    readonly description?: string;
}

export const CONFIG_SECTIONS: readonly ConfigSection[] = [
    {
        title: "Fleet keys",
        where: "`agent-fleet:fleet` in `stacks/Pulumi.<stack>.yaml`.",
        schema: stackFleetSchema,
        docs: FLEET_KEYS,
    },
    {
        title: "Agent fields",
        where: "`fleet.agents.<name>` and `fleet.agentDefaults` in a stack file, and `agents.<name>` in `stacks/catalog.yaml`. Every field may be left out of any one layer; \"required\" means required once the layers are merged.",
        schema: agentSchema,
        docs: AGENT_KEYS,
    },
    {
        title: "Channel fields",
        where: "`fleet.channels.<name>` in a stack file.",
        schema: channelSchema,
        docs: CHANNEL_KEYS,
    },
    {
        title: "GitHub keys",
        where: "`agent-fleet:github` in one stack file (opt-in; see [The GitHub side](../guides/github.md)).",
        schema: githubConfigSchema,
        docs: GITHUB_KEYS,
    },
];

function code(value: unknown): string {
    return `\`${typeof value === "string" ? value : JSON.stringify(value)}\``;
}

function oneOf(values: readonly unknown[]): string {
    const shown = values.map(code);
    return shown.length === 1 ? shown[0] : `${shown.slice(0, -1).join(", ")} or ${shown.at(-1)}`;
}

/** The type of one schema node, in a few words. */
export function describeType(node: JsonSchema): string {
    if (node.anyOf) {
        const consts = node.anyOf.filter((n) => "const" in n);
        if (consts.length === node.anyOf.length) return oneOf(consts.map((n) => n.const));
        return node.anyOf.map(describeType).join(" or ");
    }
    if ("const" in node) return code(node.const);
    if (node.enum) return `one of ${node.enum.map(code).join(", ")}`;
    switch (node.type) {
        case "string":
            if (node.format === DURATION_FORMAT) return "duration";
            return node.format === "date-time" ? "date-time string" : "string";
        case "integer":
        case "number": {
            const low = node.exclusiveMinimum !== undefined ? `> ${node.exclusiveMinimum}` : node.minimum !== undefined ? `${node.minimum}` : undefined;
            const high = node.maximum !== undefined && node.maximum < Number.MAX_SAFE_INTEGER ? `${node.maximum}` : undefined;
            const range = low !== undefined && high !== undefined
                ? (low.startsWith(">") ? `${low}, ≤ ${high}` : `${low}–${high}`)
                : low !== undefined ? (low.startsWith(">") ? low : `≥ ${low}`) : high !== undefined ? `≤ ${high}` : "";
            return range ? `${node.type} ${range}` : node.type;
        }
        case "boolean":
            return "boolean";
        case "array": {
            const item = node.items ? (node.items.properties ? "objects" : describeType(node.items)) : "anything";
            const items = item.replace(/^(string|boolean|integer|number|duration)\b/, "$1s");
            return `list of ${items}${node.minItems ? ` (at least ${node.minItems})` : ""}`;
        }
        case "object":
            if (node.properties) return "object";
            if (typeof node.additionalProperties === "object") {
                const value = node.additionalProperties;
                return `map: name → ${value.properties ? "object" : describeType(value)}`;
            }
            return "object";
        default:
            return "any";
    }
}

/** How a duration shows in the JSON Schema: zod knows it only as a string with a refinement (isDuration). */
const DURATION_FORMAT = "fleet-duration";

/** The schema as JSON Schema (its input side), durations marked. */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
    return z.toJSONSchema(schema, {
        io: "input",
        // A rollout stage's shorthand string goes through z.preprocess, which JSON Schema cannot show: its object form stands.
        unrepresentable: "any",
        override: ({ zodSchema, jsonSchema }) => {
            const checks = (zodSchema._zod.def as { checks?: { _zod: { def: { fn?: unknown } } }[] }).checks ?? [];
            if (checks.some((check) => check._zod.def.fn === isDuration)) jsonSchema.format = DURATION_FORMAT;
        },
    }) as JsonSchema;
}

/** Every key under `node`, depth first, in the schema's order. */
export function keyRows(node: JsonSchema, prefix = ""): KeyRow[] {
    const rows: KeyRow[] = [];
    for (const [key, child] of Object.entries(node.properties ?? {})) {
        const path = `${prefix}${key}`;
        rows.push({
            path,
            type: describeType(child),
            required: node.required?.includes(key) ?? false,
            ...(child.description ? { description: child.description } : {}),
            ...(child.default !== undefined ? { default: code(child.default) } : {}),
        });
        rows.push(...childRows(child, path));
    }
    return rows;
}

/** The keys inside a key: an object's fields, a list's items' fields, a map's values' fields. */
function childRows(node: JsonSchema, path: string): KeyRow[] {
    if (node.properties) return keyRows(node, `${path}.`);
    if (node.anyOf) return node.anyOf.flatMap((alternative) => childRows(alternative, path));
    if (node.type === "array" && node.items) return childRows(node.items, `${path}[]`);
    if (typeof node.additionalProperties === "object") return childRows(node.additionalProperties, `${path}.<name>`);
    return [];
}

/** A section's rows with their words: throws, naming each key, when a key has none or a description names no key. */
export function sectionRows(section: ConfigSection): KeyRow[] {
    const schema = jsonSchemaOf(section.schema);
    const rows = keyRows(schema).map((row) => {
        const doc = section.docs[row.path];
        return {
            ...row,
            ...(doc?.type ? { type: doc.type } : {}),
            description: row.description ?? doc?.description,
            default: row.default ?? doc?.default,
        };
    });
    const undescribed = rows.filter((r) => !r.description).map((r) => r.path);
    const known = new Set(rows.map((r) => r.path));
    const stale = Object.keys(section.docs).filter((path) => !known.has(path));
    const problems = [
        ...(undescribed.length > 0 ? [`no description for ${undescribed.join(", ")}`] : []),
        ...(stale.length > 0 ? [`descriptions for keys the schema does not have: ${stale.join(", ")}`] : []),
    ];
    if (problems.length > 0) throw new Error(`${section.title}: ${problems.join("; ")} (scripts/docs/config-descriptions.ts)`);
    return rows;
}

export function renderConfigReference(sections: readonly ConfigSection[] = CONFIG_SECTIONS): string {
    const parts = sections.flatMap((section) => [
        `## ${section.title}`,
        "",
        section.where,
        "",
        "| key | type | required | default | meaning |",
        "|---|---|---|---|---|",
        ...sectionRows(section).map((row) => `| ${[
            `\`${row.path}\``,
            row.type,
            row.required ? "yes" : "",
            prose(row.default ?? ""),
            prose(row.description ?? ""),
        ].map(tableCell).join(" | ")} |`),
        "",
    ]);
    return block(CONFIG_REFERENCE, parts.join("\n").trimEnd());
}

/** Replaces the generated block in a page, or throws if the markers are missing. */
export function withConfigReference(page: string, file?: string): string {
    return replaceBlock(page, CONFIG_REFERENCE, renderConfigReference(), file);
}
