// The model against NVMe/TCP traffic from the target emulator: placement, ring contents, crc_ok, the sequence
// rules and counters, checked against the namespace pattern and the target's record of what it sent.

import { describe, expect, it } from "vitest";
import { buildTcpFrame, buildUdpFrame, parseFrame } from "../../src/net/frame.js";
import { seqAdd, seqDiff } from "../../src/net/seq.js";
import { makeCid } from "../../src/pdu/sqe.js";
import { patternBytes } from "../../src/nvmet/namespace.js";
import { HostMemory } from "../../src/contract/host-memory.js";
import { OffloadModel } from "../../src/model/offload-model.js";
import { capsSet, ctxDel, EventKind, type SglEntry, Status, tagSetup, tagTeardown } from "../../src/contract/protocol.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";
import { feed, honestPdo, isData, oracleSegments, reassemble } from "../../tb/traffic/oracle.js";
import { BLOCK, FLOW4, FLOW6, NSID, pageSgl, TargetFlow } from "../../tb/traffic/target.js";

const seed = seedFromEnv();
console.log(`model tracking.test seed=${seed} (SEED=${seed} to reproduce)`);

interface Read {
  cid: number;
  slba: number;
  nlb: number;
  sgl: SglEntry[];
}

/** A model with context 0 on the traffic's flow and a tag per read; every command must succeed. */
function setup(t: TargetFlow, reads: readonly Read[], params: ConstructorParameters<typeof OffloadModel>[0] = {}): OffloadModel {
  const model = new OffloadModel({ page: PAGE, ...params });
  model.command(t.ctxAdd(0));
  for (const r of reads) for (const beat of tagSetup({ ctx: 0, cid: r.cid, sgl: r.sgl })) model.command(beat);
  const events = model.events();
  expect(events.map((e) => (e.kind === EventKind.COMPLETION ? e.status : -1))).toEqual(new Array(1 + reads.length).fill(Status.OK));
  return model;
}

/** Small SGL pages, so that buffers of a few blocks span several pages. */
const PAGE = 512;

/** `len` contiguous bytes starting on a PAGE boundary (`guard` bytes around them), one SGL entry per page. */
function contiguous(mem: HostMemory, len: number, guard?: number): SglEntry[] {
  const addr = mem.allocate(len, guard, PAGE);
  const sgl: SglEntry[] = [];
  for (let at = 0; at < len; at += PAGE) sgl.push({ addr: addr + BigInt(at), len: Math.min(PAGE, len - at) });
  return sgl;
}

function randomReads(rng: Rng, mem: HostMemory, count: number): Read[] {
  const reads: Read[] = [];
  for (let i = 0; i < count; i++) {
    const nlb = rng.range(1, 24);
    // Full 16-bit CIDs: generation counter in bits 15:12.
    reads.push({ cid: makeCid(i, rng.int(16)), slba: rng.int((1 << 20) - 24), nlb, sgl: pageSgl(rng, mem, nlb * BLOCK, PAGE) });
  }
  return reads;
}

function readBuffer(mem: HostMemory, r: Read): Uint8Array {
  return Uint8Array.from(r.sgl.flatMap((e) => [...mem.read(e.addr, e.len)]));
}

function expectPattern(mem: HostMemory, r: Read): void {
  expect(Buffer.from(readBuffer(mem, r)).equals(Buffer.from(patternBytes(NSID, r.slba * BLOCK, r.nlb * BLOCK)))).toBe(true);
}

const digestCombos = [
  { hdgst: false, ddgst: false },
  { hdgst: true, ddgst: false },
  { hdgst: false, ddgst: true },
  { hdgst: true, ddgst: true },
];

