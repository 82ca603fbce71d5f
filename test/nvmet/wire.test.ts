import { describe, expect, it } from "vitest";
import { ParseError } from "../../src/net/errors.js";
import { parseFrame } from "../../src/net/frame.js";
import { writePcap } from "../../src/net/pcap.js";
import { seqAdd } from "../../src/net/seq.js";
import { createByteReceiver } from "../../src/net/tcp-receiver.js";
import { TcpStreamSender } from "../../src/net/tcp-sender.js";
import { ImpairedWire, type WireAction, type WireImpairments } from "../../src/nvmet/wire.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";
import { randomFlow } from "../net/gen.js";
import { tsharkFields } from "../net/tshark.js";

const seed = seedFromEnv();
console.log(`wire.test.ts SEED=${seed}`);

interface Run {
  stream: Uint8Array;
  isn: number;
  /** Frames in push order, and where each one starts in sequence space. */
  sent: { seq: number; frame: Uint8Array }[];
  received: Uint8Array[];
  wire: ImpairedWire;
}

/** A random stream (sequence numbers often wrapping) sent through a wire with `impairments`. */
function runWire(rng: Rng, impairments: WireImpairments, frames = 400): Run {
  const mss = rng.range(100, 1460);
  const length = frames * mss - rng.int(mss);
  const stream = rng.bytes(length);
  const isn = rng.chance(0.7) ? (0x100000000 - rng.int(length)) >>> 0 : rng.u32();
  const sender = new TcpStreamSender(randomFlow(rng), { isn, mss });
  const sent: Run["sent"] = [];
  const wire = new ImpairedWire({ ...impairments, seed: rng.u32() });
  const received: Uint8Array[] = [];
  for (let at = 0; at < length; ) {
    const chunk = stream.subarray(at, Math.min(length, at + rng.range(1, 4 * mss)));
    at += chunk.length;
    for (const seg of sender.send(chunk)) {
      sent.push({ seq: seg.seq, frame: seg.frame });
      received.push(...wire.push(seg.frame));
    }
  }
  received.push(...wire.flush());
  return { stream, isn, sent, received, wire };
}

/** A receiver behind the wire: frames that do not parse or fail a checksum are dropped, like a NIC/stack would. */
function reassemble(run: Run): { bytes: Uint8Array; dropped: number } {
  const rx = createByteReceiver(run.isn);
  const pieces: Uint8Array[] = [];
  let delivered = 0;
  let dropped = 0;
  for (const frame of run.received) {
    let p;
    try {
      p = parseFrame(frame);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      dropped++;
      continue;
    }
    if (!p.checksumOk || !p.tcp) {
      dropped++;
      continue;
    }
    for (const s of rx.receive({ seq: p.tcp.seq, data: p.payload })) {
      expect(s.seq).toBe(seqAdd(run.isn, delivered));
      pieces.push(s.data);
      delivered += s.data.length;
    }
  }
  expect(rx.pending).toBe(0);
  return { bytes: Buffer.concat(pieces), dropped };
}

const count = (run: Run, action: WireAction): number => run.wire.log.filter((e) => e.action === action).length;

/** The log has one decision per pushed frame, and one retransmission per loss or corruption. */
function checkLog(run: Run): void {
  const decisions = run.wire.log.filter((e) => e.action !== "retransmit");
  expect(decisions.map((e) => e.index)).toEqual(run.sent.map((_, i) => i));
  const held = decisions.filter((e) => e.action === "loss" || e.action === "corrupt").map((e) => e.index);
  const retransmitted = run.wire.log.filter((e) => e.action === "retransmit").map((e) => e.index);
  expect([...retransmitted].sort((a, b) => a - b)).toEqual(held);
  expect(run.received.length).toBe(run.sent.length + count(run, "duplicate") + count(run, "corrupt"));
}

