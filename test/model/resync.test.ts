// Resync (contract section 7) on hand-built streams: PDUs encoded with encodePdu, frames cut by hand, and every
// expected seq, segment and counter computed here from the PDU layout (type byte of a header = the PDU's first
// stream offset; data = header + HDGST on, hpda 0), not from the model.

import { describe, expect, it } from "vitest";
import { buildTcpFrame, parseFrame } from "../../src/net/frame.js";
import { seqAdd } from "../../src/net/seq.js";
import { encodePdu, type Pdu } from "../../src/pdu/pdu.js";
import { HostMemory } from "../../src/contract/host-memory.js";
import { type FrameResult, OffloadModel } from "../../src/model/offload-model.js";
import { ctxAdd, EventKind, resync, type Segment, type SglEntry, Status, tagSetup, tagTeardown } from "../../src/contract/protocol.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";
import { feed } from "../../tb/traffic/oracle.js";
import { concat, FLOW4 } from "../../tb/traffic/target.js";

const seed = seedFromEnv();
console.log(`model resync.test seed=${seed} (SEED=${seed} to reproduce)`);

const CID = 0x1001;
const BUF = 1 << 16;
/** The read buffer starts FIRST bytes before a page boundary (PAGE 4096, the default): its SGL is FIRST bytes, then pages. */
const PAGE = 4096;
const FIRST = 1000;

/** The SGL of the read buffer at `buf`: a first entry of FIRST bytes, whole pages, a shorter last page. */
function bufSgl(buf: bigint): SglEntry[] {
  const sgl: SglEntry[] = [{ addr: buf, len: FIRST }];
  for (let at = FIRST; at < BUF; at += PAGE) sgl.push({ addr: buf + BigInt(at), len: Math.min(PAGE, BUF - at) });
  return sgl;
}

interface Digests {
  hdgst: boolean;
  ddgst: boolean;
  /** Context cpda = the target's pda (0 when absent): C2HData PAD before the data. */
  pda?: number;
}

interface Layout {
  /** Stream offset of the PDU's first (type) byte. */
  start: number;
  length: number;
  /** C2HData: stream offset of the first data byte, datao, datal. */
  data?: { at: number; datao: number; len: number };
}

/** A stream of PDUs and where each one is. */
class Stream {
  readonly bytes: Uint8Array;
  readonly pdus: Layout[] = [];
  /** The read's bytes (datao 0 on). */
  readonly payload: Uint8Array;

  constructor(
    readonly d: Digests,
    readonly isn: number,
    parts: readonly (Pdu | Uint8Array)[],
    payload: Uint8Array,
  ) {
    const chunks: Uint8Array[] = [];
    let at = 0;
    for (const p of parts) {
      const b = p instanceof Uint8Array ? p : encodePdu(p, d);
      if (!(p instanceof Uint8Array)) {
        // Data at pdo (byte 3): 24 (+4 HDGST) when pda is 0, rounded up to the pda alignment otherwise.
        this.pdus.push({ start: at, length: b.length, ...(p.kind === "C2HData" ? { data: { at: at + b[3]!, datao: p.datao, len: p.data.length } } : {}) });
      }
      chunks.push(b);
      at += b.length;
    }
    this.bytes = concat(chunks);
    this.payload = payload;
  }

  seq(off: number): number {
    return seqAdd(this.isn, off);
  }

  /** Frames of [cuts[i], cuts[i+1]) (0 and the end added). */
  frames(cuts: readonly number[]): Uint8Array[] {
    const b = [...new Set([0, ...cuts, this.bytes.length])].sort((x, y) => x - y);
    const out: Uint8Array[] = [];
    for (let i = 0; i + 1 < b.length; i++) out.push(this.frame(b[i]!, b[i + 1]!));
    return out;
  }

  frame(from: number, to: number): Uint8Array {
    return buildTcpFrame({ ...FLOW4, seq: this.seq(from), ack: 0, flags: { ack: true }, payload: this.bytes.subarray(from, to) });
  }

  /** Segments a frame [from, to) reports when the PDUs with the given indices are placed (at most 4). */
  segments(frame: Uint8Array, placed: (pdu: number) => boolean): Segment[] {
    const f = parseFrame(frame);
    const from = f.tcp!.seq - this.isn;
    const a = from >>> 0;
    const to = a + f.payload.length;
    const out: Segment[] = [];
    this.pdus.forEach((p, i) => {
      if (!p.data || !placed(i)) return;
      const s = Math.max(a, p.data.at);
      const e = Math.min(to, p.data.at + p.data.len);
      if (e > s) out.push({ cid: CID, bufOff: p.data.datao + (s - p.data.at), frameOff: f.payloadOffset + (s - a), len: e - s });
    });
    return out.slice(0, 4);
  }
}

/** `n` C2HData PDUs of `size` bytes of one read, then its CapsuleResp. */
function readStream(rng: Rng, d: Digests, n: number, size: number | number[], isn = rng.u32()): Stream {
  const sizes = Array.isArray(size) ? size : new Array<number>(n).fill(size);
  const total = sizes.reduce((x, y) => x + y, 0);
  const payload = rng.bytes(total);
  const parts: Pdu[] = [];
  let datao = 0;
  for (const len of sizes) {
    parts.push({ kind: "C2HData", cccid: CID, datao, last: datao + len === total, success: false, data: payload.subarray(datao, datao + len) });
    datao += len;
  }
  parts.push({ kind: "CapsuleResp", cqe: { result: 0n, sqHead: 0, sqId: 1, cid: CID, status: 0 } });
  return new Stream(d, isn, parts, payload);
}

interface Rig {
  model: OffloadModel;
  mem: HostMemory;
  buf: bigint;
  s: Stream;
  /**
   * Feeds a frame with the generic per-frame checks, and checks its segments: exactly the data of the PDUs
   * `placed` says (none by default), computed from the layout. Records them for checkBuffer().
   */
  feed(frame: Uint8Array, placed?: (pdu: number) => boolean): FrameResult;
  /** The read buffer holds the payload exactly where the fed frames were expected to place it, zeros elsewhere. */
  checkBuffer(): void;
  /** Bytes the fed frames were expected to place. */
  placedBytes(): number;
  confirm(seq: number): void;
  resyncEvents(): number[];
}

