// A malicious or broken target against the model: every lie of the target emulator, and fuzzed headers.
// Whatever the target sends, the model writes only inside registered buffers (guard bytes intact, segments
// inside the tag's length) and changes no frame other than clearing tkeep on placed bytes (checked by feed()).

import { describe, expect, it } from "vitest";
import { parseFrame } from "../../src/net/frame.js";
import { seqAdd, seqDiff } from "../../src/net/seq.js";
import { crc32c, writeDigest } from "../../src/pdu/crc32c.js";
import { HostMemory } from "../../src/contract/host-memory.js";
import { OffloadModel } from "../../src/model/offload-model.js";
import { EventKind, type SglEntry, Status, tagSetup } from "../../src/contract/protocol.js";
import { type Lie, LIES } from "../../src/nvmet/controller.js";
import { patternBytes } from "../../src/nvmet/namespace.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";
import { feed, isData, oracleSegments } from "../../tb/traffic/oracle.js";
import { BLOCK, concat, NSID, pageSgl, TargetFlow } from "../../tb/traffic/target.js";

const seed = seedFromEnv();
console.log(`model malicious.test seed=${seed} (SEED=${seed} to reproduce)`);

/** What the block must do with the lying PDU (contract section 5). */
const effect: Record<Lie, "search" | "not-placed" | "crc-bad" | "normal"> = {
  "datao-beyond-transfer": "not-placed",
  "unknown-cid": "not-placed",
  "hlen-255-with-hdgst": "search",
  "plen-below-pdo": "search",
  "datal-plen-mismatch": "search",
  "pdo-misaligned": "search",
  "wrong-digest-flags": "search",
  "bad-ddgst": "crc-bad",
  "bad-hdgst": "normal", // header digests stay in software
};

/** Every placed segment lies inside its tag's buffer. */
function expectInside(segs: readonly { cid: number; bufOff: number; len: number }[], total: (cid: number) => number | undefined): void {
  for (const s of segs) {
    const t = total(s.cid);
    expect(t).toBeDefined();
    expect(s.bufOff + s.len).toBeLessThanOrEqual(t!);
  }
}

