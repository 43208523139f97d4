/** Alert and deploy-notification delivery: events, per-channel formats, webhook signatures, retrying delivery. */
export * from "./deliver";
export * from "./event";
export * from "./format";
export * from "./sign";
export * from "./routing";
