/**
 * The swarm runtime under mocks: the Service, Secrets, overlay network and
 * image reference a Fleet declares for `fleet.runtime: swarm`, read from what
 * the engine would receive. The real engine runs the same spec in
 * test/e2e/swarm.test.ts, and test/docker/swarm-conformance.test.ts hands
 * these update and rollback parameters to Docker itself.
 */
import * as pulumi from "@pulumi/pulumi";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Fleet, ROLLBACK_MONITOR_MS, dockerHealthcheck } from "../../components";
import { FleetConfigError } from "../../config";
import { DOCKER_TYPES, EDGE_ROUTES_TYPE, LABELS, swarmDuration } from "../../contract";
import { fleetSpec } from "../support/specs";
import { MockRun, isWireSecret, outputOf, settle, startMocks } from "../support/pulumi";

const { service: SERVICE, secret: SECRET, container: CONTAINER } = DOCKER_TYPES;
const SEEDED = "seeded-swarm-secret-4b1d";

let run: MockRun;
beforeEach(async () => {
    run = await startMocks("production");
});
afterEach(settle);

function swarmFleet(agents: Record<string, unknown>, secretKeys: string[] = [], stack = "production") {
    return fleetSpec({ runtime: "swarm", agents }, stack, secretKeys);
}

const PESTI = { tier: 2, port: 8080, image: "registry.acme.dev/pesti:1.4.2", memory: "256Mi", cpus: 0.5, replicas: 2, owner: "@acme/sales" };

async function declare(agents: Record<string, unknown>, secretKeys: string[] = [], stack = "production") {
    const fleet = new Fleet("fleet", { spec: swarmFleet(agents, secretKeys, stack), secretConfig: (key) => pulumi.secret(`${SEEDED}-${key}`), deployNotifications: false });
    const outputs = Object.fromEntries(await Promise.all(Object.entries(fleet.agents).map(async ([name, a]) => [name, {
        instances: await outputOf(a.instances), imageRef: await outputOf(a.imageRef), healthUrls: await outputOf(a.healthUrls),
    }] as const)));
    await settle();
    return { fleet, outputs, service: (agent: string) => run.byType(SERVICE).find((s) => s.name === `fleet-${agent}`)! };
}

