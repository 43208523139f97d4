/**
 * Program evaluation under Pulumi mocks for fleets of 10, 100 and 1000 agents:
 * the real path (loadFleetConfig → Fleet) against a hand-written baseline that
 * registers the same docker resources directly. See bench/fleets.ts.
 *
 * `npm run bench` prints vitest's table (hz, mean per run); `npm run bench:report`
 * derives ms per agent, the fleet/hand-written ratio and the linearity check.
 * The `fleet check` cases (100 and 1000 agents) time the whole offline policy
 * check in-process: see bench/check.ts. The `fleet comment` case renders a
 * 1000-resource preview: see bench/comment.ts.
 */
import { bench, describe } from "vitest";
import { checkCheck, removeCheckProject, runCheck, writeCheckProject } from "./check";
import { COMMENT_RESOURCES, checkLargeReport, largeEventLog, renderLargePreview } from "./comment";
import { RawFleet, SIZES, VARIANTS, checkRun, rawFleet, runVariant } from "./fleets";

/**
 * One run costs tens of ms per agent (almost all of it inside the Pulumi SDK's
 * per-input bookkeeping), so the big fleets get few samples; the whole file
 * stays within about two minutes on two cores.
 */
const OPTIONS: Record<number, { time: number; iterations: number; warmupTime: number; warmupIterations: number }> = {
    10: { time: 0, iterations: 8, warmupTime: 0, warmupIterations: 2 },
    100: { time: 0, iterations: 3, warmupTime: 0, warmupIterations: 1 },
    1000: { time: 0, iterations: 1, warmupTime: 0, warmupIterations: 0 },
};

for (const n of SIZES) {
    describe(`${n} agents`, () => {
        // Built once per size: neither variant changes its input.
        const fleet: RawFleet = rawFleet(n);
        for (const variant of VARIANTS) {
            bench(variant, async () => {
                checkRun(await runVariant(variant, fleet), n);
            }, { ...(OPTIONS[n] ?? OPTIONS[1000]), throws: true });
        }
    });
}

/**
 * `fleet check` in-process: the stack file → the real program under mocks →
 * every policy, for the sizes the CLI is expected to handle.
 */
const CHECK_SIZES = SIZES.filter((n) => n === 100 || n === 1000);
let run = 0;

for (const n of CHECK_SIZES) {
    describe(`fleet check, ${n} agents`, () => {
        // Under vitest the program goes through vitest's module loader; a fresh query makes it run again.
        const loadProgram = (program: string) => import(/* @vite-ignore */ `${program}?run=${run++}`);
        // The project is written before each phase (warm-up, runs) and removed after it: bench files get no afterAll.
        let dir = "";
        bench("fleet check", async () => {
            checkCheck(await runCheck(dir, loadProgram), n);
        }, {
            ...(OPTIONS[n] ?? OPTIONS[1000]),
            throws: true,
            setup: () => { dir = writeCheckProject(n); },
            teardown: () => removeCheckProject(dir),
        });
    });
}

/** `fleet comment` on a 1000-resource preview (bench/comment.ts); the goal is under 0.5 s. */
describe(`fleet comment, ${COMMENT_RESOURCES} resources`, () => {
    const text = largeEventLog();
    bench("fleet comment", async () => {
        checkLargeReport(await renderLargePreview(text));
    }, { time: 0, iterations: 10, warmupTime: 0, warmupIterations: 2, throws: true });
});
