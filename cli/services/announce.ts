/**
 * `rolled_back` from the CLI: when `fleet rollback --apply` or `fleet up`
 * rolls an agent back, the CLI announces it itself, to the channels routed
 * for that agent, with why. The deploy hooks cannot always see a rollback (a
 * tier 3 flag going off replaces a container on the same image), so the CLI
 * tells them to stay quiet (FLEET_ENV.rollbackAnnounced) and sends exactly
 * one notification per rollback.
 */
import type { Stack } from "@pulumi/pulumi/automation";
import { DeliveryOutcome, deliver } from "../../alerts";
import { channelsFor } from "../../alerts";
import { AgentSpec, FleetSpec } from "../../config";
import { FLEET_ENV } from "../../contract";
import { DEPLOY_DELIVERY, channelSecretKeys, deployEvent, targetsOf } from "../../components";
import { readProject } from "../../config";
import type { Output } from "../output";

/** The environment for an update whose rollbacks of these agents the CLI announces. */
export function rollbackAnnouncedEnv(agents: readonly string[]): Record<string, string> {
    return { [FLEET_ENV.rollbackAnnounced]: agents.join(",") };
}

/**
 * Sends `rolled_back` for one agent to its channels; never throws. Channel
 * URLs and signing secrets come decrypted from the stack's config and go
 * nowhere but the request: outcomes and warnings name the channel only.
 */
export async function announceRollback(stack: Stack, spec: FleetSpec, agent: AgentSpec, reason: string, output: Output): Promise<DeliveryOutcome[]> {
    const event = deployEvent(spec.stack, agent, "rolled_back", `cli|${process.pid}|${Date.now()}`, reason);
    const channels = channelsFor(spec.channels, agent, event.severity);
    if (channels.length === 0) return [];
    try {
        const project = readProject(stack.workspace.workDir).name;
        const config = await stack.getAllConfig();
        const missing = channelSecretKeys(channels).filter((key) => config[`${project}:${key}`] === undefined);
        if (missing.length > 0) throw new Error(`the stack has no ${missing.join(", ")} config`);
        const targets = targetsOf(channels, (key) => config[`${project}:${key}`].value);
        const outcomes = await deliver(targets, event, DEPLOY_DELIVERY);
        for (const o of outcomes.filter((x) => !x.delivered)) output.err(`rolled_back for ${agent.name} was not delivered to channel ${o.channel} after ${o.attempts} attempt(s): ${o.error}`);
        return outcomes;
    } catch (error) {
        output.err(`rolled_back for ${agent.name} could not be sent: ${error instanceof Error ? error.message : String(error)}`);
        return [];
    }
}
