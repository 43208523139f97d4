/**
 * Reads the running stack's fleet config from Pulumi and the files in stacks/.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { FleetConfigSource, SecretKeyState, loadFleetConfig } from "./load";
import type { FleetSpec } from "./spec";

import { STACKS_DIR, stackFileName } from "../contract";

export { STACKS_DIR, stackFileName };
export const CATALOG_FILE = `${STACKS_DIR}/catalog.yaml`;

function readYaml(file: string): unknown {
    return fs.existsSync(file) ? parse(fs.readFileSync(file, "utf8")) : undefined;
}

/**
 * Whether a key is set, and set as a secret. The stack file tells plain text
 * (a bare string) from ciphertext (`secure:`); a key set elsewhere (an ESC
 * environment, say) arrives without the file's say and counts as secret, as
 * Pulumi hands it to the program as one.
 */
export function secretKeyStateFrom(
    project: string,
    allConfig: Readonly<Record<string, string>>,
    stackFile: unknown,
): (key: string) => SecretKeyState {
    const fileConfig = (stackFile as { config?: Record<string, unknown> } | undefined)?.config ?? {};
    return (key) => {
        const fullKey = `${project}:${key}`;
        if (!(fullKey in allConfig)) return "missing";
        if (!(fullKey in fileConfig)) return "secret";
        const value = fileConfig[fullKey];
        // Only `{ secure: … }` is ciphertext; a string, number or boolean in the file is plain text.
        const isCiphertext = typeof value === "object" && value !== null && "secure" in value;
        return isCiphertext ? "secret" : "plain";
    };
}

/**
 * The same, from a stack file alone (the `fleet` commands, which run outside
 * Pulumi): a key the file does not set is missing.
 */
export function secretKeyStateInFile(project: string, fileConfig: Readonly<Record<string, unknown>>): (key: string) => SecretKeyState {
    return secretKeyStateFrom(project, fileConfig as Readonly<Record<string, string>>, { config: fileConfig });
}

export interface StackSourceOptions {
    /** Project root, where Pulumi.yaml lives. */
    readonly projectRoot: string;
    readonly project?: string;
    readonly stack?: string;
}

/** The stacks that have a file under stacks/ ("dev" for stacks/Pulumi.dev.yaml), sorted. */
export function stackNames(projectRoot: string): string[] {
    const dir = path.join(projectRoot, STACKS_DIR);
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir).map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => s !== undefined).sort();
}

/** The shared agent catalog as the loader takes it, when the project has one. */
export function catalogSource(projectRoot: string): FleetConfigSource["catalog"] {
    const catalogPath = path.join(projectRoot, CATALOG_FILE);
    return fs.existsSync(catalogPath) ? { file: CATALOG_FILE, value: readYaml(catalogPath) } : undefined;
}

/** Assembles the loader's input from the running Pulumi program. */
export function stackConfigSource(options: StackSourceOptions): FleetConfigSource {
    const project = options.project ?? pulumi.getProject();
    const stack = options.stack ?? pulumi.getStack();
    return {
        stack,
        stackFile: stackFileName(stack),
        fleet: new pulumi.Config(project).getObject<unknown>("fleet"),
        catalog: catalogSource(options.projectRoot),
        secretKeyState: stackSecretKeyState(options),
    };
}

/** Whether each secret config key of the running stack is set, and set as a secret. */
export function stackSecretKeyState(options: StackSourceOptions): (key: string) => SecretKeyState {
    const project = options.project ?? pulumi.getProject();
    const stack = options.stack ?? pulumi.getStack();
    return secretKeyStateFrom(project, pulumi.runtime.allConfig(), readYaml(path.join(options.projectRoot, stackFileName(stack))));
}

/** Loads the running stack's fleet, or throws FleetConfigError. */
export function loadStackFleet(options: StackSourceOptions): FleetSpec {
    return loadFleetConfig(stackConfigSource(options));
}
