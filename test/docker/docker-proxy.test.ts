/**
 * The sentinel's docker proxy (agents/docker-proxy: Caddy and its
 * Caddyfile), built from its real Dockerfile and run as the component runs
 * it: the socket mounted read-only, on an internal network. From a container
 * on that network, the read endpoints the sentinel uses answer (ping,
 * version, events, the container list, inspect); a create, an exec, a kill,
 * an image list and a log read are refused with 403, and no container is made.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DOCKER_PROXY_TEST_IMAGE, NODE_BASE_IMAGE, TEST_LABEL, buildDockerProxyImage, dockerClient, ensureLocalNodeBaseImage, requireDocker } from "../support/docker";
import { until } from "../support/sentinel";


/** A client on the proxy's network: runs fetch() calls in node and prints each status (or the first bytes of a stream). */
const CLIENT_SCRIPT = `
const base = "http://docker-api:2375";
const calls = JSON.parse(process.argv[1]);
(async () => {
  const out = {};
  for (const [name, method, path, body] of calls) {
    try {
      const r = await fetch(base + path, { method, body, headers: body ? { "content-type": "application/json" } : {}, signal: AbortSignal.timeout(3000) });
      out[name] = r.status;
      if (name === "events") r.body.cancel();
      else await r.text();
    } catch (e) { out[name] = String(e.cause?.code || e.name); }
  }
  console.log(JSON.stringify(out));
})();`;

describe("the sentinel's docker proxy", () => {
    const docker = dockerClient();
    const suffix = `${process.pid}-${Date.now()}`;
    const made: { remove(opts?: object): Promise<unknown> }[] = [];
    let network = "";
    let target = "";

    beforeAll(async () => {
        await requireDocker();
        await buildDockerProxyImage();
        await ensureLocalNodeBaseImage(NODE_BASE_IMAGE);
        const net = await docker.createNetwork({ Name: `afleet-proxy-test-${suffix}`, Internal: true, Labels: { [TEST_LABEL]: "docker-proxy" } });
        made.push(net);
        network = net.id;
        const proxy = await docker.createContainer({
            Image: DOCKER_PROXY_TEST_IMAGE, name: `afleet-proxy-${suffix}`, User: "0:0", Labels: { [TEST_LABEL]: "docker-proxy" },
            HostConfig: { Binds: ["/var/run/docker.sock:/var/run/docker.sock:ro"], ReadonlyRootfs: true, Tmpfs: { "/tmp": "rw,size=16m" }, NetworkMode: network },
            NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: ["docker-api"] } } },
        });
        made.unshift({ remove: () => proxy.remove({ force: true }) });
        await proxy.start();
        target = proxy.id;
    }, 180_000);

    afterAll(async () => {
        for (const thing of made) await thing.remove({ force: true }).catch(() => undefined);
    });

    async function fromInside(calls: [name: string, method: string, path: string, body?: string][]): Promise<Record<string, number | string>> {
        const client = await docker.createContainer({
            Image: NODE_BASE_IMAGE, Entrypoint: ["node", "-e", CLIENT_SCRIPT], Cmd: [JSON.stringify(calls)], Labels: { [TEST_LABEL]: "docker-proxy-client" },
            HostConfig: { NetworkMode: network },
        });
        try {
            await client.start();
            await until("the client to finish", async () => ((await client.inspect()).State.Running ? undefined : true), 30_000, 200);
            const logs = (await client.logs({ stdout: true, stderr: true })).toString("utf8");
            return JSON.parse(logs.slice(logs.indexOf("{"))) as Record<string, number | string>;
        } finally {
            await client.remove({ force: true });
        }
    }

    it("passes the read endpoints the sentinel uses, and refuses every write and every other read with 403", async () => {
        await until("the proxy to answer", async () => ((await fromInside([["ping", "GET", "/_ping"]])).ping === 200 ? true : undefined), 30_000, 500);
        // The create below is marked, so that "nothing was made" is asked of it alone: other suites make containers meanwhile.
        const marker = `docker-proxy-create-${process.pid}-${Date.now()}`;
        const statuses = await fromInside([
            ["ping", "GET", "/_ping"],
            ["version", "GET", "/v1.41/version"],
            ["list", "GET", "/v1.41/containers/json?all=1"],
            ["inspect", "GET", `/v1.41/containers/${target}/json`],
            ["events", "GET", "/v1.41/events"],
            ["create", "POST", "/v1.41/containers/create", JSON.stringify({ Image: NODE_BASE_IMAGE, Cmd: ["true"], Labels: { [TEST_LABEL]: marker } })],
            ["exec", "POST", `/v1.41/containers/${target}/exec`, JSON.stringify({ Cmd: ["sh"] })],
            ["kill", "POST", `/v1.41/containers/${target}/kill`],
            ["delete", "DELETE", `/v1.41/containers/${target}`],
            ["images", "GET", "/v1.41/images/json"],
            ["logs", "GET", `/v1.41/containers/${target}/logs?stdout=1`],
            ["export", "GET", `/v1.41/containers/${target}/export`],
            ["traversal", "GET", `/v1.41/containers/${target}/../../images/json`],
        ]);
        expect(statuses).toEqual({
            ping: 200, version: 200, list: 200, inspect: 200, events: 200,
            create: 403, exec: 403, kill: 403, delete: 403, images: 403, logs: 403, export: 403, traversal: 403,
        });
        // Nothing was made, and the proxy still runs.
        expect(await docker.listContainers({ all: true, filters: { label: [`${TEST_LABEL}=${marker}`] } })).toEqual([]);
        expect((await docker.getContainer(target).inspect()).State.Running).toBe(true);
    }, 120_000);
});