describe("in-order traffic", () => {
  for (const flow of [FLOW4, FLOW6])
    for (const d of digestCombos) {
      it(`places every read exactly (IPv${flow.ipVersion}${flow.vlan ? " VLAN" : ""}, hdgst ${d.hdgst}, ddgst ${d.ddgst})`, () => {
        const rng = new Rng(seed ^ (d.hdgst ? 1 : 0) ^ (d.ddgst ? 2 : 0) ^ (flow.ipVersion << 4));
        const mem = new HostMemory();
        const t = new TargetFlow({ rng: new Rng(rng.u32()), ...d, addr: flow, mss: rng.range(200, 1460), c2hDataSize: rng.pick([512, 1000, 2048, 4096]) });
        const reads = randomReads(rng, mem, 6);
        const model = setup(t, reads);
        for (const r of reads) t.read(r.cid, r.slba, r.nlb);
        const { frames, pdus } = t.flush();
        const sglOf = (cid: number) => reads.find((r) => r.cid === cid)!.sgl;
        for (const frame of frames) {
          const res = feed(model, mem, frame);
          expect(res.cqe.hit).toBe(true);
          expect(res.cqe.segs).toEqual(oracleSegments(frame, pdus, d.hdgst, () => true, 4));
          expect(res.cqe.crcOk).toBe(d.ddgst);
          expect(Buffer.from(reassemble(res, mem, sglOf)).equals(Buffer.from(frame))).toBe(true);
        }
        for (const r of reads) expectPattern(mem, r);
        expect(mem.checkGuards()).toEqual([]);
        const dataPdus = pdus.filter(isData).length;
        const total = reads.reduce((n, r) => n + r.nlb * BLOCK, 0);
        expect(model.stats).toMatchObject({ rxNvmeTcpBytes: total, pdusCrcOk: d.ddgst ? dataPdus : 0, pdusCrcBad: 0, searches: 0, rxNvmeTcpDrop: 0, retransmits: 0, oooPackets: 0, passthrough: 0 });
        const withData = frames.filter((f) => oracleSegments(f, pdus, d.hdgst, () => true, 4).length > 0).length;
        expect(model.stats.rxNvmeTcpPackets).toBe(d.ddgst ? frames.length : withData);
        expect(model.trackState(0)).toEqual({ state: "HEADER", exp: t.q.nextSeq });
      });
    }

  it("follows the TCP sequence across 2^32", () => {
    const rng = new Rng(seed + 7);
    const mem = new HostMemory();
    const t = new TargetFlow({ rng: new Rng(seed), hdgst: true, ddgst: true, isn: 0xffff_f000 - rng.int(3000), mss: 536 });
    const reads = randomReads(rng, mem, 4);
    const model = setup(t, reads);
    for (const r of reads) t.read(r.cid, r.slba, r.nlb);
    const { frames, pdus, seq } = t.flush();
    expect(t.q.nextSeq).toBeLessThan(seq); // the stream did wrap
    for (const frame of frames) {
      const res = feed(model, mem, frame);
      expect(res.cqe.segs).toEqual(oracleSegments(frame, pdus, true, () => true, 4));
      expect(res.cqe.crcOk).toBe(true);
    }
    for (const r of reads) expectPattern(mem, r);
  });

  it("keeps headers split at every offset across frames", () => {
    for (const d of digestCombos) {
      const header = honestPdo(d.hdgst);
      for (let split = 1; split < header; split++) {
        const mem = new HostMemory();
        const t = new TargetFlow({ rng: new Rng(seed), ...d, c2hDataSize: 1024 });
        const read: Read = { cid: 3, slba: 100 + split, nlb: 4, sgl: contiguous(mem, 2048, 16) };
        const model = setup(t, [read]);
        t.read(read.cid, read.slba, read.nlb);
        const { stream, seq, pdus } = t.flush();
        // A frame boundary `split` bytes into every PDU's header.
        const cuts = pdus.map((p) => seqDiff(p.seq, seq) + split);
        for (const frame of t.cut(stream, seq, cuts)) {
          const res = feed(model, mem, frame);
          expect(res.cqe.segs).toEqual(oracleSegments(frame, pdus, d.hdgst, () => true, 4));
          expect(res.cqe.crcOk).toBe(d.ddgst);
        }
        expectPattern(mem, read);
        expect(model.stats.searches).toBe(0);
      }
    }
  });

  it("reports at most MAX_SEGS segments per frame and leaves the data of further PDUs in the ring", () => {
    const rng = new Rng(seed + 11);
    const mem = new HostMemory();
    const t = new TargetFlow({ rng: new Rng(seed), hdgst: false, ddgst: true, mss: 8000, c2hDataSize: 128 });
    const reads = randomReads(rng, mem, 3);
    const maxSegs = rng.range(2, 5);
    const model = setup(t, reads, { maxSegs });
    for (const r of reads) t.read(r.cid, r.slba, r.nlb);
    const { frames, pdus } = t.flush();
    const placed = new Map(reads.map((r) => [r.cid, new Uint8Array(r.nlb * BLOCK)]));
    let overflowed = 0;
    for (const frame of frames) {
      const all = oracleSegments(frame, pdus, false, () => true, 100);
      const res = feed(model, mem, frame);
      expect(res.cqe.segs).toEqual(all.slice(0, maxSegs));
      if (all.length > maxSegs) overflowed++;
      expect(res.cqe.crcOk).toBe(true); // the CRC covers unplaced data too
      for (const s of res.cqe.segs) placed.get(s.cid)!.fill(1, s.bufOff, s.bufOff + s.len);
    }
    expect(overflowed).toBeGreaterThan(0);
    for (const r of reads) {
      const got = readBuffer(mem, r);
      const want = patternBytes(NSID, r.slba * BLOCK, r.nlb * BLOCK);
      const mask = placed.get(r.cid)!;
      expect(Buffer.from(got).equals(Buffer.from(want.map((b, i) => (mask[i] ? b : 0))))).toBe(true);
    }
    expect(model.stats.pdusCrcOk).toBe(pdus.filter(isData).length);
  });

  it("places only for registered CIDs and a buffer big enough for datao + datal", () => {
    const mem = new HostMemory();
    const t = new TargetFlow({ rng: new Rng(seed), hdgst: false, ddgst: false, c2hDataSize: 1024 });
    const small: Read = { cid: 1, slba: 0, nlb: 4, sgl: contiguous(mem, 2047) };
    const model = setup(t, [small]);
    t.read(1, 0, 4); // 4 PDUs of 1024: the second one ends past 2047
    t.read(2, 10, 2); // not registered
    const { frames } = t.flush();
    const placed: number[] = [];
    for (const f of frames) for (const s of feed(model, mem, f).cqe.segs) placed.push(s.cid, s.bufOff, s.len);
    expect(placed.reduce((n, v, i) => (i % 3 === 2 ? n + v : n), 0)).toBe(1024);
    expect(Buffer.from(mem.read(small.sgl[0]!.addr, 1024)).equals(Buffer.from(patternBytes(NSID, 0, 1024)))).toBe(true);
    expect(mem.read(small.sgl[0]!.addr + 1024n, 1023).every((b) => b === 0)).toBe(true);
    expect(mem.checkGuards()).toEqual([]);
  });
});

