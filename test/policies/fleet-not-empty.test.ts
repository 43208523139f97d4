/**
 * Stack view: the Fleet's registered inputs and one AgentService per agent.
 * The happy path is a staging or production fleet with one agent; each case
 * changes one thing.
 */
import { describe, expect, it } from "vitest";
import { fleetNotEmpty } from "../../policies/rules/fleet-not-empty";
import { fleetSpec } from "../support/specs";
import { fleetResources, messages, runPolicy, stackArgs } from "./helpers";

const policy = fleetNotEmpty();
const ONE_AGENT = { pesti: { tier: 1, port: 8080, image: "ghcr.io/acme/pesti:1.4.2" } };
const EMPTY = (stack: string) =>
    `stacks/Pulumi.${stack}.yaml: fleet.agents: list the agents ${stack} runs; with none, \`pulumi up\` deletes every running agent (set fleet.allowEmpty: true if that is the intent)`;

async function check(fleet: Record<string, unknown>, stack = "production"): Promise<string[]> {
    return messages(policy, stackArgs(await fleetResources(fleetSpec(fleet, stack))));
}

describe("fleet-not-empty", () => {
    it.each(["staging", "production"])("passes a %s fleet with an agent", async (stack) => {
        expect(await check({ agents: ONE_AGENT }, stack)).toEqual([]);
    });

    it.each(["staging", "production"])("reports a %s fleet with no agents, at the Fleet", async (stack) => {
        const args = stackArgs(await fleetResources(fleetSpec({ agents: {} }, stack)));
        expect(await runPolicy(policy, args)).toEqual([{ message: EMPTY(stack), urn: `urn:pulumi:${stack}::agent-fleet::agent-fleet:index:Fleet::fleet` }]);
    });

    it("passes an empty production fleet whose file says allowEmpty", async () => {
        expect(await check({ agents: {}, allowEmpty: true })).toEqual([]);
    });

    it("still reports an empty fleet with allowEmpty: false", async () => {
        expect(await check({ agents: {}, allowEmpty: false })).toEqual([EMPTY("production")]);
    });

    it("exempts dev, where an empty fleet is an ordinary teardown", async () => {
        expect(await check({ agents: {} }, "dev")).toEqual([]);
    });

    it("judges the production stack as production even when its file declares dev", async () => {
        expect(await check({ environment: "dev", agents: {} })).toEqual([EMPTY("production")]);
    });
});
