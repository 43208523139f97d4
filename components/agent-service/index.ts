export * from "./agentService";
