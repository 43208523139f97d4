/**
 * Stack view: each resource's props here are what the policy is written
 * against (the Fleet's and AgentServices' registered inputs).
 */
import { describe, expect, it } from "vitest";
import { SEVERITIES, Severity } from "../../config";
import { PRODUCTION_ALERT_SEVERITY, productionAlertChannel } from "../../policies/rules/production-alert-channel";
import { fleetSpec } from "../support/specs";
import { fleetResources, messages, runPolicy, stackArgs } from "./helpers";

const policy = productionAlertChannel();
const HEARS_ERRORS = SEVERITIES.slice(0, SEVERITIES.indexOf(PRODUCTION_ALERT_SEVERITY) + 1);
const DEAF = SEVERITIES.filter((s) => !HEARS_ERRORS.includes(s));
const NONE_HEARS = `declare an alert channel with minSeverity ${HEARS_ERRORS.join(", ")}; production has none that hears errors`;
const AGENTS = { pesti: { tier: 1, port: 8080, image: "ghcr.io/acme/pesti:1.4.2" } };
const SECRETS = ["opsSlackWebhookUrl", "pagerWebhookUrl", "pagerSigningSecret"];

function slack(minSeverity?: Severity) {
    return { type: "slack", urlSecret: "opsSlackWebhookUrl", ...(minSeverity ? { minSeverity } : {}) };
}

async function check(fleet: Record<string, unknown>, stack = "production"): Promise<string[]> {
    return messages(policy, stackArgs(await fleetResources(fleetSpec({ agents: AGENTS, ...fleet }, stack, SECRETS))));
}

describe("production-alert-channel", () => {
    it.each(HEARS_ERRORS)("passes production with a channel at minSeverity %s", async (severity) => {
        expect(await check({ channels: { "ops-slack": slack(severity) } })).toEqual([]);
    });

    it("passes a channel that leaves minSeverity to its default", async () => {
        expect(await check({ channels: { "ops-slack": slack() } })).toEqual([]);
    });

    it("passes when one channel of several hears errors", async () => {
        expect(await check({ channels: { "ops-slack": slack(DEAF[0]), pager: { type: "webhook", urlSecret: "pagerWebhookUrl", signingSecret: "pagerSigningSecret", minSeverity: PRODUCTION_ALERT_SEVERITY } } })).toEqual([]);
    });

    it.each(DEAF)("reports production whose only channel starts at %s, at the Fleet", async (severity) => {
        const args = stackArgs(await fleetResources(fleetSpec({ agents: AGENTS, channels: { "ops-slack": slack(severity) } }, "production", SECRETS)));
        expect(await runPolicy(policy, args)).toEqual([{ message: `stacks/Pulumi.production.yaml: fleet.channels: ${NONE_HEARS}`, urn: "urn:pulumi:production::agent-fleet::agent-fleet:index:Fleet::fleet" }]);
    });

    it("reports production without channels", async () => {
        expect(await check({})).toEqual([`stacks/Pulumi.production.yaml: fleet.channels: ${NONE_HEARS}`]);
    });

    it("goes by the environment, not the stack name, and names the stack's own file", async () => {
        expect(await check({ environment: "production" }, "prod-eu")).toEqual([`stacks/Pulumi.prod-eu.yaml: fleet.channels: ${NONE_HEARS}`]);
    });

    it.each(["staging", "dev"])("exempts %s", async (stack) => {
        expect(await check({}, stack)).toEqual([]);
        expect(await check({ channels: { "ops-slack": slack(DEAF[0]) } }, stack)).toEqual([]);
    });
});
