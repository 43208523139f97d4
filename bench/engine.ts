/**
 * The real engine's overhead on the dev fleet: wall time of the operations a
 * team runs every day, each next to the time the container itself took to
 * turn healthy (its first passing health probe after it was created). The
 * ratio is what Pulumi, the provider and the program add on top of Docker.
 *
 *   npm run bench:engine       (needs `pulumi` on PATH and a Docker engine)
 *
 * Steps: the first dev deploy (five agents, the image build included), a
 * no-op `up`, a one-agent change, a broken version failing its health gate,
 * and the recovery to the good config. Then the operating commands on an
 * agent that pulls its releases, as staging and production do: `fleet up
 * --agent` of one release, `fleet rollback --apply` (MTTR: from the command
 * to the agent serving its previous image again), and `fleet up` of a broken
 * release, which rolls back by itself. Figures are reported, never enforced.
 */
import Docker from "dockerode";
import { dockerClient, requireDocker } from "../test/support/docker";
import { CommandResult, Workspace, containerIdByAgent, provideDefaultNodeImage, pulumiOnPath } from "../test/e2e/workspace";

const SUBJECT = "jarvis";
const DEV_IMAGE = "agent-fleet/sample-agent:dev";

interface Row {
    readonly step: string;
    readonly wallMs: number;
    /** What the ratio divides by, and how long it took. */
    readonly baseline: { readonly what: string; readonly ms: number };
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

async function main(): Promise<void> {
    const cli = pulumiOnPath();
    if (!cli) throw new Error("no `pulumi` on PATH: run scripts/build-engine.sh and source .engine/env.sh");
    const docker = await requireDocker();
    await provideDefaultNodeImage();
    // The first deploy includes the image build.
    await dockerClient().getImage(DEV_IMAGE).remove({ force: true }).catch(() => undefined);
    const ws = await Workspace.create();
    const rows: Row[] = [];
    try {
        const first = ok(await ws.npm("deploy:dev"), "first deploy");
        const ids = await containerIdByAgent();
        const slowest = Math.max(...await Promise.all(Object.values(ids).map((id) => timeToHealthy(docker, id))));
        rows.push({ step: "first dev deploy (5 agents, build included)", wallMs: first.ms, baseline: { what: "slowest container to healthy", ms: slowest } });

        const noop = ok(await ws.pulumi("up", "--yes"), "no-op up");
        rows.push({ step: "no-op `up` (preview + update)", wallMs: noop.ms, baseline: { what: "slowest container to healthy", ms: slowest } });

        await ws.setAgentField(SUBJECT, ["env"], { BENCH_REVISION: "2" });
        const change = ok(await ws.pulumi("up", "--yes", "--skip-preview"), "one-agent change");
        const changedHealthy = await timeToHealthy(docker, (await containerIdByAgent())[SUBJECT]);
        rows.push({ step: "one-agent change (create-first replace)", wallMs: change.ms, baseline: { what: "new container to healthy", ms: changedHealthy } });

        await ws.setAgentField(SUBJECT, ["env", "FAIL_HEALTH"], "1");
        const broken = await ws.pulumi("up", "--yes", "--skip-preview");
        if (broken.exitCode === 0) throw new Error("the broken version deployed: the health gate did not hold");
        const { waitTimeoutMs } = await ws.agentSpec(SUBJECT);
        rows.push({ step: "broken version fails its health gate", wallMs: broken.ms, baseline: { what: "wait timeout", ms: waitTimeoutMs } });

        await ws.setAgentField(SUBJECT, ["env", "FAIL_HEALTH"], undefined);
        const recovery = ok(await ws.pulumi("up", "--yes", "--skip-preview"), "recovery");
        const recoveredHealthy = await timeToHealthy(docker, (await containerIdByAgent())[SUBJECT]);
        rows.push({ step: "recovery to the good config", wallMs: recovery.ms, baseline: { what: "new container to healthy", ms: recoveredHealthy } });

        const releases = await ws.usePulledReleases(SUBJECT);
        const { good } = releases;
        const [repo] = good.split(":");
        await docker.getImage(good).tag({ repo, tag: "release-1.1.1" });
        for (const [image, step] of [[good, "`fleet up --agent` of one release (preflight, update, verify)"], [`${repo}:release-1.1.1`, "`fleet up --agent` of the next release"]]) {
            ok(await ws.fleet("release", SUBJECT, image, "--stack", "dev"), `fleet release ${image}`);
            const up = ok(await ws.fleet("up", "--stack", "dev", "--agent", SUBJECT), `fleet up ${image}`);
            rows.push({ step, wallMs: up.ms, baseline: { what: "new container to healthy", ms: await timeToHealthy(docker, (await containerIdByAgent())[SUBJECT]) } });
        }
        // The command returns once the previous image serves again, verified: its wall time is the MTTR.
        const rollback = ok(await ws.fleet("rollback", SUBJECT, "--stack", "dev", "--apply"), "fleet rollback --apply");
        rows.push({ step: "MTTR: `fleet rollback --apply` to the previous image", wallMs: rollback.ms, baseline: { what: "new container to healthy", ms: await timeToHealthy(docker, (await containerIdByAgent())[SUBJECT]) } });

        ok(await ws.fleet("release", SUBJECT, releases.broken, "--stack", "dev"), "fleet release (broken)");
        const failed = await ws.fleet("up", "--stack", "dev", "--agent", SUBJECT);
        if (failed.exitCode !== 1 || !failed.stdout.includes(`rolled back to ${good}; verified`)) throw new Error(`fleet up of a broken release did not roll back:\n${failed.stdout.slice(-3000)}\n${failed.stderr.slice(-3000)}`);
        rows.push({ step: "`fleet up` of a broken release: fails, rolls back, verifies", wallMs: failed.ms, baseline: { what: "wait timeout", ms: (await ws.agentSpec(SUBJECT)).waitTimeoutMs } });
    } finally {
        await ws.pulumi("destroy", "--yes", "--skip-preview", "--run-program");
        await ws.remove();
    }

    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(`\nReal-engine overhead (${cli}, Docker ${(await docker.version()).Version})\n`);
    console.log("| step | wall time | baseline | baseline time | ratio |");
    console.log("|---|---:|---|---:|---:|");
    for (const row of rows) {
        console.log(`| ${row.step} | ${s(row.wallMs)} | ${row.baseline.what} | ${s(row.baseline.ms)} | ${(row.wallMs / row.baseline.ms).toFixed(2)} |`);
    }
}

main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
});
