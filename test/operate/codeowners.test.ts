/**
 * `fleet codeowners` through the real bin, on copies of the repository: the
 * managed block from the agents' owner fields, lines outside it kept,
 * --check for CI, and an owner CODEOWNERS cannot take refused with its field.
 */
import * as fs from "fs";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { copyProject, fleet, removeProjects } from "../cli/project";

afterAll(removeProjects);

const codeowners = (dir: string) => path.join(dir, ".github", "CODEOWNERS");

function setOwner(dir: string, agent: string, owner: string): void {
    const file = path.join(dir, "stacks", "Pulumi.dev.yaml");
    const doc = parseDocument(fs.readFileSync(file, "utf8"));
    doc.setIn(["config", "agent-fleet:fleet", "agents", agent, "owner"], owner);
    fs.writeFileSync(file, doc.toString());
}

describe("fleet codeowners", () => {
    it.concurrent("the repository's CODEOWNERS matches its agents' owners", async () => {
        const run = await fleet(["codeowners", "--check"]);
        expect(run.stdout).toContain(".github/CODEOWNERS matches the agents' owners.");
        expect(run.exitCode).toBe(0);
    });

    it.concurrent("gives each build context the owners of the agents built from it, and keeps the lines around the block", async () => {
        const dir = copyProject();
        fs.mkdirSync(path.dirname(codeowners(dir)), { recursive: true });
        fs.writeFileSync(codeowners(dir), "* @acme/platform\n/docs/ @acme/writers\n");
        setOwner(dir, "jarvis", "@acme/new-owners");
        const run = await fleet(["codeowners", "--cwd", dir]);
        expect(run.exitCode, run.stderr).toBe(0);
        const text = fs.readFileSync(codeowners(dir), "utf8");
        expect(text.startsWith("* @acme/platform\n/docs/ @acme/writers\n\n# BEGIN agent-fleet")).toBe(true);
        // jarvis was @acme/assistants' only agent: its new owner takes that place.
        expect(text).toMatch(/^\/agents\/sample-agent\/ @acme\/growth @acme\/new-owners @acme\/research @acme\/sales-eng$/m);
        // Written once, it is current; a second run changes nothing.
        expect((await fleet(["codeowners", "--check", "--cwd", dir])).exitCode).toBe(0);
        expect((await fleet(["codeowners", "--cwd", dir])).stdout).toMatch(/^unchanged /);
    });

    it.concurrent("--check fails when an owner changed and the file did not", async () => {
        const dir = copyProject();
        setOwner(dir, "pesti", "@acme/someone-else");
        const run = await fleet(["codeowners", "--check", "--cwd", dir]);
        expect(run.exitCode).toBe(1);
        expect(run.stdout).toContain("run `npx fleet codeowners` and commit it");
    });

    it.concurrent("refuses an owner CODEOWNERS cannot take, naming the field, and writes nothing", async () => {
        const dir = copyProject();
        fs.mkdirSync(path.dirname(codeowners(dir)), { recursive: true });
        fs.copyFileSync(path.join(__dirname, "..", "..", ".github", "CODEOWNERS"), codeowners(dir));
        const before = fs.readFileSync(codeowners(dir), "utf8");
        setOwner(dir, "pesti", "Sales Engineering");
        const run = await fleet(["codeowners", "--cwd", dir]);
        expect(run.exitCode).toBe(2);
        expect(run.stderr).toContain('stacks/Pulumi.dev.yaml: fleet.agents.pesti.owner: expected a GitHub user, team or email CODEOWNERS accepts ("@acme/sales-eng"), got "Sales Engineering"');
        expect(fs.readFileSync(codeowners(dir), "utf8")).toBe(before);
    });
});
