import * as pulumi from "@pulumi/pulumi";
import { beforeEach, describe, expect, it } from "vitest";
import { AgentService, LABELS, canCreateBeforeDelete } from "../../components";
import type { AgentRuntime } from "../../components";
import { TIERS, agentSpecHash } from "../../config";
import { watchFromLabels, durationMs } from "../../contract";
import { agentSpec } from "../support/specs";
import { MockRun, isWireSecret, outputOf, settle, startMocks } from "../support/pulumi";

const CONTAINER = "docker:index/container:Container";
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
const BUILT_IMAGE = "docker:index/image:Image";

let run: MockRun;
beforeEach(async () => {
    run = await startMocks("production");
});

async function deploy(fields: Record<string, unknown> = {}, extra: Partial<ConstructorParameters<typeof AgentService>[1]> = {}, stack = "production") {
    const spec = agentSpec(fields, stack);
    const service = new AgentService("pesti", { spec, networkName: "fleet-net", ...extra });
    const outputs = {
        instances: await outputOf(service.instances),
        imageRef: await outputOf(service.imageRef),
        healthUrls: await outputOf(service.healthUrls),
        tier: await outputOf(service.tier),
        version: await outputOf(service.version),
    };
    await settle();
    return { spec, service, outputs, container: run.byType(CONTAINER)[0] };
}

describe("AgentService image", () => {
    it("pulls a tagged image with keepLocally and pins the container to its image id", async () => {
        const { container, outputs } = await deploy();
        const [image] = run.byType(REMOTE_IMAGE);
        expect(image.inputs).toMatchObject({ name: "ghcr.io/acme/pesti:1.4.2", keepLocally: true });
        expect(outputs.imageRef).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(container.inputs.image).toBe(outputs.imageRef);
        expect(container.dependencies).toContain(image.urn);
        expect(run.byType(BUILT_IMAGE)).toHaveLength(0);
    });

    it("builds a local context without pushing for dev, and pins the container to the built id", async () => {
        const { container, outputs } = await deploy({
            image: "agent-fleet/sample-agent:dev",
            build: { context: "agents/sample-agent", dockerfile: "Dockerfile", args: { NODE_IMAGE: "node:20-alpine" } },
        }, {}, "dev");
        const [image] = run.byType(BUILT_IMAGE);
        expect(image.inputs).toMatchObject({
            imageName: "agent-fleet/sample-agent:dev",
            skipPush: true,
            build: { context: "agents/sample-agent", dockerfile: "agents/sample-agent/Dockerfile", args: { NODE_IMAGE: "node:20-alpine" } },
        });
        expect(container.inputs.image).toBe(outputs.imageRef);
        expect(run.byType(REMOTE_IMAGE)).toHaveLength(0);
        expect(outputs.version).toBe("dev");
    });
});

