/**
 * `fleet comment` on a 1000-resource preview: 500 agents (an AgentService and
 * a container each), a tenth of them with a violation, as the JSON-lines text
 * the engine writes. Timed: parsing the log, reducing it, the credential scan
 * and the report. The goal is under 0.5 s.
 */
import { parseEventLog, previewOf, redactCredentials, renderReport } from "../cli/services/comment";
import { AgentCase, eventsOf } from "../test/support/preview-events";

export const COMMENT_RESOURCES = 1000;
export const COMMENT_GOAL_MS = 500;

/** The log's text, built once. */
export function largeEventLog(): string {
    const ops = ["replace", "update", "create", "delete"] as const;
    const cases: AgentCase[] = Array.from({ length: COMMENT_RESOURCES / 2 }, (_, i) => ({
        op: ops[i % ops.length],
        tier: ((i % 3) + 1) as 1 | 2 | 3,
        envValue: `value-${i}`,
        rotatedSecret: i % 7 === 0,
        plainCredential: false,
        violations: i % 10 === 0 ? [{ policy: i % 5, mandatory: i % 20 === 0, message: `stacks/Pulumi.production.yaml: fleet.agents.agent-${i}.memory: set a memory limit like "512Mi"` }] : [],
    }));
    return eventsOf(cases).map((e) => JSON.stringify(e)).join("\n");
}

/** The whole pipeline of `fleet comment` after reading the file; returns the report. */
export async function renderLargePreview(text: string): Promise<string> {
    return renderReport(await redactCredentials(previewOf(parseEventLog(text, "large.jsonl"), "large.jsonl")));
}

export function checkLargeReport(report: string): void {
    if (!report.includes("`agent-490`")) throw new Error("the large report lost an agent");
}
