/**
 * `fleet status` takes `--stack` like every other verb, repeated or
 * comma-separated for several stacks; the old `--stacks` keeps working for
 * workflows written before, without being offered in help.
 */
import { describe, expect, it } from "vitest";
import { REPO, fleet } from "../cli/project";

describe("fleet status --stack", () => {
    it("names every stack it was given, however it was given, and stops at the first unknown one with exit 2", async () => {
        for (const args of [["--stack", "dev", "--stack", "qa"], ["--stack", "dev,qa"], ["-s", "qa"], ["--stacks", "qa"]]) {
            const run = await fleet(["status", ...args, "--cwd", REPO]);
            expect(run.exitCode, args.join(" ")).toBe(2);
            expect(run.stderr).toContain('unknown stack "qa": stacks/Pulumi.qa.yaml does not exist');
        }
    }, 60_000);

    it("offers --stack in its help, as every verb that reads a stack does, and not --stacks", async () => {
        const help = await fleet(["status", "--help"]);
        expect(help.stdout).toMatch(/-s, --stack <name>/);
        expect(help.stdout).not.toContain("--stacks");
        for (const verb of ["check", "verify", "doctor", "up", "release", "flag", "rollback"]) {
            expect((await fleet([verb, "--help"])).stdout, verb).toMatch(/--stack <name>/);
        }
    }, 60_000);
});
