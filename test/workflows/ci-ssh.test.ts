/**
 * scripts/ci-ssh.sh, which the deploy and monitor workflows run: it loads the
 * deploy key and the pinned host keys from secrets, refuses a key without
 * pinned host keys or a value ssh cannot read, and never prints a key.
 */
import { promises as fs } from "fs";
import * as os from "os";
import * as path from "path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../support/pulumi";

const SCRIPT = path.join(PROJECT_ROOT, "scripts", "ci-ssh.sh");
const homes: string[] = [];

async function run(secrets: Record<string, string>) {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), "ci-ssh-"));
    homes.push(home);
    const result = await execa("bash", [SCRIPT], { env: { HOME: home, PATH: process.env.PATH ?? "", ...secrets }, extendEnv: false, reject: false });
    return { ...result, home, output: `${result.stdout}\n${result.stderr}` };
}

async function keyPair(): Promise<{ privateKey: string; publicKey: string }> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "ci-ssh-key-"));
    homes.push(dir);
    await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "ci", "-f", path.join(dir, "k")]);
    return { privateKey: await fs.readFile(path.join(dir, "k"), "utf8"), publicKey: (await fs.readFile(path.join(dir, "k.pub"), "utf8")).trim() };
}

afterAll(async () => {
    for (const home of homes) await fs.rm(home, { recursive: true, force: true });
});

describe("scripts/ci-ssh.sh", () => {
    it("does nothing without FLEET_SSH_KEY", async () => {
        const result = await run({});
        expect(result.exitCode).toBe(0);
        expect(result.stdout).toContain("no ssh:// hosts to reach");
        await expect(fs.access(path.join(result.home, ".ssh"))).rejects.toThrow();
    });

    it("loads the key and the pinned host keys, strict, without printing a key", async () => {
        const { privateKey } = await keyPair();
        const host = await keyPair();
        const known = `app-1.example.com ${host.publicKey.split(" ").slice(0, 2).join(" ")}`;
        const result = await run({ FLEET_SSH_KEY: privateKey, FLEET_KNOWN_HOSTS: known, FLEET_SSH_CONFIG: "Host app-1\n  HostName app-1.example.com\n  User deploy" });
        expect(result.exitCode, result.output).toBe(0);
        expect(result.stdout).toBe("ci-ssh: deploy key loaded; 1 pinned host key(s)");
        const ssh = path.join(result.home, ".ssh");
        expect((await fs.stat(path.join(ssh, "fleet_deploy_key"))).mode & 0o777).toBe(0o600);
        expect(await fs.readFile(path.join(ssh, "known_hosts"), "utf8")).toBe(`${known}\n`);
        const config = await fs.readFile(path.join(ssh, "config"), "utf8");
        expect(config.indexOf("Host app-1")).toBeLessThan(config.indexOf("Host *"));
        expect(config).toContain("StrictHostKeyChecking yes");
        expect(config).not.toMatch(/StrictHostKeyChecking (no|accept-new)/);
        expect(result.output).not.toContain(privateKey.split("\n")[1]);
    });

    it("refuses a key without pinned host keys, and a value that is no key, without showing it", async () => {
        const { privateKey } = await keyPair();
        const unpinned = await run({ FLEET_SSH_KEY: privateKey });
        expect(unpinned.exitCode).toBe(2);
        expect(unpinned.stderr).toContain("FLEET_KNOWN_HOSTS is not");
        const garbage = "SEEDED-not-a-key-4f1c";
        const bad = await run({ FLEET_SSH_KEY: garbage, FLEET_KNOWN_HOSTS: "app-1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGdlbmVyYXRlZA==" });
        expect(bad.exitCode).toBe(2);
        expect(bad.stderr).toContain("FLEET_SSH_KEY is not a private key ssh can read");
        expect(bad.output).not.toContain(garbage);
    });
});
