/**
 * The policy pack over the wire: started by `run-policy-pack` exactly as the
 * Pulumi CLI starts a Node.js pack, driven through the Analyzer gRPC service
 * with the resources the real program registers, and checked against the same
 * policies run in-process by the shared analyzer that `fleet check` uses.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { evaluatePolicies } from "../../cli/services/offline-check";
import { engineResourceOf } from "../../cli/services/mocks";
import { loadFleetConfig, stackConfigSource } from "../../config";
import { Diagnostic, EngineResource, analyze, analyzeStack, plainValue } from "../../policies/analyzer";
import { POLICY_PACK_NAME, fleetPolicies } from "../../policies/rules";
import {
    AnalyzerClient, AnalyzerInfoView, FakeEngine, HandshakeOutcome, POLICY_PACK_DIR, PolicyPackProcess, StackContext,
    Verdict, connectAnalyzer, logToEngine, policyPackEnv, startFakeEngine, startPolicyPack,
} from "../support/analyzer";
import { PROJECT, PROJECT_ROOT, RegisteredResource, readStackFile, setStackConfig, settle, startMocks } from "../support/pulumi";

const STACK = "production";
const SEEDED_PREFIX = "SEEDED-SECRET-";
const AGENT_SERVICE = "agent-fleet:index:AgentService";
const CONTAINER = "docker:index/container:Container";
const FLEET = "agent-fleet:index:Fleet";
const GRPC_UNIMPLEMENTED = 12;
const PACK_VERSION = (JSON.parse(fs.readFileSync(path.join(POLICY_PACK_DIR, "package.json"), "utf8")) as { version: string }).version;
const CONTEXT = { stack: STACK, project: PROJECT };

/** Every secret key the stack's config references, each given a recognisable value (as in test/program/stacks.test.ts). */
function seededSecrets(stack: string): Record<string, string> {
    const keys = new Set<string>();
    setStackConfig(stack);
    const source = stackConfigSource({ projectRoot: PROJECT_ROOT, project: PROJECT, stack });
    loadFleetConfig({ ...source, secretKeyState: (key) => { keys.add(key); return "secret"; } });
    return Object.fromEntries([...keys].map((key) => [key, `${SEEDED_PREFIX}${key}`]));
}

/** Runs the real index.ts for the stack under Pulumi mocks; returns every registration as the engine records it. */
async function runProgram(secrets: Record<string, string>, options: { fleet?: unknown; preview?: boolean } = {}): Promise<RegisteredResource[]> {
    setStackConfig(STACK, { secrets, fleet: options.fleet });
    const run = await startMocks(STACK, { preview: options.preview });
    vi.resetModules();
    await import("../../index");
    // Every registration and registerOutputs in flight, known or not (a preview's outputs never resolve).
    await pulumi.runtime.disconnect();
    await settle();
    return run.resources;
}

const engineResource = (r: RegisteredResource) => engineResourceOf(r, CONTEXT);
/** Each registration as Analyze receives it: its inputs, in wire form. */
const asAnalyzed = (resources: readonly RegisteredResource[]) => resources.map(engineResource);
/** Each resource as AnalyzeStack receives it at the end of an update: its final outputs. */
const asFinal = (resources: readonly RegisteredResource[]) => resources.map((r) => engineResourceOf(r, { ...CONTEXT, outputs: true }));

/**
 * The shared analyzer's diagnostics as the pack sends them to the engine: the
 * message under the description, and no URN where the policy named only the
 * resource analyzed (the engine fills that in).
 */
function asVerdicts(diagnostics: readonly Diagnostic[], analyzed?: string): Verdict[] {
    return diagnostics.map((d) => ({
        policyName: d.policy,
        message: d.message === d.description ? d.description : `${d.description}\n${d.message}`,
        enforcementLevel: d.level,
        urn: d.urn === analyzed || d.urn === undefined ? "" : d.urn,
    }));
}

const inProcess = async (resource: EngineResource) => asVerdicts(await analyze(resource, policyObjects), resource.urn);
const stackInProcess = async (resources: readonly EngineResource[]) => asVerdicts(await analyzeStack(resources, policyObjects));

