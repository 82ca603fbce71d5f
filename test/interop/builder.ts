// Captures of NVMe/TCP conversations built with the project's own frame and PDU code, for the interop corpus and the
// replay tests: a TCP conversation (handshake, segmentation at an MTU, timestamps, zero-window stalls,
// retransmissions), NVMe/TCP queues on it whose PDUs are recorded as each side meant them (for tshark), the commands
// and namespace data real peers exchange, and the capture file formats (pcap, pcapng, Linux cooked SLL / SLL2).

import { createHash } from "node:crypto";
import { buildTcpFrame, type FlowAddress, type TcpFlags, type TcpOption } from "../../src/net/frame.js";
import { writePcap } from "../../src/net/pcap.js";
import { seqAdd } from "../../src/net/seq.js";
import { patternBytes } from "../../src/nvmet/namespace.js";
import { encodePdu, type Pdu, type PduLies } from "../../src/pdu/pdu.js";
import { type Cqe, le, SQE_LENGTH, type SglDescriptor } from "../../src/pdu/sqe.js";

export type Side = "host" | "target";

export interface Endpoint {
  mac: string;
  ip: string;
  port: number;
}

export interface ConversationOptions {
  ipVersion?: 4 | 6;
  host?: Partial<Endpoint>;
  target?: Partial<Endpoint>;
  /** IP MTU; each segment carries MTU - IP header - TCP header (with options) payload bytes. Default 1500. */
  mtu?: number;
  /** TCP timestamps (RFC 7323) on every segment. Default true, as Linux. */
  timestamps?: boolean;
  hostIsn?: number;
  targetIsn?: number;
  /** Shared by the connections of one capture, so that their frames interleave in time. */
  clock?: Clock;
}

/** Capture time, in microseconds, advancing a little with every frame. */
export class Clock {
  constructor(private us = 1_700_000_000_000_000) {}

  tick(): number {
    this.us += 7;
    return this.us;
  }
}

export interface CapturedFrame {
  data: Uint8Array;
  timeUs: number;
  from: Side;
}

interface Half {
  addr: FlowAddress;
  /** Next sequence number this side sends. */
  seq: number;
  tsval: number;
  window: number;
}

const other = (s: Side): Side => (s === "host" ? "target" : "host");

/** One TCP connection between an NVMe/TCP host and controller, as a capture on the wire would show it. */
export class TcpConversation {
  readonly frames: CapturedFrame[] = [];
  readonly mtu: number;
  readonly timestamps: boolean;
  private readonly half: Record<Side, Half>;
  /** Frames with payload, per side (what a retransmission repeats). */
  private readonly dataFrames: Record<Side, Uint8Array[]> = { host: [], target: [] };
  private readonly clock: Clock;

  constructor(o: ConversationOptions = {}) {
    const v = o.ipVersion ?? 4;
    const host: Endpoint = { mac: "02:00:00:00:00:01", ip: v === 4 ? "192.168.10.1" : "fd00::1", port: 51000, ...o.host };
    const target: Endpoint = { mac: "02:00:00:00:00:02", ip: v === 4 ? "192.168.10.2" : "fd00::2", port: 4420, ...o.target };
    const addr = (a: Endpoint, b: Endpoint): FlowAddress => ({ srcMac: a.mac, dstMac: b.mac, ipVersion: v, srcIp: a.ip, dstIp: b.ip, srcPort: a.port, dstPort: b.port });
    this.clock = o.clock ?? new Clock();
    this.mtu = o.mtu ?? 1500;
    this.timestamps = o.timestamps ?? true;
    this.half = {
      host: { addr: addr(host, target), seq: o.hostIsn ?? 0x1000_0000, tsval: 1000, window: 64240 },
      target: { addr: addr(target, host), seq: o.targetIsn ?? 0x7000_0000, tsval: 9000, window: 65160 },
    };
  }

  /** Payload bytes per segment: the MTU less the IP and TCP headers and the timestamp option. */
  get mss(): number {
    return this.mtu - (this.half.host.addr.ipVersion === 4 ? 20 : 40) - 20 - (this.timestamps ? 12 : 0);
  }

  /** Next sequence number of a side. */
  nextSeq(side: Side): number {
    return this.half[side].seq;
  }

