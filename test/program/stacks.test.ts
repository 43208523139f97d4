/**
 * Loads the real index.ts for each stack, with that stack's own config file,
 * and checks the resource graph the engine would receive.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { LABELS, buildVersion } from "../../components";
import { AgentSpec, loadFleetConfig, loadStackFleet, stackConfigSource, DEFAULT_BUILD_VERSION } from "../../config";
import { MockRun, PROJECT_ROOT, isWireSecret, outputOf, setStackConfig, settle, startMocks } from "../support/pulumi";

const CONTAINER = "docker:index/container:Container";
const SEEDED_PREFIX = "SEEDED-SECRET-";

/** Every secret key the stack file and catalog reference, each given a recognisable value. */
function seededSecrets(stack: string): Record<string, string> {
    const keys = new Set<string>();
    const probe = (key: string) => {
        keys.add(key);
        return "secret" as const;
    };
    // Ask the loader itself which keys it needs, instead of keeping a second list here.
    setStackConfig(stack);
    const source = stackConfigSource({ projectRoot: PROJECT_ROOT, project: "agent-fleet", stack });
    loadFleetConfig({ ...source, secretKeyState: probe });
    return Object.fromEntries([...keys].map((key) => [key, `${SEEDED_PREFIX}${key}`]));
}

interface ProgramRun {
    run: MockRun;
    exports: Record<string, any>;
    agents: Record<string, { instances: string[]; imageRef: string; healthUrls: string[]; tier: number; version: string }>;
    specs: readonly AgentSpec[];
}

async function runStack(stack: string, secrets = seededSecrets(stack), preview = false): Promise<ProgramRun> {
    setStackConfig(stack, { secrets });
    const run = await startMocks(stack, { preview });
    vi.resetModules();
    const exports = await import("../../index");
    const agents: ProgramRun["agents"] = {};
    if (preview) {
        // A preview's computed outputs never resolve; wait for the registrations themselves.
        await pulumi.runtime.disconnect();
        await settle();
        return { run, exports, agents, specs: loadStackFleet({ projectRoot: PROJECT_ROOT, project: "agent-fleet", stack }).agents };
    }
    for (const [name, outputs] of Object.entries(exports.agents)) {
        agents[name] = {
            instances: await outputOf(outputs.instances),
            imageRef: await outputOf(outputs.imageRef),
            healthUrls: await outputOf(outputs.healthUrls),
            tier: await outputOf(outputs.tier),
            version: await outputOf(outputs.version),
        };
    }
    await outputOf(exports.networkName);
    await settle();
    const specs = loadStackFleet({ projectRoot: PROJECT_ROOT, project: "agent-fleet", stack }).agents;
    return { run, exports, agents, specs };
}

function labelsOf(container: { inputs: Record<string, any> }): Record<string, string> {
    return Object.fromEntries(container.inputs.labels.map((l: { label: string; value: string }) => [l.label, l.value]));
}

const FLEET_AGENTS = ["email-agent", "jarvis", "outreach-agent", "pesti", "research-agent"];