/** The stack's config as the engine hands it to the pack (PULUMI_CONFIG) and to ConfigureStack. */
function stackContext(secrets: Record<string, string>): StackContext {
    setStackConfig(STACK, { secrets });
    return {
        project: PROJECT,
        stack: STACK,
        organization: "acme",
        dryRun: false,
        config: { ...pulumi.runtime.allConfig() },
        secretKeys: Object.keys(secrets).map((key) => `${PROJECT}:${key}`),
    };
}

function labelOf(resource: { wireInputs: Record<string, any> }, label: string): string | undefined {
    return (resource.wireInputs.labels as { label: string; value: string }[] | undefined)?.find((l) => l.label === label)?.value;
}

function find(resources: readonly RegisteredResource[], type: string, predicate: (r: RegisteredResource) => boolean = () => true): RegisteredResource {
    const found = resources.find((r) => r.type === type && predicate(r));
    if (!found) throw new Error(`no ${type} matched in ${resources.map((r) => r.urn).join(", ")}`);
    return found;
}

const service = (resources: readonly RegisteredResource[], agent: string) => find(resources, AGENT_SERVICE, (r) => r.name === `fleet-${agent}`);
const container = (resources: readonly RegisteredResource[], agent: string) => find(resources, CONTAINER, (r) => labelOf(r, "agent-fleet.agent") === agent);

const secrets = seededSecrets(STACK);
const policies = fleetPolicies();
const policyObjects = policies.map((p) => p.policy);
const byName = new Map(policies.map(({ policy }) => [policy.name, policy]));
/** Every diagnostic the pack returned in this file, for the secret check. */
const seen: Verdict[] = [];

let engine: FakeEngine;
let pack: PolicyPackProcess | undefined;
let analyzer: AnalyzerClient;
let handshake: HandshakeOutcome;
let info: AnalyzerInfoView;
let pluginVersion: string;
let production: RegisteredResource[];
let context: StackContext;

async function overGrpc(resource: EngineResource): Promise<Verdict[]> {
    const verdicts = await analyzer.analyze(resource);
    seen.push(...verdicts);
    return verdicts;
}

async function stackOverGrpc(resources: readonly EngineResource[]): Promise<Verdict[]> {
    const verdicts = await analyzer.analyzeStack(resources);
    seen.push(...verdicts);
    return verdicts;
}

/**
 * What `fleet check` reports for these registrations, next to what the pack
 * says over gRPC for the same ones (Analyze on each one's inputs, then
 * AnalyzeStack on the final outputs), in `fleet check`'s terms.
 */
async function fleetCheckAndPack(resources: readonly RegisteredResource[]) {
    const levels = { settings: (name: string) => ({ level: byName.get(name)!.enforcementLevel ?? "advisory", config: {} }) };
    const cli = await evaluatePolicies(resources, policyObjects, levels, CONTEXT);
    const fromPack: { policy: string; level: string; urn: string | null; message: string }[] = [];
    const add = (verdicts: Verdict[], analyzed?: string) => {
        for (const v of verdicts) {
            const prefix = `${byName.get(v.policyName)!.description}\n`;
            fromPack.push({
                policy: v.policyName,
                level: v.enforcementLevel,
                // The engine files a resource policy's violation under the resource it analyzed.
                urn: v.urn || analyzed || null,
                message: v.message.startsWith(prefix) ? v.message.slice(prefix.length) : v.message,
            });
        }
    };
    for (const r of asAnalyzed(resources)) add(await overGrpc(r), r.urn);
    add(await stackOverGrpc(asFinal(resources)));
    return { cli: cli.map(({ policy, level, urn, message }) => ({ policy, level, urn, message })), pack: fromPack };
}

beforeAll(async () => {
    context = stackContext(secrets);
    engine = await startFakeEngine();
    // The pack type-checks itself with ts-node on start; run the program meanwhile.
    const starting = startPolicyPack(engine.address, policyPackEnv(context));
    starting.catch(() => undefined);
    production = await runProgram(secrets);
    pack = await starting;
    analyzer = connectAnalyzer(pack.address);

    // What the engine does once the pack is up (NewPolicyAnalyzer), then before the first Analyze.
    handshake = await analyzer.handshake({ engineAddress: engine.address, directory: POLICY_PACK_DIR });
    await analyzer.configureStack(context, { "pulumi:project": PROJECT, "pulumi:runtime": "nodejs" });
    info = await analyzer.getAnalyzerInfo();
    pluginVersion = await analyzer.getPluginVersion();
}, 240_000);

afterAll(async () => {
    analyzer?.close();
    await pack?.kill();
    await engine?.stop();
});

