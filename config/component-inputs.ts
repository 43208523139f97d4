/**
 * What the Fleet and AgentService components register as their inputs: the
 * policy pack reads these to judge a stack in fleet-config terms. Declared
 * here, below both, so the pack never imports a component.
 */
import type { AgentSpec, FleetSpec } from "./spec";

/** An AgentService's registered inputs. */
export interface AgentServiceInputs {
    readonly agent: AgentSpec;
    /** Stack name, e.g. "production". */
    readonly stack: string;
    /** Display path of the stack file that lists the agent. */
    readonly stackFile: string;
}

/** The Fleet's registered inputs. */
export interface FleetInputs {
    readonly fleet: Pick<FleetSpec, "stack" | "stackFile" | "environment" | "channels" | "allowEmpty" | "webhookBaseUrl" | "sentinel" | "edge">;
}

/** The Fleet's registered inputs for a fleet spec; policy tests build theirs with this too. */
export function fleetInputsOf(spec: FleetSpec): FleetInputs {
    return {
        fleet: {
            stack: spec.stack, stackFile: spec.stackFile, environment: spec.environment, channels: spec.channels, allowEmpty: spec.allowEmpty,
            ...(spec.webhookBaseUrl === undefined ? {} : { webhookBaseUrl: spec.webhookBaseUrl }),
            ...(spec.sentinel === undefined ? {} : { sentinel: spec.sentinel }),
            ...(spec.edge === undefined ? {} : { edge: spec.edge }),
        },
    };
}
