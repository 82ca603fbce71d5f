// Test traffic for the offload model: a real TargetQueue (hand-built host PDUs, so the test picks the CIDs)
// serving reads of the patterned namespace, its controller -> host stream re-cut into frames where a test
// wants the boundaries, and an independent oracle of the segments each frame must report, computed from the
// target's own record of what it sent (interval arithmetic, not a byte walk).

import { expect } from "vitest";
import { type FlowAddress, parseFrame } from "../../src/net/frame.js";
import { seqAdd, seqDiff } from "../../src/net/seq.js";
import { TcpStreamSender } from "../../src/net/tcp-sender.js";
import { encodePdu, PduType } from "../../src/pdu/pdu.js";
import { encodeConnectData, sglInCapsule, sglTransport } from "../../src/pdu/sqe.js";
import { NvmeSubsystem, type SentPdu, TargetQueue } from "../../src/nvmet/controller.js";
import { RamNamespace } from "../../src/nvmet/namespace.js";
import type { HostMemory } from "../../src/contract/host-memory.js";
import { type FrameResult, type OffloadModel } from "../../src/model/offload-model.js";
import { CqeSchema, ctxAdd, type Segment, type SglEntry } from "../../src/contract/protocol.js";
import { Rng } from "../../src/util/rng.js";

export const BLOCK = 512;
export const NSID = 1;

export const FLOW4: FlowAddress = {
  srcMac: "02:00:00:00:00:02",
  dstMac: "02:00:00:00:00:01",
  ipVersion: 4,
  srcIp: "10.0.0.2",
  dstIp: "10.0.0.1",
  srcPort: 4420,
  dstPort: 40001,
};

export const FLOW6: FlowAddress = {
  ...FLOW4,
  ipVersion: 6,
  srcIp: "fd00::2",
  dstIp: "fd00::1",
  vlan: { vid: 42, pcp: 3 },
};

export interface TrafficConfig {
  seed: number;
  hdgst: boolean;
  ddgst: boolean;
  isn?: number;
  mss?: number;
  c2hDataSize?: number;
  addr?: FlowAddress;
}

/** One controller -> host connection: the target after ICReq/Connect, positioned on a PDU boundary. */
export class Traffic {
  readonly q: TargetQueue;
  readonly addr: FlowAddress;
  /** Seq of the first byte after the connect responses: the context's starting seq. */
  readonly startSeq: number;
  private sentSeen = 0;

  constructor(readonly config: TrafficConfig) {
    this.addr = config.addr ?? FLOW4;
    const ns = new RamNamespace({ nsid: NSID, blockSize: BLOCK, blocks: 1 << 20 });
    const sub = new NvmeSubsystem({ subnqn: "nqn.model", namespaces: [ns] });
    this.q = new TargetQueue(sub, {
      addr: this.addr,
      isn: config.isn ?? 5000,
      mss: config.mss ?? 1460,
      c2hDataSize: config.c2hDataSize ?? 4096,
      rng: new Rng(config.seed),
    });
    this.q.receive(encodePdu({ kind: "ICReq", pfv: 0, hpda: 0, hdgstEnable: config.hdgst, ddgstEnable: config.ddgst, maxr2t: 0 }));
    const data = encodeConnectData({ hostId: new Uint8Array(16), cntlid: 0xffff, subnqn: "nqn.model", hostnqn: "nqn.host" });
    this.q.receive(encodePdu({ kind: "CapsuleCmd", sqe: { kind: "Connect", cid: 0x7fff, recfmt: 0, qid: 0, sqsize: 31, cattr: 0, kato: 0, sgl: sglInCapsule(1024) }, data }, { hdgst: config.hdgst, ddgst: config.ddgst }));
    this.q.flush();
    this.sentSeen = this.q.sent.length;
    this.startSeq = this.q.nextSeq;
  }

  ctxAdd(ctx: number): Parameters<OffloadModel["command"]>[0] {
    const a = this.addr;
    return ctxAdd({ ctx, ipVersion: a.ipVersion, srcIp: a.srcIp, dstIp: a.dstIp, srcPort: a.srcPort, dstPort: a.dstPort, seq: this.startSeq, hdgst: this.config.hdgst, ddgst: this.config.ddgst });
  }

  /** Asks the target for a read of `nlb` blocks at `slba` under `cid`. */
  read(cid: number, slba: number, nlb: number): void {
    this.q.receive(encodePdu({ kind: "CapsuleCmd", sqe: { kind: "Read", cid, nsid: NSID, slba: BigInt(slba), nlb: nlb - 1, sgl: sglTransport(nlb * BLOCK) } }, { hdgst: this.config.hdgst }));
  }

  /** The pending responses: the target's own frames (its MSS) and the PDUs it meant to send. */
  flush(): { frames: Uint8Array[]; pdus: SentPdu[]; stream: Uint8Array; seq: number } {
    const seq = this.q.nextSeq;
    const frames = this.q.flush().map((s) => s.frame);
    const pdus = this.q.sent.slice(this.sentSeen);
    this.sentSeen = this.q.sent.length;
    const stream = concat(frames.map((f) => parseFrame(f).payload));
    return { frames, pdus, stream, seq };
  }

