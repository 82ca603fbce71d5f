// The network layer: frames (Ethernet / 802.1Q / IPv4 / IPv6 / TCP / UDP), checksums, capture files (pcap, pcapng;
// Ethernet, cooked and raw IP link types), and the two halves of a TCP stream (MSS segmentation on send,
// reassembly on receive). Nothing here knows about NVMe.

export * from "./addr.js";
export * from "./capture-file.js";
export * from "./checksum.js";
export * from "./errors.js";
export * from "./frame.js";
export * from "./pcap.js";
export * from "./pcapng.js";
export * from "./seq.js";
export * from "./tcp-receiver.js";
export * from "./tcp-sender.js";
