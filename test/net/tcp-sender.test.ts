import { describe, expect, it } from "vitest";
import { parseFrame } from "../../src/net/frame.js";
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from "../../src/net/seq.js";
import { TcpStreamSender } from "../../src/net/tcp-sender.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";
import { randomFlow } from "./gen.js";

const seed = seedFromEnv();
console.log(`tcp-sender.test.ts SEED=${seed}`);

describe("serial-number arithmetic", () => {
  it("orders numbers across the 2^32 wrap (RFC 1982 style)", () => {
    expect(seqLt(0xffffff00, 0x10)).toBe(true);
    expect(seqGt(0x10, 0xffffff00)).toBe(true);
    expect(seqDiff(0x10, 0xffffff00)).toBe(0x110);
    expect(seqDiff(0xffffff00, 0x10)).toBe(-0x110);
    expect(seqAdd(0xfffffff0, 0x20)).toBe(0x10);
    expect(seqLe(5, 5) && seqGe(5, 5) && !seqLt(5, 5) && !seqGt(5, 5)).toBe(true);
    expect(seqLt(0, 0x7fffffff)).toBe(true);
    expect(seqLt(0, 0x80000001)).toBe(false); // more than 2^31 ahead reads as behind
  });

  it("agrees with BigInt arithmetic on random pairs", () => {
    const rng = new Rng(seed);
    for (let i = 0; i < 10000; i++) {
      const a = rng.u32();
      const d = rng.int(0x7fffffff) + 1;
      const b = Number((BigInt(a) + BigInt(d)) % 0x100000000n);
      expect(seqAdd(a, d)).toBe(b);
      expect(seqLt(a, b) && seqGt(b, a) && seqDiff(b, a) === d).toBe(true);
    }
  });
});

describe("TcpStreamSender", () => {
  it("splits by MSS with contiguous sequence numbers across the wrap, frames carrying the bytes", () => {
    const rng = new Rng(seed ^ 1);
    for (let trial = 0; trial < 20; trial++) {
      const mss = rng.range(1, 1500);
      const isn = (0x100000000 - rng.int(20000)) >>> 0; // just below the wrap
      const sender = new TcpStreamSender(randomFlow(rng), { isn, mss, ackSeq: 1234 });
      let expectedSeq = BigInt(isn);
      for (let call = 0; call < 5; call++) {
        const bytes = rng.bytes(rng.int(8000));
        const psh = rng.chance(0.5);
        const segments = sender.send(bytes, { psh });
        expect(segments.length).toBe(Math.ceil(bytes.length / mss));
        const joined: number[] = [];
        segments.forEach((s, i) => {
          expect(s.seq).toBe(Number(expectedSeq % 0x100000000n));
          expect(s.payload.length).toBeLessThanOrEqual(mss);
          const p = parseFrame(s.frame);
          expect(p.checksumOk).toBe(true);
          expect(p.tcp?.seq).toBe(s.seq);
          expect(p.tcp?.ack).toBe(1234);
          expect(p.tcp?.flags.ack).toBe(true);
          expect(p.tcp?.flags.psh).toBe(psh && i === segments.length - 1);
          expect(Array.from(p.payload)).toEqual(Array.from(s.payload));
          joined.push(...s.payload);
          expectedSeq += BigInt(s.payload.length);
        });
        expect(joined).toEqual(Array.from(bytes));
        expect(sender.nextSeq).toBe(Number(expectedSeq % 0x100000000n));
      }
    }
  });
});