describe.each(["dev", "staging", "production"])("stack %s", (stack) => {
    it("declares one network and one AgentService with its containers per agent", async () => {
        const { run, agents, specs } = await runStack(stack);
        expect(Object.keys(agents).sort()).toEqual(FLEET_AGENTS);
        expect(run.byType("agent-fleet:index:Fleet")).toHaveLength(1);
        // The fleet's network; with a sentinel, its private docker-api network too.
        expect(run.byType("docker:index/network:Network").map((n) => n.name).sort()).toEqual(stack === "dev" ? [`fleet-${stack}-network`] : ["fleet-sentinel-docker-api", `fleet-${stack}-network`].sort());
        const services = run.byType("agent-fleet:index:AgentService");
        expect(services.map((s) => s.name).sort()).toEqual(FLEET_AGENTS.map((a) => `fleet-${a}`));
        const containers = run.byType(CONTAINER).filter((c) => labelsOf(c)[LABELS.agent]);
        expect(containers).toHaveLength(specs.reduce((sum, spec) => sum + spec.replicas, 0));
        for (const container of containers) {
            const agent = labelsOf(container)[LABELS.agent];
            const service = services.find((s) => s.name === `fleet-${agent}`)!;
            expect(container.parent).toBe(service.urn);
        }
    });

    it("labels each container and exports tier, version, image id and health URLs", async () => {
        const { run, agents, specs } = await runStack(stack);
        for (const spec of specs) {
            const containers = run.byType(CONTAINER).filter((c) => labelsOf(c)[LABELS.agent] === spec.name);
            for (const container of containers) {
                expect(labelsOf(container)).toMatchObject({
                    [LABELS.tier]: String(spec.tier),
                    [LABELS.version]: versionOf(spec),
                    [LABELS.environment]: stack,
                });
                expect(container.inputs.image).toBe(agents[spec.name].imageRef);
                expect(container.inputs.wait).toBe(true);
            }
            expect(agents[spec.name]).toMatchObject({ tier: spec.tier, version: versionOf(spec) });
            expect(agents[spec.name].healthUrls).toHaveLength(spec.replicas);
            expect(agents[spec.name].instances).toHaveLength(spec.replicas);
        }
    });

    it("keeps every seeded secret secret on the wire and out of every plain input and output", async () => {
        const secrets = seededSecrets(stack);
        const { run, exports } = await runStack(stack, secrets);
        for (const resource of run.resources) {
            const { envs, ...rest } = resource.wireInputs;
            expect(JSON.stringify(rest)).not.toContain(SEEDED_PREFIX);
            if (envs !== undefined && JSON.stringify(envs).includes(SEEDED_PREFIX)) {
                expect(isWireSecret(envs)).toBe(true);
            }
        }
        const exported = await outputOf(pulumi.output(exports.agents));
        expect(JSON.stringify(exported)).not.toContain(SEEDED_PREFIX);
    });
});

