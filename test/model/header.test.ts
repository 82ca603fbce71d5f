// Header validity (contract section 5) one rule at a time on hand-built headers, the regions of PDUs other
// than C2HData, and the edges of the sequence rules (empty frames, a gap ending exactly at the data's end).

import { describe, expect, it } from "vitest";
import { buildTcpFrame } from "../../src/net/frame.js";
import { seqAdd } from "../../src/net/seq.js";
import { TcpStreamSender } from "../../src/net/tcp-sender.js";
import { crc32c, writeDigest } from "../../src/pdu/crc32c.js";
import { HostMemory } from "../../src/contract/host-memory.js";
import { OffloadModel } from "../../src/model/offload-model.js";
import { ctxAdd, EventKind, Status, tagSetup } from "../../src/contract/protocol.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";
import { feed } from "../../tb/traffic/oracle.js";
import { concat, FLOW4 } from "../../tb/traffic/target.js";

const seed = seedFromEnv();
console.log(`model header.test seed=${seed} (SEED=${seed} to reproduce)`);

const ISN = 0x7fff_fff0;

interface Opts {
  hdgst: boolean;
  ddgst: boolean;
  cpda: number;
}

function connect(o: Opts): { model: OffloadModel; sender: TcpStreamSender; mem: HostMemory; buf: bigint } {
  const model = new OffloadModel();
  const a = FLOW4;
  model.command(ctxAdd({ ctx: 2, ipVersion: 4, srcIp: a.srcIp, dstIp: a.dstIp, srcPort: a.srcPort, dstPort: a.dstPort, seq: ISN, ...o }));
  const mem = new HostMemory();
  // 8192 contiguous bytes in two pages (PAGE 4096, the default).
  const buf = mem.allocate(8192, 8, 4096);
  for (const beat of tagSetup({ ctx: 2, cid: 1, sgl: [{ addr: buf, len: 4096 }, { addr: buf + 4096n, len: 4096 }] })) model.command(beat);
  expect(model.events().map((e) => e.kind === EventKind.COMPLETION && e.status)).toEqual([Status.OK, Status.OK]);
  return { model, sender: new TcpStreamSender(a, { isn: ISN, mss: 9000 }), mem, buf };
}

/** A 24-byte header: type, flags, hlen, pdo, plen, then cid (8), datao (12), datal (16). */
function header(f: { type: number; flags: number; hlen?: number; pdo: number; plen: number; cid?: number; datao?: number; datal?: number }): Uint8Array {
  const h = new Uint8Array(24);
  const v = new DataView(h.buffer);
  h[0] = f.type;
  h[1] = f.flags;
  h[2] = f.hlen ?? 24;
  h[3] = f.pdo;
  v.setUint32(4, f.plen, true);
  v.setUint16(8, f.cid ?? 1, true);
  v.setUint32(12, f.datao ?? 0, true);
  v.setUint32(16, f.datal ?? 0, true);
  return h;
}

/** A whole PDU around `h`: HDGST, pad up to pdo, `datal` data bytes (C2HData) or plen filler, DDGST. */
function pdu(h: Uint8Array, o: Opts, data?: Uint8Array): Uint8Array {
  const hd = o.hdgst ? 4 : 0;
  const v = new DataView(h.buffer);
  const plen = v.getUint32(4, true);
  if (!data) return concat([h, new Uint8Array(Math.max(0, plen - 24))]);
  const pdo = h[3]!;
  const out = new Uint8Array(pdo + data.length + (o.ddgst ? 4 : 0));
  out.set(h);
  if (hd) writeDigest(out, 24, crc32c(h));
  out.set(data, pdo);
  if (o.ddgst) writeDigest(out, pdo + data.length, crc32c(data));
  return out;
}

function validHeaders(o: Opts, datal = 100): Record<"c2hData" | "capsuleResp" | "r2t" | "termReq", Parameters<typeof header>[0]> {
  const hd = o.hdgst ? 4 : 0;
  const align = (o.cpda + 1) * 4;
  const pdo = Math.ceil((24 + hd) / align) * align;
  return {
    c2hData: { type: 0x07, flags: (o.hdgst ? 1 : 0) | (o.ddgst ? 2 : 0), pdo, plen: pdo + datal + (o.ddgst ? 4 : 0), datal },
    capsuleResp: { type: 0x05, flags: o.hdgst ? 1 : 0, pdo: 0, plen: 24 + hd },
    r2t: { type: 0x09, flags: o.hdgst ? 1 : 0, pdo: 0, plen: 24 + hd },
    termReq: { type: 0x03, flags: o.hdgst ? 1 : 0, pdo: 0, plen: 60 },
  };
}

/** Feeds just the 24 header bytes and says whether the context is still tracking. */
function accepted(o: Opts, h: Parameters<typeof header>[0]): boolean {
  const { model, sender } = connect(o);
  for (const s of sender.send(header(h))) model.frame(s.frame);
  return model.trackState(2)!.state !== "SEARCH";
}

const optsList: Opts[] = [
  { hdgst: false, ddgst: false, cpda: 0 },
  { hdgst: true, ddgst: true, cpda: 0 },
  { hdgst: true, ddgst: false, cpda: 1 },
  { hdgst: false, ddgst: true, cpda: 7 },
];

