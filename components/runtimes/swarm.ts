import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { AgentSpec } from "../../config";
import { timeToUnhealthyMs } from "../../config";
import { LABELS, nanoCpus, secretFileEnv, swarmDuration } from "../../contract";
import { applyTransform } from "../transform";
import { dockerHealthcheck } from "./healthcheck";
import type { AgentRuntime, RuntimeDeployContext, RuntimeDeployData, RuntimeDeployment } from "./runtime";

/** Where Swarm mounts a service's secrets inside each task. */
const SWARM_SECRETS_DIR = "/run/secrets";

/**
 * How long a rollback watches the restored tasks. The rollback returns to a
 * spec that already passed its full watch, and Swarm still holds every
 * restored task back until its healthcheck passes; a long watch here would
 * only delay "rollback completed" (and `pulumi up`'s answer) by that much.
 */
export const ROLLBACK_MONITOR_MS = 2_000;

/**
 * What Swarm fills in on a service by itself: with placement constraints, the platforms of the image it
 * resolved (amd64/linux here). Compared with a spec that names none, every refresh would show an update.
 */
export const SWARM_SERVICE_READ_BACK = { ignoreChanges: ["taskSpec.placement.platforms"] } as const satisfies pulumi.CustomResourceOptions;

/** Slack on top of the update's own length before `pulumi up` stops waiting for convergence. */
const CONVERGE_SLACK_MS = 60_000;

/**
 * The update watch: a task that turns unhealthy within startPeriod +
 * interval × retries of starting is caught by the update that started it.
 * A shorter monitor would call the update done before a late failure shows.
 */
function updateMonitorMs(spec: Pick<AgentSpec, "healthcheck">): number {
    return timeToUnhealthyMs(spec.healthcheck);
}

/**
 * Zero downtime needs start-first: the new task runs (and turns healthy)
 * before the old one stops. A fixed host port cannot be held by two tasks on
 * one node, so those agents update stop-first: a short gap, as with the
 * container runtime's delete-first replacement.
 */
function swarmUpdateOrder(spec: Pick<AgentSpec, "hostPort">): "start-first" | "stop-first" {
    return spec.hostPort === undefined ? "start-first" : "stop-first";
}


/** A Swarm secret's mount: the file carries the env var's name, readable by the agent's user only. */
function secretMount(spec: Pick<AgentSpec, "user">, envName: string, secret: { id: pulumi.Input<string>; name: pulumi.Input<string> }): docker.types.input.ServiceTaskSpecContainerSpecSecret {
    const [uid, gid] = spec.user.split(":");
    const numeric = /^\d+$/.test(uid) && (gid === undefined || /^\d+$/.test(gid));
    return {
        secretId: secret.id,
        secretName: secret.name,
        fileName: envName,
        // A named user has no uid Swarm could set; the file stays world-readable inside the task then.
        ...(numeric ? { fileUid: uid, fileGid: gid ?? uid, fileMode: 0o400 } : { fileMode: 0o444 }),
    };
}

/**
 * The labels each task's container carries: who the agent is, and nothing that
 * changes with a release. The provider replaces a whole service when its
 * container labels change (no rolling update, no Swarm rollback), so the
 * version, image, commit and watch settings live on the service's own labels;
 * tools reach them through the container's `com.docker.swarm.service.id`.
 */
const TASK_LABEL_KEYS: readonly string[] = [LABELS.agent, LABELS.stack, LABELS.environment];

function taskContainerLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
    return Object.fromEntries(TASK_LABEL_KEYS.flatMap((key) => (labels[key] === undefined ? [] : [[key, labels[key]]])));
}

/** Swarm's data for the agent: the runtime data plus the secrets, already declared. */
interface SwarmServiceData extends RuntimeDeployData {
    /** One mount per entry of `spec.secrets`, keyed by env var name. */
    readonly secretMounts: readonly docker.types.input.ServiceTaskSpecContainerSpecSecret[];
}

function memoryBytes(memoryMb: number | undefined): number | undefined {
    return memoryMb === undefined ? undefined : memoryMb * 1024 * 1024;
}

