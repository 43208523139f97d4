/**
 * Shared code for the program-evaluation benchmarks (bench/fleet.bench.ts and
 * bench/report.ts): synthetic fleets of N agents, and two ways to turn one into
 * resources under Pulumi mocks.
 *
 * - "fleet": the real program path: loadFleetConfig (zod validation, layer
 *   merging, tier defaults) → new Fleet (Fleet and AgentService components,
 *   transforms, runtimes).
 * - "hand-written": the same raw docker resources with the same args and
 *   options, registered directly: no components, no validation.
 *
 * Both variants run under the same mock setup (test/support/pulumi.ts's
 * startMocks, which also records every registration), start from fresh mocks
 * on every run, await every agent's instances, imageRef and healthUrls,
 * and then drain the runtime's pending RPCs, so the work is really done and
 * nothing carries over into the next run.
 */
import { isDeepStrictEqual } from "util";
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { Fleet, sharedImageResourceName } from "../components";
import { FleetConfigSource, FleetSpec, loadFleetConfig } from "../config";
import { MockRun, RegisteredResource, isWireSecret, outputOf, startMocks } from "../test/support/pulumi";

/** Fleet sizes to run; BENCH_SIZES=10,100 narrows them (e.g. to skip the slow 1000). */
export const SIZES: readonly number[] = process.env.BENCH_SIZES
    ? process.env.BENCH_SIZES.split(",").map((size) => Number(size.trim()))
    : [10, 100, 1000];
export const STACK = "production";
export const FLEET_NAME = "fleet";

export type Variant = "fleet" | "hand-written";
export const VARIANTS: readonly Variant[] = ["fleet", "hand-written"];

/** One agent as a user writes it under `fleet.agents.<name>`. */
export interface RawAgent {
    tier: 1 | 2 | 3;
    owner: string;
    image: string;
    rollbackImage: string;
    port: number;
    memory: string;
    cpus: number;
    env: Record<string, string>;
    secrets?: Record<string, string>;
    alertChannels?: string[];
    smokeChecks?: { name: string; method: string; path: string; expectStatus: number }[];
    featureFlags?: { name: string; currentStage: string }[];
}

/** The raw `fleet` stack config value. */
export interface RawFleet {
    environment: "production";
    /** Off here: the sentinel is one watcher per fleet, not a per-agent cost. */
    sentinel: { enabled: false };
    channels: Record<string, { type: "slack" | "webhook"; urlSecret: string; signingSecret?: string; minSeverity?: string }>;
    agents: Record<string, RawAgent>;
}

export function agentName(index: number): string {
    return `agent-${String(index).padStart(4, "0")}`;
}

/**
 * N agents, tiers 1/2/3 in turn. Every other agent reads secrets (tier 3 ones
 * one more), tiers 2 and 3 route alerts and declare smoke checks, tier 3 ships
 * behind a feature flag. Replicas stay at 1: one container per agent.
 */
export function rawFleet(n: number): RawFleet {
    const agents: Record<string, RawAgent> = {};
    for (let i = 0; i < n; i++) {
        const name = agentName(i);
        const tier = ((i % 3) + 1) as 1 | 2 | 3;
        const minor = i % 10;
        const agent: RawAgent = {
            tier,
            owner: `@acme/team-${i % 7}`,
            image: `ghcr.io/acme/${name}:1.${minor}.${i % 5}`,
            rollbackImage: `ghcr.io/acme/${name}:1.${minor}.0`,
            port: 8080 + (i % 4),
            memory: "256Mi",
            cpus: 0.5,
            env: { LOG_LEVEL: i % 2 === 0 ? "info" : "debug", MODEL: `model-${i % 3}` },
        };
        if (i % 2 === 0) {
            agent.secrets = tier === 3
                ? { OPENAI_API_KEY: "openaiApiKey", CRM_TOKEN: "crmToken" }
                : { OPENAI_API_KEY: "openaiApiKey" };
        }
        if (tier >= 2) {
            agent.alertChannels = ["ops-slack", "pager"];
            agent.smokeChecks = [{ name: "ping", method: "GET", path: "/v1/ping", expectStatus: 200 }];
        }
        if (tier === 3) {
            agent.featureFlags = [{ name: `${name}-replies`, currentStage: "team" }];
        }
        agents[name] = agent;
    }
    return {
        environment: "production",
        // The sentinel is one watcher per fleet, not a per-agent cost; the hand-written variant has none to compare with.
        sentinel: { enabled: false },
        channels: {
            "ops-slack": { type: "slack", urlSecret: "opsSlackWebhookUrl", minSeverity: "warning" },
            pager: { type: "webhook", urlSecret: "pagerWebhookUrl", signingSecret: "pagerSigningSecret", minSeverity: "critical" },
        },
        agents,
    };
}

