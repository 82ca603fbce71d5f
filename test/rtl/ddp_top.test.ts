// ddp_top end-to-end smoke test (resync: see the second part of this file): CTX_ADD, TAG_SETUP of two read buffers (random SGLs), then an in-order
// NVMe/TCP stream of C2HData PDUs (with CapsuleResp / R2T PDUs between them) built with the project's codec
// (encodePdu) and cut into TCP frames by TcpStreamSender. Checked against a golden computation done here
// from the PDU layout and the frames (independent of the RTL):
//   - every byte of every PDU's data lands at the SGL address of buffer offset datao + k (host memory rebuilt
//     from m_dma requests), and nothing else is written;
//   - each ring frame equals its input frame minus the placed bytes (the sink keeps only tkeep bytes);
//   - one CQE per frame: hit, ctx, crc_ok (DDGST on, nothing lost), the segments (at most MAX_SEGS per frame;
//     data of further PDUs stays in the ring);
//   - every beat leaves LATENCY (LIMITS_GET 7) cycles after it entered when nothing stalls;
//   - statistics: placed bytes, PDUs with a good digest.

import { expect } from "vitest";
import {
  AxiStreamMonitor,
  AxiStreamSink,
  AxiStreamSource,
  ClockCycles,
  defineStream,
  describeRtl,
  type DutMethods,
  randomPauses,
  type Rng,
} from "../../tb/index.js";
import { encodePdu, type Pdu } from "../../src/pdu/pdu.js";
import { buildTcpFrame, parseFrame, type FlowAddress } from "../../src/net/frame.js";
import { TcpStreamSender } from "../../src/net/tcp-sender.js";

const MAX_SEGS = 4;
/** ddp_top's default SGL page size (LIMITS_GET 9). */
const PAGE = 4096;
const OP = { CTX_ADD: 1, TAG_SETUP: 3, TAG_TEARDOWN: 4, RESYNC: 5, LIMITS_GET: 8, STATS_GET: 9 } as const;

const CMD_FIELDS = ["op", "tag", "ctx", "cid", "ipv6", "src_ip", "dst_ip", "src_port", "dst_port", "seq", "flags", "cpda", "addr", "len", "cookie", "index"] as const;
type CmdField = (typeof CMD_FIELDS)[number];
const Cmd = defineStream("cmd", { fields: CMD_FIELDS });
const Evt = defineStream("evt", { fields: ["kind", "tag", "status", "ctx", "seq", "cookie", "data"] });
const segFields = [0, 1, 2, 3].flatMap((i) => [`seg${i}_cid`, `seg${i}_buf_off`, `seg${i}_frame_off`, `seg${i}_len`] as const);
const CqeStream = defineStream("cqe", { fields: ["hit", "ctx", "crc_ok", "nseg", ...segFields, "resync", "resync_seq"] });
const Dma = defineStream("dma", { fields: ["addr0", "len0", "addr1", "len1", "data"] });

function cmd(f: Partial<Record<CmdField, bigint | number>>): InstanceType<typeof Cmd.Transaction> {
  return new Cmd.Transaction({
    op: 0, tag: 0, ctx: 0, cid: 0, ipv6: 0, src_ip: 0, dst_ip: 0, src_port: 0, dst_port: 0, seq: 0, flags: 0, cpda: 0,
    addr: 0, len: 0, cookie: 0, index: 0, ...f,
  });
}

function ipv4(ip: string): bigint {
  return ip.split(".").reduce((v, o) => (v << 8n) | BigInt(Number(o)), 0n);
}

interface Sgl { addr: bigint; len: number }
interface Seg { cid: number; bufOff: number; frameOff: number; len: number }

/**
 * A random SGL of `total` bytes in PAGE-byte pages at random page frames, as TAG_SETUP takes it (contract
 * section 1): the first entry starts anywhere in its page, every other one on a page boundary, every entry but
 * the last runs to the end of its page.
 */
function randomSgl(rng: Rng, total: number): Sgl[] {
  const out: Sgl[] = [];
  for (let left = total, off = rng.int(PAGE); left > 0; off = 0) {
    const len = Math.min(left, PAGE - off);
    out.push({ addr: (BigInt(rng.range(1, 0xffff)) << 32n) | BigInt(rng.int(0x100000) * PAGE + off), len });
    left -= len;
  }
  return out;
}

function sglAddr(sgl: Sgl[], off: number): bigint {
  for (const e of sgl) {
    if (off < e.len) return e.addr + BigInt(off);
    off -= e.len;
  }
  throw new Error("offset beyond the SGL");
}

interface Bench {
  cmds: InstanceType<typeof Cmd.Source>;
  evts: InstanceType<typeof Evt.Sink>;
  cqes: InstanceType<typeof CqeStream.Sink>;
  dma: InstanceType<typeof Dma.Sink>;
  source: AxiStreamSource;
  inputs: AxiStreamMonitor;
  ring: AxiStreamSink;
}

function bench(dut: DutMethods): Bench {
  return {
    cmds: new Cmd.Source(dut, "s_cmd"),
    evts: new Evt.Sink(dut, "m_evt"),
    cqes: new CqeStream.Sink(dut, "m_cqe"),
    dma: new Dma.Sink(dut, "m_dma"),
    source: new AxiStreamSource(dut, "s_axis"),
    inputs: new AxiStreamMonitor(dut, "s_axis"),
    ring: new AxiStreamSink(dut, "m_axis_rx"),
  };
}

