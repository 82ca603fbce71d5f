// Golden model of ddp_parser's verdict, written from the RFCs (Ethernet II + 802.1Q, RFC 791 IPv4,
// RFC 8200 IPv6, RFC 9293 TCP, RFC 1071 checksum), one frame at a time with plain byte offsets. It shares
// nothing with the RTL but the documented order of the checks (rtl/ddp_parser.sv header), which decides the
// reason when a frame has several faults.

import { pseudoHeaderSum, sumVerifies, sumWords } from "../../../src/net/checksum.js";

export const Reason = {
  ok: 0,
  notIp: 1,
  truncated: 2,
  badLength: 3,
  ipCsum: 4,
  fragment: 5,
  ipv6Ext: 6,
  notTcp: 7,
  tcpCsum: 8,
  oversize: 9,
} as const;
export type ReasonCode = (typeof Reason)[keyof typeof Reason];

export function reasonName(code: number): string {
  return Object.entries(Reason).find(([, v]) => v === code)?.[0] ?? `reason ${code}`;
}

export interface Verdict {
  ok: boolean;
  reason: ReasonCode;
  ipv6: boolean;
  /** Addresses as unsigned integers, IPv4 in the low 32 bits. */
  srcIp: bigint;
  dstIp: bigint;
  srcPort: number;
  dstPort: number;
  seq: number;
  tcpFlags: number;
  payloadOff: number;
  payloadLen: number;
  frameLen: number;
}

// IPv6 extension headers (RFC 8200 section 4, IANA "IPv6 Extension Header Types").
const IPV6_EXTENSION_HEADERS = new Set([0, 43, 44, 50, 51, 60, 135, 139, 140, 253, 254]);

function be16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function be32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function bigBe(b: Uint8Array, at: number, n: number): bigint {
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(b[at + i]!);
  return v;
}

/** The verdict ddp_parser must give for `frame` (Ethernet, no FCS). */
export function parserVerdict(frame: Uint8Array, maxFrame = 9216): Verdict {
  const frameLen = frame.length;
  const fail = (reason: ReasonCode): Verdict => ({
    ok: false, reason, ipv6: false, srcIp: 0n, dstIp: 0n, srcPort: 0, dstPort: 0, seq: 0, tcpFlags: 0,
    payloadOff: 0, payloadLen: 0, frameLen,
  });

  if (frameLen > maxFrame) return fail(Reason.oversize);
  // Ethernet: 6 + 6 address bytes, then either the ethertype or a 4-byte 802.1Q tag and the ethertype.
  if (frameLen < 14) return fail(Reason.truncated);
  const tagged = be16(frame, 12) === 0x8100;
  const l3 = tagged ? 18 : 14;
  if (frameLen < l3) return fail(Reason.truncated);
  const etherType = be16(frame, l3 - 2);
  if (etherType !== 0x0800 && etherType !== 0x86dd) return fail(Reason.notIp);
  const ipv6 = etherType === 0x86dd;
  if (frameLen < l3 + (ipv6 ? 40 : 20)) return fail(Reason.truncated);
  if (frame[l3]! >> 4 !== (ipv6 ? 6 : 4)) return fail(Reason.notIp);

  let l4: number;
  let ipEnd: number;
  let srcIp: bigint;
  let dstIp: bigint;
  if (!ipv6) {
    const headerLen = (frame[l3]! & 0x0f) * 4;
    const totalLen = be16(frame, l3 + 2);
    if (headerLen < 20 || totalLen < headerLen) return fail(Reason.badLength);
    if (frameLen < l3 + headerLen) return fail(Reason.truncated);
    if (!sumVerifies(sumWords(frame, l3, l3 + headerLen))) return fail(Reason.ipCsum);
    const moreFragments = (frame[l3 + 6]! & 0x20) !== 0;
    const fragmentOffset = be16(frame, l3 + 6) & 0x1fff;
    if (moreFragments || fragmentOffset !== 0) return fail(Reason.fragment);
    if (frame[l3 + 9] !== 6) return fail(Reason.notTcp);
    l4 = l3 + headerLen;
    ipEnd = l3 + totalLen;
    srcIp = bigBe(frame, l3 + 12, 4);
    dstIp = bigBe(frame, l3 + 16, 4);
  } else {
    const nextHeader = frame[l3 + 6]!;
    if (IPV6_EXTENSION_HEADERS.has(nextHeader)) return fail(Reason.ipv6Ext);
    if (nextHeader !== 6) return fail(Reason.notTcp);
    l4 = l3 + 40;
    ipEnd = l4 + be16(frame, l3 + 4);
    srcIp = bigBe(frame, l3 + 8, 16);
    dstIp = bigBe(frame, l3 + 24, 16);
  }
  // The datagram ends at ipEnd; bytes after it (Ethernet padding) are not part of the segment.
  if (frameLen < ipEnd) return fail(Reason.truncated);
  const segLen = ipEnd - l4;
  if (segLen < 20) return fail(Reason.badLength);
  const dataOffset = (frame[l4 + 12]! >> 4) * 4;
  if (dataOffset < 20 || dataOffset > segLen) return fail(Reason.badLength);

  const addrLen = ipv6 ? 16 : 4;
  const srcAt = ipv6 ? l3 + 8 : l3 + 12;
  const pseudo = pseudoHeaderSum(frame.subarray(srcAt, srcAt + addrLen),
    frame.subarray(srcAt + addrLen, srcAt + 2 * addrLen), 6, segLen);
  if (!sumVerifies(sumWords(frame, l4, ipEnd, pseudo))) return fail(Reason.tcpCsum);

  return {
    ok: true, reason: Reason.ok, ipv6, srcIp, dstIp,
    srcPort: be16(frame, l4), dstPort: be16(frame, l4 + 2), seq: be32(frame, l4 + 4), tcpFlags: frame[l4 + 13]!,
    payloadOff: l4 + dataOffset, payloadLen: ipEnd - l4 - dataOffset, frameLen,
  };
}