  /** The three-way handshake (SYN with MSS, SACK permitted, timestamps and window scale, as Linux sends it). */
  open(): void {
    const synOptions = (s: Side): TcpOption[] => [
      { kind: "mss", value: this.mss + (this.timestamps ? 12 : 0) },
      ...(this.timestamps ? [{ kind: "sackPermitted" } as const, this.tsOption(s)] : [{ kind: "nop" } as const, { kind: "nop" } as const, { kind: "sackPermitted" } as const]),
      { kind: "nop" },
      { kind: "wscale", shift: 7 },
    ];
    this.emit("host", { syn: true }, new Uint8Array(0), { options: synOptions("host"), ack: 0 });
    this.half.host.seq = seqAdd(this.half.host.seq, 1);
    this.emit("target", { syn: true, ack: true }, new Uint8Array(0), { options: synOptions("target") });
    this.half.target.seq = seqAdd(this.half.target.seq, 1);
    this.ack("host");
  }

  /**
   * `bytes` from `side` in full segments (the last one short, with PSH), then the peer's acknowledgment; with
   * `stallAfter`, the peer's window closes after that many bytes (zeroWindow) before the rest goes out.
   */
  send(side: Side, bytes: Uint8Array, o: { stallAfter?: number } = {}): void {
    if (o.stallAfter !== undefined && o.stallAfter < bytes.length) {
      this.send(side, bytes.subarray(0, o.stallAfter));
      this.zeroWindow(other(side));
      this.send(side, bytes.subarray(o.stallAfter));
      return;
    }
    for (let at = 0; at < bytes.length; at += this.mss) {
      const piece = bytes.subarray(at, Math.min(bytes.length, at + this.mss));
      this.emit(side, { ack: true, psh: at + piece.length === bytes.length }, piece);
    }
    if (bytes.length > 0) this.ack(other(side));
  }

  /** A pure acknowledgment from `side`, with its current window. */
  ack(side: Side): void {
    this.emit(side, { ack: true }, new Uint8Array(0));
  }

  /**
   * A zero-window stall of `receiver`: it advertises window 0, the sender probes twice with an old byte's sequence
   * number and no data (Linux tcp_xmit_probe_skb), then the window reopens.
   */
  zeroWindow(receiver: Side): void {
    const r = this.half[receiver];
    const saved = r.window;
    r.window = 0;
    this.ack(receiver);
    const sender = other(receiver);
    for (let i = 0; i < 2; i++) {
      const s = this.half[sender];
      s.seq = seqAdd(s.seq, -1);
      this.emit(sender, { ack: true }, new Uint8Array(0));
      s.seq = seqAdd(s.seq, 1);
      this.ack(receiver);
    }
    r.window = saved;
    this.ack(receiver);
  }

  /** Sends the last `n` data frames of `side` again, unchanged but for a later time (spurious retransmissions). */
  retransmit(side: Side, n: number): void {
    for (const data of this.dataFrames[side].slice(-n)) this.frames.push({ data, timeUs: this.tick(), from: side });
  }

  /** FIN from the host, FIN from the target, last ACK. */
  close(): void {
    this.emit("host", { fin: true, ack: true }, new Uint8Array(0));
    this.half.host.seq = seqAdd(this.half.host.seq, 1);
    this.emit("target", { fin: true, ack: true }, new Uint8Array(0));
    this.half.target.seq = seqAdd(this.half.target.seq, 1);
    this.ack("host");
  }

  private tsOption(side: Side): TcpOption {
    const h = this.half[side];
    h.tsval = (h.tsval + 1) >>> 0;
    return { kind: "timestamps", tsval: h.tsval, tsecr: this.half[other(side)].tsval };
  }

  private tick(): number {
    return this.clock.tick();
  }

  private emit(side: Side, flags: TcpFlags, payload: Uint8Array, o: { options?: TcpOption[]; ack?: number } = {}): void {
    const h = this.half[side];
    const options = o.options ?? (this.timestamps ? [{ kind: "nop" } as const, { kind: "nop" } as const, this.tsOption(side)] : []);
    const data = buildTcpFrame({ ...h.addr, seq: h.seq, ack: o.ack ?? this.half[other(side)].seq, flags, window: h.window, options, payload });
    this.frames.push({ data, timeUs: this.tick(), from: side });
    if (payload.length > 0) this.dataFrames[side].push(data);
    h.seq = seqAdd(h.seq, payload.length);
  }
}

