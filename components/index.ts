export * from "./agent-service";
export * from "./fleet";
export * from "./runtimes";
export * from "./transform";
export * from "./github-provider";
export * from "./notifications";
export * from "./sentinel";
export * from "./github-governance";
