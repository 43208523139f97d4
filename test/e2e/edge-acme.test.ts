/**
 * The edge's certificates from a real ACME flow, on the real engine: Pebble
 * (Let's Encrypt's test CA, test/support/pebble.ts) validates the edge's
 * hostnames on this machine's loopback and issues; a client that trusts only
 * Pebble's root gets a valid chain for the agent's hostname; `fleet verify`
 * checks that chain against the machine's roots; and a restarted edge serves
 * the certificate it already has, obtaining none.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { parseDocument } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EDGE_ROLE, LABELS } from "../../contract";
import { buildSampleAgentImage, dockerClient, provideDefaultCaddyImage, requireDocker } from "../support/docker";
import { Pebble, missingForPebble, serialOf } from "../support/pebble";
import { skipUnlessAvailable } from "../support/requirements";
import { freePort } from "../support/sentinel";
import { Workspace, expectOk, missingForDeployments, provideDefaultNodeImage, pulumiOnPath } from "./workspace";

const STEP_TIMEOUT = 600_000;
const STACK = "acme";
const AGENT = "pesti";
const IMAGE = "agent-fleet/sample-agent:e2e-edge-acme";
const EDGE_HOST = "agents.acme.test";
const AGENT_HOST = "pesti.acme.test";

const cli = pulumiOnPath();
const skip = skipUnlessAvailable("test/e2e/edge-acme", cli ? [...missingForDeployments(), ...missingForPebble()] : ["a `pulumi` CLI on PATH"]);

/** The stack file, through yaml's Document API: the CA's root is a block of PEM. */
function stackFile(ports: { http: number; https: number }, pebble: Pebble): string {
    const doc = parseDocument("config: {}\n");
    doc.setIn(["config", "agent-fleet:fleet"], doc.createNode({
        environment: "dev",
        edge: {
            hostname: EDGE_HOST, tls: "acme", acmeEmail: "ops@acme.test", acmeCa: pebble.directory, acmeCaRoot: pebble.listenerRoot,
            listenAddress: "127.0.0.1", httpPort: ports.http, httpsPort: ports.https,
        },
        agents: {
            [AGENT]: {
                tier: 1, port: 8080, owner: "@acme/e2e", memory: "128Mi", image: IMAGE, build: false, expose: AGENT_HOST,
                healthcheck: { interval: "2s", timeout: "2s", retries: 2, startPeriod: "1s" }, waitTimeout: "25s",
            },
        },
    }));
    return doc.toString();
}

/** The certificate the edge presents for `servername`, and whether it chains to `ca` and names that host. */
function presented(port: number, servername: string, ca: string): Promise<{ authorized: boolean; error?: string; serial?: string; issuer?: string }> {
    return new Promise((resolve) => {
        const socket = tls.connect({ host: "127.0.0.1", port, servername, ca, rejectUnauthorized: false }, () => {
            const cert = socket.getPeerCertificate();
            const identity = tls.checkServerIdentity(servername, cert);
            resolve({
                authorized: socket.authorized && identity === undefined,
                ...(socket.authorizationError ? { error: String(socket.authorizationError) } : identity ? { error: identity.message } : {}),
                serial: cert.serialNumber ? serialOf(cert.serialNumber) : undefined, issuer: [cert.issuer?.CN].flat().join(", "),
            });
            socket.end();
        });
        socket.on("error", (error: NodeJS.ErrnoException) => resolve({ authorized: false, error: error.code ?? error.message }));
    });
}