function rig(s: Stream, params: ConstructorParameters<typeof OffloadModel>[0] = {}): Rig {
  const model = new OffloadModel(params);
  const mem = new HostMemory();
  const buf = mem.allocate(BUF, 32, PAGE, PAGE - FIRST);
  const a = FLOW4;
  model.command(ctxAdd({ ctx: 0, ipVersion: 4, srcIp: a.srcIp, dstIp: a.dstIp, srcPort: a.srcPort, dstPort: a.dstPort, seq: s.isn, hdgst: s.d.hdgst, ddgst: s.d.ddgst, cpda: s.d.pda ?? 0 }));
  for (const beat of tagSetup({ ctx: 0, cid: CID, sgl: bufSgl(buf) })) model.command(beat);
  expect(model.events().map((e) => e.kind === EventKind.COMPLETION && e.status)).toEqual([Status.OK, Status.OK]);
  const pending: number[] = [];
  const expected: Segment[] = [];
  const drain = () => {
    for (const e of model.events()) {
      if (e.kind === EventKind.RESYNC_REQUEST) {
        expect(e.ctx).toBe(0);
        pending.push(e.seq);
      } else {
        expect(e).toMatchObject({ kind: EventKind.COMPLETION, status: Status.OK });
      }
    }
  };
  return {
    model,
    mem,
    buf,
    s,
    feed(frame, placedPdu = () => false) {
      const r = feed(model, mem, frame);
      const want = s.segments(frame, placedPdu);
      expect(r.cqe.segs).toEqual(want);
      expected.push(...want);
      drain();
      return r;
    },
    placedBytes: () => expected.reduce((n, g) => n + g.len, 0),
    checkBuffer() {
      const want = new Uint8Array(BUF);
      for (const g of expected) want.set(s.payload.subarray(g.bufOff, g.bufOff + g.len), g.bufOff);
      const got = concat(bufSgl(buf).map((e) => mem.read(e.addr, e.len)));
      expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
      expect(mem.checkGuards()).toEqual([]);
    },
    confirm(seq) {
      model.command(resync({ tag: 9, ctx: 0, seq }));
      drain();
    },
    resyncEvents: () => pending.splice(0),
  };
}

const digestCombos: Digests[] = [
  { hdgst: false, ddgst: false },
  { hdgst: true, ddgst: false },
  { hdgst: false, ddgst: true },
  { hdgst: true, ddgst: true },
];

describe("resync: lost header, candidate, confirm", () => {
  for (const d of digestCombos) {
    it(`raises one RESYNC_REQUEST at the next header's type byte and resumes at the PDU after the confirm (hdgst ${d.hdgst}, ddgst ${d.ddgst})`, () => {
      const rng = new Rng(seed ^ (d.hdgst ? 1 : 0) ^ (d.ddgst ? 2 : 0));
      const s = readStream(rng, d, 6, 1000);
      const r = rig(s);
      const P = s.pdus;
      // A: PDU 0 and the start of PDU 1; B (lost): PDU 1's header; C: the rest of PDU 1 and PDU 2's header + 30
      // data bytes; D: up to 10 bytes into PDU 4's data; then one frame per 700 bytes.
      const cuts = [P[1]!.start - 5, P[1]!.start + 50, P[2]!.data!.at + 30, P[4]!.data!.at + 10];
      for (let c = cuts[3]! + 700; c < s.bytes.length; c += 700) cuts.push(c);
      const frames = s.frames(cuts);
      const [A, B, C, D, ...rest] = frames as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, ...Uint8Array[]];
      r.feed(A, (i) => i === 0 || i === 1);
      expect(r.model.trackState(0)?.state).not.toBe("SEARCH");
      const c = r.feed(C);
      const cand = s.seq(P[2]!.start);
      expect(c.cqe).toMatchObject({ hit: true, nseg: 0, crcOk: false, resync: true, resyncSeq: cand });
      expect(r.resyncEvents()).toEqual([cand]);
      expect(r.model.trackState(0)).toEqual({ state: "WAIT_CONFIRM", exp: s.seq(cuts[2]!) });
      expect(r.model.stats).toMatchObject({ searches: 1, rxNvmeTcpDrop: 1, rxNvmeTcpResync: 1, oooPackets: 1 });
      // The late retransmission of B changes nothing.
      const before = r.model.resyncState(0);
      expect(r.feed(B).cqe).toMatchObject({ nseg: 0, crcOk: false, resync: false });
      expect(r.model.resyncState(0)).toEqual(before);
      // The host's confirm: the rest of PDU 2 (in progress) is placed from the next frame on (section 7), PDU 3
      // on is fully offloaded.
      r.confirm(cand);
      expect(r.model.stats.resyncConfirms).toBe(1);
      expect(r.model.trackState(0)?.state).toBe("WAIT_CONFIRM"); // until the boundary
      const dd = r.feed(D, (i) => i >= 2);
      expect(dd.cqe.crcOk).toBe(false); // carries PDU 2's bytes (its digest unchecked)
      expect(r.model.trackState(0)?.state).toBe("DATA");
      for (const f of rest) {
        const res = r.feed(f, (i) => i >= 2);
        expect(res.cqe.crcOk).toBe(d.ddgst);
        expect(res.cqe.resync).toBe(false);
      }
      expect(r.resyncEvents()).toEqual([]);
      r.checkBuffer();
      expect(r.model.stats).toMatchObject({ rxNvmeTcpBytes: r.placedBytes(), pdusCrcOk: d.ddgst ? 3 : 0, pdusCrcBad: 0, resyncMisses: 0, resyncTimeouts: 0 }); // PDU 0's digest was lost: PDUs 3-5
      expect(r.model.trackState(0)).toEqual({ state: "HEADER", exp: s.seq(s.bytes.length) });
    });
  }

  it("offloads the very next PDU when the confirm comes exactly at a boundary between frames", () => {
    const rng = new Rng(seed + 1);
    const s = readStream(rng, { hdgst: false, ddgst: true }, 5, 800);
    const r = rig(s);
    const P = s.pdus;
    // Frames: [0, P1+10) | lost [P1+10, P1+100) | [P1+100, P2+100) | [P2+100, P3) | [P3, ...) per PDU.
    const frames = s.frames([P[1]!.start + 10, P[1]!.start + 100, P[2]!.start + 100, P[3]!.start, P[4]!.start, P[5]!.start]);
    r.feed(frames[0]!, () => true);
    expect(r.feed(frames[2]!).cqe.resyncSeq).toBe(s.seq(P[2]!.start));
    expect(r.feed(frames[3]!).cqe.nseg).toBe(0);
    r.confirm(s.seq(P[2]!.start)); // the tracker is at PDU 3's first byte
    expect(r.model.trackState(0)).toEqual({ state: "HEADER", exp: s.seq(P[3]!.start) });
    const f4 = r.feed(frames[4]!, (i) => i === 3);
    expect(f4.cqe.crcOk).toBe(true);
  });

  it("finds a candidate header split across frames at every offset (with HDGST, across the digest too)", () => {
    const d = { hdgst: true, ddgst: true };
    for (let split = 1; split < 28; split++) {
      const rng = new Rng(seed + 100 + split);
      const s = readStream(rng, d, 4, 600);
      const r = rig(s);
      const P = s.pdus;
      const h = P[2]!.start;
      const frames = s.frames([P[1]!.start - 3, P[1]!.start + 40, h + split, P[3]!.start]);
      r.feed(frames[0]!, () => true);
      // The 24th header byte is in frames[3] for split < 24; after it, only HDGST bytes are split off.
      const f2 = r.feed(frames[2]!);
      const f3 = r.feed(frames[3]!);
      expect([f2.cqe.resync, f3.cqe.resync], `split ${split}`).toEqual([split >= 24, split < 24]);
      expect((split < 24 ? f3 : f2).cqe.resyncSeq).toBe(s.seq(h));
      r.confirm(s.seq(h));
      r.feed(frames[4]!, (i) => i === 3);
      r.checkBuffer();
      expect(r.model.stats.rxNvmeTcpResync).toBe(1);
    }
  });

  it("follows the sequence across 2^32 during the search and the wait", () => {
    const d = { hdgst: false, ddgst: true };
    for (const wrapAt of ["in the scanned data", "inside the candidate header", "while waiting"] as const) {
      const rng = new Rng(seed + 7);
      // Place 2^32 relative to the layout: the candidate is PDU 2's header.
      const probe = readStream(new Rng(seed + 8), d, 5, 900, 0);
      const P = probe.pdus;
      const wrapOff = wrapAt === "in the scanned data" ? P[1]!.start + 300 : wrapAt === "inside the candidate header" ? P[2]!.start + 11 : P[2]!.data!.at + 500;
      const s = readStream(new Rng(seed + 8), d, 5, 900, (2 ** 32 - wrapOff) >>> 0);
      void rng;
      const r = rig(s);
      const frames = s.frames([P[1]!.start + 2, P[1]!.start + 60, P[1]!.start + 400, P[2]!.start + 11, P[3]!.start - 20, P[3]!.start + 100]);
      r.feed(frames[0]!, () => true);
      r.feed(frames[2]!);
      r.feed(frames[3]!);
      expect(r.resyncEvents()).toEqual([]);
      r.feed(frames[4]!); // completes PDU 2's header
      const cand = s.seq(P[2]!.start);
      expect(r.resyncEvents(), wrapAt).toEqual([cand]);
      if (wrapAt === "inside the candidate header") expect(cand).toBeGreaterThan(2 ** 32 - 24);
      r.confirm(cand);
      r.feed(frames[5]!, (i) => i === 2 || i === 3); // the rest of PDU 2 (confirmed inside it), then PDU 3
      for (const fr of frames.slice(6)) r.feed(fr, (i) => i >= 3);
      r.checkBuffer();
    }
  });
});

