/**
 * Program evaluation under Pulumi mocks for fleets of 10, 100 and 1000 agents:
 * the real path (loadFleetConfig → Fleet) against a hand-written baseline that
 * registers the same docker resources directly. See bench/fleets.ts.
 *
 * `npm run bench` prints vitest's table (hz, mean per run); `npm run bench:report`
 * derives ms per agent, the fleet/hand-written ratio and the linearity check.
 */
import { bench, describe } from "vitest";
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
