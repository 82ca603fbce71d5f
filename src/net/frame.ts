// Ethernet II (optional 802.1Q tag) / IPv4 / IPv6 / TCP / UDP frames: build and parse.
//
// Building:  buildTcpFrame(spec)  -> a complete Ethernet frame (no FCS, no padding), IP and TCP checksums filled in.
//            buildUdpFrame(spec), buildIpFrame(spec) (any protocol, IPv4 fragments), buildEthernetFrame(l2, type, payload)
//            are there for pass-through traffic that the offload must leave alone.
// Parsing:   parseFrame(bytes) -> ParsedFrame. Every length is checked before it is read; malformed input throws
//            ParseError (layer + byte offset). Bad checksums are not errors: they are reported as checksumOk = false.
//            Payload and the returned views alias the input buffer (no copies).
// Addresses: strings in canonical form (see addr.ts), so parsed addresses compare equal to built ones.
// Sequence/ack numbers are unsigned 32-bit numbers; compare them with seq.ts, never with < or >.

import { ipToBytes, ipv4ToString, ipv6ToString, macToBytes, macToString } from "./addr.js";
import { checksumOf, pseudoHeaderSum, sumVerifies, sumWords } from "./checksum.js";
import { ParseError } from "./errors.js";

export const ETHERTYPE = { ipv4: 0x0800, arp: 0x0806, vlan: 0x8100, ipv6: 0x86dd } as const;
export const IPPROTO = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58 } as const;

const ETH_HEADER = 14;
const VLAN_TAG = 4;
const IPV4_HEADER = 20;
const IPV6_HEADER = 40;
const TCP_HEADER = 20;
const UDP_HEADER = 8;
const TCP_MAX_OPTIONS = 40;

// ---------------------------------------------------------------------------------------------------------------
// Types

/** 802.1Q tag: VLAN id 0..4095, priority 0..7, drop-eligible bit. */
export interface VlanTag {
  vid: number;
  pcp?: number;
  dei?: boolean;
}

export interface L2Address {
  srcMac: string;
  dstMac: string;
  vlan?: VlanTag;
}

/** Everything that names one direction of a TCP (or UDP) flow, from Ethernet up. */
export interface FlowAddress extends L2Address {
  ipVersion: 4 | 6;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
}

export interface TcpFlags {
  fin?: boolean;
  syn?: boolean;
  rst?: boolean;
  psh?: boolean;
  ack?: boolean;
  urg?: boolean;
  ece?: boolean;
  cwr?: boolean;
}

/** TCP options (RFC 9293, 7323, 2018). Unknown kinds travel as "raw" (code + the bytes after the length byte). */
export type TcpOption =
  | { kind: "nop" }
  | { kind: "mss"; value: number }
  | { kind: "wscale"; shift: number }
  | { kind: "sackPermitted" }
  | { kind: "sack"; blocks: { left: number; right: number }[] }
  | { kind: "timestamps"; tsval: number; tsecr: number }
  | { kind: "raw"; code: number; data: Uint8Array };

/** Fields shared by every IP frame the builder makes. Defaults: ttl 64, ipId 0, tos 0, flowLabel 0. */
interface IpHeaderFields {
  ipId?: number;
  ttl?: number;
  /** IPv4 TOS / IPv6 traffic class byte. */
  tos?: number;
  /** IPv6 only. */
  flowLabel?: number;
}

export interface TcpSegmentSpec extends FlowAddress, IpHeaderFields {
  seq: number;
  ack: number;
  flags: TcpFlags;
  /** Default 65535. */
  window?: number;
  urgent?: number;
  options?: TcpOption[];
  payload: Uint8Array;
}

export interface UdpDatagramSpec extends FlowAddress, IpHeaderFields {
  payload: Uint8Array;
}

export interface IpFrameSpec extends L2Address, IpHeaderFields {
  ipVersion: 4 | 6;
  srcIp: string;
  dstIp: string;
  protocol: number;
  /** Everything after the IP header, verbatim (its checksum, if any, is the caller's business). */
  payload: Uint8Array;
  /** IPv4 only: this packet is a fragment; offset in bytes (multiple of 8). Fragments never set DF. */
  fragment?: { offset: number; more: boolean };
  /** IPv4 only: Don't Fragment. Default true for unfragmented packets (as Linux sends TCP). */
  dontFragment?: boolean;
}

