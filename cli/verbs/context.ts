/** What a verb's definition is given: where its output goes, and how it reports its exit code. */
import type { Output } from "../output";

export interface VerbContext {
    readonly output: Output;
    /** Called once with the verb's exit code (see EXIT in cli/output.ts). */
    readonly onExit: (code: number) => void;
}