describe("header validity", () => {
  for (const o of optsList) {
    it(`accepts valid headers and refuses each broken rule (hdgst ${o.hdgst}, ddgst ${o.ddgst}, cpda ${o.cpda})`, () => {
      const v = validHeaders(o);
      for (const h of Object.values(v)) expect(accepted(o, h)).toBe(true);
      const refuse = (h: Parameters<typeof header>[0]) => expect(accepted(o, h), JSON.stringify(h)).toBe(false);
      for (const h of Object.values(v)) {
        for (const type of [0x00, 0x01, 0x02, 0x04, 0x06, 0x08, 0x0a, 0xff]) refuse({ ...h, type });
        for (const hlen of [0, 23, 25, 72, 128, 255]) refuse({ ...h, hlen });
        refuse({ ...h, flags: h.flags ^ 1 });
      }
      const c = v.c2hData;
      const align = (o.cpda + 1) * 4;
      refuse({ ...c, flags: c.flags ^ 2 });
      refuse({ ...c, datal: 0, plen: c.plen - 100 });
      refuse({ ...c, plen: c.plen + 1 });
      refuse({ ...c, plen: c.plen - 1 });
      refuse({ ...c, datal: c.datal! + 1 });
      refuse({ ...c, pdo: c.pdo + 2, plen: c.plen + 2 }); // misaligned
      if (c.pdo - align >= 0) refuse({ ...c, pdo: c.pdo - align, plen: c.plen - align }); // inside the header
      expect(accepted(o, { ...c, pdo: c.pdo + align, plen: c.plen + align })).toBe(c.pdo + align <= 255);
      expect(accepted(o, { ...c, flags: c.flags | 0x0c })).toBe(true); // LAST | SUCCESS
      for (const h of [v.capsuleResp, v.r2t]) {
        refuse({ ...h, pdo: 4 });
        refuse({ ...h, plen: h.plen + 1 });
        refuse({ ...h, plen: 24 + 8 });
        refuse({ ...h, flags: h.flags | 2 });
        expect(accepted(o, { ...h, flags: h.flags | 4 })).toBe(true);
      }
      const t = v.termReq;
      for (const plen of [24, 25, 100, 152]) expect(accepted(o, { ...t, plen })).toBe(true);
      for (const plen of [0, 23, 153, 0xffff_ffff]) refuse({ ...t, plen });
      refuse({ ...t, pdo: 24 });
    });
  }

  it("walks past TermReq, R2T and CapsuleResp PDUs and places the C2HData after them, with headers split anywhere", () => {
    const rng = new Rng(seed);
    for (const o of optsList) {
      const v = validHeaders(o, 700);
      const data = rng.bytes(700);
      const stream = concat([pdu(header(v.termReq), o), pdu(header(v.r2t), o), pdu(header(v.capsuleResp), o), pdu(header({ ...v.c2hData, datao: 1000 }), o, data), pdu(header(v.r2t), o)]);
      const { model, sender, mem, buf } = connect(o);
      let at = 0;
      while (at < stream.length) {
        const n = rng.range(1, 60);
        for (const s of sender.send(stream.subarray(at, at + n))) expect(feed(model, mem, s.frame).cqe.crcOk).toBe(o.ddgst);
        at += n;
      }
      expect(Buffer.from(mem.read(buf + 1000n, 700)).equals(Buffer.from(data))).toBe(true);
      expect(model.trackState(2)).toEqual({ state: "HEADER", exp: seqAdd(ISN, stream.length) });
      expect(model.stats.pdusCrcOk).toBe(o.ddgst ? 1 : 0);
    }
  });
});

describe("sequence rule edges", () => {
  const o: Opts = { hdgst: false, ddgst: true, cpda: 0 };
  const c2h = (datal: number) => pdu(header({ ...validHeaders(o, datal).c2hData }), o, new Uint8Array(datal).fill(0xab));

  it("an empty frame changes nothing and gets crc_ok as rule 6, wherever its seq", () => {
    const { model, mem } = connect(o);
    for (const seq of [ISN, ISN + 5, ISN - 5]) {
      const res = feed(model, mem, buildTcpFrame({ ...FLOW4, seq, ack: 0, flags: { ack: true }, payload: new Uint8Array(0) }));
      expect(res.cqe).toMatchObject({ hit: true, ctx: 2, crcOk: true, nseg: 0 });
    }
    expect(model.trackState(2)).toEqual({ state: "HEADER", exp: ISN });
    expect(model.stats).toMatchObject({ oooPackets: 0, retransmits: 0, rxNvmeTcpPackets: 3 });
  });

  it("a gap ending exactly at the end of the data is rule 4; one byte more is rule 5", () => {
    for (const extra of [0, 1]) {
      const { model, sender, mem } = connect(o);
      const stream = concat([c2h(200), c2h(50)]);
      const [first, , rest] = [stream.subarray(0, 24 + 100), null, stream.subarray(24 + 200 + extra)];
      feed(model, mem, sender.send(first)[0]!.frame);
      const later = new TcpStreamSender(FLOW4, { isn: seqAdd(ISN, 24 + 200 + extra), mss: 9000 });
      const res = feed(model, mem, later.send(rest)[0]!.frame);
      if (extra === 0) {
        expect(res.cqe).toMatchObject({ crcOk: false, nseg: 1 }); // the gapped PDU's DDGST is in this frame
        expect(model.stats).toMatchObject({ oooPackets: 1, searches: 0, pdusCrcOk: 1, pdusCrcBad: 0 });
      } else {
        expect(res.cqe).toMatchObject({ crcOk: false, nseg: 0 });
        expect(model.stats).toMatchObject({ oooPackets: 1, searches: 1 });
      }
    }
  });
});
