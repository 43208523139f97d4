/**
 * The policy reference (docs/reference/policies.md), rendered from the
 * policies' own metadata (name, description, enforcement level, appliesTo,
 * fix), so the docs can never drift from the pack. The pack itself never
 * loads this file.
 */
import { fleetPolicies } from "../../policies/rules";
import type { FleetPolicy } from "../../policies/rules";
import { block, markers, replaceBlock, tableCell } from "./blocks";

export { tableCell };

export const POLICY_TABLE = "policy-table";
export const { start: POLICY_TABLE_START, end: POLICY_TABLE_END } = markers(POLICY_TABLE);

/** The level a policy runs at when no policy config overrides it (a PolicyPack's default is advisory). */
export function defaultLevel(fleetPolicy: FleetPolicy): string {
    return fleetPolicy.policy.enforcementLevel ?? "advisory";
}

export function renderPolicyTable(policies: readonly FleetPolicy[] = fleetPolicies()): string {
    const rows = policies.map((p) => `| ${[`\`${p.policy.name}\``, p.appliesTo, defaultLevel(p), p.policy.description, p.fix].map(tableCell).join(" | ")} |`);
    return block(POLICY_TABLE, [
        "| policy | applies to | default level | what it checks | how to fix |",
        "|---|---|---|---|---|",
        ...rows,
    ].join("\n"));
}

/** Replaces the generated block in a page, or throws if the markers are missing. */
export function withPolicyTable(page: string, policies?: readonly FleetPolicy[], file?: string): string {
    return replaceBlock(page, POLICY_TABLE, renderPolicyTable(policies), file);
}
