// Traffic from the target emulator: one NVMe/TCP queue per flow (src/nvmet TargetQueue after ICReq and
// Connect), reads of its patterned namespace, the controller -> host byte stream either as the target's own
// MSS-sized frames or re-cut into TCP frames where a test wants the boundaries, and buffers in HostMemory with
// guard bytes for the tags. The model tests (test/model), the RTL tests (test/rtl) and bench/ all use it.
// No vitest import here: bench/offload.ts uses these too.

import { type FlowAddress, parseFrame, type TcpOption } from "../../src/net/frame.js";
import { seqAdd } from "../../src/net/seq.js";
import { TcpStreamSender } from "../../src/net/tcp-sender.js";
import { encodePdu } from "../../src/pdu/pdu.js";
import { encodeConnectData, sglInCapsule, sglTransport } from "../../src/pdu/sqe.js";
import { type Lie, NvmeSubsystem, type SentPdu, TargetQueue } from "../../src/nvmet/controller.js";
import { RamNamespace } from "../../src/nvmet/namespace.js";
import type { HostMemory } from "../../src/contract/host-memory.js";
import { type CommandInput, ctxAdd, type SglEntry, tagSetup } from "../../src/contract/protocol.js";
import type { Rng } from "../../src/util/rng.js";

export const BLOCK = 512;
export const NSID = 1;

/** The model tests' IPv4 flow. */
export const FLOW4: FlowAddress = {
  srcMac: "02:00:00:00:00:02",
  dstMac: "02:00:00:00:00:01",
  ipVersion: 4,
  srcIp: "10.0.0.2",
  dstIp: "10.0.0.1",
  srcPort: 4420,
  dstPort: 40001,
};

/** The model tests' IPv6 flow, with a VLAN tag. */
export const FLOW6: FlowAddress = {
  ...FLOW4,
  ipVersion: 6,
  srcIp: "fd00::2",
  dstIp: "fd00::1",
  vlan: { vid: 42, pcp: 3 },
};

/** Flow address n (distinct 5-tuples): IPv4, IPv6, with or without VLAN. */
export function flowAddress(n: number, kind: "v4" | "v6" | "v4vlan" | "v6vlan"): FlowAddress {
  const v6 = kind === "v6" || kind === "v6vlan";
  return {
    srcMac: "02:00:00:00:00:02",
    dstMac: "02:00:00:00:00:01",
    ipVersion: v6 ? 6 : 4,
    srcIp: v6 ? `fd00::${(n + 2).toString(16)}` : `10.${n >> 8}.${n & 255}.2`,
    dstIp: v6 ? "fd00::1" : "10.0.0.1",
    srcPort: 4420,
    dstPort: 40000 + n,
    ...(kind.endsWith("vlan") ? { vlan: { vid: 100 + n, pcp: n & 7 } } : {}),
  };
}

export interface FlowConfig {
  /** Forked for the target (it draws only when `reorder` is on). */
  rng: Rng;
  hdgst: boolean;
  ddgst: boolean;
  /** Default FLOW4. */
  addr?: FlowAddress;
  /** Sequence number of the target's first byte (near 2^32 to wrap). Default 5000. */
  isn?: number;
  /** The target's own segmentation (flush().frames); burst() and cut() do not use it. Default 1460. */
  mss?: number;
  /** Default 4096. */
  c2hDataSize?: number;
  reorder?: boolean;
  successFlag?: boolean;
  /** TCP options on every frame cut() makes (valid ones: timestamps, SACK blocks...). */
  tcpOptions?: TcpOption[];
}

/** A response burst of the target: its stream, the seq of its first byte, and the PDUs as the target meant them. */
export interface Burst {
  stream: Uint8Array;
  seq: number;
  pdus: SentPdu[];
}

/** One controller -> host connection: the target after ICReq / Connect, positioned on a PDU boundary. */
export class TargetFlow {
  readonly q: TargetQueue;
  readonly addr: FlowAddress;
  /** Seq of the first byte after the connect responses: where a context added at once starts. */
  readonly startSeq: number;
  private sentSeen = 0;

  constructor(readonly config: FlowConfig) {
    this.addr = config.addr ?? FLOW4;
    const ns = new RamNamespace({ nsid: NSID, blockSize: BLOCK, blocks: 1 << 20 });
    const sub = new NvmeSubsystem({ subnqn: "nqn.tb", namespaces: [ns] });
    this.q = new TargetQueue(sub, {
      addr: this.addr,
      isn: config.isn ?? 5000,
      mss: config.mss ?? 1460,
      c2hDataSize: config.c2hDataSize ?? 4096,
      rng: config.rng.fork(),
      ...(config.reorder === undefined ? {} : { reorder: config.reorder }),
      ...(config.successFlag === undefined ? {} : { successFlag: config.successFlag }),
    });
    const { hdgst, ddgst } = config;
    this.q.receive(encodePdu({ kind: "ICReq", pfv: 0, hpda: 0, hdgstEnable: hdgst, ddgstEnable: ddgst, maxr2t: 0 }));
    const data = encodeConnectData({ hostId: new Uint8Array(16), cntlid: 0xffff, subnqn: "nqn.tb", hostnqn: "nqn.host" });
    this.q.receive(encodePdu({ kind: "CapsuleCmd", sqe: { kind: "Connect", cid: 0x7fff, recfmt: 0, qid: 0, sqsize: 127, cattr: 0, kato: 0, sgl: sglInCapsule(1024) }, data }, { hdgst, ddgst }));
    this.burst(); // ICResp and the Connect response: before the context exists
    this.startSeq = this.q.nextSeq;
  }