describe("out-of-order traffic", () => {
  it("treats duplicates and overlapping frames as retransmissions: nothing placed, no state change", () => {
    const rng = new Rng(seed + 21);
    const mem = new HostMemory();
    const t = new TargetFlow({ rng: new Rng(seed), hdgst: true, ddgst: true, mss: 700 });
    const reads = randomReads(rng, mem, 3);
    const model = setup(t, reads);
    for (const r of reads) t.read(r.cid, r.slba, r.nlb);
    const { frames, pdus, stream, seq } = t.flush();
    let retransmits = 0;
    for (let i = 0; i < frames.length; i++) {
      const res = feed(model, mem, frames[i]!);
      expect(res.cqe.segs).toEqual(oracleSegments(frames[i]!, pdus, true, () => true, 4));
      const before = model.trackState(0);
      // An exact duplicate, and a frame starting before exp that reaches past it.
      const dup = feed(model, mem, frames[rng.int(i + 1)]!);
      const at = Math.max(0, seqDiff(parseFrame(frames[i]!).tcp!.seq, seq) - 10);
      const overlap = buildTcpFrame({ ...t.addr, seq: seqAdd(seq, at), ack: 0, flags: { ack: true }, payload: stream.subarray(at, at + 900) });
      const ovl = feed(model, mem, overlap);
      retransmits += 2;
      for (const r of [dup, ovl]) expect(r.cqe).toMatchObject({ hit: true, ctx: 0, crcOk: false, nseg: 0 });
      expect(model.trackState(0)).toEqual(before);
    }
    for (const r of reads) expectPattern(mem, r);
    expect(model.stats).toMatchObject({ retransmits, searches: 0, oooPackets: 0 });
  });

  it("skips a gap inside data (rule 4): later data placed, that PDU's frames get crc_ok 0 and no digest verdict", () => {
    const mem = new HostMemory();
    const t = new TargetFlow({ rng: new Rng(seed), hdgst: false, ddgst: true, c2hDataSize: 4096, mss: 1000 });
    const read: Read = { cid: 5, slba: 64, nlb: 16, sgl: contiguous(mem, 8192, 8) };
    const model = setup(t, [read]);
    t.read(read.cid, read.slba, read.nlb);
    const { stream, seq, pdus } = t.flush();
    const first = pdus.find(isData)!;
    const d0 = seqDiff(first.seq, seq) + 24; // first PDU's data in the stream
    // Frames: header + 100 data bytes | 300 lost data bytes | the rest of the stream in 1000-byte frames.
    const cuts = [d0 + 100, d0 + 400];
    for (let c = d0 + 400 + 1000; c < stream.length; c += 1000) cuts.push(c);
    const frames = t.cut(stream, seq, cuts);
    const lost = frames.splice(1, 1)[0]!;
    const pduEnd = seqAdd(first.seq, first.length);
    for (const frame of frames) {
      const res = feed(model, mem, frame);
      expect(res.cqe.segs).toEqual(oracleSegments(frame, pdus, false, () => true, 4));
      const f = parseFrame(frame);
      const start = f.tcp!.seq;
      const afterGap = seqDiff(start, seqAdd(seq, d0 + 400)) >= 0;
      const touchesFirst = seqDiff(start, pduEnd) < 0;
      expect(res.cqe.crcOk).toBe(!(afterGap && touchesFirst));
    }
    const got = readBuffer(mem, read);
    const want = patternBytes(NSID, read.slba * BLOCK, 8192);
    expect(got.subarray(100, 400).every((b) => b === 0)).toBe(true);
    expect(Buffer.from(got.subarray(0, 100)).equals(Buffer.from(want.subarray(0, 100)))).toBe(true);
    expect(Buffer.from(got.subarray(400)).equals(Buffer.from(want.subarray(400)))).toBe(true);
    expect(model.stats).toMatchObject({ oooPackets: 1, searches: 0, pdusCrcOk: 1, pdusCrcBad: 0 });
    // The late retransmission of the lost bytes is old now: nothing placed.
    expect(feed(model, mem, lost).cqe.nseg).toBe(0);
    expect(model.stats.retransmits).toBe(1);
  });

  it("enters SEARCH when a header is lost: nothing placed after (no confirm comes), frames still hit", () => {
    const mem = new HostMemory();
    const t = new TargetFlow({ rng: new Rng(seed), hdgst: true, ddgst: false, c2hDataSize: 1024, mss: 1460 });
    const read: Read = { cid: 9, slba: 0, nlb: 8, sgl: contiguous(mem, 4096, 8) };
    const model = setup(t, [read]);
    t.read(read.cid, read.slba, read.nlb);
    const { stream, seq, pdus } = t.flush();
    const second = pdus.filter(isData)[1]!;
    const h = seqDiff(second.seq, seq);
    const frames = t.cut(stream, seq, [h - 10, h + 10, h + 300]);
    feed(model, mem, frames[0]!);
    const before = model.stats.rxNvmeTcpBytes;
    for (const frame of frames.slice(2)) {
      const res = feed(model, mem, frame);
      expect(res.cqe).toMatchObject({ hit: true, ctx: 0, nseg: 0, crcOk: false });
    }
    // The scan (section 7) finds the third PDU's header and waits for a confirm that never comes.
    expect(model.trackState(0)?.state).toBe("WAIT_CONFIRM");
    expect(model.resyncState(0)?.candidate).toEqual({ seq: pdus[pdus.indexOf(second) + 1]!.seq, confirmed: false });
    expect(model.stats).toMatchObject({ searches: 1, rxNvmeTcpDrop: 1, oooPackets: 1, rxNvmeTcpBytes: before, rxNvmeTcpResync: 1 });
    expect(feed(model, mem, frames[1]!).cqe.nseg).toBe(0); // the lost frame, late: still nothing
  });
});

