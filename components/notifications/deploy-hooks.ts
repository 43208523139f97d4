/**
 * Deploy notifications from a plain `pulumi up`: Pulumi resource hooks on
 * every agent container send `deploy.started`, `deploy.succeeded`,
 * `deploy.failed`, `health.failed` and `rolled_back` to the channels routed
 * for that agent.
 * The hooks run inside the program during the update (never in a preview),
 * read channel URLs and signing secrets from secret config only when they
 * send, and never fail the deploy: delivery errors become warnings, and the
 * hooks are registered with `ignoreErrors` as well.
 */
import * as pulumi from "@pulumi/pulumi";
import { execa } from "execa";
import { AlertEvent, AlertEventName, DeliveryOutcome, DeliveryPolicy, alertId, deliver, oneLine } from "../../alerts";
import { channelsFor } from "../../alerts";
import { AgentSpec, FleetSpec, Severity } from "../../config";
import { FLEET_ENV, LABELS, LEAST_WATCH_SEVERITY, labelsOf, sameImage } from "../../contract";
import { deliveryTargets } from "./targets";

/** Hook names, as the engine records them: derived from the Fleet's name, so two fleets in one program never clash. */
function deployHookNames(fleetName: string) {
    return {
        started: `${fleetName}-deploy-started`, succeeded: `${fleetName}-deploy-succeeded`, failed: `${fleetName}-deploy-failed`,
        retired: `${fleetName}-deploy-retired`,
    } as const;
}

/** A deploy waits on these hooks: a dead receiver costs at most this long per event. */
export const DEPLOY_DELIVERY: DeliveryPolicy = { timeoutMs: 5_000, attempts: 3, baseDelayMs: 500, maxDelayMs: 4_000, deadlineMs: 15_000 };

export interface DeployNotificationsArgs {
    readonly spec: FleetSpec;
    /** Reads a secret stack config key (a channel URL or signing secret). */
    readonly secretConfig: (key: string) => pulumi.Output<string>;
    /** Where a notification links to, e.g. the CI run; default GitHub Actions' run URL when set. */
    readonly link?: string;
    /** Delivery timeouts and retries; default DEPLOY_DELIVERY. */
    readonly delivery?: DeliveryPolicy;
    /** Reports a channel that could not be reached; default a Pulumi warning. */
    readonly warn?: (message: string) => void;
    /**
     * Reads the last healthcheck output of a container that failed its health
     * gate, for the `health.failed` reason; default `lastProbeOutput` (the
     * docker CLI, against the stack's `docker:host`).
     */
    readonly lastProbe?: (containerName: string) => Promise<string | undefined>;
}

/**
 * The last output of a container's healthcheck ("GET /health: 503 {…}"), read
 * with the docker CLI, which reaches the stack's engine as the provider does
 * (`docker:host`, else DOCKER_HOST). Undefined when it cannot be read: the
 * alert then carries the provider's message alone.
 */
async function lastProbeOutput(containerName: string): Promise<string | undefined> {
    const host = new pulumi.Config("docker").get("host");
    const run = await execa("docker", ["inspect", containerName, "--format", "{{json .State.Health.Log}}"], {
        reject: false, timeout: 10_000, env: host ? { DOCKER_HOST: host } : {},
    }).catch(() => undefined);
    if (!run || run.exitCode !== 0) return undefined;
    try {
        const log = JSON.parse(String(run.stdout)) as { Output?: string }[] | null;
        return log?.at(-1)?.Output?.trim().split("\n")[0].slice(0, 200) || undefined;
    } catch {
        return undefined;
    }
}

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((value) => { resolve(value); return value; }));
}

function actionsRunLink(): string | undefined {
    const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = process.env;
    return server && repo && run ? `${server}/${repo}/actions/runs/${run}` : undefined;
}

/** A failed health wait is `health.failed`; anything else that fails a container is `deploy.failed`. */
export function failureEvent(errors: readonly string[]): AlertEventName {
    // A Swarm rollback means a new task failed (never turned healthy, or crashed) and the old one still serves.
    return errors.some((e) => /health|healthy|wait|service rollback (completed|paused)/i.test(e)) ? "health.failed" : "deploy.failed";
}