describe("swarm runtime: the service spec", () => {
    it("runs each agent as one replicated Service, and no containers", async () => {
        const { service, outputs } = await declare({ pesti: PESTI });
        expect(run.byType(CONTAINER)).toHaveLength(0);
        expect(run.byType(SERVICE).map((s) => s.name)).toEqual(["fleet-pesti"]);
        expect(service("pesti").inputs.mode).toEqual({ replicated: { replicas: 2 } });
        expect(outputs.pesti.instances).toEqual([expect.stringMatching(/^fleet-pesti-[0-9a-f]{7}$/)]);
    });

    it("gives the tasks the container runtime's healthcheck, durations spelled as the provider reads them back", async () => {
        const spec = swarmFleet({ pesti: { ...PESTI, healthcheck: { interval: "60s", timeout: "5s", startPeriod: "90s", retries: 3 } } }).agents[0];
        const { service } = await declare({ pesti: { ...PESTI, healthcheck: { interval: "60s", timeout: "5s", startPeriod: "90s", retries: 3 } } });
        const expected = dockerHealthcheck(spec.port, spec.healthcheck, swarmDuration);
        expect(service("pesti").inputs.taskSpec.containerSpec.healthcheck).toEqual(expected);
        // The provider gives services no start_interval, and the agent sets no startInterval of its own: every interval.
        expect(expected).toMatchObject({ interval: "1m", timeout: "5s", startPeriod: "1m30s", retries: 3 });
        expect(expected).not.toHaveProperty("startInterval");
    });

    it("gives tasks of an agent that sets startInterval a 2 s probe, retries scaled to the same time to unhealthy", async () => {
        const { service } = await declare({ pesti: { ...PESTI, healthcheck: { interval: "60s", timeout: "5s", startPeriod: "90s", retries: 3, startInterval: "1s" } } });
        expect(service("pesti").inputs.taskSpec.containerSpec.healthcheck).toMatchObject({ interval: "2s", startPeriod: "1m30s", retries: 90 });
    });

    it("rolls one task at a time, start-first, and rolls back on any failure seen within startPeriod + interval × retries", async () => {
        const { service } = await declare({ pesti: { ...PESTI, healthcheck: { interval: "10s", startPeriod: "20s", retries: 4 } } });
        const { updateConfig, rollbackConfig } = service("pesti").inputs;
        // 20s + 10s × 4 = 60s.
        expect(updateConfig).toEqual({ parallelism: 1, delay: "0s", order: "start-first", failureAction: "rollback", monitor: "1m", maxFailureRatio: "0" });
        expect(rollbackConfig).toEqual({
            parallelism: 1, delay: "0s", order: "start-first", failureAction: "pause", monitor: swarmDuration(ROLLBACK_MONITOR_MS), maxFailureRatio: "0",
        });
    });

    it("updates an agent with a fixed host port stop-first, since two tasks cannot hold the port on one node", async () => {
        const { service } = await declare({ pesti: { ...PESTI, replicas: 1, hostPort: 18080 } });
        expect(service("pesti").inputs.updateConfig.order).toBe("stop-first");
        expect(service("pesti").inputs.rollbackConfig.order).toBe("stop-first");
        expect(service("pesti").inputs.endpointSpec.ports).toEqual([{ targetPort: 8080, publishedPort: 18080, publishMode: "host", protocol: "tcp" }]);
    });

    it("publishes in host mode on a dynamic port, behind DNS round robin, and names the agent on the overlay network", async () => {
        const { service, fleet } = await declare({ pesti: PESTI });
        const networkName = await outputOf(fleet.networkName);
        const [network] = run.byType("docker:index/network:Network");
        expect(network.inputs).toMatchObject({ driver: "overlay", attachable: true });
        expect(service("pesti").inputs.endpointSpec).toEqual({ mode: "dnsrr", ports: [{ targetPort: 8080, publishMode: "host", protocol: "tcp" }] });
        expect(service("pesti").inputs.taskSpec.networksAdvanceds).toEqual([{ id: `${network.name}-id`, aliases: ["pesti"] }]);
        expect(networkName).toBeTruthy();
    });

    it("limits and reserves memory and CPU in the units Docker reads back, and restarts failed tasks", async () => {
        const { service } = await declare({ pesti: PESTI });
        const { resources, restartPolicy } = service("pesti").inputs.taskSpec;
        expect(resources).toEqual({ limits: { memoryBytes: 268435456, nanoCpus: 500000000 }, reservation: { memoryBytes: 268435456, nanoCpus: 500000000 } });
        // Condition, delay and window all set: left out, the provider reads back values that differ on every `up`.
        expect(restartPolicy).toEqual({ condition: "on-failure", maxAttempts: expect.any(Number), delay: "5s", window: expect.stringMatching(/^\d/) });
    });

    it("waits for convergence long enough for every replica's health wait and watch", async () => {
        const { service } = await declare({ pesti: { ...PESTI, waitTimeout: "2m", healthcheck: { interval: "10s", startPeriod: "20s", retries: 4 } } });
        // 2 replicas × (2m + 1m) + 2s rollback watch + 60s slack = 7m2s.
        expect(service("pesti").inputs.convergeConfig).toEqual({ delay: "1s", timeout: "7m2s" });
    });

    it("labels the service with everything, and the task containers only with what never changes in a release", async () => {
        const { service } = await declare({ pesti: PESTI });
        const labels = (list: { label: string; value: string }[]) => Object.fromEntries(list.map((l) => [l.label, l.value]));
        const serviceLabels = labels(service("pesti").inputs.labels);
        expect(serviceLabels).toMatchObject({ [LABELS.agent]: "pesti", [LABELS.version]: "1.4.2", [LABELS.image]: PESTI.image, [LABELS.tier]: "2" });
        expect(labels(service("pesti").inputs.taskSpec.containerSpec.labels)).toEqual({
            [LABELS.agent]: "pesti", [LABELS.stack]: "production", [LABELS.environment]: "production",
        });
    });

    it("places tasks by the agent's constraints", async () => {
        const { service } = await declare({ pesti: { ...PESTI, placementConstraints: ["node.role==manager", "node.labels.zone!=edge"] } });
        expect(service("pesti").inputs.taskSpec.placement).toEqual({ constraints: ["node.role==manager", "node.labels.zone!=edge"] });
    });
});

