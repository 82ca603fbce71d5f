// ddp_tx: the transmit data-digest block against docs/tx-contract.md. Oracles: the encoder's digests
// (crc32c from @node-rs/crc32) for every byte a frame must carry on the wire, the untouched input for
// everything else, and the reference model (src/model/tx-model.ts) for whole frames and statistics.

import { expect } from "vitest";
import { encodePdu } from "../../src/pdu/pdu.js";
import { TxKind, TxModel, type TxStats } from "../../src/model/tx-model.js";
import { TX_DESC_FIELDS, txDescFields } from "../../src/device/tx-codec.js";
import { AxiStreamMonitor, AxiStreamSink, AxiStreamSource, ClockCycles, defineStream, describeRtl, PAUSE_VARIANTS, setPauses, type Dut } from "../../tb/index.js";
import { txFlow, txFrame, txScenario, type TxItem, type TxScenario } from "../../tb/traffic/tx.js";

const N_CTX = 64;
const Desc = defineStream("s_desc", { fields: TX_DESC_FIELDS });
const STATS = { packets: "stat_packets", bytes: "stat_bytes", ddgst: "stat_ddgst", ooo: "stat_ooo", resync: "stat_resync", badHdr: "stat_bad_hdr" } as const;
const ports = ["clk", "s_axis_tready", "m_axis_tvalid", ...Object.values(STATS)] as const;
type TxDut = Dut<(typeof ports)[number]>;

/** Sends every item, receives every frame; returns the frames as they left. */
async function run(dut: TxDut, items: readonly TxItem[], pauses?: { rng: Parameters<typeof setPauses>[0]; v: (typeof PAUSE_VARIANTS)[number] }): Promise<Uint8Array[]> {
  const desc = new Desc.Source(dut, "s_desc");
  const source = new AxiStreamSource(dut, "s_axis");
  const sink = new AxiStreamSink(dut, "m_axis");
  if (pauses) await setPauses(pauses.rng, pauses.v, { sources: [desc, source], sinks: [sink] });
  await desc.send(items.map((i) => new Desc.Transaction(txDescFields(i.desc))));
  const frames = items.flatMap((i) => (i.frame ? [i.frame] : []));
  await source.send(frames);
  const out = await sink.recvMany(frames.length);
  await ClockCycles(dut.clk, 10);
  expect(await sink.recvNowait(), "extra frames").toBeUndefined();
  expect(await desc.idle(), "descriptors left").toBe(true);
  return out.map((f) => f.tdata);
}

function modelRun(items: readonly TxItem[]): { frames: Uint8Array[]; stats: TxStats } {
  const m = new TxModel(N_CTX);
  const frames: Uint8Array[] = [];
  for (const i of items) {
    if (i.desc.kind === TxKind.FRAME) frames.push(m.frame(i.desc, i.frame!));
    else m.command(i.desc);
  }
  return { frames, stats: m.stats };
}

function stats(dut: TxDut): TxStats {
  return Object.fromEntries(Object.entries(STATS).map(([k, port]) => [k, Number(dut[port].value)])) as unknown as TxStats;
}

/** Every frame against what the wire must carry (independent of the model) and against the model. */
function check(sc: TxScenario, out: readonly Uint8Array[], dut: TxDut): void {
  const frames = sc.items.filter((i) => i.frame);
  const model = modelRun(sc.items);
  frames.forEach((item, k) => {
    const got = out[k]!;
    const inFrame = item.frame!;
    const { socket, offset, filled } = item.wire!;
    const hlen = item.desc.kind === TxKind.FRAME ? item.desc.hlen : 0;
    const stream = sc.sockets[socket]!.stream;
    const want = (filled ? stream.good : stream.sent).subarray(offset, offset + inFrame.length - hlen);
    const what = `frame ${k} (socket ${socket}, bytes ${offset}+${inFrame.length - hlen}, ${filled ? "filled" : "untouched"})`;
    expect(Buffer.from(got.subarray(0, hlen)).equals(inFrame.subarray(0, hlen)), `${what}: headers`).toBe(true);
    expect(Buffer.from(got.subarray(hlen)).toString("hex"), `${what}: payload`).toBe(Buffer.from(want).toString("hex"));
    expect(Buffer.from(got).equals(model.frames[k]!), `${what}: model`).toBe(true);
  });
  expect(stats(dut)).toEqual(model.stats);
}

