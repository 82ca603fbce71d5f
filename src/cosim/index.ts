// The co-simulation client: protocol schemas, the Harness process/connection and its errors.
export * from "./protocol.js";
export * from "./errors.js";
export * from "./harness.js";
