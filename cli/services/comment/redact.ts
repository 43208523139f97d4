/**
 * Credentials a preview could still show in plain text, which a change put in
 * plain config (and the pack then blocks). The engine masks real secrets
 * itself, and previewOf masks whatever a credential name labels (an env var,
 * a `NAME=value` entry). Here, any value the policy pack's own scanner
 * (secretlint) recognises, under whatever name, becomes "[secret]"; it is a
 * separate, async pass because secretlint is.
 */
import { findCredentials } from "../../../policies/rules";
import type { AgentPreview, ProviderChange, StackPreview } from "./preview";

import { SECRET_MARKER } from "../../../contract";
import { type FieldChange } from "./spec-changes";

const MASK = SECRET_MARKER;

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
    const clean = (value: string | undefined) => (value !== undefined && found.has(value) ? MASK : value);
    const defined = <T extends object>(entries: T) => Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined)) as T;

    const agents: AgentPreview[] = preview.agents.map((agent) => ({
        ...agent,
        changes: agent.changes.map((change): FieldChange => defined({ field: change.field, from: clean(change.from), to: clean(change.to) })),
        providerChanges: agent.providerChanges.map((provider): ProviderChange => ({
            ...provider,
            fields: provider.fields.map((field) => defined({ path: field.path, kind: field.kind, from: clean(field.from), to: clean(field.to) })),
        })),
    }));
    return { ...preview, agents };
}