/** The rate is plausible: within 5 standard deviations of the binomial mean. */
function expectRate(run: Run, action: WireAction, p: number): void {
  const n = run.sent.length;
  const sd = Math.sqrt(n * p * (1 - p));
  expect(Math.abs(count(run, action) - n * p)).toBeLessThanOrEqual(5 * sd + 1);
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

/** The reassembled stream equals the sent one (reports the first differing offset). */
function expectStream(got: Uint8Array, run: Run, what = ""): void {
  const firstDiff = got.findIndex((b, i) => b !== run.stream[i]);
  expect({ length: got.length, firstDiff }, `${what} SEED=${seed}`).toEqual({ length: run.stream.length, firstDiff: -1 });
}

describe("ImpairedWire: each impairment alone does what it says", () => {
  it("no impairment: frames pass unchanged, in order", () => {
    const run = runWire(new Rng(seed), {}, 100);
    expect(run.received.length).toBe(run.sent.length);
    run.received.forEach((f, i) => expect(f).toBe(run.sent[i]!.frame));
    expect(count(run, "pass")).toBe(run.sent.length);
  });

  it("loss: the frame is missing until `delay` pushes later, then arrives unchanged", () => {
    const run = runWire(new Rng(seed ^ 1), { loss: 0.1, retransmitDelay: [2, 6] });
    checkLog(run);
    expectRate(run, "loss", 0.1);
    // Where each sent frame first appears in the output: a lost frame appears after the frame pushed `delay` later.
    const position = (i: number): number => run.received.findIndex((f) => f === run.sent[i]!.frame);
    for (const e of run.wire.log) {
      if (e.action !== "loss") continue;
      expect(e.delay).toBeGreaterThanOrEqual(2);
      expect(e.delay).toBeLessThanOrEqual(6);
      const later = e.index + e.delay;
      if (later < run.sent.length && run.wire.log.some((x) => x.index === later && x.action === "pass")) {
        expect(position(e.index)).toBeGreaterThan(position(later));
      }
      expect(position(e.index)).toBeGreaterThan(-1);
    }
    expectStream(reassemble(run).bytes, run);
  });

  it("reorder: swapped with the next frame", () => {
    const run = runWire(new Rng(seed ^ 2), { reorder: 0.15 });
    checkLog(run);
    expectRate(run, "reorder", 0.15);
    // Independent model of the output order: apply the logged swaps to the push order.
    const order = run.sent.map((_, i) => i);
    for (const e of run.wire.log) {
      if (e.action !== "reorder" || e.index + 1 >= order.length) continue;
      const at = order.indexOf(e.index);
      [order[at], order[at + 1]] = [order[at + 1]!, order[at]!];
    }
    expect(run.received.map((f) => run.sent.findIndex((s) => s.frame === f))).toEqual(order);
    expectStream(reassemble(run).bytes, run);
  });

  it("duplicate: the same bytes twice in a row", () => {
    const run = runWire(new Rng(seed ^ 3), { duplicate: 0.1 });
    checkLog(run);
    expectRate(run, "duplicate", 0.1);
    let out = 0;
    for (const e of run.wire.log) {
      expect(sameBytes(run.received[out++]!, run.sent[e.index]!.frame)).toBe(true);
      if (e.action === "duplicate") expect(sameBytes(run.received[out++]!, run.sent[e.index]!.frame)).toBe(true);
    }
    expectStream(reassemble(run).bytes, run);
  });

  it("corrupt: one flipped byte that tshark also finds bad, the good frame retransmitted later", () => {
    const run = runWire(new Rng(seed ^ 4), { corrupt: 0.1 });
    checkLog(run);
    expectRate(run, "corrupt", 0.1);
    const corruptFrames = new Set<number>();
    run.received.forEach((f, i) => {
      if (!run.sent.some((s) => s.frame === f)) corruptFrames.add(i);
    });
    expect(corruptFrames.size).toBe(count(run, "corrupt"));
    // In output order, the corrupted copies are those of the logged corruptions, each one byte off the original.
    const events = run.wire.log.flatMap((e) => (e.action === "corrupt" ? [e] : []));
    [...corruptFrames].forEach((i, k) => {
      const copy = run.received[i]!;
      const original = run.sent[events[k]!.index]!.frame;
      const differing = Array.from(original).flatMap((b, j) => (b !== copy[j] ? [j] : []));
      expect(differing).toEqual([events[k]!.byteOffset]);
    });
    // tshark, checking TCP checksums independently, must find exactly the corrupted copies bad.
    const rows = tsharkFields(writePcap(run.received.map((data) => ({ data }))), ["tcp.checksum.status"], [
      "-o", "tcp.check_checksum:TRUE", "-o", "tcp.analyze_sequence_numbers:FALSE", "-o", "tcp.desegment_tcp_streams:FALSE",
    ]);
    const bad = new Set(rows.flatMap((r, i) => (r[0] === "0" ? [i] : [])));
    expect([...bad].sort((a, b) => a - b)).toEqual([...corruptFrames].sort((a, b) => a - b));
    const { bytes, dropped } = reassemble(run);
    expect(dropped).toBe(corruptFrames.size);
    expectStream(bytes, run);
  });
});

describe("ImpairedWire + TcpReceiver deliver exactly the sent stream", () => {
  it("with all impairments together, over many seeded streams (sequence numbers wrapping)", () => {
    const rng = new Rng(seed ^ 5);
    for (let trial = 0; trial < 15; trial++) {
      const run = runWire(rng, { loss: 0.08, reorder: 0.08, duplicate: 0.08, corrupt: 0.08, retransmitDelay: rng.chance(0.5) ? 1 : [1, 12] }, 200);
      checkLog(run);
      for (const a of ["loss", "reorder", "duplicate", "corrupt"] as const) expect(count(run, a), a).toBeGreaterThan(0);
      expectStream(reassemble(run).bytes, run, `trial ${trial}`);
    }
  });

  it("is reproducible from the seed", () => {
    const a = runWire(new Rng(seed ^ 6), { loss: 0.1, reorder: 0.1, duplicate: 0.1, corrupt: 0.1 }, 100);
    const b = runWire(new Rng(seed ^ 6), { loss: 0.1, reorder: 0.1, duplicate: 0.1, corrupt: 0.1 }, 100);
    expect(b.wire.log).toEqual(a.wire.log);
    expect(b.received.every((f, i) => sameBytes(f, a.received[i]!))).toBe(true);
    expect(b.received.length).toBe(a.received.length);
  });

  it("rejects impossible settings", () => {
    expect(() => new ImpairedWire({ seed: 1, loss: 0.6, reorder: 0.6 })).toThrow();
    expect(() => new ImpairedWire({ seed: 1, loss: -0.1 })).toThrow();
  });
});
