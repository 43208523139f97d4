export * from "./fleet";