  /** Frames of `stream` (starting at `seq`) cut at the given stream offsets. */
  cut(stream: Uint8Array, seq: number, cuts: readonly number[]): Uint8Array[] {
    const sender = new TcpStreamSender(this.addr, { isn: seq, mss: 65000 });
    const bounds = [...new Set([0, ...cuts.filter((c) => c > 0 && c < stream.length), stream.length])].sort((a, b) => a - b);
    const out: Uint8Array[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) out.push(...sender.send(stream.subarray(bounds[i]!, bounds[i + 1]!)).map((s) => s.frame));
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

/** Offset of a C2HData PDU's data from its first byte, as the honest target lays it out (hpda 0). */
export function honestPdo(hdgst: boolean): number {
  return 24 + (hdgst ? 4 : 0);
}

export function isData(p: SentPdu): boolean {
  return p.type === PduType.C2HData;
}

/**
 * The segments a frame must report when every byte so far arrived in order and the PDUs are honest: each
 * C2HData PDU's data inside the frame, for CIDs in `placed`, at most `maxSegs`.
 */
export function oracleSegments(frame: Uint8Array, pdus: readonly SentPdu[], hdgst: boolean, placed: (cid: number) => boolean, maxSegs: number): Segment[] {
  const f = parseFrame(frame);
  const start = f.tcp!.seq;
  const out: Segment[] = [];
  for (const p of pdus) {
    if (!isData(p) || !placed(p.cid!)) continue;
    const d0 = seqAdd(p.seq, honestPdo(hdgst));
    const from = Math.max(0, seqDiff(start, d0)); // offset in the PDU data
    const to = Math.min(p.datal!, seqDiff(seqAdd(start, f.payload.length), d0));
    if (to <= from) continue;
    if (out.length === maxSegs) break;
    out.push({ cid: p.cid!, bufOff: p.datao! + from, frameOff: f.payloadOffset + seqDiff(seqAdd(d0, from), start), len: to - from });
  }
  return out;
}

/** Reads `len` bytes at offset `off` of the buffer described by `sgl`. */
export function sglRead(mem: HostMemory, sgl: readonly SglEntry[], off: number, len: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let skip = off;
  let left = len;
  for (const e of sgl) {
    if (left === 0) break;
    if (skip >= e.len) {
      skip -= e.len;
      continue;
    }
    const k = Math.min(e.len - skip, left);
    parts.push(mem.read(e.addr + BigInt(skip), k));
    left -= k;
    skip = 0;
  }
  if (left !== 0) throw new RangeError(`[${off}, ${off + len}) runs past the SGL`);
  return concat(parts);
}

/** A buffer of `total` bytes cut into SGL entries of random lengths (at least `minLen`, the last may be shorter). */
export function randomSgl(rng: Rng, mem: HostMemory, total: number, maxEntries: number, minLen = 8): SglEntry[] {
  const sgl: SglEntry[] = [];
  let left = total;
  while (left > 0) {
    const len = sgl.length === maxEntries - 1 ? left : Math.min(left, rng.range(minLen, Math.max(minLen, Math.ceil((2 * total) / maxEntries))));
    sgl.push({ addr: mem.allocate(len, rng.range(1, 32)), len });
    left -= len;
  }
  return sgl;
}

/**
 * Feeds one frame and checks what must hold for every frame whatever the traffic: the ring frame has the same
 * bytes, tkeep is cleared exactly on the reported segments, the DMA writes carry exactly those bytes, the CQE
 * parses. Applies the writes to `mem`.
 */
export function feed(model: OffloadModel, mem: HostMemory, frame: Uint8Array): FrameResult {
  const res = model.frame(frame);
  expect(Buffer.from(res.ring.data).equals(Buffer.from(frame))).toBe(true);
  CqeSchema.parse(res.cqe);
  expect(res.cqe.nseg).toBe(res.cqe.segs.length);
  expect(res.cqe.nseg).toBeLessThanOrEqual(model.params.maxSegs);
  const keep = new Uint8Array(frame.length).fill(1);
  for (const s of res.cqe.segs) keep.fill(0, s.frameOff, s.frameOff + s.len);
  expect(Buffer.from(res.ring.keep).equals(Buffer.from(keep))).toBe(true);
  const segBytes = concat(res.cqe.segs.map((s) => frame.subarray(s.frameOff, s.frameOff + s.len)));
  expect(Buffer.from(concat(res.dma.map((w) => w.data))).equals(Buffer.from(segBytes))).toBe(true);
  for (const w of res.dma) mem.apply(w);
  return res;
}

/** Ring bytes (tkeep 1) plus the placed bytes read back from host memory give the frame back. */
export function reassemble(res: FrameResult, mem: HostMemory, sglOf: (cid: number) => readonly SglEntry[]): Uint8Array {
  const out = res.ring.data.map((b, i) => (res.ring.keep[i] ? b : 0));
  for (const s of res.cqe.segs) out.set(sglRead(mem, sglOf(s.cid), s.bufOff, s.len), s.frameOff);
  return out;
}