/** One PDU as its sender meant it (what tshark must see). */
export interface PduRecord {
  from: Side;
  type: number;
  flags: number;
  hlen: number;
  pdo: number;
  plen: number;
  /** CCCID of data / R2T PDUs, the SQE's CID of a CapsuleCmd, the CQE's of a CapsuleResp. */
  cid?: number;
  datao?: number;
  datal?: number;
  /** Sequence number of its first byte, once sent. */
  seq?: number;
}

/** An NVMe/TCP queue on a conversation: each side's PDUs, encoded, batched and sent as that side flushes them. */
export class NvmeQueue {
  readonly pdus: PduRecord[] = [];
  /** Digests and data alignments once the ICReq / ICResp have set them. */
  hdgst = false;
  ddgst = false;
  hpda = 0;
  cpda = 0;
  private readonly pending: Record<Side, { bytes: Uint8Array; record: PduRecord }[]> = { host: [], target: [] };

  constructor(readonly conv: TcpConversation) {}

  /**
   * Encodes a PDU of `from` (digests as negotiated, data aligned to the receiver's PDA) and queues it; `patch`
   * rewrites the encoded bytes the way a peer writes a field of its own.
   */
  pdu(from: Side, pdu: Pdu, o: { lies?: PduLies; patch?: (bytes: Uint8Array) => void } = {}): Uint8Array {
    const bytes = encodePdu(pdu, { hdgst: this.hdgst, ddgst: this.ddgst, pda: from === "target" ? this.hpda : this.cpda, ...(o.lies ? { lies: o.lies } : {}) });
    o.patch?.(bytes);
    this.raw(from, bytes);
    return bytes;
  }

  /** Queues bytes as they are (a PDU written by hand). */
  raw(from: Side, bytes: Uint8Array): void {
    const v = le(bytes);
    const type = bytes[0]!;
    const r: PduRecord = { from, type, flags: bytes[1]!, hlen: bytes[2]!, pdo: bytes[3]!, plen: v.getUint32(4, true) };
    if (type === 0x04) r.cid = v.getUint16(10, true);
    if (type === 0x05) r.cid = v.getUint16(20, true);
    if (type === 0x06 || type === 0x07 || type === 0x09) Object.assign(r, { cid: v.getUint16(8, true), datao: v.getUint32(12, true), datal: v.getUint32(16, true) });
    this.pdus.push(r);
    this.pending[from].push({ bytes, record: r });
  }

  /** Sends what `from` has queued as one write (the way MSG_MORE batching packs PDUs into full segments). */
  flush(from: Side, o: { stallAfter?: number } = {}): void {
    const parts = this.pending[from].splice(0);
    const out = new Uint8Array(parts.reduce((n, p) => n + p.bytes.length, 0));
    let at = 0;
    for (const p of parts) {
      p.record.seq = seqAdd(this.conv.nextSeq(from), at);
      out.set(p.bytes, at);
      at += p.bytes.length;
    }
    this.conv.send(from, out, o);
  }

  /** ICReq / ICResp with these fields; the queue then uses the digests and alignments they agree on. */
  connect(ic: { hdgst?: boolean; ddgst?: boolean; hpda?: number; cpda?: number; maxh2cdata?: number; maxr2t?: number }): void {
    const hdgst = ic.hdgst ?? false;
    const ddgst = ic.ddgst ?? false;
    this.pdu("host", { kind: "ICReq", pfv: 0, hpda: ic.hpda ?? 0, hdgstEnable: hdgst, ddgstEnable: ddgst, maxr2t: ic.maxr2t ?? 0 });
    this.flush("host");
    this.pdu("target", { kind: "ICResp", pfv: 0, cpda: ic.cpda ?? 0, hdgstEnable: hdgst, ddgstEnable: ddgst, maxh2cdata: ic.maxh2cdata ?? 0x400000 });
    this.flush("target");
    Object.assign(this, { hdgst, ddgst, hpda: ic.hpda ?? 0, cpda: ic.cpda ?? 0 });
  }

  /** A CapsuleResp for `cid` (status 0 unless given). */
  respond(cid: number, o: Partial<Cqe> = {}): void {
    this.pdu("target", { kind: "CapsuleResp", cqe: { result: 0n, sqHead: 0, sqId: 0, cid, status: 0, ...o } });
  }

