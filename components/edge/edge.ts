import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { EdgeSpec, RuntimeName } from "../../config";
import type { Environment } from "../../contract";
import { COMPONENT_TYPES, EDGE_DATA_DIR, EDGE_ROLE, LABELS } from "../../contract";
import { ACME_CA_ROOT_FILE, EdgeRoute, edgeCaddyConfig } from "./caddy-config";
import { SWARM_SERVICE_READ_BACK } from "../runtimes";
import { EdgeRoutes } from "./routes";

export interface EdgeArgs {
    /** `fleet.edge`. */
    readonly spec: EdgeSpec;
    readonly environment: Environment;
    readonly stack: string;
    /** `fleet.runtime`: a container on the host, or a global service on the swarm's nodes. */
    readonly runtime: RuntimeName;
    /** The fleet network of its host: the edge reaches the agents there by name. */
    readonly networkName: pulumi.Input<string>;
    /** The same network's id: a service names its networks by id (read back so; a name would replace it on every refresh). */
    readonly networkId: pulumi.Input<string>;
    /** The exposed agents on this host, with their containers' (or services') names once they passed the health gate. */
    readonly routes: pulumi.Input<readonly EdgeRoute[]>;
    /** How the program reaches the host's engine for loading routes: "ssh://…", or "" for the stack's one engine. */
    readonly dockerHost: string;
    /** The `fleet.hosts` name of its host; absent when the stack names none. */
    readonly host?: string;
}

/** What runs Caddy: its container's or its service's name, and which of the two it is. */
interface EdgeRunner {
    readonly name: pulumi.Output<string>;
    readonly kind: "container" | "service";
}

/**
 * The HTTPS edge of one host: Caddy on the fleet network, publishing the HTTP
 * and HTTPS ports, its certificates in a volume (a replaced edge keeps them),
 * and its routes loaded separately (EdgeRoutes), so that a deploy changes
 * routes without touching the edge. On the container runtime it is a
 * container; on the swarm, a global service on the nodes its placement
 * constraints pick. Either is replaced (or updated) only when its image or
 * ports change; with fixed host ports the old edge stops before the new one
 * starts.
 */
export class Edge extends pulumi.ComponentResource {
    /** The edge container's name, or on the swarm its service's. */
    public readonly containerName: pulumi.Output<string>;

    constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.edge, name, {}, opts);
        const labels = [
            { label: LABELS.stack, value: args.stack },
            { label: LABELS.environment, value: args.environment },
        ];
        const data = new docker.Volume(`${name}-data`, { labels }, { parent: this, retainOnDelete: true });
        const runner = args.runtime === "swarm" ? this.service(name, args, labels, data) : this.container(name, args, labels, data);
        const config = pulumi.output(args.routes).apply((routes) => JSON.stringify(edgeCaddyConfig(args.spec, args.environment, routes)));
        new EdgeRoutes(`${name}-routes`, { dockerHost: args.dockerHost, container: runner.name, kind: runner.kind, config }, { parent: this });
        this.containerName = runner.name;
        this.registerOutputs({ containerName: this.containerName });
    }

    private container(name: string, args: EdgeArgs, labels: readonly docker.types.input.ContainerLabel[], data: docker.Volume): EdgeRunner {
        const { spec } = args;
        const container = new docker.Container(`${name}-caddy`, {
            image: spec.image,
            // --resume: a restarted edge serves the routes it last took, before the next deploy loads them again.
            command: ["caddy", "run", "--resume"],
            envs: [`XDG_DATA_HOME=${EDGE_DATA_DIR}`, `XDG_CONFIG_HOME=${EDGE_DATA_DIR}/config`],
            volumes: [{ volumeName: data.name, containerPath: EDGE_DATA_DIR }],
            ...(spec.acmeCaRoot ? { uploads: [{ file: ACME_CA_ROOT_FILE, content: spec.acmeCaRoot }] } : {}),
            networksAdvanced: [{ name: args.networkName }],
            ports: [
                { internal: spec.httpPort, external: spec.httpPort, ip: spec.listenAddress },
                { internal: spec.httpsPort, external: spec.httpsPort, ip: spec.listenAddress },
            ],
            restart: "unless-stopped",
            labels: [...labels, { label: LABELS.role, value: EDGE_ROLE }, ...(args.host ? [{ label: LABELS.host, value: args.host }] : [])],
            // Fixed host ports: the old edge must free them before a new one can start.
        }, { parent: this, deleteBeforeReplace: true });
        return { name: container.name, kind: "container" };
    }

    /**
     * One Caddy task on each node the placement constraints pick, publishing its
     * ports on that node (host mode: the routing mesh is not needed, and the
     * client's address reaches the access log). The agents are reached by their
     * service names, which Swarm's DNS answers with healthy tasks only.
     */
    private service(name: string, args: EdgeArgs, labels: readonly docker.types.input.ContainerLabel[], data: docker.Volume): EdgeRunner {
        const { spec } = args;
        // The ACME CA's root as a Swarm config: every node's task gets the file, not only the deploying engine's.
        const caRoot = spec.acmeCaRoot
            ? new docker.ServiceConfig(`${name}-acme-ca-root`, { data: Buffer.from(spec.acmeCaRoot, "utf8").toString("base64") }, { parent: this, deleteBeforeReplace: false })
            : undefined;
        const service = new docker.Service(`${name}-caddy`, {
            labels: [...labels, { label: LABELS.role, value: EDGE_ROLE }],
            mode: { global: true },
            taskSpec: {
                containerSpec: {
                    image: spec.image,
                    commands: ["caddy", "run", "--resume"],
                    env: { XDG_DATA_HOME: EDGE_DATA_DIR, XDG_CONFIG_HOME: `${EDGE_DATA_DIR}/config` },
                    // `fleet verify` finds the edge on a node by these, as it finds the container runtime's edge.
                    labels: [...labels, { label: LABELS.role, value: EDGE_ROLE }],
                    // The deploying engine's volume is the resource (kept on delete); other nodes get one of that name on first use.
                    mounts: [{ type: "volume", source: data.name, target: EDGE_DATA_DIR }],
                    ...(caRoot ? { configs: [{ configId: caRoot.id, configName: caRoot.name, fileName: ACME_CA_ROOT_FILE }] } : {}),
                },
                placement: { constraints: [...spec.placementConstraints] },
                networksAdvanceds: [{ id: args.networkId }],
            },
            endpointSpec: {
                mode: "dnsrr",
                ports: [spec.httpPort, spec.httpsPort].map((port) => ({ targetPort: port, publishedPort: port, publishMode: "host", protocol: "tcp" })),
            },
            // Fixed host ports: a node's old task must free them before its new one starts.
            updateConfig: { parallelism: 1, order: "stop-first", failureAction: "pause" },
        }, { parent: this, ...SWARM_SERVICE_READ_BACK });
        return { name: service.name, kind: "service" };
    }
}
