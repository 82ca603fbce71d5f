// ddp_tag_cam smoke test: TAG_SETUP beats build SGLs (random lengths >= 8 bytes, the last shorter); the
// lookup finds (ctx, cid) with its total; the SGL walk of random (offset, count <= 8) windows gives the
// addresses of a golden walk over the SGL written; the setup checks answer BAD_CTX, EXISTS, SGL_TOO_LONG,
// BAD_SGL and TABLE_FULL; a teardown stops the match and frees the entry only after DRAIN pipeline advances.

import { expect } from "vitest";
import { RisingEdge, describeRtl, type Dut } from "../../tb/index.js";

const ST = { OK: 0n, BAD_CTX: 2n, EXISTS: 3n, TABLE_FULL: 5n, SGL_TOO_LONG: 6n, BAD_SGL: 7n } as const;
const N_TAGS = 64;
const MAX_SGL = 16;
const DRAIN = 4;

interface Entry { addr: bigint; len: number }

type P = "clk" | "su_status" | "lk_hit" | "lk_idx" | "lk_total" | "td_found" | "valid";

/** Sends the beats of one TAG_SETUP; returns the status read at the last beat. */
async function setup(dut: Dut<P>, ctx: number, cid: number, sgl: Entry[], ctxOk = true): Promise<bigint> {
  let status = -1n;
  for (let i = 0; i < sgl.length; i++) {
    const last = i === sgl.length - 1;
    // At the last beat, first one edge with su_valid low (nothing changes) to read the combinational status.
    dut.setValue("su_valid", !last);
    dut.setValue("su_first", i === 0);
    dut.setValue("su_last", i === sgl.length - 1);
    dut.setValue("su_ctx_ok", ctxOk);
    dut.setValue("su_ctx", ctx);
    dut.setValue("su_cid", cid);
    dut.setValue("su_addr", sgl[i]!.addr);
    dut.setValue("su_len", sgl[i]!.len);
    await RisingEdge(dut.clk);
    if (last) {
      status = dut.su_status.value;
      dut.setValue("su_valid", 1);
      await RisingEdge(dut.clk);
    }
  }
  dut.setValue("su_valid", 0);
  return status;
}

/** Golden SGL walk: the (addr, len) pieces of bytes [off, off + cnt). */
function walk(sgl: Entry[], off: number, cnt: number): Array<{ addr: bigint; len: number }> {
  const out: Array<{ addr: bigint; len: number }> = [];
  let skip = off;
  let left = cnt;
  for (const e of sgl) {
    if (left === 0) break;
    if (skip >= e.len) { skip -= e.len; continue; }
    const k = Math.min(e.len - skip, left);
    out.push({ addr: e.addr + BigInt(skip), len: k });
    left -= k;
    skip = 0;
  }
  return out;
}

describeRtl("ddp_tag_cam", { top: "ddp_tag_cam", ports: ["clk", "su_status", "lk_hit", "lk_idx", "lk_total", "td_found", "valid"] }, (rtl) => {
  rtl.test("setup, lookup, walk, checks, teardown", async ({ dut, rng }) => {
    dut.setValue("adv", 1);
    const randomSgl = (n: number): Entry[] =>
      Array.from({ length: n }, (_, i) => ({
        addr: (BigInt(rng.u32()) << 32n) | BigInt((rng.u32() & ~0xfff) >>> 0),
        len: i === n - 1 ? rng.range(1, 40) : rng.range(8, 5000),
      }));
    const tags: Array<{ ctx: number; cid: number; sgl: Entry[] }> = [];
    for (let t = 0; t < 6; t++) {
      const tag = { ctx: rng.int(8), cid: rng.int(0x10000), sgl: randomSgl(rng.range(1, MAX_SGL)) };
      expect(await setup(dut, tag.ctx, tag.cid, tag.sgl), `setup ${t}`).toBe(ST.OK);
      tags.push(tag);
    }
    for (const tag of tags) {
      const total = tag.sgl.reduce((n, e) => n + e.len, 0);
      dut.setValue("lk_ctx", tag.ctx);
      dut.setValue("lk_cid", tag.cid);
      await RisingEdge(dut.clk);
      expect(dut.lk_hit.value).toBe(1n);
      expect(dut.lk_total.value).toBe(BigInt(total));
      const idx = dut.lk_idx.value;
      for (let k = 0; k < 40; k++) {
        const cnt = rng.range(1, Math.min(8, total));
        const off = rng.int(total - cnt + 1);
        dut.setValue("rd_idx", idx);
        dut.setValue("rd_off", off);
        dut.setValue("rd_cnt", cnt);
        dut.setValue("rd_en", 1);
        await RisingEdge(dut.clk);
        const want = walk(tag.sgl, off, cnt);
        const got = [
          { addr: dut.getValue("rd_addr0"), len: Number(dut.getValue("rd_len0")) },
          { addr: dut.getValue("rd_addr1"), len: Number(dut.getValue("rd_len1")) },
        ].filter((p) => p.len > 0);
        expect(got, `walk off ${off} cnt ${cnt}`).toEqual(want);
      }
      dut.setValue("rd_en", 0);
    }
    // Checks.
    const t0 = tags[0]!;
    expect(await setup(dut, t0.ctx, t0.cid, randomSgl(2))).toBe(ST.EXISTS);
    expect(await setup(dut, 1, 0x1234, randomSgl(2), false)).toBe(ST.BAD_CTX);
    expect(await setup(dut, 1, 0x1234, randomSgl(MAX_SGL + 2))).toBe(ST.SGL_TOO_LONG);
    expect(await setup(dut, 1, 0x1234, [{ addr: 0n, len: 7 }, { addr: 4096n, len: 100 }])).toBe(ST.BAD_SGL);
    expect(await setup(dut, 1, 0x1234, [{ addr: 0n, len: 100 }, { addr: 4096n, len: 0 }])).toBe(ST.BAD_SGL);
    expect(await setup(dut, 1, 0x1234, [{ addr: 0n, len: 0xffff_fff0 }, { addr: 4096n, len: 0x20 }])).toBe(ST.BAD_SGL);
    expect(dut.valid.value.toString(2).replace(/0/g, "").length).toBe(tags.length);
    // Fill the table, then it is full.
    for (let i = tags.length; i < N_TAGS; i++) expect(await setup(dut, 7, 0x8000 + i, randomSgl(1))).toBe(ST.OK);
    expect(await setup(dut, 7, 0x7fff, randomSgl(1))).toBe(ST.TABLE_FULL);
    // Teardown: found, stops matching; the entry is reusable only after DRAIN advances.
    dut.setValue("td_ctx", t0.ctx);
    dut.setValue("td_cid", t0.cid);
    dut.setValue("adv", 0);
    await RisingEdge(dut.clk);
    expect(dut.td_found.value).toBe(1n);
    dut.setValue("td_valid", 1);
    await RisingEdge(dut.clk);
    dut.setValue("td_valid", 0);
    await RisingEdge(dut.clk);
    expect(dut.td_found.value).toBe(0n);
    expect(await setup(dut, 7, 0x7fff, randomSgl(1))).toBe(ST.TABLE_FULL);
    dut.setValue("adv", 1);
    for (let i = 0; i < DRAIN; i++) await RisingEdge(dut.clk);
    expect(await setup(dut, 7, 0x7fff, randomSgl(1))).toBe(ST.OK);
  });
});
