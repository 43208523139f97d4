/**
 * Times program evaluation under Pulumi mocks and prints a markdown summary:
 * ms per agent for both variants, the fleet/hand-written ratio, linearity from
 * 100 to 1000 agents, and the 5 s-for-1000-agents goal; then the in-process
 * `fleet check` (program and policies) for 100 and 1000 agents; and `fleet
 * comment` on a 1000-resource preview.
 *
 *   npx ts-node bench/report.ts        (npm run bench:report)
 *   BENCH_SIZES=10,100 npx ts-node bench/report.ts   (skip the slow size)
 *
 * Targets are reported, never enforced: the exit code is 0 unless a run fails
 * or the two variants stop registering the same resources.
 */
import { checkCheck, removeCheckProject, runCheck, writeCheckProject } from "./check";
import { COMMENT_GOAL_MS, COMMENT_RESOURCES, checkLargeReport, largeEventLog, renderLargePreview } from "./comment";
import { RawFleet, SIZES, VARIANTS, Variant, checkEquivalence, checkRun, rawFleet, runVariant } from "./fleets";

/** Warm-up and measured runs per variant. 1000 agents skip the warm-up: the smaller sizes already warmed the code. */
const RUNS: Record<number, { warmup: number; measured: number }> = {
    10: { warmup: 1, measured: 5 },
    100: { warmup: 1, measured: 5 },
    1000: { warmup: 0, measured: 3 },
};
const GOAL_AGENTS = 1000;
const GOAL_MS = 5000;
/** ms/agent at 1000 may exceed ms/agent at 100 by this factor and still count as linear. */
const LINEAR_TOLERANCE = 1.25;

async function timeRun(variant: Variant, fleet: RawFleet, n: number): Promise<number> {
    const start = process.hrtime.bigint();
    const result = await runVariant(variant, fleet);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    checkRun(result, n);
    return ms;
}

