/**
 * The project's TypeScript loader (loader/typescript.js), which the program
 * and the pack run through at deploy time: it transpiles without
 * type-checking (CI's `npm run typecheck` does that), and both Pulumi
 * entry points name it.
 */
import { execa } from "execa";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";

const ROOT = path.join(__dirname, "..", "..");

describe("the TypeScript loader", () => {
    it("runs a .ts file that has a type error, which only the type check refuses", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-loader-"));
        try {
            const file = path.join(dir, "typed.ts");
            fs.writeFileSync(file, 'const port: number = "8080" as unknown as string;\nconsole.log(`loaded ${typeof port}`);\n');
            const run = await execa(process.execPath, ["--require", path.join(ROOT, "loader", "register.js"), file], { reject: false, env: { FLEET_TS_CACHE: "0" } });
            expect(run.stderr).toBe("");
            expect(run.stdout).toBe("loaded string");
            const tsc = await execa(process.execPath, [require.resolve("typescript/bin/tsc"), "--noEmit", "--strict", file], { reject: false });
            expect(tsc.exitCode).not.toBe(0);
            expect(tsc.stdout).toContain("TS2322");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("is what Pulumi runs the program and the pack with, instead of its type-checking ts-node", () => {
        const project = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
        expect(project.runtime.options).toMatchObject({ typescript: false, nodeargs: "--require ./loader/register.js" });
        const pack = parse(fs.readFileSync(path.join(ROOT, "policies", "PulumiPolicy.yaml"), "utf8"));
        expect(pack.runtime.options).toMatchObject({ typescript: false });
        const main = JSON.parse(fs.readFileSync(path.join(ROOT, "policies", "package.json"), "utf8")).main;
        expect(fs.readFileSync(path.join(ROOT, "policies", main), "utf8")).toContain('require("../loader/typescript").register()');
    });
});
