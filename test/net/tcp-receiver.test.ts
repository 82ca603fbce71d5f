import { describe, expect, it } from "vitest";
import { seqAdd } from "../../src/net/seq.js";
import { createByteReceiver, type ByteSegment } from "../../src/net/tcp-receiver.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";

const seed = seedFromEnv();
console.log(`tcp-receiver.test.ts SEED=${seed}`);

const seg = (seq: number, ...data: number[]): ByteSegment => ({ seq: seq >>> 0, data: Uint8Array.from(data) });
const bytesOf = (segs: ByteSegment[]): number[] => segs.flatMap((s) => Array.from(s.data));

describe("TcpReceiver (hand-made cases)", () => {
  it("delivers in order, holds a gap, then releases everything contiguous", () => {
    const r = createByteReceiver(100);
    expect(bytesOf(r.receive(seg(100, 1, 2)))).toEqual([1, 2]);
    expect(r.receive(seg(105, 6, 7))).toEqual([]);
    expect(r.pending).toBe(1);
    expect(r.receive(seg(103, 4, 5))).toEqual([]);
    expect(bytesOf(r.receive(seg(102, 3)))).toEqual([3, 4, 5, 6, 7]);
    expect(r.nextSeq).toBe(107);
    expect(r.pending).toBe(0);
  });

  it("drops duplicates, trims a segment straddling nextSeq, fills only the gaps around held data", () => {
    const r = createByteReceiver(0);
    r.receive(seg(0, 0, 1, 2, 3));
    expect(r.receive(seg(1, 1, 2))).toEqual([]);
    expect(r.receive(seg(2, 2, 3))).toEqual([]); // ends exactly at nextSeq
    expect(r.stats.duplicateSegments).toBe(2);
    const straddle = r.receive(seg(2, 2, 3, 4, 5));
    expect(straddle.map((s) => s.seq)).toEqual([4]);
    expect(bytesOf(straddle)).toEqual([4, 5]);
    // Held: [8,10) and [12,13). A segment covering [7,14) must become [7,8), [10,12), [13,14).
    r.receive(seg(8, 8, 9));
    r.receive(seg(12, 12));
    expect(r.receive(seg(7, 7, 8, 9, 10, 11, 12, 13))).toEqual([]);
    expect(r.pending).toBe(5);
    const out = r.receive(seg(6, 6));
    expect(out.map((s) => [s.seq, s.data.length])).toEqual([[6, 1], [7, 1], [8, 2], [10, 2], [12, 1], [13, 1]]);
    expect(bytesOf(out)).toEqual([6, 7, 8, 9, 10, 11, 12, 13]);
    expect(r.stats.duplicateBytes).toBe(2 + 2 + 2 + 3);
  });

  it("works across the 2^32 wrap", () => {
    const r = createByteReceiver(0xfffffffe);
    expect(r.receive(seg(0, 3, 4))).toEqual([]);
    expect(bytesOf(r.receive(seg(0xfffffffe, 1, 2)))).toEqual([1, 2, 3, 4]);
    expect(r.nextSeq).toBe(2);
    expect(r.receive(seg(0xffffffff, 2, 3))).toEqual([]); // old data, before the wrap
    expect(r.stats.duplicateSegments).toBe(1);
  });
});

describe("TcpReceiver against a byte-map model (seeded)", () => {
  it("delivers exactly the stream whatever the order, overlaps and duplicates", () => {
    const rng = new Rng(seed);
    for (let trial = 0; trial < 40; trial++) {
      const length = rng.range(1, 20000);
      const stream = rng.bytes(length);
      const isn = rng.chance(0.5) ? (0x100000000 - rng.int(length)) >>> 0 : rng.u32(); // often wrapping
      // Random pieces: a full cover, plus extra overlapping slices and exact duplicates, all shuffled.
      const pieces: [number, number][] = [];
      for (let at = 0; at < length; ) {
        const n = Math.min(length - at, rng.range(1, 1500));
        pieces.push([at, at + n]);
        at += n;
      }
      for (let extra = rng.int(pieces.length * 2); extra > 0; extra--) {
        const a = rng.int(length);
        pieces.push(rng.chance(0.3) ? rng.pick(pieces) : [a, Math.min(length, a + rng.range(1, 3000))]);
      }
      for (let i = pieces.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [pieces[i], pieces[j]] = [pieces[j]!, pieces[i]!];
      }

      const r = createByteReceiver(isn);
      const have = new Uint8Array(length); // model: which stream offsets have arrived
      let modelPrefix = 0;
      const delivered: number[] = [];
      for (const [from, to] of pieces) {
        for (const s of r.receive({ seq: seqAdd(isn, from), data: stream.subarray(from, to) })) {
          expect(s.seq, `trial ${trial} SEED=${seed}`).toBe(seqAdd(isn, delivered.length));
          delivered.push(...s.data);
        }
        have.fill(1, from, to);
        while (modelPrefix < length && have[modelPrefix]) modelPrefix++;
        expect(delivered.length, `trial ${trial} SEED=${seed}`).toBe(modelPrefix);
      }
      expect(delivered).toEqual(Array.from(stream));
      expect(r.pending).toBe(0);
      expect(r.nextSeq).toBe(seqAdd(isn, length));
    }
  });
});
