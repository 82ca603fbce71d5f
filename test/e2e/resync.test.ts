// Resync end to end (contract section 7): target -> lossy wire -> offload device -> driver -> TCP -> NVMe/TCP
// host with DDP, on the model and on the RTL (ddp_top in Verilator). Losses are either the seeded impaired wire
// (random loss, reorder, duplicates) or a scripted one in front of the device (HoldingDevice: exactly the frames
// holding chosen header bytes reach the device a few frames late in their NAPI batch, as a retransmission), so that
// every adversarial position is reached on purpose. Frames reach the driver in NAPI-sized batches (the session's napiBudget), TCP and the host
// running between them, so that the host's confirm can come back while the stream goes on.
//
// Invariants in every case (src/stack/invariants.ts): every read returns the namespace's bytes; the stream TCP
// delivers equals the wire stream; no host byte outside a registered buffer changed; setup == teardown, sk-add ==
// sk-del; counters add up. On top:
// resync requests were raised and confirmed, and offload resumed after every loss (each run of unplaced data
// bytes is bounded, computed from the retransmission delay, the NAPI budget and the PDU size).

import { describe, expect, it } from "vitest";
import { type FrameBatch, ModelDevice, type OffloadDevice, PassThroughDevice } from "../../src/device/index.js";
import { describeOnRtl } from "../util/rtl-device.js";
import { HostMemory } from "../../src/contract/host-memory.js";
import { seqDiff } from "../../src/net/seq.js";
import { parseFrame } from "../../src/net/frame.js";
import { PduType } from "../../src/pdu/pdu.js";
import type { SentPdu } from "../../src/nvmet/controller.js";
import type { WireImpairments } from "../../src/nvmet/wire.js";
import { sessionFigures } from "../../src/stack/figures.js";
import { sessionInvariants } from "../../src/stack/invariants.js";
import { openSession, type QueuePair, type Session } from "../../src/stack/session.js";
import { runIo } from "../../src/stack/workload.js";
import { patternBytes } from "../../src/nvmet/namespace.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";

const seed = seedFromEnv();
console.log(`e2e resync seed=${seed} (SEED=${seed} to reproduce)`);

const NAPI = 8;
const HOLD = 3;

/** Which header byte of a chosen C2HData PDU the lost frame must carry. */
type Where = "type byte" | "24th byte" | "split header's tail" | "DDGST" | "first data byte";

interface Case {
  name: string;
  /** C2HData payload per PDU; reads are `readBytes` (one block). */
  pdu: number;
  readBytes: number;
  mss: number;
  reads: number;
  inFlight: number;
  hdgst?: boolean;
  targetIsn?: number;
  /** Scripted losses: the frame carrying `where` of every `every`-th C2HData PDU (from `phase`). */
  lose?: { every: number; phase: number; where: Where[]; atWrap?: boolean; splits?: boolean };
  /** Frames reach the driver as the session hands them over (one call per target flush), not in NAPI batches. */
  wholeFlush?: boolean;
  /** Assert that the lost headers sat at many offsets of their frames, some split. */
  checkPositions?: boolean;
  wire?: WireImpairments;
  /** Namespace blocks rewritten so that their data holds plausible C2HData headers. */
  fakeHeaders?: boolean;
  /** Expectations beyond the invariants. */
  expectMisses?: boolean;
  rtl: boolean;
}

