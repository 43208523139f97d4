/**
 * Builds resolved specs through the real config loader, so component tests
 * start from what a user could actually write.
 */
import { AgentSpec, FleetConfigSource, FleetSpec, loadFleetConfig } from "../../config";

export function fleetSource(fleet: unknown, stack = "production", secretKeys: readonly string[] = []): FleetConfigSource {
    return {
        stack,
        stackFile: `stacks/Pulumi.${stack}.yaml`,
        fleet,
        secretKeyState: (key) => (secretKeys.includes(key) ? "secret" : "missing"),
    };
}

export function fleetSpec(fleet: unknown, stack = "production", secretKeys: readonly string[] = []): FleetSpec {
    return loadFleetConfig(fleetSource(fleet, stack, secretKeys));
}

/**
 * One agent resolved from the given fields (tier 1, port 8080 and a pinned image unless overridden), in a
 * fleet with `fleetFields` (an edge, say); the keys its secrets and webhooks name are set.
 */
export function agentSpec(fields: Record<string, unknown> = {}, stack = "production", fleetFields: Record<string, unknown> = {}): AgentSpec {
    const secrets = [
        ...Object.values((fields.secrets as Record<string, string> | undefined) ?? {}),
        ...((fields.webhooks as { secret: string }[] | undefined) ?? []).map((w) => w.secret),
    ];
    const spec = fleetSpec({ ...fleetFields, agents: { pesti: { tier: 1, port: 8080, image: "ghcr.io/acme/pesti:1.4.2", ...fields } } }, stack, secrets);
    return spec.agents[0];
}
