/**
 * The test servers themselves (test/support/remote-host.ts): two hosts, each
 * its own engine behind its own sshd. What goes over `ssh://<host>` reaches
 * that host's engine and never this machine's; a host key other than the
 * pinned one is refused; a host whose sshd is down fails alone and comes
 * back when it is started again.
 */
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerClient, requireDocker } from "../support/docker";
import { HOST_PORT_RANGE, RemoteHost, SshClient, remoteHostsUnavailable } from "../support/remote-host";
import { skipUnlessAvailable } from "../support/requirements";

const why = remoteHostsUnavailable();
const skip = skipUnlessAvailable("test/docker/remote-host", why ? [why] : []);

describe.skipIf(skip).sequential("remote hosts for the tests", () => {
    let client: SshClient;
    const hosts: RemoteHost[] = [];
    const dockerOver = (host: RemoteHost, ...args: string[]) => execa("docker", ["-H", host.dockerHost, ...args], { env: client.env(), reject: false, timeout: 60_000 });

    beforeAll(async () => {
        await requireDocker();
        client = await SshClient.create();
        hosts.push(await RemoteHost.start({ name: "app-1", client }));
        hosts.push(await RemoteHost.start({ name: "app-2", client }));
    }, 180_000);

    afterAll(async () => {
        for (const host of hosts) await host.stop();
        await client?.remove();
    }, 120_000);

    it("reaches each host's own engine over ssh://, never this machine's", async () => {
        const local = (await dockerClient().info() as { DockerRootDir: string }).DockerRootDir;
        for (const host of hosts) {
            const info = await dockerOver(host, "info", "--format", "{{.DockerRootDir}} {{.Images}}");
            expect(info.exitCode, info.stderr).toBe(0);
            expect(info.stdout).toBe(`${host.dir}/data 0`);
            expect(info.stdout.startsWith(local)).toBe(false);
        }
    }, 60_000);

    it("gives each host a slot of its own: its own link, namespace and lock", async () => {
        const [one, two] = hosts;
        expect(one.address).not.toBe(two.address);
        expect(one.netns).not.toBe(two.netns);
        // The slot's lock is held while the host runs: another claim of it fails at once.
        const slot = one.address.split(".")[2];
        const claim = await execa("flock", ["--nonblock", `/run/agent-fleet-test-hosts/${slot}.lock`, "true"], { reject: false });
        expect(claim.exitCode).not.toBe(0);
    }, 60_000);

    it("publishes container ports from its own range, away from this machine's", async () => {
        const [host] = hosts;
        const range = await execa("nsenter", [`--net=/var/run/netns/${host.netns}`, "cat", "/proc/sys/net/ipv4/ip_local_port_range"]);
        expect(range.stdout.trim().split(/\s+/).map(Number)).toEqual([...HOST_PORT_RANGE]);
    }, 60_000);

    it("refuses a host whose key is not the pinned one, naming the host", async () => {
        const [, other] = hosts;
        try {
            // Pin app-1's key for app-2: app-2 now presents a key the client does not know for it.
            await client.pin(other.address, hosts[0].hostKey);
            const info = await dockerOver(other, "info");
            expect(info.exitCode).not.toBe(0);
            expect(info.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
            expect(info.stderr).toContain(other.address);
        } finally {
            await client.pin(other.address, other.hostKey);
        }
        expect((await dockerOver(other, "info", "--format", "{{.DockerRootDir}}")).stdout).toBe(`${other.dir}/data`);
    }, 60_000);

    it("a host whose sshd is down fails alone, and answers again once it is started", async () => {
        const [down, up] = hosts;
        await down.stopSsh();
        const refused = await dockerOver(down, "info");
        expect(refused.exitCode).not.toBe(0);
        expect(refused.stderr).toMatch(/Connection refused|Connection timed out|No route/);
        expect((await dockerOver(up, "info", "--format", "{{.DockerRootDir}}")).stdout).toBe(`${up.dir}/data`);
        await down.startSsh(client);
        expect((await dockerOver(down, "info", "--format", "{{.DockerRootDir}}")).stdout).toBe(`${down.dir}/data`);
    }, 90_000);

    it("loads this machine's images into a host that has no registry to pull from", async () => {
        const [host] = hosts;
        await host.loadImages("agent-fleet/node-base:local");
        const images = await dockerOver(host, "images", "--format", "{{.Repository}}:{{.Tag}}");
        expect(images.stdout.split("\n")).toContain("agent-fleet/node-base:local");
    }, 120_000);
});
