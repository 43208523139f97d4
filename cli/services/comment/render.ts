/**
 * The Markdown report for one stack's preview, sized for a GitHub comment:
 * the summary and every policy violation first, then the changed agents in
 * fleet terms, then provider-level diffs folded away. When the whole report
 * does not fit, detail goes first (diffs, then per-field lines, then long
 * messages), never the summary or a violation.
 */
import type { OpMap } from "@pulumi/pulumi/automation";

import type { AgentPreview, PolicyFinding, StackPreview } from "./preview";
import { type FieldChange } from "./spec-changes";

/** GitHub refuses an issue comment longer than this. */
export const GITHUB_COMMENT_LIMIT = 65_536;

/** The hidden line that finds a stack's sticky comment: one per project and stack. */
export function commentMarker(project: string, stack: string): string {
    return `<!-- agent-fleet:preview project=${project} stack=${stack} -->`;
}

/** The hidden line that records the labels a stack's preview asks for, so every stack's comment counts. */
function labelsMarker(labels: readonly string[]): string {
    return `<!-- agent-fleet:labels ${labels.join(",")} -->`;
}

export function labelsFromComment(body: string): string[] | undefined {
    const match = /<!-- agent-fleet:labels ([^ ]*) -->/.exec(body);
    return match ? match[1].split(",").filter(Boolean) : undefined;
}

