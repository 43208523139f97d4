export { Edge } from "./edge";
export { EDGE_BODY_TOO_LARGE, EdgeRoute, edgeCaddyConfig } from "./caddy-config";
