/** Regenerates the README's generated sections: `npm run docs`. */
import * as fs from "fs";
import * as path from "path";
import { withTierTable } from "../config/tiers-table";

const readmePath = path.join(__dirname, "..", "README.md");
fs.writeFileSync(readmePath, withTierTable(fs.readFileSync(readmePath, "utf8")));
console.log("README.md: tier table regenerated");