describe("swarm runtime: secrets", () => {
    const WITH_SECRET = { ...PESTI, secrets: { OPENAI_API_KEY: "openaiKey" }, env: { LOG_LEVEL: "info" } };

    it("makes each secret a Swarm secret, mounted as a file only the agent's user reads, and keeps it out of the env", async () => {
        const { service } = await declare({ pesti: WITH_SECRET }, ["openaiKey"]);
        const [secret] = run.byType(SECRET);
        expect(secret.name).toBe("fleet-pesti-secret-openai-api-key");
        expect(isWireSecret(secret.wireInputs.data)).toBe(true);
        expect(Buffer.from(secret.inputs.data, "base64").toString("utf8")).toBe(`${SEEDED}-openaiKey`);
        const { containerSpec } = service("pesti").inputs.taskSpec;
        expect(containerSpec.secrets).toEqual([{ secretId: expect.any(String), secretName: expect.stringMatching(/^fleet-pesti-secret-openai-api-key-/), fileName: "OPENAI_API_KEY", fileUid: "1000", fileGid: "1000", fileMode: 0o400 }]);
        expect(containerSpec.env).toMatchObject({ LOG_LEVEL: "info", OPENAI_API_KEY_FILE: "/run/secrets/OPENAI_API_KEY", AGENT_NAME: "pesti" });
        expect(containerSpec.env.OPENAI_API_KEY).toBeUndefined();
        expect(JSON.stringify(service("pesti").wireInputs)).not.toContain(SEEDED);
    });

    it("lets a new value make a new secret before the old one goes, so rotation rolls the service", async () => {
        await declare({ pesti: WITH_SECRET }, ["openaiKey"]);
        const [secret] = run.byType(SECRET);
        expect(secret.inputs.name).toBeUndefined();
        expect(secret.replaceOnChanges).toEqual(["data"]);
        expect(secret.deleteBeforeReplace).toBe(false);
    });
});

describe("swarm runtime: images", () => {
    it("runs a pulled image by its registry digest, so every node runs the same bits", async () => {
        const { service, outputs } = await declare({ pesti: PESTI });
        expect(outputs.pesti.imageRef).toMatch(/^registry\.acme\.dev\/pesti@sha256:[0-9a-f]{64}$/);
        expect(service("pesti").inputs.taskSpec.containerSpec.image).toBe(outputs.pesti.imageRef);
    });

    it("pushes a built image to its registry instead of keeping it on one host", async () => {
        // A dev swarm: builds are dev's alone (the loader refuses one in staging and production).
        await declare({ pesti: { ...PESTI, image: "registry.acme.dev/pesti:dev", build: { context: "agents/sample-agent" } } }, [], "dev");
        const [image] = run.byType("docker:index/image:Image");
        expect(image.inputs.skipPush).toBe(false);
    });
});

describe("swarm runtime: config", () => {
    it("refuses placement constraints under the container runtime, naming the field", () => {
        expect(() => fleetSpec({ agents: { pesti: { ...PESTI, placementConstraints: ["node.role==manager"] } } })).toThrow(FleetConfigError);
        expect(() => fleetSpec({ agents: { pesti: { ...PESTI, placementConstraints: ["node.role==manager"] } } })).toThrow(
            /stacks\/Pulumi\.production\.yaml: fleet\.agents\.pesti\.placementConstraints: expected no placementConstraints under runtime container/,
        );
    });

    it("refuses a constraint Docker would not parse", () => {
        expect(() => swarmFleet({ pesti: { ...PESTI, placementConstraints: ["role=manager"] } })).toThrow(
            /fleet\.agents\.pesti\.placementConstraints\[0\]: expected a placement constraint like "node\.role==manager"/,
        );
    });
});