  /** Seq of the next byte the target sends (a PDU boundary between bursts). */
  get nextSeq(): number {
    return this.q.nextSeq;
  }

  /** CTX_ADD of this flow, its context starting at `seq` (default: the next byte the target sends). */
  ctxAdd(ctx: number, tag = 0, seq = this.nextSeq): CommandInput {
    const a = this.addr;
    return ctxAdd({ tag, ctx, ipVersion: a.ipVersion, srcIp: a.srcIp, dstIp: a.dstIp, srcPort: a.srcPort, dstPort: a.dstPort, seq, hdgst: this.config.hdgst, ddgst: this.config.ddgst });
  }

  /** The host asks for `nlb` blocks at `slba` under `cid`. */
  read(cid: number, slba: number, nlb: number): void {
    this.q.receive(encodePdu({ kind: "CapsuleCmd", sqe: { kind: "Read", cid, nsid: NSID, slba: BigInt(slba), nlb: nlb - 1, sgl: sglTransport(nlb * BLOCK) } }, { hdgst: this.config.hdgst }));
  }

  lie(...lies: Lie[]): void {
    this.q.lie(...lies);
  }

  /** Every response pending: the target's own frames (its MSS), the PDUs it meant to send, and its stream. */
  flush(): { frames: Uint8Array[]; pdus: SentPdu[]; stream: Uint8Array; seq: number } {
    const seq = this.q.nextSeq;
    const segs = this.q.flush();
    const pdus = this.q.sent.slice(this.sentSeen);
    this.sentSeen = this.q.sent.length;
    return { frames: segs.map((s) => s.frame), pdus, stream: concat(segs.map((s) => s.payload)), seq };
  }

  /** Every response pending, as one stream (the target's own segmentation is discarded). */
  burst(): Burst {
    const { stream, seq, pdus } = this.flush();
    return { stream, seq, pdus };
  }

  /** Frames of `stream` (starting at `seq`) cut at the given stream offsets (sorted, deduplicated). */
  cut(stream: Uint8Array, seq: number, cuts: readonly number[]): Uint8Array[] {
    const bounds = [...new Set([0, ...cuts.filter((c) => c > 0 && c < stream.length), stream.length])].sort((a, b) => a - b);
    const out: Uint8Array[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const sender = new TcpStreamSender(this.addr, { isn: seqAdd(seq, bounds[i]!), mss: 65000, ackSeq: 1, ...(this.config.tcpOptions ? { options: this.config.tcpOptions } : {}) });
      out.push(...sender.send(stream.subarray(bounds[i]!, bounds[i + 1]!)).map((s) => s.frame));
    }
    return out;
  }
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Random cut points: payloads of `min..max` bytes, some cuts forced inside PDU headers. */
export function randomCuts(rng: Rng, b: Burst, min: number, max: number, headerCutRate = 0.3): number[] {
  const cuts: number[] = [];
  for (let at = rng.range(min, max); at < b.stream.length; at += rng.range(min, max)) cuts.push(at);
  for (const p of b.pdus) {
    const off = (p.seq - b.seq) >>> 0;
    if (rng.chance(headerCutRate)) cuts.push(off + rng.range(1, 27));
  }
  return cuts;
}

/** C2HData data bytes of a burst (the denominator of the offload ratio). */
export function dataBytes(b: Burst): number {
  return b.pdus.reduce((n, p) => n + (p.type === 0x07 ? (p.datal ?? 0) : 0), 0);
}

/**
 * A buffer of `total` bytes in host memory in pages of `page` bytes, as TAG_SETUP takes them (contract section 1):
 * the first entry starts anywhere in its page (as long as the buffer fits in `maxPages` pages), every other one
 * on a page boundary; every entry but the last runs to the end of its page. Each page is its own allocation with
 * guard bytes around it.
 */
export function pageSgl(rng: Rng, mem: HostMemory, total: number, page: number, maxPages = Number.MAX_SAFE_INTEGER): SglEntry[] {
  const slack = Math.min(page - 1, maxPages * page - total);
  if (total < 1 || slack < 0) throw new RangeError(`pageSgl: ${total} bytes do not fit in ${maxPages} pages of ${page}`);
  const off = rng.chance(0.3) ? 0 : rng.int(slack + 1);
  const sgl: SglEntry[] = [];
  for (let left = total, o = off; left > 0; o = 0) {
    const len = Math.min(left, page - o);
    sgl.push({ addr: mem.allocate(len, rng.range(1, 24), page, o), len });
    left -= len;
  }
  return sgl;
}

export function setupBeats(tag: number, ctx: number, cid: number, sgl: readonly SglEntry[]): CommandInput[] {
  return tagSetup({ tag, ctx, cid, sgl });
}

/** The payload seq of a frame (for generators that reason about frames). */
export function frameSeq(frame: Uint8Array): { seq: number; len: number } {
  const f = parseFrame(frame);
  return { seq: f.tcp!.seq, len: f.payload.length };
}
