import * as pulumi from "@pulumi/pulumi";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AgentServiceTransforms, Fleet } from "../../components";
import { fleetSpec } from "../support/specs";
import { MockRun, outputOf, settle, startMocks } from "../support/pulumi";

const CONTAINER = "docker:index/container:Container";

let run: MockRun;
beforeEach(async () => {
    run = await startMocks("staging");
});
afterEach(settle);

const spec = () => fleetSpec({
    agents: {
        alpha: { tier: 1, port: 8080, image: "ghcr.io/acme/alpha:1.0.0" },
        beta: { tier: 1, port: 8080, image: "ghcr.io/acme/beta:2.0.0", secrets: { API_KEY: "betaKey" } },
        gamma: { tier: 1, port: 9090, image: "ghcr.io/acme/gamma:3.0.0" },
    },
}, "staging", ["betaKey"]);

/** The three-agent fleet declared with agent transform hooks, every registration settled. */
async function declaredWith(agent: AgentServiceTransforms): Promise<Fleet> {
    const fleet = new Fleet("fleet", { spec: spec(), secretConfig: () => pulumi.secret("v"), transform: { agent } });
    for (const a of Object.values(fleet.agents)) await outputOf(a.instances);
    await settle();
    return fleet;
}

describe("Fleet", () => {
    it("puts every agent on one network for the environment and exports each agent", async () => {
        const fleet = new Fleet("fleet", { spec: spec(), secretConfig: (key) => pulumi.secret(`value-of-${key}`) });
        const networkName = await outputOf(fleet.networkName);
        expect(Object.keys(fleet.agents)).toEqual(["alpha", "beta", "gamma"]);
        for (const agent of Object.values(fleet.agents)) await outputOf(agent.instances);
        await settle();
        const [network] = run.byType("docker:index/network:Network");
        expect(network.name).toBe("fleet-staging-network");
        for (const container of run.byType(CONTAINER)) {
            expect(container.inputs.networksAdvanced[0].name).toBe(networkName);
        }
    });

    it("reads only the secret keys the agents name", async () => {
        const asked: string[] = [];
        const fleet = new Fleet("fleet", { spec: spec(), secretConfig: (key) => { asked.push(key); return pulumi.secret("v"); } });
        for (const agent of Object.values(fleet.agents)) await outputOf(agent.instances);
        expect(asked).toEqual(["betaKey"]);
    });

    it("keeps declaring the other agents when one agent fails, and fails the update", async () => {
        const fleet = await declaredWith({ container: (_args, _opts, name) => { if (name === "fleet-beta") throw new Error("transform broke"); } });
        expect(Object.keys(fleet.agents)).toEqual(["alpha", "gamma"]);
        const agentsWithContainers = run.byType(CONTAINER).map((c) => c.name).sort();
        expect(agentsWithContainers).toEqual(["fleet-alpha", "fleet-gamma"]);
        expect(pulumi.log.hasErrors()).toBe(true);
    });

    it("declares no agent whose image failed, keeps the agents on other images, and fails the update", async () => {
        const fleet = await declaredWith({ remoteImage: (args) => { if (args.name === "ghcr.io/acme/beta:2.0.0") throw new Error("transform broke"); } });
        expect(Object.keys(fleet.agents)).toEqual(["alpha", "gamma"]);
        expect(run.byType("docker:index/remoteImage:RemoteImage").map((r) => r.inputs.name).sort()).toEqual(["ghcr.io/acme/alpha:1.0.0", "ghcr.io/acme/gamma:3.0.0"]);
        expect(run.byType(CONTAINER).map((c) => c.name).sort()).toEqual(["fleet-alpha", "fleet-gamma"]);
        expect(pulumi.log.hasErrors()).toBe(true);
    });

    it("gives no agent a dependency on another agent", async () => {
        const fleet = new Fleet("fleet", { spec: spec(), secretConfig: () => pulumi.secret("v") });
        for (const agent of Object.values(fleet.agents)) await outputOf(agent.instances);
        await settle();
        const services = run.byType("agent-fleet:index:AgentService");
        const urnsOfAgent = (agent: string) => new Set(run.resources.filter((r) => r.name.startsWith(`fleet-${agent}`)).map((r) => r.urn));
        for (const agent of ["alpha", "beta", "gamma"]) {
            const others = ["alpha", "beta", "gamma"].filter((a) => a !== agent).flatMap((a) => [...urnsOfAgent(a)]);
            for (const resource of run.resources.filter((r) => r.name.startsWith(`fleet-${agent}`))) {
                expect(resource.dependencies.filter((d) => others.includes(d))).toEqual([]);
            }
        }
        expect(services).toHaveLength(3);
    });
});

describe("resource names", () => {
    it("gives agent pesti's second replica and agent pesti-1 different URNs", async () => {
        const fleet = new Fleet("fleet", {
            spec: fleetSpec({
                agents: {
                    pesti: { tier: 1, port: 8080, image: "ghcr.io/acme/pesti:1.0.0", replicas: 2 },
                    "pesti-1": { tier: 1, port: 8080, image: "ghcr.io/acme/pesti:1.0.0" },
                },
            }, "staging"),
            secretConfig: () => pulumi.secret("v"),
        });
        for (const agent of Object.values(fleet.agents)) await outputOf(agent.instances);
        await settle();
        const urns = run.byType(CONTAINER).map((c) => c.urn);
        expect(urns).toHaveLength(3);
        expect(new Set(urns).size).toBe(3);
        expect(run.byType(CONTAINER).map((c) => c.name).sort()).toEqual(["fleet-pesti", "fleet-pesti-1", "fleet-pesti.1"]);
    });
});
