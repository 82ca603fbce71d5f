// The contract between the layers: the offload device's commands, events and CQEs (docs/offload-contract.md),
// host memory shared by device, driver and ULP, the Linux ulp_ddp API and the skbs the driver hands TCP.

export * from "./hash.js";
export * from "./host-memory.js";
export * from "./protocol.js";
export * from "./skb.js";
export * from "./ulp-ddp.js";