describe.skipIf(skip).sequential(`the edge's ACME certificates on the real engine (${cli})`, () => {
    let ws: Workspace;
    let pebble: Pebble;
    let ports: { http: number; https: number };
    let root: string;
    let rootFile: string;
    let firstSerial: string | undefined;
    const containers = async () => dockerClient().listContainers({ all: true, filters: { label: [`${LABELS.stack}=${STACK}`] } });

    beforeAll(async () => {
        await requireDocker();
        await provideDefaultNodeImage();
        await provideDefaultCaddyImage();
        ws = await Workspace.create();
        const local = await buildSampleAgentImage();
        const { execa } = await import("execa");
        await execa("docker", ["build", "-q", "-t", IMAGE, "-"], { input: `FROM ${local}\nLABEL suite=edge-acme\n` });
        ports = { http: await freePort(), https: await freePort() };
        pebble = await Pebble.start(ports);
        // The machine that deploys trusts the CA, as one trusts Let's Encrypt: fleet up's verification checks the chain.
        root = await pebble.issuingRoot();
        rootFile = path.join(await fs.mkdtemp(path.join(os.tmpdir(), "agent-fleet-acme-root-")), "root.pem");
        await fs.writeFile(rootFile, root);
        await fs.writeFile(path.join(ws.dir, "stacks", `Pulumi.${STACK}.yaml`), stackFile(ports, pebble));
        await fs.copyFile(path.join(ws.dir, "stacks", "policy.dev.json"), path.join(ws.dir, "stacks", `policy.${STACK}.json`));
        await ws.git("add", "-A");
        await ws.git("-c", "user.email=e2e@localhost", "-c", "user.name=e2e", "commit", "-q", "-m", "the acme stack");
    }, STEP_TIMEOUT);

    afterAll(async () => {
        if (ws && (await containers()).length > 0) await ws.pulumiOn(STACK, "destroy", "--yes", "--skip-preview");
        for (const c of await containers()) await dockerClient().getContainer(c.Id).remove({ force: true }).catch(() => undefined);
        for (const v of (await dockerClient().listVolumes({ filters: { label: [`${LABELS.stack}=${STACK}`] } })).Volumes ?? []) {
            await dockerClient().getVolume(v.Name).remove().catch(() => undefined);
        }
        await pebble?.stop();
        if (rootFile) await fs.rm(path.dirname(rootFile), { recursive: true, force: true });
        await ws?.remove();
    }, STEP_TIMEOUT);

    it("1. `fleet up`: the edge obtains a certificate for the agent's hostname from the ACME CA, and a client trusting only that CA's root gets a valid chain", async () => {
        expectOk(await ws.fleetWith({ NODE_EXTRA_CA_CERTS: rootFile }, "up", "--stack", STACK, "--create-stack"), "fleet up --create-stack");
        // Issuance follows the routes' load: validation, then the order, take a few seconds.
        let seen = await presented(ports.https, AGENT_HOST, root);
        for (let i = 0; i < 120 && !seen.authorized; i++) {
            await new Promise((resolve) => setTimeout(resolve, 500));
            seen = await presented(ports.https, AGENT_HOST, root);
        }
        expect(seen, pebble.issued().join(", ")).toMatchObject({ authorized: true });
        expect(seen.issuer).toMatch(/^Pebble Intermediate CA/);
        expect(pebble.issued()).toContain(seen.serial);
        firstSerial = seen.serial;
        // Another CA's root does not make that chain valid: the check can fail.
        expect(await presented(ports.https, AGENT_HOST, pebble.listenerRoot)).toMatchObject({ authorized: false });
    }, STEP_TIMEOUT);

    it("2. `fleet verify` checks the public side's chain against the machine's roots: it passes while they hold the CA's root, and fails naming why without", async () => {
        const trusted = await ws.fleetWith({ NODE_EXTRA_CA_CERTS: rootFile }, "verify", "--stack", STACK);
        expectOk(trusted, "fleet verify with the ACME CA's root trusted");
        expect(trusted.stdout).toMatch(new RegExp(`pesti +edge https://pesti\\.acme\\.test:${ports.https} +ok +public URL ok`));
        const untrusted = await ws.fleet("verify", "--stack", STACK);
        expect(untrusted.exitCode).toBe(1);
        expect(untrusted.stdout).toMatch(/through the edge: GET https:\/\/pesti\.acme\.test:\d+\/health: (UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/);
    }, STEP_TIMEOUT);

    it("3. a restarted edge serves the certificate it has, from its volume, and obtains no new one", async () => {
        const issuedBefore = pebble.issued();
        const [edge] = await dockerClient().listContainers({ filters: { label: [`${LABELS.stack}=${STACK}`, `${LABELS.role}=${EDGE_ROLE}`] } });
        await dockerClient().getContainer(edge.Id).restart({ t: 1 });
        let seen = await presented(ports.https, AGENT_HOST, root);
        for (let i = 0; i < 60 && !seen.authorized; i++) {
            await new Promise((resolve) => setTimeout(resolve, 500));
            seen = await presented(ports.https, AGENT_HOST, root);
        }
        expect(seen).toMatchObject({ authorized: true, serial: firstSerial });
        // Give a mistaken renewal time to show up before counting.
        await new Promise((resolve) => setTimeout(resolve, 5_000));
        expect(pebble.issued()).toEqual(issuedBefore);
        console.log(`e2e edge-acme: certificates issued by the ACME CA: ${issuedBefore.length} before the restart, ${pebble.issued().length} after; serial ${firstSerial} served before and after`);
    }, STEP_TIMEOUT);
});
