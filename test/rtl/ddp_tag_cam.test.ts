// ddp_tag_cam smoke test: TAG_SETUP beats build SGLs (random lengths >= 8 bytes, the last shorter); the
// lookup finds (ctx, cid) with its total; the SGL walk of random (offset, count <= 8) windows gives the
// addresses of a golden walk over the SGL written; the setup checks answer BAD_CTX, EXISTS, SGL_TOO_LONG,
// BAD_SGL and TABLE_FULL; a teardown stops the match and frees the entry only after DRAIN pipeline advances.
// Lookups match valid entries only: nothing after reset, not a torn-down entry (lk_hit, td_found), not the
// entries of a deleted context (and those of the other contexts still do); a key is (ctx, cid), both parts
// compared; `inval` pulses exactly the entries a teardown or a context delete removes; a key set up again
// after its teardown finds the new buffer.

import { expect } from "vitest";
import { RisingEdge, describeRtl, type Dut } from "../../tb/index.js";

const ST = { OK: 0n, BAD_CTX: 2n, EXISTS: 3n, TABLE_FULL: 5n, SGL_TOO_LONG: 6n, BAD_SGL: 7n } as const;
const N_TAGS = 64;
const MAX_SGL = 16;
const DRAIN = 4;

interface Entry { addr: bigint; len: number }

type P = "clk" | "su_status" | "lk_hit" | "lk_idx" | "lk_total" | "td_found" | "valid" | "inval";

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

/**
 * An output as the inputs `values` make it before the next edge (inval is combinational from td_valid /
 * del_valid, and the entries it names are gone after the edge): the harness evaluates a poke at once. Inputs
 * set with setValue since the last edge are not applied yet: give every input the output depends on. The
 * values are also queued, so they hold for the next edge.
 */
async function settled(dut: Dut<P>, values: Record<string, number | bigint>, name: P): Promise<bigint> {
  const v = Object.fromEntries(Object.entries(values).map(([k, x]) => [k, BigInt(x)]));
  await dut.sim.call(() => dut.sim.harness.poke(v));
  for (const [k, x] of Object.entries(v)) dut.setValue(k, x);
  return (await dut.sim.call(() => dut.sim.harness.peek([name])))[name]!;
}