describe("frames the block leaves alone", () => {
  it("passes bad checksums, fragments, UDP, other flows and oversize frames untouched, without state change", () => {
    const mem = new HostMemory();
    const t = new TargetFlow({ rng: new Rng(seed), hdgst: false, ddgst: true, mss: 1460 });
    const read: Read = { cid: 1, slba: 0, nlb: 8, sgl: contiguous(mem, 4096) };
    const model = setup(t, [read], { maxFrame: 1600 });
    t.read(1, 0, 8);
    const { frames, pdus } = t.flush();
    const corrupt = frames[0]!.slice();
    corrupt[corrupt.length - 1]! ^= 0x40;
    const f0 = parseFrame(frames[0]!);
    const otherFlow = buildTcpFrame({ ...FLOW4, srcPort: 4421, seq: f0.tcp!.seq, ack: 0, flags: { ack: true }, payload: f0.payload });
    const udp = buildUdpFrame({ ...FLOW4, payload: f0.payload });
    const big = buildTcpFrame({ ...FLOW4, seq: f0.tcp!.seq, ack: 0, flags: { ack: true }, payload: new Uint8Array(1600) });
    const alien = [corrupt, otherFlow, udp, big, frames[0]!.subarray(0, 30)];
    for (const a of alien) {
      const res = feed(model, mem, a);
      expect(res.cqe).toMatchObject({ hit: false, nseg: 0, crcOk: false });
      expect(model.trackState(0)).toEqual({ state: "HEADER", exp: t.startSeq });
    }
    expect(model.stats).toMatchObject({ passthrough: 4, oversize: 1 }); // all but the other flow
    for (const frame of frames) expect(feed(model, mem, frame).cqe.segs).toEqual(oracleSegments(frame, pdus, false, () => true, 4));
    expectPattern(mem, read);
  });

  it("gives crc_ok 0 without the ddgst-rx cap and places nothing without the nvme-tcp cap", () => {
    const mem = new HostMemory();
    const t = new TargetFlow({ rng: new Rng(seed), hdgst: false, ddgst: true, mss: 1000 });
    const read: Read = { cid: 1, slba: 0, nlb: 8, sgl: contiguous(mem, 4096) };
    const model = setup(t, [read]);
    model.command(capsSet({ wanted: 0, mask: 0b10 }));
    t.read(1, 0, 8);
    const { frames, pdus } = t.flush();
    const half = Math.floor(frames.length / 2);
    for (const f of frames.slice(0, half)) expect(feed(model, mem, f).cqe.crcOk).toBe(false);
    model.command(capsSet({ wanted: 0b10, mask: 0b11 }));
    for (const f of frames.slice(half)) expect(feed(model, mem, f).cqe).toMatchObject({ nseg: 0, crcOk: true });
    expect(model.stats.pdusCrcOk).toBe(pdus.filter(isData).length); // digests are still checked and counted
  });
});

