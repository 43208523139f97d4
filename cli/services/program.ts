/**
 * Runs the real program offline, as `fleet check` needs it: the stack's config
 * set once (secret values as placeholders, since they cannot be decrypted
 * here), then <project>/index.ts in-process under Pulumi mocks, in the project
 * directory, with everything it logs captured.
 */
import { createRequire } from "module";
import * as pulumi from "@pulumi/pulumi";
import { FLEET_ENV } from "../../contract";
import { FleetConfigError, ProjectInfo, StackFile, StackView, UserError, governanceSecretKeys } from "../../config";
import { RegisteredResource, startMocks } from "./mocks";
import { runtimeConfigFrom, withSecretPlaceholders } from "./runtime-config";

const localRequire = createRequire(__filename);

/** The program could not run with this config (exit code 2): a FleetConfigError, or any other failure it reports. */
export class ProgramError extends UserError {
    constructor(message: string) {
        super(message);
    }
}

/** Requires the program afresh, so that a second check in the same process runs it again. */
function requireProgram(program: string): unknown {
    const resolved = localRequire.resolve(program);
    delete localRequire.cache[resolved];
    return localRequire(resolved);
}

/** As Pulumi's Node.js host runs a program: a module whose export is a function (or a promise) is awaited. */
async function runModule(exported: unknown): Promise<void> {
    const main = typeof exported === "object" && exported !== null && typeof (exported as { default?: unknown }).default === "function"
        ? (exported as { default: () => unknown }).default
        : exported;
    if (typeof main === "function") await main();
    else if (main && typeof (main as PromiseLike<unknown>).then === "function") await main;
}

type LogLevel = "debug" | "info" | "warn" | "error";

/** Captures what the program logs: under mocks the SDK would print it, and an error fails `pulumi up`. */
function captureLogs(): { errors: string[]; warnings: string[]; restore(): void } {
    const log = pulumi.log as unknown as Record<LogLevel, (message: string, ...rest: unknown[]) => Promise<void>>;
    const originals = { debug: log.debug, info: log.info, warn: log.warn, error: log.error };
    const captured = { errors: [] as string[], warnings: [] as string[] };
    log.debug = async () => undefined;
    log.info = async () => undefined;
    log.warn = async (message) => void captured.warnings.push(message);
    log.error = async (message) => void captured.errors.push(message);
    return { ...captured, restore: () => Object.assign(log, originals) };
}

function messageOf(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}

export interface ProgramRun {
    /** Every registration, in order. */
    readonly resources: RegisteredResource[];
    /** Warnings the program logged (never secret values: the program only ever sees placeholders). */
    readonly warnings: string[];
}

/** Sets the stack's config, then runs the program under mocks; throws ProgramError when it fails or logs an error. */
export async function runProgram(project: ProjectInfo, stackFile: StackFile, stack: string, load: (program: string) => unknown = requireProgram): Promise<ProgramRun> {
    const needed = [...new StackView(project, stack, stackFile).secretKeysNamed().keys(), ...governanceSecretKeys(stackFile.config, project.name)];
    const config = withSecretPlaceholders(runtimeConfigFrom(stackFile), project.name, needed);
    pulumi.runtime.setAllConfig(config.values, config.secretKeys);

    const mocks = await startMocks(stack, { project: project.name });
    const logs = captureLogs();
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => void rejections.push(reason);
    process.on("unhandledRejection", onRejection);
    const cwd = process.cwd();
    process.chdir(project.dir);
    // The SDK captures a stack trace for every promise it makes (leak reports, source positions); the check
    // prints messages only, and without the traces a 1000-agent program runs twice as fast.
    const stackTraceLimit = Error.stackTraceLimit;
    if (!process.env.FLEET_DEBUG) Error.stackTraceLimit = 0;
    // Offline: the program asks no Docker engine its version (it would reach every host of the stack).
    const engineProbe = process.env[FLEET_ENV.engineProbe];
    process.env[FLEET_ENV.engineProbe] = "off";
    try {
        await runModule(load(project.program));
        // Wait for every registration and registerOutputs still in flight.
        await pulumi.runtime.disconnect();
    } catch (error) {
        // index.ts turns a FleetConfigError into a RunError: its message is the whole report.
        if (pulumi.RunError.isInstance(error) || error instanceof FleetConfigError) throw new ProgramError(messageOf(error));
        throw new ProgramError(`the program failed: ${messageOf(error)}`);
    } finally {
        Error.stackTraceLimit = stackTraceLimit;
        if (engineProbe === undefined) delete process.env[FLEET_ENV.engineProbe];
        else process.env[FLEET_ENV.engineProbe] = engineProbe;
        process.chdir(cwd);
        logs.restore();
        process.off("unhandledRejection", onRejection);
    }
    if (rejections.length > 0) throw new ProgramError(`the program failed: ${messageOf(rejections[0])}`);
    if (logs.errors.length > 0) {
        // Logged errors fail `pulumi up` (the Fleet logs an agent it could not declare); they fail the check too.
        throw new ProgramError([`the program reported ${logs.errors.length === 1 ? "an error" : `${logs.errors.length} errors`}:`, ...logs.errors.map((e) => `error: ${e}`)].join("\n"));
    }
    return { resources: mocks.resources, warnings: logs.warnings };
}
