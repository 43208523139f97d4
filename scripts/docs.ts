/** Regenerates the README's generated sections: `npm run docs`. */
import * as fs from "fs";
import * as path from "path";
import { withTierTable } from "../config/tiers-table";
import { withPolicyTable } from "../policies/rules/policy-table";

const readmePath = path.join(__dirname, "..", "README.md");
fs.writeFileSync(readmePath, withPolicyTable(withTierTable(fs.readFileSync(readmePath, "utf8"))));
console.log("README.md: tier and policy tables regenerated");