/** Inline code that survives any content: backticks fenced by longer runs, newlines flattened. */
function code(text: string): string {
    const flat = text.replace(/\s*\n\s*/g, " ");
    const longest = Math.max(0, ...[...flat.matchAll(/`+/g)].map((m) => m[0].length));
    const fence = "`".repeat(longest + 1);
    return longest > 0 ? `${fence} ${flat} ${fence}` : `${fence}${flat}${fence}`;
}

/** Prose from policies and the engine: no raw HTML, one line. */
function prose(text: string, max = Infinity): string {
    const flat = text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\s*\n\s*/g, " ");
    return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function plural(count: number, one: string, many = `${one}s`): string {
    return `${count} ${count === 1 ? one : many}`;
}

const ICON = { mandatory: "❌", advisory: "⚠️" } as const;
const OP_WORDS: readonly [keyof OpMap, string][] = [
    ["create", "to create"], ["update", "to update"], ["replace", "to replace"], ["delete", "to delete"], ["same", "unchanged"],
];
const AGENT_OPS = ["deploy", "update", "replace", "remove"] as const;

/** How much detail a rendering keeps; the report picks the most that fits. */
interface Detail {
    readonly providerDiffs: boolean;
    readonly fieldLines: boolean;
    readonly agentEntries: boolean;
    /** Longest violation message kept whole. */
    readonly messageMax: number;
    readonly violationsByPolicy: boolean;
}

const DETAIL_LEVELS: readonly Detail[] = [
    { providerDiffs: true, fieldLines: true, agentEntries: true, messageMax: Infinity, violationsByPolicy: false },
    { providerDiffs: false, fieldLines: true, agentEntries: true, messageMax: Infinity, violationsByPolicy: false },
    { providerDiffs: false, fieldLines: false, agentEntries: true, messageMax: Infinity, violationsByPolicy: false },
    { providerDiffs: false, fieldLines: false, agentEntries: false, messageMax: Infinity, violationsByPolicy: false },
    { providerDiffs: false, fieldLines: false, agentEntries: false, messageMax: 160, violationsByPolicy: false },
    { providerDiffs: false, fieldLines: false, agentEntries: false, messageMax: 0, violationsByPolicy: true },
];

function headline(preview: StackPreview): string {
    const stack = code(preview.stack);
    const mandatory = preview.violations.filter((v) => v.level === "mandatory").length;
    if (mandatory > 0) return `## ❌ ${stack}: blocked by ${plural(mandatory, "mandatory policy violation")}`;
    if (preview.errors.length > 0) return `## ❌ ${stack}: the preview failed`;
    if (preview.agents.length === 0) return `## ✅ ${stack}: no agent changes`;
    const first = preview.firstPreview ? " (first deploy of this stack)" : "";
    const risky = preview.agents.filter((a) => a.riskyFlagStep).length;
    if (risky > 0) return `## ⚠️ ${stack}: ${plural(preview.agents.length, "agent")} ${preview.agents.length === 1 ? "changes" : "change"}${first}, ${plural(risky, "flag step")} forced or early, no policy blocks`;
    return `## ✅ ${stack}: ${plural(preview.agents.length, "agent")} ${preview.agents.length === 1 ? "changes" : "change"}${first}, no policy blocks`;
}

/** A stack never deployed: why every agent shows as a deploy, with nothing to compare its release with. */
function firstPreviewLines(preview: StackPreview): string[] {
    if (!preview.firstPreview) return [];
    return ["", "> First preview of this stack: nothing of it is deployed yet, so every agent shows as a deploy and no release can be compared with a running one."];
}

/** Policies the engine could not run before the update: named, and where they are checked instead. */
function notCheckedLines(preview: StackPreview): string[] {
    if (preview.notCheckedInPreview.length === 0) return [];
    return ["", `**Not checked in preview:** ${preview.notCheckedInPreview.map(code).join(", ")} (they read what only the update knows; \`fleet check\`, which this workflow runs, checks them offline, and the update runs them again)`];
}

function counts(preview: StackPreview): string[] {
    const agentCounts = AGENT_OPS.map((op) => [op, preview.agents.filter((a) => a.operation === op).length] as const).filter(([, n]) => n > 0);
    const resourceCounts = OP_WORDS.map(([op, words]) => [words, preview.resourceChanges[op] ?? 0] as const).filter(([, n]) => n > 0);
    const lines: string[] = [];
    if (agentCounts.length > 0) lines.push(`**Agents:** ${agentCounts.map(([op, n]) => `${n} to ${op}`).join(" · ")}`);
    if (resourceCounts.length > 0) lines.push(`**Resources:** ${resourceCounts.map(([words, n]) => `${n} ${words}`).join(" · ")}`);
    return lines.length === 2 ? [`${lines[0]}  `, lines[1]] : lines;
}

function who(agent: string | null): string {
    return agent === null ? "stack" : code(agent);
}

function violationLines(violations: readonly PolicyFinding[], detail: Detail): string[] {
    if (violations.length === 0) return [];
    const lines = ["", "### Policy violations"];
    if (detail.violationsByPolicy) {
        const groups = new Map<string, PolicyFinding[]>();
        for (const v of violations) groups.set(`${v.level} ${v.policy}`, [...(groups.get(`${v.level} ${v.policy}`) ?? []), v]);
        for (const group of groups.values()) {
            lines.push(`- ${ICON[group[0].level]} ${code(group[0].policy)} on ${group.map((v) => who(v.agent)).join(", ")}`);
        }
        return lines;
    }
    for (const v of violations) {
        const message = detail.messageMax > 0 ? `: ${prose(v.message, detail.messageMax)}` : "";
        lines.push(`- ${ICON[v.level]} ${who(v.agent)} · ${code(v.policy)}${message}`);
    }
    return lines;
}

function fieldLine(change: FieldChange, deploy: boolean): string {
    if (deploy) return `- ${change.field}: ${code(change.to ?? "")}`;
    // A rotated secret: both sides are masked, so say only that it changed.
    if (change.from === change.to) return `- ${change.field} changed: ${code(change.from ?? "")}`;
    if (change.from === undefined) return `- ${change.field}: added ${code(change.to ?? "")}`;
    if (change.to === undefined) return `- ${change.field}: removed (was ${code(change.from)})`;
    return `- ${change.field}: ${code(change.from)} → ${code(change.to)}`;
}

function agentTitle(agent: AgentPreview): string {
    const facts = [agent.operation, ...(agent.tier !== undefined ? [`tier ${agent.tier}`] : []), ...(agent.owner ? [prose(agent.owner)] : [])];
    return `#### ${code(agent.name)} · ${facts.join(" · ")}`;
}

function agentLines(agents: readonly AgentPreview[], detail: Detail): string[] {
    if (agents.length === 0) return [];
    const lines = ["", "### Changes"];
    if (!detail.agentEntries) {
        for (const op of AGENT_OPS) {
            const names = agents.filter((a) => a.operation === op).map((a) => code(a.name));
            if (names.length > 0) lines.push(`- **${op}:** ${names.join(", ")}`);
        }
        return lines;
    }
    for (const agent of agents) {
        lines.push("", agentTitle(agent));
        if (detail.fieldLines) lines.push(...agent.changes.map((c) => fieldLine(c, agent.operation === "deploy")));
        else if (agent.changes.length > 0) lines.push(`- ${plural(agent.changes.length, "config field")} changed`);
        lines.push(...agent.warnings.map((w) => `- ⚠️ ${w}`));
        for (const v of agent.violations) lines.push(`- ${ICON[v.level]} ${code(v.policy)} ${v.level === "mandatory" ? "blocks this change" : "warns"} (see above)`);
    }
    return lines;
}

function providerLines(agents: readonly AgentPreview[]): string[] {
    const shown = agents.filter((a) => a.providerChanges.length > 0);
    if (shown.length === 0) return [];
    const lines = ["", "### Provider diffs"];
    for (const agent of shown) {
        lines.push("", `<details><summary><code>${prose(agent.name)}</code>: ${plural(agent.providerChanges.length, "resource")}</summary>`, "");
        for (const change of agent.providerChanges) {
            lines.push(`- ${prose(change.resource)} (${change.op})`);
            for (const f of change.fields) {
                const values = f.from !== undefined || f.to !== undefined ? `: ${code(f.from ?? "—")} → ${code(f.to ?? "—")}` : "";
                lines.push(`  - ${code(f.path)} ${f.kind}${values}`);
            }
        }
        lines.push("", "</details>");
    }
    return lines;
}

function errorLines(errors: readonly string[]): string[] {
    if (errors.length === 0) return [];
    return ["", "### Errors", ...errors.slice(0, 10).map((e) => `- ${prose(e, 400)}`), ...(errors.length > 10 ? [`- … and ${errors.length - 10} more`] : [])];
}

export interface RenderOptions {
    /** Labels this preview asks for, recorded in a hidden line. Default none. */
    readonly labels?: readonly string[];
    /** Longest report allowed; default GitHub's comment limit. */
    readonly limit?: number;
    /** Where the full report is, named when the report is cut (e.g. the job's summary page). */
    readonly fullReport?: string;
}

/** What every rendering starts with: the hidden lines, the headline and the counts. */
function head(preview: StackPreview, options: RenderOptions): string[] {
    return [commentMarker(preview.project, preview.stack), ...(options.labels ? [labelsMarker(options.labels)] : []), headline(preview), "", ...counts(preview)];
}

/** Where the full report is, for a report that is cut. */
function fullReportPlace(options: RenderOptions): string {
    return options.fullReport ?? "the job summary of the run that posted it";
}

function render(preview: StackPreview, detail: Detail, options: RenderOptions, cut: boolean): string {
    const lines = [
        ...head(preview, options),
        ...firstPreviewLines(preview),
        ...errorLines(preview.errors),
        ...violationLines(preview.violations, detail),
        ...notCheckedLines(preview),
        ...agentLines(preview.agents, detail),
        ...(detail.providerDiffs ? providerLines(preview.agents) : []),
    ];
    if (cut) lines.push("", `> The report was shortened to fit a comment. The full report is in ${fullReportPlace(options)}.`);
    return `${lines.join("\n")}\n`;
}

/**
 * The report for one stack: everything when it fits in `limit`, else the most
 * detail that does. The same preview always gives the same bytes.
 */
export function renderReport(preview: StackPreview, options: RenderOptions = {}): string {
    const limit = options.limit ?? GITHUB_COMMENT_LIMIT;
    for (const [index, detail] of DETAIL_LEVELS.entries()) {
        // A level below the first is only tried when the whole report did not fit, so it always drops something.
        const text = render(preview, detail, options, index > 0);
        if (text.length <= limit) return text;
    }
    // Thousands of violations: only their count per policy fits; the job summary has every one.
    const lines = [...head(preview, options), "", "### Policy violations"];
    const perPolicy = new Map<string, number>();
    for (const v of preview.violations) {
        const key = `${ICON[v.level]} ${code(v.policy)}`;
        perPolicy.set(key, (perPolicy.get(key) ?? 0) + 1);
    }
    for (const [policy, count] of perPolicy) lines.push(`- ${policy}: ${plural(count, "violation")}`);
    lines.push("", `> Too many violations to list in a comment. Every one is in ${fullReportPlace(options)}.`);
    return `${lines.join("\n")}\n`;
}

/** The whole report with no size limit, for the job summary. */
export function renderFullReport(preview: StackPreview, options: Omit<RenderOptions, "limit"> = {}): string {
    return render(preview, DETAIL_LEVELS[0], options, false);
}
