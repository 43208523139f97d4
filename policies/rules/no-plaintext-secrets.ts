import { FleetPolicy, agentPolicy, reportAgent } from "./fleet-policy";

/** Env var names that hold credentials by convention. */
export const CREDENTIAL_NAME_RE = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|PWD|DSN|CREDENTIALS?|PRIVATE|WEBHOOK(_URL)?|AUTH)($|_)/i;

/** Literal values that look like well-known credentials. */
export const CREDENTIAL_VALUE_PATTERNS: readonly { readonly kind: string; readonly re: RegExp }[] = [
    { kind: "an OpenAI-style API key (sk-…)", re: /\bsk-[A-Za-z0-9_-]{16,}/ },
    { kind: "a GitHub token (ghp_…)", re: /\bgh[pousr]_[A-Za-z0-9]{20,}/ },
    { kind: "a Slack token (xox…)", re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
    { kind: "an AWS access key (AKIA…)", re: /\bAKIA[0-9A-Z]{16}\b/ },
    // The user may be empty: "redis://:password@host" is the usual Redis form.
    { kind: "a URL with a password", re: /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/i },
    { kind: "a Slack webhook URL", re: /hooks\.slack\.com\/services\//i },
    { kind: "a Discord webhook URL", re: /discord(app)?\.com\/api\/webhooks\//i },
];

/** Rule 3: credentials only ever reach an agent through secret config. */
export function noPlaintextSecrets(): FleetPolicy {
    return {
        appliesTo: "all tiers",
        fix: "Move the value to a secret: `pulumi config set --secret <key> <value>`, then map it under `secrets` (env var → config key) instead of `env`.",
        policy: agentPolicy(
            "no-plaintext-secrets",
            "No credential reaches an agent in plain text: credential-like env names and credential-like values belong in `secrets`.",
            (inputs, agent, report) => {
                for (const [name, value] of Object.entries(agent.env)) {
                    if (CREDENTIAL_NAME_RE.test(name)) {
                        reportAgent(report, inputs, `env.${name}`, `move ${name} from env to secrets (a secret stack config key); its name says it is a credential`);
                        continue;
                    }
                    const match = CREDENTIAL_VALUE_PATTERNS.find((pattern) => pattern.re.test(value));
                    // Never echo the value: it is most likely the credential itself.
                    if (match) reportAgent(report, inputs, `env.${name}`, `move ${name} to secrets; its value looks like ${match.kind}`);
                }
            },
        ),
    };
}