describe("resync: confirms that do not match", () => {
  it("ignores a wrong seq, a confirm while searching, and a confirm for an older candidate", () => {
    const rng = new Rng(seed + 2);
    const s = readStream(rng, { hdgst: true, ddgst: false }, 8, 700);
    const r = rig(s);
    const P = s.pdus;
    // Lost PDU 1's header; candidate PDU 2. Then a gap from inside PDU 3's header while waiting: miss, and the
    // next candidate is PDU 4. The confirm of PDU 2 (now old) is ignored; PDU 4's works.
    const frames = s.frames([P[1]!.start - 1, P[1]!.start + 30, P[1]!.start + 200, P[2]!.start + 40, P[3]!.start + 10, P[3]!.data!.at + 300, P[4]!.start + 50, P[5]!.start + 10]);
    r.feed(frames[0]!, () => true);
    r.feed(frames[2]!);
    expect(r.model.trackState(0)?.state).toBe("SEARCH");
    r.confirm(s.seq(P[2]!.start)); // nothing is waiting yet
    expect(r.model.stats.resyncConfirms).toBe(0);
    r.feed(frames[3]!);
    const c1 = s.seq(P[2]!.start);
    expect(r.resyncEvents()).toEqual([c1]);
    for (const wrong of [c1 + 1, c1 - 1, s.seq(P[1]!.start), s.seq(P[3]!.start)]) r.confirm(wrong >>> 0);
    expect(r.model.resyncState(0)?.candidate).toEqual({ seq: c1, confirmed: false });
    expect(r.model.stats.resyncConfirms).toBe(0);
    r.feed(frames[4]!); // into PDU 3's header
    // frames[5] lost: a gap that starts in a header while waiting is a miss (not rule 4).
    r.feed(frames[6]!);
    expect(r.model.stats.resyncMisses).toBe(1);
    expect(r.model.stats.searches).toBe(1); // a miss is not a new entry into SEARCH (reading)
    const c2 = s.seq(P[4]!.start);
    expect(r.resyncEvents()).toEqual([c2]);
    r.confirm(c1); // old
    expect(r.model.stats.resyncConfirms).toBe(0);
    expect(r.feed(frames[7]!).cqe.nseg).toBe(0);
    r.confirm(c2);
    r.confirm(c2); // a repeat counts once (reading)
    expect(r.model.stats.resyncConfirms).toBe(1);
    // frames[7] ended 10 bytes into PDU 5's header: PDU 5 was in progress at the confirm, PDU 6 on is placed.
    for (const f of frames.slice(8)) r.feed(f, (i) => i >= 6);
    r.checkBuffer();
      r.checkBuffer();
    // Unused and out-of-range contexts.
    r.model.command(resync({ tag: 1, ctx: 3, seq: c2 }));
    r.model.command(resync({ tag: 2, ctx: 200, seq: c2 }));
    expect(r.model.events().map((e) => e.kind === EventKind.COMPLETION && e.status)).toEqual([Status.NOT_FOUND, Status.BAD_CTX]);
  });

  it("a gap in the frame after a confirm in HDGST (still waiting for the boundary) is a miss", () => {
    const rng = new Rng(seed + 3);
    const s = readStream(rng, { hdgst: true, ddgst: false }, 6, 1000);
    const r = rig(s);
    const P = s.pdus;
    // frames[2] ends inside PDU 2's HDGST: a confirm there waits (no placement of PDU 2); frames[3] is lost, so
    // frames[4] opens a gap from the HDGST: a miss, the scan restarts at its first byte and finds PDU 3.
    const frames = s.frames([P[1]!.start + 1, P[1]!.start + 80, P[2]!.start + 26, P[2]!.data!.at + 500, P[3]!.start + 1, P[4]!.start + 30]);
    r.feed(frames[0]!, () => true);
    r.feed(frames[2]!);
    r.confirm(s.seq(P[2]!.start));
    r.feed(frames[4]!);
    expect(r.model.stats).toMatchObject({ resyncConfirms: 1, resyncMisses: 1, searches: 1, rxNvmeTcpDrop: 1 });
    expect(r.feed(frames[5]!).cqe).toMatchObject({ nseg: 0, resync: true, resyncSeq: s.seq(P[3]!.start) });
    expect(r.resyncEvents()).toEqual([s.seq(P[2]!.start), s.seq(P[3]!.start)]);
  });

  it("the same gap after a confirm inside PDU 2's data is rule 5 (normal tracking resumed there): drop, search", () => {
    const rng = new Rng(seed + 3);
    const s = readStream(rng, { hdgst: false, ddgst: false }, 6, 1000);
    const r = rig(s);
    const P = s.pdus;
    const frames = s.frames([P[1]!.start + 1, P[1]!.start + 80, P[2]!.start + 40, P[2]!.data!.at + 500, P[3]!.start + 1, P[4]!.start + 30]);
    r.feed(frames[0]!, () => true);
    r.feed(frames[2]!);
    r.confirm(s.seq(P[2]!.start));
    r.feed(frames[3]!, (i) => i === 2); // PDU 2's data offset 16 to 500
    r.feed(frames[5]!); // frames[4] lost
    expect(r.model.stats).toMatchObject({ resyncConfirms: 1, resyncMisses: 0, searches: 2, rxNvmeTcpDrop: 2 });
    expect(r.resyncEvents()).toEqual([s.seq(P[2]!.start), s.seq(P[4]!.start)]);
    expect(r.feed(frames[6]!).cqe.nseg).toBe(0);
    r.checkBuffer();
  });
});