async function command(b: Bench, c: InstanceType<typeof Cmd.Transaction>): Promise<{ status: number; data: bigint }> {
  await b.cmds.send(c);
  const e = await b.evts.recv();
  expect(Number(e.values.kind), "completion kind").toBe(1);
  expect(e.values.tag, "completion tag").toBe(c.values.tag);
  return { status: Number(e.values.status), data: e.values.data };
}

interface Scenario { hdgst: boolean; ddgst: boolean; mss: [number, number]; pdus: number; maxData: number; stall: boolean }

async function run(dut: DutMethods, rng: Rng, sc: Scenario): Promise<void> {
  const b = bench(dut);
  const flow: FlowAddress = {
    srcMac: "02:00:00:00:00:01", dstMac: "02:00:00:00:00:02", ipVersion: 4,
    srcIp: "10.0.0.1", dstIp: "10.0.0.2", srcPort: 4420, dstPort: rng.range(30000, 60000),
  };
  const isn = rng.u32();
  const ctx = rng.int(8);
  const latency = Number((await command(b, cmd({ op: OP.LIMITS_GET, tag: 1, index: 7 }))).data);
  const add = await command(b, cmd({
    op: OP.CTX_ADD, tag: 2, ctx, src_ip: ipv4(flow.srcIp), dst_ip: ipv4(flow.dstIp), src_port: flow.srcPort,
    dst_port: flow.dstPort, seq: isn, flags: (sc.hdgst ? 1 : 0) | (sc.ddgst ? 2 : 0),
  }));
  expect(add.status, "CTX_ADD").toBe(0);

  // Two read commands, each with its buffer; PDUs alternate between them, datao ascending.
  const cids = [rng.int(0x10000), 0];
  cids[1] = (cids[0]! + 1 + rng.int(0xfffe)) & 0xffff;
  const sizes = [0, 0];
  const plan: Array<{ which: number; len: number }> = [];
  for (let i = 0; i < sc.pdus; i++) {
    const which = rng.int(2);
    const len = rng.range(1, sc.maxData);
    plan.push({ which, len });
    sizes[which]! += len;
  }
  const sgls = sizes.map((n) => randomSgl(rng, Math.max(n, 1)));
  for (let t = 0; t < 2; t++) {
    const sgl = sgls[t]!;
    await b.cmds.send(sgl.map((e, i) => cmd({ op: OP.TAG_SETUP, tag: 10 + t, ctx, cid: cids[t]!, addr: e.addr, len: e.len, flags: i === sgl.length - 1 ? 1 : 0 })));
    const e = await b.evts.recv();
    expect([Number(e.values.tag), Number(e.values.status)], `TAG_SETUP ${t}`).toEqual([10 + t, 0]);
  }

  // The stream: PDUs, and where each C2HData's data lies in it.
  const parts: Uint8Array[] = [];
  const dataRuns: Array<{ start: number; len: number; cid: number; datao: number; which: number; bytes: Uint8Array }> = [];
  const nextOff = [0, 0];
  let at = 0;
  let c2hPdus = 0;
  for (const p of plan) {
    if (rng.chance(0.25)) {
      const other: Pdu = rng.chance(0.5)
        ? { kind: "CapsuleResp", cqe: { result: 0n, sqHead: 1, sqId: 1, cid: rng.int(0x10000), status: 0 } }
        : { kind: "R2T", cccid: rng.int(0x10000), ttag: 1, r2to: 0, r2tl: 4096 };
      const bytes = encodePdu(other, { hdgst: sc.hdgst, ddgst: sc.ddgst });
      parts.push(bytes);
      at += bytes.length;
    }
    const data = rng.bytes(p.len);
    const datao = nextOff[p.which]!;
    nextOff[p.which]! += p.len;
    const bytes = encodePdu({ kind: "C2HData", cccid: cids[p.which]!, datao, last: false, success: false, data }, { hdgst: sc.hdgst, ddgst: sc.ddgst });
    const pdo = bytes[3]!;
    dataRuns.push({ start: at + pdo, len: p.len, cid: cids[p.which]!, datao, which: p.which, bytes: data });
    parts.push(bytes);
    at += bytes.length;
    c2hPdus++;
  }
  const stream = new Uint8Array(at);
  let o = 0;
  for (const p of parts) {
    stream.set(p, o);
    o += p.length;
  }
  const frames: Uint8Array[] = [];
  const starts: number[] = [];
  for (let s = 0; s < stream.length;) {
    const n = Math.min(stream.length - s, rng.range(sc.mss[0], sc.mss[1]));
    for (const seg of new TcpStreamSender(flow, { isn: (isn + s) >>> 0, mss: n }).send(stream.subarray(s, s + n))) frames.push(seg.frame);
    starts.push(s);
    s += n;
  }

  // Golden: segments per frame, ring bytes, host memory.
  const memory = new Map<bigint, number>();
  const expSegs: Seg[][] = [];
  const expRing: Uint8Array[] = [];
  let placedBytes = 0;
  frames.forEach((frame, j) => {
    const poff = parseFrame(frame).payloadOffset;
    const s0 = starts[j]!;
    const n = (j + 1 < frames.length ? starts[j + 1]! : stream.length) - s0;
    const keep = new Uint8Array(frame.length).fill(1);
    const segs: Seg[] = [];
    for (const r of dataRuns) {
      const lo = Math.max(r.start, s0);
      const hi = Math.min(r.start + r.len, s0 + n);
      if (lo >= hi || segs.length === MAX_SEGS) continue;
      const seg = { cid: r.cid, bufOff: r.datao + (lo - r.start), frameOff: poff + (lo - s0), len: hi - lo };
      segs.push(seg);
      keep.fill(0, seg.frameOff, seg.frameOff + seg.len);
      for (let k = 0; k < seg.len; k++) memory.set(sglAddr(sgls[r.which]!, seg.bufOff + k), r.bytes[lo - r.start + k]!);
      placedBytes += seg.len;
    }
    expSegs.push(segs);
    expRing.push(frame.filter((_, i) => keep[i] === 1));
  });

  if (sc.stall) {
    await b.ring.setPauseGenerator(randomPauses(rng, 0.3, 37));
    await b.dma.setPauseGenerator(randomPauses(rng, 0.3, 23));
    await b.cqes.setPauseGenerator(randomPauses(rng, 0.3, 29));
    await b.source.setPauseGenerator(randomPauses(rng, 0.2, 31));
  }
  await b.source.send(frames);
  const ring = await b.ring.recvMany(frames.length);
  const seen = await b.inputs.recvMany(frames.length);
  const cqes = await b.cqes.recvMany(frames.length);
  await ClockCycles(dut.signal("clk"), 10);
  const dmaCount = await b.dma.count();
  const dmas = await b.dma.recvMany(dmaCount);

  // Host memory from the DMA requests.
  const got = new Map<bigint, number>();
  for (const d of dmas) {
    const len0 = Number(d.values.len0);
    const len1 = Number(d.values.len1);
    for (let k = 0; k < len0 + len1; k++) {
      const addr = k < len0 ? d.values.addr0 + BigInt(k) : d.values.addr1 + BigInt(k - len0);
      expect(got.has(addr), `address 0x${addr.toString(16)} written twice`).toBe(false);
      got.set(addr, Number((d.values.data >> BigInt(8 * k)) & 0xffn));
    }
  }
  expect(got.size, "bytes written by DMA").toBe(memory.size);
  for (const [addr, v] of memory) expect(got.get(addr), `host byte at 0x${addr.toString(16)}`).toBe(v);

  frames.forEach((frame, j) => {
    const label = `frame ${j} (${frame.length} bytes, stream ${starts[j]})`;
    expect(Buffer.from(ring[j]!.tdata).equals(Buffer.from(expRing[j]!)), `${label}: ring bytes`).toBe(true);
    const c = cqes[j]!.values as Record<string, bigint>;
    const segs = expSegs[j]!;
    expect([c.hit, c.ctx, c.crc_ok, c.nseg, c.resync], `${label}: CQE`).toEqual([1n, BigInt(ctx), sc.ddgst ? 1n : 0n, BigInt(segs.length), 0n]);
    segs.forEach((s, i) => {
      expect([c[`seg${i}_cid`], c[`seg${i}_buf_off`], c[`seg${i}_frame_off`], c[`seg${i}_len`]], `${label}: segment ${i}`)
        .toEqual([BigInt(s.cid), BigInt(s.bufOff), BigInt(s.frameOff), BigInt(s.len)]);
    });
    if (!sc.stall) expect(ring[j]!.start! - seen[j]!.start!, `${label}: latency`).toBe(latency);
  });

  const bytesStat = await command(b, cmd({ op: OP.STATS_GET, tag: 90, index: 1 }));
  expect(Number(bytesStat.data), "rx_nvme_tcp_bytes").toBe(placedBytes);
  const crcOk = await command(b, cmd({ op: OP.STATS_GET, tag: 91, index: 4 }));
  expect(Number(crcOk.data), "pdus_crc_ok").toBe(sc.ddgst ? c2hPdus : 0);
  console.log(`[ddp_top] ${frames.length} frames, ${c2hPdus} C2HData PDUs, ${placedBytes} bytes placed, ${dmas.length} DMA requests, latency ${latency}`);
}

