// PduFramer: any chunking of a stream gives the same PDUs as decoding each PDU on its own; headers, digests and
// data split at every offset; sticky failure; IC digest adoption; stream offsets for the offload hooks.
import { describe, expect, it } from "vitest";
import { PduFramer, type FramedPdu, type FramerOptions } from "../../src/pdu/framer.js";
import { decodePdu, encodePdu, PduError, type DecodedPdu, type DigestOptions } from "../../src/pdu/pdu.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";
import { C2H_KINDS, randomPdu } from "./gen.js";

const seed = seedFromEnv();
console.log(`framer.test seed=${seed} (SEED=${seed} to reproduce)`);

const DIGESTS: DigestOptions[] = [
  { hdgst: false, ddgst: false },
  { hdgst: true, ddgst: false },
  { hdgst: false, ddgst: true },
  { hdgst: true, ddgst: true },
];

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A host-side stream of random C2H PDUs, each also decoded on its own as the oracle. */
function c2hStream(rng: Rng, dg: DigestOptions, count: number, maxData = 100): { pdus: Uint8Array[]; expected: DecodedPdu[] } {
  const pdus: Uint8Array[] = [];
  for (let i = 0; i < count; i++) pdus.push(encodePdu(randomPdu(rng, rng.pick(C2H_KINDS), maxData), dg));
  return { pdus, expected: pdus.map((p) => decodePdu(p, dg)) };
}

function pushAll(framer: PduFramer, stream: Uint8Array, cuts: readonly number[]): FramedPdu[] {
  const out: FramedPdu[] = [];
  let at = 0;
  for (const cut of [...cuts, stream.length]) {
    out.push(...framer.push(stream.subarray(at, cut)));
    at = cut;
  }
  return out;
}

/** Compare framer output with the oracle, copying data so views into different buffers compare by value. */
function expectSame(got: readonly FramedPdu[], expected: readonly DecodedPdu[], sizes: readonly number[]): void {
  expect(got.length).toBe(expected.length);
  let offset = 0;
  got.forEach((g, i) => {
    const { streamOffset, ...decoded } = g;
    expect(decoded).toEqual(expected[i]);
    expect(streamOffset).toBe(offset);
    offset += sizes[i]!;
  });
}

const host = (dg: DigestOptions): FramerOptions => ({ ...dg, direction: "C2H" });

