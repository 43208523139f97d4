import { describe, expect, it } from "vitest";
import { noPlaintextSecrets } from "../../policies/rules/no-plaintext-secrets";
import { COMPONENT_TYPES } from "../../contract";
import { agentSpec, fleetSpec } from "../support/specs";
import { FLEET_NAME, agentServiceArgs, containerResourceArgs, messages, resourceArgsOf, runPolicy } from "./helpers";

const policy = noPlaintextSecrets();
const AT = "stacks/Pulumi.production.yaml: fleet.agents.pesti";
/** An env name that says nothing about credentials, so only the value can give one away. */
const PLAIN_NAME = "SETTING";

/** Deterministic fake characters: the same values every run, and no real credential in the source. */
function seeded(seed: number, length: number, alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"): string {
    let x = seed;
    let out = "";
    for (let i = 0; i < length; i++) {
        x = (x * 1103515245 + 12345) % 2147483648;
        out += alphabet[x % alphabet.length];
    }
    return out;
}

const UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
// Prefixes are split so that secret scanners never mistake this file for a leak.
/** [class, seeded fake value, the kind the policy names]: one row per loophole class the scan must close. */
const FAKE_CREDENTIALS: readonly (readonly [string, string, string])[] = [
    ["OpenAI key", "sk" + "-" + seeded(1, 40), "an OpenAI-style API key"],
    ["OpenAI project key", "sk" + "-proj-" + seeded(2, 48), "an OpenAI-style API key"],
    ["Stripe live secret key", "sk" + "_live_" + seeded(16, 32), "a Stripe-style API key"],
    ["Stripe restricted key", "rk" + "_live_" + seeded(17, 32), "a Stripe-style API key"],
    ["GitHub classic token", "gh" + "p_" + seeded(3, 36), "a github credential"],
    ["GitHub app token", "gh" + "s_" + seeded(4, 36), "a github credential"],
    ["GitHub fine-grained token", "github" + "_pat_" + seeded(20, 22) + "_" + seeded(21, 59), "a github credential"],
    ["Slack bot token", "xo" + "xb-" + seeded(5, 12, "0123456789") + "-" + seeded(6, 24), "a slack credential"],
    ["AWS access key id", "AK" + "IA" + seeded(7, 16, UPPER_DIGITS), "an AWS access key id"],
    ["JWT", "ey" + "J" + seeded(18, 20) + ".ey" + "J" + seeded(19, 30) + "." + seeded(22, 40), "a JSON web token"],
    ["Postgres URL with a password", `postgres://app:${seeded(8, 16)}@db.internal:5432/app`, "a URL with a password"],
    ["Redis URL with only a password", `redis://:${seeded(9, 16)}@cache:6379/0`, "a URL with a password"],
    ["HTTPS URL with a password", `https://deploy:${seeded(15, 16)}@git.acme.example/repo.git`, "a URL with a password"],
    ["Slack webhook", `https://${["hooks", "slack", "com"].join(".")}/services/T${seeded(10, 8, UPPER_DIGITS)}/B${seeded(11, 8, UPPER_DIGITS)}/${seeded(12, 24)}`, "a slack credential"],
    ["Discord webhook", `https://${["discord", "com"].join(".")}/api/webhooks/${seeded(13, 18, "0123456789")}/${seeded(14, 60)}`, "a Discord webhook URL"],
];
const STRIPE = FAKE_CREDENTIALS[2][1];

async function check(fields: Record<string, unknown> = {}, stack = "production"): Promise<string[]> {
    return messages(policy, await agentServiceArgs(agentSpec(fields, stack)));
}

