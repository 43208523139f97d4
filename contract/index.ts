export * from "./go-duration";
export * from "./image-ref";
export * from "./names";
export * from "./severity";
export * from "./watch";
export * from "./smoke-check";
export * from "./operation-lock";