describe("AgentService container", () => {
    it("runs a healthcheck with Go-style durations and replaces the container on any change", async () => {
        const { container } = await deploy({ healthcheck: { path: "/healthz", interval: "1m", timeout: "5s", retries: 4, startPeriod: "90s" } }, { engine: { startInterval: true } });
        expect(container.inputs.healthcheck).toMatchObject({ interval: "1m0s", timeout: "5s", retries: 4, startPeriod: "1m30s" });
        const tests: string[] = container.inputs.healthcheck.tests;
        expect(tests.slice(0, 3)).toEqual(["CMD", "node", "-e"]);
        expect(tests[3]).toContain('"http://127.0.0.1:8080/healthz"');
        // "*" also covers the engine's init-error marker: a container saved unhealthy is re-created and re-gated.
        expect(container.replaceOnChanges).toEqual(["*"]);
    });

    it("probes every startInterval while the agent starts, on an engine with start_interval", async () => {
        const { container } = await deploy({ tier: 2 }, { engine: { startInterval: true } });
        const hc = TIERS[2].healthcheck;
        expect(container.inputs.healthcheck).toMatchObject({ interval: "10s", retries: hc.retries, startPeriod: "10s", startInterval: hc.startInterval });
        expect(hc.startInterval).toBe("1s");
    });

    it("on an engine without start_interval, probes every interval unless the agent sets startInterval itself", async () => {
        const { container } = await deploy({ tier: 2 }, { engine: { startInterval: false } });
        expect(container.inputs.healthcheck).toMatchObject({ interval: "10s", retries: TIERS[2].healthcheck.retries });
        expect(container.inputs.healthcheck.startInterval).toBeUndefined();
    });

    it("on an engine without start_interval, an agent's own startInterval of 1s probes every startIntervalFallback, retries scaled to the same time to unhealthy", async () => {
        const { container } = await deploy({ tier: 2, healthcheck: { startInterval: "1s" } }, { engine: { startInterval: false } });
        const hc = TIERS[2].healthcheck;
        expect(container.inputs.healthcheck).toMatchObject({ interval: "2s", retries: 15, startPeriod: "10s", timeout: "3s" });
        expect(container.inputs.healthcheck.startInterval).toBeUndefined();
        // The time to unhealthy the tier promises, and the health gate's timeout with it, are unchanged.
        expect(durationMs("2s") * 15).toBe(durationMs(hc.interval) * hc.retries);
        expect(container.inputs.waitTimeout).toBe((durationMs(hc.startPeriod) + durationMs(hc.interval) * hc.retries + durationMs(TIERS[2].waitTimeoutMargin)) / 1000);
        // The declared interval stays on the container for the agent-healthcheck policy to judge.
        expect(Object.fromEntries(container.inputs.labels.map((l: { label: string; value: string }) => [l.label, l.value]))[LABELS.healthcheckInterval]).toBe("10s");
    });

    it("rounds the scaled retries up: never fewer seconds of failures than declared", async () => {
        // 15 s × 1 is 8 probes 2 s apart.
        const { container } = await deploy({ tier: 1, healthcheck: { interval: "15s", timeout: "3s", retries: 1, startInterval: "2s" } }, { engine: { startInterval: false } });
        expect(container.inputs.healthcheck).toMatchObject({ interval: "2s", retries: 8 });
    });

    // The agent's own startInterval: the interval itself on an old engine (retries scaled), start_interval on a new one; as long as interval, off.
    it.each([
        ["5s", false, { interval: "5s", retries: 6 }],
        ["5s", true, { interval: "10s", retries: 3, startInterval: "5s" }],
        ["10s", false, { interval: "10s", retries: 3 }],
        ["10s", true, { interval: "10s", retries: 3 }],
    ])("takes the agent's own startInterval %s (start_interval: %s)", async (startInterval, engine, expected) => {
        const { container } = await deploy({ tier: 2, healthcheck: { startInterval } }, { engine: { startInterval: engine as boolean } });
        expect(container.inputs.healthcheck).toMatchObject(expected);
        if (!("startInterval" in expected)) expect(container.inputs.healthcheck.startInterval).toBeUndefined();
    });

    it.each([false, true])("leaves an interval already as short as the fallback as declared (start_interval: %s)", async (startInterval) => {
        const { container } = await deploy({ tier: 1, healthcheck: { interval: "2s", timeout: "1s", retries: 3 } }, { engine: { startInterval } });
        expect(container.inputs.healthcheck).toMatchObject({ interval: "2s", retries: 3 });
        // Still shorter than 2 s: the engine that has it probes every second while the agent starts.
        expect(container.inputs.healthcheck.startInterval).toBe(startInterval ? "1s" : undefined);
    });

    it("uses a custom healthcheck command for images without node", async () => {
        const command = ["CMD", "wget", "-qO-", "http://127.0.0.1:8080/health"];
        const { container } = await deploy({ healthcheck: { command } });
        expect(container.inputs.healthcheck.tests).toEqual(command);
    });

    it("waits for healthy with a timeout of startPeriod + interval × retries + the tier margin", async () => {
        const { container } = await deploy({ tier: 2, healthcheck: { interval: "5s", retries: 4, startPeriod: "20s" } });
        const expected = (durationMs("20s") + durationMs("5s") * 4 + durationMs(TIERS[2].waitTimeoutMargin)) / 1000;
        expect(container.inputs.wait).toBe(true);
        expect(container.inputs.waitTimeout).toBe(expected);
    });

    it("restarts on failure with the tier's retry cap and stops gracefully", async () => {
        const { container } = await deploy({ tier: 3, featureFlags: [{ name: "smart-followups" }] });
        expect(container.inputs.restart).toBe("on-failure");
        expect(container.inputs.maxRetryCount).toBe(TIERS[3].restartMaxRetries);
        const grace = durationMs(TIERS[3].stopGracePeriod) / 1000;
        expect(container.inputs.destroyGraceSeconds).toBe(grace);
        expect(container.inputs.stopTimeout).toBe(grace);
        expect(container.inputs.stopSignal).toBe("SIGTERM");
    });

    it("sets memory and cpu limits, a non-root user and a read-only root with a tmpfs", async () => {
        const { container } = await deploy({ memory: "1Gi", cpus: 0.5 });
        expect(container.inputs).toMatchObject({ memory: 1024, cpus: "0.5", user: "1000:1000", readOnly: true, tmpfs: { "/tmp": expect.stringContaining("rw") } });
    });

    it("sets swap equal to memory, so raising memory in place is never refused by Docker", async () => {
        const { container } = await deploy({ memory: "512Mi" });
        expect(container.inputs).toMatchObject({ memory: 512, memorySwap: 512 });
    });

    it.each([[1, "1.0"], [2, "2.0"], [10, "10."], [0.25, "0.25"], [1.5, "1.5"]])("spells cpus %s as the provider reads it back (%s)", async (cpus, spelled) => {
        const { container } = await deploy({ cpus });
        expect(container.inputs.cpus).toBe(spelled);
    });

    it("logs to the rotating local driver and sets no log options the daemon could merge into", async () => {
        const { container } = await deploy();
        expect(container.inputs.logDriver).toBe("local");
        expect(container.inputs.logOpts).toBeUndefined();
    });

    it("can run with a writable root for images that need one", async () => {
        const { container } = await deploy({ readOnlyRootFilesystem: false, user: "app" });
        expect(container.inputs.readOnly).toBe(false);
        expect(container.inputs.tmpfs).toBeUndefined();
        expect(container.inputs.user).toBe("app");
    });

    it("labels agent, tier, version and environment, the hash of its spec, and what the sentinel watches", async () => {
        const smokeChecks = [{ name: "reply", path: "/v1/reply", method: "POST", body: "{\"message\":\"hi\"}" }];
        const { container, spec } = await deploy({ tier: 2, monitorWindow: "90m", errorRateLimit: 3, smokeChecks, rollbackImage: "ghcr.io/acme/pesti:1.4.1" });
        const labels = Object.fromEntries(container.inputs.labels.map((l: { label: string; value: string }) => [l.label, l.value]));
        expect(labels).toEqual({
            [LABELS.agent]: "pesti",
            [LABELS.tier]: "2",
            [LABELS.version]: "1.4.2",
            [LABELS.environment]: "production",
            [LABELS.stack]: "production",
            [LABELS.specHash]: agentSpecHash(spec),
            [LABELS.image]: "ghcr.io/acme/pesti:1.4.2",
            [LABELS.rollbackImage]: "ghcr.io/acme/pesti:1.4.1",
            [LABELS.monitorWindow]: "1h30m0s",
            [LABELS.port]: "8080",
            [LABELS.healthcheckInterval]: "10s",
            [LABELS.errorRateLimit]: "3",
            [LABELS.smokeChecks]: JSON.stringify([{ name: "reply", method: "POST", path: "/v1/reply", expectStatus: 200, body: "{\"message\":\"hi\"}" }]),
        });
        // The sentinel reads back exactly what the config said.
        expect(watchFromLabels(labels)).toEqual({
            watch: {
                tier: 2, version: "1.4.2", monitorWindowMs: 90 * 60_000, port: 8080, errorRateLimitPercent: 3,
                smokeChecks: [{ name: "reply", method: "POST", path: "/v1/reply", expectStatus: 200, body: "{\"message\":\"hi\"}" }],
            },
            problems: [],
        });
    });

    it("leaves out the error-rate and smoke-check labels of a tier 1 agent that watches neither", async () => {
        const { container } = await deploy({ tier: 1 });
        const keys = container.inputs.labels.map((l: { label: string }) => l.label);
        expect(keys).not.toContain(LABELS.errorRateLimit);
        expect(keys).not.toContain(LABELS.smokeChecks);
    });

    it("registers the resolved agent and its stack file as the component's inputs, for policy packs", async () => {
        const { spec } = await deploy({ secrets: { OPENAI_API_KEY: "openaiApiKey" } }, { secretValues: { OPENAI_API_KEY: "sk-live-SEEDED" } });
        const component = run.byType("agent-fleet:index:AgentService")[0];
        expect(component.inputs).toEqual({ agent: JSON.parse(JSON.stringify(spec)), stack: "production", stackFile: "stacks/Pulumi.production.yaml" });
        expect(JSON.stringify(component.wireInputs)).not.toContain("sk-live-SEEDED");
    });

    it("joins the fleet network under its agent name and publishes on loopback", async () => {
        const { container } = await deploy();
        expect(container.inputs.networksAdvanced).toEqual([{ name: "fleet-net", aliases: ["pesti"] }]);
        expect(container.inputs.ports).toEqual([{ internal: 8080, ip: "127.0.0.1" }]);
    });

    it("passes flags, identity and plain env to the agent", async () => {
        const { container } = await deploy({ tier: 3, env: { LOG_LEVEL: "debug" }, featureFlags: [{ name: "smart-followups", currentStage: "team" }] });
        expect(container.inputs.envs).toEqual(expect.arrayContaining([
            "AGENT_NAME=pesti",
            "AGENT_VERSION=1.4.2",
            "FEATURE_FLAGS={\"smart-followups\":\"team\"}",
            "FLEET_ENVIRONMENT=production",
            "LOG_LEVEL=debug",
            "PORT=8080",
        ]));
        expect(isWireSecret(container.wireInputs.envs)).toBe(false);
    });
});

