import { describe, expect, it } from "vitest";
import { CREDENTIAL_VALUE_PATTERNS, noPlaintextSecrets } from "../../policies/rules/no-plaintext-secrets";
import { agentSpec } from "../support/specs";
import { agentServiceArgs, containerResourceArgs, messages, runPolicy } from "./helpers";

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
const FAKE_VALUES: Readonly<Record<string, readonly string[]>> = {
    "an OpenAI-style API key (sk-…)": ["sk" + "-" + seeded(1, 40), "sk" + "-proj-" + seeded(2, 48)],
    "a GitHub token (ghp_…)": ["gh" + "p_" + seeded(3, 36), "gh" + "s_" + seeded(4, 36)],
    "a Slack token (xox…)": ["xo" + "xb-" + seeded(5, 12, "0123456789") + "-" + seeded(6, 24)],
    "an AWS access key (AKIA…)": ["AK" + "IA" + seeded(7, 16, UPPER_DIGITS)],
    "a URL with a password": [`postgres://app:${seeded(8, 16)}@db.internal:5432/app`, `redis://:${seeded(9, 16)}@cache:6379/0`],
    "a Slack webhook URL": [`https://${["hooks", "slack", "com"].join(".")}/services/T${seeded(10, 8, UPPER_DIGITS)}/B${seeded(11, 8, UPPER_DIGITS)}/${seeded(12, 24)}`],
    "a Discord webhook URL": [`https://${["discord", "com"].join(".")}/api/webhooks/${seeded(13, 18, "0123456789")}/${seeded(14, 60)}`],
};

async function check(fields: Record<string, unknown> = {}, stack = "production"): Promise<string[]> {
    return messages(policy, await agentServiceArgs(agentSpec(fields, stack)));
}

describe("no-plaintext-secrets", () => {
    const happy = { env: { LOG_LEVEL: "info", PUBLIC_URL: "https://acme.example/app" }, secrets: { OPENAI_API_KEY: "openaiApiKey" } };

    it("passes plain settings in env and the credential mapped under secrets", async () => {
        expect(await check(happy)).toEqual([]);
    });

    it("has a seeded fake value for every credential value pattern", () => {
        expect(Object.keys(FAKE_VALUES).sort()).toEqual(CREDENTIAL_VALUE_PATTERNS.map((p) => p.kind).sort());
    });

    for (const { kind } of CREDENTIAL_VALUE_PATTERNS) {
        it.each(FAKE_VALUES[kind] ?? [])(`reports a plain env value that looks like ${kind}, without echoing it: %#`, async (value) => {
            const args = await agentServiceArgs(agentSpec({ ...happy, env: { ...happy.env, [PLAIN_NAME]: value } }));
            const violations = await runPolicy(policy, args);
            expect(violations).toEqual([{ message: `${AT}.env.${PLAIN_NAME}: move ${PLAIN_NAME} to secrets; its value looks like ${kind}`, urn: args.urn }]);
            expect(JSON.stringify(violations)).not.toContain(value);
        });
    }

    it.each(["OPENAI_API_KEY", "GITHUB_TOKEN", "DB_PASSWORD", "SENTRY_DSN", "SLACK_WEBHOOK_URL", "GCP_CREDENTIALS", "openai_api_key"])(
        "reports an env var named like a credential (%s)",
        async (name) => {
            expect(await check({ env: { ...happy.env, [name]: "anything" } })).toEqual([
                `${AT}.env.${name}: move ${name} from env to secrets (a secret stack config key); its name says it is a credential`,
            ]);
        },
    );

    it("reports a credential-named var holding a credential-looking value once, by name, without the value", async () => {
        const value = FAKE_VALUES["a GitHub token (ghp_…)"][0];
        const found = await check({ env: { GITHUB_TOKEN: value } });
        expect(found).toEqual([`${AT}.env.GITHUB_TOKEN: move GITHUB_TOKEN from env to secrets (a secret stack config key); its name says it is a credential`]);
        expect(found.join("\n")).not.toContain(value);
    });

    it("passes look-alikes that hold no credential", async () => {
        expect(await check({ env: { HOMEPAGE: "https://someone@acme.example/", MODE: "sk-short", NOTE: "see discord.com for help" } })).toEqual([]);
    });

    it("applies in dev too: a plaintext credential leaks from any environment", async () => {
        expect(await check({ env: { DB_PASSWORD: "x" } }, "dev")).toEqual([
            "stacks/Pulumi.dev.yaml: fleet.agents.pesti.env.DB_PASSWORD: move DB_PASSWORD from env to secrets (a secret stack config key); its name says it is a credential",
        ]);
    });

    it("judges the AgentService, not the container (whose env carries the secret values, unwrapped as policies see them)", async () => {
        const container = await containerResourceArgs(agentSpec({ ...happy, env: { DB_PASSWORD: "x" } }));
        expect(container.props.envs).toContain("OPENAI_API_KEY=seeded-openai_api_key");
        expect(await runPolicy(policy, container)).toEqual([]);
    });
});
