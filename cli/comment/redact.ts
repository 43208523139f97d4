/**
 * Credentials a preview could still show in plain text, which a change put in
 * plain config (and the pack then blocks); the engine masks real secrets
 * itself, and previewOf masks `NAME=value` entries with credential names. Here:
 * the value of an env var whose name says it holds a credential, and any value
 * the policy pack's own scanner (secretlint) recognises, become "[secret]".
 */
import { CREDENTIAL_NAME_RE, findCredentials } from "../../policies/rules/credentials";
import type { AgentPreview, ProviderChange, StackPreview } from "./preview";
import type { FieldChange } from "../../config";

const MASK = "[secret]";

function envName(field: string): string | undefined {
    return /^env `([^`]+)`$/.exec(field)?.[1];
}

export async function redactCredentials(preview: StackPreview): Promise<StackPreview> {
    // Every value the report would show, scanned in one secretlint pass.
    const values: string[] = [];
    const visit = (value: string | undefined) => {
        if (value !== undefined && value !== MASK) values.push(value);
    };
    for (const agent of preview.agents) {
        for (const change of agent.changes) [change.from, change.to].forEach(visit);
        for (const provider of agent.providerChanges) for (const field of provider.fields) [field.from, field.to].forEach(visit);
    }
    const found = new Set((await findCredentials(values.map((text, i) => ({ field: String(i), text })))).map((f) => values[Number(f.field)]));
    const clean = (value: string | undefined, byName = false) => (value === undefined ? undefined : found.has(value) || byName ? MASK : value);
    const defined = <T extends object>(entries: T) => Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined)) as T;

    const agents: AgentPreview[] = preview.agents.map((agent) => ({
        ...agent,
        changes: agent.changes.map((change): FieldChange => {
            const name = envName(change.field);
            const byName = name !== undefined && CREDENTIAL_NAME_RE.test(name);
            return defined({ field: change.field, from: clean(change.from, byName), to: clean(change.to, byName) });
        }),
        providerChanges: agent.providerChanges.map((provider): ProviderChange => ({
            ...provider,
            fields: provider.fields.map((field) => defined({ path: field.path, kind: field.kind, from: clean(field.from), to: clean(field.to) })),
        })),
    }));
    return { ...preview, agents };
}