describe("no-plaintext-secrets", () => {
    const happy = { env: { LOG_LEVEL: "info", PUBLIC_URL: "https://acme.example/app" }, secrets: { OPENAI_API_KEY: "openaiApiKey" } };

    it("passes plain settings in env and the credential mapped under secrets", async () => {
        expect(await check(happy)).toEqual([]);
    });

    it.each(FAKE_CREDENTIALS)("reports a plain env value holding a %s, without echoing it", async (_class, value, kind) => {
        const args = await agentServiceArgs(agentSpec({ ...happy, env: { ...happy.env, [PLAIN_NAME]: value } }));
        const violations = await runPolicy(policy, args);
        expect(violations).toEqual([{ message: `${AT}.env.${PLAIN_NAME}: move ${PLAIN_NAME} to secrets; its value looks like ${kind}`, urn: args.urn }]);
        expect(JSON.stringify(violations)).not.toContain(value);
    });

    it.each([
        ["the healthcheck command", { healthcheck: { command: ["CMD", "curl", "-fsS", "-H", `Authorization: Bearer ${STRIPE}`, "http://127.0.0.1:8080/health"] } }, "healthcheck.command"],
        ["a smoke-check body", { smokeChecks: [{ path: "/v1/reply", method: "POST", body: `{"apiKey":"${STRIPE}"}` }] }, "smokeChecks[0].body"],
        ["a smoke-check path", { smokeChecks: [{ path: `/v1/reply?token=${STRIPE}` }] }, "smokeChecks[0].path"],
        ["a build arg", { image: "agent-fleet/sample-agent:dev", build: { context: "agents/sample-agent", args: { NPM_AUTH: STRIPE } } }, "build.args.NPM_AUTH"],
    ] as const)("reports a credential in %s, without echoing it", async (_where, fields, field) => {
        // Dev: only dev builds (the loader refuses a build elsewhere), and a build arg is where dev leaks a credential.
        const found = await check({ ...happy, ...fields }, "dev");
        expect(found).toEqual([`${AT.replace("production", "dev")}.${field}: take the credential out and pass it as a secret env var; its value looks like a Stripe-style API key`]);
        expect(found.join("\n")).not.toContain(STRIPE);
    });

    it.each(["OPENAI_API_KEY", "GITHUB_TOKEN", "DB_PASSWORD", "SENTRY_DSN", "SLACK_WEBHOOK_URL", "GCP_CREDENTIALS", "openai_api_key", "STRIPE_SK", "GH_PAT", "DATABASE_DSN", "SMTP_PASS", "SESSION_COOKIE", "API_JWT", "DB_PASSWORD_FILE", "OPENAIKEY_APIKEY", "SECRET_KEY_BASE", "AWS_ACCESS_KEY_ID", "SSH_KEY_B64"])(
        "reports an env var named like a credential (%s)",
        async (name) => {
            expect(await check({ env: { ...happy.env, [name]: "anything" } })).toEqual([
                `${AT}.env.${name}: move ${name} from env to secrets (a secret stack config key); its name says it is a credential`,
            ]);
        },
    );

    it("reports a credential-named var holding a credential-looking value once, by name, without the value", async () => {
        const value = FAKE_CREDENTIALS[4][1];
        const found = await check({ env: { GITHUB_TOKEN: value } });
        expect(found).toEqual([`${AT}.env.GITHUB_TOKEN: move GITHUB_TOKEN from env to secrets (a secret stack config key); its name says it is a credential`]);
        expect(found.join("\n")).not.toContain(value);
    });

    it("passes look-alikes that hold no credential", async () => {
        expect(await check({ env: { HOMEPAGE: "https://someone@acme.example/", MODE: "sk-short", NOTE: "see discord.com for help", TASK_QUEUE: "jobs", CACHE_PREFIX: "agent", PATH_PREFIX: "/v1", TOKENIZER_MODEL: "cl100k", SESSION_TIMEOUT: "30m" } })).toEqual([]);
        // A credential word that starts a setting's name is a feature prefix: a setting about it, not the credential.
        expect(await check({ env: { WEBHOOK_TIMEOUT_MS: "5000", AUTH_MODE: "oauth", TOKEN_LIMIT: "4096", PASSWORD_MIN_LENGTH: "12", SECRET_ROTATION_DAYS: "30", KEY_PREFIX: "fleet" } })).toEqual([]);
    });

    it("applies in dev too: a plaintext credential leaks from any environment", async () => {
        expect(await check({ env: { DB_PASSWORD: "x" } }, "dev")).toEqual([
            "stacks/Pulumi.dev.yaml: fleet.agents.pesti.env.DB_PASSWORD: move DB_PASSWORD from env to secrets (a secret stack config key); its name says it is a credential",
        ]);
    });

    it("judges the AgentService, not the container (whose env carries the secret values, unwrapped as policies see them)", async () => {
        const container = await containerResourceArgs(agentSpec({ ...happy, env: { DB_PASSWORD: "x" } }));
        expect(container.props.envs).toContain("OPENAI_API_KEY=seeded-openaiApiKey");
        expect(await runPolicy(policy, container)).toEqual([]);
    });

    describe("fields that name a secret key (a program can build specs the loader never read)", () => {
        const [, openAiKey] = FAKE_CREDENTIALS[0];
        const KEY_FIX = "store the value with `pulumi config set --secret <key> <value>` and name that key here";

        it("passes key names", async () => {
            const agent = agentSpec({ secrets: { OPENAI_API_KEY: "openaiApiKey" } });
            expect(await messages(policy, await agentServiceArgs(agent))).toEqual([]);
        });

        it("reports a credential under secrets and as a webhook's secret key, at each field, without echoing it", async () => {
            const base = agentSpec({ secrets: { OPENAI_API_KEY: "openaiApiKey" } });
            const agent = {
                // As the loader resolves a webhook: its key is in `secrets` too, under WEBHOOK_CRM_SECRET; reported once, at the webhook.
                ...base, secrets: { OPENAI_API_KEY: openAiKey, WEBHOOK_CRM_SECRET: openAiKey },
                webhooks: [{ name: "crm", source: "generic" as const, path: "/webhooks/crm", secretKey: openAiKey, secretEnv: "WEBHOOK_CRM_SECRET", events: [] }],
            };
            const found = await messages(policy, await agentServiceArgs(agent));
            expect(found).toEqual([
                `${AT}.secrets.OPENAI_API_KEY: expected the name of a secret config key, got a value that looks like an OpenAI-style API key (not shown): ${KEY_FIX}`,
                `${AT}.webhooks[0].secret: expected the name of a secret config key, got a value that looks like an OpenAI-style API key (not shown): ${KEY_FIX}`,
            ]);
            expect(found.join("\n")).not.toContain(openAiKey);
        });

        async function fleetArgs(change: (spec: ReturnType<typeof fleetSpec>) => ReturnType<typeof fleetSpec>) {
            const spec = fleetSpec({
                channels: { pager: { type: "webhook", urlSecret: "pagerWebhookUrl", signingSecret: "pagerSigningSecret" } },
                agents: { pesti: { tier: 1, port: 8080, image: "ghcr.io/acme/pesti:1.4.2" } },
            }, "production", ["pagerWebhookUrl", "pagerSigningSecret"]);
            return resourceArgsOf(change(spec), COMPONENT_TYPES.fleet, FLEET_NAME);
        }

        it("passes a fleet whose channels name keys", async () => {
            expect(await messages(policy, await fleetArgs((spec) => spec))).toEqual([]);
        });

        it("reports a channel's signing key that is a credential, at the channel's field, without echoing it", async () => {
            const found = await messages(policy, await fleetArgs((spec) => ({ ...spec, channels: [{ ...spec.channels[0], signingSecret: openAiKey }] })));
            expect(found).toEqual([
                `stacks/Pulumi.production.yaml: fleet.channels.pager.signingSecret: expected the name of a secret config key, got a value that looks like an OpenAI-style API key (not shown): ${KEY_FIX}`,
            ]);
        });

        it("reports a credential in fleet.webhookBaseUrl, scanned as env values are", async () => {
            const [, slackHook] = FAKE_CREDENTIALS.find(([name]) => name === "Slack webhook")!;
            const found = await messages(policy, await fleetArgs((spec) => ({ ...spec, webhookBaseUrl: slackHook })));
            expect(found).toEqual([
                "stacks/Pulumi.production.yaml: fleet.webhookBaseUrl: its value looks like a slack credential: set it to the public URL alone; agents verify each delivery's signature, so the URL carries no credential",
            ]);
            expect(found.join("\n")).not.toContain(slackHook);
        });
    });
});