/** Loader input: every config key the fleet names is set, and set as a secret. */
export function fleetSource(fleet: RawFleet): FleetConfigSource {
    return {
        stack: STACK,
        stackFile: `stacks/Pulumi.${STACK}.yaml`,
        fleet,
        secretKeyState: () => "secret",
    };
}

/** What both variants hand back: every agent's awaited outputs. */
export interface AgentResult {
    instances: string[];
    imageRef: string;
    healthUrls: string[];
}

interface AgentOutputs {
    instances: pulumi.Output<string[]>;
    imageRef: pulumi.Output<string>;
    healthUrls: pulumi.Output<string[]>;
}

export interface RunResult {
    readonly variant: Variant;
    readonly agents: Record<string, AgentResult>;
    /** Every registration the mock monitor saw, components included. */
    readonly mocks: MockRun;
}

async function awaitAgents(outputs: Record<string, AgentOutputs>): Promise<Record<string, AgentResult>> {
    const entries = await Promise.all(Object.entries(outputs).map(async ([name, agent]) => {
        const [instances, imageRef, healthUrls] = await Promise.all([
            outputOf(agent.instances), outputOf(agent.imageRef), outputOf(agent.healthUrls),
        ]);
        return [name, { instances, imageRef, healthUrls }] as const;
    }));
    // Drain what is still in flight (e.g. the components' registerOutputs), so the
    // run is complete and nothing lands in the next run's mocks.
    await pulumi.runtime.disconnect();
    return Object.fromEntries(entries);
}

/** The real program path: validate and resolve the config, then declare a Fleet. */
export async function runFleet(fleet: RawFleet): Promise<RunResult> {
    const mocks = await startMocks(STACK);
    const spec: FleetSpec = loadFleetConfig(fleetSource(fleet));
    const component = new Fleet(FLEET_NAME, {
        spec,
        secretConfig: () => pulumi.secret("x"),
    });
    return { variant: "fleet", agents: await awaitAgents(component.agents), mocks };
}

// ---- hand-written baseline ------------------------------------------------------------
// What someone would write without the components: the same resources, names, args and
// options as the Fleet produces for the synthetic fleet above, with the tier defaults the
// loader would apply typed in as constants.

const PUBLISH_IP = "127.0.0.1";
/** Seconds a stopping agent gets, per tier (config/tiers.ts stopGracePeriod). */
const STOP_GRACE_SECONDS = { 1: 10, 2: 15, 3: 30 } as const;
/** startPeriod 10s + interval 10s × 3 retries + 15s margin. */
const WAIT_TIMEOUT_SECONDS = 55;

function probe(port: number): string[] {
    const url = JSON.stringify(`http://${PUBLISH_IP}:${port}/health`);
    return ["CMD", "node", "-e", `fetch(${url},{signal:AbortSignal.timeout(3000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`];
}

function handWrittenAgent(name: string, agent: RawAgent, networkName: pulumi.Output<string>): AgentOutputs {
    const resourceName = `${FLEET_NAME}-${name}`;
    const version = agent.image.slice(agent.image.lastIndexOf(":") + 1);
    const flags = Object.fromEntries((agent.featureFlags ?? []).map((flag) => [flag.name, flag.currentStage]));
    const plainEnv = [
        `AGENT_NAME=${name}`,
        `AGENT_VERSION=${version}`,
        `FLEET_ENVIRONMENT=${STACK}`,
        `PORT=${agent.port}`,
        `FEATURE_FLAGS=${JSON.stringify(flags)}`,
        ...Object.entries(agent.env).map(([key, value]) => `${key}=${value}`),
    ];
    const secretNames = Object.keys(agent.secrets ?? {});
    const envs: pulumi.Input<string[]> = secretNames.length === 0
        ? plainEnv.sort()
        : pulumi.secret(pulumi.all(secretNames.map(() => pulumi.secret("x"))).apply((values) =>
            [...plainEnv, ...secretNames.map((key, i) => `${key}=${values[i]}`)].sort()));

    // Named as the Fleet names its shared images, so both variants register the same resources.
    const image = new docker.RemoteImage(sharedImageResourceName(FLEET_NAME, agent.image), { name: agent.image, keepLocally: true });
    const grace = STOP_GRACE_SECONDS[agent.tier];
    const container = new docker.Container(resourceName, {
        image: image.imageId,
        envs,
        labels: [
            { label: "agent-fleet.agent", value: name },
            { label: "agent-fleet.tier", value: String(agent.tier) },
            { label: "agent-fleet.version", value: version },
            { label: "agent-fleet.environment", value: STACK },
            { label: "agent-fleet.stack", value: STACK },
        ],
        healthcheck: { tests: probe(agent.port), interval: "10s", timeout: "3s", retries: 3, startPeriod: "10s" },
        wait: true,
        waitTimeout: WAIT_TIMEOUT_SECONDS,
        restart: "on-failure",
        maxRetryCount: 5,
        destroyGraceSeconds: grace,
        stopTimeout: grace,
        stopSignal: "SIGTERM",
        memory: parseInt(agent.memory, 10),
        memorySwap: parseInt(agent.memory, 10),
        cpus: String(agent.cpus),
        user: "1000:1000",
        readOnly: true,
        tmpfs: { "/tmp": "rw,noexec,nosuid,size=64m" },
        ports: [{ internal: agent.port, ip: PUBLISH_IP }],
        networksAdvanced: [{ name: networkName, aliases: [name] }],
        logDriver: "local",
    }, { deleteBeforeReplace: false, replaceOnChanges: ["*"] });
    return {
        instances: container.name.apply((containerName) => [containerName]),
        imageRef: image.imageId,
        healthUrls: container.ports.apply((ports) => {
            const external = ports?.find((p) => p.internal === agent.port)?.external;
            return [`http://${PUBLISH_IP}:${external ?? agent.port}/health`];
        }),
    };
}

