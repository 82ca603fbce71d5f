// The kernel-style NIC driver: ULP DDP device ops over an OffloadDevice, skbs for TCP, the netlink family.

export * from "./driver.js";
export * from "./netlink.js";
export * from "./skb.js";
export * from "./ulp-ddp.js";
