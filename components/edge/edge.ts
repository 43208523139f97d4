import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { EdgeSpec } from "../../config";
import type { Environment } from "../../contract";
import { COMPONENT_TYPES, EDGE_DATA_DIR, EDGE_ROLE, LABELS } from "../../contract";
import { ACME_CA_ROOT_FILE, EdgeRoute, edgeCaddyConfig } from "./caddy-config";
import { EdgeRoutes } from "./routes";

export interface EdgeArgs {
    /** `fleet.edge`. */
    readonly spec: EdgeSpec;
    readonly environment: Environment;
    readonly stack: string;
    /** The fleet network of its host: the edge reaches the agents' containers there by name. */
    readonly networkName: pulumi.Input<string>;
    /** The exposed agents on this host, with their containers' names once they passed the health gate. */
    readonly routes: pulumi.Input<readonly EdgeRoute[]>;
    /** How the program reaches the host's engine for loading routes: "ssh://…", or "" for the stack's one engine. */
    readonly dockerHost: string;
    /** The `fleet.hosts` name of its host; absent when the stack names none. */
    readonly host?: string;
}

/**
 * The HTTPS edge of one host: Caddy in a container of its own on the fleet
 * network, publishing the HTTP and HTTPS ports, its certificates in a volume
 * (a replaced edge keeps them), and its routes loaded separately (EdgeRoutes),
 * so that a deploy changes routes without touching the edge container. The
 * container is replaced only when its image or ports change; with fixed host
 * ports that replacement stops the old edge before the new one starts.
 */
export class Edge extends pulumi.ComponentResource {
    /** The edge container's name. */
    public readonly containerName: pulumi.Output<string>;

    constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.edge, name, {}, opts);
        const { spec } = args;
        const labels = [
            { label: LABELS.stack, value: args.stack },
            { label: LABELS.environment, value: args.environment },
        ];
        const data = new docker.Volume(`${name}-data`, { labels }, { parent: this, retainOnDelete: true });
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
        const config = pulumi.output(args.routes).apply((routes) => JSON.stringify(edgeCaddyConfig(spec, args.environment, routes)));
        new EdgeRoutes(`${name}-routes`, { dockerHost: args.dockerHost, container: container.name, config }, { parent: this });
        this.containerName = container.name;
        this.registerOutputs({ containerName: this.containerName });
    }
}
