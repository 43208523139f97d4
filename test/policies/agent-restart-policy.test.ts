import { describe, expect, it } from "vitest";
import { agentRestartPolicy } from "../../policies/rules/agent-restart-policy";
import { agentSpec } from "../support/specs";
import { ContainerOptions, agentServiceArgs, containerResourceArgs, messages, runPolicy, serviceResourceArgs } from "./helpers";

const policy = agentRestartPolicy();
const AT = "stacks/Pulumi.production.yaml: fleet.agents.pesti";
const FIX = `remove the transform that sets it so the AgentService's "on-failure" applies`;

async function check(options: ContainerOptions = {}, fields: Record<string, unknown> = {}): Promise<string[]> {
    return messages(policy, await containerResourceArgs(agentSpec(fields), options));
}

describe("agent-restart-policy", () => {
    it("passes the container the AgentService builds (on-failure with the tier's retry cap)", async () => {
        expect(await check()).toEqual([]);
    });

    it.each([1, 2, 3])("passes a tier %i agent in every environment", async (tier) => {
        for (const stack of ["dev", "staging", "production"]) {
            expect(await messages(policy, await containerResourceArgs(agentSpec({ tier }, stack)))).toEqual([]);
        }
    });

    it("passes a preview, where the container's image and network are not known yet", async () => {
        expect(await check({ preview: true })).toEqual([]);
    });

    it.each(["always", "unless-stopped"])("passes a transform that sets restart to %s", async (restart) => {
        expect(await check({ transform: (a) => { a.restart = restart; } })).toEqual([]);
    });

    it("reports restart \"no\" at the agent, at the container's URN", async () => {
        const args = await containerResourceArgs(agentSpec(), { transform: (a) => { a.restart = "no"; } });
        expect(await runPolicy(policy, args)).toEqual([{ message: `${AT}: restart policy is "no"; ${FIX}`, urn: args.urn }]);
    });

    it("reports a restart left unset, which Docker treats as \"no\"", async () => {
        expect(await check({ transform: (a) => { a.restart = undefined; } })).toEqual([`${AT}: restart policy is "no"; ${FIX}`]);
    });

    it("names the stack file the container's stack label points at", async () => {
        expect(await messages(policy, await containerResourceArgs(agentSpec({}, "staging"), { transform: (a) => { a.restart = "no"; } }))).toEqual([
            `stacks/Pulumi.staging.yaml: fleet.agents.pesti: restart policy is "no"; ${FIX}`,
        ]);
    });

    it("ignores containers that are not agents, and resources that are not containers", async () => {
        expect(await check({ transform: (a) => { a.labels = []; a.restart = "no"; } })).toEqual([]);
        expect(await runPolicy(policy, await agentServiceArgs(agentSpec()))).toEqual([]);
    });
});

describe("agent-restart-policy on the swarm runtime", () => {
    // A pack of its own: a pack reports each problem once per agent, and the container specs above met these agents first.
    const policy = agentRestartPolicy();

    type Task = { restartPolicy?: { condition?: string } };

    it("passes the service the AgentService builds (condition on-failure)", async () => {
        expect(await messages(policy, await serviceResourceArgs(agentSpec()))).toEqual([]);
    });

    it("passes a service whose restart policy a transform removed: Swarm then restarts on any exit", async () => {
        expect(await messages(policy, await serviceResourceArgs(agentSpec(), { serviceTransform: (a) => { (a.taskSpec as Task).restartPolicy = undefined; } }))).toEqual([]);
    });

    it("reports condition \"none\" at the service, in Docker's words", async () => {
        const args = await serviceResourceArgs(agentSpec(), { serviceTransform: (a) => { (a.taskSpec as Task).restartPolicy = { condition: "none" }; } });
        expect(await runPolicy(policy, args)).toEqual([{ message: `${AT}: restart policy is "no"; ${FIX}`, urn: args.urn }]);
    });
});
