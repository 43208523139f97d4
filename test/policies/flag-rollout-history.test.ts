import { describe, expect, it } from "vitest";
import { flagRolloutHistory } from "../../policies/rules/flag-rollout-history";
import { agentSpec } from "../support/specs";
import { agentServiceArgs, messages } from "./helpers";

const policy = flagRolloutHistory();
const AT = "stacks/Pulumi.production.yaml: fleet.agents.pesti.featureFlags[0]";

/** The tier 3 default rollout, each stage entered after the previous one's soak (team 4h, 10% 24h). */
const HAPPY = [
    { stage: "off", since: "2026-11-01T09:00:00Z" },
    { stage: "team", since: "2026-11-02T09:00:00Z" },
    { stage: "10%", since: "2026-11-02T13:00:00Z" },
    { stage: "100%", since: "2026-11-03T13:00:00Z" },
];

async function check(history: unknown[], currentStage = (history.at(-1) as { stage: string } | undefined)?.stage ?? "off"): Promise<string[]> {
    return messages(policy, await agentServiceArgs(agentSpec({ tier: 3, featureFlags: [{ name: "smart-replies", currentStage, history }] })));
}

describe("flag-rollout-history", () => {
    it("passes a rollout that took each stage in turn after its soak", async () => {
        expect(await check(HAPPY)).toEqual([]);
    });

    it("passes a flag without history, and a step back towards off at any time", async () => {
        expect(await check([])).toEqual([]);
        expect(await check([...HAPPY.slice(0, 3), { stage: "off", since: "2026-11-02T13:05:00Z" }])).toEqual([]);
    });

    it("reports a step that skipped a stage", async () => {
        expect(await check([HAPPY[0], HAPPY[1], { stage: "100%", since: "2026-11-03T13:00:00Z" }])).toEqual([
            `${AT}.history[2]: flag "smart-replies" moved to 100% at 2026-11-03T13:00:00Z but skips 10% (team → 100%; the rollout is off → team → 10% → 100%); roll it back a stage, or record the exception with \`fleet flag --force\``,
        ]);
    });

    it("reports a step taken before the previous stage's soak was over", async () => {
        expect(await check([...HAPPY.slice(0, 3), { stage: "100%", since: "2026-11-02T15:30:00Z" }])).toEqual([
            `${AT}.history[3]: flag "smart-replies" moved to 100% at 2026-11-02T15:30:00Z but leaves 10% after 2h30m of its 24h soak (since 2026-11-02T13:00:00Z); roll it back a stage, or record the exception with \`fleet flag --force\``,
        ]);
    });

    it("does not report a step recorded as forced", async () => {
        expect(await check([HAPPY[0], HAPPY[1], { stage: "100%", since: "2026-11-02T10:00:00Z", forced: true }])).toEqual([]);
    });

    it("reports a record dated later than the check's clock, which would let a move skip its soak", async () => {
        const inTwoHours = new Date(Date.now() + 2 * 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
        const inADay = new Date(Date.now() + 26 * 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
        // 10% "since" tomorrow minus a day: its 24h soak looks served when 100% arrives in two hours.
        const found = await check([...HAPPY.slice(0, 2), { stage: "10%", since: inTwoHours }, { stage: "100%", since: inADay }]);
        expect(found).toEqual([
            expect.stringMatching(new RegExp(`^${AT.replace(/[[\]]/g, "\\$&")}\\.history\\[2\\]\\.since: flag "smart-replies" records 10% since ${inTwoHours}, which is later than the check's clock \\(`)),
            expect.stringMatching(new RegExp(`^${AT.replace(/[[\]]/g, "\\$&")}\\.history\\[3\\]\\.since: flag "smart-replies" records 100% since ${inADay}`)),
        ]);
    });

    it("reports a history that starts after the first stage, unless that start is recorded as forced", async () => {
        expect(await check([{ stage: "100%", since: "2026-11-03T13:00:00Z" }])).toEqual([
            `${AT}.history[0]: flag "smart-replies"'s history starts at 100%, not at its first stage off: nothing records when the stages before it began, so their soaks cannot be checked; record the skip with \`fleet flag --force\`, or start the history at off`,
        ]);
        expect(await check([{ stage: "10%", since: "2026-11-02T13:00:00Z", forced: true }, HAPPY[3]])).toEqual([]);
        // `fleet flag`'s first move of a flag at off: off has no soak to prove.
        expect(await check(HAPPY.slice(1))).toEqual([]);
    });
});

