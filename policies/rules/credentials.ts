/**
 * Finds credentials in the plain-text parts of an agent's config with
 * secretlint, a maintained secret scanner: its recommended preset, plus its
 * pattern rule for the formats the preset does not cover (contract/credential-formats).
 * Our own list is only those extra formats; the detection engine is secretlint's.
 *
 * Results name the kind of credential, never the value.
 */
import { lintSource } from "@secretlint/core";
import { creator as patternRule } from "@secretlint/secretlint-rule-pattern";
import { creator as recommendedRules } from "@secretlint/secretlint-rule-preset-recommend";
import type { SecretLintCoreConfig } from "@secretlint/types";
import { CREDENTIAL_FORMATS } from "../../contract/credential-formats";

/**
 * What may follow a credential word and still name the credential: how it is
 * stored (DB_PASSWORD_FILE, SSH_KEY_B64, SECRET_KEY_BASE, AWS_ACCESS_KEY_ID).
 * Any other continuation makes the word a feature prefix (WEBHOOK_TIMEOUT_MS,
 * TOKEN_LIMIT, PASSWORD_MIN_LENGTH): a setting about it, not the credential.
 */
const STORED_AS = "(?:_(?:FILE|B64|BASE64|BASE|HEX|VALUE|ID))?$";

/**
 * Env var names that hold credentials by convention: a credential word at the
 * end of the name (or before how it is stored). Whole words end a name part
 * (GITHUB_TOKEN, OPENAIKEY_APIKEY); abbreviations must be a name part of
 * their own (STRIPE_SK, GH_PAT, SENTRY_DSN), so TASK_QUEUE or PATH never match.
 */
export const CREDENTIAL_NAME_RE = new RegExp(
    `(?:PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIALS?|APIKEY|PRIVATE_?KEY)${STORED_AS}`
    + `|(?:^|_)(?:KEYS?|PASS|PWD|DSN|CREDS|AUTH|SK|PAT|JWT|BEARER|COOKIE|CERT|WEBHOOK(?:_URL)?|CONN(?:ECTION)?_STR(?:ING)?)${STORED_AS}`,
    "i",
);

const CONFIG: SecretLintCoreConfig = {
    rules: [
        { id: "@secretlint/secretlint-rule-preset-recommend", rule: recommendedRules },
        { id: "@secretlint/secretlint-rule-pattern", rule: patternRule, options: { patterns: CREDENTIAL_FORMATS.map((p) => ({ name: p.name, pattern: String(p.re) })) } },
    ],
};

/** A place in the agent's config and the text found there. */
export interface ScannedText {
    /** Field path under the agent, e.g. "env.MODEL_HINT" or "smokeChecks[0].body". */
    readonly field: string;
    readonly text: string;
}

export interface FoundCredential {
    readonly field: string;
    /** What it looks like, e.g. "a Stripe-style API key"; never the value. */
    readonly kind: string;
}

/** "@secretlint/secretlint-rule-slack" → "a slack credential"; pattern findings by their pattern's name. */
function kindOf(ruleId: string, patternName: string | undefined): string {
    if (patternName) return patternName;
    const vendor = ruleId.replace(/^@secretlint\/secretlint-rule-/, "").replace(/-/g, " ");
    return `a ${vendor} credential`;
}

/**
 * Scans every text in one pass (one line each, so a finding maps back to its
 * field) and returns one finding per field, in the order given.
 */
export async function findCredentials(texts: readonly ScannedText[]): Promise<FoundCredential[]> {
    if (texts.length === 0) return [];
    // Newlines inside a value would shift the lines; each value is scanned on one line.
    const lines = texts.map((t) => t.text.replace(/\r?\n/g, " "));
    const content = lines.join("\n");
    const starts: number[] = [];
    let offset = 0;
    for (const line of lines) {
        starts.push(offset);
        offset += line.length + 1;
    }
    const result = await lintSource({
        source: { filePath: "/agent-fleet/agent-config.txt", content, contentType: "text" },
        options: { config: CONFIG, maskSecrets: true },
    });
    const found = new Map<number, string>();
    for (const message of result.messages) {
        let index = starts.length - 1;
        while (index > 0 && starts[index] > message.range[0]) index--;
        if (found.has(index)) continue;
        // secretlint masks the pattern's name along with the secret: find it by testing the line again.
        const patternName = message.ruleId === "@secretlint/secretlint-rule-pattern"
            ? CREDENTIAL_FORMATS.find((p) => p.re.test(lines[index]))?.name
            : undefined;
        found.set(index, kindOf(message.ruleId, patternName));
    }
    return [...found.entries()].sort(([a], [b]) => a - b).map(([index, kind]) => ({ field: texts[index].field, kind }));
}