describe("resync: false candidates, misses, timeouts", () => {
  it("follows a header-shaped run of data bytes, misses at its plen, then finds the next real header", () => {
    for (const d of digestCombos) {
      const rng = new Rng(seed + 4);
      const base = readStream(rng, d, 6, 1200);
      const P = base.pdus;
      // Inside PDU 2's data, a C2HData header that passes every check (digests as negotiated); its plen ends
      // inside PDU 3's data, where no header is.
      const hd = d.hdgst ? 4 : 0;
      const dd = d.ddgst ? 4 : 0;
      const fakeAt = P[2]!.data!.at + 100;
      const fakeEnd = P[3]!.data!.at + 200;
      const pdo = 24 + hd;
      const fake = new Uint8Array(24);
      const v = new DataView(fake.buffer);
      fake.set([0x07, (d.hdgst ? 1 : 0) | (d.ddgst ? 2 : 0), 24, pdo]);
      v.setUint32(4, fakeEnd - fakeAt, true);
      v.setUint16(8, CID, true);
      v.setUint32(16, fakeEnd - fakeAt - pdo - dd, true);
      const bytes = base.bytes.slice();
      bytes.set(fake, fakeAt);
      // Re-encode with the lie inside PDU 2's data (the PDU's own digest covers the lie).
      const payload = base.payload.slice();
      payload.set(fake, fakeAt - P[2]!.data!.at + P[2]!.data!.datao);
      const parts: Pdu[] = [];
      for (let i = 0; i < 6; i++) parts.push({ kind: "C2HData", cccid: CID, datao: i * 1200, last: i === 5, success: false, data: payload.subarray(i * 1200, (i + 1) * 1200) });
      parts.push({ kind: "CapsuleResp", cqe: { result: 0n, sqHead: 0, sqId: 1, cid: CID, status: 0 } });
      const s = new Stream(d, base.isn, parts, payload);
      expect(Buffer.from(s.bytes.subarray(fakeAt, fakeAt + 24)).equals(Buffer.from(fake))).toBe(true);
      const r = rig(s);
      // Lost: PDU 1's header ... up to 50 bytes before the fake header, so the scan starts before it.
      const frames = s.frames([P[1]!.start - 2, fakeAt - 50, fakeAt + 10, P[3]!.start + 5, fakeEnd + 10, P[4]!.start + 30, P[5]!.start + 30]);
      r.feed(frames[0]!, () => true);
      r.feed(frames[2]!);
      r.feed(frames[3]!);
      expect(r.resyncEvents()).toEqual([s.seq(fakeAt)]);
      r.feed(frames[4]!); // crosses PDU 3's real header, which the candidate's framing does not look at
      expect(r.model.trackState(0)?.state).toBe("WAIT_CONFIRM");
      expect(r.model.stats.resyncMisses).toBe(0);
      // frames[5] completes the tracked "header" at fakeEnd, which fails: a miss. The rescan starts at
      // fakeEnd + 1, past PDU 3's header: the next candidate is PDU 4, inside the same frame.
      expect(r.feed(frames[5]!).cqe).toMatchObject({ resync: true, resyncSeq: s.seq(P[4]!.start) });
      expect(r.model.stats.resyncMisses).toBe(1);
      expect(r.resyncEvents()).toEqual([s.seq(P[4]!.start)]);
      r.confirm(s.seq(P[4]!.start));
      for (const f of frames.slice(6)) r.feed(f, (i) => i === 4 || i === 5); // confirmed inside PDU 4: its rest too
      expect(r.model.stats).toMatchObject({ rxNvmeTcpResync: 2, resyncConfirms: 1, searches: 1, rxNvmeTcpBytes: r.placedBytes() });
      r.checkBuffer();
      expect(r.mem.checkGuards()).toEqual([]);
    }
  });

  it("drops an unconfirmed candidate at the first boundary more than RESYNC_TIMEOUT bytes past it; the scan restarts there", () => {
    const rng = new Rng(seed + 5);
    const s = readStream(rng, { hdgst: true, ddgst: true }, 10, 1000);
    const P = s.pdus;
    const timeout = 2500;
    const r = rig(s, { resyncTimeout: timeout });
    const cand = P[2]!.start;
    // The first PDU start b with b - cand > timeout.
    const b = P.find((p) => p.start - cand > timeout)!;
    const cuts = [P[1]!.start + 3, P[1]!.start + 99];
    for (let c = P[1]!.start + 99 + 333; c < s.bytes.length; c += 333) cuts.push(c);
    const frames = s.frames(cuts);
    r.feed(frames[0]!, () => true);
    const seen: number[] = [];
    let confirmedAt = -1;
    let resumeAt = -1; // stream offset of the first frame after the confirm
    const bi = P.indexOf(b);
    for (const f of frames.slice(2)) {
      r.feed(f, (i) => confirmedAt >= 0 && i >= bi);
      const ev = r.resyncEvents();
      seen.push(...ev);
      if (seen.length === 2 && confirmedAt < 0) {
        r.confirm(s.seq(cand)); // the first candidate's confirm, after its timeout: ignored
        expect(r.model.stats.resyncConfirms).toBe(0);
        r.confirm(seen[1]!);
        confirmedAt = parseFrame(f).tcp!.seq;
        resumeAt = ((confirmedAt - s.isn) >>> 0) + parseFrame(f).payload.length;
      }
    }
    expect(seen).toEqual([s.seq(cand), s.seq(b.start)]);
    expect(r.model.stats).toMatchObject({ resyncTimeouts: 1, resyncConfirms: 1, resyncMisses: 0, rxNvmeTcpResync: 2 });
    // PDU 0 (before the loss), b's data from the frame after the confirm (confirmed inside b), every PDU after b.
    const bRest = b.data!.at + b.data!.len - Math.max(resumeAt, b.data!.at);
    expect(bRest).toBeGreaterThan(0);
    expect(r.model.stats.rxNvmeTcpBytes).toBe(1000 + bRest + P.slice(bi + 1).reduce((n, p) => n + (p.data?.len ?? 0), 0));
    r.checkBuffer();
  });

  it("raises several requests in one frame when candidates time out quickly; the CQE carries the last", () => {
    const d = { hdgst: false, ddgst: false };
    const rng = new Rng(seed + 12);
    // A C2HData, then 12 CapsuleResps of 24 bytes: with RESYNC_TIMEOUT 32, a candidate at s is dropped at the
    // first boundary b with b - s > 32, i.e. s + 48, which is the next candidate.
    const payload = rng.bytes(600);
    const parts: Pdu[] = [{ kind: "C2HData", cccid: CID, datao: 0, last: true, success: false, data: payload }];
    for (let k = 0; k < 12; k++) parts.push({ kind: "CapsuleResp", cqe: { result: 0n, sqHead: 0, sqId: 1, cid: k, status: 0 } });
    const s = new Stream(d, rng.u32(), parts, payload);
    const r = rig(s, { resyncTimeout: 32 });
    const P = s.pdus;
    expect(() => new OffloadModel({ resyncTimeout: 31 })).toThrow();
    // frames[2] ends 5 bytes before P12 (a boundary reached at a frame's end would time P10 out already).
    const frames = s.frames([P[1]!.start - 1, P[1]!.start + 10, P[12]!.start - 5]);
    r.feed(frames[0]!, () => true);
    const f = r.feed(frames[2]!); // from P1 + 10 to P12 - 5: candidates at P2, P4, P6, P8, P10
    const want = [2, 4, 6, 8, 10].map((k) => s.seq(P[k]!.start));
    expect(r.resyncEvents()).toEqual(want);
    expect(f.cqe).toMatchObject({ resync: true, resyncSeq: want[4], crcOk: false });
    expect(r.model.stats).toMatchObject({ rxNvmeTcpResync: 5, resyncTimeouts: 4, resyncMisses: 0, searches: 1 });
    // Confirmed: no timeout any more; the next boundary (P11) resumes normal tracking.
    r.confirm(want[4]!);
    r.feed(frames[3]!);
    expect(r.model.trackState(0)).toEqual({ state: "HEADER", exp: s.seq(s.bytes.length) });
    expect(r.model.stats).toMatchObject({ resyncTimeouts: 4, resyncConfirms: 1 });
  });

  it("a failed header check while tracking rescans the rejected header from its second byte", () => {
    const d = { hdgst: false, ddgst: true };
    const rng = new Rng(seed + 6);
    const base = readStream(rng, d, 4, 500);
    // Junk of 8 bytes that starts like a header but fails (hlen 32), then the real PDUs: the candidate is the
    // real header 8 bytes after the rejected one, found from the window kept across the frame boundary.
    const junk = Uint8Array.from([0x07, 0x02, 32, 24, 1, 2, 3, 4]);
    const P0 = base.pdus;
    const parts: (Pdu | Uint8Array)[] = [];
    const pl = base.payload;
    parts.push({ kind: "C2HData", cccid: CID, datao: 0, last: false, success: false, data: pl.subarray(0, 500) });
    parts.push(junk);
    for (let i = 1; i < 4; i++) parts.push({ kind: "C2HData", cccid: CID, datao: i * 500, last: i === 3, success: false, data: pl.subarray(i * 500, (i + 1) * 500) });
    parts.push({ kind: "CapsuleResp", cqe: { result: 0n, sqHead: 0, sqId: 1, cid: CID, status: 0 } });
    const s = new Stream(d, base.isn, parts, pl);
    void P0;
    const r = rig(s);
    const P = s.pdus;
    const junkAt = P[0]!.start + P[0]!.length;
    expect(P[1]!.start).toBe(junkAt + 8);
    const frames = s.frames([junkAt + 24, junkAt + 30, P[2]!.start + 7]);
    r.feed(frames[0]!, () => true); // PDU 0 and the first 24 bytes at junkAt: rejected at its 24th byte
    expect(r.model.stats).toMatchObject({ searches: 1, rxNvmeTcpDrop: 1 });
    expect(r.model.resyncState(0)).toMatchObject({ phase: "SEARCH", scanSeq: s.seq(junkAt + 1), window: 23 });
    const f1 = r.feed(frames[1]!); // 6 more bytes: PDU 1's header (at junkAt + 8) completes at junkAt + 32 > +30
    expect(f1.cqe.resync).toBe(false);
    const f2 = r.feed(frames[2]!);
    expect(f2.cqe).toMatchObject({ resync: true, resyncSeq: s.seq(P[1]!.start) });
    r.confirm(s.seq(P[1]!.start));
    for (const f of frames.slice(3)) r.feed(f, (i) => i >= 3);
  });

  it("counts retransmissions and gaps while waiting, not while searching; retransmissions change nothing (readings)", () => {
    const rng = new Rng(seed + 9);
    const s = readStream(rng, { hdgst: false, ddgst: true }, 6, 1000);
    const r = rig(s);
    const P = s.pdus;
    const frames = s.frames([P[1]!.start + 1, P[1]!.start + 60, P[1]!.start + 500, P[2]!.start + 200, P[3]!.start + 100]);
    r.feed(frames[0]!, () => true);
    r.feed(frames[2]!); // SEARCH (ooo 1)
    const searching = r.model.resyncState(0);
    r.feed(frames[1]!); // late retransmission while searching
    r.feed(frames[0]!, () => false); // old duplicate
    // A frame overlapping exp: starts before it, reaches past.
    const overlap = s.frame(P[1]!.start + 400, P[1]!.start + 600);
    r.feed(overlap);
    expect(r.model.resyncState(0)).toEqual(searching);
    expect(r.model.stats).toMatchObject({ retransmits: 0, oooPackets: 1 });
    r.feed(frames[3]!);
    expect(r.resyncEvents()).toEqual([s.seq(P[2]!.start)]);
    const waiting = r.model.resyncState(0);
    r.feed(frames[1]!);
    r.feed(s.frame(P[2]!.start + 150, P[2]!.start + 260));
    expect(r.model.resyncState(0)).toEqual(waiting);
    expect(r.model.stats).toMatchObject({ retransmits: 2, oooPackets: 1, resyncMisses: 0 });
    r.confirm(s.seq(P[2]!.start));
    for (const f of frames.slice(4)) r.feed(f, (i) => i >= 2); // confirmed inside PDU 2: its rest too
    expect(r.model.stats.rxNvmeTcpBytes).toBe(r.placedBytes());
    r.checkBuffer();
  });

  it("restarts the scan at a gap while searching; a candidate needs its 24 bytes in order", () => {
    const rng = new Rng(seed + 10);
    const s = readStream(rng, { hdgst: false, ddgst: false }, 6, 1000);
    const r = rig(s);
    const P = s.pdus;
    // Lost: PDU 1's header; then in SEARCH, the frame holding PDU 2's header's last 12 bytes is lost too:
    // PDU 2's header never arrives whole in order, the candidate is PDU 3's.
    const frames = s.frames([P[1]!.start + 1, P[1]!.start + 60, P[2]!.start + 12, P[2]!.start + 24, P[3]!.start + 100]);
    r.feed(frames[0]!, () => true);
    r.feed(frames[2]!); // ends with PDU 2's first 12 header bytes
    expect(r.resyncEvents()).toEqual([]);
    const f4 = r.feed(frames[4]!); // gap: the scan restarts at its first byte; PDU 3's header is inside it
    expect(f4.cqe).toMatchObject({ resync: true, resyncSeq: s.seq(P[3]!.start) });
    expect(r.resyncEvents()).toEqual([s.seq(P[3]!.start)]);
    expect(r.model.stats).toMatchObject({ searches: 1, rxNvmeTcpResync: 1 });
    r.feed(frames[3]!); // the late one: old now
    r.confirm(s.seq(P[3]!.start));
    for (const f of frames.slice(5)) r.feed(f, (i) => i >= 3); // confirmed inside PDU 3: its rest too
  });
});