const cases: Case[] = [
  // PDU 1028 bytes vs MSS 1000: the header moves 28 bytes per PDU against frame boundaries, so over the run it
  // sits at every offset of a frame, split across two frames at every split point.
  { name: "header lost at every position against frame boundaries (type byte lost)", pdu: 1000, readBytes: 65536, mss: 1000, reads: 5, inFlight: 1, lose: { every: 9, phase: 1, where: ["type byte"], splits: true }, checkPositions: true, rtl: true },
  { name: "header split across a lost frame (its last bytes lost), with HDGST", pdu: 1000, readBytes: 65536, mss: 1000, reads: 5, inFlight: 1, hdgst: true, lose: { every: 1, phase: 0, where: ["split header's tail"] }, rtl: true },
  { name: "lost DDGST and first data bytes (data-only gaps and PDU ends)", pdu: 1000, readBytes: 16384, mss: 1000, reads: 8, inFlight: 2, lose: { every: 2, phase: 0, where: ["DDGST", "first data byte"] }, rtl: false },
  { name: "payload bytes that look like headers: false candidates, misses, stale requests", pdu: 2048, readBytes: 16384, mss: 1460, reads: 12, inFlight: 2, fakeHeaders: true, lose: { every: 6, phase: 1, where: ["type byte"] }, expectMisses: true, rtl: true },
  { name: "sequence wrap during the search", pdu: 1000, readBytes: 16384, mss: 1000, reads: 8, inFlight: 2, targetIsn: 0xffff_ffff - 20_000, lose: { every: 8, phase: 3, where: ["type byte", "24th byte"], atWrap: true }, rtl: true },
  // The session hands the driver each target flush whole: the host's confirm reaches the device only after it,
  // so the offload resumes in the next flush (here: the next read).
  { name: "one header lost per read, whole flushes: offload resumes at the next read", pdu: 4096, readBytes: 131072, mss: 1460, reads: 6, inFlight: 1, lose: { every: 32, phase: 5, where: ["type byte"] }, wholeFlush: true, rtl: true },
  { name: "random loss, reorder and duplicates (retransmissions during the search), 128 KiB reads", pdu: 4096, readBytes: 131072, mss: 1460, reads: 6, inFlight: 2, wire: { loss: 0.02, reorder: 0.02, duplicate: 0.03, retransmitDelay: [2, 5] }, rtl: true },
];

/** C2HData PDUs of the queue in stream order, with the offsets of their regions. */
function layout(sent: readonly SentPdu[]): { start: number; last: number; data: number; ddgst: number; index: number }[] {
  const isn = sent[0]!.seq;
  let n = 0;
  return sent
    .filter((p) => p.type === PduType.C2HData)
    .map((p) => {
      const start = seqDiff(p.seq, isn);
      const data = start + p.length - p.datal! - (p.ddgst ? 4 : 0);
      return { start, last: start + 23, data, ddgst: data + p.datal!, index: n++ };
    })
}

/**
 * A scripted lossy wire in front of the device: `hold` says, per frame, how many frames later in its batch it goes
 * to the device (0: now); the device's results come back in the order it saw the frames, so TCP sees a gap, then
 * the data, as from a late retransmission.
 */
class HoldingDevice extends PassThroughDevice {
  hold: (frame: Uint8Array) => number = () => 0;

  override frames(frames: readonly Uint8Array[]): Promise<FrameBatch> {
    const due: { at: number; i: number }[] = [];
    const order: number[] = [];
    frames.forEach((f, i) => {
      const d = this.hold(f);
      if (d > 0) due.push({ at: i + d, i });
      else order.push(i);
      for (const x of due.filter((x) => x.at === i)) order.push(x.i);
    });
    for (const x of due.filter((x) => x.at >= frames.length)) order.push(x.i);
    return this.inner.frames(order.map((i) => frames[i]!));
  }
}

/** Reads of one block each, `inFlight` at a time, checked; then every invariant; the device's counters. */
async function reads(session: Session, o: { seed: number; count: number; inFlight: number; reference?: (slba: number, nlb: number) => Uint8Array }) {
  const io = await runIo(session, { seed: o.seed, rw: "randread", rwmixread: 100, bs: session.namespace.blockSize, iodepth: o.inFlight, ios: o.count, ...(o.reference ? { reference: o.reference } : {}) });
  const failed = (await sessionInvariants(session, io)).filter((i) => !i.ok).map((i) => `${i.name}: ${i.detail}`);
  const stats: Record<string, number> = { ...(await session.driver!.getStats()), ...(await session.driver!.hardwareCounters()) };
  return { io, failed, stats };
}

