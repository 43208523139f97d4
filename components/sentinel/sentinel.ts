/**
 * The sentinel as a stack component: agents/sentinel in its own container
 * next to the agents, on the fleet network, reading Docker through a
 * filtering proxy (agents/docker-proxy) that alone holds the socket, with
 * its pending alerts spooled on a volume. Channel URLs and signing secrets
 * reach it as one secret environment variable.
 */
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { FleetSpec, HealthcheckSpec } from "../../config";
import { COMPONENT_TYPES, LABELS } from "../../contract";
import { AgentImageTransforms, declareAgentImage } from "../agent-service";
import { deliveryTargets } from "../notifications";
import { dockerHealthcheck } from "../runtimes";
import { Transform, applyTransform } from "../transform";

/** Inside the proxy: where the socket is mounted. The sentinel reaches the proxy by its alias on a network of their own. */
const CONTAINER_SOCKET = "/var/run/docker.sock";
const PROXY_ALIAS = "docker-api";
const PROXY_PORT = 2375;
const SPOOL_DIR = "/var/spool/sentinel";
const PORT = 8080;
const SENTINEL_HEALTHCHECK: HealthcheckSpec = { path: "/health", intervalMs: 10_000, timeoutMs: 3_000, retries: 3, startPeriodMs: 5_000, startIntervalMs: 1_000 };

export interface SentinelTransforms extends AgentImageTransforms {
    /** Adjusts the sentinel's `docker.Container`. */
    readonly container?: Transform<docker.ContainerArgs>;
    /** Adjusts the docker proxy's `docker.Container`. */
    readonly proxy?: Transform<docker.ContainerArgs>;
    /** Adjusts the spool's `docker.Volume`. */
    readonly volume?: Transform<docker.VolumeArgs>;
}

export interface SentinelArgs {
    /** The fleet it watches: its stack, environment, agents' routing and channels. `spec.sentinel` must be set. */
    readonly spec: FleetSpec;
    /** The fleet network, over which it probes the agents. */
    readonly networkName: pulumi.Input<string>;
    /** Reads a secret stack config key (a channel URL or signing secret). */
    readonly secretConfig: (key: string) => pulumi.Output<string>;
    /** Hooks to adjust child resources. */
    readonly transform?: SentinelTransforms;
}

/** The sentinel's non-secret configuration (agents/sentinel/src/config.ts reads it as SentinelEnvConfig). */
function sentinelConfig(spec: FleetSpec, network: string) {
    return {
        stack: spec.stack,
        environment: spec.environment,
        network,
        reminderAfterMs: spec.sentinel?.reminderAfterMs,
        agents: spec.agents.map((a) => ({ name: a.name, alertChannels: a.alertChannels })),
        channels: spec.channels.map((c) => ({ name: c.name, minSeverity: c.minSeverity })),
    };
}

export class Sentinel extends pulumi.ComponentResource {
    public readonly containerName: pulumi.Output<string>;
    public readonly spoolVolume: pulumi.Output<string>;

    constructor(name: string, args: SentinelArgs, opts?: pulumi.ComponentResourceOptions) {
        const sentinel = args.spec.sentinel;
        if (!sentinel) throw new Error(`Sentinel "${name}": spec.sentinel is not set (the fleet config turned the sentinel off)`);
        super(COMPONENT_TYPES.sentinel, name, { stack: args.spec.stack, sentinel }, opts);
        const labels = [
            { label: LABELS.role, value: "sentinel" },
            { label: LABELS.environment, value: args.spec.environment },
            { label: LABELS.stack, value: args.spec.stack },
        ];

        const imageRef = declareAgentImage(`${name}-image`, sentinel, this, args.transform);
        const [volumeArgs, volumeOpts] = applyTransform<docker.VolumeArgs>(args.transform?.volume, `${name}-spool`, { labels }, { parent: this });
        const spool = new docker.Volume(`${name}-spool`, volumeArgs, volumeOpts);

        // The sentinel never holds the socket: a read-only mount restricts nothing (any create or exec still
        // works, which is root on the host). A proxy of its own, on a network only the two share, passes the
        // read endpoints the sentinel uses and refuses the rest (agents/docker-proxy/Caddyfile).
        const api = new docker.Network(`${name}-docker-api`, { driver: "bridge", internal: true, labels }, { parent: this });
        const proxyImage = declareAgentImage(`${name}-docker-proxy-image`, sentinel.proxy, this, args.transform);
        const [proxyArgs, proxyOpts] = applyTransform<docker.ContainerArgs>(args.transform?.proxy, `${name}-docker-proxy`, {
            image: proxyImage,
            labels: labels.map((l) => (l.label === LABELS.role ? { ...l, value: "sentinel-docker-proxy" } : l)),
            volumes: [{ hostPath: sentinel.dockerSocket, containerPath: CONTAINER_SOCKET, readOnly: true }],
            // Root reads the socket whatever its group on this host; with a socketGroup, nobody in that group does.
            user: sentinel.socketGroup === undefined ? "0:0" : "65534:65534",
            groupAdds: sentinel.socketGroup === undefined ? undefined : [String(sentinel.socketGroup)],
            networksAdvanced: [{ name: api.name, aliases: [PROXY_ALIAS] }],
            restart: "unless-stopped",
            readOnly: true,
            tmpfs: { "/tmp": "rw,noexec,nosuid,size=16m" },
            memory: 64,
            memorySwap: 64,
            destroyGraceSeconds: 5,
            stopTimeout: 5,
            stopSignal: "SIGTERM",
            logDriver: "local",
        }, { parent: this });
        const proxy = new docker.Container(`${name}-docker-proxy`, proxyArgs, proxyOpts);

        const config = pulumi.output(args.networkName).apply((network) => JSON.stringify(sentinelConfig(args.spec, network)));
        const channels = deliveryTargets(args.spec.channels, args.secretConfig).apply((targets) => JSON.stringify(targets));
        // One secret list: SENTINEL_CHANNELS holds the channel URLs and signing secrets.
        const envs = pulumi.secret(pulumi.all([config, channels]).apply(([c, t]) => [
            `SENTINEL_CONFIG=${c}`, `SENTINEL_CHANNELS=${t}`, `PORT=${PORT}`, `SPOOL_DIR=${SPOOL_DIR}`, `DOCKER_HOST=tcp://${PROXY_ALIAS}:${PROXY_PORT}`,
        ]));
        const [containerArgs, containerOpts] = applyTransform<docker.ContainerArgs>(args.transform?.container, name, {
            image: imageRef,
            envs,
            labels,
            volumes: [{ volumeName: spool.name, containerPath: SPOOL_DIR }],
            networksAdvanced: [{ name: args.networkName, aliases: ["sentinel"] }, { name: api.name }],
            // The agents' own node probe of /health, with the timings of the sentinel image's HEALTHCHECK.
            healthcheck: dockerHealthcheck(PORT, SENTINEL_HEALTHCHECK),
            wait: true,
            waitTimeout: 60,
            restart: "unless-stopped",
            readOnly: true,
            memory: 128,
            memorySwap: 128,
            destroyGraceSeconds: 15,
            stopTimeout: 15,
            stopSignal: "SIGTERM",
            // As for the agents: "local" with no logOpts never diffs against the daemon's defaults.
            logDriver: "local",
        }, { parent: this, dependsOn: [proxy] });
        const container = new docker.Container(name, containerArgs, containerOpts);

        this.containerName = container.name;
        this.spoolVolume = spool.name;
        this.registerOutputs({ containerName: this.containerName, spoolVolume: this.spoolVolume });
    }
}