/** The arguments of the agent's `docker.Service`: a pure function of the agent's data. */
function serviceArgs(data: SwarmServiceData): docker.ServiceArgs {
    const { spec } = data;
    const monitor = swarmDuration(updateMonitorMs(spec));
    const order = swarmUpdateOrder(spec);
    const labels = Object.entries(data.labels).map(([label, value]) => ({ label, value }));
    const taskLabels = Object.entries(taskContainerLabels(data.labels)).map(([label, value]) => ({ label, value }));
    const limits = { memoryBytes: memoryBytes(spec.memoryMb), nanoCpus: spec.cpus === undefined ? undefined : nanoCpus(spec.cpus) };
    const hasLimits = limits.memoryBytes !== undefined || limits.nanoCpus !== undefined;
    return {
        name: spec.containerName,
        labels,
        mode: { replicated: { replicas: spec.replicas } },
        taskSpec: {
            containerSpec: {
                image: data.image,
                // Secrets never reach the env: `docker service inspect` shows it to anyone with manager access.
                env: {
                    ...data.env,
                    ...Object.fromEntries(Object.keys(spec.secrets).sort().map((name) => [secretFileEnv(name), `${SWARM_SECRETS_DIR}/${name}`])),
                },
                labels: taskLabels,
                healthcheck: dockerHealthcheck(spec.port, spec.healthcheck, swarmDuration),
                secrets: [...data.secretMounts],
                user: spec.user,
                readOnly: spec.readOnlyRootFilesystem,
                // A read-only root still needs somewhere for temp files.
                mounts: spec.readOnlyRootFilesystem
                    ? [{ type: "tmpfs", target: "/tmp", tmpfsOptions: { sizeBytes: 64 * 1024 * 1024 } }]
                    : undefined,
                stopSignal: "SIGTERM",
                stopGracePeriod: swarmDuration(spec.stopGraceMs),
            },
            restartPolicy: {
                condition: "on-failure",
                maxAttempts: spec.restartMaxRetries,
                delay: swarmDuration(5_000),
                window: swarmDuration(updateMonitorMs(spec)),
            },
            // Reservations equal the limits: the scheduler never packs a node past what its agents may use.
            resources: hasLimits ? { limits, reservation: { ...limits } } : undefined,
            placement: spec.placementConstraints.length > 0 ? { constraints: [...spec.placementConstraints] } : undefined,
            networksAdvanceds: [{ id: data.networkId ?? data.networkName, aliases: [spec.name] }],
            logDriver: { name: "local" },
        },
        endpointSpec: {
            // DNS round robin: the agent's name resolves to its healthy tasks. The VIP mode
            // needs IPVS, and host-mode publishing skips the routing mesh, which needs it too.
            mode: "dnsrr",
            ports: [{ targetPort: spec.port, publishedPort: spec.hostPort, publishMode: "host", protocol: "tcp" }],
        },
        updateConfig: {
            parallelism: 1,
            delay: swarmDuration(0),
            order,
            failureAction: "rollback",
            monitor,
            maxFailureRatio: "0",
        },
        rollbackConfig: {
            parallelism: 1,
            delay: swarmDuration(0),
            order,
            // A rollback that fails has nowhere further back to go: it stops and waits for a person.
            failureAction: "pause",
            monitor: swarmDuration(ROLLBACK_MONITOR_MS),
            maxFailureRatio: "0",
        },
        convergeConfig: {
            delay: swarmDuration(1_000),
            timeout: swarmDuration(convergeTimeoutMs(spec)),
        },
    };
}

/**
 * How long `pulumi up` waits for the agent's tasks to converge: each replica
 * in turn gets its wait timeout (to turn healthy) and its watch, plus slack.
 */
function convergeTimeoutMs(spec: Pick<AgentSpec, "replicas" | "waitTimeoutMs" | "healthcheck">): number {
    return spec.replicas * (spec.waitTimeoutMs + updateMonitorMs(spec)) + ROLLBACK_MONITOR_MS + CONVERGE_SLACK_MS;
}

/** One `docker.Secret` per agent secret and one `docker.Service` for the agent. */
export const swarmRuntime: AgentRuntime = {
    name: "swarm",
    imageReference: "registry-digest",
    deploy(context: RuntimeDeployContext): RuntimeDeployment {
        const { spec } = context;
        const secretMounts = Object.keys(spec.secrets).sort().map((envName) => {
            const resourceName = `${context.name}-secret-${envName.toLowerCase().replace(/_/g, "-")}`;
            const value = context.secretValues[envName];
            const [args, opts] = applyTransform<docker.SecretArgs>(context.transform?.secret, resourceName, {
                // Swarm takes secret data base64-encoded; it stays a Pulumi secret either way.
                data: pulumi.secret(pulumi.output(value).apply((text) => Buffer.from(text, "utf8").toString("base64"))),
                labels: Object.entries({ ...taskContainerLabels(context.labels), "agent-fleet.secret-env": envName }).map(([label, value]) => ({ label, value })),
            }, {
                parent: context.parent,
                ...(context.provider ? { provider: context.provider } : {}),
                // No fixed name: a new value gets a new auto-named secret, created before the old
                // one is removed, so rotating a secret rolls the service like any other update.
                deleteBeforeReplace: false,
                replaceOnChanges: ["data"],
            });
            const secret = new docker.Secret(resourceName, args, opts);
            return secretMount(spec, envName, { id: secret.id, name: secret.name });
        });
        const [args, opts] = applyTransform(context.transform?.service, context.name, serviceArgs({ ...context, secretMounts }), {
            parent: context.parent,
                ...(context.provider ? { provider: context.provider } : {}),
            // A fixed service name must be freed before a replacement can take it.
            deleteBeforeReplace: spec.containerName !== undefined,
            ...SWARM_SERVICE_READ_BACK,
            ...(context.hooks ? { hooks: context.hooks } : {}),
        });
        const service = new docker.Service(context.name, args, opts);
        return {
            instanceNames: service.name.apply((name) => [name]),
            healthUrls: pulumi.output([swarmHealthUrl(spec)]),
        };
    },
};

/**
 * Where the agent answers: its fixed host port on every node that runs a task,
 * else its name on the fleet network, which resolves to the healthy tasks
 * (each task's own host port is dynamic; `fleet verify` reads them from Swarm).
 */
function swarmHealthUrl(spec: Pick<AgentSpec, "name" | "port" | "hostPort" | "healthcheck">): string {
    return spec.hostPort === undefined
        ? `http://${spec.name}:${spec.port}${spec.healthcheck.path}`
        : `http://127.0.0.1:${spec.hostPort}${spec.healthcheck.path}`;
}