describe("resync: data-only gaps while waiting (rule 4 keeps the candidate)", () => {
  // Large PDUs (as nvmet and SPDK send a read): a second loss lands in the candidate PDU's data before the
  // host's confirm arrives. Candidate PDU 2 (PDU 1's header lost); then a gap inside PDU 2's data.
  for (const d of digestCombos) {
    it(`a gap inside the candidate's data keeps it; the confirm is accepted; offload resumes at PDU 3 (hdgst ${d.hdgst}, ddgst ${d.ddgst})`, () => {
      const rng = new Rng(seed + 20 + (d.hdgst ? 1 : 0) + (d.ddgst ? 2 : 0));
      const s = readStream(rng, d, 6, 3000);
      const r = rig(s);
      const P = s.pdus;
      const x = P[2]!.data!.at;
      // [0, P1-5) | lost [P1-5, P1+50) | [P1+50, x+100) | [x+100, x+1000) | lost [x+1000, x+2000) | [x+2000, x+2500) | 700-byte frames
      const cuts = [P[1]!.start - 5, P[1]!.start + 50, x + 100, x + 1000, x + 2000, x + 2500];
      for (let c = x + 2500 + 700; c < s.bytes.length; c += 700) cuts.push(c);
      const frames = s.frames(cuts);
      r.feed(frames[0]!, (i) => i <= 1);
      const cand = s.seq(P[2]!.start);
      expect(r.feed(frames[2]!).cqe).toMatchObject({ resync: true, resyncSeq: cand, nseg: 0, crcOk: false });
      expect(r.resyncEvents()).toEqual([cand]);
      r.feed(frames[3]!);
      const g = r.feed(frames[5]!); // frames[4] lost: 1000 bytes inside PDU 2's data
      expect(g.cqe).toMatchObject({ nseg: 0, crcOk: false, resync: false });
      expect(r.model.trackState(0)).toEqual({ state: "WAIT_CONFIRM", exp: s.seq(x + 2500) });
      expect(r.model.resyncState(0)?.candidate).toEqual({ seq: cand, confirmed: false });
      // The kept gap counts in ooo_packets (as rule 4 does), in nothing else.
      expect(r.model.stats).toMatchObject({ oooPackets: 2, resyncMisses: 0, searches: 1, rxNvmeTcpDrop: 1, rxNvmeTcpResync: 1 });
      r.confirm(cand);
      expect(r.model.stats.resyncConfirms).toBe(1);
      for (const f of frames.slice(6)) {
        const from = parseFrame(f).tcp!.seq;
        const res = r.feed(f, (i) => i >= 2);
        // The rest of PDU 2 is placed (confirmed inside it) with crc_ok 0; PDU 3 on is fully offloaded.
        expect(res.cqe.crcOk).toBe(d.ddgst && ((from - s.isn) >>> 0) >= P[3]!.start);
      }
      expect(r.resyncEvents()).toEqual([]);
      r.checkBuffer();
      expect(r.model.stats).toMatchObject({ rxNvmeTcpBytes: r.placedBytes(), pdusCrcOk: d.ddgst ? 3 : 0, pdusCrcBad: 0, resyncMisses: 0 });
      expect(r.model.trackState(0)).toEqual({ state: "HEADER", exp: s.seq(s.bytes.length) });
    });

    it(`a gap reaching one byte past the candidate's data end is a miss (hdgst ${d.hdgst}, ddgst ${d.ddgst})`, () => {
      const rng = new Rng(seed + 30 + (d.hdgst ? 1 : 0) + (d.ddgst ? 2 : 0));
      const s = readStream(rng, d, 6, 3000);
      const r = rig(s);
      const P = s.pdus;
      const end = P[2]!.data!.at + 3000; // PDU 2's data end: its DDGST, or PDU 3's header
      // lost [end - 700, end + 1): with DDGST the gap ends in the digest (the scan restarts there and finds
      // PDU 3), without in PDU 3's header (the scan restarts past its first byte and finds PDU 4).
      const k = d.ddgst ? 3 : 4;
      const frames = s.frames([P[1]!.start - 5, P[1]!.start + 50, P[2]!.data!.at + 100, end - 700, end + 1, P[4]!.start + 30]);
      r.feed(frames[0]!, (i) => i <= 1);
      r.feed(frames[2]!);
      expect(r.resyncEvents()).toEqual([s.seq(P[2]!.start)]);
      r.feed(frames[3]!);
      expect(r.feed(frames[5]!).cqe).toMatchObject({ resync: true, resyncSeq: s.seq(P[k]!.start), nseg: 0 });
      expect(r.model.stats).toMatchObject({ oooPackets: 2, resyncMisses: 1, searches: 1, rxNvmeTcpResync: 2 });
      r.confirm(s.seq(P[2]!.start)); // the dropped candidate: ignored
      expect(r.model.stats.resyncConfirms).toBe(0);
      r.confirm(s.seq(P[k]!.start));
      r.feed(frames[6]!, (i) => i >= 4); // confirmed inside PDU 4: its rest too
      r.checkBuffer();
    });
  }

  for (const ddgst of [false, true]) {
    it(`a gap ending exactly at the data end keeps the candidate; confirmed, the next PDU is placed from the frame after the gap (ddgst ${ddgst})`, () => {
      const d = { hdgst: false, ddgst };
      const rng = new Rng(seed + 40 + (ddgst ? 1 : 0));
      const s = readStream(rng, d, 5, 3000);
      const r = rig(s);
      const P = s.pdus;
      const end = P[2]!.data!.at + 3000;
      // lost [end - 1000, end): the next frame starts at the DDGST (ddgst) or exactly at PDU 3's header.
      const frames = s.frames([P[1]!.start - 5, P[1]!.start + 50, P[2]!.data!.at + 100, end - 1000, end, P[3]!.data!.at + 500, P[4]!.start]);
      r.feed(frames[0]!, (i) => i <= 1);
      r.feed(frames[2]!);
      r.confirm(s.seq(P[2]!.start)); // confirmed while PDU 2 is in progress: its rest is placed from frames[3]
      r.feed(frames[3]!, (i) => i === 2);
      const b = r.feed(frames[5]!, (i) => i === 3); // frames[4] lost
      expect(b.cqe.crcOk, "the frame holding the boundary").toBe(false);
      expect(r.model.stats).toMatchObject({ resyncConfirms: 1, resyncMisses: 0, oooPackets: 2 });
      const next = r.feed(frames[6]!, (i) => i === 3);
      expect(next.cqe.crcOk).toBe(ddgst);
      r.feed(frames[7]!, (i) => i >= 3);
      r.checkBuffer();
      expect(r.model.stats).toMatchObject({ rxNvmeTcpBytes: r.placedBytes(), pdusCrcOk: ddgst ? 2 : 0 });
    });
  }

  it("a gap ending exactly at a boundary more than RESYNC_TIMEOUT past an unconfirmed candidate times it out there", () => {
    const d = { hdgst: false, ddgst: false };
    const rng = new Rng(seed + 50);
    const s = readStream(rng, d, 5, 3000);
    const r = rig(s, { resyncTimeout: 2000 });
    const P = s.pdus;
    const end = P[2]!.data!.at + 3000; // = PDU 3's start, 3024 bytes past the candidate
    expect(end).toBe(P[3]!.start);
    const frames = s.frames([P[1]!.start - 5, P[1]!.start + 50, P[2]!.data!.at + 100, end - 1000, end, P[3]!.data!.at + 500]);
    r.feed(frames[0]!, (i) => i <= 1);
    r.feed(frames[2]!);
    expect(r.resyncEvents()).toEqual([s.seq(P[2]!.start)]);
    r.feed(frames[3]!);
    // frames[4] lost: the scan restarts at PDU 3's header (the boundary), the next candidate, in this frame.
    expect(r.feed(frames[5]!).cqe).toMatchObject({ resync: true, resyncSeq: s.seq(P[3]!.start), nseg: 0 });
    expect(r.model.stats).toMatchObject({ resyncTimeouts: 1, resyncMisses: 0, rxNvmeTcpResync: 2, oooPackets: 2 });
    r.confirm(s.seq(P[3]!.start));
    r.feed(frames[6]!, (i) => i >= 3); // confirmed inside PDU 3: its rest too
    r.checkBuffer();
  });
});

