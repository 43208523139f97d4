/**
 * Shared shapes and helpers for the agent-fleet policies. Policies judge the
 * fleet config the AgentService and Fleet components register (their inputs),
 * and the agents' instances (docker containers or Swarm services) as the
 * provider will create them.
 */
import type { EnforcementLevel, PolicyResource, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type { AgentServiceInputs, FleetInputs } from "../../config/component-inputs";
import type { AgentSpec } from "../../config/spec";
import type { ContainerArgs, ServiceArgs } from "@pulumi/docker";
import type { Unwrap } from "@pulumi/pulumi";
import { COMPONENT_TYPES, DOCKER_TYPES, LABELS, labelsOf, stackFileName } from "../../contract";

type Unwrapped<T> = { [K in keyof T]: Unwrap<T[K]> };

const AGENT_SERVICE_TYPE = COMPONENT_TYPES.agentService;
const FLEET_TYPE = COMPONENT_TYPES.fleet;
export const CONTAINER_TYPE = DOCKER_TYPES.container;
export const SERVICE_TYPE = DOCKER_TYPES.service;

/** A policy plus the facts docs/reference/policies.md shows about it. */
export interface FleetPolicy {
    readonly policy: ResourceValidationPolicy | StackValidationPolicy;
    /** Which tiers or environments it applies to, for people. */
    readonly appliesTo: string;
    /** How to fix a violation, in fleet config terms. */
    readonly fix: string;
}

/** Where a fix goes: the stack file and the field under `fleet`, in the config errors' format. */
export function fixAt(file: string, path: string, message: string): string {
    return `${file}: ${path}: ${message}`;
}

export function agentField(inputs: AgentServiceInputs, field: string): string {
    return `fleet.agents.${inputs.agent.name}${field ? `.${field}` : ""}`;
}

/** Reports a violation pointing at one field of one agent's fleet config. */
export function reportAgent(report: ReportViolation, inputs: AgentServiceInputs, field: string, message: string, urn?: string): void {
    report(fixAt(inputs.stackFile, agentField(inputs, field), message), urn);
}

/** The registered inputs of an AgentService, when the resource is one. */
export function agentInputs(args: { type: string; props: Record<string, unknown> }): AgentServiceInputs | undefined {
    if (args.type !== AGENT_SERVICE_TYPE) return undefined;
    const props = args.props as Partial<AgentServiceInputs>;
    return props.agent && props.stackFile ? (props as AgentServiceInputs) : undefined;
}

export function fleetInputs(resource: Pick<PolicyResource, "type" | "props">): FleetInputs["fleet"] | undefined {
    if (resource.type !== FLEET_TYPE) return undefined;
    return (resource.props as Partial<FleetInputs>).fleet;
}

function resourcePolicy(
    name: string,
    description: string,
    enforcementLevel: EnforcementLevel,
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => void | Promise<void>,
): ResourceValidationPolicy {
    return { name, description, enforcementLevel, validateResource };
}

/** A resource policy over AgentService inputs. */
export function agentPolicy(
    name: string,
    description: string,
    validate: (inputs: AgentServiceInputs, agent: AgentSpec, report: ReportViolation) => void | Promise<void>,
    enforcementLevel: EnforcementLevel = "mandatory",
): ResourceValidationPolicy {
    return resourcePolicy(name, description, enforcementLevel, async (args, report) => {
        const inputs = agentInputs(args);
        if (inputs) await validate(inputs, inputs.agent, report);
    });
}

/** What a workload policy knows about the agent behind a container or service, from its labels. */
export interface WorkloadContext {
    readonly agent: string;
    readonly tier: number;
    readonly environment: string;
    /** Display path of the stack file, e.g. "stacks/Pulumi.production.yaml". */
    readonly stackFile: string;
    /** Where to fix it: `fleet.agents.<agent>.<field>` in the stack file. */
    at(field: string, message: string): string;
}

/**
 * What the policies read of an agent's running instances, whichever runtime
 * made them: a `docker.Container` (container runtime) and a `docker.Service`
 * (swarm runtime) say the same things in different provider terms.
 */
export interface Workload {
    readonly kind: "container" | "service";
    readonly labels: Record<string, string>;
    readonly healthcheck?: { readonly tests?: string[]; readonly interval?: string; readonly retries?: number };
    /** Docker's restart policy ("no", "on-failure", "always", "unless-stopped"); a service's condition is mapped onto it. */
    readonly restart?: string;
    /** The memory limit in bytes; undefined or 0 when there is none. */
    readonly memoryBytes?: number;
    /** Host ports the instances publish. */
    readonly hostPorts: readonly { readonly port: number; readonly ip: string; readonly protocol: string }[];
}

type ContainerProps = Unwrapped<ContainerArgs>;
type ServiceProps = Unwrapped<ServiceArgs>;

/** A Swarm restart condition in Docker's restart-policy words: "none" never restarts, like "no". */
const SWARM_RESTART: Readonly<Record<string, string>> = { none: "no", "on-failure": "on-failure", any: "always" };

/** The workload view of a container or service, or undefined for any other resource. */
export function workloadOf(type: string, props: Record<string, unknown>): Workload | undefined {
    if (type === CONTAINER_TYPE) {
        const c = props as ContainerProps;
        return {
            kind: "container",
            labels: labelsOf(c),
            healthcheck: c.healthcheck as Workload["healthcheck"],
            restart: c.restart,
            memoryBytes: c.memory === undefined ? undefined : c.memory * 1024 * 1024,
            hostPorts: (c.ports ?? []).flatMap((p) => (p.external === undefined ? [] : [{ port: p.external, ip: p.ip ?? "0.0.0.0", protocol: p.protocol ?? "tcp" }])),
        };
    }
    if (type === SERVICE_TYPE) {
        const s = props as ServiceProps;
        const task = s.taskSpec;
        const condition = task?.restartPolicy?.condition;
        return {
            kind: "service",
            labels: labelsOf(s),
            healthcheck: task?.containerSpec?.healthcheck as Workload["healthcheck"],
            // Swarm restarts a task whose restart policy is left out ("any").
            restart: task?.restartPolicy === undefined ? "always" : SWARM_RESTART[condition ?? "any"] ?? condition,
            memoryBytes: task?.resources?.limits?.memoryBytes,
            hostPorts: (s.endpointSpec?.ports ?? []).flatMap((p) => (p.publishedPort === undefined || p.publishedPort === 0 ? [] : [{ port: p.publishedPort, ip: "0.0.0.0", protocol: p.protocol ?? "tcp" }])),
        };
    }
    return undefined;
}

/** A resource policy over the fleet's agent instances: containers and Swarm services carrying the agent label. */
export function workloadPolicy(
    name: string,
    description: string,
    validate: (workload: Workload, context: WorkloadContext, report: ReportViolation, args: ResourceValidationArgs) => void,
    enforcementLevel: EnforcementLevel = "mandatory",
): ResourceValidationPolicy {
    // Replicas of an agent are declared from the same arguments, so they share their problems:
    // each problem is reported once per agent, at the first container that has it. Keyed by
    // that container's URN, so a second analysis of it (preview, then update) reports it again.
    const firstReporter = new Map<string, string>();
    return resourcePolicy(name, description, enforcementLevel, (args, report) => {
        const workload = workloadOf(args.type, args.props);
        if (!workload) return;
        const agent = workload.labels[LABELS.agent];
        if (!agent) return;
        const stackFile = stackFileName(workload.labels[LABELS.stack] ?? workload.labels[LABELS.environment]);
        const oncePerAgent: ReportViolation = (message, urn) => {
            const key = `${stackFile}\u0000${agent}\u0000${message}`;
            const first = firstReporter.get(key);
            if (first !== undefined && first !== args.urn) return;
            firstReporter.set(key, args.urn);
            report(message, urn);
        };
        validate(workload, {
            agent,
            tier: Number(workload.labels[LABELS.tier]),
            environment: workload.labels[LABELS.environment],
            stackFile,
            at: (field, message) => fixAt(stackFile, `fleet.agents.${agent}${field ? `.${field}` : ""}`, message),
        }, oncePerAgent, args);
    });
}

/** Every Fleet component among the stack's resources, with its registered inputs. */
export function fleetsOf(resources: readonly PolicyResource[]) {
    return resources.flatMap((r) => {
        const fleet = fleetInputs(r);
        return fleet ? [{ resource: r, fleet }] : [];
    });
}