describeRtl("ddp_tx DATA_W=64", { top: "ddp_tx", params: { DATA_W: 64, N_CTX }, ports }, (rtl) => {
  for (const v of PAUSE_VARIANTS) {
    rtl.test(`random write streams with retransmissions, ${v.name}`, async ({ dut, rng }) => {
      const sc = txScenario(rng, { sockets: 4, pdusPerSocket: 10, nCtx: N_CTX, retransmit: 0.3 });
      const out = await run(dut, sc.items, { rng, v });
      check(sc, out, dut);
      expect(stats(dut).ddgst, "digests filled").toBeGreaterThan(0);
      expect(stats(dut).resync, "resyncs").toBe(sc.items.filter((i) => i.desc.kind === TxKind.RESYNC).length);
    });
  }

  for (const maxSegment of [1, 3, 1400]) {
    rtl.test(`segments of 1..${maxSegment} bytes`, async ({ dut, rng }) => {
      const sc = txScenario(rng, { sockets: 2, pdusPerSocket: maxSegment === 1 ? 3 : 8, maxSegment, maxData: maxSegment === 1 ? 40 : 2000, nCtx: N_CTX });
      check(sc, await run(dut, sc.items), dut);
    });
  }

  // plen runs past the data the host queued, pdo below the header, plen below a header.
  for (const lie of [{ plen: 4000 }, { pdo: 8 }, { plen: 20 }]) {
    rtl.test(`a host that lies in a header (${JSON.stringify(lie)}): nothing after it is touched`, async ({ dut, rng }) => {
      const flow = txFlow(rng, 0);
      const data = rng.bytes(100);
      const good = encodePdu({ kind: "H2CData", cccid: 1, ttag: 1, datao: 0, last: true, data }, { hdgst: false, ddgst: true });
      const bad = encodePdu({ kind: "H2CData", cccid: 2, ttag: 2, datao: 0, last: true, data }, { hdgst: false, ddgst: true, lies: lie });
      const stream = new Uint8Array([...good, ...bad, ...good]);
      stream.fill(0, good.length - 4, good.length);
      stream.fill(0, stream.length - 4);
      const items: TxItem[] = [{ desc: { kind: TxKind.ADD, ctx: 5, seq: 1000 } }];
      for (let at = 0; at < stream.length; at += 37) items.push(txFrame(flow, 5, true, 1000 + at, stream.subarray(at, at + 37), false));
      const out = await run(dut, items);
      const model = modelRun(items);
      out.forEach((f, k) => expect(Buffer.from(f).equals(model.frames[k]!), `${JSON.stringify(lie)} frame ${k}`).toBe(true));
      const wire = Buffer.concat(out.map((f, k) => f.subarray((items[k + 1]!.desc as { hlen: number }).hlen)));
      expect(wire.subarray(0, good.length).equals(good), `${JSON.stringify(lie)}: the PDU before the lie is filled`).toBe(true);
      expect(wire.subarray(good.length).equals(stream.subarray(good.length)), `${JSON.stringify(lie)}: nothing after it changes`).toBe(true);
      expect(stats(dut).badHdr, JSON.stringify(lie)).toBe(lie.plen === 4000 ? 0 : 1);
    });
  }

  rtl.test("full rate: one beat per cycle, latency 3", async ({ dut, rng }) => {
    const sc = txScenario(rng, { sockets: 3, pdusPerSocket: 20, retransmit: 0, nCtx: N_CTX, maxSegment: 1400, maxData: 3000 });
    const frameItems = sc.items.filter((i) => i.frame);
    const adds = sc.items.filter((i) => i.desc.kind === TxKind.ADD);
    await run(dut, adds);
    const input = new AxiStreamMonitor(dut, "s_axis");
    const out = new AxiStreamSink(dut, "m_axis");
    const desc = new Desc.Source(dut, "s_desc");
    await desc.send(frameItems.map((i) => new Desc.Transaction(txDescFields(i.desc))));
    await new AxiStreamSource(dut, "s_axis").send(frameItems.map((i) => i.frame!));
    const ins = await input.recvMany(frameItems.length);
    const outs = await out.recvMany(frameItems.length);
    const beats = frameItems.reduce((n, i) => n + Math.ceil(i.frame!.length / 8), 0);
    expect(outs.at(-1)!.end! - outs[0]!.start! + 1, "cycles for all beats").toBe(beats);
    outs.forEach((f, k) => expect(f.start! - ins[k]!.start!, `frame ${k} latency`).toBe(3));
  });
});

// At 512 bits a beat can hold the end of one PDU's data and the start of the next one's: that needs a second CRC
// engine (docs/tx-contract.md section 5, not built). The wide build is checked to pass frames of sockets that are
// not offloaded untouched at one beat per cycle.
describeRtl("ddp_tx DATA_W=512", { top: "ddp_tx", params: { DATA_W: 512, N_CTX }, ports }, (rtl) => {
  rtl.test("frames of sockets that are not offloaded pass untouched", async ({ dut, rng }) => {
    const sc = txScenario(rng, { sockets: 3, pdusPerSocket: 8, nCtx: N_CTX, maxSegment: 1400 });
    const items = sc.items.flatMap((i): TxItem[] => (i.desc.kind === TxKind.FRAME ? [{ ...i, desc: { ...i.desc, offload: false } }] : []));
    const out = await run(dut, items, { rng, v: PAUSE_VARIANTS[3]! });
    out.forEach((f, k) => expect(Buffer.from(f).equals(items[k]!.frame!), `frame ${k}`).toBe(true));
    expect(stats(dut).packets).toBe(0);
  });
});
