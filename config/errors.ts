import { closest, distance } from "fastest-levenshtein";

/** One thing wrong with the fleet config, located to a file and a field. */
export interface ConfigProblem {
    /** Display path of the file to edit, e.g. "stacks/Pulumi.production.yaml". */
    readonly file: string;
    /** Field path inside that file, e.g. "fleet.agents.pesti.healthcheck.interval". */
    readonly path: string;
    readonly message: string;
}

export function formatProblem(problem: ConfigProblem): string {
    return `${problem.file}: ${problem.path}: ${problem.message}`;
}

/**
 * A mistake the user or their environment made, and can fix: a bad file, an
 * unknown stack, a refused edit, a backend that cannot be reached. The one
 * error type every layer throws for these; the CLI prints its message alone
 * (no stack trace) and exits 2. Anything else is a bug.
 */
export class UserError extends Error {
    constructor(message: string) {
        super(message);
        this.name = new.target.name;
    }
}

/**
 * Every problem in a fleet config, reported together. Thrown before any
 * resource is registered, so nothing is half-applied.
 */
export class FleetConfigError extends UserError {
    constructor(
        readonly stack: string,
        readonly problems: readonly ConfigProblem[],
    ) {
        const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
        super([`Invalid fleet config for stack "${stack}" (${count}):`, ...problems.map(formatProblem)].join("\n"));
    }
}

/** Joins a field path the way a user reads YAML: dots for keys, [i] for list items. */
export function renderPath(prefix: string, path: readonly PropertyKey[]): string {
    let out = prefix;
    for (const key of path) {
        if (typeof key === "number") out += `[${key}]`;
        else out += out === "" ? String(key) : `.${String(key)}`;
    }
    // A problem with a whole file (a catalog that is not a map, say) still gets a path to read.
    return out === "" ? "(root)" : out;
}

/** "did you mean" for an unknown field, when a known one is a typo away. */
export function unknownFieldMessage(field: string, known: readonly string[]): string {
    // A field known elsewhere ("port" under a host) is no typo of itself.
    const others = known.filter((k) => k !== field);
    const suggestion = others.length > 0 ? closest(field, others) : undefined;
    const hint = suggestion !== undefined && distance(field, suggestion) <= 2 ? ` (did you mean "${suggestion}"?)` : "";
    return `expected a known field${hint}, got unknown field ${JSON.stringify(field)}`;
}
