/**
 * The commands the docs give. The README names the two a newcomer needs; and
 * every command line in README.md and docs/ (code blocks and inline code,
 * the generated CLI reference's examples included) that runs a Pulumi update
 * or preview applies the policy pack. A deploy that skips the pack is how a
 * plain-text credential once went through with exit 0: the docs deploy with
 * `fleet up` (which always applies the pack), or with `pulumi up` that names
 * the pack and the stack's policy config.
 */
import { describe, expect, it } from "vitest";
import { docFiles, readDoc as read } from "./files";

/** Every command line a page gives: each line of its code blocks (continuations joined), and its inline code. */
function commandsOf(page: string): string[] {
    const blocks = [...page.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1].replace(/\\\n\s*/g, " "));
    const inline = [...page.replace(/```[\s\S]*?```/g, "").matchAll(/`([^`\n]+)`/g)].map((m) => m[1]);
    return [...blocks.flatMap((b) => b.split("\n")), ...inline].map((l) => l.replace(/^\$ /, "").trim()).filter(Boolean);
}

/** A command, not a mention: it names a stack ("a plain `pulumi up`" or "`pulumi preview --event-log`" in prose does not). */
function isStackUpdate(command: string): boolean {
    return /\bpulumi\s+(up|preview|update)\b.*\s(--stack|-s)\b/.test(command) && !/^#/.test(command);
}

/** What a stack update must name to apply the pack at the stack's levels; undefined when it does. */
function missingPolicyPack(command: string): string | undefined {
    if (!/--policy-pack policies\b/.test(command)) return "--policy-pack policies";
    const stack = /--stack[ =]'?([\w-]+)/.exec(command)?.[1];
    if (stack && !command.includes(`--policy-pack-config stacks/policy.${stack}.json`)) return `--policy-pack-config stacks/policy.${stack}.json`;
    return undefined;
}

/**
 * Known gaps, each a command the docs give that breaks the rule, with where it
 * comes from. An entry that no longer occurs fails the test below: remove it.
 */
const KNOWN_GAPS: readonly { readonly command: string; readonly source: string }[] = [];

describe("the README", () => {
    const readme = read("README.md");
    const quickstart = readme.slice(readme.indexOf("## Quickstart"), readme.indexOf("\n## ", readme.indexOf("## Quickstart") + 1));

    it("names the two commands a newcomer needs in its Quickstart, and both exist", () => {
        expect(commandsOf(quickstart)).toEqual(expect.arrayContaining(["npm run deploy:dev", "npm test"]));
        const scripts = JSON.parse(read("package.json")).scripts;
        expect(scripts["deploy:dev"]).toBeDefined();
        expect(scripts.test).toBeDefined();
    });

    it("says how long the tests take", () => {
        expect(quickstart).toMatch(/`npm test`[^\n]*about \d+ minutes/);
    });
});

describe("doc commands that touch a stack", () => {
    const commands = docFiles().flatMap((file) => commandsOf(read(file)).map((command) => ({ file, command })));

    it("are found (the extraction itself works)", () => {
        const all = commands.map((c) => c.command);
        expect(all).toContain("npm run deploy:dev");
        expect(all.some((c) => /^npx fleet up --stack \S+ --agent \S+/.test(c))).toBe(true);
        expect(commands.filter((c) => isStackUpdate(c.command)).length).toBeGreaterThan(0);
    });

    it("deploy or preview a stack only with the policy pack: `fleet up`, or `pulumi up|preview` naming the pack and the stack's policy config", () => {
        const known = new Set(KNOWN_GAPS.map((gap) => gap.command));
        const breaking = commands
            .filter((c) => isStackUpdate(c.command) && !known.has(c.command))
            .flatMap((c) => {
                const missing = missingPolicyPack(c.command);
                return missing ? [`${c.file}: \`${c.command}\` lacks ${missing}`] : [];
            });
        expect(breaking).toEqual([]);
    });

    it("list only known gaps that still occur", () => {
        const all = new Set(commands.map((c) => c.command));
        for (const gap of KNOWN_GAPS) {
            expect(all.has(gap.command), `fixed? remove it from KNOWN_GAPS: ${gap.source}`).toBe(true);
            expect(missingPolicyPack(gap.command), gap.source).toBeDefined();
        }
    });

    it("never deploy one agent with a raw `--target`: that is `fleet up --agent`", () => {
        expect(commands.filter((c) => /\bpulumi\b.*--target\b/.test(c.command))).toEqual([]);
    });
});