describe("resync: a confirm inside the candidate's C2HData PDU places the rest of it (section 7)", () => {
  // PDU 1's header is lost; PDU 2 is the candidate; the host confirms while the context is inside PDU 2.
  // Expected segments come from the layout (Rig.feed), the buffer from the read's bytes (Rig.checkBuffer).
  const crcOkFrom = (s: Stream, f: Uint8Array, ddgst: boolean, firstClean: number): boolean =>
    ddgst && ((parseFrame(f).tcp!.seq - s.isn) >>> 0) >= firstClean;

  for (const d of digestCombos) {
    it(`confirm in DATA: PDU 2's remaining data is placed with crc_ok 0, PDU 3 on is offloaded (hdgst ${d.hdgst}, ddgst ${d.ddgst})`, () => {
      const rng = new Rng(seed + 60 + (d.hdgst ? 1 : 0) + (d.ddgst ? 2 : 0));
      const s = readStream(rng, d, 6, 3000);
      const r = rig(s);
      const P = s.pdus;
      const x = P[2]!.data!.at;
      // [0, P1-5) | lost [P1-5, P1+50) | [P1+50, x+100): candidate | [x+100, x+1000) | confirm | 700-byte frames
      const cuts = [P[1]!.start - 5, P[1]!.start + 50, x + 100, x + 1000];
      for (let c = x + 1000 + 700; c < s.bytes.length; c += 700) cuts.push(c);
      const frames = s.frames(cuts);
      r.feed(frames[0]!, (i) => i <= 1);
      const cand = s.seq(P[2]!.start);
      expect(r.feed(frames[2]!).cqe.resyncSeq).toBe(cand);
      expect(r.resyncEvents()).toEqual([cand]);
      r.feed(frames[3]!);
      const placedBefore = r.placedBytes();
      r.confirm(cand);
      expect(r.model.stats.resyncConfirms).toBe(1);
      expect(r.model.trackState(0)?.state).toBe("WAIT_CONFIRM"); // until the context's next frame begins
      const first = r.feed(frames[4]!, (i) => i >= 2);
      // PDU 2's data offset 1000 on, at buffer offset datao (6000) + 1000.
      expect(first.cqe.segs.map((g) => [g.bufOff, g.len])).toEqual([[7000, 700]]);
      expect(first.cqe.crcOk).toBe(false);
      expect(r.model.trackState(0)?.state).toBe("DATA");
      for (const f of frames.slice(5)) expect(r.feed(f, (i) => i >= 2).cqe.crcOk).toBe(crcOkFrom(s, f, d.ddgst, P[3]!.start));
      expect(r.resyncEvents()).toEqual([]);
      r.checkBuffer();
      // The rest of PDU 2 (2000 bytes) and PDUs 3-5; PDU 2's digest is counted nowhere.
      expect(r.placedBytes() - placedBefore).toBe(2000 + 3 * 3000);
      expect(r.model.stats).toMatchObject({ rxNvmeTcpBytes: r.placedBytes(), pdusCrcOk: d.ddgst ? 3 : 0, pdusCrcBad: 0, resyncMisses: 0, resyncConfirms: 1 });
      expect(r.model.trackState(0)).toEqual({ state: "HEADER", exp: s.seq(s.bytes.length) });
    });
  }

  for (const hdgst of [false, true]) {
    it(`confirm in PAD (cpda 15): all of PDU 2's data is placed, crc_ok 0 on its frames (hdgst ${hdgst})`, () => {
      const d: Digests = { hdgst, ddgst: true, pda: 15 };
      const rng = new Rng(seed + 70 + (hdgst ? 1 : 0));
      const s = readStream(rng, d, 5, 2000);
      const r = rig(s);
      const P = s.pdus;
      expect(P[2]!.data!.at - P[2]!.start).toBe(64); // pdo: 64-byte alignment
      // The candidate's frame ends 30 bytes into PDU 2: after its header (and HDGST), inside its PAD.
      const cuts = [P[1]!.start - 5, P[1]!.start + 50, P[2]!.start + 30, P[2]!.data!.at + 900];
      for (let c = P[2]!.data!.at + 900 + 1200; c < s.bytes.length; c += 1200) cuts.push(c);
      const frames = s.frames(cuts);
      r.feed(frames[0]!, (i) => i <= 1);
      const cand = s.seq(P[2]!.start);
      expect(r.feed(frames[2]!).cqe.resyncSeq).toBe(cand);
      expect(r.resyncEvents()).toEqual([cand]);
      expect(r.model.resyncState(0)?.phase).toBe("PAD");
      r.confirm(cand);
      const first = r.feed(frames[3]!, (i) => i >= 2);
      expect(first.cqe.segs.map((g) => [g.bufOff, g.len])).toEqual([[4000, 900]]);
      expect(first.cqe.crcOk).toBe(false);
      for (const f of frames.slice(4)) expect(r.feed(f, (i) => i >= 2).cqe.crcOk).toBe(crcOkFrom(s, f, true, P[3]!.start));
      r.checkBuffer();
      expect(r.model.stats).toMatchObject({ rxNvmeTcpBytes: r.placedBytes(), pdusCrcOk: 2, pdusCrcBad: 0, resyncMisses: 0 });
    });
  }

  it("confirm in DDGST: nothing left to place of PDU 2, its digest is not counted; PDU 3 on is offloaded", () => {
    const d = { hdgst: false, ddgst: true };
    const rng = new Rng(seed + 80);
    const s = readStream(rng, d, 5, 3000);
    const r = rig(s);
    const P = s.pdus;
    const end = P[2]!.data!.at + 3000;
    // The frame before the confirm ends 2 bytes into PDU 2's DDGST.
    const frames = s.frames([P[1]!.start - 5, P[1]!.start + 50, P[2]!.data!.at + 100, end + 2, P[3]!.data!.at + 500, P[4]!.start]);
    r.feed(frames[0]!, (i) => i <= 1);
    const cand = s.seq(P[2]!.start);
    expect(r.feed(frames[2]!).cqe.resyncSeq).toBe(cand);
    expect(r.resyncEvents()).toEqual([cand]);
    r.feed(frames[3]!);
    const placedBefore = r.placedBytes();
    expect(r.model.resyncState(0)?.phase).toBe("DDGST");
    r.confirm(cand);
    const b = r.feed(frames[4]!, (i) => i >= 2);
    expect(b.cqe.segs.map((g) => [g.bufOff, g.len])).toEqual([[9000, 500]]);
    expect(b.cqe.crcOk, "carries PDU 2's digest").toBe(false);
    expect(r.feed(frames[5]!, (i) => i >= 2).cqe.crcOk).toBe(true);
    expect(r.feed(frames[6]!, (i) => i >= 2).cqe.crcOk).toBe(true);
    expect(r.resyncEvents()).toEqual([]);
    r.checkBuffer();
    expect(r.placedBytes() - placedBefore, "PDUs 3 and 4").toBe(2 * 3000);
    expect(r.model.stats).toMatchObject({ rxNvmeTcpBytes: r.placedBytes(), pdusCrcOk: 2, pdusCrcBad: 0, resyncMisses: 0 });
  });

  it("confirm while the PDU's tag is not set up: nothing of it is placed, not even after a later TAG_SETUP", () => {
    const d = { hdgst: false, ddgst: true };
    const rng = new Rng(seed + 90);
    const s = readStream(rng, d, 5, 3000);
    const r = rig(s);
    const P = s.pdus;
    const x = P[2]!.data!.at;
    const frames = s.frames([P[1]!.start - 5, P[1]!.start + 50, x + 100, x + 1000, x + 2000, P[3]!.data!.at + 100]);
    r.feed(frames[0]!, (i) => i <= 1);
    const cand = s.seq(P[2]!.start);
    expect(r.feed(frames[2]!).cqe.resyncSeq).toBe(cand);
    expect(r.resyncEvents()).toEqual([cand]);
    const placedBefore = r.placedBytes();
    r.model.command(tagTeardown({ ctx: 0, cid: CID, cookie: 7 }));
    expect(r.model.events().map((e) => e.kind)).toEqual([EventKind.COMPLETION, EventKind.TEARDOWN_DONE]);
    r.confirm(cand);
    const f3 = r.feed(frames[3]!); // the decision (no tag) is taken as this frame begins
    expect(f3.cqe).toMatchObject({ nseg: 0, crcOk: false });
    for (const beat of tagSetup({ ctx: 0, cid: CID, sgl: bufSgl(r.buf) })) r.model.command(beat);
    expect(r.model.events().map((e) => e.kind === EventKind.COMPLETION && e.status)).toEqual([Status.OK]);
    expect(r.feed(frames[4]!).cqe).toMatchObject({ nseg: 0, crcOk: false }); // still PDU 2
    // PDU 3's header decides with the new tag.
    expect(r.feed(frames[5]!, (i) => i === 3).cqe.crcOk).toBe(false); // carries PDU 2's last data and digest
    expect(r.feed(frames[6]!, (i) => i >= 3).cqe.crcOk).toBe(true);
    r.checkBuffer();
    expect(r.placedBytes() - placedBefore, "PDUs 3 and 4").toBe(2 * 3000);
    expect(r.model.stats).toMatchObject({ rxNvmeTcpBytes: r.placedBytes(), pdusCrcOk: 2, resyncConfirms: 1 });
  });
});