/** The baseline: one network, and per agent one RemoteImage and one Container, declared directly. */
export async function runHandWritten(fleet: RawFleet): Promise<RunResult> {
    const mocks = await startMocks(STACK);
    const network = new docker.Network(`${FLEET_NAME}-${STACK}-network`, {
        driver: "bridge",
        labels: [
            { label: "agent-fleet.environment", value: STACK },
            { label: "agent-fleet.stack", value: STACK },
        ],
    });
    const outputs: Record<string, AgentOutputs> = {};
    for (const [name, agent] of Object.entries(fleet.agents)) {
        outputs[name] = handWrittenAgent(name, agent, network.name);
    }
    return { variant: "hand-written", agents: await awaitAgents(outputs), mocks };
}

export function runVariant(variant: Variant, fleet: RawFleet): Promise<RunResult> {
    return variant === "fleet" ? runFleet(fleet) : runHandWritten(fleet);
}

// ---- checks ------------------------------------------------------------------------------

/** Registrations per run: the fleet adds the Fleet and one AgentService per agent. */
export function expectedRegistrations(variant: Variant, n: number): number {
    return variant === "fleet" ? 3 * n + 2 : 2 * n + 1;
}

/** Throws unless the run declared and resolved every agent. Cheap enough to run on every iteration. */
export function checkRun(result: RunResult, n: number): void {
    const names = Object.keys(result.agents);
    const registered = result.mocks.resources.length;
    if (names.length !== n || registered !== expectedRegistrations(result.variant, n)) {
        throw new Error(`${result.variant} (N=${n}): expected ${n} agents and ${expectedRegistrations(result.variant, n)} registrations, got ${names.length} and ${registered}`);
    }
    for (const name of names) {
        const agent = result.agents[name];
        if (agent.instances.length !== 1 || !agent.imageRef.startsWith("sha256:") || agent.healthUrls.length !== 1) {
            throw new Error(`${result.variant} (N=${n}): agent ${name} has incomplete outputs: ${JSON.stringify(agent)}`);
        }
    }
}

/** What makes a custom resource "the same" in both variants: type, name, inputs, replacement options, secretness of env. */
function comparable(resource: RegisteredResource) {
    return {
        type: resource.type,
        name: resource.name,
        inputs: resource.inputs,
        deleteBeforeReplace: resource.deleteBeforeReplace,
        replaceOnChanges: resource.replaceOnChanges,
        secretEnv: isWireSecret(resource.wireInputs.envs),
    };
}

/**
 * Throws unless both variants register the same docker resources with the same
 * inputs and options, so the ratio compares like with like.
 */
export async function checkEquivalence(n = 12): Promise<void> {
    const fleet = rawFleet(n);
    const fleetRun = await runFleet(fleet);
    const handRun = await runHandWritten(fleet);
    checkRun(fleetRun, n);
    checkRun(handRun, n);
    const custom = (run: RunResult) => run.mocks.resources.filter((r) => r.custom).map(comparable)
        .sort((a, b) => `${a.type} ${a.name}`.localeCompare(`${b.type} ${b.name}`));
    const expected = custom(fleetRun);
    const actual = custom(handRun);
    if (expected.length !== actual.length) {
        throw new Error(`hand-written registers ${actual.length} docker resources, the Fleet ${expected.length}`);
    }
    expected.forEach((want, i) => {
        if (!isDeepStrictEqual(want, actual[i])) {
            throw new Error(`hand-written ${actual[i].type} "${actual[i].name}" differs from the Fleet's:\n`
                + `fleet:        ${JSON.stringify(want)}\nhand-written: ${JSON.stringify(actual[i])}`);
        }
    });
}
