import { checkEquivalence, rawFleet, runVariant, checkRun } from "/work/main/bench/fleets";
(async () => {
  await checkEquivalence();
  console.log("equivalent");
  for (const n of [10, 100, 1000]) for (const v of ["fleet", "hand-written"] as const) {
    const f = rawFleet(n);
    const t = process.hrtime.bigint();
    const r = await runVariant(v, f);
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    checkRun(r, n);
    console.log(n, v, ms.toFixed(1));
  }
})().catch((e) => { console.error(e); process.exit(1); });