describeRtl("ddp_top", { top: "ddp_top", ports: ["clk"] }, (rtl) => {
  rtl.test("resync: lost header, one RESYNC_REQUEST, wrong confirms ignored, confirm resumes at the next PDU", async ({ dut, rng }) => {
    await runResync(dut, rng, { hdgst: true, ddgst: true, mss: [200, 1460], fake: false, wrap: false, timeout: DEFAULT_TIMEOUT });
  });
  rtl.test("resync: false candidate in data, miss, the scan finds the true header; tiny frames, seq wrap", async ({ dut, rng }) => {
    await runResync(dut, rng, { hdgst: false, ddgst: true, mss: [1, 40], fake: true, wrap: true, timeout: DEFAULT_TIMEOUT });
  });
  rtl.test("resync: confirm exactly at a PDU boundary offloads that PDU", async ({ dut, rng }) => {
    await runResync(dut, rng, { hdgst: true, ddgst: true, mss: [20, 300], fake: false, wrap: false, timeout: DEFAULT_TIMEOUT, aligned: true });
  });
  rtl.test("resync: confirm inside the candidate's DATA: its rest is placed (crc_ok 0), the next PDUs fully", async ({ dut, rng }) => {
    await runResync(dut, rng, { hdgst: true, ddgst: true, mss: [100, 1460], fake: false, wrap: false, timeout: DEFAULT_TIMEOUT, confirmIn: "data" });
  });
  rtl.test("resync: confirm inside the candidate's PAD (cpda 15, HDGST): all its data is placed, crc_ok 0", async ({ dut, rng }) => {
    await runResync(dut, rng, { hdgst: true, ddgst: true, mss: [20, 600], fake: false, wrap: true, timeout: DEFAULT_TIMEOUT, confirmIn: "pad", cpda: 15 });
  });
  rtl.test("resync: confirm inside the candidate's DDGST: its digest is not counted, the next PDUs fully", async ({ dut, rng }) => {
    await runResync(dut, rng, { hdgst: false, ddgst: true, mss: [8, 500], fake: false, wrap: false, timeout: DEFAULT_TIMEOUT, confirmIn: "ddgst" });
  });
  rtl.test("resync: confirm inside the candidate's DATA with its tag torn down: nothing of that command placed", async ({ dut, rng }) => {
    await runResync(dut, rng, { hdgst: false, ddgst: false, mss: [100, 1460], fake: false, wrap: false, timeout: DEFAULT_TIMEOUT, confirmIn: "data", noTag: true });
  });
  rtl.test("resync: false candidate, no digests, MTU frames", async ({ dut, rng }) => {
    await runResync(dut, rng, { hdgst: false, ddgst: false, mss: [100, 1460], fake: true, wrap: false, timeout: DEFAULT_TIMEOUT });
  });
  rtl.test("in-order C2HData, MTU frames, digests on", async ({ dut, rng }) => {
    await run(dut, rng, { hdgst: true, ddgst: true, mss: [200, 1460], pdus: 30, maxData: 3000, stall: false });
  });
  rtl.test("small PDUs, tiny frames (headers split across packets), no header digest", async ({ dut, rng }) => {
    await run(dut, rng, { hdgst: false, ddgst: true, mss: [1, 40], pdus: 40, maxData: 40, stall: false });
  });
  rtl.test("jumbo frames, digests on", async ({ dut, rng }) => {
    await run(dut, rng, { hdgst: true, ddgst: true, mss: [7000, 9100], pdus: 12, maxData: 12000, stall: false });
  });
  rtl.test("many small PDUs per frame, no digests, back-pressure and idle", async ({ dut, rng }) => {
    await run(dut, rng, { hdgst: false, ddgst: false, mss: [100, 1460], pdus: 60, maxData: 30, stall: true });
  });
});