  /**
   * Controller-to-host data of one command in C2HData PDUs of at most `pduSize` bytes (default: one PDU), with
   * LAST on the last one unless `last` is "never", SUCCESS on the last one when `success`.
   */
  dataIn(cid: number, data: Uint8Array, o: { pduSize?: number; last?: "last" | "never"; success?: boolean } = {}): void {
    const size = o.pduSize ?? data.length;
    for (let at = 0; at < data.length; at += size) {
      const end = Math.min(data.length, at + size);
      const isLast = end === data.length;
      this.pdu("target", { kind: "C2HData", cccid: cid, datao: at, last: isLast && o.last !== "never", success: isLast && (o.success ?? false), data: data.subarray(at, end) });
    }
  }
}

// ---- commands and the data structures real peers exchange ----

/** An SGL descriptor's 16 bytes in an SQE's bytes 24..39. */
function putSgl(sqe: Uint8Array, sgl: SglDescriptor): void {
  const v = le(sqe);
  v.setBigUint64(24, sgl.address, true);
  v.setUint32(32, sgl.length, true);
  sqe[39] = sgl.id;
}

/** A 64-byte SQE: opcode, flags (PSDT), CID, NSID, SGL and command dwords 10.. (little-endian). */
export function rawSqe(o: { opcode: number; cid: number; nsid?: number; flags?: number; sgl?: SglDescriptor; cdw?: number[] }): Uint8Array {
  const b = new Uint8Array(SQE_LENGTH);
  const v = le(b);
  b[0] = o.opcode;
  b[1] = o.flags ?? 0x40;
  v.setUint16(2, o.cid, true);
  v.setUint32(4, o.nsid ?? 0, true);
  if (o.sgl) putSgl(b, o.sgl);
  (o.cdw ?? []).forEach((d, i) => v.setUint32(40 + 4 * i, d >>> 0, true));
  return b;
}

/** Identify (admin opcode 0x06): CNS in CDW10. */
export function identifySqe(cid: number, cns: number, nsid: number, sgl: SglDescriptor): Uint8Array {
  return rawSqe({ opcode: 0x06, cid, nsid, sgl, cdw: [cns] });
}

/** Get Log Page (admin opcode 0x02): LID, RAE and NUMD (0's based dwords of `bytes`) in CDW10/11, LPO in CDW12/13. */
export function getLogPageSqe(cid: number, o: { lid: number; bytes: number; lpo?: number; rae?: boolean; nsid?: number; sgl: SglDescriptor }): Uint8Array {
  const numd = o.bytes / 4 - 1;
  const lpo = o.lpo ?? 0;
  return rawSqe({ opcode: 0x02, cid, nsid: o.nsid ?? 0, sgl: o.sgl, cdw: [o.lid | (o.rae ? 1 << 15 : 0) | ((numd & 0xffff) << 16), numd >>> 16, lpo % 2 ** 32, Math.floor(lpo / 2 ** 32)] });
}

/** Identify Controller data (CNS 1): 4096 bytes, a few fields filled in. */
export function identifyControllerData(cntlid: number): Uint8Array {
  const d = new Uint8Array(4096);
  const v = le(d);
  v.setUint16(0, 0x1b36, true); // VID
  d.set(new TextEncoder().encode("DDPSIM-INTEROP-0001 "), 4); // SN
  v.setUint16(78, cntlid, true);
  v.setUint32(1792, 264, true); // IOCCSZ: 4096 bytes of in-capsule data
  return d;
}

/** Identify Namespace data (CNS 0) with one LBA format of 2^lbads bytes: NSZE/NCAP/NUSE, FLBAS 0, LBAF0. */
export function identifyNamespaceData(blocks: number, lbads: number): Uint8Array {
  const d = new Uint8Array(4096);
  const v = le(d);
  for (const at of [0, 8, 16]) v.setBigUint64(at, BigInt(blocks), true);
  d[25] = 0; // NLBAF, 0's based
  d[26] = 0; // FLBAS: format 0
  d[128 + 2] = lbads;
  return d;
}

