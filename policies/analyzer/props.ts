/**
 * Wire properties → what a policy reads in `args.props`.
 *
 * Written by hand because neither SDK exports what @pulumi/policy's server
 * uses: its own deserializer is internal (an empty .d.ts), and @pulumi/pulumi's
 * `runtime.deserializeProperty` answers a different question (it keeps
 * secrets wrapped and lifts them to the enclosing array, and turns the
 * unknown sentinel into an Output's `unknown`). The rules are the pack's:
 * secrets unwrapped, assets and archives as asset objects, the unknown
 * sentinel kept so that @pulumi/policy's public `unknownCheckingProxy` throws
 * its `UnknownValueError` when a policy reads one.
 */
import * as pulumi from "@pulumi/pulumi";
import { unknownCheckingProxy } from "@pulumi/policy";
import type { ResourceValidationArgs } from "@pulumi/policy";

/** What a policy reads: @pulumi/policy types it as a free-form record. */
export type PolicyProps = ResourceValidationArgs["props"];

const { specialSigKey, specialSecretSig, specialAssetSig, specialArchiveSig } = pulumi.runtime;

type Wire = Record<string, unknown>;

function asset(wire: Wire): pulumi.asset.Asset {
    if (wire.path) return new pulumi.asset.FileAsset(String(wire.path));
    if (wire.text) return new pulumi.asset.StringAsset(String(wire.text));
    if (wire.uri) return new pulumi.asset.RemoteAsset(String(wire.uri));
    throw new Error("Invalid asset encountered when unmarshaling resource property");
}

function archive(wire: Wire): pulumi.asset.Archive {
    if (wire.assets) {
        const assets: Record<string, pulumi.asset.Asset | pulumi.asset.Archive> = {};
        for (const [name, value] of Object.entries(wire.assets as Wire)) assets[name] = plainValue(value) as pulumi.asset.Asset;
        return new pulumi.asset.AssetArchive(assets);
    }
    if (wire.path) return new pulumi.asset.FileArchive(String(wire.path));
    if (wire.uri) return new pulumi.asset.RemoteArchive(String(wire.uri));
    throw new Error("Invalid archive encountered when unmarshaling resource property");
}

/** One wire value as plain data: secrets unwrapped, assets as objects, unknowns left as the sentinel. */
export function plainValue(value: unknown): unknown {
    if (value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) return value.map(plainValue);
    const wire = value as Wire;
    switch (wire[specialSigKey]) {
        case undefined:
            break;
        case specialSecretSig:
            return plainValue(wire.value);
        case specialAssetSig:
            return asset(wire);
        case specialArchiveSig:
            return archive(wire);
        default:
            throw new Error(`Unrecognized signature '${String(wire[specialSigKey])}' when unmarshaling resource property`);
    }
    const plain: Wire = {};
    // An undefined property does not exist, as on the wire.
    for (const [key, v] of Object.entries(wire)) if (v !== undefined) plain[key] = plainValue(v);
    return plain;
}

/** A resource's wire properties as `args.props`: plain, behind the proxy that throws on reading an unknown. */
export function policyProps(wire: Readonly<Record<string, unknown>>): PolicyProps {
    return unknownCheckingProxy(plainValue(wire) as PolicyProps);
}
