export * from "./deploy-hooks";
export * from "./targets";