describe("tags and teardown", () => {
  it("stops placement at a teardown with data in flight and emits TEARDOWN_DONE", () => {
    const mem = new HostMemory();
    const t = new TargetFlow({ rng: new Rng(seed), hdgst: true, ddgst: true, mss: 500, c2hDataSize: 2048 });
    const a: Read = { cid: 0x1001, slba: 0, nlb: 8, sgl: contiguous(mem, 4096) };
    const b: Read = { cid: 0x2002, slba: 50, nlb: 8, sgl: contiguous(mem, 4096) };
    const model = setup(t, [a, b]);
    t.read(a.cid, a.slba, a.nlb);
    t.read(b.cid, b.slba, b.nlb);
    const { frames, pdus } = t.flush();
    const cut = 5; // inside a's first PDU
    for (const f of frames.slice(0, cut)) feed(model, mem, f);
    const snapshot = mem.read(a.sgl[0]!.addr, 4096);
    model.command(tagTeardown({ tag: 77, ctx: 0, cid: a.cid, cookie: 0xc0ffee }));
    expect(model.events()).toEqual([
      { kind: EventKind.COMPLETION, tag: 77, status: Status.OK, ctx: 0, data: 0n },
      { kind: EventKind.TEARDOWN_DONE, cookie: 0xc0ffee },
    ]);
    for (const f of frames.slice(cut)) {
      const res = feed(model, mem, f);
      expect(res.cqe.segs).toEqual(oracleSegments(f, pdus, true, (cid) => cid === b.cid, 4));
      expect(res.cqe.crcOk).toBe(true);
    }
    expect(Buffer.from(mem.read(a.sgl[0]!.addr, 4096)).equals(Buffer.from(snapshot))).toBe(true);
    expectPattern(mem, b);
    model.command(tagTeardown({ tag: 78, ctx: 0, cid: a.cid, cookie: 1 }));
    expect(model.events()).toEqual([{ kind: EventKind.COMPLETION, tag: 78, status: Status.NOT_FOUND, ctx: 0, data: 0n }]);
  });

  it("reuses a CID right after its teardown with a new buffer; the old one is never written again", () => {
    const mem = new HostMemory();
    const t = new TargetFlow({ rng: new Rng(seed), hdgst: false, ddgst: false, mss: 1460 });
    const first: Read = { cid: 4, slba: 0, nlb: 4, sgl: contiguous(mem, 2048) };
    const model = setup(t, [first]);
    t.read(first.cid, first.slba, first.nlb);
    for (const f of t.flush().frames) feed(model, mem, f);
    expectPattern(mem, first);
    model.command(tagTeardown({ ctx: 0, cid: 4, cookie: 1 }));
    const second: Read = { cid: 4, slba: 900, nlb: 4, sgl: contiguous(mem, 2048) };
    for (const beat of tagSetup({ ctx: 0, cid: 4, sgl: second.sgl })) model.command(beat);
    expect(model.events().map((e) => e.kind === EventKind.COMPLETION && e.status)).toEqual([Status.OK, false, Status.OK]);
    t.read(second.cid, second.slba, second.nlb);
    for (const f of t.flush().frames) feed(model, mem, f);
    expectPattern(mem, first);
    expectPattern(mem, second);
    expect(mem.checkGuards()).toEqual([]);
  });

  it("CTX_DEL with data in flight stops placement at once; a new CTX_ADD on a PDU boundary tracks again, out of SEARCH", () => {
    const mem = new HostMemory();
    const t = new TargetFlow({ rng: new Rng(seed), hdgst: false, ddgst: true, mss: 600, c2hDataSize: 1024 });
    const a: Read = { cid: 1, slba: 0, nlb: 8, sgl: contiguous(mem, 4096) };
    const model = setup(t, [a]);
    t.read(a.cid, a.slba, a.nlb);
    const first = t.flush();
    const lostHeader = first.frames.splice(1, 1); // holds the second PDU's header: SEARCH from the next frame on
    for (const f of first.frames) feed(model, mem, f);
    expect(["SEARCH", "WAIT_CONFIRM"]).toContain(model.trackState(0)?.state); // no confirm: nothing placed either way
    const snapshot = mem.read(a.sgl[0]!.addr, 4096);
    model.command(ctxDel({ ctx: 0 }));
    expect(feed(model, mem, lostHeader[0]!).cqe.hit).toBe(false);
    // The driver re-adds the flow at the next PDU boundary (here: the next response) with a fresh tag.
    const b: Read = { cid: 2, slba: 70, nlb: 4, sgl: contiguous(mem, 2048) };
    model.command({ ...t.ctxAdd(0), seq: t.q.nextSeq });
    for (const beat of tagSetup({ ctx: 0, cid: b.cid, sgl: b.sgl })) model.command(beat);
    for (const beat of tagSetup({ ctx: 0, cid: a.cid, sgl: contiguous(mem, 4096) })) model.command(beat);
    expect(model.events().filter((e) => e.kind === EventKind.COMPLETION && e.status !== Status.OK)).toEqual([]);
    t.read(b.cid, b.slba, b.nlb);
    const second = t.flush();
    for (const f of second.frames) expect(feed(model, mem, f).cqe.segs).toEqual(oracleSegments(f, second.pdus, false, () => true, 4));
    expectPattern(mem, b);
    expect(Buffer.from(mem.read(a.sgl[0]!.addr, 4096)).equals(Buffer.from(snapshot))).toBe(true);
    expect(mem.checkGuards()).toEqual([]);
  });
});
