/**
 * Random large previews, as engine event logs (test/support/preview-events.ts):
 * the comment always fits GitHub's limit,
 * keeps every violation, and never shows a seeded secret, whether the engine
 * masked it or a log written with --show-secrets carries its plaintext.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GITHUB_COMMENT_LIMIT, previewOf, redactCredentials, renderReport } from "../../cli/services/comment";
import { AgentCase, POLICIES, SEEDED, eventsOf } from "../support/preview-events";

const agentCase: fc.Arbitrary<AgentCase> = fc.record({
    op: fc.constantFrom("create", "replace", "delete", "update"),
    tier: fc.constantFrom(1, 2, 3),
    envValue: fc.string({ maxLength: 120 }),
    rotatedSecret: fc.boolean(),
    plainCredential: fc.boolean(),
    violations: fc.array(fc.record({
        policy: fc.nat({ max: POLICIES.length - 1 }),
        mandatory: fc.boolean(),
        message: fc.string({ minLength: 1, maxLength: 400 }).map((m) => m.replace(/\n/g, " ").trim() || "x"),
    }), { maxLength: 2 }),
});

describe("the report on random large previews", () => {
    it("fits a comment, keeps every violation next to its agent's name, and shows no seeded secret", async () => {
        await fc.assert(fc.asyncProperty(fc.array(agentCase, { minLength: 100, maxLength: 900, size: "max" }), async (cases) => {
            const preview = await redactCredentials(previewOf(eventsOf(cases), "random.jsonl"));
            const report = renderReport(preview);
            expect(report.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
            expect(report).not.toContain(SEEDED);
            const lines = report.split("\n");
            cases.forEach((c, i) => {
                for (const v of c.violations) {
                    const policy = `\`${POLICIES[v.policy].name}\``;
                    expect(lines.some((l) => l.startsWith(`- ${v.mandatory ? "❌" : "⚠️"} `) && l.includes(policy) && new RegExp(`\`agent-${i}\`(?!\\d)`).test(l)), `agent-${i} ${policy}`).toBe(true);
                }
            });
        }), { numRuns: 12 });
    }, 120_000);

    it("shortens a report that would not fit, and says where the full one is", async () => {
        const cases: AgentCase[] = Array.from({ length: 300 }, () => ({
            op: "replace", tier: 2, envValue: "x".repeat(100), rotatedSecret: false, plainCredential: false,
            violations: [{ policy: 0, mandatory: true, message: "m".repeat(120) }],
        }));
        const preview = previewOf(eventsOf(cases), "big.jsonl");
        expect(renderReport(preview, { limit: Infinity }).length).toBeGreaterThan(GITHUB_COMMENT_LIMIT);
        const report = renderReport(preview, { fullReport: "[the job summary](https://example.test/run/1)" });
        expect(report.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
        expect(report).toContain("The report was shortened to fit a comment. The full report is in [the job summary](https://example.test/run/1).");
        expect(report).not.toContain("<details>");
        expect(report.match(/^- ❌ `agent-\d+` · `agent-healthcheck`: m{120}$/gm)).toHaveLength(300);
    });
});
