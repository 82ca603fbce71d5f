// Capture files as a list of Ethernet frames: classic pcap or pcapng (readCapture), and every link type a capture
// of NVMe/TCP is commonly taken with, turned into the Ethernet frame a NIC would have received (ethernetFrame):
// Ethernet itself, Linux cooked captures (SLL, SLL2: what `tcpdump -i any` writes), raw IP and BSD loopback.
// Link types: https://www.tcpdump.org/linktypes.html

import { ETHERTYPE } from "./frame.js";
import { ParseError } from "./errors.js";
import { isPcapng, readPcapng } from "./pcapng.js";
import { readPcap } from "./pcap.js";

export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export interface CaptureRecord {
  data: Uint8Array;
  /** The frame's length on the wire (more than data.length when the snap length cut it). */
  originalLength: number;
  linkType: number;
  timeUs: number;
}

export interface CaptureFile {
  format: "pcap" | "pcapng";
  records: CaptureRecord[];
}

/** Reads a pcap or pcapng image (by its magic). Throws ParseError for anything else or a truncated file. */
export function readCapture(bytes: Uint8Array): CaptureFile {
  if (isPcapng(bytes)) return { format: "pcapng", records: readPcapng(bytes) };
  const pcap = readPcap(bytes);
  return { format: "pcap", records: pcap.records.map((r) => ({ ...r, linkType: pcap.linkType })) };
}

const SLL_HEADER = 16;
const SLL2_HEADER = 20;
/** Destination MAC of synthesized Ethernet headers: cooked and IP captures do not keep one. */
const NO_MAC = new Uint8Array(6);

/** Whether frames of this link type can be turned into Ethernet frames. */
export function linkTypeSupported(linkType: number): boolean {
  return (Object.values(LinkType) as number[]).includes(linkType);
}

/**
 * The Ethernet frame a NIC would have received for a captured frame of `linkType`: the frame itself for Ethernet,
 * else an Ethernet header (source MAC from a cooked capture's link-layer address when it has one) in front of the
 * network-layer packet. Throws ParseError when the link-layer header is cut short or names no network protocol.
 */
export function ethernetFrame(linkType: number, data: Uint8Array): Uint8Array {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const need = (n: number, what: string): void => {
    if (data.length < n) throw new ParseError("link", 0, `${what} needs ${n} bytes, the frame has ${data.length}`);
  };
  switch (linkType) {
    case LinkType.ETHERNET:
      return data;
    case LinkType.LINUX_SLL: {
      need(SLL_HEADER, "Linux cooked (SLL) header");
      const addrLen = view.getUint16(4);
      return withEthernet(addrLen === 6 ? data.subarray(6, 12) : NO_MAC, view.getUint16(14), data.subarray(SLL_HEADER));
    }
    case LinkType.LINUX_SLL2: {
      need(SLL2_HEADER, "Linux cooked (SLL2) header");
      const addrLen = view.getUint8(11);
      return withEthernet(addrLen === 6 ? data.subarray(12, 18) : NO_MAC, view.getUint16(0), data.subarray(SLL2_HEADER));
    }
    case LinkType.RAW:
    case LinkType.IPV4:
    case LinkType.IPV6: {
      need(1, "IP header");
      return withEthernet(NO_MAC, ipEtherType(data[0]! >>> 4), data);
    }
    case LinkType.NULL:
    case LinkType.LOOP: {
      need(4, "loopback header");
      // The address family, in the capturing host's byte order for NULL, big-endian for LOOP.
      const family = linkType === LinkType.LOOP ? view.getUint32(0) : Math.min(view.getUint32(0, true), view.getUint32(0, false));
      return withEthernet(NO_MAC, family === 2 ? ETHERTYPE.ipv4 : [10, 24, 28, 30].includes(family) ? ETHERTYPE.ipv6 : ipEtherType(data[4]! >>> 4), data.subarray(4));
    }
    default:
      throw new ParseError("link", 0, `link type ${linkType} is not supported`);
  }
}

function ipEtherType(version: number): number {
  if (version === 4) return ETHERTYPE.ipv4;
  if (version === 6) return ETHERTYPE.ipv6;
  throw new ParseError("link", 0, `IP version ${version} in a raw IP capture`);
}

function withEthernet(src: Uint8Array, etherType: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(14 + payload.length);
  frame.set(NO_MAC, 0);
  frame.set(src, 6);
  frame[12] = etherType >>> 8;
  frame[13] = etherType & 0xff;
  frame.set(payload, 14);
  return frame;
}
