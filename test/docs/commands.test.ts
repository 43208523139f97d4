import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { TIERS, renderTierTable, withTierTable } from "../config";

const README = path.join(__dirname, "..", "README.md");

describe("README", () => {
    it("has the tier table generated from config/tiers.ts (run `npm run docs` if this fails)", () => {
        const readme = fs.readFileSync(README, "utf8");
        expect(withTierTable(readme)).toBe(readme);
    });

    it("renders every tier's monitor window and rollout from the tier module", () => {
        const table = renderTierTable();
        for (const tier of Object.values(TIERS)) {
            expect(table).toContain(`| ${tier.tier} — ${tier.name} |`);
            expect(table).toContain(tier.monitorWindow);
        }
        const stages = TIERS[3].rolloutStages ?? [];
        expect(stages.length).toBeGreaterThan(0);
        for (const stage of stages) expect(table).toContain(stage.soak ? `${stage.stage} (soak ${stage.soak})` : stage.stage);
    });

    it("names the two commands a newcomer needs", () => {
        const readme = fs.readFileSync(README, "utf8");
        expect(readme).toContain("npm run deploy:dev");
        expect(readme).toContain("npm test");
        const scripts = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")).scripts;
        expect(scripts["deploy:dev"]).toBeDefined();
        expect(scripts.test).toBeDefined();
    });
});

/**
 * Every command line the README gives (code blocks and inline code) that runs
 * a Pulumi update or preview. A deploy that skips the policy pack is how a
 * plain-text credential once went through with exit 0: the README deploys
 * with `fleet up` (which always applies the pack), or with `pulumi up` that
 * names the pack and the stack's policy config.
 */
function readmeCommands(readme: string): string[] {
    // The user's part: "Real-engine tests" describes what the suites do, in the engine's own terms.
    readme = readme.slice(0, readme.indexOf("\n## Real-engine tests"));
    const blocks = [...readme.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1].replace(/\\\n\s*/g, " "));
    const inline = [...readme.replace(/```[\s\S]*?```/g, "").matchAll(/`([^`\n]+)`/g)].map((m) => m[1]);
    return [...blocks.flatMap((b) => b.split("\n")), ...inline].map((l) => l.replace(/^\$ /, "").trim()).filter(Boolean);
}

describe("README commands that touch a stack", () => {
    const readme = fs.readFileSync(README, "utf8");
    const commands = readmeCommands(readme);

    it("finds the README's deploy commands (the extraction itself works)", () => {
        expect(commands).toContain("npm run deploy:dev");
        expect(commands.some((c) => /^npx fleet up --stack \S+ --agent \S+/.test(c))).toBe(true);
    });

    it("deploys or previews a stack only with the policy pack: `fleet up`, or `pulumi up|preview` naming the pack and the stack's policy config", () => {
        // A command, not a mention: it names a stack ("a plain `pulumi up`" or "`pulumi preview --event-log`" in prose does not).
        const updates = commands.filter((c) => /\bpulumi\s+(up|preview|update)\b.*\s(--stack|-s)\b/.test(c) && !/^#/.test(c));
        expect(updates.length).toBeGreaterThan(0);
        for (const command of updates) {
            const stack = /--stack[ =]'?([\w-]+)/.exec(command)?.[1] ?? "<stack>";
            expect(command, command).toMatch(/--policy-pack policies\b/);
            if (stack !== "<stack>") expect(command, command).toContain(`--policy-pack-config stacks/policy.${stack}.json`);
        }
    });

    it("never deploys one agent with a raw `--target`: that is `fleet up --agent`", () => {
        expect(commands.filter((c) => /\bpulumi\b.*--target\b/.test(c))).toEqual([]);
    });
});