describe("PduFramer", () => {
  it("a single C2HData with both digests, split into two chunks at every offset (header, HDGST, data, DDGST)", () => {
    const dg = { hdgst: true, ddgst: true };
    const wire = encodePdu({ kind: "C2HData", cccid: 3, datao: 0, last: true, success: true, data: new Uint8Array(20).fill(7) }, dg);
    const expected = [decodePdu(wire, dg)];
    for (let cut = 1; cut < wire.length; cut++) expectSame(pushAll(new PduFramer(host(dg)), wire, [cut]), expected, [wire.length]);
  });

  it("three chunks at every pair of cut points across two PDUs", () => {
    for (const dg of DIGESTS) {
      const rng = new Rng(seed);
      const { pdus, expected } = c2hStream(rng, dg, 2, 24); // short PDUs keep the quadratic loop fast
      const stream = concat(pdus);
      const sizes = pdus.map((p) => p.length);
      for (let i = 1; i < stream.length; i++) {
        for (let j = i; j < stream.length; j += 3) expectSame(pushAll(new PduFramer(host(dg)), stream, [i, j]), expected, sizes);
      }
    }
  });

  it("random chunkings, one big chunk and byte-by-byte all equal one-shot decoding", () => {
    const rng = new Rng(seed + 1);
    for (const dg of DIGESTS) {
      const { pdus, expected } = c2hStream(rng, dg, 40);
      const stream = concat(pdus);
      const sizes = pdus.map((p) => p.length);
      expectSame(pushAll(new PduFramer(host(dg)), stream, []), expected, sizes);
      expectSame(pushAll(new PduFramer(host(dg)), stream, Array.from({ length: stream.length - 1 }, (_, i) => i + 1)), expected, sizes);
      for (let trial = 0; trial < 20; trial++) {
        const cuts: number[] = [];
        for (let at = rng.int(60); at < stream.length; at += 1 + rng.int(rng.pick([4, 30, 300]))) cuts.push(at);
        const framer = new PduFramer(host(dg));
        expectSame(pushAll(framer, stream, cuts), expected, sizes);
        expect(framer.atPduBoundary).toBe(true);
        expect(framer.streamOffset).toBe(stream.length);
      }
    }
  });

  it("holds a partial PDU across pushes and reports it pending", () => {
    const dg = { hdgst: true, ddgst: false };
    const wire = encodePdu({ kind: "R2T", cccid: 1, ttag: 2, r2to: 0, r2tl: 4096 }, dg);
    const framer = new PduFramer(host(dg));
    expect(framer.push(wire.subarray(0, 5))).toEqual([]);
    expect(framer.pendingBytes).toBe(5);
    expect(framer.atPduBoundary).toBe(false);
    expect(framer.push(wire.subarray(5, 27))).toEqual([]);
    const done = framer.push(wire.subarray(27));
    expect(done.map((d) => d.pdu.kind)).toEqual(["R2T"]);
    expect(framer.atPduBoundary).toBe(true);
  });

  it("adopts the digests an ICResp announces (and setDigests switches by hand)", () => {
    const rng = new Rng(seed + 2);
    const dg = { hdgst: true, ddgst: true };
    const icresp = encodePdu({ kind: "ICResp", pfv: 0, cpda: 0, hdgstEnable: true, ddgstEnable: true, maxh2cdata: 8192 }, dg);
    const { pdus, expected } = c2hStream(rng, dg, 5);
    const stream = concat([icresp, ...pdus]);
    const got = new PduFramer(host({ hdgst: false, ddgst: false })).push(stream);
    expect(got.map((g) => g.pdu.kind)).toEqual(["ICResp", ...expected.map((e) => e.pdu.kind)]);

    const manual = new PduFramer({ hdgst: false, ddgst: false, direction: "C2H", adoptIcDigests: false });
    expect(manual.push(icresp).length).toBe(1);
    expect(() => manual.push(pdus[0]!)).toThrow(PduError); // still expecting no digests

    const manual2 = new PduFramer({ hdgst: false, ddgst: false, direction: "C2H", adoptIcDigests: false });
    manual2.push(icresp);
    manual2.setDigests(dg);
    expect(manual2.push(concat(pdus)).length).toBe(5);
  });

  it("fails on the first lie, keeps what came before, and stays failed", () => {
    const rng = new Rng(seed + 3);
    const dg = { hdgst: true, ddgst: true };
    const { pdus } = c2hStream(rng, dg, 3);
    const liar = encodePdu({ kind: "C2HData", cccid: 1, datao: 0, last: true, success: false, data: new Uint8Array(16) }, { ...dg, lies: { datal: 17 } });
    const after = encodePdu(randomPdu(rng, "R2T"), dg);
    const stream = concat([...pdus, liar, after]);
    const liarAt = pdus.reduce((n, p) => n + p.length, 0);

    for (const chunk of [stream.length, 7, 1]) {
      const framer = new PduFramer(host(dg));
      const seen: FramedPdu[] = [];
      let error: unknown;
      try {
        for (let at = 0; at < stream.length; at += chunk) seen.push(...framer.push(stream.subarray(at, at + chunk)));
      } catch (e) {
        error = e;
        seen.push(...framer.completedBeforeFailure);
      }
      expect(error).toBeInstanceOf(PduError);
      expect((error as PduError).code).toBe("BAD_DATAL");
      expect((error as PduError).offset).toBe(16);
      expect(seen.length).toBe(3);
      expect(framer.streamOffset).toBe(liarAt);
      expect(framer.error).toBe(error);
      expect(() => framer.push(after)).toThrow(error as PduError);
    }
  });

  it("refuses a lying plen as soon as the 8-byte common header is in", () => {
    const dg = { hdgst: true, ddgst: true };
    const liar = encodePdu({ kind: "C2HData", cccid: 1, datao: 0, last: true, success: false, data: new Uint8Array(16) }, { ...dg, lies: { plen: 0xfffffff0 } });
    const framer = new PduFramer(host(dg));
    expect(framer.push(liar.subarray(0, 7))).toEqual([]);
    expect(() => framer.push(liar.subarray(7, 8))).toThrow(expect.objectContaining({ code: "DATA_LIMIT", offset: 4 }));
    const hlen255 = encodePdu({ kind: "CapsuleResp", cqe: { result: 0n, sqHead: 0, sqId: 0, cid: 1, status: 0 } }, { ...dg, lies: { hlen: 255 } });
    expect(() => new PduFramer(host(dg)).push(hlen255.subarray(0, 8))).toThrow(expect.objectContaining({ code: "BAD_HLEN", offset: 2 }));
  });

  it("reports data digest mismatches without failing, or leaves them to the caller", () => {
    const dg = { hdgst: true, ddgst: true };
    const bad = encodePdu({ kind: "C2HData", cccid: 1, datao: 0, last: true, success: false, data: new Uint8Array(16) }, { ...dg, lies: { corruptDdgst: true } });
    const good = encodePdu({ kind: "C2HData", cccid: 2, datao: 0, last: true, success: false, data: new Uint8Array(16) }, dg);
    const [b, g] = new PduFramer(host(dg)).push(concat([bad, good]));
    expect([b!.ddgstOk, g!.ddgstOk]).toEqual([false, true]);
    const lazy = new PduFramer({ ...host(dg), verifyDdgst: false }).push(concat([bad, good]));
    expect(lazy.map((l) => l.ddgstOk)).toEqual([undefined, undefined]);
    // The offload hooks: where each PDU's data and digest sit in the stream.
    expect(lazy[1]!.streamOffset).toBe(bad.length);
    expect(lazy[1]!.streamOffset + lazy[1]!.dataOffset).toBe(bad.length + 28);
    expect(lazy[1]!.dataLength).toBe(16);
  });

  it("frames the controller side (H2C) too", () => {
    const rng = new Rng(seed + 4);
    const dg = { hdgst: true, ddgst: true };
    const kinds = ["ICReq", "CapsuleCmd", "H2CData", "CapsuleCmd", "H2CData", "H2CTermReq"] as const;
    const pdus = kinds.map((k) => (k === "ICReq" ? encodePdu({ kind: k, pfv: 0, hpda: 0, hdgstEnable: true, ddgstEnable: true, maxr2t: 0 }) : encodePdu(randomPdu(rng, k), { ...dg, pda: 3 })));
    const got = pushAll(new PduFramer({ hdgst: false, ddgst: false, pda: 3, direction: "H2C" }), concat(pdus), [50, 51, 200]);
    expect(got.map((g) => g.pdu.kind)).toEqual([...kinds]);
  });
});
