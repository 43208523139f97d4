/**
 * The runtime config the Pulumi CLI would hand the program, from a stack
 * file read by the stack module (config/stack.ts): what `fleet check` runs
 * the program with, offline, with placeholders for secrets it cannot decrypt.
 */
import type { StackFile } from "../../config";
import { isPlainObject } from "../../contract";

/**
 * What every secret config value is replaced with. `secure:` values cannot be
 * decrypted offline and may not be set yet; a check needs only that they are
 * set, and set as secrets.
 */
const SECRET_PLACEHOLDER = "fleet-check-secret-placeholder";

function isSecure(value: unknown): value is { secure: string } {
    return isPlainObject(value) && Object.keys(value).length === 1 && typeof value.secure === "string";
}

/** Replaces every `secure:` leaf with the placeholder; reports whether it found any. */
function withoutCiphertext(value: unknown): { value: unknown; secret: boolean } {
    if (isSecure(value)) return { value: SECRET_PLACEHOLDER, secret: true };
    if (Array.isArray(value)) {
        const items = value.map(withoutCiphertext);
        return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
    }
    if (isPlainObject(value)) {
        const entries = Object.entries(value).map(([k, v]) => [k, withoutCiphertext(v)] as const);
        return { value: Object.fromEntries(entries.map(([k, v]) => [k, v.value])), secret: entries.some(([, v]) => v.secret) };
    }
    return { value, secret: false };
}

/** Config as the Pulumi runtime takes it: full key → text, and which keys are secret. */
export interface RuntimeConfig {
    readonly values: Record<string, string>;
    readonly secretKeys: string[];
}

/**
 * The stack file's config as the Pulumi CLI hands it to the program: strings
 * as they are, anything else as JSON text, and every `secure:` value (whole or
 * nested) replaced by the placeholder and marked secret.
 */
export function runtimeConfigFrom(stackFile: StackFile): RuntimeConfig {
    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, raw] of Object.entries(stackFile.config)) {
        const { value, secret } = withoutCiphertext(raw);
        values[key] = typeof value === "string" ? value : JSON.stringify(value);
        if (secret) secretKeys.push(key);
    }
    return { values, secretKeys };
}

/**
 * Adds a secret placeholder for every key the fleet config needs as a secret
 * (names without the project prefix) that the stack file does not set yet. A
 * key the file sets in plain text is left alone, so the loader still refuses it.
 */
export function withSecretPlaceholders(config: RuntimeConfig, project: string, neededKeys: Iterable<string>): RuntimeConfig {
    const values = { ...config.values };
    const secretKeys = new Set(config.secretKeys);
    for (const key of neededKeys) {
        const fullKey = `${project}:${key}`;
        if (fullKey in values) continue;
        values[fullKey] = SECRET_PLACEHOLDER;
        secretKeys.add(fullKey);
    }
    return { values, secretKeys: [...secretKeys] };
}
