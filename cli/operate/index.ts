export * from "./common";
export * from "./release";
export * from "./stack-edit";
export * from "./flag";
export * from "./rollback";
export * from "./targets";
export * from "./deploy";
export * from "./doctor";
