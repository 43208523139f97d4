/**
 * The real engine's overhead on the dev fleet: wall time of the operations a
 * team runs every day, each next to the time the container itself took to
 * turn healthy (from its creation to the end of its first passing probe).
 * The ratio is what Pulumi, the provider, the program and the CLI add on top
 * of Docker.
 *
 *   npm run bench:engine                          (needs `pulumi` on PATH and a Docker engine)
 *   BENCH_BEFORE=<checkout> npm run bench:engine  (the same steps on an older checkout first, in the same run)
 *
 * Steps: the first dev deploy (five agents, the image build included), a
 * no-op `pulumi up` and a no-op `fleet up`, a one-agent change, a broken
 * version failing its health gate and the recovery; then, on an agent that
 * pulls its releases as staging and production do, `fleet up --agent` of two
 * releases, `fleet rollback --apply` (MTTR: from the command to the previous
 * image serving again, verified, the old container gone) and `fleet up` of a
 * broken release, which rolls back by itself; and `fleet check --stack
 * production`, the PR gate, offline (median of 5). Then how the cost grows:
 * `fleet up --create-stack` of 1, 10 and 50 tier 1 agents from nothing
 * (BENCH_SCALE=1,10 for fewer), each next to its containers' own
 * create-to-healthy. Goals (issue 25) are reported, never enforced: the exit
 * code is 0 unless a step fails.
 */
import Docker from "dockerode";
import { dockerClient, requireDocker } from "../test/support/docker";
import { CommandResult, Workspace, containerIdByAgent, provideDefaultNodeImage, pulumiOnPath } from "../test/e2e/workspace";

const SUBJECT = "jarvis";
const DEV_IMAGE = "agent-fleet/sample-agent:dev";

/** What a row is compared with: a time of Docker's own, or a fixed goal. */
interface Row {
    readonly step: string;
    readonly wallMs: number;
    /** What the ratio divides by, and how long it took. */
    readonly baseline?: { readonly what: string; readonly ms: number };
    /** The goal, as a wall time or a ratio to the baseline. */
    readonly goal?: { readonly maxMs?: number; readonly maxRatio?: number };
}

/** From the container's creation to the end of its first passing probe. */
async function timeToHealthy(docker: Docker, id: string): Promise<number> {
    const info = await docker.getContainer(id).inspect();
    const created = Date.parse(info.Created);
    const log = (info.State.Health?.Log ?? []) as { End: string; ExitCode: number }[];
    const firstPass = log.find((entry) => entry.ExitCode === 0);
    if (!firstPass) throw new Error(`container ${id} has no passing probe in its health log`);
    return Date.parse(firstPass.End) - created;
}

function ok(result: CommandResult, what: string): CommandResult {
    if (result.exitCode !== 0) throw new Error(`${what} failed (exit ${result.exitCode}):\n${result.stderr.slice(-3000)}\n${result.stdout.slice(-3000)}`);
    return result;
}

function median(values: readonly number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
}