describe("engine handshake", () => {
    it("answers Handshake as the engine accepts it: implemented, or UNIMPLEMENTED so the engine falls back", () => {
        expect(handshake.ok || handshake.code === GRPC_UNIMPLEMENTED).toBe(true);
    });

    it("reports a plugin version", () => {
        expect(pluginVersion).toMatch(/^\d+\.\d+\.\d+/);
    });
});

describe("GetAnalyzerInfo", () => {
    it("names the pack and its version", () => {
        expect(POLICY_PACK_NAME).toBe("agent-fleet-tiers");
        expect(info).toMatchObject({ name: POLICY_PACK_NAME, version: PACK_VERSION, supportsConfig: true });
    });

    it("lists exactly the policies of fleetPolicies(), in order, with their descriptions, levels and kinds", () => {
        expect(info.policies).toEqual(policies.map(({ policy }) => ({
            name: policy.name,
            description: policy.description,
            enforcementLevel: policy.enforcementLevel ?? "advisory",
            type: "validateStack" in policy ? "stack" : "resource",
        })));
    });
});

const F = "stacks/Pulumi.production.yaml: fleet.agents";
const MUTATIONS: {
    name: string;
    pick: (resources: readonly RegisteredResource[]) => RegisteredResource;
    change: (props: Record<string, any>) => void;
    expected: { policyName: string; detail: string }[];
}[] = [
    {
        name: "jarvis without a rollbackImage",
        pick: (rs) => service(rs, "jarvis"),
        change: (p) => { delete p.agent.rollbackImage; },
        expected: [{ policyName: "rollback-image", detail: `${F}.jarvis.rollbackImage: set rollbackImage to the previous known-good image (pinned)` }],
    },
    {
        name: "email-agent on :latest",
        pick: (rs) => service(rs, "email-agent"),
        change: (p) => { p.agent.image = "ghcr.io/acme/email-agent:latest"; },
        expected: [{ policyName: "pinned-images", detail: `${F}.email-agent.image: pin the image to a digest or a version tag like "1.4.2", got "ghcr.io/acme/email-agent:latest"` }],
    },
    {
        name: "a jarvis container probed every 2m",
        pick: (rs) => container(rs, "jarvis"),
        change: (p) => { p.healthcheck.interval = "2m"; },
        expected: [{ policyName: "agent-healthcheck", detail: `${F}.jarvis.healthcheck.interval: set an interval of at most 60s, got "2m"` }],
    },
    {
        name: "a credential-named plain env var on research-agent",
        pick: (rs) => service(rs, "research-agent"),
        change: (p) => { p.agent.env.DB_PASSWORD = "hunter2-in-plain-text"; },
        expected: [{ policyName: "no-plaintext-secrets", detail: `${F}.research-agent.env.DB_PASSWORD: move DB_PASSWORD from env to secrets (a secret stack config key); its name says it is a credential` }],
    },
    {
        name: "tier 3 pesti without feature flags",
        pick: (rs) => service(rs, "pesti"),
        change: (p) => { p.agent.featureFlags = []; },
        expected: [{ policyName: "tier3-feature-flags", detail: `${F}.pesti.featureFlags: add a feature flag: tier 3 ships behind one, and the flag is the rollback` }],
    },
    {
        name: "a pesti container (secret env) without a memory limit or restart policy",
        pick: (rs) => container(rs, "pesti"),
        change: (p) => { delete p.memory; p.restart = "no"; },
        expected: [
            { policyName: "agent-restart-policy", detail: `${F}.pesti: restart policy is "no"; remove the transform that sets it so the AgentService's "on-failure" applies` },
            { policyName: "production-memory-limits", detail: `${F}.pesti.memory: set a memory limit like "512Mi"` },
        ],
    },
];

/** The registration with its wire inputs changed, as if the program had registered that. */
function mutated(resource: RegisteredResource, change: (props: Record<string, any>) => void): RegisteredResource {
    const wireInputs = structuredClone(resource.wireInputs);
    change(wireInputs);
    return { ...resource, wireInputs, inputs: plainValue(wireInputs) as Record<string, any> };
}

