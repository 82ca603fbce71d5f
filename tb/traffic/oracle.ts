// Checks of the reference model on target traffic (test/model): an independent oracle of the segments each
// frame must report, computed from the target's own record of what it sent (interval arithmetic, not a byte
// walk), and the invariants every frame must keep whatever the traffic. Uses vitest's expect: for tests only.

import { expect } from "vitest";
import { parseFrame } from "../../src/net/frame.js";
import { seqAdd, seqDiff } from "../../src/net/seq.js";
import { PduType } from "../../src/pdu/pdu.js";
import type { SentPdu } from "../../src/nvmet/controller.js";
import type { HostMemory } from "../../src/contract/host-memory.js";
import { type FrameResult, type OffloadModel } from "../../src/model/offload-model.js";
import { CqeSchema, type Segment, type SglEntry, sglSlices } from "../../src/contract/protocol.js";
import { concat } from "./target.js";

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
  const pieces = sglSlices(sgl, off, len);
  if (pieces.reduce((n, p) => n + p.len, 0) !== len) throw new RangeError(`[${off}, ${off + len}) runs past the SGL`);
  return concat(pieces.map((p) => mem.read(p.addr, p.len)));
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