export interface ParsedEthernet {
  dstMac: string;
  srcMac: string;
  /** The EtherType after any VLAN tag. */
  etherType: number;
}

export interface ParsedVlan {
  vid: number;
  pcp: number;
  dei: boolean;
}

interface ParsedIpCommon {
  src: string;
  dst: string;
  /** Upper-layer protocol (for IPv6: after extension headers). */
  protocol: number;
  /** TTL / hop limit. */
  ttl: number;
  /** IPv4 header incl. options / IPv6 header incl. extension headers, in bytes. */
  headerLength: number;
  /** Header plus payload: what the IP header says, Ethernet padding excluded. */
  totalLength: number;
  /** A fragment (other than an IPv6 atomic fragment): the L4 header is not parsed. */
  isFragment: boolean;
}

export interface ParsedIpv4 extends ParsedIpCommon {
  version: 4;
  tos: number;
  id: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** In bytes. */
  fragmentOffset: number;
  checksumOk: boolean;
}

export interface ParsedIpv6 extends ParsedIpCommon {
  version: 6;
  trafficClass: number;
  flowLabel: number;
}

export type ParsedIp = ParsedIpv4 | ParsedIpv6;

export interface ParsedTcp {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: Required<TcpFlags>;
  window: number;
  urgent: number;
  options: TcpOption[];
  headerLength: number;
  checksum: number;
  checksumOk: boolean;
}

export interface ParsedUdp {
  srcPort: number;
  dstPort: number;
  length: number;
  checksum: number;
  /** True also when an IPv4 datagram carries no checksum (0). */
  checksumOk: boolean;
}

