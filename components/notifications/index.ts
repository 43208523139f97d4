export * from "./deploy-hooks";
