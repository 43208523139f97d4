/** The environments a stack can be, and what each one implies: shared by the loader, the policy pack and the CLI. */
export type Environment = "dev" | "staging" | "production";

/** From least to most strict: a later environment runs every policy an earlier one does, and more. */
export const ENVIRONMENTS: readonly Environment[] = ["dev", "staging", "production"];

/** Staging and production: shared environments that run reviewed, pinned images (dev builds whatever is checked out). */
export function isDeployedEnvironment(environment: string): boolean {
    return environment === "staging" || environment === "production";
}