async function runCase(c: Case, i: number, inner: OffloadDevice): Promise<void> {
  const rng = new Rng(seed + i);
  /** The I/O queue, once open (the scripted loss starts with the reads). */
  let q: QueuePair | undefined;
  let held = 0;
  const seen = new Set<number>();
  /** Offsets of the lost PDUs' type bytes from their frame's first payload byte (negative: header split, its start earlier). */
  const headerOffsets = new Set<number>();
  const lose = c.lose;
  const script = (frame: Uint8Array): number => {
    if (!lose || !q || q.target.sent.length === 0) return 0;
    const f = parseFrame(frame);
    if (f.payload.length === 0 || f.tcp?.dstPort !== q.socket.flow.dstPort) return 0;
    const isn = q.target.sent[0]!.seq;
    const from = seqDiff(f.tcp!.seq, isn);
    const to = from + f.payload.length;
    if (seen.has(from)) return 0; // the retransmission is not lost again
    const pdus = layout(q.target.sent);
    // With atWrap: also the header of the last PDU that starts before seq 2^32, so the search spans the wrap.
    const wrapAt = 2 ** 32 - isn;
    const lastBeforeWrap = lose.atWrap ? pdus.filter((p) => p.start < wrapAt).pop() : undefined;
    const hit = pdus.find((p) => {
      const split = lose.splits === true && p.start >= from && p.start < to && p.last >= to;
      if (p.index % lose.every !== lose.phase && p !== lastBeforeWrap && !split) return false;
      return lose.where.some((w) => {
        if (w === "split header's tail" && p.start >= from) return false;
        const at = w === "type byte" ? p.start : w === "24th byte" || w === "split header's tail" ? p.last : w === "DDGST" ? p.ddgst : p.data;
        return at >= from && at < to;
      });
    });
    if (!hit) return 0;
    seen.add(from);
    held++;
    headerOffsets.add(hit.start - from);
    return HOLD;
  };
  const device = new HoldingDevice(inner);
  device.hold = script;
  const session: Session = await openSession({
    seed: rng.u32(),
    hdgst: c.hdgst ?? false,
    ddgst: true,
    queueDepth: 16,
    blockSize: c.readBytes,
    blocks: 512,
    mss: c.mss,
    c2hDataSize: c.pdu,
    ...(c.targetIsn !== undefined ? { targetIsn: c.targetIsn } : {}),
    ...(c.wire ? { impairments: c.wire } : {}),
    nic: { device, napiBudget: c.wholeFlush ? Infinity : NAPI },
  });
  q = session.io;
  const reference = c.fakeHeaders ? plantFakeHeaders(session) : undefined;
  const r = await reads(session, { seed: rng.u32(), count: c.reads, inFlight: c.inFlight, ...(reference ? { reference } : {}) });
  expect(r.failed, r.failed.join("\n")).toEqual([]);
  const f = sessionFigures(session);
  const st = r.stats;
  const records = session.recorder!.records;
  console.log(
    `[e2e resync ${inner.kind}] ${c.name}: ${r.io.reads} reads, held ${held} frames; offload bytes ${(100 * f.bytes).toFixed(1)} %, packets ${(100 * f.packets).toFixed(1)} %; ` +
      `resync ${st["rx-nvme-tcp-resync"]}, host confirms ${r.io.host.resyncConfirmed}, device confirms ${st.resync_confirms}, misses ${st.resync_misses}, drops ${st["rx-nvme-tcp-drop"]}; ` +
      `loss episodes ${f.episodes}, max unplaced run ${Math.max(0, ...f.gapBytes)} bytes`,
  );
  if (c.lose) {
    expect(held, "the scripted wire lost frames").toBeGreaterThan(3);
    const offs = [...headerOffsets];
    if (c.checkPositions) {
      // Headers at many offsets of their frame, some split across it and the next.
      expect(offs.length, `offsets ${offs.join(",")}`).toBeGreaterThanOrEqual(10);
      expect(offs.some((o) => o > c.mss - 24), `offsets ${offs.join(",")}`).toBe(true);
    }
    if (c.lose.where.includes("split header's tail")) {
      // Only frames holding the tail of a header whose first bytes were in the frame before.
      expect(offs.every((o) => o < 0 && o > -24), `offsets ${offs.join(",")}`).toBe(true);
      expect(offs.length).toBeGreaterThanOrEqual(1);
    }
  }
  if (c.targetIsn !== undefined) {
    // A candidate after the wrap (numerically small) was requested and confirmed.
    const wrapped = records.flatMap((x) => (x.resync !== undefined && x.resync < c.targetIsn! ? [x.resync] : []));
    expect(wrapped.length, "resync requests past 2^32").toBeGreaterThan(0);
  }
  expect(st["rx-nvme-tcp-drop"], "offload was lost").toBeGreaterThan(0);
  expect(st["rx-nvme-tcp-resync"], "resync requests").toBeGreaterThan(0);
  expect(r.io.host.resyncConfirmed, "the host confirmed").toBeGreaterThan(0);
  // The device accepts at most what the host sent (a confirm for a dropped candidate is ignored).
  expect(st.resync_confirms).toBeGreaterThan(0);
  expect(st.resync_confirms).toBeLessThanOrEqual(r.io.host.resyncConfirmed);
  if (c.expectMisses) expect(st.resync_misses, "false candidates were dropped").toBeGreaterThan(0);
  // Offload resumed after every loss: a run of unplaced data bytes spans at most the held frame and the frames
  // until its retransmission, the NAPI batch in which the host confirms, and the PDU in progress then, plus
  // one PDU per false candidate; and the last data of the run was placed.
  const pduLen = c.pdu + 24 + 4 + (c.hdgst ? 4 : 0);
  const bound = c.wholeFlush
    ? c.inFlight * c.readBytes + 32 * (pduLen - c.pdu) // the rest of the flush at most
    : (HOLD + 1 + 2 * NAPI) * c.mss + 3 * pduLen + (c.fakeHeaders ? 4 * pduLen : 0) + (c.wire ? 8 * c.mss : 0);
  expect(Math.max(0, ...f.gapBytes), "longest run of unplaced data bytes").toBeLessThanOrEqual(bound);
  // Whole flushes: each read is placed up to its lost header (PDUs 0-4 of 32, the held frame aside), then from
  // the next read's first PDU on.
  expect(f.bytes, "share of data bytes placed").toBeGreaterThan(c.wholeFlush ? 0.12 : 0.3);
  expect(records.some((x) => x.placed.length > 0)).toBe(true);
}

