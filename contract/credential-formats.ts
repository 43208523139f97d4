/**
 * Credential formats by their look: the fleet's own list, beside the
 * maintained scanner the policy pack runs (secretlint's recommended preset,
 * which does not cover these). The loader tests key-name fields against it
 * offline and synchronously; the pack hands it to secretlint's pattern rule.
 */
export const CREDENTIAL_FORMATS: readonly { readonly name: string; readonly re: RegExp }[] = [
    { name: "a Stripe-style API key", re: /\b[rsp]k_(?:live|test)_[A-Za-z0-9]{16,}/ },
    { name: "an OpenAI-style API key", re: /\bsk-[A-Za-z0-9_-]{16,}/ },
    { name: "a GitHub token", re: /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{22,})/ },
    { name: "an AWS access key id", re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
    { name: "a JSON web token", re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/ },
    // The user may be empty: "redis://:password@host" is the usual Redis form.
    { name: "a URL with a password", re: /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/i },
    { name: "a Slack webhook URL", re: /hooks\.slack\.com\/services\//i },
    { name: "a Discord webhook URL", re: /discord(?:app)?\.com\/api\/webhooks\//i },
];

/** How to fix a secret pasted where a config key's name belongs: the loader and the policy pack say it alike. */
export const SECRET_KEY_NAME_FIX = "store the value with `pulumi config set --secret <key> <value>` and name that key here";

/** The first credential format `text` has, if any: its name, never the match. */
export function credentialFormatOf(text: string): string | undefined {
    return CREDENTIAL_FORMATS.find((format) => format.re.test(text))?.name;
}
