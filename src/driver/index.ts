// The kernel-style NIC driver: ULP DDP device ops over an OffloadDevice, and the ulp_ddp netlink family.

export * from "./driver.js";
export * from "./netlink.js";