/**
 * Rewrites the namespace's blocks so that every 1 KiB of data holds, at offset 200, a C2HData header that passes
 * every device check for this connection (no HDGST, DDGST, cpda 0) and whose plen ends inside later data.
 */
function plantFakeHeaders(s: Session): (slba: number, nlb: number) => Uint8Array {
  const ns = s.namespace;
  const planted: Uint8Array[] = [];
  for (let lba = 0; lba < ns.blocks; lba++) {
    const block = patternBytes(1, lba * ns.blockSize, ns.blockSize);
    for (let at = 200; at + 24 <= block.length; at += 1024) {
      const v = new DataView(block.buffer, block.byteOffset + at, 24);
      const datal = 300 + ((lba + at) % 97);
      block.set([0x07, 0x02, 24, 24], at);
      v.setUint32(4, 24 + datal + 4, true);
      v.setUint16(8, 0x0abc, true);
      v.setUint32(12, 0, true);
      v.setUint32(16, datal, true);
    }
    ns.write(lba, block);
    planted.push(block);
  }
  // The test's own copy is the reference the reads are checked against.
  return (slba, nlb) => Buffer.concat(planted.slice(slba, slba + nlb));
}

describe("resync end to end, model device", () => {
  cases.forEach((c, i) => {
    it(c.name, async () => {
      await runCase(c, i, new ModelDevice(new HostMemory()));
    }, 60_000);
  });

  it("without losses nothing searches and everything is placed", async () => {
    const s = await openSession({ seed, hdgst: false, ddgst: true, blockSize: 131072, blocks: 64, c2hDataSize: 4096, nic: { device: new ModelDevice(new HostMemory()), napiBudget: NAPI } });
    const r = await reads(s, { seed, count: 4, inFlight: 2 });
    expect(r.failed).toEqual([]);
    expect(sessionFigures(s)).toMatchObject({ bytes: 1, packets: 1, episodes: 0 });
    expect(r.stats).toMatchObject({ "rx-nvme-tcp-resync": 0, "rx-nvme-tcp-drop": 0, resync_confirms: 0, resync_misses: 0, resync_timeouts: 0 });
  });
});

describeOnRtl("resync end to end, RTL device (ddp_top)", (openDevice) => {
  cases.forEach((c, i) => {
    if (!c.rtl) return;
    it(c.name, async () => {
      await runCase(c, i, await openDevice());
    }, 180_000);
  });
});
