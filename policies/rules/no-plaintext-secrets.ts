import type { ReportViolation } from "@pulumi/policy";
import type { AgentServiceInputs, FleetInputs } from "../../config/component-inputs";
import type { AgentSpec } from "../../config/spec";
import { GITHUB_TYPES, SECRET_KEY_NAME_FIX, stackFileName } from "../../contract";
import { CREDENTIAL_NAME_RE, ScannedText, findCredentials } from "./credentials";
import { FleetPolicy, agentInputs, fixAt, fleetInputs, reportAgent } from "./fleet-policy";

/** Every plain-text place of an agent's config a credential could hide in. */
function plainTexts(agent: AgentSpec): ScannedText[] {
    const command = agent.healthcheck.command;
    return [
        ...Object.entries(agent.env).map(([name, text]) => ({ field: `env.${name}`, text })),
        ...(command ? [{ field: "healthcheck.command", text: command.join(" ") }] : []),
        ...agent.smokeChecks.flatMap((check, i) => [
            { field: `smokeChecks[${i}].path`, text: check.path },
            ...(check.body === undefined ? [] : [{ field: `smokeChecks[${i}].body`, text: check.body }]),
        ]),
        ...Object.entries(agent.build?.args ?? {}).map(([name, text]) => ({ field: `build.args.${name}`, text })),
    ];
}

/** The agent's fields that name a secret config key: a credential pasted there is stored in the stack file in plain text. */
function keyNameTexts(agent: AgentSpec): ScannedText[] {
    // A webhook's key is in `secrets` too (as WEBHOOK_<NAME>_SECRET): it is reported once, at the webhook field the user wrote.
    const webhookEnvs = new Set(agent.webhooks.map((hook) => hook.secretEnv));
    return [
        ...Object.entries(agent.secrets).filter(([name]) => !webhookEnvs.has(name)).map(([name, key]) => ({ field: `secrets.${name}`, text: key })),
        ...agent.webhooks.map((hook, i) => ({ field: `webhooks[${i}].secret`, text: hook.secretKey })),
    ];
}

async function checkAgent(inputs: AgentServiceInputs, report: ReportViolation): Promise<void> {
    const agent = inputs.agent;
    const named = new Set<string>();
    for (const name of Object.keys(agent.env)) {
        if (!CREDENTIAL_NAME_RE.test(name)) continue;
        named.add(`env.${name}`);
        reportAgent(report, inputs, `env.${name}`, `move ${name} from env to secrets (a secret stack config key); its name says it is a credential`);
    }
    // Never echo the value: it is most likely the credential itself.
    for (const { field, kind } of await findCredentials(plainTexts(agent).filter((t) => !named.has(t.field)))) {
        const where = field.startsWith("env.") ? `move ${field.slice(4)} to secrets` : "take the credential out and pass it as a secret env var";
        reportAgent(report, inputs, field, `${where}; its value looks like ${kind}`);
    }
    for (const { field, kind } of await findCredentials(keyNameTexts(agent))) {
        reportAgent(report, inputs, field, `expected the name of a secret config key, got a value that looks like ${kind} (not shown): ${SECRET_KEY_NAME_FIX}`);
    }
}

async function checkFleet(fleet: FleetInputs["fleet"], report: ReportViolation): Promise<void> {
    const texts: ScannedText[] = [
        ...fleet.channels.flatMap((c) => [
            { field: `fleet.channels.${c.name}.urlSecret`, text: c.urlSecret },
            ...(c.signingSecret === undefined ? [] : [{ field: `fleet.channels.${c.name}.signingSecret`, text: c.signingSecret }]),
        ]),
        ...(fleet.webhookBaseUrl === undefined ? [] : [{ field: "fleet.webhookBaseUrl", text: fleet.webhookBaseUrl }]),
    ];
    for (const { field, kind } of await findCredentials(texts)) {
        const fix = field === "fleet.webhookBaseUrl"
            ? "set it to the public URL alone; agents verify each delivery's signature, so the URL carries no credential"
            : `expected the name of a secret config key, got a value that looks like ${kind} (not shown): ${SECRET_KEY_NAME_FIX}`;
        report(fixAt(fleet.stackFile, field, field === "fleet.webhookBaseUrl" ? `its value looks like ${kind}: ${fix}` : fix));
    }
}

/** The stack a resource belongs to, from its URN ("urn:pulumi:<stack>::<project>::…"). */
function stackOfUrn(urn: string): string {
    return urn.split("::")[0].replace(/^urn:pulumi:/, "");
}

/** An Actions variable is readable by everyone who can read the workflow logs: it carries no credential. */
async function checkActionsVariable(urn: string, props: Record<string, unknown>, report: ReportViolation): Promise<void> {
    const { variableName, value } = props as { variableName?: unknown; value?: unknown };
    if (typeof value !== "string") return;
    for (const { kind } of await findCredentials([{ field: "value", text: value }])) {
        report(fixAt(stackFileName(stackOfUrn(urn)), `github.actionsVariables.${String(variableName)}`, `move it to github.actionsSecrets (a secret stack config key); its value looks like ${kind}`));
    }
}

/** Credentials only ever reach an agent, a channel or a workflow through secret config. */
export function noPlaintextSecrets(): FleetPolicy {
    return {
        appliesTo: "all tiers",
        fix: "Move the value to a secret: `pulumi config set --secret <key> <value>`, then map it under `secrets` (env var → config key) instead of `env`; keep credentials out of healthcheck commands, smoke checks, build args, `fleet.webhookBaseUrl` and Actions variables; fields that name a secret key (`secrets`, a webhook's `secret`, a channel's `urlSecret` and `signingSecret`) hold the key's name, never the value.",
        policy: {
            name: "no-plaintext-secrets",
            description: "No credential is written in plain text: credential-like env names, and credential-like values (found by secretlint) in env, the healthcheck command, smoke checks, build args, fields that name a secret key, fleet.webhookBaseUrl and Actions variables, belong in secrets.",
            enforcementLevel: "mandatory",
            validateResource: async (args, report) => {
                const agent = agentInputs(args);
                if (agent) return checkAgent(agent, report);
                const fleet = fleetInputs(args);
                if (fleet) return checkFleet(fleet, report);
                if (args.type === GITHUB_TYPES.actionsVariable) return checkActionsVariable(args.urn, args.props, report);
            },
        },
    };
}
