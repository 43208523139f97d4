export * from "./agentService";
export * from "./image";
