/**
 * Every verb that reaches a stack's backend, through the real bin, when the
 * backend, the stack or the passphrase is not there: a clear message with its
 * fix and exit 2, never a stack trace; `fleet doctor` lists the same problems
 * (exit 1). And the dev stack works with no exports at all: Pulumi.yaml names
 * its backend, stacks/dev.env its passphrase.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { copyProject, fleet, initStack, removeProjects } from "../cli/project";
import { pulumiOnPath } from "../e2e/workspace";
import { skipUnlessAvailable } from "../support/requirements";

afterAll(removeProjects);

const withoutPulumi = skipUnlessAvailable("test/operate/stack-access", pulumiOnPath() ? [] : ["a `pulumi` CLI on PATH"]);

/** The verbs that need the stack in its backend, with what makes each reach it. */
const VERBS: readonly (readonly string[])[] = [
    ["up", "--stack", "staging"],
    ["verify", "--stack", "staging"],
    ["rollback", "jarvis", "--stack", "staging", "--apply"],
];

function expectClearRefusal(run: { exitCode: number; stdout: string; stderr: string }, pattern: RegExp, what: string): void {
    expect(run.exitCode, `${what}\n${run.stdout}\n${run.stderr}`).toBe(2);
    const last = run.stderr.trim().split("\n").at(-1) ?? "";
    expect(last, what).toMatch(pattern);
    expect(last, what).toMatch(/ Fix: /);
    expect(run.stderr, what).not.toMatch(/\n\s+at |internal error|CommandError/);
}