describe("swarm runtime: the edge", () => {
    const EDGE = { hostname: "agents.acme.dev", image: "caddy:2.8.4-alpine@sha256:1111111111111111111111111111111111111111111111111111111111111111", acmeEmail: "ops@acme.dev" };

    async function declareEdge(fleet: Record<string, unknown>) {
        new Fleet("fleet", { spec: fleetSpec({ runtime: "swarm", edge: EDGE, ...fleet }), secretConfig: (key) => pulumi.secret(key), deployNotifications: false });
        await settle();
        const [edge] = run.byType(SERVICE).filter((s) => s.inputs.mode?.global === true);
        const [routes] = run.byType(EDGE_ROUTES_TYPE);
        return { edge, routes: routes.inputs as { container: string; kind: string; config: string } };
    }

    it("runs Caddy as a global service on the managers, its ports published on each node, its certificates in a volume, and no container", async () => {
        const { edge } = await declareEdge({ agents: { pesti: { ...PESTI, expose: "pesti.acme.dev" } } });
        expect(run.byType(CONTAINER)).toHaveLength(0);
        expect(edge.inputs.mode).toEqual({ global: true });
        expect(edge.inputs.taskSpec.placement).toEqual({ constraints: ["node.role==manager"] });
        expect(edge.inputs.endpointSpec).toEqual({ mode: "dnsrr", ports: [
            { targetPort: 80, publishedPort: 80, publishMode: "host", protocol: "tcp" },
            { targetPort: 443, publishedPort: 443, publishMode: "host", protocol: "tcp" },
        ] });
        // Fixed host ports on each node: its old task frees them before the new one starts.
        expect(edge.inputs.updateConfig).toMatchObject({ order: "stop-first", parallelism: 1 });
        const { containerSpec } = edge.inputs.taskSpec;
        expect(containerSpec.commands).toEqual(["caddy", "run", "--resume"]);
        expect(containerSpec.mounts).toEqual([{ type: "volume", source: expect.any(String), target: "/data" }]);
        // `fleet verify` finds a node's edge task by the labels it finds the container runtime's edge by.
        expect(containerSpec.labels).toEqual(expect.arrayContaining([{ label: LABELS.role, value: "edge" }, { label: LABELS.stack, value: "production" }]));
    });

    it("routes to each exposed agent's service by name, loading the routes into the edge service's tasks", async () => {
        const { routes } = await declareEdge({ agents: { pesti: { ...PESTI, expose: "pesti.acme.dev" }, jarvis: { ...PESTI, image: "registry.acme.dev/jarvis:2.0.0" } } });
        expect(routes.kind).toBe("service");
        const config = JSON.parse(routes.config) as { apps: { http: { servers: { edge: { routes: { handle: { routes: { handle: { handler: string; upstreams?: { dial: string }[] }[] }[] }[] }[] } } } } };
        const proxies = config.apps.http.servers.edge.routes.flatMap((r) => r.handle?.[0]?.routes?.flatMap((sub) => sub.handle.filter((h) => h.handler === "reverse_proxy")) ?? []);
        // One route, pesti's, to its service (Swarm's DNS answers it with healthy tasks only); jarvis is not exposed.
        expect(proxies.map((p) => p.upstreams)).toEqual([[{ dial: expect.stringMatching(/^fleet-pesti-[0-9a-f]{7}:8080$/) }]]);
    });

    it("gives the edge every exposed agent when the stack reaches the swarm's manager over SSH (fleet.hosts)", async () => {
        const { routes } = await declareEdge({
            hosts: { manager: { docker: "ssh://deploy@manager.example.com" } },
            agents: { pesti: { ...PESTI, expose: "pesti.acme.dev" } },
        });
        // Before: under swarm the agents (placed by Swarm, not by host) were not declared on the one host at all.
        expect(run.byType(SERVICE).filter((s) => s.inputs.mode?.replicated).map((s) => s.inputs.labels.find((l: { label: string }) => l.label === LABELS.agent)?.value)).toEqual(["pesti"]);
        const routed = (JSON.parse(routes.config) as { apps: { http: { servers: { edge: { routes: { match?: unknown }[] } } } } }).apps.http.servers.edge.routes;
        expect(routed.map((r) => r.match ?? "everything else")).toEqual([[{ host: ["pesti.acme.dev"] }], "everything else"]);
    });
});
