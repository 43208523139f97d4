import { describe, expect, it } from "vitest";
import { TIERS, TIER_NUMBERS, Tier } from "../../config";
import { tierMonitoring } from "../../policies/rules/tier-monitoring";
import { agentSpec } from "../support/specs";
import { agentServiceArgs, containerResourceArgs, messages, runPolicy } from "./helpers";
import { durationMs, humanDuration } from "../../contract";

const policy = tierMonitoring();
const AT = "stacks/Pulumi.production.yaml: fleet.agents.pesti";
const MONITORED = TIER_NUMBERS.filter((t) => TIERS[t].requiresAlertChannel || TIERS[t].requiresSmokeCheck);
const UNMONITORED = TIER_NUMBERS.filter((t) => !MONITORED.includes(t));
const WITH_MAX_RATE = TIER_NUMBERS.filter((t) => TIERS[t].maxErrorRateLimitPercent !== undefined);
const WITH_WINDOW = TIER_NUMBERS.filter((t) => TIERS[t].minProductionMonitorWindow !== undefined);

/** A monitored agent as the happy path: routed, smoke-checked, flagged when its tier needs it; tier default window. */
function fields(tier: Tier, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        tier,
        alertChannels: ["ops-slack"],
        smokeChecks: [{ method: "POST", path: "/v1/reply", expectStatus: 200 }],
        ...(TIERS[tier].requiresFeatureFlag ? { featureFlags: [{ name: "smart-replies" }] } : {}),
        ...extra,
    };
}

async function check(tier: Tier, extra: Record<string, unknown> = {}, stack = "production"): Promise<string[]> {
    return messages(policy, await agentServiceArgs(agentSpec(fields(tier, extra), stack)));
}

describe("tier-monitoring", () => {
    it("applies to the tiers that need alerts or smoke checks", () => {
        expect(MONITORED.length).toBeGreaterThan(0);
        expect(policy.appliesTo).toBe(`tiers ${MONITORED.join(", ")}`);
    });

    it.each(MONITORED)("passes a routed, smoke-checked tier %i agent with the tier's default window", async (tier) => {
        expect(await check(tier)).toEqual([]);
    });

    it.each(WITH_MAX_RATE)("passes a tier %i agent at exactly the tier's maximum error-rate limit", async (tier) => {
        expect(await check(tier, { errorRateLimit: TIERS[tier].maxErrorRateLimitPercent })).toEqual([]);
    });

    it.each(WITH_MAX_RATE)("reports a tier %i error-rate limit above the tier's maximum", async (tier) => {
        const max = TIERS[tier].maxErrorRateLimitPercent!;
        expect(await check(tier, { errorRateLimit: 50 })).toEqual([`${AT}.errorRateLimit: set an error-rate limit of at most ${max}% for tier ${tier}, got 50%`]);
        expect(await check(tier, { errorRateLimit: max + 0.5 }, "dev")).toEqual([`stacks/Pulumi.dev.yaml: fleet.agents.pesti.errorRateLimit: set an error-rate limit of at most ${max}% for tier ${tier}, got ${max + 0.5}%`]);
    });

    it.each(UNMONITORED)("passes a tier %i agent with no channel, no smoke check and a short window", async (tier) => {
        expect(await check(tier, { alertChannels: [], smokeChecks: [], monitorWindow: "1m" })).toEqual([]);
    });

    it.each(MONITORED.filter((t) => TIERS[t].requiresAlertChannel))("reports a tier %i agent without an alert channel, at the AgentService", async (tier) => {
        const args = await agentServiceArgs(agentSpec(fields(tier, { alertChannels: [] })));
        expect(await runPolicy(policy, args)).toEqual([{
            message: `${AT}.alertChannels: route tier ${tier} agents to at least one alert channel defined under fleet.channels`,
            urn: args.urn,
        }]);
    });

    it.each(MONITORED.filter((t) => TIERS[t].requiresSmokeCheck))("reports a tier %i agent without a smoke check", async (tier) => {
        expect(await check(tier, { smokeChecks: [] })).toEqual([
            `${AT}.smokeChecks: add at least one smoke check of a key flow (method, path, expectStatus) for tier ${tier}`,
        ]);
    });

    it.each(WITH_WINDOW)("reports a production window below tier %i's minimum, and passes the minimum itself", async (tier) => {
        const minimum = TIERS[tier].minProductionMonitorWindow!;
        const short = humanDuration(durationMs(minimum) / 2);
        expect(await check(tier, { monitorWindow: short })).toEqual([
            `${AT}.monitorWindow: set a monitor window of at least ${minimum} in production, got ${short}`,
        ]);
        expect(await check(tier, { monitorWindow: minimum })).toEqual([]);
    });

    it.each(["staging", "dev"])("holds %s to channels and smoke checks, but not to the production window", async (stack) => {
        const tier = WITH_WINDOW[0];
        const short = humanDuration(durationMs(TIERS[tier].minProductionMonitorWindow!) / 2);
        expect(await check(tier, { monitorWindow: short }, stack)).toEqual([]);
        expect(await check(tier, { alertChannels: [] }, stack)).toEqual([
            `stacks/Pulumi.${stack}.yaml: fleet.agents.pesti.alertChannels: route tier ${tier} agents to at least one alert channel defined under fleet.channels`,
        ]);
    });

    it("reports every gap of one agent at once", async () => {
        const tier = WITH_WINDOW[WITH_WINDOW.length - 1];
        expect(await check(tier, { alertChannels: [], smokeChecks: [], monitorWindow: "1m" })).toEqual([
            `${AT}.alertChannels: route tier ${tier} agents to at least one alert channel defined under fleet.channels`,
            `${AT}.smokeChecks: add at least one smoke check of a key flow (method, path, expectStatus) for tier ${tier}`,
            `${AT}.monitorWindow: set a monitor window of at least ${TIERS[tier].minProductionMonitorWindow} in production, got 1m`,
        ]);
    });

    it("ignores the containers", async () => {
        expect(await runPolicy(policy, await containerResourceArgs(agentSpec(fields(MONITORED[0], { alertChannels: [] }))))).toEqual([]);
    });
});
