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