describe("AgentService replacement", () => {
    it("creates the new container before deleting the old one when names and ports allow", async () => {
        const { container, spec } = await deploy();
        expect(canCreateBeforeDelete(spec)).toBe(true);
        // The docker provider asks for delete-first on every container; an explicit false overrides it.
        expect(container.deleteBeforeReplace).toBe(false);
        expect(container.deleteBeforeReplaceDefined).toBe(true);
        expect(container.inputs.name).toBeUndefined();
    });

    it("deletes first when a fixed host port must be reused", async () => {
        const { container } = await deploy({ hostPort: 18080 });
        expect(container.deleteBeforeReplace).toBe(true);
        expect(container.inputs.ports).toEqual([{ internal: 8080, external: 18080, ip: "127.0.0.1" }]);
    });

    it("deletes first when the container name is fixed", async () => {
        const { container } = await deploy({ containerName: "pesti" });
        expect(container.deleteBeforeReplace).toBe(true);
        expect(container.inputs.name).toBe("pesti");
    });
});

describe("AgentService secrets", () => {
    const SEEDED = "sk-live-SEEDED-7f3a9c";

    it("keeps secret env values secret on the wire, in outputs and in the component", async () => {
        const { container, service } = await deploy(
            { secrets: { OPENAI_API_KEY: "openaiApiKey" } },
            // A plain input on purpose: the component must make it secret on its own.
            { secretValues: { OPENAI_API_KEY: SEEDED } },
        );
        expect(isWireSecret(container.wireInputs.envs)).toBe(true);
        expect(container.inputs.envs).toContain(`OPENAI_API_KEY=${SEEDED}`);
        // Nothing but the secret-wrapped envs carries the value.
        const { envs: _envs, ...rest } = container.wireInputs;
        expect(JSON.stringify(rest)).not.toContain(SEEDED);
        for (const output of [service.instances, service.imageRef, service.healthUrls, service.version]) {
            expect(JSON.stringify(await outputOf(output as pulumi.Output<unknown>))).not.toContain(SEEDED);
        }
    });

    it("refuses a secret the spec declares but the caller does not supply, before registering anything", () => {
        const spec = agentSpec({ secrets: { OPENAI_API_KEY: "openaiApiKey" } });
        expect(() => new AgentService("pesti", { spec, networkName: "n" })).toThrow(
            'AgentService "pesti": secretValues has no value for OPENAI_API_KEY, which spec.secrets declares',
        );
        expect(run.resources).toHaveLength(0);
    });
});

