/**
 * The policy pack run outside the engine, exactly as @pulumi/policy's server
 * runs it inside: `fleet check` and the policy tests share this one analyzer.
 */
export * from "./analyze";
export * from "./args";
export * from "./props";
export * from "./resource";
