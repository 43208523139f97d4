/**
 * A resource as the Pulumi engine hands it to a policy analyzer: what
 * `Analyze` gets for one registration and `AnalyzeStack` gets for each
 * resource of the stack. Properties are in wire form (secrets as secret
 * objects, unknowns as the engine's sentinel).
 */
export interface EngineResource {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    /** The parent's URN; "" for none. */
    readonly parent: string;
    readonly custom: boolean;
    /** Inputs for `Analyze`; for `AnalyzeStack` the final outputs (a component's last registerOutputs). */
    readonly props: Record<string, unknown>;
    readonly dependencies: readonly string[];
    /** Properties without dependencies are left out, as the engine does. */
    readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
    readonly protect: boolean;
    readonly ignoreChanges: readonly string[];
    readonly aliases: readonly string[];
    readonly additionalSecretOutputs: readonly string[];
    readonly customTimeouts: { readonly createSeconds: number; readonly updateSeconds: number; readonly deleteSeconds: number };
    /** Set only when the program set deleteBeforeReplace. */
    readonly deleteBeforeReplace?: boolean;
    /** The provider the engine attaches to a custom resource. */
    readonly provider?: EngineProvider;
}

export interface EngineProvider {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    /** Wire form, as the resource's props. */
    readonly props: Record<string, unknown>;
}

/**
 * The default provider the engine attaches to a custom resource of `type`
 * when the program sets no explicit one: `default`, or `default_<version>`
 * when the SDK asked for a package version.
 */
export function defaultProvider(type: string, version: string, context: { readonly stack: string; readonly project: string }): EngineProvider {
    const pkg = type.split(":")[0];
    const name = version ? `default_${version.replace(/[.+-]/g, "_")}` : "default";
    return {
        type: `pulumi:providers:${pkg}`,
        name,
        urn: `urn:pulumi:${context.stack}::${context.project}::pulumi:providers:${pkg}::${name}`,
        props: version ? { version } : {},
    };
}
