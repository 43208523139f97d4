import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { fleetPolicies } from "../../policies/rules";
import type { FleetPolicy } from "../../policies/rules";
import { POLICY_TABLE_END, POLICY_TABLE_START, renderPolicyTable, withPolicyTable } from "../../scripts/docs/policy-table";

const PAGE = path.join(__dirname, "..", "..", "docs", "reference", "policies.md");

/** The page's generated block, markers included. */
function block(page: string): string {
    const start = page.indexOf(POLICY_TABLE_START);
    const end = page.indexOf(POLICY_TABLE_END);
    expect(start, "docs/reference/policies.md has the policy-table start marker").toBeGreaterThanOrEqual(0);
    expect(end, "docs/reference/policies.md has the policy-table end marker after the start").toBeGreaterThan(start);
    return page.slice(start, end + POLICY_TABLE_END.length);
}

/** Splits a table row at unescaped pipes. */
function cells(row: string): string[] {
    return row.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim());
}

describe("the policy reference (docs/reference/policies.md)", () => {
    it("is the table generated from the pack's own metadata (run `npm run docs` if this fails)", () => {
        const page = fs.readFileSync(PAGE, "utf8");
        expect(block(page)).toBe(renderPolicyTable());
        expect(withPolicyTable(page)).toBe(page);
    });

    it("lists every policy in fleetPolicies() exactly once, in the pack's order", () => {
        const names = fleetPolicies().map((p) => p.policy.name);
        expect(new Set(names).size).toBe(names.length);
        const rows = block(fs.readFileSync(PAGE, "utf8")).split("\n").filter((line) => line.startsWith("| `"));
        expect(rows.map((row) => cells(row)[0])).toEqual(names.map((name) => `\`${name}\``));
        for (const name of names) expect(rows.filter((row) => row.startsWith(`| \`${name}\` |`))).toHaveLength(1);
    });

    it("shows each policy's scope, default level, description and fix", () => {
        const table = renderPolicyTable();
        for (const { policy, appliesTo, fix } of fleetPolicies()) {
            expect(table).toContain(`| \`${policy.name}\` | ${appliesTo} | ${policy.enforcementLevel ?? "advisory"} | ${policy.description} | ${fix} |`);
        }
    });

    it("escapes pipes and line breaks so that a cell never splits the row", () => {
        const odd: FleetPolicy = {
            appliesTo: "tier 1 | tier 2",
            fix: "Set `a|b`\nor c.",
            policy: { name: "odd", description: "x | y", validateResource: () => undefined },
        };
        const row = renderPolicyTable([odd]).split("\n").find((line) => line.startsWith("| `odd`"))!;
        expect(row).toBe("| `odd` | tier 1 \\| tier 2 | advisory | x \\| y | Set `a\\|b` or c. |");
        expect(cells(row)).toHaveLength(5);
    });

    it("refuses a page without the markers", () => {
        expect(() => withPolicyTable("# no table here\n", undefined, "docs/reference/policies.md")).toThrow("docs/reference/policies.md has no policy-table markers");
    });
});
