import { describe, expect, it } from "vitest";
import { TIERS, TIER_NUMBERS } from "../../config";
import { healthGateTiming } from "../../policies/rules/health-gate-timing";
import { agentSpec } from "../support/specs";
import { agentServiceArgs, containerResourceArgs, messages, runPolicy } from "./helpers";
import { durationMs, humanDuration } from "../../contract";

const policy = healthGateTiming();
const AT = "stacks/Pulumi.production.yaml: fleet.agents.pesti";
const HC = TIERS[1].healthcheck;
/** How long the tier 1 default healthcheck needs to call an agent unhealthy. */
const NEEDED_MS = durationMs(HC.startPeriod) + durationMs(HC.interval) * HC.retries;
const FORMULA = `startPeriod + interval × retries = ${humanDuration(NEEDED_MS)}`;
const SHORT = humanDuration(NEEDED_MS / 2);

async function check(fields: Record<string, unknown> = {}, stack = "production"): Promise<string[]> {
    return messages(policy, await agentServiceArgs(agentSpec(fields, stack)));
}

describe("health-gate-timing", () => {
    it.each(TIER_NUMBERS)("passes a tier %i agent with the tier's defaults (the wait timeout adds the tier margin)", async (tier) => {
        expect(await check({ tier, ...(TIERS[tier].requiresFeatureFlag ? { featureFlags: [{ name: "smart-replies" }] } : {}) })).toEqual([]);
    });

    it("passes a wait timeout and a window of exactly startPeriod + interval × retries", async () => {
        expect(await check({ waitTimeout: humanDuration(NEEDED_MS), monitorWindow: humanDuration(NEEDED_MS) })).toEqual([]);
    });

    it("reports a wait timeout shorter than the time to turn unhealthy, at the AgentService", async () => {
        const args = await agentServiceArgs(agentSpec({ waitTimeout: SHORT }));
        expect(await runPolicy(policy, args)).toEqual([{ message: `${AT}.waitTimeout: set waitTimeout to at least ${FORMULA}, got ${SHORT}`, urn: args.urn }]);
    });

    it("reports a monitor window shorter than the time to turn unhealthy", async () => {
        expect(await check({ monitorWindow: SHORT })).toEqual([`${AT}.monitorWindow: set monitorWindow to at least ${FORMULA}, got ${SHORT}`]);
    });

    it("counts the agent's own healthcheck: slower probes need a longer gate", async () => {
        const needed = durationMs(HC.startPeriod) + 60_000 * HC.retries;
        expect(await check({ healthcheck: { interval: "1m" }, waitTimeout: humanDuration(needed - 1000) })).toEqual([
            `${AT}.waitTimeout: set waitTimeout to at least startPeriod + interval × retries = ${humanDuration(needed)}, got ${humanDuration(needed - 1000)}`,
        ]);
    });

    it("counts startPeriod and retries as well", async () => {
        const needed = durationMs("1m") + durationMs(HC.interval) * 5;
        expect(await check({ healthcheck: { startPeriod: "1m", retries: 5 }, waitTimeout: "30s", monitorWindow: "30s" })).toEqual([
            `${AT}.waitTimeout: set waitTimeout to at least startPeriod + interval × retries = ${humanDuration(needed)}, got 30s`,
            `${AT}.monitorWindow: set monitorWindow to at least startPeriod + interval × retries = ${humanDuration(needed)}, got 30s`,
        ]);
    });

    it.each(["dev", "staging"])("applies in %s too", async (stack) => {
        expect(await check({ waitTimeout: SHORT }, stack)).toEqual([
            `stacks/Pulumi.${stack}.yaml: fleet.agents.pesti.waitTimeout: set waitTimeout to at least ${FORMULA}, got ${SHORT}`,
        ]);
    });

    it("ignores the containers", async () => {
        expect(await runPolicy(policy, await containerResourceArgs(agentSpec({ waitTimeout: SHORT })))).toEqual([]);
    });
});