describe.skipIf(withoutPulumi)("reaching a stack", () => {
    it.concurrent("no backend at all (no PULUMI_BACKEND_URL, no backend.url, no login): every verb exits 2 with the fix", async () => {
        const dir = copyProject();
        // A project without backend.url, and a Pulumi home with no stored login.
        fs.rmSync(path.join(dir, "Pulumi.yaml"));
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), fs.readFileSync(path.join(__dirname, "../../Pulumi.yaml"), "utf8").replace(/^backend:\n {2}url: .*\n/m, ""));
        // A Pulumi home with no stored login, that still finds the CLI the `pulumi` launcher runs (and its plugins).
        const home = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-pulumi-home-"));
        for (const dir of ["versions", "plugins"]) {
            const real = path.join(process.env.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi"), dir);
            if (fs.existsSync(real)) fs.symlinkSync(real, path.join(home, dir));
        }
        const env = { PULUMI_BACKEND_URL: "", PULUMI_HOME: home, PULUMI_CONFIG_PASSPHRASE: "x" };
        try {
            for (const verb of VERBS) {
                expectClearRefusal(await fleet([...verb, "--cwd", dir], { env }), /^stack staging: no Pulumi backend to read it from/, verb.join(" "));
            }
        } finally {
            fs.rmSync(home, { recursive: true, force: true });
        }
    });

    it.concurrent("a backend folder that does not exist, and a stack the backend does not hold: exit 2, each with its fix", async () => {
        const dir = copyProject();
        for (const verb of VERBS) {
            const unreachable = await fleet([...verb, "--cwd", dir], { env: { PULUMI_BACKEND_URL: "file:///nonexistent/fleet-state", PULUMI_CONFIG_PASSPHRASE: "x" } });
            expectClearRefusal(unreachable, /^stack staging: the backend file:\/\/\/nonexistent\/fleet-state cannot be reached: unable to open state directory/, verb.join(" "));
            const missing = await fleet([...verb, "--cwd", dir], { env: { PULUMI_CONFIG_PASSPHRASE: "x" } });
            expectClearRefusal(missing, /^stack staging does not exist in the backend Pulumi.yaml names \(backend.url\)\./, verb.join(" "));
        }
        const doctor = await fleet(["doctor", "--stack", "staging", "--cwd", dir, "--json"], { env: { PULUMI_CONFIG_PASSPHRASE: "x" } });
        expect(doctor.exitCode).toBe(1);
        expect(JSON.parse(doctor.stdout).findings).toContainEqual(expect.objectContaining({ check: "backend", ok: false, detail: expect.stringMatching(/^stack staging does not exist in/) }));
    });

    it.concurrent("a stack whose passphrase is not set: exit 2 for every verb that deploys or reads its outputs, and doctor says so", async () => {
        const dir = copyProject();
        const env = { ...(await initStack(dir, "staging")), PULUMI_CONFIG_PASSPHRASE: "" };
        for (const verb of VERBS) {
            expectClearRefusal(await fleet([...verb, "--cwd", dir], { env }), /^stack staging: its secrets need a passphrase, and none is set\./, verb.join(" "));
        }
        const doctor = await fleet(["doctor", "--stack", "staging", "--cwd", dir, "--json"], { env });
        expect(JSON.parse(doctor.stdout).findings).toContainEqual({
            check: "backend", ok: false, detail: "the stack's secrets need a passphrase, and none is set",
            fix: "export PULUMI_CONFIG_PASSPHRASE=<the stack's passphrase>, or put it in stacks/staging.env",
        });
    });

    it.concurrent("a wrong passphrase: doctor says it does not open the stack's secrets", async () => {
        const dir = copyProject();
        const env = await initStack(dir, "staging");
        const set = await execa("pulumi", ["config", "set", "--secret", "openaiApiKey", "SEEDED-access-secret", "--stack", "staging"], { cwd: dir, env });
        expect(set.exitCode).toBe(0);
        const doctor = await fleet(["doctor", "--stack", "staging", "--cwd", dir, "--json"], { env: { ...env, PULUMI_CONFIG_PASSPHRASE: "not-the-passphrase" } });
        expect(JSON.parse(doctor.stdout).findings).toContainEqual(expect.objectContaining({ check: "backend", ok: false, detail: "stack staging: the passphrase does not open its secrets." }));
        expect(doctor.stdout).not.toContain("SEEDED-access-secret");
    });

    it.concurrent("dev needs no exports: Pulumi.yaml names its backend (.pulumi-state/) and stacks/dev.env its passphrase", async () => {
        const dir = copyProject();
        const env = { PULUMI_BACKEND_URL: "", PULUMI_CONFIG_PASSPHRASE: "", PULUMI_CONFIG_PASSPHRASE_FILE: "" };
        const created = await execa("pulumi", ["stack", "init", "dev"], { cwd: dir, env: { ...env, PULUMI_CONFIG_PASSPHRASE: "dev", PULUMI_SKIP_UPDATE_CHECK: "true" }, reject: false });
        expect(created.exitCode, created.stderr).toBe(0);
        const doctor = await fleet(["doctor", "--stack", "dev", "--cwd", dir, "--json"], { env });
        const findings = JSON.parse(doctor.stdout).findings as { check: string; ok: boolean; detail: string }[];
        expect(findings.filter((f) => f.check === "backend")).toEqual([{ check: "backend", ok: true, detail: "file://./.pulumi-state holds stack dev" }]);
        // (Other stacks named dev on this engine, such as a running test's, are only noted.)
        expect(findings.filter((f) => f.check === "lock")).toContainEqual({ check: "lock", ok: true, detail: "no fleet operation holds the stack" });
        expect(findings.every((f) => f.ok)).toBe(true);
        // And the Quickstart's plain Pulumi commands, through `npm run pulumi -- …` (scripts/pulumi.js): a secret set and read back.
        const pulumi = (...args: string[]) => execa(process.execPath, [path.join(__dirname, "../../scripts/pulumi.js"), ...args], { cwd: dir, env: { ...process.env, ...env }, reject: false });
        const set = await pulumi("config", "set", "--secret", "quickstartProbe", "SEEDED-quickstart", "--stack", "dev");
        expect(set.exitCode, set.stderr).toBe(0);
        const read = await pulumi("config", "get", "quickstartProbe", "--stack", "dev");
        expect(read.exitCode, read.stderr).toBe(0);
        expect(read.stdout.trim()).toBe("SEEDED-quickstart");
        // Without the env file, the same read needs the passphrase, and Pulumi says so: the file is what made it work.
        fs.rmSync(path.join(dir, "stacks", "dev.env"));
        expect((await pulumi("config", "get", "quickstartProbe", "--stack", "dev")).exitCode).not.toBe(0);
    });
});