const SEVERITY: Readonly<Record<string, Severity>> = {
    "deploy.started": "info",
    "deploy.succeeded": "info",
    "deploy.failed": "error",
    "health.failed": "error",
    // Service is restored, but someone should look at why the release went back.
    rolled_back: LEAST_WATCH_SEVERITY,
};

/** One agent's replacement within this update, as its hooks report it. */
interface Replacement {
    /** The image a replaced container named as its rollback plan (its rollback-image label). */
    retiredRollbackImage?: string;
    /** The image of the container that came up healthy, and its URN. */
    createdImage?: string;
    urn?: string;
    sent?: boolean;
}

/**
 * A deploy notification about one agent: from the hooks during `pulumi up`,
 * or from the CLI when it rolled the agent back itself. `occurrence` keeps the
 * id the same on every retry of the same happening.
 */
export function deployEvent(stack: string, agent: AgentSpec, event: AlertEventName, occurrence: string, reason: string, link = actionsRunLink()): AlertEvent {
    return {
        id: alertId(event, stack, agent.name, occurrence),
        source: "deploy",
        event,
        severity: SEVERITY[event] ?? "error",
        stack,
        environment: agent.environment,
        agent: agent.name,
        tier: agent.tier,
        version: agent.version,
        image: agent.image,
        time: new Date().toISOString(),
        reason: oneLine(reason),
        ...(link ? { link } : {}),
    };
}

/** Agents whose rollback the CLI announces itself (FLEET_ENV.rollbackAnnounced). */
function announcedByCli(agent: string): boolean {
    return (process.env[FLEET_ENV.rollbackAnnounced] ?? "").split(",").includes(agent);
}

export class DeployNotifier {
    private readonly agents: ReadonlyMap<string, AgentSpec>;
    /** One id per process run, so that the same hook on the same resource in one update keeps its id on every retry. */
    private readonly run = `${process.pid}-${Date.now()}`;

    /** By agent: a rollback is known once both the new container is up and the old one is gone, in either order. */
    private readonly replacements = new Map<string, Replacement>();

    constructor(private readonly args: DeployNotificationsArgs) {
        this.agents = new Map(args.spec.agents.map((a) => [a.name, a]));
    }

    /** The event for a hook on a container, or undefined when the container is not an agent's. */
    eventFor(event: AlertEventName, urn: string, inputs: Record<string, unknown> | undefined, reason: string): AlertEvent | undefined {
        return this.agentEvent(event, urn, labelsOf(inputs)[LABELS.agent] ?? "", reason);
    }

    /** The event for one of this fleet's agents, by name; undefined for any other name. */
    private agentEvent(event: AlertEventName, urn: string, agentName: string, reason: string): AlertEvent | undefined {
        const agent = this.agents.get(agentName);
        if (!agent) return undefined;
        return deployEvent(this.args.spec.stack, agent, event, `${urn}|${this.run}`, reason, this.args.link);
    }

    /** Sends to every channel routed for the agent at this severity; never throws. */
    async send(event: AlertEvent): Promise<DeliveryOutcome[]> {
        const agent = this.agents.get(event.agent);
        if (!agent) return [];
        try {
            const channels = channelsFor(this.args.spec.channels, agent, event.severity);
            const targets = await valueOf(deliveryTargets(channels, this.args.secretConfig));
            const outcomes = await deliver(targets, event, this.args.delivery ?? DEPLOY_DELIVERY);
            for (const o of outcomes.filter((x) => !x.delivered)) {
                this.warn(`${event.event} for ${event.agent} was not delivered to channel ${o.channel} after ${o.attempts} attempt(s): ${o.error}; the deploy goes on`);
            }
            return outcomes;
        } catch (error) {
            this.warn(`${event.event} for ${event.agent} could not be sent: ${error instanceof Error ? error.message : String(error)}; the deploy goes on`);
            return [];
        }
    }

