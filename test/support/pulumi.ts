/**
 * Test helpers for Pulumi code under the SDK's own mocks: the recorder
 * (startMocks, from cli/services/mocks.ts), stack config and output helpers.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";

export const PROJECT = "agent-fleet";
export const PROJECT_ROOT = path.resolve(__dirname, "../..");

// The mock recorder lives in cli/ because `fleet check` runs the real program with it.
export { isWireSecret, startMocks } from "../../cli/services/mocks";
export type { MockOptions, MockRun, RegisteredResource, WireValue } from "../../cli/services/mocks";

/** Resolves an Output in a test; never assert inside an un-awaited apply. */
export function outputOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((value) => { resolve(value); return value; }));
}

/** Lets pending registrations and outputs settle. */
export async function settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    // Component outputs register a few ticks later; let them reach this run's monitor, not the next test's.
    await new Promise((resolve) => setTimeout(resolve, 20));
}

export interface StackConfigOptions {
    /** Secret config values by key (without project prefix). */
    readonly secrets?: Readonly<Record<string, string>>;
    /** Replaces the stack file's `fleet` value. */
    readonly fleet?: unknown;
    /** Sets the stack's `github` value (the opt-in GitHub governance). */
    readonly github?: unknown;
}

export function readStackFile(stack: string, root = PROJECT_ROOT): Record<string, unknown> {
    const file = path.join(root, "stacks", `Pulumi.${stack}.yaml`);
    return (parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> }).config ?? {};
}

/** Sets the runtime config exactly as the Pulumi CLI hands a stack's config to a program. */
export function setStackConfig(stack: string, options: StackConfigOptions = {}, root = PROJECT_ROOT): void {
    const fileConfig = readStackFile(stack, root);
    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries(fileConfig)) {
        // Objects reach the program as JSON text, just as `pulumi up` passes them.
        config[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    if (options.fleet !== undefined) config[`${PROJECT}:fleet`] = JSON.stringify(options.fleet);
    if (options.github !== undefined) config[`${PROJECT}:github`] = JSON.stringify(options.github);
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(options.secrets ?? {})) {
        config[`${PROJECT}:${key}`] = value;
        secretKeys.push(`${PROJECT}:${key}`);
    }
    pulumi.runtime.setAllConfig(config, secretKeys);
}
