// Fuzzes loadFleetConfig: whatever the stack file, catalog and secret store
// hold, it returns a spec or throws one FleetConfigError whose every line reads
// "<file>: <path>: <message>", and never anything else (a TypeError, a stack trace).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FleetConfigError, FleetSpec, SecretKeyState, formatProblem, loadFleetConfig } from "../../config";
import { CATALOG_FILE, Draft, SECRET_VALUES, STACK_FILE, validCatalog, validFleet } from "./fixtures";

const NUM_RUNS = 400;
const LINE_RE = /^[^:]+: [^ ]+: .+$/;
const HEADER_RE = /^Invalid fleet config for stack "(.*)" \((\d+) problems?\):$/;

type Path = readonly (string | number)[];
type Target = "fleet" | "catalog";

/**
 * Keys a YAML or JSON stack file plausibly holds: plain words, typos, names
 * that break the agent/env/channel name rules, and Object.prototype's names.
 * No whitespace or ":" (see the arbitrary-key property below for those).
 */
const keyArb: fc.Arbitrary<string> = fc.oneof(
    { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,12}$/) },
    { weight: 2, arbitrary: fc.constantFrom(
        "image", "tier", "port", "env", "secrets", "healthcheck", "interval", "agents", "agentDefaults", "channels",
        "featureFlags", "stages", "stage", "soak", "currentStage", "replicas", "hostPort", "build", "context",
    ) },
    { weight: 1, arbitrary: fc.constantFrom("constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "Pesti", "pesti_bot", "LOG-LEVEL", "1X") },
);

/** Values a config field plausibly holds, plus anything at all. */
const valueArb: fc.Arbitrary<unknown> = fc.oneof(
    { weight: 3, arbitrary: fc.anything({ key: keyArb, maxDepth: 2, maxKeys: 4 }) },
    { weight: 2, arbitrary: fc.constantFrom<unknown>(
        "", "ten", "10", "10s", "1m30s", "0s", "1.5s", "half", "off", "team", "10%", "100%", "512MB", "1Gi", "FETCH", "teams", "loud",
        0, -1, 1, 1.5, 2, 4, 70000, 65535, "8080", null, true, false, [], {}, [""], [{}], { stage: "off" }, Number.NaN, Infinity,
        "ghcr.io/Acme/x:1", "ghcr.io/acme/x:1", "x".repeat(300),
    ) },
);

const secretStateArb: fc.Arbitrary<(key: string) => SecretKeyState> = fc.func(fc.constantFrom<SecretKeyState>("secret", "plain", "missing"));

type Mutation =
    | { readonly kind: "replace"; readonly target: Target; readonly pick: number; readonly value: unknown }
    | { readonly kind: "delete"; readonly target: Target; readonly pick: number }
    | { readonly kind: "add"; readonly target: Target; readonly pick: number; readonly key: string; readonly value: unknown };

const targetArb = fc.constantFrom<Target>("fleet", "fleet", "fleet", "catalog");
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ kind: fc.constant("replace" as const), target: targetArb, pick: fc.nat(), value: valueArb }),
    fc.record({ kind: fc.constant("delete" as const), target: targetArb, pick: fc.nat() }),
    fc.record({ kind: fc.constant("add" as const), target: targetArb, pick: fc.nat(), key: keyArb, value: valueArb }),
);

function isContainer(value: unknown): value is Record<string | number, unknown> {
    return typeof value === "object" && value !== null;
}

/** Every path in a tree, root ([]) first. */
function pathsOf(tree: unknown, prefix: Path = []): Path[] {
    const out: Path[] = [prefix];
    if (Array.isArray(tree)) tree.forEach((item, i) => out.push(...pathsOf(item, [...prefix, i])));
    else if (isContainer(tree)) for (const key of Object.keys(tree)) out.push(...pathsOf(tree[key], [...prefix, key]));
    return out;
}

function getAt(tree: unknown, path: Path): unknown {
    return path.reduce<unknown>((node, key) => (isContainer(node) ? node[key] : undefined), tree);
}

