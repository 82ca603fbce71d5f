// ddp_top end-to-end smoke test: CTX_ADD, TAG_SETUP of two read buffers (random SGLs), then an in-order
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
  type Rng,
} from "../../tb/index.js";
import { encodePdu, type Pdu } from "../../src/nvme/pdu.js";
import { parseFrame, type FlowAddress } from "../../src/net/frame.js";
import { TcpStreamSender } from "../../src/net/tcp-sender.js";

const MAX_SEGS = 4;
const MIN_SGL_LEN = 8;
const OP = { CTX_ADD: 1, TAG_SETUP: 3, LIMITS_GET: 8, STATS_GET: 9 } as const;

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

/** A random SGL of `total` bytes: entries of at least MIN_SGL_LEN bytes (the last may be shorter), at page-ish addresses. */
function randomSgl(rng: Rng, total: number): Sgl[] {
  const out: Sgl[] = [];
  let left = total;
  while (left > 0) {
    // At most MAX_SGL (16) entries: each takes at least its share of what is left.
    const share = Math.ceil(left / (16 - out.length));
    const len = left <= 2 * MIN_SGL_LEN || out.length === 15 ? left : rng.range(Math.max(MIN_SGL_LEN, share), Math.max(MIN_SGL_LEN, share, Math.min(left, 3000)));
    out.push({ addr: (BigInt(rng.range(1, 0xffff)) << 32n) | BigInt(rng.int(0x100000) * 16 + rng.int(16)), len });
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
    await b.ring.setPauseGenerator([...Array.from({ length: 37 }, () => rng.chance(0.3)), false]);
    await b.dma.setPauseGenerator([...Array.from({ length: 23 }, () => rng.chance(0.3)), false]);
    await b.cqes.setPauseGenerator([...Array.from({ length: 29 }, () => rng.chance(0.3)), false]);
    await b.source.setPauseGenerator([...Array.from({ length: 31 }, () => rng.chance(0.2)), false]);
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
