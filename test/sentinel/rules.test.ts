/** The sentinel's alert rules, with a hand-driven clock: one alert per state change, reminders, restart loops, windows, rate limits. */
import { describe, expect, it } from "vitest";
import { AlertRules, DEFAULT_RULES, Observation } from "../../agents/sentinel/src/rules";

const OUT = { agent: "jarvis", inWindow: false };
const IN = { agent: "jarvis", inWindow: true };
const MIN = 60_000;

function run(rules: AlertRules, steps: [number, Observation][], context = OUT) {
    return steps.flatMap(([t, o]) => rules.observe(context, o, t).map((d) => ({ t, ...d })));
}

describe("alert rules", () => {
    it("alerts once when health turns unhealthy, not again while it stays so, and once when it recovers", () => {
        const rules = new AlertRules();
        const sent = run(rules, [
            [0, { kind: "health", status: "unhealthy", output: "GET /health 503" }],
            [10_000, { kind: "health", status: "unhealthy" }],
            [20_000, { kind: "health", status: "unhealthy" }],
            [30_000, { kind: "health", status: "healthy" }],
            [40_000, { kind: "health", status: "healthy" }],
        ]);
        expect(sent.map((d) => [d.t, d.event, d.severity])).toEqual([[0, "health.failed", "error"], [30_000, "health.recovered", "info"]]);
        expect(sent[0].reason).toBe("unhealthy: GET /health 503");
        expect(sent[1].reason).toBe("healthy again after 30 s");
    });

    it("reminds about a problem still open after the quiet period, once per period", () => {
        const rules = new AlertRules({ ...DEFAULT_RULES, reminderAfterMs: 10 * MIN });
        rules.observe(OUT, { kind: "health", status: "unhealthy" }, 0);
        expect(rules.tick(OUT, 9 * MIN)).toEqual([]);
        expect(rules.tick(OUT, 10 * MIN).map((d) => d.event)).toEqual(["health.failed"]);
        expect(rules.tick(OUT, 15 * MIN)).toEqual([]);
        expect(rules.tick(OUT, 20 * MIN)[0].reason).toBe("still failing after 20 min (reminder): health");
        rules.observe(OUT, { kind: "health", status: "healthy" }, 21 * MIN);
        expect(rules.tick(OUT, 40 * MIN)).toEqual([]);
    });

    it("a crash loop is the first death and one loop alert, not one per restart or death", () => {
        const rules = new AlertRules();
        const steps: [number, Observation][] = [];
        for (let i = 0; i < 8; i++) steps.push([i * 10_000, { kind: "die", exitCode: 1 }], [i * 10_000 + 1, { kind: "restart" }]);
        const sent = run(rules, steps);
        expect(sent.map((d) => [d.t, d.event])).toEqual([[0, "container.died"], [20_001, "restart.loop"]]);
        expect(sent[1].reason).toBe("3 restarts within 5 min");
    });

    it("a single crash after a quiet spell alerts again", () => {
        const rules = new AlertRules();
        run(rules, [[0, { kind: "die", exitCode: 1 }], [1, { kind: "restart" }]]);
        expect(rules.observe(OUT, { kind: "die", exitCode: 137 }, 10 * MIN).map((d) => d.reason)).toEqual(["exited with code 137"]);
    });

    it("raises severity one step inside the watch window", () => {
        const rules = new AlertRules();
        expect(rules.observe(IN, { kind: "oom" }, 0)[0]).toMatchObject({ event: "container.oom", severity: "critical" });
        expect(new AlertRules().observe(OUT, { kind: "oom" }, 0)[0].severity).toBe("error");
    });

    it("alerts once when the error rate goes over its limit, and again only after it came back under", () => {
        const rules = new AlertRules();
        const sent = run(rules, [
            [0, { kind: "error_rate", ratePercent: 1, limitPercent: 2 }],
            [1, { kind: "error_rate", ratePercent: 12.5, limitPercent: 2 }],
            [2, { kind: "error_rate", ratePercent: 30, limitPercent: 2 }],
            [3, { kind: "error_rate", ratePercent: 0, limitPercent: 2 }],
            [4, { kind: "error_rate", ratePercent: 5, limitPercent: 2 }],
        ], IN);
        expect(sent.map((d) => [d.t, d.event, d.severity])).toEqual([[1, "error_rate.exceeded", "critical"], [4, "error_rate.exceeded", "critical"]]);
        expect(sent[0].reason).toBe("5xx rate 12.5% above the limit of 2%");
    });

    it("names the failing smoke check, once per failure", () => {
        const rules = new AlertRules();
        const sent = run(rules, [
            [0, { kind: "smoke", check: "answer a question", ok: false, detail: "POST /v1/reply → 500" }],
            [1, { kind: "smoke", check: "answer a question", ok: false }],
            [2, { kind: "smoke", check: "health", ok: true }],
        ]);
        expect(sent.map((d) => d.reason)).toEqual(['smoke check "answer a question" failed: POST /v1/reply → 500']);
    });

    it("rate-limits a noisy agent and says how many were dropped", () => {
        const rules = new AlertRules({ ...DEFAULT_RULES, rateLimit: 2, rateWindowMs: MIN });
        const sent = run(rules, [0, 1, 2, 3].map((t) => [t, { kind: "oom" }] as [number, Observation]));
        expect(sent).toHaveLength(2);
        const later = rules.observe(OUT, { kind: "oom" }, 2 * MIN);
        expect(later[0].reason).toBe("killed: out of memory (2 more alerts for this agent were rate-limited)");
    });

    it("keeps agents apart", () => {
        const rules = new AlertRules();
        rules.observe({ agent: "a", inWindow: false }, { kind: "health", status: "unhealthy" }, 0);
        expect(rules.observe({ agent: "b", inWindow: false }, { kind: "health", status: "unhealthy" }, 1)).toHaveLength(1);
    });
});