/** Sets an own property, as JSON.parse and YAML parsers do, even for "__proto__". */
function defineOwn(node: Record<string | number, unknown>, key: string | number, value: unknown): void {
    Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Applies one mutation. Generated values are copied in: fast-check reuses them while shrinking. */
function applyMutation(draft: Draft, mutation: Mutation): void {
    const value = "value" in mutation ? structuredClone(mutation.value) : undefined;
    const root = mutation.target === "fleet" ? draft.fleet : draft.catalog!.value;
    const setRoot = (value: unknown) => {
        if (mutation.target === "fleet") draft.fleet = value;
        else draft.catalog = { file: CATALOG_FILE, value };
    };
    if (mutation.kind === "add") {
        const containers = pathsOf(root).filter((p) => isContainer(getAt(root, p)) && !Array.isArray(getAt(root, p)));
        if (containers.length === 0) return;
        defineOwn(getAt(root, containers[mutation.pick % containers.length]) as Record<string, unknown>, mutation.key, value);
        return;
    }
    const paths = pathsOf(root);
    const path = paths[mutation.pick % paths.length];
    if (path.length === 0) {
        setRoot(value);
        return;
    }
    const parent = getAt(root, path.slice(0, -1)) as Record<string | number, unknown>;
    const key = path[path.length - 1];
    if (mutation.kind === "replace") defineOwn(parent, key, value);
    else if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
}

function fuzzedSource(stack: string, secretKeyState: (key: string) => SecretKeyState): Draft {
    return {
        stack,
        stackFile: `stacks/Pulumi.${stack}.yaml`,
        fleet: validFleet(),
        catalog: { file: CATALOG_FILE, value: validCatalog() },
        secretKeyState,
    };
}

/** Runs the loader and checks every promise the error makes to a user. */
function checkOutcome(source: Draft, options: { strictLines: boolean }): FleetSpec | FleetConfigError {
    let thrown: unknown;
    try {
        return loadFleetConfig(source);
    } catch (error) {
        thrown = error;
    }
    if (!(thrown instanceof FleetConfigError)) {
        throw new Error(`expected a FleetConfigError, got ${thrown instanceof Error ? thrown.stack : String(thrown)}`);
    }
    const error = thrown;
    expect(error.message).not.toContain("    at ");
    expect(error.problems.length).toBeGreaterThan(0);
    for (const problem of error.problems) {
        expect(typeof problem.file === "string" && problem.file.length > 0, `file of ${JSON.stringify(problem)}`).toBe(true);
        expect(typeof problem.path === "string" && problem.path.length > 0, `path of ${JSON.stringify(problem)}`).toBe(true);
        expect(typeof problem.message === "string" && problem.message.length > 0, `message of ${JSON.stringify(problem)}`).toBe(true);
        expect([source.stackFile, CATALOG_FILE]).toContain(problem.file);
        for (const value of Object.values(SECRET_VALUES)) expect(problem.message).not.toContain(value);
    }
    const [header, ...lines] = error.message.split("\n");
    const match = HEADER_RE.exec(header);
    expect(match, header).not.toBeNull();
    expect(match![1]).toBe(source.stack);
    expect(Number(match![2])).toBe(error.problems.length);
    expect(lines).toEqual(error.problems.map(formatProblem));
    if (options.strictLines) {
        for (const line of lines) expect(line).toMatch(LINE_RE);
    }
    return error;
}

const stackArb = fc.constantFrom("production", "staging", "dev", "qa", "preview-7");

describe("loadFleetConfig under fuzzing", () => {
    it("anything at all as the fleet", () => {
        fc.assert(fc.property(
            fc.anything({ key: keyArb, maxDepth: 4 }), stackArb, secretStateArb,
            (fleet, stack, secretKeyState) => {
                const source = fuzzedSource(stack, secretKeyState);
                source.fleet = fleet;
                checkOutcome(source, { strictLines: true });
            },
        ), { numRuns: NUM_RUNS });
    });

    it("anything at all as one agent, one channel or agentDefaults", () => {
        fc.assert(fc.property(
            fc.constantFrom("agent", "channel", "agentDefaults"), valueArb, secretStateArb,
            (where, value, secretKeyState) => {
                const source = fuzzedSource("production", secretKeyState);
                if (where === "agent") source.fleet.agents.pesti = value;
                else if (where === "channel") source.fleet.channels["ops-slack"] = value;
                else source.fleet.agentDefaults = value;
                checkOutcome(source, { strictLines: true });
            },
        ), { numRuns: NUM_RUNS });
    });

    it("random replacements, deletions and additions in a valid fleet", () => {
        fc.assert(fc.property(
            fc.array(mutationArb.filter((m) => m.target === "fleet"), { minLength: 1, maxLength: 5 }), stackArb, secretStateArb,
            (mutations, stack, secretKeyState) => {
                const source = fuzzedSource(stack, secretKeyState);
                for (const mutation of mutations) applyMutation(source, mutation);
                checkOutcome(source, { strictLines: true });
            },
        ), { numRuns: NUM_RUNS });
    });

    it("random replacements, deletions and additions in the catalog and the fleet", () => {
        fc.assert(fc.property(
            fc.array(mutationArb, { minLength: 1, maxLength: 5 }), secretStateArb,
            (mutations, secretKeyState) => {
                const source = fuzzedSource("production", secretKeyState);
                for (const mutation of mutations) applyMutation(source, mutation);
                checkOutcome(source, { strictLines: true });
            },
        ), { numRuns: NUM_RUNS });
    });

    it("every secret key state, on an otherwise valid fleet", () => {
        fc.assert(fc.property(secretStateArb, (secretKeyState) => {
            const outcome = checkOutcome(fuzzedSource("production", secretKeyState), { strictLines: true });
            const states = ["openaiApiKey", "calendarToken", "opsSlackWebhookUrl"].map((key) => secretKeyState(key));
            if (states.every((s) => s === "secret")) expect(outcome).not.toBeInstanceOf(FleetConfigError);
            else expect(outcome).toBeInstanceOf(FleetConfigError);
        }), { numRuns: 100 });
    });

    // Keys with spaces or ":" are legal YAML ("memory limit": 512Mi) and land in the field path as
    // written, so the strict LINE_RE cannot hold for them; the one-problem-per-line shape still must.
    it("arbitrary printable keys keep one problem per line", () => {
        fc.assert(fc.property(
            fc.anything({ key: fc.string({ maxLength: 12 }), maxDepth: 3 }), fc.constantFrom("agent", "fleet"),
            (value, where) => {
                const source = fuzzedSource("production", () => "secret");
                if (where === "agent") source.fleet.agents.pesti = value;
                else source.fleet = value;
                checkOutcome(source, { strictLines: false });
            },
        ), { numRuns: NUM_RUNS });
    });
});

describe("fuzz helpers", () => {
    it("start from a valid source", () => {
        const source = fuzzedSource("production", () => "secret");
        expect(source.stackFile).toBe(STACK_FILE);
        expect(checkOutcome(source, { strictLines: true })).not.toBeInstanceOf(FleetConfigError);
    });

    it("reach every path of the valid fleet", () => {
        const paths = pathsOf(validFleet()).map((p) => p.join("."));
        expect(paths).toContain("");
        expect(paths).toContain("agents.pesti.featureFlags.0.currentStage");
        expect(paths).toContain("channels.ops-slack.urlSecret");
    });
});
