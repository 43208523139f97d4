/** The documentation this suite checks: README.md and every page under docs/. */
import * as fs from "fs";
import * as path from "path";

export const ROOT = path.join(__dirname, "..", "..");

export function readDoc(file: string): string {
    return fs.readFileSync(path.join(ROOT, file), "utf8");
}

/** README.md and every Markdown page under docs/, relative to the project root. */
export function docFiles(): string[] {
    const walk = (dir: string): string[] => fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
        const file = `${dir}/${entry.name}`;
        return entry.isDirectory() ? walk(file) : entry.name.endsWith(".md") ? [file] : [];
    });
    return ["README.md", ...walk("docs").sort()];
}
