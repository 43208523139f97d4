export * from "./sentinel";