/** Every step on a fresh copy of `source`; the dev stack is destroyed afterwards. */
async function measure(docker: Docker, source: string | undefined): Promise<Row[]> {
    // The first deploy includes the image build.
    await dockerClient().getImage(DEV_IMAGE).remove({ force: true }).catch(() => undefined);
    const ws = await Workspace.create(source);
    const rows: Row[] = [];
    const healthyNow = async () => timeToHealthy(docker, (await containerIdByAgent())[SUBJECT]);
    try {
        const first = ok(await ws.npm("deploy:dev"), "first deploy");
        const ids = await containerIdByAgent();
        const slowest = Math.max(...await Promise.all(Object.values(ids).map((id) => timeToHealthy(docker, id))));
        rows.push({ step: "first dev deploy (5 agents, build included)", wallMs: first.ms, baseline: { what: "slowest container to healthy", ms: slowest } });
        rows.push({ step: "create-to-healthy of the sample agent, tier 2 defaults", wallMs: await timeToHealthy(docker, ids[SUBJECT]), goal: { maxMs: 3_000 } });

        const noop = ok(await ws.pulumi("up", "--yes"), "no-op up");
        rows.push({ step: "no-op `pulumi up` (preview + update)", wallMs: noop.ms });
        const noopFleet = ok(await ws.fleet("up", "--stack", "dev"), "no-op fleet up");
        rows.push({ step: "no-op `fleet up --stack dev` (preflight, update, verify)", wallMs: noopFleet.ms, goal: { maxMs: 5_000 } });

        await ws.setAgentField(SUBJECT, ["env"], { BENCH_REVISION: "2" });
        const change = ok(await ws.pulumi("up", "--yes", "--skip-preview"), "one-agent change");
        rows.push({ step: "one-agent change, `pulumi up` (create-first replace)", wallMs: change.ms, baseline: { what: "new container to healthy", ms: await healthyNow() } });

        await ws.setAgentField(SUBJECT, ["env", "FAIL_HEALTH"], "1");
        const broken = await ws.pulumi("up", "--yes", "--skip-preview");
        if (broken.exitCode === 0) throw new Error("the broken version deployed: the health gate did not hold");
        const { waitTimeoutMs } = await ws.agentSpec(SUBJECT);
        rows.push({ step: "broken version fails its health gate", wallMs: broken.ms, baseline: { what: "wait timeout", ms: waitTimeoutMs } });

        await ws.setAgentField(SUBJECT, ["env", "FAIL_HEALTH"], undefined);
        const recovery = ok(await ws.pulumi("up", "--yes", "--skip-preview"), "recovery");
        rows.push({ step: "recovery to the good config", wallMs: recovery.ms, baseline: { what: "new container to healthy", ms: await healthyNow() } });

        const releases = await ws.usePulledReleases(SUBJECT);
        const { good } = releases;
        const [repo] = good.split(":");
        await docker.getImage(good).tag({ repo, tag: "release-1.1.1" });
        for (const [image, step] of [[good, "`fleet up --agent` of one release (preflight, update, verify)"], [`${repo}:release-1.1.1`, "`fleet up --agent` of the next release"]]) {
            ok(await ws.fleet("release", SUBJECT, image, "--stack", "dev"), `fleet release ${image}`);
            const up = ok(await ws.fleet("up", "--stack", "dev", "--agent", SUBJECT), `fleet up ${image}`);
            rows.push({ step, wallMs: up.ms, baseline: { what: "new container to healthy", ms: await healthyNow() }, goal: { maxRatio: 1.3 } });
        }
        // The command returns once the previous image serves again, verified, and the old container is gone: its wall time is the MTTR.
        const rollback = ok(await ws.fleet("rollback", SUBJECT, "--stack", "dev", "--apply"), "fleet rollback --apply");
        rows.push({ step: "MTTR: `fleet rollback --apply` to the previous image", wallMs: rollback.ms, baseline: { what: "new container to healthy", ms: await healthyNow() }, goal: { maxMs: 10_000 } });

        ok(await ws.fleet("release", SUBJECT, releases.broken, "--stack", "dev"), "fleet release (broken)");
        const failed = await ws.fleet("up", "--stack", "dev", "--agent", SUBJECT);
        if (failed.exitCode !== 1 || !/rolled back/.test(failed.stdout)) throw new Error(`fleet up of a broken release did not roll back:\n${failed.stdout.slice(-3000)}\n${failed.stderr.slice(-3000)}`);
        rows.push({ step: "`fleet up` of a broken release: fails, rolls back, verifies", wallMs: failed.ms, baseline: { what: "wait timeout", ms: (await ws.agentSpec(SUBJECT)).waitTimeoutMs } });

        const checks: number[] = [];
        for (let i = 0; i < 5; i++) checks.push(ok(await ws.fleet("check", "--stack", "production"), "fleet check").ms);
        rows.push({ step: "`fleet check --stack production` (offline, median of 5)", wallMs: median(checks), goal: { maxMs: 1_000 } });
    } finally {
        await ws.pulumi("destroy", "--yes", "--skip-preview", "--run-program");
        await ws.remove();
    }
    return rows;
}

interface ScaleRow {
    readonly agents: number;
    /** How the agents probe: the defaults, or `healthcheck.startInterval` as long as `interval` (probing as before issue 25). */
    readonly probing: string;
    readonly wallMs: number;
    /** Containers' create-to-healthy, of those that turned healthy. */
    readonly slowestHealthyMs?: number;
    readonly medianHealthyMs?: number;
    /** Why the deploy failed, when it did. */
    readonly failed?: string;
}

