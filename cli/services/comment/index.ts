/** `fleet comment`: PR preview reports from engine event logs. */
export * from "./run";
export * from "./events";
export * from "../github";
export * from "./labels";
export * from "./preview";
export * from "./redact";
export * from "./render";