/** Discovery log page: 1024-byte header (GENCTR, NUMREC) and `entries` 1024-byte entries naming TCP subsystems. */
export function discoveryLogPage(genctr: number, entries: number): Uint8Array {
  const d = new Uint8Array(1024 * (1 + entries));
  const v = le(d);
  v.setBigUint64(0, BigInt(genctr), true);
  v.setBigUint64(8, BigInt(entries), true);
  for (let i = 0; i < entries; i++) {
    const e = 1024 * (1 + i);
    d[e] = 3; // TRTYPE TCP
    d[e + 1] = 1; // ADRFAM IPv4
    d[e + 2] = 2; // SUBTYPE NVM
    d.set(new TextEncoder().encode(`4420`), e + 32);
    d.set(new TextEncoder().encode(`nqn.2024-01.io.example:interop-${i}`), e + 256);
    d.set(new TextEncoder().encode(`192.168.10.2`), e + 512);
  }
  return d;
}

/** The bytes a read of `nlb` blocks from `slba` returns from namespace `nsid` (the emulator's pattern). */
export function namespaceData(nsid: number, slba: number, nlb: number, lbaSize: number): Uint8Array {
  return patternBytes(nsid, slba * lbaSize, nlb * lbaSize);
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

// ---- capture files ----

/** A classic pcap of the frames (Ethernet). */
export function toPcap(frames: readonly CapturedFrame[]): Uint8Array {
  return writePcap(frames.map((f) => ({ data: f.data, timeUs: f.timeUs })));
}

/** A pcapng (one section, one Ethernet interface, an Enhanced Packet Block per frame), as dumpcap writes it. */
export function toPcapng(frames: readonly CapturedFrame[], linkType = 1, convert: (f: CapturedFrame) => Uint8Array = (f) => f.data): Uint8Array {
  const blocks: Uint8Array[] = [];
  const block = (type: number, body: Uint8Array): void => {
    const len = 12 + Math.ceil(body.length / 4) * 4;
    const b = new Uint8Array(len);
    const v = le(b);
    v.setUint32(0, type, true);
    v.setUint32(4, len, true);
    b.set(body, 8);
    v.setUint32(len - 4, len, true);
    blocks.push(b);
  };
  const shb = new Uint8Array(16);
  le(shb).setUint32(0, 0x1a2b3c4d, true);
  le(shb).setUint16(4, 1, true);
  le(shb).setBigInt64(8, -1n, true);
  block(0x0a0d0d0a, shb);
  const idb = new Uint8Array(8);
  le(idb).setUint16(0, linkType, true);
  block(1, idb);
  for (const f of frames) {
    const data = convert(f);
    const epb = new Uint8Array(20 + data.length);
    const v = le(epb);
    v.setUint32(4, Math.floor(f.timeUs / 2 ** 32), true);
    v.setUint32(8, f.timeUs % 2 ** 32, true);
    v.setUint32(12, data.length, true);
    v.setUint32(16, data.length, true);
    epb.set(data, 20);
    block(6, epb);
  }
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/**
 * A frame as `tcpdump -i any` on the host records it (LINKTYPE_LINUX_SLL2): protocol, interface index, ARPHRD_ETHER,
 * packet type (outgoing for what the host sent, to-us otherwise), the source MAC, then the network-layer packet.
 */
export function sll2Frame(f: CapturedFrame): Uint8Array {
  const out = new Uint8Array(20 + f.data.length - 14);
  const v = le(out);
  out[0] = f.data[12]!;
  out[1] = f.data[13]!;
  v.setUint32(4, 2, false);
  v.setUint16(8, 1, false);
  out[10] = f.from === "host" ? 4 : 0;
  out[11] = 6;
  out.set(f.data.subarray(6, 12), 12);
  out.set(f.data.subarray(14), 20);
  return out;
}

/** The same as LINKTYPE_LINUX_SLL (the older 16-byte cooked header). */
export function sllFrame(f: CapturedFrame): Uint8Array {
  const out = new Uint8Array(16 + f.data.length - 14);
  const v = le(out);
  v.setUint16(0, f.from === "host" ? 4 : 0, false);
  v.setUint16(2, 1, false);
  v.setUint16(4, 6, false);
  out.set(f.data.subarray(6, 12), 6);
  out[14] = f.data[12]!;
  out[15] = f.data[13]!;
  out.set(f.data.subarray(14), 16);
  return out;
}

/** A pcap of cooked frames (link type 113 or 276). */
export function toCookedPcap(frames: readonly CapturedFrame[], linkType: 113 | 276): Uint8Array {
  const convert = linkType === 276 ? sll2Frame : sllFrame;
  return writePcap(frames.map((f) => ({ data: convert(f), timeUs: f.timeUs })), linkType);
}