describe("stack differences", () => {
    it("dev builds the sample agent once, locally, and every agent runs that one build; no secrets needed", async () => {
        expect(seededSecrets("dev")).toEqual({});
        const { run } = await runStack("dev");
        // One build per distinct tag: concurrent builds of one tag would race for the id read back by tag.
        const [build, ...others] = run.byType("docker:index/image:Image");
        expect(others).toHaveLength(0);
        expect(build.inputs).toMatchObject({ imageName: "agent-fleet/sample-agent:dev", skipPush: true, build: { context: "agents/sample-agent" } });
        const containers = run.byType(CONTAINER);
        expect(containers).toHaveLength(FLEET_AGENTS.length);
        expect(new Set(containers.map((c) => c.inputs.image)).size).toBe(1);
        for (const container of containers) expect(container.dependencies).toContain(build.urn);
        expect(run.byType("docker:index/remoteImage:RemoteImage")).toHaveLength(0);
    });

    it.each(["staging", "production"])("%s pulls pinned images and passes real secrets into the agents", async (stack) => {
        const secrets = seededSecrets(stack);
        expect(Object.keys(secrets)).toContain("openaiApiKey");
        const { run, specs } = await runStack(stack, secrets);
        const pulled = run.byType("docker:index/remoteImage:RemoteImage").map((r) => r.inputs.name).sort();
        expect(pulled).toEqual([...new Set([...specs.map((s) => s.image), "ghcr.io/acme/agent-fleet-sentinel:0.1.0", "ghcr.io/acme/agent-fleet-docker-proxy:0.1.0"])].sort());
        const pesti = run.byType(CONTAINER).find((c) => labelsOf(c)[LABELS.agent] === "pesti")!;
        expect(isWireSecret(pesti.wireInputs.envs)).toBe(true);
        expect(pesti.inputs.envs).toContain(`OPENAI_API_KEY=${SEEDED_PREFIX}openaiApiKey`);
    });

    it.each(["staging", "production"])("%s deploys the sentinel: the socket only in its proxy, read-only; spool on a volume; on the fleet network; channel secrets only inside a secret env", async (stack) => {
        const secrets = seededSecrets(stack);
        const { run, exports } = await runStack(stack, secrets);
        const [sentinel] = run.byType("agent-fleet:index:Sentinel");
        const children = run.byType(CONTAINER).filter((c) => c.parent === sentinel.urn);
        const container = children.find((c) => labelsOf(c)[LABELS.role] === "sentinel")!;
        const proxy = children.find((c) => labelsOf(c)[LABELS.role] === "sentinel-docker-proxy")!;
        const [volume] = run.byType("docker:index/volume:Volume");
        const api = run.byType("docker:index/network:Network").find((n) => n.name === "fleet-sentinel-docker-api")!;
        expect(labelsOf(container)).toEqual({ [LABELS.role]: "sentinel", [LABELS.environment]: stack, [LABELS.stack]: stack });
        expect(container.inputs.volumes).toEqual([{ volumeName: volume.wireOutputs.name, containerPath: "/var/spool/sentinel" }]);
        expect(proxy.inputs.volumes).toEqual([{ hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock", readOnly: true }]);
        expect(proxy.inputs.networksAdvanced).toEqual([{ name: api.wireOutputs.name, aliases: ["docker-api"] }]);
        expect(container.inputs.networksAdvanced).toEqual([{ name: await outputOf(exports.networkName), aliases: ["sentinel"] }, { name: api.wireOutputs.name }]);
        expect(container.inputs).toMatchObject({ wait: true, readOnly: true, restart: "unless-stopped" });
        expect(await outputOf(exports.sentinel)).toBe(container.wireOutputs.name);
        // Every channel URL and signing secret is in SENTINEL_CHANNELS, and the env list is a secret.
        expect(isWireSecret(container.wireInputs.envs)).toBe(true);
        const env = Object.fromEntries((container.inputs.envs as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
        const targets = JSON.parse(env.SENTINEL_CHANNELS) as { channel: string; url: string }[];
        const { channels } = loadStackFleet({ projectRoot: PROJECT_ROOT, project: "agent-fleet", stack });
        expect(targets.map((t) => t.channel)).toEqual(channels.map((c) => c.name));
        for (const t of targets) expect(t.url).toMatch(new RegExp(`^${SEEDED_PREFIX}`));
        expect(env.SENTINEL_CONFIG).not.toContain(SEEDED_PREFIX);
        expect(JSON.parse(env.SENTINEL_CONFIG)).toMatchObject({ stack, environment: stack, network: await outputOf(exports.networkName) });
    });

    it("dev has no channel, so no sentinel", async () => {
        const { run, exports } = await runStack("dev");
        expect(run.byType("agent-fleet:index:Sentinel")).toEqual([]);
        expect(exports.sentinel).toBeUndefined();
    });

    it("keeps secrets secret in a preview too", async () => {
        const { run } = await runStack("production", seededSecrets("production"), true);
        const withSecrets = run.byType(CONTAINER).filter((c) => JSON.stringify(c.inputs.envs ?? []).includes(SEEDED_PREFIX));
        expect(withSecrets.length).toBeGreaterThan(0);
        for (const container of withSecrets) expect(isWireSecret(container.wireInputs.envs)).toBe(true);
    });

    it("production pins pesti by digest and rolls it out with two replicas", async () => {
        const { agents, specs } = await runStack("production");
        const pesti = specs.find((s) => s.name === "pesti")!;
        expect(pesti.image).toMatch(/@sha256:[0-9a-f]{64}$/);
        expect(agents.pesti.instances).toHaveLength(2);
    });
});

describe("invalid config", () => {
    it("stops before registering anything and names the file, field and expectation, without a stack trace", async () => {
        setStackConfig("production", {
            secrets: seededSecrets("production"),
            fleet: { environment: "production", agents: { pesti: { image: "ghcr.io/acme/pesti:1.4.2", healthcheck: { interval: "ten" } } } },
        });
        const run = await startMocks("production");
        vi.resetModules();
        const failure = await import("../../index").then(() => undefined, (error: unknown) => error);
        expect(pulumi.RunError.isInstance(failure)).toBe(true);
        expect((failure as Error).message).toContain(
            'stacks/Pulumi.production.yaml: fleet.agents.pesti.healthcheck.interval: expected a duration like "10s", got "ten"',
        );
        await settle();
        expect(run.resources).toHaveLength(0);
    });

    it("reports a missing secret with the command that sets it", async () => {
        const secrets = seededSecrets("staging");
        delete secrets.crmToken;
        setStackConfig("staging", { secrets });
        await startMocks("staging");
        vi.resetModules();
        const failure = (await import("../../index").then(() => undefined, (error: unknown) => error)) as Error;
        expect(failure.message).toContain(
            'stacks/Pulumi.staging.yaml: fleet.agents.outreach-agent.secrets.CRM_TOKEN: expected secret config key "crmToken" to be set (pulumi config set --secret crmToken <value> --stack staging), got nothing',
        );
    });
});

/** The version an agent's containers carry: what was built (the build context's last commit, `-dirty` when changed) for an agent that builds and names none, else its own. */
function versionOf(spec: AgentSpec): string {
    return spec.build && spec.version === DEFAULT_BUILD_VERSION ? buildVersion(PROJECT_ROOT, spec.build.context) : spec.version;
}
