import * as pulumi from "@pulumi/pulumi";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AgentServiceTransforms, Fleet } from "../../components";
import { fleetSpec } from "../support/specs";
import { MockRun, isWireSecret, outputOf, settle, startMocks } from "../support/pulumi";

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

describe("Fleet on the hosts of fleet.hosts", () => {
    const APP_1 = "ssh://deploy@app-1.example.com";
    const APP_2 = "ssh://deploy@app-2.example.com";
    const onHosts = () => fleetSpec({
        hosts: { "app-1": { docker: APP_1 }, "app-2": { docker: APP_2 } },
        channels: { ops: { type: "slack", urlSecret: "opsUrl" } },
        agents: {
            alpha: { tier: 1, port: 8080, image: "ghcr.io/acme/alpha:1.0.0", replicas: 2, alertChannels: ["ops"] },
            beta: { tier: 1, port: 8080, image: "ghcr.io/acme/beta:2.0.0", hosts: ["app-2"] },
        },
    }, "staging", ["opsUrl"]);

    it("gives each host its own provider, network, images and sentinel, and each agent its replicas on each of its hosts", async () => {
        const fleet = new Fleet("fleet", { spec: onHosts(), secretConfig: () => pulumi.secret("v") });
        const hostsOf = await outputOf(fleet.agents.alpha.instanceHosts!);
        await outputOf(fleet.agents.beta.instances);
        await settle();
        const providers = run.byType("pulumi:providers:docker");
        expect(providers.map((p) => [p.name, p.inputs.host])).toEqual([["fleet-host-app-1", APP_1], ["fleet-host-app-2", APP_2]]);
        const providerOf = (resource: { provider: string }) => providers.find((p) => resource.provider.startsWith(`${p.urn}::`))?.name;
        // Every Docker object is on the provider of the host its name says, and none on the default provider.
        const dockerObjects = run.resources.filter((r) => r.custom && r.type.startsWith("docker:"));
        const named = dockerObjects.map((r) => `${r.name.replace(/-[0-9a-f]{8}\./, "-<hash>.")} on ${providerOf(r)}`).sort();
        expect(named).toEqual([
            "fleet-alpha.app-1 on fleet-host-app-1", "fleet-alpha.app-1.1 on fleet-host-app-1",
            "fleet-alpha.app-2 on fleet-host-app-2", "fleet-alpha.app-2.1 on fleet-host-app-2",
            "fleet-beta.app-2 on fleet-host-app-2",
            "fleet-image-ghcr-io-acme-alpha-1-0-0-<hash>.app-1 on fleet-host-app-1",
            "fleet-image-ghcr-io-acme-alpha-1-0-0-<hash>.app-2 on fleet-host-app-2",
            "fleet-image-ghcr-io-acme-beta-2-0-0-<hash>.app-2 on fleet-host-app-2",
            ...["app-1", "app-2"].flatMap((host) => ["", "-docker-api", "-docker-proxy", "-docker-proxy-image", "-image", "-spool"].map((part) => `fleet-sentinel.${host}${part} on fleet-host-${host}`)),
            "fleet-staging-network.app-1 on fleet-host-app-1", "fleet-staging-network.app-2 on fleet-host-app-2",
        ]);
        expect(hostsOf).toEqual(["app-1", "app-1", "app-2", "app-2"]);
        for (const container of run.byType(CONTAINER).filter((c) => c.name.startsWith("fleet-alpha") || c.name.startsWith("fleet-beta"))) {
            const host = container.name.split(".")[1];
            expect(container.inputs.labels).toContainEqual({ label: "agent-fleet.host", value: host });
        }
        // One AgentService per agent still: policies judge an agent once, whatever its hosts.
        expect(run.byType("agent-fleet:index:AgentService").map((a) => a.name).sort()).toEqual(["fleet-alpha", "fleet-beta"]);
    });

    it("keeps the names and the default provider of a stack without hosts", async () => {
        const fleet = new Fleet("fleet", { spec: spec(), secretConfig: () => pulumi.secret("v") });
        for (const agent of Object.values(fleet.agents)) await outputOf(agent.instances);
        await settle();
        expect(run.byType("pulumi:providers:docker")).toEqual([]);
        expect(run.resources.filter((r) => r.custom).every((r) => r.provider === "")).toBe(true);
        expect(run.byType(CONTAINER).map((c) => c.name).sort()).toEqual(["fleet-alpha", "fleet-beta", "fleet-gamma"]);
        expect(fleet.agents.alpha.instanceHosts).toBeUndefined();
    });
});

describe("Fleet registry logins", () => {
    it("gives each host's provider the stack's registry logins, the password a secret", async () => {
        const withLogin = fleetSpec({
            hosts: { "app-1": { docker: "ssh://deploy@app-1.example.com" } },
            registries: { "registry.acme.dev": { username: "deploy", passwordSecret: "registryPassword" } },
            agents: { alpha: { tier: 1, port: 8080, image: "registry.acme.dev/acme/alpha:1.0.0" } },
        }, "staging", ["registryPassword"]);
        const fleet = new Fleet("fleet", { spec: withLogin, secretConfig: (key) => pulumi.secret(`seeded-${key}-value`) });
        await outputOf(fleet.agents.alpha.instances);
        await settle();
        const [provider] = run.byType("pulumi:providers:docker");
        // A provider's inputs reach the engine as JSON text.
        expect(JSON.parse(String(provider.inputs.registryAuth))).toEqual([{ address: "registry.acme.dev", username: "deploy", password: "seeded-registryPassword-value" }]);
        // On the wire the logins are a secret (the engine encrypts them in state); the host is not.
        expect(isWireSecret(provider.wireInputs.registryAuth)).toBe(true);
        expect(isWireSecret(provider.wireInputs.host)).toBe(false);
    });
});
