/**
 * The check engine in-process, with policies of the test's own: the
 * arguments it builds are the ones @pulumi/policy's analyzer server builds
 * (see node_modules/@pulumi/policy/server.js), and policy config reaches them.
 */
import type { PolicyResource, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import * as docker from "@pulumi/docker";
import { afterAll, describe, expect, it } from "vitest";
import { PolicyCrashError, checkStack } from "../../cli/services/offline-check";
import type { FleetPolicy } from "../../policies/rules";
import { fleetConfig, removeProjects, writeProject } from "./project";
import { fleetOf } from "./scenarios";

afterAll(removeProjects);

let runs = 0;
/** Under vitest the program goes through vitest's module loader; a fresh query makes it run again. */
const loadProgram = (program: string) => import(/* @vite-ignore */ `${program}?run=${runs++}`);

const project = (policyConfig?: Record<string, unknown>) => writeProject({
    stacks: { production: fleetConfig(fleetOf("production", { pesti: {}, "research-agent": { env: { LOG_LEVEL: "debug" } } })) },
    policyConfig: policyConfig && { production: policyConfig },
});

function fleetPolicy(policy: FleetPolicy["policy"]): FleetPolicy {
    return { policy, appliesTo: "test", fix: "test" };
}

describe("resource policies", () => {
    it("get server.js's arguments: unwrapped secrets, isType/asType, options, the default provider, getConfig", async () => {
        const seen: ResourceValidationArgs[] = [];
        const result = await checkStack({
            projectDir: project({ "probe": { enforcementLevel: "advisory", threshold: 3 } }),
            stack: "production",
            loadProgram,
            policies: [fleetPolicy({
                name: "probe",
                description: "records its arguments",
                enforcementLevel: "mandatory",
                validateResource: (args, report) => {
                    seen.push(args);
                    if (args.isType(docker.Container) && args.props.labels.some((l: { value: string }) => l.value === "pesti")) report("pesti container seen");
                },
            })],
        });
        const container = seen.find((a) => a.type === "docker:index/container:Container" && a.name === "fleet-pesti")!;
        // pesti reads secrets: its env is a secret on the wire, plain text to a policy.
        expect(container.props.envs).toContain("OPENAI_API_KEY=fleet-check-secret-placeholder");
        expect(container.isType(docker.Container)).toBe(true);
        expect(container.isType(docker.RemoteImage)).toBe(false);
        expect(container.asType(docker.Container)).toBe(container.props);
        expect(container.opts).toMatchObject({ protect: false, deleteBeforeReplace: false, parent: expect.stringMatching(/AgentService::fleet-pesti$/) });
        expect(container.provider).toMatchObject({ type: "pulumi:providers:docker", urn: expect.stringContaining("::pulumi:providers:docker::default") });
        expect(container.getConfig()).toEqual({ threshold: 3 });
        expect(container.stackTags.size).toBe(0);
        const service = seen.find((a) => a.type === "agent-fleet:index:AgentService" && a.name === "fleet-pesti")!;
        expect(service.provider).toBeUndefined();
        expect(service.props.agent.name).toBe("pesti");
        // The policy config's level wins over the policy's own, and the violation lands on the analyzed resource.
        expect(result.violations).toEqual([{ policy: "probe", level: "advisory", agent: "pesti", urn: container.urn, message: "pesti container seen" }]);
    });

    it("skip not-applicable, honour a violation object, and fail the check when a policy throws", async () => {
        const dir = project();
        const result = await checkStack({
            projectDir: dir, stack: "production", loadProgram,
            policies: [
                fleetPolicy({ name: "not-mine", description: "d", validateResource: (args) => args.notApplicable("only networks") }),
                fleetPolicy({
                    name: "as-object", description: "fallback description", enforcementLevel: "mandatory",
                    validateResource: (args, report) => {
                        // The fleet's own network (the sentinel's private docker-api network is another).
                        if (args.type === "docker:index/network:Network" && args.name === "fleet-production-network") (report as unknown as (info: object) => void)({ message: "", enforcementLevel: "advisory" });
                    },
                }),
            ],
        });
        expect(result.violations).toEqual([expect.objectContaining({ policy: "as-object", level: "advisory", agent: null, message: "fallback description" })]);
        await expect(checkStack({
            projectDir: dir, stack: "production", loadProgram,
            policies: [fleetPolicy({ name: "broken", description: "d", validateResource: () => { throw new Error("boom"); } })],
        })).rejects.toThrow(PolicyCrashError);
    });
});

describe("stack policies", () => {
    it("see every resource's final outputs, with parent and dependencies as resource objects", async () => {
        let args: StackValidationArgs | undefined;
        const result = await checkStack({
            projectDir: project(),
            stack: "production",
            loadProgram,
            policies: [fleetPolicy({
                name: "stack-probe",
                description: "records its arguments",
                enforcementLevel: "mandatory",
                validateStack: (a, report) => {
                    args = a;
                    const fleet = a.resources.find((r) => r.type === "agent-fleet:index:Fleet")!;
                    report("fleet seen", fleet.urn);
                    report("no resource");
                },
            })],
        });
        const resources = args!.resources;
        const container = resources.find((r) => r.type === "docker:index/container:Container" && r.name === "fleet-research-agent")!;
        const service = resources.find((r) => r.type === "agent-fleet:index:AgentService" && r.name === "fleet-research-agent")!;
        expect(container.parent).toBe(service);
        expect(service.parent?.type).toBe("agent-fleet:index:Fleet");
        expect(container.dependencies.map((d: PolicyResource) => d.type)).toContain("docker:index/remoteImage:RemoteImage");
        // Final outputs: the provider's (here the mock's) for a custom resource, registerOutputs for a component.
        expect(container.props.ports[0].external).toEqual(expect.any(Number));
        expect(Object.keys(service.props)).toEqual(expect.arrayContaining(["instances", "imageRef", "healthUrls"]));
        expect(result.violations.map((v) => [v.agent, v.urn === null])).toEqual([[null, false], [null, true]]);
    });
});