function median(values: readonly number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

interface SizeResult {
    readonly n: number;
    /** Median ms per run, by variant. */
    readonly ms: Record<Variant, number>;
    readonly samples: Record<Variant, number[]>;
}

async function measure(n: number): Promise<SizeResult> {
    const fleet = rawFleet(n);
    const runs = RUNS[n] ?? { warmup: 1, measured: 3 };
    const samples: Record<Variant, number[]> = { fleet: [], "hand-written": [] };
    for (let i = 0; i < runs.warmup; i++) {
        for (const variant of VARIANTS) await timeRun(variant, fleet, n);
    }
    for (let i = 0; i < runs.measured; i++) {
        // Alternate the order so neither variant always runs on the other's garbage.
        const order = i % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
        for (const variant of order) {
            const ms = await timeRun(variant, fleet, n);
            samples[variant].push(ms);
            process.stderr.write(`  N=${n} ${variant} run ${i + 1}/${runs.measured}: ${ms.toFixed(0)} ms\n`);
        }
    }
    return { n, samples, ms: { fleet: median(samples.fleet), "hand-written": median(samples["hand-written"]) } };
}

const fmt = (value: number, digits = 1) => value.toFixed(digits);

function table(results: readonly SizeResult[]): string {
    const lines = [
        "| N | fleet ms | fleet ms/agent | hand-written ms | hand-written ms/agent | ratio |",
        "|---:|---:|---:|---:|---:|---:|",
    ];
    for (const { n, ms } of results) {
        lines.push(`| ${n} | ${fmt(ms.fleet)} | ${fmt(ms.fleet / n, 2)} | ${fmt(ms["hand-written"])} | ${fmt(ms["hand-written"] / n, 2)} | ${fmt(ms.fleet / ms["hand-written"], 2)} |`);
    }
    return lines.join("\n");
}

function checks(results: readonly SizeResult[]): string[] {
    const bySize = new Map(results.map((r) => [r.n, r]));
    const lines: string[] = [];
    const small = bySize.get(100);
    const large = bySize.get(1000);
    if (small && large) {
        for (const variant of VARIANTS) {
            const growth = (large.ms[variant] / 1000) / (small.ms[variant] / 100);
            const verdict = growth <= LINEAR_TOLERANCE ? "linear" : "NOT linear";
            lines.push(`Linearity (${variant}): ms/agent at 1000 is ${fmt(growth, 2)}× ms/agent at 100 → ${verdict} (tolerance ${LINEAR_TOLERANCE}×).`);
        }
    } else {
        lines.push("Linearity: not checked (needs N=100 and N=1000).");
    }
    const goal = bySize.get(GOAL_AGENTS);
    if (goal) {
        const met = goal.ms.fleet <= GOAL_MS;
        lines.push(`Goal ${GOAL_AGENTS} agents in ${GOAL_MS / 1000} s (fleet): ${fmt(goal.ms.fleet / 1000, 2)} s → ${met ? "met" : "MISSED"}`
            + ` (hand-written baseline: ${fmt(goal.ms["hand-written"] / 1000, 2)} s).`);
    } else {
        lines.push(`Goal ${GOAL_AGENTS} agents in ${GOAL_MS / 1000} s: not checked (N=${GOAL_AGENTS} not run).`);
    }
    return lines;
}

interface CheckSizeResult {
    readonly n: number;
    /** Medians, ms: the whole check, the program under mocks, the policies. */
    readonly total: number;
    readonly program: number;
    readonly policies: number;
}

/** `fleet check` in-process (bench/check.ts): same runs as the fleet variant, warm-up at 100 only. */
async function measureCheck(n: number): Promise<CheckSizeResult> {
    const dir = writeCheckProject(n);
    try {
        const runs = RUNS[n] ?? { warmup: 1, measured: 3 };
        const samples: { total: number; program: number; policies: number }[] = [];
        for (let i = 0; i < runs.warmup + runs.measured; i++) {
            const start = process.hrtime.bigint();
            const result = await runCheck(dir);
            const total = Number(process.hrtime.bigint() - start) / 1e6;
            checkCheck(result, n);
            if (i < runs.warmup) continue;
            samples.push({ total, program: result.timings.programMs, policies: result.timings.policiesMs });
            process.stderr.write(`  N=${n} fleet check run ${i - runs.warmup + 1}/${runs.measured}: ${total.toFixed(0)} ms\n`);
        }
        return {
            n,
            total: median(samples.map((s) => s.total)),
            program: median(samples.map((s) => s.program)),
            policies: median(samples.map((s) => s.policies)),
        };
    } finally {
        removeCheckProject(dir);
    }
}

function checkTable(results: readonly CheckSizeResult[]): string {
    const lines = [
        "| N | check ms | check ms/agent | program ms | policies ms |",
        "|---:|---:|---:|---:|---:|",
    ];
    for (const r of results) lines.push(`| ${r.n} | ${fmt(r.total)} | ${fmt(r.total / r.n, 2)} | ${fmt(r.program)} | ${fmt(r.policies)} |`);
    return lines.join("\n");
}

function environment(): string {
    const tsNode = Boolean((process as unknown as Record<symbol, unknown>)[Symbol.for("ts-node.register.instance")]);
    return `Node ${process.version}, ${tsNode ? "ts-node (source-mapped stack traces)" : "plain node"}, Error.stackTraceLimit=${Error.stackTraceLimit}.`;
}

const COMMENT_RUNS = 10;

/** `fleet comment` on the large preview of bench/comment.ts: median ms after two warm-up runs. */
async function measureComment(): Promise<number> {
    const text = largeEventLog();
    const times: number[] = [];
    for (let i = 0; i < COMMENT_RUNS + 2; i++) {
        const start = process.hrtime.bigint();
        checkLargeReport(await renderLargePreview(text));
        if (i >= 2) times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return median(times);
}

async function main(): Promise<void> {
    const started = process.hrtime.bigint();
    await checkEquivalence();
    process.stderr.write("Both variants register the same docker resources with the same inputs.\n");
    const results: SizeResult[] = [];
    for (const n of SIZES) results.push(await measure(n));
    const checkResults: CheckSizeResult[] = [];
    for (const n of SIZES.filter((size) => size === 100 || size === 1000)) checkResults.push(await measureCheck(n));
    const comment = await measureComment();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;

    console.log("## Program evaluation under Pulumi mocks (median of measured runs)\n");
    console.log(table(results));
    console.log("");
    for (const line of checks(results)) console.log(`- ${line}`);
    if (checkResults.length > 0) {
        console.log("\n## `fleet check` in-process: stack file → program under mocks → every policy (median)\n");
        console.log(checkTable(checkResults));
        console.log("");
    }
    console.log(`\n## \`fleet comment\` on a ${COMMENT_RESOURCES}-resource preview (median of ${COMMENT_RUNS})\n`);
    console.log(`- ${fmt(comment, 0)} ms (goal: under ${COMMENT_GOAL_MS} ms: ${comment < COMMENT_GOAL_MS ? "met" : "missed"}).\n`);
    console.log(`- Runs per variant: ${SIZES.map((n) => `N=${n}: ${RUNS[n]?.warmup ?? 1} warm-up + ${RUNS[n]?.measured ?? 3} measured`).join("; ")}.`);
    console.log(`- ${environment()} Report took ${fmt(seconds, 0)} s.`);
}

main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
});