describe("AgentService outputs, replicas, transforms and runtimes", () => {
    it("exports container names, image id, health URLs, tier and version", async () => {
        const { outputs } = await deploy({ tier: 2, healthcheck: { path: "/healthz" } });
        // Auto-named by Pulumi (resource name + suffix), which is what allows create-before-delete.
        expect(outputs.instances).toHaveLength(1);
        expect(outputs.instances[0]).toMatch(/^pesti-[0-9a-f]{7}$/);
        expect(outputs.healthUrls[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/healthz$/);
        expect(outputs.tier).toBe(2);
        expect(outputs.version).toBe("1.4.2");
    });

    it("runs one container per replica, replica 0 keeping the plain name", async () => {
        const { outputs } = await deploy({ replicas: 3 });
        expect(run.byType(CONTAINER).map((c) => c.name)).toEqual(["pesti", "pesti.1", "pesti.2"]);
        expect(outputs.instances).toHaveLength(3);
        expect(new Set(outputs.healthUrls).size).toBe(3);
    });

    it("lets a transform adjust the container", async () => {
        const { container } = await deploy({}, {
            transform: { container: (args) => { args.logDriver = "local"; } },
        });
        expect(container.inputs.logDriver).toBe("local");
    });

    it("parents children to the component and derives their names from it", async () => {
        await deploy();
        const component = run.resources.find((r) => r.type === "agent-fleet:index:AgentService")!;
        for (const child of run.resources.filter((r) => r.custom)) {
            expect(child.parent).toBe(component.urn);
            expect(child.name.startsWith("pesti")).toBe(true);
        }
    });

    it("hands the agent to another runtime without changing the caller", async () => {
        const seen: string[] = [];
        const recordingRuntime: AgentRuntime = {
            name: "recording",
            imageReference: "local-id",
            deploy: (context) => {
                seen.push(context.spec.name);
                return { instanceNames: pulumi.output(["swarm-pesti"]), healthUrls: pulumi.output(["http://127.0.0.1:1/health"]) };
            },
        };
        const { outputs } = await deploy({}, { runtime: recordingRuntime });
        expect(seen).toEqual(["pesti"]);
        expect(outputs.instances).toEqual(["swarm-pesti"]);
        expect(run.byType(CONTAINER)).toHaveLength(0);
    });
});
