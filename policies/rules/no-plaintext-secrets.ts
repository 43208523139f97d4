import type { AgentSpec } from "../../config/spec";
import { CREDENTIAL_NAME_RE, ScannedText, findCredentials } from "./credentials";
import { FleetPolicy, agentPolicy, reportAgent } from "./fleet-policy";

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

/** Credentials only ever reach an agent through secret config. */
export function noPlaintextSecrets(): FleetPolicy {
    return {
        appliesTo: "all tiers",
        fix: "Move the value to a secret: `pulumi config set --secret <key> <value>`, then map it under `secrets` (env var → config key) instead of `env`; keep credentials out of healthcheck commands, smoke checks and build args.",
        policy: agentPolicy(
            "no-plaintext-secrets",
            "No credential reaches an agent in plain text: credential-like env names, and credential-like values anywhere in env, the healthcheck command, smoke checks or build args (found by secretlint), belong in `secrets`.",
            async (inputs, agent, report) => {
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
            },
        ),
    };
}
