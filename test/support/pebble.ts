/**
 * A local ACME CA for the edge's ACME suite: Pebble, Let's Encrypt's test CA,
 * with its mock DNS server answering every name with 127.0.0.1, so that its
 * validation (http-01 or tls-alpn-01, for real) reaches the edge's ports on
 * this machine's loopback. Both are built by scripts/build-pebble.sh.
 *
 * The edge reaches Pebble's directory from its container at this machine's
 * docker0 address (a host address every bridge network can reach), over TLS
 * with a self-signed certificate for that address, which the stack gives the
 * edge as `acmeCaRoot`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { freePort } from "./sentinel";

const REPO_ROOT = path.resolve(__dirname, "../..");
const BUILT = path.join(REPO_ROOT, ".engine", "pebble");

/** What the suite needs that is missing, for skipUnlessAvailable. */
export function missingForPebble(): string[] {
    return ["pebble", "pebble-challtestsrv"].every((bin) => existsSync(path.join(BUILT, bin))) ? [] : ["Pebble (bash scripts/build-pebble.sh)"];
}

/** This machine's address on docker0, which containers on any bridge network reach it at. */
async function dockerHostAddress(): Promise<string> {
    const { stdout } = await execa("ip", ["-4", "-o", "addr", "show", "docker0"]);
    const address = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(stdout)?.[1];
    if (!address) throw new Error(`no IPv4 address on docker0: ${stdout}`);
    return address;
}

/** A certificate serial in one spelling: lower-case hex without leading zeros (Pebble logs one way, Node another). */
export function serialOf(hex: string): string {
    return hex.toLowerCase().replace(/^0+/, "");
}

export class Pebble {
    private constructor(
        private readonly dir: string,
        private readonly processes: ChildProcess[],
        /** The directory URL, as the edge's container reaches it. */
        readonly directory: string,
        /** PEM of the certificate Pebble's own HTTPS listeners present (the edge's `acmeCaRoot`). */
        readonly listenerRoot: string,
        private readonly managementPort: number,
        private readonly log: { text: string },
    ) {}

    /** Starts Pebble validating on `ports` (the edge's HTTP and HTTPS ports on loopback). */
    static async start(ports: { readonly http: number; readonly https: number }): Promise<Pebble> {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), "agent-fleet-pebble-"));
        const address = await dockerHostAddress();
        const [listen, management, dns] = [await freePort(), await freePort(), await freePort()];
        const cert = path.join(dir, "cert.pem");
        const key = path.join(dir, "key.pem");
        await execa("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
            "-subj", "/CN=pebble", "-addext", `subjectAltName=IP:${address},IP:127.0.0.1`]);
        const config = path.join(dir, "pebble-config.json");
        await fs.writeFile(config, JSON.stringify({
            pebble: {
                listenAddress: `0.0.0.0:${listen}`, managementListenAddress: `127.0.0.1:${management}`,
                certificate: cert, privateKey: key, httpPort: ports.http, tlsPort: ports.https,
                ocspResponderURL: "", externalAccountBindingRequired: false,
            },
        }));
        const log = { text: "" };
        const run = (bin: string, args: string[], env: Record<string, string> = {}) => {
            const child = spawn(path.join(BUILT, bin), args, { cwd: dir, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
            child.stdout?.on("data", (chunk: Buffer) => { log.text += chunk.toString(); });
            child.stderr?.on("data", (chunk: Buffer) => { log.text += chunk.toString(); });
            return child;
        };
        const processes = [
            run("pebble-challtestsrv", ["-dnsserver", `127.0.0.1:${dns}`, "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
                "-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "", "-management", `127.0.0.1:${await freePort()}`]),
            // No random sleeps before validating and no random nonce rejections: the flow, not Pebble's chaos, is under test.
            run("pebble", ["-config", config, "-dnsserver", `127.0.0.1:${dns}`], { PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" }),
        ];
        const pebble = new Pebble(dir, processes, `https://${address}:${listen}/dir`, await fs.readFile(cert, "utf8"), management, log);
        for (let i = 0; i < 100 && !/Listening on: 0\.0\.0\.0:\d+/.test(log.text); i++) await new Promise((resolve) => setTimeout(resolve, 100));
        if (!/Listening on: 0\.0\.0\.0:\d+/.test(log.text)) {
            await pebble.stop();
            throw new Error(`Pebble did not start:\n${log.text}`);
        }
        return pebble;
    }

    /** The root Pebble issues under (it makes a new one each start): what a client of the edge trusts. */
    async issuingRoot(): Promise<string> {
        return new Promise((resolve, reject) => {
            https.get({ host: "127.0.0.1", port: this.managementPort, path: "/roots/0", ca: this.listenerRoot }, (res) => {
                let body = "";
                res.on("data", (chunk: Buffer) => { body += chunk.toString(); });
                res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`Pebble's /roots/0 answered ${res.statusCode}`))));
            }).on("error", reject);
        });
    }

    /** The serials of the certificates Pebble has issued, in order, as `serialOf` writes them. */
    issued(): string[] {
        return [...this.log.text.matchAll(/Issued certificate serial (\S+) for order/g)].map((m) => serialOf(m[1]));
    }

    async stop(): Promise<void> {
        for (const child of this.processes) child.kill();
        await fs.rm(this.dir, { recursive: true, force: true });
    }
}