/** `fleet up` of n identical tier 1 agents on the dev image, from nothing (no sentinel, no edge); destroyed afterwards. */
async function scale(docker: Docker, n: number, startInterval?: string): Promise<ScaleRow> {
    const ws = await Workspace.create();
    const probing = startInterval ? `startInterval ${startInterval} (off)` : "defaults";
    try {
        await ws.editFleet((doc) => {
            const agents = Object.fromEntries(Array.from({ length: n }, (_, i) => [`scale-${String(i + 1).padStart(3, "0")}`, { tier: 1, owner: "@acme/bench", port: 8080 }]));
            doc.setIn(["config", "agent-fleet:fleet"], doc.createNode({
                environment: "dev",
                agentDefaults: { image: DEV_IMAGE, build: false, memory: "128Mi", ...(startInterval ? { healthcheck: { startInterval } } : {}) },
                sentinel: { enabled: false },
                agents,
            }));
        });
        const up = await ws.fleet("up", "--stack", "dev", "--create-stack");
        const ids = Object.values(await containerIdByAgent());
        const healthy = (await Promise.all(ids.map((id) => timeToHealthy(docker, id).catch(() => undefined)))).filter((ms): ms is number => ms !== undefined);
        const failed = up.exitCode !== 0 ? (/fleet up: FAILED in [^:]*: ([^;\n]*)/.exec(up.stdout)?.[1] ?? `exit ${up.exitCode}`) : healthy.length !== n ? `${healthy.length} of ${n} healthy` : undefined;
        return {
            agents: n, probing, wallMs: up.ms, ...(failed ? { failed: `${failed} (${healthy.length} of ${n} healthy)` } : {}),
            ...(healthy.length > 0 ? { slowestHealthyMs: Math.max(...healthy), medianHealthyMs: median(healthy) } : {}),
        };
    } finally {
        await ws.pulumi("destroy", "--yes", "--skip-preview", "--run-program");
        await ws.remove();
    }
}

function verdict(row: Row): string {
    if (!row.goal) return "";
    if (row.goal.maxMs !== undefined) return `≤ ${(row.goal.maxMs / 1000).toFixed(0)} s: ${row.wallMs <= row.goal.maxMs ? "met" : "missed"}`;
    const ratio = row.wallMs / row.baseline!.ms;
    return `≤ ${row.goal.maxRatio}×: ${ratio <= row.goal.maxRatio! ? "met" : "missed"}`;
}

async function main(): Promise<void> {
    const cli = pulumiOnPath();
    if (!cli) throw new Error("no `pulumi` on PATH: run scripts/build-engine.sh and source .engine/env.sh");
    const docker = await requireDocker();
    await provideDefaultNodeImage();
    const before = process.env.BENCH_BEFORE ? await measure(docker, process.env.BENCH_BEFORE) : undefined;
    const after = await measure(docker, undefined);

    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const ratio = (row: Row) => (row.baseline ? (row.wallMs / row.baseline.ms).toFixed(2) : "");
    console.log(`\nReal-engine overhead (${cli}, Docker ${(await docker.version()).Version}${before ? `; before: ${process.env.BENCH_BEFORE}, in the same run` : ""})\n`);
    if (before) {
        console.log("| step | before | before ratio | now | baseline now | ratio now | goal |");
        console.log("|---|---:|---:|---:|---|---:|---|");
    } else {
        console.log("| step | wall time | baseline | ratio | goal |");
        console.log("|---|---:|---|---:|---|");
    }
    for (const row of after) {
        const base = row.baseline ? `${row.baseline.what}: ${s(row.baseline.ms)}` : "";
        const old = before?.find((r) => r.step === row.step);
        if (before) console.log(`| ${row.step} | ${old ? s(old.wallMs) : "-"} | ${old ? ratio(old) : ""} | ${s(row.wallMs)} | ${base} | ${ratio(row)} | ${verdict(row)} |`);
        else console.log(`| ${row.step} | ${s(row.wallMs)} | ${base} | ${ratio(row)} | ${verdict(row)} |`);
    }

    // How the cost grows; the largest size again probing only every interval, as before issue 25, to show what the probes cost there.
    const sizes = (process.env.BENCH_SCALE ?? "1,10,50").split(",").map(Number).filter((n) => n > 0);
    if (sizes.length === 0) return;
    const scaled: ScaleRow[] = [];
    for (const n of sizes) scaled.push(await scale(docker, n));
    scaled.push(await scale(docker, Math.max(...sizes), "10s"));
    console.log("\nHow the cost grows: `fleet up --create-stack` of n tier 1 agents from nothing\n");
    console.log("| agents | probing | wall time | per agent | each agent past the first | containers to healthy (median, slowest) | outcome |");
    console.log("|---:|---|---:|---:|---:|---:|---|");
    const [first] = scaled;
    for (const row of scaled) {
        const marginal = row.agents > first.agents ? s((row.wallMs - first.wallMs) / (row.agents - first.agents)) : "";
        const healthy = row.medianHealthyMs === undefined ? "-" : `${s(row.medianHealthyMs)}, ${s(row.slowestHealthyMs!)}`;
        console.log(`| ${row.agents} | ${row.probing} | ${s(row.wallMs)} | ${s(row.wallMs / row.agents)} | ${marginal} | ${healthy} | ${row.failed ? `FAILED: ${row.failed}` : "deployed and verified"} |`);
    }
}

main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
});
