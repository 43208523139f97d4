// Shared inputs for the config tests: one valid source that every error case,
// precedence case and fuzz run starts from and changes one thing in.
import { expect } from "vitest";
import { ConfigProblem, FleetConfigError, FleetConfigSource, FleetSpec, SecretKeyState, loadFleetConfig } from "../../config";

export const STACK_FILE = "stacks/Pulumi.production.yaml";
export const CATALOG_FILE = "stacks/catalog.yaml";

/**
 * What the secret store of the test stack holds. The loader never sees these
 * values; they are seeded so tests can prove that no message repeats one, even
 * when a user pastes a value where a key name belongs. Each value contains a
 * character a config key name cannot ("/", "+", "=", ":"), as real tokens and
 * webhook URLs do.
 */
export const SECRET_VALUES: Readonly<Record<string, string>> = {
    openaiApiKey: "sk-test/Zm9vYmFy+c2VlZA==",
    calendarToken: "cal:7d21b4e0c9a1/seed",
    opsSlackWebhookUrl: "https://hooks.slack.com/services/T000SEED/B000SEED/seedSlackToken123",
    pagerSigningSecret: "sig:4f9c2e7a1b/seed=",
};

/** A FleetConfigSource whose parts tests may change freely (the real one is readonly). */
export interface Draft {
    stack: string;
    stackFile: string;
    fleet: any;
    catalog?: { file: string; value: any };
    secretKeyState: (key: string) => SecretKeyState;
}

/** Every key in SECRET_VALUES is set as a secret; anything else is missing. */
export function secretStore(overrides: Readonly<Record<string, SecretKeyState>> = {}): (key: string) => SecretKeyState {
    return (key) => overrides[key] ?? (Object.prototype.hasOwnProperty.call(SECRET_VALUES, key) ? "secret" : "missing");
}

export function validCatalog(): any {
    return {
        agents: {
            pesti: {
                tier: 3,
                owner: "@acme/sales-eng",
                port: 8080,
                healthcheck: { path: "/health", interval: "10s", timeout: "3s", retries: 3, startPeriod: "15s" },
                env: { LOG_LEVEL: "info" },
                memory: "512Mi",
                cpus: 0.5,
                smokeChecks: [{ name: "reply to a lead", method: "POST", path: "/v1/reply", body: "{\"message\":\"hi\"}", expectStatus: 200 }],
                featureFlags: [{ name: "smart-followups" }],
            },
            jarvis: {
                tier: 2,
                owner: "@acme/assistants",
                port: 8080,
                env: { LOG_LEVEL: "info" },
                memory: "256Mi",
                cpus: 0.25,
                smokeChecks: [{ name: "health", path: "/health" }],
            },
        },
    };
}

export function validFleet(): any {
    return {
        environment: "production",
        channels: {
            "ops-slack": { type: "slack", urlSecret: "opsSlackWebhookUrl", minSeverity: "warning" },
        },
        agents: {
            pesti: {
                image: "ghcr.io/acme/pesti:1.4.2",
                rollbackImage: "ghcr.io/acme/pesti:1.4.1",
                secrets: { OPENAI_API_KEY: "openaiApiKey" },
                alertChannels: ["ops-slack"],
                monitorWindow: "4h",
                featureFlags: [{ name: "smart-followups", currentStage: "team" }],
            },
            jarvis: {
                image: "ghcr.io/acme/jarvis:2.2.4",
                rollbackImage: "ghcr.io/acme/jarvis:2.2.3",
                secrets: { CALENDAR_TOKEN: "calendarToken" },
                alertChannels: ["ops-slack"],
            },
        },
    };
}

/** The happy path: stack "production", a two-agent catalog, every secret key set as a secret. */
export function validSource(): Draft {
    return {
        stack: "production",
        stackFile: STACK_FILE,
        fleet: validFleet(),
        catalog: { file: CATALOG_FILE, value: validCatalog() },
        secretKeyState: secretStore(),
    };
}

/** A valid source with one change applied. */
export function sourceWith(mutate: (source: Draft) => void): Draft {
    const source = validSource();
    mutate(source);
    return source;
}

export function load(source: Draft): FleetSpec {
    return loadFleetConfig(source as FleetConfigSource);
}

/** The FleetConfigError a source throws; fails the test when it loads or throws anything else. */
export function errorOf(source: Draft): FleetConfigError {
    let thrown: unknown;
    try {
        load(source);
    } catch (error) {
        thrown = error;
    }
    expect(thrown, "expected loadFleetConfig to throw").toBeInstanceOf(FleetConfigError);
    return thrown as FleetConfigError;
}

/** The problems a source has: [] when it loads, so a row expecting problems shows a readable diff. */
export function problemsOf(source: Draft): ConfigProblem[] {
    try {
        load(source);
        return [];
    } catch (error) {
        if (error instanceof FleetConfigError) return [...error.problems];
        throw error;
    }
}

export function stackProblem(path: string, message: string): ConfigProblem {
    return { file: STACK_FILE, path, message };
}

export function catalogProblem(path: string, message: string): ConfigProblem {
    return { file: CATALOG_FILE, path, message };
}
