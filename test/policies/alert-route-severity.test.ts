/**
 * Stack view: the channels each watched agent is routed to (the Fleet's
 * registered channels, the AgentService's resolved alertChannels).
 */
import { describe, expect, it } from "vitest";
import { alertRouteSeverity } from "../../policies/rules/alert-route-severity";
import { fleetSpec } from "../support/specs";
import { fleetResources, messages, runPolicy, stackArgs } from "./helpers";

const policy = alertRouteSeverity();
const SECRETS = ["opsSlackWebhookUrl", "pagerWebhookUrl", "pagerSigningSecret"];
const PAGER = { type: "webhook", urlSecret: "pagerWebhookUrl", signingSecret: "pagerSigningSecret", minSeverity: "critical" };
const OPS = { type: "slack", urlSecret: "opsSlackWebhookUrl", minSeverity: "warning" };

function agent(tier: number, alertChannels: string[]) {
    return { tier, port: 8080, image: "ghcr.io/acme/jarvis:2.2.4", alertChannels };
}

async function check(channels: Record<string, unknown>, agents: Record<string, unknown>) {
    return stackArgs(await fleetResources(fleetSpec({ channels, agents }, "production", SECRETS)));
}

describe("alert-route-severity", () => {
    it("passes a tier 2 agent routed to a channel that hears warnings", async () => {
        expect(await messages(policy, await check({ ops: OPS, pager: PAGER }, { jarvis: agent(2, ["pager", "ops"]) }))).toEqual([]);
    });

    it("passes a tier 2 agent that hears warnings through a channel's tiers, not its own list", async () => {
        expect(await messages(policy, await check({ ops: { ...OPS, tiers: [2] }, pager: PAGER }, { jarvis: agent(2, ["pager"]) }))).toEqual([]);
    });

    it("passes a tier 1 agent routed only to a critical pager: tier 1 is not watched", async () => {
        expect(await messages(policy, await check({ pager: PAGER }, { jarvis: agent(1, ["pager"]) }))).toEqual([]);
    });

    it("reports a tier 2 agent routed only to a critical pager, at its alertChannels, on its AgentService", async () => {
        expect(await runPolicy(policy, await check({ pager: PAGER }, { jarvis: agent(2, ["pager"]) }))).toEqual([{
            message: "stacks/Pulumi.production.yaml: fleet.agents.jarvis.alertChannels: route tier 2 agents to a channel with minSeverity info or warning: its rolled_back alerts and reminders are sent at warning, and pager hears critical and above",
            urn: "urn:pulumi:production::agent-fleet::agent-fleet:index:Fleet$agent-fleet:index:AgentService::fleet-jarvis",
        }]);
    });

    it("reports a tier 3 agent whose channels all hear errors and above", async () => {
        const ops = { ...OPS, minSeverity: "error" };
        expect(await messages(policy, await check({ ops, pager: PAGER }, {
            pesti: { ...agent(3, ["ops", "pager"]), featureFlags: [{ name: "smart-followups", currentStage: "off" }] },
        }))).toEqual([
            "stacks/Pulumi.production.yaml: fleet.agents.pesti.alertChannels: route tier 3 agents to a channel with minSeverity info or warning: its rolled_back alerts and reminders are sent at warning, and ops hears error and above, pager hears critical and above",
        ]);
    });
});
