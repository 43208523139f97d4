// The env names the fleet sets in an agent are its own (contract/agent-env.ts):
// set by hand in `env` they are refused, naming the field and the feature that owns them.
import { describe, expect, it } from "vitest";
import { load, problemsOf, sourceWith, stackProblem } from "./fixtures";

const withEnv = (env: Record<string, string>, mutate: (fleet: any) => void = () => undefined) => sourceWith((s) => {
    s.fleet.agents.jarvis.env = env;
    mutate(s.fleet);
});

describe("env names the fleet owns", () => {
    it("passes an agent's own settings, including names that merely start like the fleet's", () => {
        expect(load(withEnv({ LOG_LEVEL: "debug", PORTAL_URL: "https://acme.example", WEBHOOK_TIMEOUT_MS: "5000" })).agents.find((a) => a.name === "jarvis")?.env)
            .toEqual({ LOG_LEVEL: "debug", PORTAL_URL: "https://acme.example", WEBHOOK_TIMEOUT_MS: "5000" });
    });

    it.each([
        ["PORT", "the fleet, in every agent"],
        ["AGENT_NAME", "the fleet, in every agent"],
        ["FEATURE_FLAGS", "the fleet, in every agent"],
        ["WEBHOOKS", "the fleet's webhooks (their list, in every agent that takes webhooks)"],
    ])("refuses %s in env, naming who sets it", (name, owner) => {
        expect(problemsOf(withEnv({ [name]: "x" }))).toEqual([stackProblem(`fleet.agents.jarvis.env.${name}`, `expected "${name}" to be left to ${owner}, got it in env too`)]);
    });

    it("under swarm refuses <NAME>_FILE beside a secret of that name, which the runtime sets; under containers it is the agent's", () => {
        const swarm = withEnv({ CALENDAR_TOKEN_FILE: "/tmp/token" }, (fleet) => {
            fleet.runtime = "swarm";
        });
        expect(problemsOf(swarm)).toEqual([stackProblem("fleet.agents.jarvis.env.CALENDAR_TOKEN_FILE",
            'expected "CALENDAR_TOKEN_FILE" to be left to the swarm runtime, which tells the agent where secret CALENDAR_TOKEN is mounted, got it in env too')]);
        expect(problemsOf(withEnv({ CALENDAR_TOKEN_FILE: "/tmp/token" }))).toEqual([]);
    });
});
