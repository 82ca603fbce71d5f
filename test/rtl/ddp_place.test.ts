// ddp_place smoke test: hand-built tracker beats (the golden is the beat list itself plus src/pdu/crc32c.ts).
//   - digest: a PDU's data spread over three beats and its DDGST over two; the frame's CQE has crc_ok = 1 when
//     the digest matches, 0 (and a crc_bad pulse) when it does not; the ring frame is unchanged (no placement);
//   - placement: five PDUs in one frame, each with 8 data lanes in its own beat, a tag table answering "hit" and
//     resolving every beat to one piece: the first MAX_SEGS (4) are placed (tkeep cleared, one DMA write each with the beat's
//     bytes, CQE segments with cid / buf_off / frame_off / len), the fifth stays in the ring;
//   - the placement decision at the header, term by term (contract section 4): a PDU is placed exactly when it
//     is a C2HData, the nvme-tcp cap is on, the lookup hits, and datao + datal <= the buffer's total length,
//     computed without 32-bit wrap (at the limit, one past it, and sums of 2^32 and more); a beat is placed only
//     when its resolve says the entry is still the one the header found (rs_ok): a teardown between two frames
//     of a PDU stops the rest of it.
// The tag table's outputs are held constant here (ddp_place samples them LK_LAT / RS_LAT advances after asking).

import { expect } from "vitest";
import { AxiStreamSink, ClockCycles, defineStream, describeRtl, type Dut } from "../../tb/index.js";
import { crc32c } from "../../src/pdu/crc32c.js";

const FIELDS = ["data", "keep", "last", "sof", "beat", "hit", "ctx", "crc_base", "crc_kill", "gap", "hdr_done", "hdr_c2h", "hdr_cid",
  "hdr_datao", "hdr_datal", "d_valid", "d_lo", "d_cnt", "d_koff", "d_cont", "g_present", "g_done", "g_value"] as const;
type Field = (typeof FIELDS)[number];
const Beat = defineStream("beat", { fields: FIELDS });
const segFields = [0, 1, 2, 3].flatMap((i) => [`seg${i}_cid`, `seg${i}_buf_off`, `seg${i}_frame_off`, `seg${i}_len`] as const);
const CqeStream = defineStream("cqe", { fields: ["hit", "ctx", "crc_ok", "nseg", ...segFields] });
const Dma = defineStream("dma", { fields: ["addr0", "len0", "addr1", "len1", "data"] });

function word(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let k = bytes.length - 1; k >= 0; k--) v = (v << 8n) | BigInt(bytes[k]!);
  return v;
}

/** One frame's beats: `fields[i]` overrides for beat i; data / keep / sof / last / beat filled in from `bytes`. */
function frame(bytes: Uint8Array, fields: Array<Partial<Record<Field, number | bigint>>>, ctx: number): InstanceType<typeof Beat.Transaction>[] {
  const n = Math.ceil(bytes.length / 8);
  return Array.from({ length: n }, (_, i) => {
    const lanes = Math.min(8, bytes.length - 8 * i);
    const base: Record<Field, number | bigint> = {
      data: word(bytes.subarray(8 * i, 8 * i + lanes)), keep: (1 << lanes) - 1, last: i === n - 1 ? 1 : 0, sof: i === 0 ? 1 : 0,
      beat: i, hit: 1, ctx, crc_base: 1, crc_kill: 0, gap: 0, hdr_done: 0, hdr_c2h: 0, hdr_cid: 0, hdr_datao: 0, hdr_datal: 0,
      d_valid: 0, d_lo: 0, d_cnt: 0, d_koff: 0, d_cont: 0, g_present: 0, g_done: 0, g_value: 0,
    };
    return new Beat.Transaction({ ...base, ...(fields[i] ?? {}) });
  });
}

/** The tag table's answers, held: every lookup hits slot 3, every resolve is one 8-byte piece at `addr`. */
function hitEverywhere(dut: Dut<"clk">, addr: bigint): void {
  for (const [name, v] of [["lk_hit", 1], ["lk_slot", 3], ["rs_ok", 1], ["rs_addr0", addr], ["rs_len0", 8], ["rs_len1", 0], ["rs_addr1", 0]] as const) dut.setValue(name, v);
}

