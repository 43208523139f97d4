/**
 * `fleet flag` through the real bin, on copies of the repository's stack
 * files: one stage at a time, soaks checked against the recorded history,
 * forced moves recorded, moving back always allowed, and a refused move
 * writes nothing.
 */
import * as fs from "fs";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { parse, parseDocument } from "yaml";
import { copyProject, fleet, removeProjects } from "../cli/project";

afterAll(removeProjects);

const HOUR = 3_600_000;
const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString().replace(/\.\d{3}Z$/, "Z");
const file = (dir: string, stack: string) => path.join(dir, "stacks", `Pulumi.${stack}.yaml`);

/** A copy of the project whose staging pesti flag `smart-followups` is at `stage`, with the given history. */
function stagingAt(stage: string, history?: { stage: string; since: string; forced?: boolean }[]): string {
    const dir = copyProject();
    const doc = parseDocument(fs.readFileSync(file(dir, "staging"), "utf8"));
    const at = ["config", "agent-fleet:fleet", "agents", "pesti", "featureFlags", 0];
    doc.setIn([...at, "currentStage"], stage);
    if (history) doc.setIn([...at, "history"], doc.createNode(history));
    fs.writeFileSync(file(dir, "staging"), doc.toString({ flowCollectionPadding: false }));
    return dir;
}

/** The flag as the file says now. */
function flagIn(dir: string, stack = "staging"): { name: string; currentStage: string; history?: { stage: string; since: string; forced?: boolean }[] } {
    return (parse(fs.readFileSync(file(dir, stack), "utf8")) as any).config["agent-fleet:fleet"].agents.pesti.featureFlags[0];
}

const move = (dir: string, stage: string, ...extra: string[]) => fleet(["flag", "pesti", "smart-followups", "--stage", stage, "--stack", "staging", "--cwd", dir, ...extra]);

describe("fleet flag", () => {
    it.concurrent("moves to the next stage once the current one has soaked, and records when it began", async () => {
        const dir = stagingAt("10%", [{ stage: "team", since: iso(40 * HOUR) }, { stage: "10%", since: iso(25 * HOUR) }]);
        const run = await move(dir, "next", "--json");
        expect(run.exitCode, run.stderr).toBe(0);
        const json = JSON.parse(run.stdout);
        expect(json).toMatchObject({ agent: "pesti", flag: "smart-followups", from: "10%", to: "100%", forced: false, overrode: [] });
        const flag = flagIn(dir);
        expect(flag.currentStage).toBe("100%");
        expect(flag.history?.map((r) => r.stage)).toEqual(["team", "10%", "100%"]);
        expect(flag.history?.at(-1)).toEqual({ stage: "100%", since: json.since });
        // Quoted, so that YAML 1.1 readers see a string, not a timestamp.
        expect(fs.readFileSync(file(dir, "staging"), "utf8")).toContain(`since: "${json.since}"`);
    });

    it.concurrent("refuses to leave a stage before its soak is over, and writes nothing", async () => {
        const dir = stagingAt("10%", [{ stage: "10%", since: iso(2 * HOUR) }]);
        const before = fs.readFileSync(file(dir, "staging"), "utf8");
        const run = await move(dir, "next");
        expect(run.exitCode).toBe(2);
        expect(run.stderr).toMatch(/^stacks\/Pulumi\.staging\.yaml: fleet\.agents\.pesti\.featureFlags: moving "smart-followups" to 100% leaves 10% after 2h of its 24h soak \(since .*\)\. Pass --force/);
        expect(fs.readFileSync(file(dir, "staging"), "utf8")).toBe(before);
    });

    it.concurrent("refuses to skip a stage; --force does it and records that it was forced", async () => {
        const dir = stagingAt("team", [{ stage: "team", since: iso(5 * HOUR) }]);
        const refused = await move(dir, "100%");
        expect(refused.exitCode).toBe(2);
        expect(refused.stderr).toContain("moving \"smart-followups\" to 100% skips 10% (team → 100%; the rollout is off → team → 10% → 100%)");
        const forced = await move(dir, "100%", "--force");
        expect(forced.exitCode, forced.stderr).toBe(0);
        expect(forced.stdout).toContain("Forced: it skips 10%");
        expect(flagIn(dir).history?.at(-1)).toMatchObject({ stage: "100%", forced: true });
    });

    it.concurrent("moves back towards off at any time: the tier 3 rollback", async () => {
        const dir = stagingAt("10%", [{ stage: "10%", since: iso(HOUR) }]);
        const run = await move(dir, "off");
        expect(run.exitCode, run.stderr).toBe(0);
        expect(flagIn(dir)).toMatchObject({ currentStage: "off" });
    });

    it.concurrent("without a record of when the current stage began, the soak cannot be checked: it needs --force", async () => {
        const dir = stagingAt("team");
        const run = await move(dir, "next");
        expect(run.exitCode).toBe(2);
        expect(run.stderr).toContain("has no record of when team began, so its 4h soak cannot be checked");
    });

    it.concurrent("a flag declared only in the catalog gets this stack's own copy of the list, then moves", async () => {
        const dir = copyProject();
        const doc = parseDocument(fs.readFileSync(file(dir, "dev"), "utf8"));
        doc.deleteIn(["config", "agent-fleet:fleet", "agents", "pesti", "featureFlags"]);
        fs.writeFileSync(file(dir, "dev"), doc.toString());
        const run = await fleet(["flag", "pesti", "smart-followups", "--stage", "team", "--stack", "dev", "--cwd", dir]);
        expect(run.exitCode, run.stderr).toBe(0);
        expect(flagIn(dir, "dev")).toMatchObject({ name: "smart-followups", currentStage: "team", history: [{ stage: "team" }] });
    });

    it.concurrent("names the agent's flags for an unknown flag, and the stages for an unknown stage", async () => {
        const dir = copyProject();
        const unknown = await fleet(["flag", "pesti", "smart-replies", "--stage", "next", "--stack", "staging", "--cwd", dir]);
        expect(unknown.exitCode).toBe(2);
        expect(unknown.stderr.trim()).toBe('stacks/Pulumi.staging.yaml: fleet.agents.pesti.featureFlags: no flag "smart-replies" (flags: smart-followups)');
        const stage = await move(dir, "50%");
        expect(stage.exitCode).toBe(2);
        expect(stage.stderr.trim()).toBe('stacks/Pulumi.staging.yaml: fleet.agents.pesti.featureFlags: expected "next" or one of the flag\'s stages (off, team, 10%, 100%), got "50%"');
    });
});