export interface ParsedFrame {
  eth: ParsedEthernet;
  vlan?: ParsedVlan;
  ip?: ParsedIp;
  tcp?: ParsedTcp;
  udp?: ParsedUdp;
  /** Offset of the IP header (or whatever follows the Ethernet/VLAN header). */
  l3Offset: number;
  /** Offset of the TCP/UDP header, when one was parsed. */
  l4Offset?: number;
  /** The innermost payload: TCP/UDP data, else the IP payload, else the Ethernet payload. Padding excluded. */
  payload: Uint8Array;
  payloadOffset: number;
  /** Every checksum present (IPv4 header, TCP, UDP) verifies. */
  checksumOk: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Building

export function buildEthernetFrame(l2: L2Address, etherType: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(l2HeaderLength(l2) + payload.length);
  frame.set(payload, writeL2(frame, l2, etherType));
  return frame;
}

export function buildIpFrame(spec: IpFrameSpec): Uint8Array {
  const { frame, l4Offset } = allocateIpFrame(spec, spec.protocol, spec.payload.length);
  frame.set(spec.payload, l4Offset);
  return frame;
}

export function buildTcpFrame(spec: TcpSegmentSpec): Uint8Array {
  const options = encodeTcpOptions(spec.options ?? []);
  const tcpLength = TCP_HEADER + options.length + spec.payload.length;
  const { frame, view, l4Offset, pseudoSum } = allocateIpFrame(spec, IPPROTO.tcp, tcpLength);
  const o = l4Offset;
  checkU16(spec.srcPort, "srcPort");
  checkU16(spec.dstPort, "dstPort");
  view.setUint16(o, spec.srcPort);
  view.setUint16(o + 2, spec.dstPort);
  view.setUint32(o + 4, spec.seq >>> 0);
  view.setUint32(o + 8, spec.ack >>> 0);
  frame[o + 12] = ((TCP_HEADER + options.length) / 4) << 4;
  frame[o + 13] = encodeTcpFlags(spec.flags);
  view.setUint16(o + 14, checkU16(spec.window ?? 65535, "window"));
  view.setUint16(o + 18, checkU16(spec.urgent ?? 0, "urgent"));
  frame.set(options, o + TCP_HEADER);
  frame.set(spec.payload, o + TCP_HEADER + options.length);
  view.setUint16(o + 16, checksumOf(sumWords(frame, o, o + tcpLength, pseudoSum)));
  return frame;
}

export function buildUdpFrame(spec: UdpDatagramSpec): Uint8Array {
  const udpLength = UDP_HEADER + spec.payload.length;
  const { frame, view, l4Offset: o, pseudoSum } = allocateIpFrame(spec, IPPROTO.udp, udpLength);
  view.setUint16(o, checkU16(spec.srcPort, "srcPort"));
  view.setUint16(o + 2, checkU16(spec.dstPort, "dstPort"));
  view.setUint16(o + 4, checkU16(udpLength, "UDP length"));
  frame.set(spec.payload, o + UDP_HEADER);
  // A computed 0 is sent as 0xffff: 0 means "no checksum" (RFC 768).
  view.setUint16(o + 6, checksumOf(sumWords(frame, o, o + udpLength, pseudoSum)) || 0xffff);
  return frame;
}

export function encodeTcpFlags(flags: TcpFlags): number {
  return (
    (flags.fin ? 0x01 : 0) |
    (flags.syn ? 0x02 : 0) |
    (flags.rst ? 0x04 : 0) |
    (flags.psh ? 0x08 : 0) |
    (flags.ack ? 0x10 : 0) |
    (flags.urg ? 0x20 : 0) |
    (flags.ece ? 0x40 : 0) |
    (flags.cwr ? 0x80 : 0)
  );
}

/** Option bytes, padded with zeros (end-of-list) to a multiple of 4; at most 40 bytes. */
export function encodeTcpOptions(options: readonly TcpOption[]): Uint8Array {
  const bytes: number[] = [];
  const u16 = (v: number): void => void bytes.push((v >>> 8) & 0xff, v & 0xff);
  const u32 = (v: number): void => void bytes.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  for (const opt of options) {
    switch (opt.kind) {
      case "nop":
        bytes.push(1);
        break;
      case "mss":
        bytes.push(2, 4);
        u16(checkU16(opt.value, "MSS"));
        break;
      case "wscale":
        bytes.push(3, 3, opt.shift & 0xff);
        break;
      case "sackPermitted":
        bytes.push(4, 2);
        break;
      case "sack":
        bytes.push(5, 2 + 8 * opt.blocks.length);
        for (const b of opt.blocks) {
          u32(b.left);
          u32(b.right);
        }
        break;
      case "timestamps":
        bytes.push(8, 10);
        u32(opt.tsval);
        u32(opt.tsecr);
        break;
      case "raw":
        bytes.push(opt.code & 0xff, opt.data.length + 2, ...opt.data);
        break;
    }
  }
  while (bytes.length % 4 !== 0) bytes.push(0);
  if (bytes.length > TCP_MAX_OPTIONS) throw new RangeError(`TCP options take ${bytes.length} bytes, at most ${TCP_MAX_OPTIONS} fit`);
  return Uint8Array.from(bytes);
}

/** The same flow seen from the other end (MACs, IPs and ports swapped, same VLAN). */
export function reverseFlow(addr: FlowAddress): FlowAddress {
  return {
    ...addr,
    srcMac: addr.dstMac,
    dstMac: addr.srcMac,
    srcIp: addr.dstIp,
    dstIp: addr.srcIp,
    srcPort: addr.dstPort,
    dstPort: addr.srcPort,
  };
}

function l2HeaderLength(l2: L2Address): number {
  return ETH_HEADER + (l2.vlan ? VLAN_TAG : 0);
}

/** Writes the Ethernet (+ VLAN) header, returns the offset right after it. */
function writeL2(frame: Uint8Array, l2: L2Address, etherType: number): number {
  frame.set(macToBytes(l2.dstMac), 0);
  frame.set(macToBytes(l2.srcMac), 6);
  let o = 12;
  if (l2.vlan) {
    const { vid, pcp = 0, dei = false } = l2.vlan;
    if (vid < 0 || vid > 4095 || pcp < 0 || pcp > 7) throw new RangeError(`bad VLAN tag vid=${vid} pcp=${pcp}`);
    writeU16(frame, o, ETHERTYPE.vlan);
    writeU16(frame, o + 2, (pcp << 13) | (dei ? 0x1000 : 0) | vid);
    o += VLAN_TAG;
  }
  writeU16(frame, o, etherType);
  return o + 2;
}

interface IpFrameLayout {
  frame: Uint8Array;
  view: DataView;
  l4Offset: number;
  /** Pseudo-header sum for the TCP/UDP checksum. */
  pseudoSum: number;
}

/** A frame with Ethernet and IP headers written and room for `l4Length` bytes after them. */
function allocateIpFrame(
  spec: L2Address & IpHeaderFields & Pick<IpFrameSpec, "ipVersion" | "srcIp" | "dstIp" | "fragment" | "dontFragment">,
  protocol: number,
  l4Length: number,
): IpFrameLayout {
  const src = ipToBytes(spec.ipVersion, spec.srcIp);
  const dst = ipToBytes(spec.ipVersion, spec.dstIp);
  const l3Offset = l2HeaderLength(spec);
  const ipHeader = spec.ipVersion === 4 ? IPV4_HEADER : IPV6_HEADER;
  const frame = new Uint8Array(l3Offset + ipHeader + l4Length);
  const view = new DataView(frame.buffer);
  writeL2(frame, spec, spec.ipVersion === 4 ? ETHERTYPE.ipv4 : ETHERTYPE.ipv6);
  const o = l3Offset;
  const ttl = spec.ttl ?? 64;
  if (spec.ipVersion === 4) {
    const frag = spec.fragment;
    if (frag && frag.offset % 8 !== 0) throw new RangeError(`IPv4 fragment offset ${frag.offset} is not a multiple of 8`);
    const df = !frag && (spec.dontFragment ?? true);
    frame[o] = 0x45;
    frame[o + 1] = spec.tos ?? 0;
    view.setUint16(o + 2, checkU16(IPV4_HEADER + l4Length, "IPv4 total length"));
    view.setUint16(o + 4, checkU16(spec.ipId ?? 0, "ipId"));
    view.setUint16(o + 6, (df ? 0x4000 : 0) | (frag?.more ? 0x2000 : 0) | ((frag?.offset ?? 0) / 8));
    frame[o + 8] = ttl;
    frame[o + 9] = protocol;
    frame.set(src, o + 12);
    frame.set(dst, o + 16);
    view.setUint16(o + 10, checksumOf(sumWords(frame, o, o + IPV4_HEADER)));
  } else {
    if (spec.fragment) throw new RangeError("IPv6 fragments are not built (use buildIpFrame with a fragment header in the payload)");
    view.setUint32(o, (6 << 28) | ((spec.tos ?? 0) << 20) | ((spec.flowLabel ?? 0) & 0xfffff));
    view.setUint16(o + 4, checkU16(l4Length, "IPv6 payload length"));
    frame[o + 6] = protocol;
    frame[o + 7] = ttl;
    frame.set(src, o + 8);
    frame.set(dst, o + 24);
  }
  return { frame, view, l4Offset: o + ipHeader, pseudoSum: pseudoHeaderSum(src, dst, protocol, l4Length) };
}

function writeU16(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 8;
  bytes[offset + 1] = value & 0xff;
}

function checkU16(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new RangeError(`${what} ${value} does not fit 16 bits`);
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing

/** Bounds-checked big-endian reads over one buffer; every failure names the layer and the offset. */
class Reader {
  constructor(readonly bytes: Uint8Array) {}

  need(layer: string, offset: number, length: number, what: string): void {
    if (offset + length > this.bytes.length) {
      throw new ParseError(layer, offset, `${what} needs ${length} bytes, only ${Math.max(0, this.bytes.length - offset)} left`);
    }
  }
  u8(offset: number): number {
    return this.bytes[offset]!;
  }
  u16(offset: number): number {
    return (this.bytes[offset]! << 8) | this.bytes[offset + 1]!;
  }
  u32(offset: number): number {
    return ((this.bytes[offset]! << 24) | (this.bytes[offset + 1]! << 16) | (this.bytes[offset + 2]! << 8) | this.bytes[offset + 3]!) >>> 0;
  }
}

export interface ParseOptions {
  /**
   * Leave TCP options uninterpreted (`options` is empty): a NIC parser steps over them with the data offset and
   * does not reject a malformed one. Default false: options are decoded and checked.
   */
  skipTcpOptions?: boolean;
}

export function parseFrame(bytes: Uint8Array, opts: ParseOptions = {}): ParsedFrame {
  const r = new Reader(bytes);
  r.need("eth", 0, ETH_HEADER, "Ethernet header");
  let etherType = r.u16(12);
  let l3Offset = ETH_HEADER;
  let vlan: ParsedVlan | undefined;
  if (etherType === ETHERTYPE.vlan) {
    r.need("vlan", 14, VLAN_TAG, "802.1Q tag");
    const tci = r.u16(14);
    vlan = { vid: tci & 0xfff, pcp: tci >>> 13, dei: (tci & 0x1000) !== 0 };
    etherType = r.u16(16);
    l3Offset += VLAN_TAG;
  }
  const eth: ParsedEthernet = { dstMac: macToString(bytes, 0), srcMac: macToString(bytes, 6), etherType };
  const frame: ParsedFrame = { eth, l3Offset, payload: bytes.subarray(l3Offset), payloadOffset: l3Offset, checksumOk: true };
  if (vlan) frame.vlan = vlan;

  let ip: ParsedIp;
  if (etherType === ETHERTYPE.ipv4) ip = parseIpv4(r, l3Offset);
  else if (etherType === ETHERTYPE.ipv6) ip = parseIpv6(r, l3Offset);
  else return frame;
  frame.ip = ip;
  const l4Offset = l3Offset + ip.headerLength;
  const l3End = l3Offset + ip.totalLength;
  frame.payloadOffset = l4Offset;
  frame.payload = bytes.subarray(l4Offset, l3End);
  if (ip.version === 4) frame.checksumOk = ip.checksumOk;
  if (ip.isFragment) return frame;

  const pseudo = (): number => {
    const [src, dst] = ip.version === 4 ? [bytes.subarray(l3Offset + 12, l3Offset + 16), bytes.subarray(l3Offset + 16, l3Offset + 20)] : [bytes.subarray(l3Offset + 8, l3Offset + 24), bytes.subarray(l3Offset + 24, l3Offset + 40)];
    return pseudoHeaderSum(src, dst, ip.protocol, l3End - l4Offset);
  };
  if (ip.protocol === IPPROTO.tcp) {
    const tcp = parseTcp(r, l4Offset, l3End, pseudo(), opts.skipTcpOptions ?? false);
    frame.tcp = tcp;
    frame.l4Offset = l4Offset;
    frame.payloadOffset = l4Offset + tcp.headerLength;
    frame.checksumOk &&= tcp.checksumOk;
  } else if (ip.protocol === IPPROTO.udp) {
    const udp = parseUdp(r, l4Offset, l3End, ip.version, pseudo());
    frame.udp = udp;
    frame.l4Offset = l4Offset;
    frame.payloadOffset = l4Offset + UDP_HEADER;
    frame.checksumOk &&= udp.checksumOk;
  } else {
    return frame;
  }
  frame.payload = bytes.subarray(frame.payloadOffset, l3End);
  return frame;
}

function parseIpv4(r: Reader, o: number): ParsedIpv4 {
  r.need("ipv4", o, IPV4_HEADER, "IPv4 header");
  const version = r.u8(o) >>> 4;
  if (version !== 4) throw new ParseError("ipv4", o, `version field is ${version}, EtherType says 4`);
  const headerLength = (r.u8(o) & 0xf) * 4;
  if (headerLength < IPV4_HEADER) throw new ParseError("ipv4", o, `header length ${headerLength} < 20`);
  r.need("ipv4", o, headerLength, "IPv4 header with options");
  const totalLength = r.u16(o + 2);
  if (totalLength < headerLength) throw new ParseError("ipv4", o + 2, `total length ${totalLength} < header length ${headerLength}`);
  r.need("ipv4", o, totalLength, "IPv4 packet (total length)");
  const fragField = r.u16(o + 6);
  const moreFragments = (fragField & 0x2000) !== 0;
  const fragmentOffset = (fragField & 0x1fff) * 8;
  return {
    version: 4,
    src: ipv4ToString(r.bytes, o + 12),
    dst: ipv4ToString(r.bytes, o + 16),
    protocol: r.u8(o + 9),
    ttl: r.u8(o + 8),
    tos: r.u8(o + 1),
    id: r.u16(o + 4),
    dontFragment: (fragField & 0x4000) !== 0,
    moreFragments,
    fragmentOffset,
    headerLength,
    totalLength,
    checksumOk: sumVerifies(sumWords(r.bytes, o, o + headerLength)),
    isFragment: moreFragments || fragmentOffset !== 0,
  };
}

// IPv6 extension headers walked to find the upper layer (RFC 8200 4.1).
const IPV6_EXT = { hopByHop: 0, routing: 43, fragment: 44, auth: 51, destOptions: 60 } as const;

function parseIpv6(r: Reader, o: number): ParsedIpv6 {
  r.need("ipv6", o, IPV6_HEADER, "IPv6 header");
  const first = r.u32(o);
  if (first >>> 28 !== 6) throw new ParseError("ipv6", o, `version field is ${first >>> 28}, EtherType says 6`);
  const totalLength = IPV6_HEADER + r.u16(o + 4);
  r.need("ipv6", o, totalLength, "IPv6 packet (payload length)");
  let protocol = r.u8(o + 6);
  let headerLength = IPV6_HEADER;
  let isFragment = false;
  for (;;) {
    const h = o + headerLength;
    if (protocol === IPV6_EXT.hopByHop || protocol === IPV6_EXT.routing || protocol === IPV6_EXT.destOptions || protocol === IPV6_EXT.auth) {
      if (headerLength + 2 > totalLength) throw new ParseError("ipv6", h, "extension header runs past the payload length");
      const length = protocol === IPV6_EXT.auth ? (r.u8(h + 1) + 2) * 4 : (r.u8(h + 1) + 1) * 8;
      if (headerLength + length > totalLength) throw new ParseError("ipv6", h, `extension header of ${length} bytes runs past the payload length`);
      protocol = r.u8(h);
      headerLength += length;
    } else if (protocol === IPV6_EXT.fragment) {
      if (headerLength + 8 > totalLength) throw new ParseError("ipv6", h, "fragment header runs past the payload length");
      const field = r.u16(h + 2);
      isFragment ||= (field & 0xfff8) !== 0 || (field & 1) !== 0; // offset or M flag; else an atomic fragment
      protocol = r.u8(h);
      headerLength += 8;
    } else {
      break;
    }
  }
  return {
    version: 6,
    src: ipv6ToString(r.bytes, o + 8),
    dst: ipv6ToString(r.bytes, o + 24),
    protocol,
    ttl: r.u8(o + 7),
    trafficClass: (first >>> 20) & 0xff,
    flowLabel: first & 0xfffff,
    headerLength,
    totalLength,
    isFragment,
  };
}

function parseTcp(r: Reader, o: number, end: number, pseudoSum: number, skipOptions: boolean): ParsedTcp {
  if (o + TCP_HEADER > end) throw new ParseError("tcp", o, `TCP header needs 20 bytes, the IP payload has ${end - o}`);
  const headerLength = (r.u8(o + 12) >>> 4) * 4;
  if (headerLength < TCP_HEADER) throw new ParseError("tcp", o + 12, `data offset gives header length ${headerLength} < 20`);
  if (o + headerLength > end) throw new ParseError("tcp", o + 12, `header length ${headerLength} exceeds the IP payload of ${end - o} bytes`);
  const f = r.u8(o + 13);
  return {
    srcPort: r.u16(o),
    dstPort: r.u16(o + 2),
    seq: r.u32(o + 4),
    ack: r.u32(o + 8),
    flags: {
      fin: (f & 0x01) !== 0,
      syn: (f & 0x02) !== 0,
      rst: (f & 0x04) !== 0,
      psh: (f & 0x08) !== 0,
      ack: (f & 0x10) !== 0,
      urg: (f & 0x20) !== 0,
      ece: (f & 0x40) !== 0,
      cwr: (f & 0x80) !== 0,
    },
    window: r.u16(o + 14),
    urgent: r.u16(o + 18),
    options: skipOptions ? [] : parseTcpOptions(r, o + TCP_HEADER, o + headerLength),
    headerLength,
    checksum: r.u16(o + 16),
    checksumOk: sumVerifies(sumWords(r.bytes, o, end, pseudoSum)),
  };
}

/** Fixed total lengths of the known option kinds (SACK is variable: 2 + 8n). */
const TCP_OPTION_LENGTH: Record<number, number> = { 2: 4, 3: 3, 4: 2, 8: 10 };

function parseTcpOptions(r: Reader, start: number, end: number): TcpOption[] {
  const options: TcpOption[] = [];
  let o = start;
  while (o < end) {
    const code = r.u8(o);
    if (code === 0) break; // end of option list; the rest is padding
    if (code === 1) {
      options.push({ kind: "nop" });
      o++;
      continue;
    }
    if (o + 2 > end) throw new ParseError("tcp", o, `option ${code} has no length byte`);
    const length = r.u8(o + 1);
    if (length < 2 || o + length > end) throw new ParseError("tcp", o + 1, `option ${code} length ${length} does not fit the ${end - o} option bytes left`);
    const expected = TCP_OPTION_LENGTH[code];
    if ((expected !== undefined && length !== expected) || (code === 5 && (length - 2) % 8 !== 0)) {
      throw new ParseError("tcp", o + 1, `option ${code} has length ${length}`);
    }
    switch (code) {
      case 2:
        options.push({ kind: "mss", value: r.u16(o + 2) });
        break;
      case 3:
        options.push({ kind: "wscale", shift: r.u8(o + 2) });
        break;
      case 4:
        options.push({ kind: "sackPermitted" });
        break;
      case 5: {
        const blocks: { left: number; right: number }[] = [];
        for (let b = o + 2; b < o + length; b += 8) blocks.push({ left: r.u32(b), right: r.u32(b + 4) });
        options.push({ kind: "sack", blocks });
        break;
      }
      case 8:
        options.push({ kind: "timestamps", tsval: r.u32(o + 2), tsecr: r.u32(o + 6) });
        break;
      default:
        options.push({ kind: "raw", code, data: r.bytes.slice(o + 2, o + length) });
    }
    o += length;
  }
  return options;
}

function parseUdp(r: Reader, o: number, end: number, ipVersion: 4 | 6, pseudoSum: number): ParsedUdp {
  if (o + UDP_HEADER > end) throw new ParseError("udp", o, `UDP header needs 8 bytes, the IP payload has ${end - o}`);
  const length = r.u16(o + 4);
  if (length !== end - o) throw new ParseError("udp", o + 4, `UDP length ${length} differs from the IP payload length ${end - o}`);
  const checksum = r.u16(o + 6);
  const absent = checksum === 0 && ipVersion === 4;
  return {
    srcPort: r.u16(o),
    dstPort: r.u16(o + 2),
    length,
    checksum,
    checksumOk: absent || sumVerifies(sumWords(r.bytes, o, end, pseudoSum)),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Flows

/** Canonical, direction-sensitive flow key, e.g. "tcp 10.0.0.1:4420>10.0.0.2:50000" or "tcp [fe80::1]:4420>[fe80::2]:5". */
export function flowKeyOf(addr: Pick<FlowAddress, "ipVersion" | "srcIp" | "dstIp" | "srcPort" | "dstPort">, protocol: "tcp" | "udp" = "tcp"): string {
  // Re-render the addresses so that any accepted spelling gives the same key as a parsed frame.
  const canonical = (ip: string): string => (addr.ipVersion === 4 ? ipv4ToString(ipToBytes(4, ip)) : ipv6ToString(ipToBytes(6, ip)));
  return keyText(protocol, addr.ipVersion, canonical(addr.srcIp), addr.srcPort, canonical(addr.dstIp), addr.dstPort);
}

/** The flow key of a parsed TCP or UDP frame; undefined for anything else (including IP fragments). */
export function flowKey(f: ParsedFrame): string | undefined {
  const l4 = f.tcp ?? f.udp;
  if (!f.ip || !l4) return undefined;
  return keyText(f.tcp ? "tcp" : "udp", f.ip.version, f.ip.src, l4.srcPort, f.ip.dst, l4.dstPort);
}

function keyText(protocol: string, version: 4 | 6, src: string, srcPort: number, dst: string, dstPort: number): string {
  return version === 4 ? `${protocol} ${src}:${srcPort}>${dst}:${dstPort}` : `${protocol} [${src}]:${srcPort}>[${dst}]:${dstPort}`;
}

/** The FlowAddress a parsed TCP or UDP frame travels on; undefined for anything else. */
export function flowOf(f: ParsedFrame): FlowAddress | undefined {
  const l4 = f.tcp ?? f.udp;
  if (!f.ip || !l4) return undefined;
  const flow: FlowAddress = {
    srcMac: f.eth.srcMac,
    dstMac: f.eth.dstMac,
    ipVersion: f.ip.version,
    srcIp: f.ip.src,
    dstIp: f.ip.dst,
    srcPort: l4.srcPort,
    dstPort: l4.dstPort,
  };
  if (f.vlan) flow.vlan = { vid: f.vlan.vid, pcp: f.vlan.pcp, dei: f.vlan.dei };
  return flow;
}