describe("Analyze", () => {
    it("finds nothing wrong with any resource of the production stack, as in-process", async () => {
        expect(new Set(production.map((r) => r.type))).toEqual(new Set([
            FLEET, AGENT_SERVICE, CONTAINER, "docker:index/network:Network", "docker:index/remoteImage:RemoteImage",
            "agent-fleet:index:Sentinel", "docker:index/volume:Volume",
        ]));
        for (const resource of asAnalyzed(production)) {
            expect(await overGrpc(resource), resource.urn).toEqual([]);
            expect(await inProcess(resource), resource.urn).toEqual([]);
        }
    });

    it("sends secrets as secrets, exactly as registered", () => {
        const pesti = engineResource(container(production, "pesti"));
        expect(pesti.props.envs).toMatchObject({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" });
        expect(JSON.stringify(pesti.props.envs)).toContain(`${SEEDED_PREFIX}openaiApiKey`);
    });

    it.each(MUTATIONS)("$name: the pack's diagnostics are the in-process verdicts", async ({ pick, change, expected }) => {
        const resource = engineResource(mutated(pick(production), change));
        const remote = await overGrpc(resource);
        expect(remote).toEqual(await inProcess(resource));
        expect(remote).toEqual(expected.map(({ policyName, detail }) => ({
            policyName,
            message: `${byName.get(policyName)!.description}\n${detail}`,
            enforcementLevel: "mandatory",
            urn: "",
        })));
    });

    it("every mutation at once: `fleet check` reports exactly what the pack reports", async () => {
        let resources = [...production];
        for (const { pick, change } of MUTATIONS) {
            const target = pick(resources);
            resources = resources.map((r) => (r === target ? mutated(r, change) : r));
        }
        const { cli, pack: fromPack } = await fleetCheckAndPack(resources);
        expect(fromPack).toHaveLength(MUTATIONS.reduce((n, m) => n + m.expected.length, 0));
        expect(cli).toEqual(fromPack);
    });
});

describe("Analyze during a preview", () => {
    let preview: RegisteredResource[];

    beforeAll(async () => {
        preview = await runProgram(secrets, { preview: true });
    }, 120_000);

    it("finds nothing wrong, and no policy trips over a value unknown until the update", async () => {
        // On a first preview the mocks, like the engine, know no image id or network name yet.
        const analyzed = asAnalyzed(preview);
        const pesti = analyzed.find((r) => r.urn === container(preview, "pesti").urn)!;
        expect(pesti.props).toMatchObject({ image: pulumi.runtime.unknownValue, networksAdvanced: [{ name: pulumi.runtime.unknownValue, aliases: ["pesti"] }] });
        for (const resource of analyzed) {
            expect(await overGrpc(resource), resource.urn).toEqual([]);
            expect(await inProcess(resource), resource.urn).toEqual([]);
        }
    });

    it("an unknown a policy does read downgrades that policy to an advisory 'can't run during preview'", async () => {
        const pesti = engineResource(service(preview, "pesti"));
        const remote = await overGrpc({ ...pesti, props: { ...pesti.props, agent: pulumi.runtime.unknownValue } });
        const agentPolicies = ["no-plaintext-secrets", "pinned-images", "rollback-image", "tier-monitoring", "tier3-feature-flags", "flag-rollout-history", "health-gate-timing", "agent-owner", "webhook-edge"];
        expect(remote.map(({ policyName, enforcementLevel, urn }) => ({ policyName, enforcementLevel, urn })))
            .toEqual(agentPolicies.map((policyName) => ({ policyName, enforcementLevel: "advisory", urn: "" })));
        for (const v of remote) expect(v.message).toMatch(new RegExp(`^can't run policy '${v.policyName}' from policy pack '${POLICY_PACK_NAME}@v${PACK_VERSION}' during preview`));
    });
});

describe("AnalyzeStack", () => {
    let broken: RegisteredResource[];

    beforeAll(async () => {
        const fleet = structuredClone(readStackFile(STACK)[`${PROJECT}:fleet`]) as any;
        // Two agents publish the same host port.
        fleet.agents.jarvis.hostPort = 9400;
        fleet.agents["email-agent"].hostPort = 9400;
        // An agent routes to a channel nobody declared.
        fleet.agents["research-agent"].alertChannels = ["ops-slack", "war-room"];
        // No channel hears errors.
        for (const channel of Object.values(fleet.channels) as { minSeverity: string }[]) channel.minSeverity = "critical";
        broken = await runProgram(secrets, { fleet });
    }, 120_000);

    it("sends every resource with its parent", () => {
        const sent = asAnalyzed(broken);
        expect(sent.filter((r) => r.type === AGENT_SERVICE)).toHaveLength(5);
        for (const c of broken.filter((r) => r.type === CONTAINER && labelOf(r, "agent-fleet.agent"))) {
            expect(sent.find((r) => r.urn === c.urn)!.parent).toBe(service(broken, labelOf(c, "agent-fleet.agent")!).urn);
        }
    });

    it("finds nothing wrong with the production stack, as in-process", async () => {
        expect(await stackOverGrpc(asAnalyzed(production))).toEqual([]);
        expect(await stackInProcess(asAnalyzed(production))).toEqual([]);
        expect(await stackOverGrpc(asFinal(production))).toEqual([]);
    });

    it("given the registered inputs, reports the shared host port, the undeclared channel, the missing error channel and the deaf routes, as in-process", async () => {
        const resources = asAnalyzed(broken);
        const remote = await stackOverGrpc(resources);
        expect(remote).toEqual(await stackInProcess(resources));
        expect(remote.map(({ policyName, urn }) => ({ policyName, urn }))).toEqual([
            { policyName: "production-alert-channel", urn: find(broken, FLEET).urn },
            { policyName: "unique-host-ports", urn: container(broken, "jarvis").urn },
            { policyName: "alert-channels-exist", urn: service(broken, "research-agent").urn },
            // With every channel at critical, no watched agent hears its own warnings either.
            ...["email-agent", "jarvis", "pesti"].map((agent) => ({ policyName: "alert-route-severity", urn: service(broken, agent).urn })),
        ]);
        expect(remote.slice(0, 3).map((v) => v.message.split("\n")[1])).toEqual([
            "stacks/Pulumi.production.yaml: fleet.channels: declare an alert channel with minSeverity info, warning, error; production has none that hears errors",
            'stacks/Pulumi.production.yaml: fleet.agents.jarvis.hostPort: pick another host port; 9400 is already published by agent "email-agent"',
            'stacks/Pulumi.production.yaml: fleet.agents.research-agent.alertChannels[1]: declare channel "war-room" under fleet.channels or route to one that exists (ops-slack, pager, sales-discord)',
        ]);
        expect(remote.every((v) => v.enforcementLevel === "mandatory")).toBe(true);
    });

    it("`fleet check` reports exactly what the pack reports for the same stack", async () => {
        const { cli, pack: fromPack } = await fleetCheckAndPack(broken);
        expect(cli).toEqual(fromPack);
    });

    // The engine calls AnalyzeStack with each resource's final *outputs* (a component's outputs are what it
    // last passed to registerOutputs), so the components register their fleet config as outputs too.
    it("given the final outputs the engine really sends, still reports them", async () => {
        const resources = asFinal(broken);
        expect(Object.keys(resources.find((r) => r.type === FLEET)!.props).sort()).toEqual(["agents", "fleet", "networkName", "sentinelContainerName"]);
        const remote = await stackOverGrpc(resources);
        expect(remote).toEqual(await stackInProcess(resources));
        expect(remote.map((v) => v.policyName)).toEqual(["production-alert-channel", "unique-host-ports", "alert-channels-exist", "alert-route-severity", "alert-route-severity", "alert-route-severity"]);
    });
});

describe("secrets", () => {
    it("the fake engine records Log calls (so an empty log is a real result)", async () => {
        const before = engine.calls.length;
        await logToEngine(engine.address, "recorder self-test");
        expect(engine.calls.slice(before)).toEqual([expect.objectContaining({ method: "Log", request: expect.objectContaining({ message: "recorder self-test" }) })]);
    });

    it("no seeded secret appears in any diagnostic, engine Log message or pack output", () => {
        // The pack did hold them: the engine passes decrypted config in PULUMI_CONFIG and ConfigureStack.
        expect(Object.keys(secrets)).toContain("openaiApiKey");
        for (const value of Object.values(secrets)) expect(Object.values(context.config)).toContain(value);
        expect(seen.length).toBeGreaterThan(0);
        const surfaces = {
            diagnostics: JSON.stringify(seen),
            engineLog: JSON.stringify(engine.calls),
            stdout: pack!.stdout(),
            stderr: pack!.stderr(),
        };
        for (const [surface, text] of Object.entries(surfaces)) {
            expect(text.includes(SEEDED_PREFIX), `a seeded secret in ${surface}`).toBe(false);
        }
    });
});