// ---------------------------------------------------------------------------------------------------------
// Resync (contract section 7). A stream of PDUs is cut into frames; one frame that holds a PDU header is lost,
// so the context enters SEARCH at the next frame. Golden: `walk` below, a byte-serial reading of section 7
// written here (scan every position from the first byte after the gap, first candidate wins, then follow plen
// from header to header; a failed header is a miss and the scan restarts at its second byte; a header boundary
// more than RESYNC_TIMEOUT bytes past the candidate drops it and the scan restarts there). Checked: the
// RESYNC_REQUEST events (seq of the candidate's type byte) and the CQE of the frame holding each candidate's
// 24th byte; nothing placed and crc_ok = 0 while searching or waiting; confirms for other seqs ignored; after
// the confirm, placement of every C2HData PDU from the next PDU boundary on, and of the rest of the PDU in
// progress from the first later frame that starts in its PAD, DATA or DDGST if it is a C2HData, with crc_ok 0
// on the frames carrying its bytes (host memory rebuilt from the DMA requests equals the golden one: nothing
// else written); counters.

const DEFAULT_TIMEOUT = 1048576;
const STAT = { DROP: 2, RESYNC: 3, SEARCHES: 8, CONFIRMS: 11, TIMEOUTS: 12, MISSES: 13 } as const;

interface HdrCfg { hdgst: boolean; ddgst: boolean; cpda: number; timeout: number }

