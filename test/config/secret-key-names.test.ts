// Fields that name a secret stack config key hold a name a person wrote, never the value: a pasted token
// is refused offline, by its look, before any secret is read, and never echoed.
import { randomBytes } from "crypto";
import { describe, expect, it } from "vitest";
import { FleetConfigError, loadGithubConfig } from "../../config";
import { problemsOf, sourceWith, stackProblem } from "./fixtures";

// Prefixes are split so that secret scanners never mistake this file for a leak.
// Seeded, each shaped like a real secret and each one a valid config-key string before this rule (it starts with a letter).
const PASTED: readonly (readonly [string, string])[] = [
    ["a 64-hex webhook secret", `a${randomBytes(32).toString("hex").slice(1)}`],
    ["a base64url token", `K${randomBytes(24).toString("base64url").replace(/[^A-Za-z0-9]/g, "q")}9z7`],
    ["an OpenAI-style key", "sk" + "-proj-seedseedseedseedseed"],
    ["a GitHub token", "gh" + `p_${"Seed".repeat(6)}`],
    ["an AWS access key id", "AK" + "IASEEDSEEDSEED2345"],
];

const refusal = (example: string) => `expected the name of a secret stack config key like "${example}", got a value that is not a key name and may be the secret itself (not shown): store the value with \`pulumi config set --secret <key> <value>\` and name that key here`;

const FIELDS: readonly { readonly field: string; readonly example: string; readonly put: (s: any, value: string) => void }[] = [
    { field: "fleet.agents.jarvis.secrets.CALENDAR_TOKEN", example: "openaiApiKey", put: (s, v) => { s.fleet.agents.jarvis.secrets = { CALENDAR_TOKEN: v }; } },
    {
        field: "fleet.agents.jarvis.webhooks[0].secret", example: "githubWebhookSecret",
        put: (s, v) => { s.fleet.agents.jarvis.webhooks = [{ name: "crm-updates", source: "generic", path: "/webhooks/crm", secret: v }]; },
    },
    { field: "fleet.channels.ops-slack.urlSecret", example: "opsSlackWebhookUrl", put: (s, v) => { s.fleet.channels["ops-slack"].urlSecret = v; } },
    {
        field: "fleet.channels.pager.signingSecret", example: "pagerSigningSecret",
        put: (s, v) => { s.fleet.channels.pager = { type: "webhook", urlSecret: "opsSlackWebhookUrl", signingSecret: v }; },
    },
];

describe("a secret pasted where a config key name belongs", () => {
    for (const { field, example, put } of FIELDS) {
        it.each(PASTED)(`${field}: refuses %s without echoing it`, (_kind, value) => {
            const problems = problemsOf(sourceWith((s) => put(s, value)));
            expect(problems).toEqual([stackProblem(field, refusal(example))]);
            expect(JSON.stringify(problems)).not.toContain(value);
        });
    }

    it.each(["crmWebhookSecret", "github-webhook-secret", "CRM_WEBHOOK_SECRET", "oauth2ClientSecret", "e2eHookSecret", "crm.hook.secret", "myAPIKey"])(
        "takes %s, a name a person wrote (and asks for it to be set)",
        (key) => {
            const problems = problemsOf(sourceWith((s) => { s.fleet.agents.jarvis.webhooks = [{ name: "crm-updates", source: "generic", path: "/webhooks/crm", secret: key }]; }));
            expect(problems).toEqual([stackProblem("fleet.agents.jarvis.webhooks[0].secret",
                `expected secret config key "${key}" to be set (pulumi config set --secret ${key} <value> --stack production), got nothing`)]);
        },
    );

    it.each(PASTED)("github.actionsSecrets: refuses %s without echoing it", (_kind, value) => {
        let thrown: unknown;
        try {
            loadGithubConfig("production", { repository: "acme/agent-fleet", productionReviewers: { users: [1] }, actionsSecrets: { PULUMI_CONFIG_PASSPHRASE: value } }, () => "secret");
        } catch (error) {
            thrown = error;
        }
        expect(thrown).toBeInstanceOf(FleetConfigError);
        const problems = (thrown as FleetConfigError).problems;
        expect(problems).toEqual([{ file: "stacks/Pulumi.production.yaml", path: "github.actionsSecrets.PULUMI_CONFIG_PASSPHRASE", message: refusal("configPassphrase") }]);
        expect(JSON.stringify(problems) + (thrown as Error).message).not.toContain(value);
    });
});
