/**
 * The layer rules of docs/architecture.md, rendered from the rules that
 * enforce them (.dependency-cruiser.cjs, run by `npm run lint`), so the page
 * says what the linter checks.
 */
import { createRequire } from "module";
import * as path from "path";
import { block, markers, prose, replaceBlock, tableCell } from "./blocks";

export const LAYER_RULES = "layer-rules";
export const { start: LAYER_RULES_START, end: LAYER_RULES_END } = markers(LAYER_RULES);

type Paths = string | readonly string[];

export interface CruiserRule {
    readonly name: string;
    readonly comment?: string;
    readonly from: { readonly path?: Paths; readonly pathNot?: Paths };
    readonly to: { readonly path?: Paths; readonly pathNot?: Paths; readonly circular?: boolean };
}

const CRUISER_CONFIG = path.join(__dirname, "..", "..", ".dependency-cruiser.cjs");

/** The `forbidden` rules of the project's dependency-cruiser config. */
export function layerRules(file: string = CRUISER_CONFIG): CruiserRule[] {
    const load = createRequire(__filename);
    return (load(file) as { forbidden: CruiserRule[] }).forbidden;
}

function list(paths: Paths | undefined): readonly string[] {
    return paths === undefined ? [] : typeof paths === "string" ? [paths] : paths;
}

/** A path pattern of one folder or file, as people write it: `^config/` → `config/`, `^index\.ts$` → `index.ts`. */
function folder(pattern: string): string {
    return pattern.replace(/^\^/, "").replace(/\$$/, "").replace(/\\\./g, ".");
}

/**
 * A rule that says what one layer may import among our own folders: it forbids
 * every folder of ours (`to.path`) except the layer itself and those it allows
 * (`to.pathNot`). Undefined for any other rule.
 */
export function allowedImports(rule: CruiserRule): { from: string; allowed: string[] } | undefined {
    const from = list(rule.from.path);
    const except = list(rule.to.pathNot);
    if (from.length !== 1 || list(rule.to.path).length !== 1 || !except.includes(from[0])) return undefined;
    return { from: folder(from[0]), allowed: except.filter((p) => p !== from[0]).map(folder) };
}

export function renderLayerRules(rules: readonly CruiserRule[] = layerRules()): string {
    const layers = rules.flatMap((rule) => {
        const shape = allowedImports(rule);
        if (!shape) return [];
        const allowed = shape.allowed.length === 0 ? "nothing of ours" : shape.allowed.map((a) => `\`${a}\``).join(", ");
        return [`| \`${shape.from}\` | ${allowed} | \`${rule.name}\` | ${tableCell(prose(rule.comment ?? ""))} |`];
    });
    const others = rules.filter((rule) => !allowedImports(rule)).map((rule) => `- \`${rule.name}\`: ${prose(rule.comment ?? "")}`);
    return block(LAYER_RULES, [
        "| layer | may import (of ours) | rule | why |",
        "|---|---|---|---|",
        ...layers,
        "",
        "And across layers:",
        "",
        ...others,
    ].join("\n"));
}

/** Replaces the generated block in a page, or throws if the markers are missing. */
export function withLayerRules(page: string, file?: string): string {
    return replaceBlock(page, LAYER_RULES, renderLayerRules(), file);
}
