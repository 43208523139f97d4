export { Edge } from "./edge";
export { EDGE_AGENT_HEADER, EdgeRoute, edgeCaddyConfig } from "./caddy-config";
