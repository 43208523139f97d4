import { describe, expect, it } from "vitest";
import { agentOwner } from "../../policies/rules/agent-owner";
import { agentSpec, fleetSpec } from "../support/specs";
import { agentServiceArgs, containerResourceArgs, messages, runPolicy } from "./helpers";

const policy = agentOwner();
const MISSING = 'stacks/Pulumi.production.yaml: fleet.agents.pesti.owner: set an owner like "@acme/sales-eng" or an email';

async function check(fields: Record<string, unknown>, stack = "production"): Promise<string[]> {
    return messages(policy, await agentServiceArgs(agentSpec(fields, stack)));
}

describe("agent-owner", () => {
    it.each(["@acme/sales-eng", "sales-eng@acme.example"])("passes an owner (%s)", async (owner) => {
        expect(await check({ owner })).toEqual([]);
    });

    it("reports an agent without an owner, at the AgentService", async () => {
        const args = await agentServiceArgs(agentSpec({}));
        expect(await runPolicy(policy, args)).toEqual([{ message: MISSING, urn: args.urn }]);
    });

    it("reports an owner of blanks, which the schema lets through", async () => {
        expect(await check({ owner: "   " })).toEqual([MISSING]);
    });

    it.each(["dev", "staging"])("applies in %s too", async (stack) => {
        expect(await check({}, stack)).toEqual([MISSING.replace("production", stack)]);
    });

    it.each([2, 3])("applies to tier %i too", async (tier) => {
        expect(await check({ tier, ...(tier === 3 ? { featureFlags: [{ name: "smart-replies" }] } : {}) })).toEqual([MISSING]);
    });

    it("names the agent, whatever it is called", async () => {
        const [agent] = fleetSpec({ agents: { "email-agent": { tier: 1, port: 8080, image: "ghcr.io/acme/email-agent:2.0.0" } } }).agents;
        expect(await messages(policy, await agentServiceArgs(agent))).toEqual([MISSING.replace(".pesti.", ".email-agent.")]);
    });

    it("ignores the containers", async () => {
        expect(await runPolicy(policy, await containerResourceArgs(agentSpec({})))).toEqual([]);
    });
});
