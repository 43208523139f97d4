// Builds are dev's alone: staging and production run the images a release
// pipeline built and pushed, never bits built on the deploying machine.
import { describe, expect, it } from "vitest";
import { load, problemsOf, sourceWith } from "./fixtures";

const building = (stack: string) => sourceWith((s) => {
    s.stack = stack;
    s.stackFile = `stacks/Pulumi.${stack}.yaml`;
    s.fleet.environment = stack;
    s.fleet.agents.jarvis.image = "agent-fleet/jarvis:dev";
    s.fleet.agents.jarvis.build = { context: "agents/sample-agent" };
    delete s.fleet.agents.jarvis.rollbackImage;
});

describe("build", () => {
    it("builds in dev", () => {
        expect(load(building("dev")).agents.find((a) => a.name === "jarvis")?.build).toEqual({ context: "agents/sample-agent", dockerfile: undefined, args: {} });
    });

    it.each(["staging", "production"])("is refused in %s, naming the field and the fix", (stack) => {
        expect(problemsOf(building(stack)).filter((p) => p.path === "fleet.agents.jarvis.build")).toEqual([{
            file: `stacks/Pulumi.${stack}.yaml`, path: "fleet.agents.jarvis.build",
            message: `expected no build in ${stack} (it runs the image a release pipeline built and pushed, never bits built on the deploying machine): set image to that tag or digest, and build: false, got a build of "agents/sample-agent"`,
        }]);
    });

    it("takes build: false in production, the way an agent opts out of agentDefaults' build", () => {
        const source = sourceWith((s) => {
            s.fleet.agentDefaults = { build: { context: "agents/sample-agent" } };
            for (const agent of Object.values(s.fleet.agents) as { build?: unknown }[]) agent.build = false;
        });
        expect(load(source).agents.every((a) => a.build === undefined)).toBe(true);
    });
});
