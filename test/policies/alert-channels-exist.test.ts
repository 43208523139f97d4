/**
 * Stack view: each resource's props here are what the policy is written
 * against (the Fleet's and AgentServices' registered inputs).
 */
import { describe, expect, it } from "vitest";
import { alertChannelsExist } from "../../policies/rules/alert-channels-exist";
import { fleetSpec } from "../support/specs";
import { fleetResources, messages, runPolicy, stackArgs } from "./helpers";

const policy = alertChannelsExist();
const SECRETS = ["opsSlackWebhookUrl", "salesDiscordWebhookUrl"];
const CHANNELS = {
    "ops-slack": { type: "slack", urlSecret: "opsSlackWebhookUrl" },
    "sales-discord": { type: "discord", urlSecret: "salesDiscordWebhookUrl" },
};

function agent(name: string, alertChannels?: string[]) {
    return { tier: 1, port: 8080, image: `ghcr.io/acme/${name}:1.4.2`, ...(alertChannels ? { alertChannels } : {}) };
}

async function stackOf(fleet: Record<string, unknown>, stack = "production") {
    return stackArgs(await fleetResources(fleetSpec({ channels: CHANNELS, ...fleet }, stack, SECRETS)));
}

function undeclared(agentName: string, index: number, channel: string, known = "ops-slack, sales-discord", stack = "production"): string {
    return `stacks/Pulumi.${stack}.yaml: fleet.agents.${agentName}.alertChannels[${index}]: declare channel "${channel}" under fleet.channels or route to one that exists (${known})`;
}

describe("alert-channels-exist", () => {
    it("passes agents that route to declared channels", async () => {
        expect(await messages(policy, await stackOf({ agents: { pesti: agent("pesti", ["ops-slack", "sales-discord"]), jarvis: agent("jarvis", ["ops-slack"]) } }))).toEqual([]);
    });

    it("passes agents that route nowhere (tier-monitoring asks for a route)", async () => {
        expect(await messages(policy, await stackOf({ agents: { pesti: agent("pesti") } }))).toEqual([]);
    });

    it("reports an undeclared channel at its index, at the AgentService", async () => {
        const args = await stackOf({ agents: { pesti: agent("pesti", ["ops-slack", "war-room"]) } });
        expect(await runPolicy(policy, args)).toEqual([{ message: undeclared("pesti", 1, "war-room"), urn: "urn:pulumi:production::agent-fleet::agent-fleet:index:Fleet$agent-fleet:index:AgentService::fleet-pesti" }]);
    });

    it("reports a misspelt channel", async () => {
        expect(await messages(policy, await stackOf({ agents: { pesti: agent("pesti", ["ops-slak"]) } }))).toEqual([undeclared("pesti", 0, "ops-slak")]);
    });

    it("reports every agent and every channel", async () => {
        expect(await messages(policy, await stackOf({ agents: { pesti: agent("pesti", ["war-room", "pager"]), jarvis: agent("jarvis", ["war-room"]) } }))).toEqual([
            undeclared("jarvis", 0, "war-room"),
            undeclared("pesti", 0, "war-room"),
            undeclared("pesti", 1, "pager"),
        ]);
    });

    it("says so when the stack declares no channels", async () => {
        expect(await messages(policy, await stackOf({ channels: {}, agents: { pesti: agent("pesti", ["ops-slack"]) } }))).toEqual([
            undeclared("pesti", 0, "ops-slack", "none declared"),
        ]);
    });

    it.each(["dev", "staging"])("applies in %s too", async (stack) => {
        expect(await messages(policy, await stackOf({ agents: { pesti: agent("pesti", ["war-room"]) } }, stack))).toEqual([
            undeclared("pesti", 0, "war-room", "ops-slack, sales-discord", stack),
        ]);
    });
});