describe("malicious target", () => {
  for (const lie of LIES) {
    it(`lie '${lie}': ${effect[lie]}, nothing written outside the buffers`, () => {
      const rng = new Rng(seed ^ LIES.indexOf(lie));
      const mem = new HostMemory();
      const t = new TargetFlow({ rng: new Rng(rng.u32()), hdgst: true, ddgst: true, mss: rng.range(300, 1460), c2hDataSize: 2048 });
      // One page each (PAGE 4096, the default), page-aligned.
      const a = { cid: 0x100, slba: 8, nlb: 8, sgl: [{ addr: mem.allocate(4096, 16, 4096), len: 4096 }] };
      const b = { cid: 0x200, slba: 800, nlb: 8, sgl: [{ addr: mem.allocate(4096, 16, 4096), len: 4096 }] };
      const model = new OffloadModel();
      model.command(t.ctxAdd(0));
      for (const r of [a, b]) for (const beat of tagSetup({ ctx: 0, cid: r.cid, sgl: r.sgl })) model.command(beat);
      expect(model.events().map((e) => e.kind === EventKind.COMPLETION && e.status)).toEqual([Status.OK, Status.OK, Status.OK]);
      t.q.lie(lie);
      t.read(a.cid, a.slba, a.nlb);
      t.read(b.cid, b.slba, b.nlb);
      const { frames, pdus } = t.flush();
      const liar = pdus.find((p) => p.lie === lie)!;
      const liarEnd = seqAdd(liar.seq, liar.length);
      const honest = pdus.filter((p) => p !== liar);
      for (const frame of frames) {
        const res = feed(model, mem, frame);
        expectInside(res.cqe.segs, (cid) => (cid === a.cid || cid === b.cid ? 4096 : undefined));
        const f = parseFrame(frame);
        const pastHeader = seqDiff(seqAdd(f.tcp!.seq, f.payload.length), seqAdd(liar.seq, 24)) >= 0;
        const holdsLiarEnd = seqDiff(f.tcp!.seq, liarEnd) < 0 && seqDiff(seqAdd(f.tcp!.seq, f.payload.length), liarEnd) >= 0;
        if (effect[lie] === "search") {
          expect(res.cqe.segs).toEqual(pastHeader ? [] : oracleSegments(frame, pdus, true, () => true, 4));
          expect(res.cqe.crcOk).toBe(!pastHeader);
        } else {
          expect(res.cqe.segs).toEqual(oracleSegments(frame, effect[lie] === "not-placed" ? honest : pdus, true, () => true, 4));
          expect(res.cqe.crcOk).toBe(!(effect[lie] === "crc-bad" && holdsLiarEnd));
        }
      }
      expect(mem.checkGuards()).toEqual([]);
      const bBuf = mem.read(b.sgl[0]!.addr, 4096);
      expect(Buffer.from(bBuf).equals(Buffer.from(effect[lie] === "search" ? new Uint8Array(4096) : patternBytes(NSID, b.slba * BLOCK, 4096)))).toBe(true);
      const dataPdus = pdus.filter(isData).length;
      if (effect[lie] === "search") expect(model.stats).toMatchObject({ searches: 1, rxNvmeTcpDrop: 1, pdusCrcOk: 0, rxNvmeTcpBytes: 0 });
      else expect(model.stats).toMatchObject({ searches: 0, pdusCrcOk: dataPdus - (effect[lie] === "crc-bad" ? 1 : 0), pdusCrcBad: effect[lie] === "crc-bad" ? 1 : 0 });
    });
  }

  it("fuzzed headers and offsets never write outside the registered buffers", () => {
    const rng = new Rng(seed + 99);
    for (let round = 0; round < 30; round++) {
      const mem = new HostMemory();
      const hdgst = rng.chance(0.5);
      const ddgst = rng.chance(0.5);
      const t = new TargetFlow({ rng: new Rng(rng.u32()), hdgst, ddgst });
      const model = new OffloadModel({ maxSgl: 8, page: 512 });
      model.command(t.ctxAdd(0));
      const tags = new Map<number, SglEntry[]>();
      for (let cid = 0; cid < 4; cid++) {
        const sgl = pageSgl(rng, mem, rng.range(1, 3000), 512, 8);
        tags.set(cid, sgl);
        for (const beat of tagSetup({ ctx: 0, cid, sgl })) model.command(beat);
      }
      expect(model.events().map((e) => e.kind === EventKind.COMPLETION && e.status)).toEqual(new Array(5).fill(Status.OK));
      const stream = concat(Array.from({ length: 40 }, () => fuzzPdu(rng, hdgst, ddgst)));
      const cuts = Array.from({ length: 30 }, () => rng.int(stream.length));
      for (const frame of t.cut(stream, t.startSeq, cuts)) {
        const res = feed(model, mem, frame);
        expectInside(res.cqe.segs, (cid) => tags.get(cid)?.reduce((n, e) => n + e.len, 0));
      }
      expect(mem.checkGuards()).toEqual([]);
    }
  });
});

/** A C2HData-like PDU with honest or random fields (small CIDs and offsets so that some of them hit). */
function fuzzPdu(rng: Rng, hdgst: boolean, ddgst: boolean): Uint8Array {
  const hd = hdgst ? 4 : 0;
  const dd = ddgst ? 4 : 0;
  const datal = rng.range(1, 600);
  const pdo = 24 + hd + (rng.chance(0.1) ? 4 * rng.int(3) : 0);
  const out = new Uint8Array(pdo + datal + dd);
  const v = new DataView(out.buffer);
  out[0] = rng.chance(0.9) ? 0x07 : rng.pick([0x03, 0x05, 0x09, rng.int(256)]);
  out[1] = (hdgst ? 1 : 0) | (ddgst ? 2 : 0) | (rng.chance(0.05) ? rng.int(256) : 0);
  out[2] = rng.chance(0.95) ? 24 : rng.int(256);
  out[3] = rng.chance(0.95) ? pdo : rng.int(256);
  v.setUint32(4, rng.chance(0.95) ? out.length : rng.u32(), true);
  v.setUint16(8, rng.int(6), true);
  v.setUint32(12, rng.chance(0.5) ? rng.int(3000) : rng.u32(), true);
  v.setUint32(16, rng.chance(0.95) ? datal : rng.u32(), true);
  out.set(rng.bytes(datal), pdo);
  if (hdgst) writeDigest(out, 24, crc32c(out.subarray(0, 24)));
  if (ddgst) writeDigest(out, pdo + datal, crc32c(out.subarray(pdo, pdo + datal)) ^ (rng.chance(0.1) ? 1 : 0));
  return out;
}
