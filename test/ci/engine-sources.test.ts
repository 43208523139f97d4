/**
 * scripts/engine.sh, the one command behind `npm run engine` and CI's engine
 * build: it accepts only the archives engine/sources.lock pins, and refuses a
 * missing, damaged or substituted one before building anything, naming the
 * file. (The build itself runs in CI on every landing: .ci/run.)
 */
import { execa } from "execa";
import { promises as fs, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../support/pulumi";

interface PinnedArchive {
    readonly sha256: string;
    readonly archive: string;
    readonly folder: string;
    readonly variable: string;
}

const LOCK = path.join(PROJECT_ROOT, "engine", "sources.lock");
const pinned: PinnedArchive[] = readFileSync(LOCK, "utf8").split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("#"))
    .map((line) => {
        const [sha256, archive, folder, variable] = line.trim().split(/\s+/);
        return { sha256, archive, folder, variable };
    });

const made: string[] = [];
afterAll(async () => { await Promise.all(made.map((dir) => fs.rm(dir, { recursive: true, force: true }))); });

/** A sources folder with a small stand-in archive per pin, and a lock that pins those stand-ins. */
async function fakeSources(): Promise<{ sources: string; project: string }> {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "agent-fleet-engine-src-"));
    made.push(root);
    const sources = path.join(root, "sources");
    const project = path.join(root, "project");
    await fs.mkdir(path.join(project, "engine"), { recursive: true });
    await fs.mkdir(path.join(project, "scripts"), { recursive: true });
    await fs.mkdir(sources);
    // The script under test, and a build step that only reports what it was handed.
    await fs.copyFile(path.join(PROJECT_ROOT, "scripts", "engine.sh"), path.join(project, "scripts", "engine.sh"));
    await fs.writeFile(path.join(project, "scripts", "build-engine.sh"), `env | grep '^ENGINE_' | sort\n`);
    const lock: string[] = [];
    const sums: string[] = [];
    for (const pin of pinned) {
        const content = path.join(root, "content");
        await fs.mkdir(path.join(content, pin.folder), { recursive: true });
        await fs.writeFile(path.join(content, pin.folder, "go.mod"), `module example.com/${pin.folder}\n`);
        await execa("tar", ["-czf", path.join(sources, pin.archive), "-C", content, pin.folder]);
        await fs.rm(content, { recursive: true });
        const { stdout } = await execa("sha256sum", [path.join(sources, pin.archive)]);
        const sha = stdout.split(" ")[0];
        lock.push(`${sha}  ${pin.archive}  ${pin.folder}  ${pin.variable}`);
        sums.push(`${sha}  ${pin.archive}`);
    }
    await fs.writeFile(path.join(project, "engine", "sources.lock"), `# test lock\n${lock.join("\n")}\n`);
    await fs.writeFile(path.join(sources, "SHA256SUMS"), `${sums.join("\n")}\n`);
    return { sources, project };
}

function run(project: string, sources: string) {
    return execa("bash", [path.join(project, "scripts", "engine.sh")], { cwd: project, reject: false, env: { FLEET_ENGINE_SOURCES: sources } });
}

describe("scripts/engine.sh (npm run engine)", () => {
    it("pins exactly the three sources the Go module proxy refuses", () => {
        expect(pinned.map((p) => p.variable).sort()).toEqual(["ENGINE_DOCKER_PROVIDER_SRC", "ENGINE_GITHUB_PROVIDER_SRC", "ENGINE_LANGUAGE_NODEJS_SRC"]);
        for (const pin of pinned) expect(pin.sha256).toMatch(/^[0-9a-f]{64}$/);
    });

    it("verifies, unpacks into .engine/src, and hands every source to the build, requiring all of them", async () => {
        const { sources, project } = await fakeSources();
        const result = await run(project, sources);
        expect(result.exitCode, result.stderr).toBe(0);
        for (const pin of pinned) {
            expect(result.stdout).toContain(`${pin.variable}=${path.join(project, ".engine", "src", pin.folder)}`);
            expect(readFileSync(path.join(project, ".engine", "src", pin.folder, "go.mod"), "utf8")).toContain(pin.folder);
        }
        expect(result.stdout).toContain("ENGINE_REQUIRE_ALL=1");
        // A second run finds them unpacked already.
        const again = await run(project, sources);
        expect(again.stdout).not.toContain("unpacked");
    });

    it("fails, naming the file, when an archive is missing", async () => {
        const { sources, project } = await fakeSources();
        const gone = pinned[1].archive;
        await fs.rm(path.join(sources, gone));
        const result = await run(project, sources);
        expect(result.exitCode).toBe(2);
        expect(result.stderr).toContain(`${path.join(sources, gone)} is missing`);
        expect(result.stdout).not.toContain("ENGINE_");
    });

    it("fails, naming the file, when an archive does not match its checksum", async () => {
        const { sources, project } = await fakeSources();
        const damaged = pinned[0].archive;
        await fs.appendFile(path.join(sources, damaged), "x");
        const result = await run(project, sources);
        expect(result.exitCode).toBe(2);
        expect(result.stderr).toMatch(new RegExp(`${damaged} has SHA-256 [0-9a-f]{64}; engine/sources.lock and SHA256SUMS pin [0-9a-f]{64} \\(a damaged or replaced archive\\)`));
        expect(result.stdout).not.toContain("ENGINE_");
    });

    it("refuses a folder whose SHA256SUMS lists other archives than the lock pins", async () => {
        const { sources, project } = await fakeSources();
        const sums = await fs.readFile(path.join(sources, "SHA256SUMS"), "utf8");
        await fs.writeFile(path.join(sources, "SHA256SUMS"), sums.replace(/^[0-9a-f]{64}/, "0".repeat(64)));
        const result = await run(project, sources);
        expect(result.exitCode).toBe(2);
        expect(result.stderr).toMatch(/SHA256SUMS has no line '[0-9a-f]{64} {2}\S+\.tar\.gz'/);
    });

    it("fails, naming the folder, when there are no sources at all", async () => {
        const { project } = await fakeSources();
        const result = await run(project, path.join(project, "nowhere"));
        expect(result.exitCode).toBe(2);
        expect(result.stderr).toContain(`no engine sources at ${path.join(project, "nowhere")}`);
    });
});
