// The offload block's reference model: interface schemas, the model itself, and host memory with guard bytes.

export * from "./host-memory.js";
export * from "./offload-model.js";
export * from "./protocol.js";
