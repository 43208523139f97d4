/**
 * The edge's routes, as a resource: its config is loaded into the running
 * Caddy through its admin API, inside the edge's container (`docker exec`
 * against the host's engine, as the provider reaches it). Caddy's reload is
 * graceful: requests in flight finish on the old routes.
 *
 * A dynamic resource, because no provider has one: the Docker provider can
 * only replace a container whose files change, and replacing the edge would
 * drop its connections on every deploy.
 */
import * as pulumi from "@pulumi/pulumi";

interface RoutesInputs {
    /** The engine the edge runs on: "ssh://…", "unix://…", or "" for the program's own (DOCKER_HOST, else the local socket). */
    readonly dockerHost: string;
    /** The edge container's name. */
    readonly container: string;
    /** Caddy's JSON config. */
    readonly config: string;
}

/** How long a just-started edge may take to answer on its admin API. */
const LOAD_DEADLINE_MS = 60_000;

const provider: pulumi.dynamic.ResourceProvider<RoutesInputs, RoutesInputs> = {
    async diff(_id, olds, news) {
        const changes = olds.config !== news.config || olds.container !== news.container || olds.dockerHost !== news.dockerHost;
        return { changes };
    },
    async create(inputs) {
        await loadRoutes(inputs);
        return { id: inputs.container, outs: inputs };
    },
    async update(_id, _olds, news) {
        await loadRoutes(news);
        return { outs: news };
    },
    // The edge goes with its container; a config left in a running edge routes to containers that are gone too.
    async delete() {
        return;
    },
};

/** Loads `config` into the edge, retrying while its admin API starts; throws with Caddy's own words. */
async function loadRoutes(inputs: RoutesInputs): Promise<void> {
    // Inside the function: a dynamic provider is serialized with what it captures, and modules are required at run time.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { spawn } = require("child_process") as typeof import("child_process");
    const env = { ...process.env, ...(inputs.dockerHost ? { DOCKER_HOST: inputs.dockerHost } : {}) };
    const attempt = () => new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn("docker", ["exec", "-i", inputs.container, "caddy", "reload", "--config", "/dev/stdin", "--address", "localhost:2019", "--force"], { env });
        let output = "";
        child.stdout.on("data", (chunk: Buffer) => { output += chunk.toString(); });
        child.stderr.on("data", (chunk: Buffer) => { output += chunk.toString(); });
        child.on("error", (error: NodeJS.ErrnoException) => resolve({ code: error.code === "ENOENT" ? -2 : -1, output: error.message }));
        child.on("close", (code: number | null) => resolve({ code, output }));
        child.stdin.end(inputs.config);
    });
    const deadline = Date.now() + LOAD_DEADLINE_MS;
    for (;;) {
        const { code, output } = await attempt();
        if (code === 0) return;
        if (code === -2) throw new Error(`the edge ${inputs.container} did not take its routes: they are loaded with the docker CLI (docker exec), and there is no \`docker\` on PATH; install the Docker CLI on the machine that deploys`);
        // Only a config Caddy refused is final; an edge still starting (or restarting) is waited for.
        const refused = /caddy responded with error: HTTP 4\d\d/.test(output);
        if (refused || Date.now() > deadline) {
            throw new Error(`the edge ${inputs.container} did not take its routes: ${output.trim().split("\n").slice(-1)[0] ?? `docker exec exited ${code}`}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
    }
}

export interface EdgeRoutesArgs {
    readonly dockerHost: pulumi.Input<string>;
    readonly container: pulumi.Input<string>;
    readonly config: pulumi.Input<string>;
}

/** The routes loaded into one edge. */
export class EdgeRoutes extends pulumi.dynamic.Resource {
    constructor(name: string, args: EdgeRoutesArgs, opts?: pulumi.CustomResourceOptions) {
        // Its type token is EDGE_ROUTES_TYPE: the CLI targets it with the agents whose containers it names.
        super(provider, name, args, opts, "agent-fleet", "EdgeRoutes");
    }
}
