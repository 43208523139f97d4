/**
 * The edge's routes, as a resource: its config is loaded into the running
 * Caddy through its admin API, inside the edge's container (`docker exec`
 * against the host's engine, as the provider reaches it). On the swarm, into
 * each running task of the edge's service. Caddy's reload is graceful:
 * requests in flight finish on the old routes.
 *
 * A dynamic resource, because no provider has one: the Docker provider can
 * only replace a container whose files change, and replacing the edge would
 * drop its connections on every deploy.
 */
import * as pulumi from "@pulumi/pulumi";

export interface RoutesInputs {
    /** The engine the edge runs on: "ssh://…", "unix://…", or "" for the program's own (DOCKER_HOST, else the local socket). */
    readonly dockerHost: string;
    /** The edge container's name, or its service's. */
    readonly container: string;
    /** Which `container` names: a container, or a Swarm service whose tasks' containers take the routes. */
    readonly kind?: "container" | "service";
    /** Caddy's JSON config. */
    readonly config: string;
}

/** How long a just-started edge may take to answer on its admin API. */
const LOAD_DEADLINE_MS = 60_000;

const provider: pulumi.dynamic.ResourceProvider<RoutesInputs, RoutesInputs> = {
    async diff(_id, olds, news) {
        const changes = olds.config !== news.config || olds.container !== news.container || olds.dockerHost !== news.dockerHost || olds.kind !== news.kind;
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

/** Loads `config` into the edge (each of its service's tasks), retrying while its admin API starts; throws with Caddy's own words. */
export async function loadRoutes(inputs: RoutesInputs): Promise<void> {
    // Inside the function: a dynamic provider is serialized with what it captures, and modules are required at run time.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { spawn } = require("child_process") as typeof import("child_process");
    const env = { ...process.env, ...(inputs.dockerHost ? { DOCKER_HOST: inputs.dockerHost } : {}) };
    const docker = (args: readonly string[], input?: string) => new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn("docker", [...args], { env });
        let output = "";
        child.stdout.on("data", (chunk: Buffer) => { output += chunk.toString(); });
        child.stderr.on("data", (chunk: Buffer) => { output += chunk.toString(); });
        child.on("error", (error: NodeJS.ErrnoException) => resolve({ code: error.code === "ENOENT" ? -2 : -1, output: error.message }));
        child.on("close", (code: number | null) => resolve({ code, output }));
        child.stdin.end(input);
    });
    const noCli = `the edge ${inputs.container} did not take its routes: they are loaded with the docker CLI (docker exec), and there is no \`docker\` on PATH; install the Docker CLI on the machine that deploys`;
    /**
     * The containers to load: the edge's own, or its service's running tasks. Every task must run on the engine
     * the deploy reaches (`docker exec` reaches no other node); one elsewhere is named, with the fix.
     */
    const targets = async (): Promise<{ containers: string[]; problem?: string }> => {
        if (inputs.kind !== "service") return { containers: [inputs.container] };
        // By node id: nodes on one machine (or cloned images) can share a hostname.
        const self = await docker(["info", "--format", "{{.Swarm.NodeID}}"]);
        if (self.code === -2) throw new Error(noCli);
        const tasks = await docker(["service", "ps", "-q", "--no-trunc", "--filter", "desired-state=running", inputs.container]);
        const taskIds = tasks.output.split("\n").map((id) => id.trim()).filter((id) => /^[0-9a-z]{25}$/.test(id));
        const nodes = taskIds.length > 0 ? await docker(["inspect", "--format", "{{.NodeID}}", ...taskIds]) : { code: 0, output: "" };
        const here = self.output.trim();
        const elsewhere = [...new Set(nodes.output.split("\n").map((id) => id.trim()).filter((id) => id && id !== here))];
        if (self.code === 0 && tasks.code === 0 && nodes.code === 0 && elsewhere.length > 0) {
            const described = await docker(["node", "inspect", "--format", "{{.ID}} {{.Description.Hostname}}", ...elsewhere]);
            const names = described.code === 0 ? described.output.trim().split("\n").map((line) => { const [id, host] = line.split(" "); return `${host} (${id.slice(0, 12)})`; }) : elsewhere;
            return {
                containers: [],
                problem: `its service runs on node${names.length === 1 ? "" : "s"} ${names.join(", ")} as well, and routes are loaded through the engine the deploy reaches `
                    + `(node ${here.slice(0, 12)}) only; set fleet.edge.placementConstraints to that node, ["node.id==${here}"]`,
            };
        }
        const running = await docker(["ps", "-q", "--no-trunc", "--filter", `label=com.docker.swarm.service.name=${inputs.container}`, "--filter", "status=running"]);
        return { containers: running.output.split("\n").map((id) => id.trim()).filter((id) => /^[0-9a-f]{64}$/.test(id)) };
    };
    const deadline = Date.now() + LOAD_DEADLINE_MS;
    for (;;) {
        const { containers, problem } = await targets();
        if (problem) throw new Error(`the edge ${inputs.container} did not take its routes: ${problem}`);
        const outcomes = await Promise.all(containers.map((id) => docker(["exec", "-i", id, "caddy", "reload", "--config", "/dev/stdin", "--address", "localhost:2019", "--force"], inputs.config)));
        if (outcomes.some((o) => o.code === -2)) throw new Error(noCli);
        const failed = outcomes.find((o) => o.code !== 0);
        if (containers.length > 0 && !failed) return;
        const output = failed?.output ?? `no task of the service ${inputs.container} runs yet`;
        // Only a config Caddy refused is final; an edge still starting (or restarting) is waited for.
        const refused = /caddy responded with error: HTTP 4\d\d/.test(output);
        if (refused || Date.now() > deadline) {
            throw new Error(`the edge ${inputs.container} did not take its routes: ${output.trim().split("\n").slice(-1)[0] ?? `docker exec exited ${failed?.code}`}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
    }
}

export interface EdgeRoutesArgs {
    readonly dockerHost: pulumi.Input<string>;
    readonly container: pulumi.Input<string>;
    readonly kind: "container" | "service";
    readonly config: pulumi.Input<string>;
}

/** The routes loaded into one edge. */
export class EdgeRoutes extends pulumi.dynamic.Resource {
    constructor(name: string, args: EdgeRoutesArgs, opts?: pulumi.CustomResourceOptions) {
        // Its type token is EDGE_ROUTES_TYPE: the CLI targets it with the agents whose containers it names.
        super(provider, name, args, opts, "agent-fleet", "EdgeRoutes");
    }
}
