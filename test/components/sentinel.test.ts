// The sentinel component: the sentinel reads Docker only through its proxy,
// which alone holds the socket, on a network only the two share.
import * as pulumi from "@pulumi/pulumi";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Sentinel } from "../../components";
import { fleetSpec } from "../support/specs";
import { MockRun, outputOf, settle, startMocks } from "../support/pulumi";

const CONTAINER = "docker:index/container:Container";
const NETWORK = "docker:index/network:Network";

let run: MockRun;
beforeEach(async () => {
    run = await startMocks("staging");
});
afterEach(settle);

const specWith = (sentinel: Record<string, unknown> = {}) => fleetSpec({
    channels: { ops: { type: "slack", urlSecret: "opsUrl" } },
    sentinel,
    agents: { alpha: { tier: 2, port: 8080, image: "ghcr.io/acme/alpha:1.0.0", alertChannels: ["ops"] } },
}, "staging", ["opsUrl"]);

async function declared(sentinel: Record<string, unknown> = {}) {
    const component = new Sentinel("fleet-sentinel", { spec: specWith(sentinel), networkName: "fleet-net", secretConfig: () => pulumi.secret("https://hooks.example/seeded") });
    await outputOf(component.containerName);
    await settle();
    const container = (name: string) => run.byType(CONTAINER).find((c) => c.name === name)!;
    return { sentinel: container("fleet-sentinel"), proxy: container("fleet-sentinel-docker-proxy"), api: run.byType(NETWORK).find((n) => n.name === "fleet-sentinel-docker-api")! };
}

describe("Sentinel", () => {
    it("never mounts the Docker socket into the sentinel: it reads Docker through the proxy on a network of their own", async () => {
        const { sentinel, proxy, api } = await declared();
        expect(JSON.stringify(sentinel.inputs.volumes)).not.toContain("docker.sock");
        expect(sentinel.inputs.groupAdds).toBeUndefined();
        expect(sentinel.inputs.envs).toContain("DOCKER_HOST=tcp://docker-api:2375");
        expect(api.inputs).toMatchObject({ internal: true, driver: "bridge" });
        expect(proxy.inputs.volumes).toEqual([{ hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock", readOnly: true }]);
        // The proxy is on the private network alone: nothing else reaches it, and it reaches nothing.
        expect(proxy.inputs.networksAdvanced).toEqual([{ name: expect.any(String), aliases: ["docker-api"] }]);
        expect(proxy.inputs.ports).toBeUndefined();
        expect(proxy.inputs).toMatchObject({ user: "0:0", readOnly: true });
        expect(sentinel.dependencies).toContain(proxy.urn);
    });

    it("runs the proxy as nobody in the socket's group when the stack names one, and pulls a named proxy image", async () => {
        const { proxy } = await declared({ socketGroup: 998, proxyImage: "ghcr.io/acme/docker-proxy:2.8.4" });
        expect(proxy.inputs).toMatchObject({ user: "65534:65534", groupAdds: ["998"] });
        expect(run.byType("docker:index/remoteImage:RemoteImage").map((i) => i.inputs.name)).toContain("ghcr.io/acme/docker-proxy:2.8.4");
    });
});
