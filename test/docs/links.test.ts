/**
 * Every relative link and #anchor in README.md and docs/ resolves: to a file
 * that exists and, with an anchor, to a heading in it. Checked with remark and
 * remark-validate-links. Its Node API checks headings in the linking file
 * only; handed a file set (as the remark CLI does), it also checks headings
 * in the other files, so each page is checked against every other.
 */
import { existsSync, promises as fsp } from "fs";
import * as os from "os";
import * as path from "path";
import { remark } from "remark";
import remarkValidateLinks from "remark-validate-links";
import { read } from "to-vfile";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, docFiles, readDoc } from "./files";

type VFile = Awaited<ReturnType<typeof read>>;
type Completer = (set: { valueOf(): VFile[] }) => Promise<void>;
type FileSet = Parameters<typeof remarkValidateLinks>[1];

/** The problems remark-validate-links finds in `files` (absolute paths), as `file:line:column: reason`. */
async function linkProblems(files: readonly string[], root: string): Promise<string[]> {
    let complete: Completer | undefined;
    const queue = [...files];
    const seen = new Set<string>();
    // What remark-validate-links asks of the CLI's file set: a completer to run once every file is parsed,
    // and the Markdown files that other files link to with an anchor, so their headings are known too.
    const fileSet = {
        use: (completer: Completer) => { complete = completer; },
        add: (file: VFile) => {
            const target = path.resolve(file.cwd, file.path);
            if (target.endsWith(".md")) queue.push(target);
        },
    };
    const processor = remark().use(remarkValidateLinks, { repository: false, root }, fileSet as unknown as FileSet);
    const parsed: VFile[] = [];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        // A linked file that does not exist is reported by the check itself, once every file is parsed.
        if (seen.has(next) || !existsSync(next)) continue;
        seen.add(next);
        const file = await read(next);
        await processor.run(processor.parse(file), file);
        parsed.push(file);
    }
    if (!complete) throw new Error("remark-validate-links took no file set: its API changed");
    await complete({ valueOf: () => parsed });
    return parsed
        .filter((file) => files.includes(path.resolve(file.cwd, file.path)))
        .flatMap((file) => file.messages.map((m) => `${path.relative(root, path.resolve(file.cwd, file.path))}:${m.line}:${m.column}: ${m.reason}`));
}

describe("links in README.md and docs/", () => {
    it("all resolve, anchors included", async () => {
        const problems = await linkProblems(docFiles().map((f) => path.join(ROOT, f)), ROOT);
        expect(problems, problems.join("\n")).toEqual([]);
    }, 30_000);

    it("README.md links to every page under docs/", () => {
        const readme = readDoc("README.md");
        const linked = new Set([...readme.matchAll(/\]\((docs\/[^)#\s]+)/g)].map((m) => m[1]));
        expect(docFiles().filter((f) => f.startsWith("docs/") && !linked.has(f))).toEqual([]);
    });
});

describe("the link check", () => {
    const dirs: string[] = [];
    afterAll(async () => {
        for (const dir of dirs) await fsp.rm(dir, { recursive: true, force: true });
    });

    it("reports a missing file (with or without an anchor), a missing heading, and a missing heading in another page", async () => {
        const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "agent-fleet-links-"));
        dirs.push(dir);
        await fsp.mkdir(path.join(dir, "docs"));
        await fsp.writeFile(path.join(dir, "README.md"), [
            "# Readme", "", "## Quickstart", "",
            "[ok](docs/page.md) [ok](docs/page.md#a-heading) [ok](#quickstart) [external](https://example.com/nowhere)", "",
            "[gone](docs/missing.md) [gone too](docs/missing-too.md#a-heading) [no heading](#nowhere) [no heading there](docs/page.md#nowhere)", "",
        ].join("\n"));
        await fsp.writeFile(path.join(dir, "docs", "page.md"), "# Page\n\n## A heading\n\n[back](../README.md#quickstart)\n");
        const problems = await linkProblems([path.join(dir, "README.md"), path.join(dir, "docs", "page.md")], dir);
        // A missing file linked with an anchor is reported twice: the file, and the heading in it.
        expect(problems).toHaveLength(5);
        expect(problems.join("\n")).toContain("Cannot find file `docs/missing.md`");
        expect(problems.join("\n")).toContain("Cannot find file `docs/missing-too.md`");
        expect(problems.join("\n")).toContain("Cannot find heading for `#nowhere`");
        expect(problems.join("\n")).toContain("Cannot find heading for `#nowhere` in `docs/page.md`");
    });
});
