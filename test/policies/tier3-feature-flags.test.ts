import { describe, expect, it } from "vitest";
import { TIERS, TIER_NUMBERS } from "../../config";
import { tier3FeatureFlags } from "../../policies/rules/tier3-feature-flags";
import { agentSpec } from "../support/specs";
import { agentServiceArgs, containerResourceArgs, messages, runPolicy } from "./helpers";
import { durationMs, humanDuration } from "../../contract";

const policy = tier3FeatureFlags();
const AT = "stacks/Pulumi.production.yaml: fleet.agents.pesti";
const FLAGGED = TIER_NUMBERS.filter((t) => TIERS[t].requiresFeatureFlag);
const UNFLAGGED = TIER_NUMBERS.filter((t) => !TIERS[t].requiresFeatureFlag);
const TIER = FLAGGED[0];
const MAX_FIRST = TIERS[TIER].maxFirstRolloutPercent!;
const MIN_SOAK = TIERS[TIER].minSoakBeforeFullRollout!;
const SHORT_SOAK = humanDuration(durationMs(MIN_SOAK) / 2);

/** A flag that rolls out by the rules, the first audience at the tier's maximum. */
const GOOD_STAGES = ["off", { stage: "team", soak: "4h" }, { stage: `${MAX_FIRST}%`, soak: MIN_SOAK }, "100%"];

async function check(featureFlags: unknown[] | undefined, tier = TIER, stack = "production"): Promise<string[]> {
    return messages(policy, await agentServiceArgs(agentSpec({ tier, ...(featureFlags ? { featureFlags } : {}) }, stack)));
}

describe("tier3-feature-flags", () => {
    it("passes a flag on the tier's default rollout", async () => {
        expect(await check([{ name: "smart-replies" }])).toEqual([]);
    });

    it("passes explicit stages whose first audience is the maximum and whose last step soaks the minimum", async () => {
        expect(await check([{ name: "smart-replies", stages: GOOD_STAGES }])).toEqual([]);
    });

    it("passes a rollout that has not planned its 100% step yet", async () => {
        expect(await check([{ name: "smart-replies", stages: ["off", "team"] }])).toEqual([]);
    });

    it.each(UNFLAGGED)("does not ask a tier %i agent for a flag", async (tier) => {
        expect(await check(undefined, tier)).toEqual([]);
    });

    it("reports a flagless agent of the flagged tier, at the AgentService; in dev too", async () => {
        const args = await agentServiceArgs(agentSpec({ tier: TIER }));
        expect(await runPolicy(policy, args)).toEqual([{ message: `${AT}.featureFlags: add a feature flag: tier ${TIER} ships behind one, and the flag is the rollback`, urn: args.urn }]);
        expect(await check(undefined, TIER, "dev")).toEqual([
            `stacks/Pulumi.dev.yaml: fleet.agents.pesti.featureFlags: add a feature flag: tier ${TIER} ships behind one, and the flag is the rollback`,
        ]);
    });

    it("reports a rollout that starts with customers", async () => {
        expect(await check([{ name: "smart-replies", stages: GOOD_STAGES.slice(2) }])).toEqual([
            `${AT}.featureFlags[0].stages: start flag "smart-replies" at "off" or "team", got "${MAX_FIRST}%"`,
        ]);
    });

    it("reports each step that does not widen the audience", async () => {
        expect(await check([{ name: "smart-replies", stages: ["off", "team", "off", ...GOOD_STAGES.slice(2)] }])).toEqual([
            `${AT}.featureFlags[0].stages: make flag "smart-replies"'s stages strictly ascending, got "team" then "off"`,
        ]);
    });

    it("reports a first audience above the maximum", async () => {
        const wide = `${MAX_FIRST * 2}%`;
        expect(await check([{ name: "smart-replies", stages: ["off", "team", { stage: wide, soak: MIN_SOAK }, "100%"] }])).toEqual([
            `${AT}.featureFlags[0].stages: roll flag "smart-replies" out to at most ${MAX_FIRST}% first, got "${wide}"`,
        ]);
    });

    it("reports a last step that soaks less than the minimum, or not at all", async () => {
        const soaked = (soak?: string) => [{ name: "smart-replies", stages: ["off", "team", { stage: `${MAX_FIRST}%`, ...(soak ? { soak } : {}) }, "100%"] }];
        expect(await check(soaked(SHORT_SOAK))).toEqual([
            `${AT}.featureFlags[0].stages[2].soak: soak flag "smart-replies" at least ${MIN_SOAK} before 100%, got ${SHORT_SOAK}`,
        ]);
        expect(await check(soaked())).toEqual([
            `${AT}.featureFlags[0].stages[2].soak: soak flag "smart-replies" at least ${MIN_SOAK} before 100%, got none`,
        ]);
    });

    it("points at the flag that is wrong when there are several", async () => {
        expect(await check([{ name: "smart-replies" }, { name: "auto-send", stages: ["off", "team", `${MAX_FIRST}%`, "100%"] }])).toEqual([
            `${AT}.featureFlags[1].stages[2].soak: soak flag "auto-send" at least ${MIN_SOAK} before 100%, got none`,
        ]);
    });

    it("ignores the containers", async () => {
        expect(await runPolicy(policy, await containerResourceArgs(agentSpec({ tier: TIER })))).toEqual([]);
    });
});
