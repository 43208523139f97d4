/**
 * Synthetic engine event logs of any size, built from a real log's
 * AgentService step (pr-staging): each agent an AgentService and a container
 * step with the operation asked for, plus policy events. The property test
 * and the comment benchmark share them.
 */
import { readFileSync } from "fs";
import * as path from "path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import * as pulumi from "@pulumi/pulumi";
import { parseEventLog } from "../../cli/services/comment";
import { fleetPolicies } from "../../policies/rules";
import { PROJECT_ROOT } from "./pulumi";

/** A seeded secret value: plaintext in the synthetic log (as with --show-secrets), never in a report. */
export const SEEDED = "SEEDED-prop-secret-5c1e";
export const POLICIES = fleetPolicies().map((p) => p.policy);
const STACK_URN = "urn:pulumi:production::agent-fleet::";

const template = parseEventLog(readFileSync(path.join(PROJECT_ROOT, "test", "fixtures", "events", "pr-staging.jsonl"), "utf8"), "pr-staging.jsonl");
const serviceStep = template.find((e) => e.resourcePreEvent?.metadata.type === "agent-fleet:index:AgentService")!.resourcePreEvent!.metadata;
const baseAgent = serviceStep.new!.inputs.agent;

export interface AgentCase {
    readonly op: "create" | "replace" | "delete" | "update";
    readonly tier: 1 | 2 | 3;
    readonly envValue: string;
    /** The container's envs are a secret whose value changes. */
    readonly rotatedSecret: boolean;
    /** A plain env var with a credential name carries the seeded secret. */
    readonly plainCredential: boolean;
    /** Index into POLICIES, level and message of each violation on this agent. */
    readonly violations: readonly { readonly policy: number; readonly mandatory: boolean; readonly message: string }[];
}

const secretValue = (text: string) => ({ [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, plaintext: text });

/** One agent's steps and policy events, numbered from `sequence`. */
function agentEvents(index: number, c: AgentCase, sequence: number): EngineEvent[] {
    const name = `agent-${index}`;
    const serviceUrn = `${STACK_URN}agent-fleet:index:Fleet$agent-fleet:index:AgentService::fleet-${name}`;
    const containerUrn = `${STACK_URN}agent-fleet:index:Fleet$agent-fleet:index:AgentService$docker:index/container:Container::fleet-${name}`;
    const env = { MODE: c.envValue, ...(c.plainCredential ? { API_TOKEN: SEEDED } : {}) };
    const agent = (revision: number) => ({ ...baseAgent, name, tier: c.tier, env: { ...env, REVISION: String(revision) } });
    const state = (urn: string, type: string, inputs: Record<string, unknown>, parent: string) => ({ urn, type, id: "", parent, provider: "", inputs, outputs: {} });
    const envs = (revision: number) => (c.rotatedSecret ? secretValue(`${SEEDED}-${revision}`) : [`MODE=${c.envValue}`, `REVISION=${revision}`, ...(c.plainCredential ? [`API_TOKEN=${SEEDED}`] : [])]);
    const old = c.op === "create" ? undefined : 1;
    const next = c.op === "delete" ? undefined : 2;
    const serviceOp = c.op === "replace" ? "update" : c.op;
    const containerOp = c.op;
    const step = (urn: string, type: string, op: string, inputs: (r: number) => Record<string, unknown>, parent: string) => ({
        op, urn, type, provider: "",
        ...(old !== undefined ? { old: state(urn, type, inputs(old), parent) } : {}),
        ...(next !== undefined ? { new: state(urn, type, inputs(next), parent) } : {}),
        ...(op === "replace" || op === "update" ? { diffs: ["envs"], detailedDiff: { envs: { diffKind: op === "replace" ? "update-replace" : "update", inputDiff: true } } } : {}),
    });
    const events: EngineEvent[] = [
        { sequence: sequence++, timestamp: 0, resourcePreEvent: { metadata: step(serviceUrn, "agent-fleet:index:AgentService", serviceOp, (r) => ({ agent: agent(r) }), `${STACK_URN}agent-fleet:index:Fleet::fleet`) as never } },
        { sequence: sequence++, timestamp: 0, resourcePreEvent: { metadata: step(containerUrn, "docker:index/container:Container", containerOp, (r) => ({ envs: envs(r) }), serviceUrn) as never } },
    ];
    for (const v of c.violations) {
        const policy = POLICIES[v.policy];
        events.push({
            sequence: sequence++, timestamp: 0,
            policyEvent: {
                resourceUrn: serviceUrn, message: `${policy.description}\n${v.message}\n`, color: "never", policyName: policy.name,
                policyPackName: "agent-fleet-tiers", policyPackVersion: "0.1.0", policyPackVersionTag: "0.1.0", enforcementLevel: v.mandatory ? "mandatory" : "warning",
            },
        });
    }
    return events;
}

/** A whole preview's log: agents `agent-0`, `agent-1`, … in order, then the summary. */
export function eventsOf(cases: readonly AgentCase[]): EngineEvent[] {
    const events: EngineEvent[] = [];
    cases.forEach((c, i) => events.push(...agentEvents(i, c, events.length + 1)));
    events.push({ sequence: events.length + 1, timestamp: 0, summaryEvent: { maybeCorrupt: false, durationSeconds: 1, resourceChanges: { update: cases.length }, policyPacks: {} } });
    return events;
}