/** The combinational lookup of (ctx, cid), read after an edge. */
async function lookup(dut: Dut<P>, ctx: number, cid: number): Promise<{ hit: boolean; idx: bigint; total: bigint }> {
  dut.setValue("lk_ctx", ctx);
  dut.setValue("lk_cid", cid);
  await RisingEdge(dut.clk);
  return { hit: dut.lk_hit.value === 1n, idx: dut.lk_idx.value, total: dut.lk_total.value };
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

describeRtl("ddp_tag_cam", { top: "ddp_tag_cam", ports: ["clk", "su_status", "lk_hit", "lk_idx", "lk_total", "td_found", "valid", "inval"] }, (rtl) => {
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
    const t0Idx = (await lookup(dut, t0.ctx, t0.cid)).idx;
    dut.setValue("td_ctx", t0.ctx);
    dut.setValue("td_cid", t0.cid);
    dut.setValue("adv", 0);
    await RisingEdge(dut.clk);
    expect(dut.td_found.value).toBe(1n);
    expect(dut.inval.value, "no inval without td_valid").toBe(0n);
    expect(await settled(dut, { td_valid: 1 }, "inval"), "inval: exactly the torn-down entry").toBe(1n << t0Idx);
    await RisingEdge(dut.clk);
    dut.setValue("td_valid", 0);
    await RisingEdge(dut.clk);
    expect(dut.td_found.value).toBe(0n);
    expect((await lookup(dut, t0.ctx, t0.cid)).hit, "a torn-down entry does not match a lookup").toBe(false);
    expect(dut.valid.value & (1n << t0Idx), "valid bit cleared").toBe(0n);
    expect(await setup(dut, 7, 0x7fff, randomSgl(1))).toBe(ST.TABLE_FULL);
    dut.setValue("adv", 1);
    for (let i = 0; i < DRAIN; i++) await RisingEdge(dut.clk);
    expect(await setup(dut, 7, 0x7fff, randomSgl(1))).toBe(ST.OK);
  });

  rtl.test("lookups match valid entries only: after reset, teardown and context delete; keys are (ctx, cid)", async ({ dut, rng }) => {
    dut.setValue("adv", 1);
    const sgl = (len: number): Entry[] => [{ addr: BigInt((rng.u32() & ~0xfff) >>> 0) << 12n, len }];
    const total = (e: Entry[]) => BigInt(e.reduce((n, x) => n + x.len, 0));
    // After reset nothing matches: not the all-zero key, not a random one (teardown finds nothing either).
    for (const [ctx, cid] of [[0, 0], [rng.int(8), rng.int(0x10000)], [7, 0xffff]] as const) {
      expect((await lookup(dut, ctx, cid)).hit, `lookup (${ctx}, ${cid}) after reset`).toBe(false);
      dut.setValue("td_ctx", ctx);
      dut.setValue("td_cid", cid);
      await RisingEdge(dut.clk);
      expect(dut.td_found.value, `teardown (${ctx}, ${cid}) after reset`).toBe(0n);
    }
    expect(dut.valid.value).toBe(0n);

    // Keys: the same cid in three contexts, and other cids in those contexts (including cid 0 in ctx 0).
    const cid = 1 + rng.int(0xfffe);
    const keys: Array<{ ctx: number; cid: number; sgl: Entry[]; idx?: bigint }> = [
      { ctx: 0, cid: 0, sgl: sgl(100) },
      { ctx: 1, cid, sgl: sgl(200) },
      { ctx: 2, cid, sgl: sgl(300) },
      { ctx: 5, cid, sgl: sgl(400) },
      { ctx: 2, cid: cid ^ 1, sgl: sgl(500) },
      { ctx: 2, cid: cid ^ 0x8000, sgl: sgl(600) },
    ];
    for (const k of keys) expect(await setup(dut, k.ctx, k.cid, k.sgl), `setup (${k.ctx}, ${k.cid})`).toBe(ST.OK);
    const seen = new Set<bigint>();
    for (const k of keys) {
      const r = await lookup(dut, k.ctx, k.cid);
      expect(r, `lookup (${k.ctx}, ${k.cid})`).toMatchObject({ hit: true, total: total(k.sgl) });
      expect(dut.valid.value & (1n << r.idx), "lk_idx names a valid entry").not.toBe(0n);
      k.idx = r.idx;
      seen.add(r.idx);
    }
    expect(seen.size, "one entry per key").toBe(keys.length);
    expect((await lookup(dut, 3, cid)).hit, "the cid in a context that has none").toBe(false);
    expect((await lookup(dut, 1, cid ^ 1)).hit, "a cid of another context").toBe(false);

    // Teardown of (2, cid): only that entry goes; the same cid in ctx 1 and 5 still matches.
    const byKey = (ctx: number, c: number) => keys.find((k) => k.ctx === ctx && k.cid === c)!;
    expect(await settled(dut, { td_ctx: 2, td_cid: cid, td_valid: 1 }, "inval"), "inval of the teardown").toBe(1n << byKey(2, cid).idx!);
    await RisingEdge(dut.clk);
    dut.setValue("td_valid", 0);
    await RisingEdge(dut.clk);
    expect(dut.inval.value).toBe(0n);
    expect((await lookup(dut, 2, cid)).hit, "torn-down (2, cid)").toBe(false);
    dut.setValue("td_ctx", 2);
    dut.setValue("td_cid", cid);
    await RisingEdge(dut.clk);
    expect(dut.td_found.value, "a second teardown of (2, cid) finds nothing").toBe(0n);
    for (const k of keys.filter((x) => !(x.ctx === 2 && x.cid === cid))) expect((await lookup(dut, k.ctx, k.cid)).hit, `(${k.ctx}, ${k.cid}) still there`).toBe(true);

    // Context delete of ctx 2: its two remaining entries go (inval exactly those), the other contexts stay.
    expect(await settled(dut, { del_ctx: 2, del_valid: 1 }, "inval"), "inval of the context delete").toBe((1n << byKey(2, cid ^ 1).idx!) | (1n << byKey(2, cid ^ 0x8000).idx!));
    await RisingEdge(dut.clk);
    dut.setValue("del_valid", 0);
    await RisingEdge(dut.clk);
    for (const k of keys) {
      const gone = k.ctx === 2;
      expect((await lookup(dut, k.ctx, k.cid)).hit, `(${k.ctx}, ${k.cid}) after deleting ctx 2`).toBe(!gone);
      dut.setValue("td_ctx", k.ctx);
      dut.setValue("td_cid", k.cid);
      await RisingEdge(dut.clk);
      expect(dut.td_found.value, `teardown finds (${k.ctx}, ${k.cid}) after deleting ctx 2`).toBe(gone ? 0n : 1n);
    }
    // A context delete of an empty context invalidates nothing.
    expect(await settled(dut, { del_ctx: 6, del_valid: 1 }, "inval"), "deleting a context without entries").toBe(0n);
    await RisingEdge(dut.clk);
    dut.setValue("del_valid", 0);

    // The torn-down key set up again (after the drain) finds its new buffer, not the old one.
    for (let i = 0; i < DRAIN + 1; i++) await RisingEdge(dut.clk);
    const again = sgl(700);
    expect(await setup(dut, 2, cid, again)).toBe(ST.OK);
    expect(await lookup(dut, 2, cid)).toMatchObject({ hit: true, total: total(again) });
    expect((await lookup(dut, 2, cid ^ 1)).hit, "still deleted").toBe(false);
  });
});
