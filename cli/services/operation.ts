/**
 * One `fleet` operation that changes a stack (`fleet up`, `fleet rollback
 * --apply`), from start to end under one fleet lock: the stack opened with its
 * Pulumi environment (./stack-access), the lock taken (./lock), whatever an
 * interrupted operation left put right (./recover), and the stack's records
 * read (./records). Its updates run with the lock's id, which the program
 * lets through; any other update of the stack is refused meanwhile.
 */
import type { Stack } from "@pulumi/pulumi/automation";
import { describeHolder } from "../../contract";
import type { Output } from "../output";
import { stackEngineClients } from "./docker";
import { FleetLock } from "./lock";
import { StackRecords, readRecords } from "./records";
import { recoverLeftovers } from "./recover";
import { openStack, pulumiEnv, withStackAccess } from "./stack-access";
import { StackFileEditor } from "./stack-edit";

export class StackOperation {
    private constructor(
        readonly cwd: string,
        readonly stack: Stack,
        readonly editor: StackFileEditor,
        private readonly lock: FleetLock,
        /** The stack's records as they were when the operation began; refresh with `reloadRecords`. */
        public records: StackRecords,
        /** What recovery put right, one line each. */
        readonly recovered: readonly string[],
    ) {}

    /**
     * Opens the stack, takes its lock, recovers leftovers and reads its records;
     * throws StackAccessError (exit 2) when the stack cannot be reached or is busy.
     * `command` names the operation in the lock, for whoever finds it held.
     */
    static async begin(cwd: string, stackName: string, command: string, output: Output, options: { readonly create?: boolean } = {}): Promise<StackOperation> {
        const editor = StackFileEditor.open(cwd, stackName);
        const stack = await openStack(cwd, stackName, { create: options.create });
        const env = pulumiEnv(cwd, stackName);
        const lock = await withStackAccess(stackName, env, () => FleetLock.acquire(cwd, editor.project.name, stack, command, env));
        try {
            const engines = stackEngineClients(editor.view, env);
            const recovered = [
                ...(lock.recoveredFrom ? [`took the fleet lock over: ${describeHolder(lock.recoveredFrom)} did not finish (its process is gone)`] : []),
                ...await withStackAccess(stackName, env, () => recoverLeftovers(cwd, editor.project.name, stack, engines, env)),
            ];
            for (const line of recovered) output.err(`recovering: ${line}`);
            const records = await withStackAccess(stackName, env, () => readRecords(stack));
            return new StackOperation(cwd, stack, editor, lock, records, recovered);
        } catch (error) {
            await lock.release();
            throw error;
        }
    }

    /** The environment of this operation's updates. */
    get updateEnv(): Record<string, string> {
        return this.lock.env;
    }

    async reloadRecords(): Promise<StackRecords> {
        this.records = await readRecords(this.stack);
        return this.records;
    }

    /** Releases the lock; call it in a `finally`. */
    end(): Promise<void> {
        return this.lock.release();
    }
}
