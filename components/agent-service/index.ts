export * from "./agentService";
export * from "./image";
export * from "./webhooks";