describeRtl("ddp_place", { top: "ddp_place", ports: ["clk"] }, (rtl) => {
  rtl.test("digest check, placement, segment limit", async ({ dut, rng }) => {
    const src = new Beat.Source(dut, "s");
    const ring = new AxiStreamSink(dut, "m_axis_rx");
    const cqes = new CqeStream.Sink(dut, "m_cqe");
    const dma = new Dma.Sink(dut, "m_dma");
    dut.setValue("adv", 1);
    dut.setValue("caps", 3);
    dut.setValue("lk_hit", 0);
    dut.setValue("rs_ok", 1);

    // Digest: 20 data bytes at frame offsets 58..77, DDGST at 78..81.
    const digestFrame = (good: boolean): { bytes: Uint8Array; beats: InstanceType<typeof Beat.Transaction>[] } => {
      const bytes = rng.bytes(96);
      const data = bytes.subarray(58, 78);
      const crc = (crc32c(data) ^ (good ? 0 : 1)) >>> 0;
      const f: Array<Partial<Record<Field, number | bigint>>> = [];
      f[7] = { hdr_done: 1, hdr_c2h: 1, hdr_cid: 0x42, hdr_datao: 0, hdr_datal: 20, d_valid: 1, d_lo: 2, d_cnt: 6, d_koff: 0 };
      f[8] = { d_valid: 1, d_lo: 0, d_cnt: 8, d_koff: 6, d_cont: 1 };
      f[9] = { d_valid: 1, d_lo: 0, d_cnt: 6, d_koff: 14, d_cont: 1, g_present: 1 };
      f[10] = { g_present: 1, g_done: 1, g_value: crc };
      return { bytes, beats: frame(bytes, f, 5) };
    };
    const good = digestFrame(true);
    const bad = digestFrame(false);
    await src.send([...good.beats, ...bad.beats]);
    const r = await ring.recvMany(2);
    const c = await cqes.recvMany(2);
    expect(Buffer.from(r[0]!.tdata).equals(Buffer.from(good.bytes)), "ring frame unchanged").toBe(true);
    expect(Buffer.from(r[1]!.tdata).equals(Buffer.from(bad.bytes)), "ring frame unchanged").toBe(true);
    expect([c[0]!.values.hit, c[0]!.values.ctx, c[0]!.values.crc_ok, c[0]!.values.nseg]).toEqual([1n, 5n, 1n, 0n]);
    expect(c[1]!.values.crc_ok, "bad digest").toBe(0n);
    expect(await dma.count(), "no DMA without a tag").toBe(0);

    // Placement: five PDUs, data in beats 8, 10, 12, 14, 16 (headers pass in beats 7, 9, ...).
    hitEverywhere(dut, 0x1234_5678_0000n);
    dut.setValue("lk_total", 100000);
    const bytes = rng.bytes(8 * 18);
    const f: Array<Partial<Record<Field, number | bigint>>> = [];
    for (let p = 0; p < 5; p++) {
      f[7 + 2 * p] = { hdr_done: 1, hdr_c2h: 1, hdr_cid: 0x100 + p, hdr_datao: 1000 * p, hdr_datal: 8 };
      f[8 + 2 * p] = { d_valid: 1, d_lo: 0, d_cnt: 8, d_koff: 0 };
    }
    await src.send(frame(bytes, f, 1));
    const [placedRing] = await ring.recvMany(1);
    const [cqe] = await cqes.recvMany(1);
    await ClockCycles(dut.signal("clk"), 5);
    const writes = await dma.recvMany(await dma.count());
    const keep = new Uint8Array(bytes.length).fill(1);
    for (let p = 0; p < 4; p++) keep.fill(0, 8 * (8 + 2 * p), 8 * (9 + 2 * p));
    expect(Buffer.from(placedRing!.tdata).equals(Buffer.from(bytes.filter((_, i) => keep[i] === 1))), "ring without the placed bytes").toBe(true);
    const v = cqe!.values as Record<string, bigint>;
    // crc_ok: every PDU with data here has crc_valid and no digest failed (none ends in this frame).
    expect([v.hit, v.ctx, v.crc_ok, v.nseg]).toEqual([1n, 1n, 1n, 4n]);
    for (let p = 0; p < 4; p++) {
      expect([v[`seg${p}_cid`], v[`seg${p}_buf_off`], v[`seg${p}_frame_off`], v[`seg${p}_len`]], `segment ${p}`)
        .toEqual([BigInt(0x100 + p), BigInt(1000 * p), BigInt(8 * (8 + 2 * p)), 8n]);
    }
    expect(writes.length, "DMA writes").toBe(4);
    writes.forEach((w, p) => {
      expect([w.values.addr0, w.values.len0, w.values.len1]).toEqual([0x1234_5678_0000n, 8n, 0n]);
      expect(w.values.data, `DMA data ${p}`).toBe(word(bytes.subarray(8 * (8 + 2 * p), 8 * (9 + 2 * p))));
    });
  });


  rtl.test("placement decision: C2HData, cap, lookup hit, the entry still live, datao + datal against the total (no 32-bit wrap)", async ({ dut, rng }) => {
    const src = new Beat.Source(dut, "s");
    const ring = new AxiStreamSink(dut, "m_axis_rx");
    const cqes = new CqeStream.Sink(dut, "m_cqe");
    const dma = new Dma.Sink(dut, "m_dma");
    dut.setValue("adv", 1);
    dut.setValue("caps", 3);
    hitEverywhere(dut, 0x5000_0000n);

    // One frame of 10 beats: a PDU header passes at beat 7 (unless `hdr` is undefined: the frame continues the
    // PDU of the previous one), its data fills beat 8, or beat 7 itself with `sameBeat` (then only the decision
    // at the header can stop it). What the frame placed: CQE segments and DMA writes.
    const onePdu = async (hdr: { c2h?: number; datao: number; datal: number; sameBeat?: boolean } | undefined): Promise<{ nseg: bigint; writes: number; ring: number }> => {
      const f: Array<Partial<Record<Field, number | bigint>>> = [];
      const data = { d_valid: 1, d_lo: 0, d_cnt: 8, d_koff: hdr === undefined ? 8 : 0 };
      if (hdr !== undefined) f[7] = { hdr_done: 1, hdr_c2h: hdr.c2h ?? 1, hdr_cid: 0x77, hdr_datao: hdr.datao, hdr_datal: hdr.datal, ...(hdr.sameBeat ? data : {}) };
      if (!hdr?.sameBeat) f[8] = data;
      await src.send(frame(rng.bytes(80), f, 2));
      const [r] = await ring.recvMany(1);
      const [c] = await cqes.recvMany(1);
      await ClockCycles(dut.clk, 4);
      const writes = await dma.recvMany(await dma.count());
      expect(writes.length, "one DMA write per placed beat").toBe(Number(c!.values.nseg));
      return { nseg: c!.values.nseg, writes: writes.length, ring: r!.tdata.length };
    };
    const placed = { nseg: 1n, writes: 1, ring: 72 };
    const notPlaced = { nseg: 0n, writes: 0, ring: 80 };
    const total = (n: number | bigint) => dut.setValue("lk_total", BigInt(n));

    // datao + datal against the buffer's total length: at the limit, one past it.
    total(1000);
    expect(await onePdu({ datao: 992, datal: 8 }), "datao + datal == total").toEqual(placed);
    expect(await onePdu({ datao: 993, datal: 8 }), "datao + datal == total + 1").toEqual(notPlaced);
    expect(await onePdu({ datao: 0, datal: 1001 }), "datal > total").toEqual(notPlaced);
    expect(await onePdu({ datao: 1000, datal: 8 }), "datao == total").toEqual(notPlaced);
    // 32-bit sums: 2^32 - 1 fits a total of 2^32 - 1; 2^32 and more must not wrap to a small number.
    total(0xffff_ffffn);
    expect(await onePdu({ datao: 0xffff_fff7, datal: 8 }), "datao + datal == 2^32 - 1 == total").toEqual(placed);
    total(100_000);
    expect(await onePdu({ datao: 0xffff_fff8, datal: 8 }), "datao + datal == 2^32 (wraps to 0)").toEqual(notPlaced);
    expect(await onePdu({ datao: 0xffff_ff00, datal: 0x1000 }), "datao + datal == 2^32 + 0xf00").toEqual(notPlaced);
    expect(await onePdu({ datao: 8, datal: 0xffff_fffc }), "datao + datal == 2^32 + 4").toEqual(notPlaced);
    expect(await onePdu({ datao: 0xffff_ffff, datal: 0xffff_ffff }), "datao + datal == 2^33 - 2").toEqual(notPlaced);
    expect(await onePdu({ datao: 64, datal: 8 }), "an ordinary PDU still places").toEqual(placed);

    // The other terms: C2HData, the lookup's hit, the nvme-tcp cap, the entry still the header's (rs_ok).
    expect(await onePdu({ c2h: 0, datao: 0, datal: 8 }), "not a C2HData").toEqual(notPlaced);
    dut.setValue("lk_hit", 0);
    expect(await onePdu({ datao: 0, datal: 8 }), "lookup miss").toEqual(notPlaced);
    dut.setValue("lk_hit", 1);
    dut.setValue("caps", 2);
    expect(await onePdu({ datao: 0, datal: 8 }), "nvme-tcp cap off").toEqual(notPlaced);
    dut.setValue("caps", 3);
    dut.setValue("rs_ok", 0);
    expect(await onePdu({ datao: 0, datal: 8, sameBeat: true }), "entry gone when the header's beat resolves (data in its beat)").toEqual(notPlaced);
    expect(await onePdu({ datao: 0, datal: 8 }), "entry gone when the data resolves").toEqual(notPlaced);
    dut.setValue("rs_ok", 1);
    expect(await onePdu({ c2h: 0, datao: 0, datal: 8, sameBeat: true }), "not a C2HData (data in its beat)").toEqual(notPlaced);

    // A PDU over two frames: its data in the second frame is placed, unless its entry was torn down in between.
    expect(await onePdu({ datao: 0, datal: 16 }), "first frame of the PDU").toEqual(placed);
    expect(await onePdu(undefined), "second frame of the PDU").toEqual(placed);
    expect(await onePdu({ datao: 0, datal: 16 }), "first frame of the next PDU").toEqual(placed);
    dut.setValue("rs_ok", 0);
    expect(await onePdu(undefined), "second frame after a teardown of its entry").toEqual(notPlaced);
    dut.setValue("rs_ok", 1);
  });
});