    /**
     * `rolled_back`, once per agent and update, when a container came up on the
     * image its predecessor named as its rollback plan: `image` and
     * `rollbackImage` were swapped (by hand or by `fleet rollback`), and the
     * old version serves again. Create-first replacements report the new
     * container before the old one's delete, delete-first ones after it.
     */
    private async noteReplacement(agent: string, seen: Replacement): Promise<void> {
        const r = Object.assign(this.replacements.get(agent) ?? {}, seen);
        this.replacements.set(agent, r);
        if (r.sent || r.createdImage === undefined || r.retiredRollbackImage === undefined || r.urn === undefined) return;
        if (!sameImage(r.createdImage, r.retiredRollbackImage) || announcedByCli(agent)) return;
        r.sent = true;
        const event = this.agentEvent("rolled_back", r.urn, agent, `${agent} rolled back to ${r.createdImage}`);
        if (event) await this.send(event);
    }

    private warn(message: string): void {
        (this.args.warn ?? ((m: string) => void pulumi.log.warn(m)))(message);
    }

    /**
     * The hook binding for agent containers: started before a create or an
     * update, succeeded after it (a container is created only once healthy),
     * failed when the engine reports the operation failed.
     */
    hooks(fleetName: string): pulumi.ResourceHookBinding {
        const names = deployHookNames(fleetName);
        const quietly = { ignoreErrors: true };
        const started = new pulumi.ResourceHook(names.started, async (a) => {
            const event = this.eventFor("deploy.started", a.urn, a.newInputs, `${a.oldInputs ? "updating" : "creating"} ${a.name}`);
            if (event) await this.send(event);
        }, quietly);
        const succeeded = new pulumi.ResourceHook(names.succeeded, async (a) => {
            const event = this.eventFor("deploy.succeeded", a.urn, a.newInputs, `${a.name} ${a.oldInputs ? "updated" : "created and healthy"}`);
            if (!event) return;
            await this.send(event);
            // A Swarm service updates in place: its own old inputs name the rollback plan the update retired.
            const retired = a.oldInputs ? labelsOf(a.oldInputs)[LABELS.rollbackImage] : undefined;
            if (retired) await this.noteReplacement(event.agent, { retiredRollbackImage: retired });
            const image = labelsOf(a.newInputs)[LABELS.image];
            if (image) await this.noteReplacement(event.agent, { createdImage: image, urn: a.urn });
        }, quietly);
        const retired = new pulumi.ResourceHook(names.retired, async (a) => {
            const labels = labelsOf(a.oldInputs);
            const agent = labels[LABELS.agent];
            if (agent && labels[LABELS.rollbackImage]) await this.noteReplacement(agent, { retiredRollbackImage: labels[LABELS.rollbackImage] });
        }, quietly);
        const failed = new pulumi.ErrorHook(names.failed, async (a) => {
            const name = failureEvent(a.errors);
            // Why the health gate failed, in the agent's own words, when its healthcheck said anything.
            const container = (a.newInputs as { name?: unknown } | undefined)?.name;
            const probe = name === "health.failed" && typeof container === "string" ? await (this.args.lastProbe ?? lastProbeOutput)(container) : undefined;
            // The provider's own error for a failed health wait nests the URN twice; with the probe's words, a plain phrase says it.
            const error = probe ? "its container never turned healthy" : a.errors[0] ?? "no error given";
            const why = `${a.failedOperation} of ${a.name} failed: ${error}${probe ? `; its healthcheck said: ${probe}` : ""}`;
            const event = this.eventFor(name, a.urn, a.newInputs ?? a.oldInputs, why);
            if (event) await this.send(event);
            // Never retry: a failed health wait is the answer, and the previous container still serves.
            return false;
        });
        return { beforeCreate: [started], afterCreate: [succeeded], beforeUpdate: [started], afterUpdate: [succeeded], afterDelete: [retired], onError: [failed] };
    }
}