function u32le(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** Contract section 5's header check of the 24 bytes at `at`. */
function hdrOk(b: Uint8Array, at: number, cfg: HdrCfg): boolean {
  const [type, flags, hlen, pdo] = [b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!];
  const plen = u32le(b, at + 4);
  const datal = u32le(b, at + 16);
  const tot = cfg.hdgst ? 28 : 24;
  if (hlen !== 24 || ((flags & 1) === 1) !== cfg.hdgst) return false;
  switch (type) {
    case 0x07:
      return ((flags & 2) === 2) === cfg.ddgst && datal >= 1 && pdo >= tot && pdo % ((cfg.cpda + 1) * 4) === 0 && plen === pdo + datal + (cfg.ddgst ? 4 : 0);
    case 0x05:
    case 0x09:
      return pdo === 0 && plen === tot && (flags & 2) === 0;
    case 0x03:
      return pdo === 0 && plen >= 24 && plen <= 152;
    default:
      return false;
  }
}

/** Bytes of the PDU whose header is at `at` (non-data PDUs: at least the header and its digest). */
function pduLen(b: Uint8Array, at: number, cfg: HdrCfg): number {
  const plen = u32le(b, at + 4);
  return b[at] === 0x07 ? plen : Math.max(plen, cfg.hdgst ? 28 : 24);
}

type ResyncEv = { kind: "req"; s: number } | { kind: "miss"; at: number } | { kind: "tmo"; at: number };

/** Section 7 over the in-order bytes [from, to) of `st` (stream offsets), scanning from `from`. */
function walk(st: Uint8Array, from: number, to: number, cfg: HdrCfg): { events: ResyncEv[]; cand: number | null } {
  const events: ResyncEv[] = [];
  let scan = from;
  let cand: number | null = null;
  let h = 0;
  for (;;) {
    if (cand === null) {
      let s = scan;
      while (s + 24 <= to && !hdrOk(st, s, cfg)) s++;
      if (s + 24 > to) return { events, cand };
      events.push({ kind: "req", s });
      cand = s;
      h = s + pduLen(st, s, cfg);
    } else {
      if (h > to) return { events, cand };
      if (h - cand > cfg.timeout) {
        events.push({ kind: "tmo", at: h });
        cand = null;
        scan = h;
        continue;
      }
      if (h + 24 > to) return { events, cand };
      if (!hdrOk(st, h, cfg)) {
        events.push({ kind: "miss", at: h });
        cand = null;
        scan = h + 1;
        continue;
      }
      h += pduLen(st, h, cfg);
    }
  }
}

interface ResyncScenario {
  hdgst: boolean; ddgst: boolean; mss: [number, number]; fake: boolean; wrap: boolean; timeout: number;
  /** The confirm arrives exactly at a PDU boundary (the frames before it end there): that PDU is offloaded. */
  aligned?: boolean;
  /** Bytes the stream runs on past the first candidate before the confirm (timeouts need some). */
  span?: number;
  /** The confirm arrives with the frames before it ending inside the candidate's (a C2HData) PAD, DATA or DDGST. */
  confirmIn?: "pad" | "data" | "ddgst";
  /** cpda of the context (the target pads C2HData to its alignment). */
  cpda?: number;
  /** The candidate PDU's tag is torn down before the confirm: nothing of that command is placed after it. */
  noTag?: boolean;
}

async function runResync(dut: DutMethods, rng: Rng, sc: ResyncScenario): Promise<void> {
  const b = bench(dut);
  const cfg: HdrCfg = { hdgst: sc.hdgst, ddgst: sc.ddgst, cpda: sc.cpda ?? 0, timeout: sc.timeout };
  const flow: FlowAddress = {
    srcMac: "02:00:00:00:00:01", dstMac: "02:00:00:00:00:02", ipVersion: 4,
    srcIp: "10.0.0.1", dstIp: "10.0.0.2", srcPort: 4420, dstPort: rng.range(30000, 60000),
  };
  const ctx = rng.int(8);
  const dg = { hdgst: sc.hdgst, ddgst: sc.ddgst, pda: sc.cpda ?? 0 };

  // The stream: C2HData PDUs of two commands (datao ascending), some CapsuleResp / R2T between them. PDU X
  // (the 4th C2HData) loses its header; with `fake`, X's data holds a C2HData header that passes the check,
  // whose plen leads into X's data again (random bytes: a miss).
  const cids = [rng.int(0x10000), 0];
  cids[1] = (cids[0]! + 1 + rng.int(0xfffe)) & 0xffff;
  const nPdus = 24;
  const xIndex = 3;
  const parts: Uint8Array[] = [];
  const runs: Array<{ start: number; hdr: number; len: number; which: number; datao: number; bytes: Uint8Array }> = [];
  const nextOff = [0, 0];
  let at = 0;
  for (let i = 0; i < nPdus; i++) {
    if (i !== xIndex && i !== xIndex + 1 && rng.chance(0.3)) {
      const other: Pdu = rng.chance(0.5)
        ? { kind: "CapsuleResp", cqe: { result: 0n, sqHead: 1, sqId: 1, cid: rng.int(0x10000), status: 0 } }
        : { kind: "R2T", cccid: rng.int(0x10000), ttag: 1, r2to: 0, r2tl: 4096 };
      const bytes = encodePdu(other, dg);
      parts.push(bytes);
      at += bytes.length;
    }
    const which = rng.int(2);
    const len = i === xIndex ? rng.range(400, 1500) : i === xIndex + 1 && sc.confirmIn ? rng.range(300, 1200) : rng.range(1, 1200);
    const data = rng.bytes(len);
    if (i === xIndex && sc.fake) {
      const tot = sc.hdgst ? 28 : 24;
      const fakeDatal = rng.range(20, 100);
      const fake = new Uint8Array(24);
      const v = new DataView(fake.buffer);
      fake.set([0x07, (sc.hdgst ? 1 : 0) | (sc.ddgst ? 2 : 0), 24, Math.ceil(tot / (4 * (cfg.cpda + 1))) * 4 * (cfg.cpda + 1)]);
      v.setUint32(4, fake[3]! + fakeDatal + (sc.ddgst ? 4 : 0), true);
      v.setUint16(8, cids[0]!, true);
      v.setUint32(16, fakeDatal, true);
      data.set(fake, 120);
    }
    const datao = nextOff[which]!;
    nextOff[which]! += len;
    const bytes = encodePdu({ kind: "C2HData", cccid: cids[which]!, datao, last: false, success: false, data }, dg);
    runs.push({ start: at + bytes[3]!, hdr: at, len, which, datao, bytes: data });
    parts.push(bytes);
    at += bytes.length;
  }
  const stream = new Uint8Array(at);
  let o = 0;
  for (const p of parts) { stream.set(p, o); o += p.length; }
  const x = runs[xIndex]!;

  // Frames: random sizes up to the lost one, which covers X's header and ends in X's data before byte 120.
  const lostFrom = x.hdr - rng.range(1, 20);
  const lostTo = x.start + rng.range(1, 60);
  const isn = sc.wrap ? (2 ** 32 - lostTo - rng.range(0, 300)) >>> 0 : rng.u32();
  const starts: number[] = [];
  const cutTo = (from: number, to: number): void => {
    for (let s = from; s < to;) {
      starts.push(s);
      s += Math.min(to - s, rng.range(sc.mss[0], sc.mss[1]));
    }
  };
  cutTo(0, lostFrom);
  const lost = starts.length;
  starts.push(lostFrom);
  // Aligned: a frame ends exactly at the end of the PDU that follows X (the first header after the gap).
  let h1 = lostTo;
  while (!hdrOk(stream, h1, cfg)) h1++;
  const h2 = h1 + pduLen(stream, h1, cfg);
  // confirmIn: a frame ends at `cp`, inside the candidate PDU (X + 1, a C2HData) past its header and HDGST.
  const y = runs[xIndex + 1]!;
  const hd = sc.hdgst ? 4 : 0;
  const cp = !sc.confirmIn ? -1
    : sc.confirmIn === "pad" ? y.hdr + 24 + hd + rng.int(y.start - y.hdr - 24 - hd)
    : sc.confirmIn === "data" ? y.start + rng.range(1, y.len - 1)
    : y.start + y.len + rng.range(1, 3);
  if (sc.confirmIn) {
    expect([h1, y.hdr], "the candidate is X + 1's header").toEqual([y.hdr, y.hdr]);
    expect(cp - y.hdr, "a frame ends past the candidate's header and HDGST").toBeGreaterThanOrEqual(24 + hd);
    cutTo(lostTo, cp);
    cutTo(cp, stream.length);
  } else if (sc.aligned) {
    cutTo(lostTo, h2);
    cutTo(h2, stream.length);
  } else {
    cutTo(lostTo, stream.length);
  }
  const endOf = (j: number): number => (j + 1 < starts.length ? starts[j + 1]! : stream.length);
  const frames = starts.map((s, j) => buildTcpFrame({ ...flow, seq: (isn + s) >>> 0, ack: 0, flags: { ack: true }, payload: stream.subarray(s, endOf(j)) }));
  const frameOf = (pos: number): number => {
    let j = 0;
    while (j + 1 < starts.length && starts[j + 1]! <= pos) j++;
    return j;
  };

  // Golden, part 1: frames up to M (a few frames after the one where a candidate is found that is still
  // pending at M's end) are sent; nothing from the lost frame on is placed.
  let m = sc.confirmIn ? frameOf(cp) - 1 : sc.aligned ? frameOf(h2) - 1 : frameOf(walk(stream, lostTo, stream.length, cfg).events.find((e) => e.kind === "req")!.s + 23 + (sc.span ?? 0)) + rng.range(1, 3);
  // (Software confirms only a seq where its stream has a PDU header: never the false candidate.)
  const realHeaders = new Set<number>();
  for (let h = 0; h < stream.length; h += pduLen(stream, h, cfg)) realHeaders.add(h);
  let w1 = walk(stream, lostTo, endOf(m), cfg);
  while (w1.cand === null || !realHeaders.has(w1.cand)) w1 = walk(stream, lostTo, endOf(++m), cfg);
  expect(m, "the confirmed candidate is found before the stream ends").toBeLessThan(starts.length - 2);
  const cand = w1.cand!;
  const q = endOf(m);
  // Resume point: the next PDU boundary at or after q in the candidate's framing; the PDU in progress at q.
  let resume = cand;
  let inProg = -1;
  while (resume < q) {
    inProg = resume;
    resume += pduLen(stream, resume, cfg);
  }
  // A C2HData in progress: its rest is placed from the first frame after the confirm that starts in its PAD,
  // DATA or DDGST (not in its header or HDGST), at the tag lookup made then.
  const rest = resume > q ? runs.find((r) => r.hdr === inProg) : undefined;
  const restFrom = rest ? starts.findIndex((s0, j) => j > m && s0 >= rest.hdr + 24 + (sc.hdgst ? 4 : 0) && s0 < resume) : -1;
  if (sc.confirmIn) expect([rest?.hdr, restFrom], "confirm inside the candidate: its rest is placed from frame M + 1").toEqual([y.hdr, m + 1]);
  const untagged = sc.noTag ? y.which : -1;
  if (sc.aligned) expect([cand, q, resume], "aligned confirm: candidate, confirm point, resume").toEqual([h1, h2, h2]);
  const reqs = w1.events.filter((e): e is { kind: "req"; s: number } => e.kind === "req");

  const latency = Number((await command(b, cmd({ op: OP.LIMITS_GET, tag: 1, index: 7 }))).data);
  const add = await command(b, cmd({
    op: OP.CTX_ADD, tag: 2, ctx, src_ip: ipv4(flow.srcIp), dst_ip: ipv4(flow.dstIp), src_port: flow.srcPort,
    dst_port: flow.dstPort, seq: isn, flags: (sc.hdgst ? 1 : 0) | (sc.ddgst ? 2 : 0), cpda: cfg.cpda,
  }));
  expect(add.status, "CTX_ADD").toBe(0);
  const sgls = nextOff.map((n) => randomSgl(rng, Math.max(n, 1)));
  for (let t = 0; t < 2; t++) {
    const sgl = sgls[t]!;
    await b.cmds.send(sgl.map((e, i) => cmd({ op: OP.TAG_SETUP, tag: 10 + t, ctx, cid: cids[t]!, addr: e.addr, len: e.len, flags: i === sgl.length - 1 ? 1 : 0 })));
    const e = await b.evts.recv();
    expect([Number(e.values.tag), Number(e.values.status)], `TAG_SETUP ${t}`).toEqual([10 + t, 0]);
  }

  // Golden per frame: segments (placed runs: every run before the loss, runs from `resume` after the confirm).
  const memory = new Map<bigint, number>();
  const expSegs: Seg[][] = [];
  const expCrc: boolean[] = [];
  const sent = starts.map((_, j) => j).filter((j) => j !== lost);
  for (const j of sent) {
    const s0 = starts[j]!;
    const e0 = endOf(j);
    const poff = parseFrame(frames[j]!).payloadOffset;
    const segs: Seg[] = [];
    const live = j < lost ? runs.filter((r) => r.start + r.len <= lostFrom || r.start < lostFrom)
      : j > m ? runs.filter((r) => (r.hdr >= resume || (r === rest && restFrom >= 0 && j >= restFrom)) && r.which !== untagged) : [];
    for (const r of live) {
      const lo = Math.max(r.start, s0);
      const hi = Math.min(r.start + r.len, e0, j < lost ? lostFrom : e0);
      if (lo >= hi || segs.length === MAX_SEGS) continue;
      const seg = { cid: cids[r.which]!, bufOff: r.datao + (lo - r.start), frameOff: poff + (lo - s0), len: hi - lo };
      segs.push(seg);
      for (let k = 0; k < seg.len; k++) memory.set(sglAddr(sgls[r.which]!, seg.bufOff + k), r.bytes[lo - r.start + k]!);
    }
    expSegs[j] = segs;
    expCrc[j] = sc.ddgst && (j < lost || (j > m && s0 >= resume));
  }

  // Part 1: up to M. RESYNC_REQUESTs as the golden walk, each on the CQE of the frame with its 24th byte.
  const part1 = sent.filter((j) => j <= m);
  const part2 = sent.filter((j) => j > m);
  const got = new Map<bigint, number>();
  const check = async (idx: number[]): Promise<void> => {
    await b.source.send(idx.map((j) => frames[j]!));
    const ring = await b.ring.recvMany(idx.length);
    const seen = await b.inputs.recvMany(idx.length);
    const cqes = await b.cqes.recvMany(idx.length);
    await ClockCycles(dut.signal("clk"), 10);
    for (const d of await b.dma.recvMany(await b.dma.count())) {
      const len0 = Number(d.values.len0);
      for (let k = 0; k < len0 + Number(d.values.len1); k++) {
        const addr = k < len0 ? d.values.addr0 + BigInt(k) : d.values.addr1 + BigInt(k - len0);
        expect(got.has(addr), `address 0x${addr.toString(16)} written twice`).toBe(false);
        got.set(addr, Number((d.values.data >> BigInt(8 * k)) & 0xffn));
      }
    }
    idx.forEach((j, n) => {
      const label = `frame ${j} (stream ${starts[j]}..${endOf(j)}, lost ${lostFrom}..${lostTo}, cand ${cand}, resume ${resume})`;
      const c = cqes[n]!.values as Record<string, bigint>;
      const segs = expSegs[j]!;
      const inFrame = reqs.filter((r) => r.s + 23 >= starts[j]! && r.s + 23 < endOf(j));
      const rr = inFrame.length > 0 ? (isn + inFrame[inFrame.length - 1]!.s) >>> 0 : 0;
      expect([c.hit, c.ctx, c.crc_ok, c.nseg, c.resync, c.resync_seq], `${label}: CQE`)
        .toEqual([1n, BigInt(ctx), expCrc[j] ? 1n : 0n, BigInt(segs.length), inFrame.length > 0 ? 1n : 0n, BigInt(rr)]);
      segs.forEach((s, i) => {
        expect([c[`seg${i}_cid`], c[`seg${i}_buf_off`], c[`seg${i}_frame_off`], c[`seg${i}_len`]], `${label}: segment ${i}`)
          .toEqual([BigInt(s.cid), BigInt(s.bufOff), BigInt(s.frameOff), BigInt(s.len)]);
      });
      const keep = new Uint8Array(frames[j]!.length).fill(1);
      for (const s of segs) keep.fill(0, s.frameOff, s.frameOff + s.len);
      expect(Buffer.from(ring[n]!.tdata).equals(Buffer.from(frames[j]!.filter((_, i) => keep[i] === 1))), `${label}: ring`).toBe(true);
      expect(ring[n]!.start! - seen[n]!.start!, `${label}: latency`).toBe(latency);
    });
  };
  await check(part1);
  const evs = await b.evts.recvMany(await b.evts.count());
  expect(evs.map((e) => [Number(e.values.kind), Number(e.values.ctx), Number(e.values.seq)]), "RESYNC_REQUESTs")
    .toEqual(reqs.map((r) => [2, ctx, (isn + r.s) >>> 0]));
  const stat = async (index: number): Promise<number> => Number((await command(b, cmd({ op: OP.STATS_GET, tag: 80 + index, index }))).data);
  const misses = w1.events.filter((e) => e.kind === "miss").length;
  const tmos = w1.events.filter((e) => e.kind === "tmo").length;
  expect([await stat(STAT.DROP), await stat(STAT.SEARCHES), await stat(STAT.RESYNC), await stat(STAT.MISSES), await stat(STAT.TIMEOUTS), await stat(STAT.CONFIRMS)],
    "drop, searches, resync, misses, timeouts, confirms").toEqual([1, 1, reqs.length, misses, tmos, 0]);
  if (sc.fake) expect(misses, "the false candidate was missed").toBeGreaterThan(0);
  if (sc.timeout < DEFAULT_TIMEOUT) expect(tmos, "timeouts").toBeGreaterThan(0);

  if (sc.noTag) {
    await b.cmds.send([cmd({ op: OP.TAG_TEARDOWN, tag: 20, ctx, cid: cids[y.which]!, cookie: 5 })]);
    const td = await b.evts.recvMany(2);
    expect(td.map((e) => [Number(e.values.kind), Number(e.values.status)]), "TAG_TEARDOWN: completion OK, TEARDOWN_DONE").toEqual([[1, 0], [3, 0]]);
  }
  // Confirms: an older candidate's seq, a wrong seq, an unused context, an out-of-range one: ignored / refused.
  const rs = async (tag: number, c: number, seq: number): Promise<number> => (await command(b, cmd({ op: OP.RESYNC, tag, ctx: c, seq: seq >>> 0 }))).status;
  if (reqs.length > 1) expect(await rs(30, ctx, isn + reqs[0]!.s), "confirm of a dropped candidate").toBe(0);
  expect(await rs(31, ctx, isn + cand + 1), "confirm of a wrong seq").toBe(0);
  expect(await rs(32, ctx, isn + cand - 24), "confirm of a wrong seq").toBe(0);
  expect(await rs(33, (ctx + 1) % 8, isn + cand), "confirm for an unused context").toBe(4);
  expect(await rs(34, 200, isn + cand), "confirm for an out-of-range context").toBe(2);
  expect(await stat(STAT.CONFIRMS), "no confirm yet").toBe(0);
  expect(await rs(35, ctx, isn + cand), "confirm").toBe(0);
  expect(await stat(STAT.CONFIRMS), "confirms").toBe(1);
  expect(await rs(36, ctx, isn + cand), "second confirm").toBe(0);
  expect(await stat(STAT.CONFIRMS), "a second confirm is ignored").toBe(1);

  // Part 2: the rest. Placement from `resume` on; no more requests.
  await check(part2);
  expect(await b.evts.count(), "events after the confirm").toBe(0);
  expect(got.size, "bytes written by DMA").toBe(memory.size);
  for (const [addr, v] of memory) expect(got.get(addr), `host byte at 0x${addr.toString(16)}`).toBe(v);
  expect([await stat(STAT.RESYNC), await stat(STAT.MISSES), await stat(STAT.TIMEOUTS), await stat(STAT.SEARCHES)], "counters at the end")
    .toEqual([reqs.length, misses, tmos, 1]);
  // Digests counted: PDUs complete before the loss and from `resume` on (not the PDU whose rest was placed).
  const crcPdus = sc.ddgst ? runs.filter((r) => r.start + r.len + 4 <= lostFrom || r.hdr >= resume).length : 0;
  expect([await stat(4), await stat(5)], "pdus_crc_ok, pdus_crc_bad").toEqual([crcPdus, 0]);
  console.log(`[ddp_top resync] ${frames.length} frames (1 lost), requests at ${reqs.map((r) => r.s).join(",")}, misses ${misses}, timeouts ${tmos}, confirmed ${cand}, resumed at ${resume}, ${memory.size} bytes placed`);
}

// A short RESYNC_TIMEOUT: candidates are dropped at the first PDU boundary more than 700 bytes past them, and
// the scan restarts there (it finds that header at once: one more RESYNC_REQUEST per timeout).
describeRtl("ddp_top RESYNC_TIMEOUT=700", { top: "ddp_top", params: { RESYNC_TIMEOUT: 700 }, ports: ["clk"] }, (rtl) => {
  rtl.test("resync: timeouts, then a confirm", async ({ dut, rng }) => {
    await runResync(dut, rng, { hdgst: true, ddgst: true, mss: [30, 900], fake: false, wrap: false, timeout: 700, span: 4000 });
  });
  rtl.test("resync: false candidate, miss, timeouts, tiny frames, seq wrap", async ({ dut, rng }) => {
    await runResync(dut, rng, { hdgst: false, ddgst: true, mss: [1, 60], fake: true, wrap: true, timeout: 700, span: 3000 });
  });
});
