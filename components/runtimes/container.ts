import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { goDuration, providerCpus } from "../../contract";
import type { AgentSpec } from "../../config";
import { applyTransform } from "../transform";
import { dockerHealthcheck } from "./healthcheck";
import type { AgentRuntime, RuntimeDeployContext, RuntimeDeployData, RuntimeDeployment } from "./runtime";

/** Agents publish on loopback only; other agents reach them over the fleet network by name. */
const PUBLISH_IP = "127.0.0.1";

/**
 * The docker provider asks the engine for delete-before-replace on every
 * container (downtime); the resource option set here always overrides it.
 * Create-before-delete needs a free name and a free host port for the new
 * container while the old one still runs. A fixed containerName or hostPort
 * rules that out, so those agents are replaced delete-first: a short gap in
 * which the port is closed. The Swarm runtime removes the gap.
 */
export function canCreateBeforeDelete(spec: AgentSpec): boolean {
    return spec.hostPort === undefined && spec.containerName === undefined;
}

/**
 * Replica 0 keeps the plain name so that scaling 1 → N never replaces it.
 * Later replicas add ".<n>": agent names cannot contain a dot, so replica 1
 * of agent "pesti" ("fleet-pesti.1") never shares a URN with agent "pesti-1"
 * ("fleet-pesti-1"), as the earlier "-<n>" suffix did.
 */
export function replicaResourceName(name: string, replica: number): string {
    return replica === 0 ? name : `${name}.${replica}`;
}

/** Seconds, rounded up, for provider fields that take whole seconds. */
function seconds(ms: number): number {
    return Math.ceil(ms / 1000);
}

/** "NAME=value" list, in a stable order; secret as a whole whenever the agent has a secret. */
function containerEnv(env: Readonly<Record<string, string>>, secretValues: Readonly<Record<string, pulumi.Input<string>>>): pulumi.Output<string[]> {
    const names = Object.keys(secretValues).sort();
    const list = pulumi.all(names.map((envName) => secretValues[envName])).apply((values) => [
        ...Object.entries(env).map(([key, value]) => `${key}=${value}`),
        ...names.map((envName, i) => `${envName}=${values[i]}`),
    ].sort());
    return names.length > 0 ? pulumi.secret(list) : list;
}

/** The arguments of every replica's container: a pure function of the agent's data. */
function containerArgs(context: RuntimeDeployData): docker.ContainerArgs {
    const { spec } = context;
    const graceSeconds = seconds(spec.stopGraceMs);
    return {
        name: spec.containerName,
        image: context.image,
        envs: containerEnv(context.env, context.secretValues),
        labels: Object.entries(context.labels).map(([label, value]) => ({ label, value })),
        healthcheck: dockerHealthcheck(spec.port, spec.healthcheck, goDuration, context.engine),
        // Fail `pulumi up` when the agent never turns healthy, instead of reporting success.
        wait: true,
        waitTimeout: seconds(spec.waitTimeoutMs),
        restart: "on-failure",
        maxRetryCount: spec.restartMaxRetries,
        // The provider kills at once by default; give the agent its drain time.
        destroyGraceSeconds: graceSeconds,
        stopTimeout: graceSeconds,
        stopSignal: "SIGTERM",
        memory: spec.memoryMb,
        // Docker defaults swap to twice the memory at create, and refuses an in-place update that raises
        // memory past that unless swap moves too. Memory + swap = memory: no swap, and updates that work.
        memorySwap: spec.memoryMb,
        // Spelled as the provider reads it back (1 → "1.0"); any other spelling replaces on every `up`.
        cpus: spec.cpus === undefined ? undefined : providerCpus(spec.cpus),
        user: spec.user,
        readOnly: spec.readOnlyRootFilesystem,
        // A read-only root still needs somewhere for temp files.
        tmpfs: spec.readOnlyRootFilesystem ? { "/tmp": "rw,noexec,nosuid,size=64m" } : undefined,
        ports: [{ internal: spec.port, external: spec.hostPort, ip: PUBLISH_IP }],
        networksAdvanced: [{ name: context.networkName, aliases: [spec.name] }],
        // "local" rotates and compresses by default. No logOpts: Docker merges the daemon's default
        // log options into them and the provider reads the merge back, a diff (and replacement) on
        // every `up` wherever the daemon sets any.
        logDriver: "local",
    };
}

/**
 * Every change replaces the container create-first and waits for it to turn
 * healthy: the health gate runs on create only (`wait`), and in-place updates
 * (memory, restart) skip it. The "*" path also covers the engine's init-error
 * marker: a container saved after a failed health wait is replaced and
 * re-gated on the next `up`, instead of being "updated" into success.
 */
const CONTAINER_REPLACE_ON_CHANGES: readonly string[] = ["*"];

/** One `docker.Container` per replica. */
export const containerRuntime: AgentRuntime = {
    name: "container",
    imageReference: "local-id",
    deploy(context: RuntimeDeployContext): RuntimeDeployment {
        const { spec } = context;
        const containers: docker.Container[] = [];
        for (let replica = 0; replica < spec.replicas; replica++) {
            const [args, opts] = applyTransform(context.transform?.container, replicaResourceName(context.name, replica), containerArgs(context), {
                parent: context.parent,
                ...(context.provider ? { provider: context.provider } : {}),
                deleteBeforeReplace: !canCreateBeforeDelete(spec),
                replaceOnChanges: [...CONTAINER_REPLACE_ON_CHANGES],
                ...(context.hooks ? { hooks: context.hooks } : {}),
            });
            containers.push(new docker.Container(replicaResourceName(context.name, replica), args, opts));
        }
        return {
            instanceNames: pulumi.all(containers.map((c) => c.name)),
            healthUrls: pulumi.all(containers.map((c) => c.ports)).apply((portsPerReplica) =>
                portsPerReplica.map((ports) => {
                    const external = ports?.find((p) => p.internal === spec.port)?.external;
                    return `http://${PUBLISH_IP}:${external ?? spec.hostPort ?? spec.port}${spec.healthcheck.path}`;
                }),
            ),
        };
    },
};
