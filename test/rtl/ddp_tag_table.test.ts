// ddp_tag_table: registered read buffers in RAM: setups (page rules, buckets, pool), teardowns and context
// deletes on the command side; lookups and resolves (where a beat's bytes go, and whether the entry is still the
// one looked up) on the datapath side.
//
// Golden model: src/model/tag-table.ts (TagTable: the contract's section 8, slot by slot), with the SGL walk of
// the contract (sglSlices) for addresses. The bench drives one command beat, one lookup and one resolve per
// cycle and checks after every edge: each command's status when its response is taken (with the model applied
// at that point), and every lookup and resolve LK_LAT / RS_LAT advances after it entered, the outputs holding
// while adv is 0. A lookup or resolve of a key that a command in flight may change is not checked; a resolve
// through an entry torn down before it entered must come out with rs_ok 0.

import { expect } from "vitest";
import { describeRtl, PAUSE_VARIANTS, randomPauses, RisingEdge, type Dut, type Rng } from "../../tb/index.js";
import { type SglEntry, sglPageGranular, sglSlices, Status, type StatusCode } from "../../src/contract/protocol.js";
import { POOL_CHUNK, type TagEntry, TagTable } from "../../src/model/tag-table.js";
import { bucketPairFill } from "../../tb/traffic/buckets.js";

/** Datapath latencies in advances (module header). */
const LK_LAT = 3;
const RS_LAT = 3;
const C_OP = { setup: 0, teardown: 1, ctxDel: 2 } as const;

interface Config {
  N_TAGS: number;
  MAX_SGL: number;
  PAGE: number;
  POOL_PAGES: number;
}

const PORTS = [
  "clk", "init", "c_ready", "r_valid", "r_status", "lk_out_valid", "lk_hit", "lk_slot", "lk_gen", "lk_total",
  "lk_pg_off", "rs_out_valid", "rs_ok", "rs_addr0", "rs_len0", "rs_addr1", "rs_len1", "st_collision", "st_pool_full",
] as const;
type P = (typeof PORTS)[number];

type Cmd =
  | { kind: "setup"; ctx: number; cid: number; sgl: SglEntry[]; ctxOk: boolean }
  | { kind: "teardown"; ctx: number; cid: number }
  | { kind: "ctxDel"; ctx: number };

interface Beat {
  op: number;
  first: boolean;
  last: boolean;
  ctxOk: boolean;
  ctx: number;
  cid: number;
  addr: bigint;
  len: number;
}

function beatsOf(c: Cmd): Beat[] {
  if (c.kind !== "setup") return [{ op: C_OP[c.kind], first: true, last: true, ctxOk: true, ctx: c.ctx, cid: c.kind === "teardown" ? c.cid : 0, addr: 0n, len: 0 }];
  // A setup with no entries still sends one (empty, hence bad) beat.
  const sgl = c.sgl.length > 0 ? c.sgl : [{ addr: 0n, len: 0 }];
  return sgl.map((e, i) => ({ op: C_OP.setup, first: i === 0, last: i === sgl.length - 1, ctxOk: c.ctxOk, ctx: c.ctx, cid: c.cid, addr: e.addr, len: e.len }));
}

/** The command may change (ctx, cid): its own key, or every key of its context for CTX_DEL. */
function touches(c: Cmd, ctx: number, cid: number): boolean {
  return c.ctx === ctx && (c.kind === "ctxDel" || c.cid === cid);
}

interface LookupExp {
  ctx: number;
  cid: number;
  /** "unchecked": a command may change the key before the lookup reads the RAM */
  entry: TagEntry | undefined | "unchecked";
}

interface ResolveExp {
  ctx: number;
  cid: number;
  /** undefined: not checked; else the expected rs_ok and, when ok, the pieces */
  ok: boolean | undefined;
  pieces: SglEntry[];
}

class TagBench {
  readonly model: TagTable;
  readonly queue: Cmd[] = [];
  readonly stats = { statuses: new Map<StatusCode, number>(), lookupHits: 0, resolves: 0, crossings: 0, staleResolves: 0, collisions: 0, poolFull: 0 };
  /** Entries torn down or deleted: their (slot, gen, key) must no longer resolve. */
  readonly dead: TagEntry[] = [];
  private inFlight: Cmd | undefined;
  private beats: Beat[] = [];
  private waiting = false;
  private presenting = false;
  private readonly lkPipe: Array<LookupExp | undefined> = new Array<LookupExp | undefined>(LK_LAT).fill(undefined);
  private readonly rsPipe: Array<ResolveExp | undefined> = new Array<ResolveExp | undefined>(RS_LAT).fill(undefined);
  private t = 0;

  constructor(
    readonly dut: Dut<P>,
    readonly rng: Rng,
    readonly cfg: Config,
    private readonly stalls: boolean[],
    private readonly idle: number,
    private readonly rReadyPause: number,
  ) {
    this.model = new TagTable({ nTags: cfg.N_TAGS, maxSgl: cfg.MAX_SGL, page: cfg.PAGE, poolPages: cfg.POOL_PAGES });
  }

  get busy(): boolean {
    return this.queue.length > 0 || this.inFlight !== undefined;
  }

  async waitInit(): Promise<void> {
    for (let n = 0; this.dut.init.value === 1n; n++) {
      if (n > 200_000) throw new Error("init never ended");
      await RisingEdge(this.dut.clk);
    }
  }

  async settle(maxCycles = 200_000): Promise<void> {
    for (let n = 0; this.busy; n++) {
      if (n === maxCycles) throw new Error(`not settled after ${maxCycles} cycles`);
      await this.cycle();
    }
    for (let i = 0; i < 2 * (LK_LAT + RS_LAT) + 4; i++) await this.cycle();
  }

  /** A command that may change (ctx, cid) has begun (its first beat is loaded) and not yet answered. */
  private uncertain(ctx: number, cid: number): boolean {
    const c = this.inFlight ?? (this.beats.length > 0 ? this.queue[0] : undefined);
    return c !== undefined && touches(c, ctx, cid);
  }

  /**
   * A command begins or is answered: lookups and resolves of its keys still in the pipeline may read the RAM before
   * or after its writes (a stalled pipeline holds them at any stage), so they are not checked. A resolve through an
   * entry already dead stays a miss whatever happens (generations only move on).
   */
  private forget(c: Cmd): void {
    for (const l of this.lkPipe) if (l !== undefined && touches(c, l.ctx, l.cid)) l.entry = "unchecked";
    for (const r of this.rsPipe) if (r !== undefined && r.ok === true && touches(c, r.ctx, r.cid)) r.ok = undefined;
  }

  private pickLookup(): LookupExp | undefined {
    if (this.rng.chance(this.idle)) return undefined;
    const live = [...this.model.entries()];
    const r = this.rng.float();
    let ctx: number;
    let cid: number;
    if (r < 0.6 && live.length > 0) ({ ctx, cid } = this.rng.pick(live));
    else if (r < 0.8 && this.dead.length > 0) ({ ctx, cid } = this.rng.pick(this.dead));
    else [ctx, cid] = [this.rng.int(4), this.rng.int(0x10000)];
    return { ctx, cid, entry: this.uncertain(ctx, cid) ? "unchecked" : this.model.get(ctx, cid) };
  }

  private pickResolve(): { exp: ResolveExp; slot: number; gen: number; ctx: number; cid: number; pos: number; cnt: number } | undefined {
    if (this.rng.chance(this.idle)) return undefined;
    const live = [...this.model.entries()];
    const stale = this.rng.chance(0.2) && this.dead.length > 0;
    if (!stale && live.length === 0) return undefined;
    const e = stale ? this.rng.pick(this.dead) : this.rng.pick(live);
    const cnt = this.rng.range(1, Math.min(8, e.total));
    // Often the last bytes of a page, so the beat crosses into the next one.
    const pgOff = Number(e.sgl[0]!.addr % BigInt(this.cfg.PAGE));
    let b = this.rng.int(e.total - cnt + 1);
    if (this.rng.chance(0.4)) {
      const pageEnd = this.cfg.PAGE * this.rng.range(1, Math.ceil((pgOff + e.total) / this.cfg.PAGE)) - pgOff;
      b = Math.max(0, Math.min(e.total - cnt, pageEnd - this.rng.range(1, cnt)));
    }
    const ok = this.uncertain(e.ctx, e.cid) ? undefined : e.live;
    return { exp: { ctx: e.ctx, cid: e.cid, ok, pieces: sglSlices(e.sgl, b, cnt) }, slot: e.slot, gen: e.gen, ctx: e.ctx, cid: e.cid, pos: pgOff + b, cnt };
  }

  /** One clock edge: drive, then model and check. */
  async cycle(): Promise<void> {
    const d = this.dut;
    const adv = !this.stalls[this.t++ % this.stalls.length];

    // Command beats: valid stays up until taken.
    if (this.beats.length === 0 && this.inFlight === undefined && this.queue.length > 0) {
      // Requests already in the pipeline may read the RAM after this command's writes (a stall holds them).
      this.forget(this.queue[0]!);
      this.beats = beatsOf(this.queue[0]!);
    }
    const beat = this.beats[0];
    const present = beat !== undefined && !this.waiting && (this.presenting || !this.rng.chance(this.idle));
    this.presenting = present;
    d.setValue("c_valid", present);
    if (present) {
      d.setValue("c_op", beat.op);
      d.setValue("c_first", beat.first);
      d.setValue("c_last", beat.last);
      d.setValue("c_ctx_ok", beat.ctxOk);
      d.setValue("c_ctx", beat.ctx);
      d.setValue("c_cid", beat.cid);
      d.setValue("c_addr", beat.addr);
      d.setValue("c_len", beat.len);
    }
    const rReady = !this.rng.chance(this.rReadyPause);
    d.setValue("r_ready", rReady);

    const lk = this.pickLookup();
    d.setValue("lk_valid", lk !== undefined);
    if (lk !== undefined) {
      d.setValue("lk_ctx", lk.ctx);
      d.setValue("lk_cid", lk.cid);
    }
    const rs = this.pickResolve();
    d.setValue("rs_valid", rs !== undefined);
    if (rs !== undefined) {
      d.setValue("rs_slot", rs.slot);
      d.setValue("rs_gen", rs.gen);
      d.setValue("rs_ctx", rs.ctx);
      d.setValue("rs_cid", rs.cid);
      d.setValue("rs_pos", rs.pos);
      d.setValue("rs_cnt", rs.cnt);
    }
    d.setValue("adv", adv);

    const cReady = d.c_ready.value === 1n;
    const response = d.r_valid.value === 1n && rReady;
    const status = Number(d.r_status.value);
    if (d.st_collision.value === 1n) this.stats.collisions++;
    if (d.st_pool_full.value === 1n) this.stats.poolFull++;
    const held = PORTS.filter((p) => p.startsWith("lk_") || p.startsWith("rs_")).map((p) => d[p].value);
    await RisingEdge(d.clk);
    const at = `cycle ${d.sim.cycle}`;

    if (present && cReady) {
      this.beats.shift();
      this.presenting = false;
      if (beat.last) {
        this.inFlight = this.queue.shift();
        this.waiting = true;
      }
    }
    if (response) {
      const c = this.inFlight;
      if (c === undefined) throw new Error(`${at}: a response with no command in flight`);
      expect(status, `${at}: status of ${describe(c)}`).toBe(this.apply(c));
      this.stats.statuses.set(status as StatusCode, (this.stats.statuses.get(status as StatusCode) ?? 0) + 1);
      this.inFlight = undefined;
      this.waiting = false;
    }

    if (!adv) {
      expect(PORTS.filter((p) => p.startsWith("lk_") || p.startsWith("rs_")).map((p) => d[p].value), `${at}: datapath outputs hold while adv is 0`).toEqual(held);
      return;
    }
    this.lkPipe.unshift(lk);
    this.lkPipe.length = LK_LAT;
    this.rsPipe.unshift(rs?.exp);
    this.rsPipe.length = RS_LAT;
    this.checkLookup(this.lkPipe[LK_LAT - 1], at);
    this.checkResolve(this.rsPipe[RS_LAT - 1], at);
  }

  private apply(c: Cmd): StatusCode {
    this.forget(c);
    if (c.kind === "setup") return this.model.setup(c.ctx, c.cid, c.sgl, c.ctxOk);
    if (c.kind === "teardown") {
      const e = this.model.teardown(c.ctx, c.cid);
      if (e !== undefined) this.dead.push(e);
      return e === undefined ? Status.NOT_FOUND : Status.OK;
    }
    this.dead.push(...this.model.deleteContext(c.ctx));
    return Status.OK;
  }

  private checkLookup(l: LookupExp | undefined, at: string): void {
    const d = this.dut;
    expect(d.lk_out_valid.value, `${at}: lk_out_valid`).toBe(l === undefined ? 0n : 1n);
    if (l === undefined || l.entry === "unchecked") return;
    const what = `${at}: lookup (${l.ctx}, ${l.cid})`;
    expect(d.lk_hit.value, `${what}: hit`).toBe(l.entry === undefined ? 0n : 1n);
    if (l.entry === undefined) return;
    this.stats.lookupHits++;
    const e = l.entry;
    expect([d.lk_slot.value, d.lk_gen.value, d.lk_total.value, d.lk_pg_off.value], what).toEqual([
      BigInt(e.slot), BigInt(e.gen), BigInt(e.total), e.sgl[0]!.addr % BigInt(this.cfg.PAGE),
    ]);
  }

  private checkResolve(r: ResolveExp | undefined, at: string): void {
    const d = this.dut;
    expect(d.rs_out_valid.value, `${at}: rs_out_valid`).toBe(r === undefined ? 0n : 1n);
    if (r === undefined || r.ok === undefined) return;
    expect(d.rs_ok.value, `${at}: rs_ok (${r.ctx}, ${r.cid})`).toBe(r.ok ? 1n : 0n);
    if (!r.ok) {
      this.stats.staleResolves++;
      return;
    }
    this.stats.resolves++;
    const [p0, p1] = r.pieces;
    expect([d.rs_addr0.value, d.rs_len0.value], `${at}: first piece`).toEqual([p0!.addr, BigInt(p0!.len)]);
    expect(d.rs_len1.value, `${at}: rs_len1`).toBe(BigInt(p1?.len ?? 0));
    if (p1 !== undefined) {
      this.stats.crossings++;
      expect(d.rs_addr1.value, `${at}: rs_addr1`).toBe(p1.addr);
    }
  }
}

function describe(c: Cmd): string {
  if (c.kind === "setup") return `setup (${c.ctx}, ${c.cid}) of ${c.sgl.length} entries${c.ctxOk ? "" : ", context unused"}`;
  return c.kind === "teardown" ? `teardown (${c.ctx}, ${c.cid})` : `ctx_del ${c.ctx}`;
}

const randomPageAddr = (rng: Rng, page: number): bigint => BigInt(page) * ((BigInt(rng.u32()) << 20n) | BigInt(rng.int(1 << 20)));

/** A page-granular SGL of `n` entries (the first may start inside its page, the last may end early). */
function goodSgl(rng: Rng, page: number, n: number): SglEntry[] {
  return Array.from({ length: n }, (_, i) => {
    const off = i === 0 && rng.chance(0.6) ? rng.int(page) : 0;
    const len = i === n - 1 ? rng.range(1, page - off) : page - off;
    return { addr: randomPageAddr(rng, page) + BigInt(off), len };
  });
}

/** An SGL that breaks one page rule. */
function badSgl(rng: Rng, page: number, n: number): SglEntry[] {
  const sgl = goodSgl(rng, page, Math.max(n, 2));
  const i = rng.int(sgl.length);
  const e = sgl[i]!;
  switch (rng.int(4)) {
    case 0: // zero length
      sgl[i] = { addr: e.addr, len: 0 };
      break;
    case 1: { // crosses a page boundary (the first entry from inside its page, sometimes the only entry)
      const off = i === 0 ? rng.range(1, page - 1) : 0;
      sgl[i] = { addr: e.addr - (e.addr % BigInt(page)) + BigInt(off), len: page - off + rng.range(1, 8) };
      if (i === 0 && rng.chance(0.5)) sgl.length = 1;
      break;
    }
    case 2: // an entry but the first starting inside its page
      sgl[Math.max(1, i)] = { addr: sgl[Math.max(1, i)]!.addr + 8n, len: sgl[Math.max(1, i)]!.len - 8 > 0 ? sgl[Math.max(1, i)]!.len - 8 : 1 };
      break;
    default: // an entry but the last ending inside its page
      sgl[Math.min(i, sgl.length - 2)] = { ...sgl[Math.min(i, sgl.length - 2)]!, len: Math.max(1, sgl[Math.min(i, sgl.length - 2)]!.len - 1) };
  }
  return sgl;
}

/** Random commands: setups of a few contexts' CIDs (some bad, some too long, some of unused contexts), teardowns, context deletes. */
function randomCmd(b: TagBench, rng: Rng, cids: number): Cmd {
  const { cfg, model } = b;
  const r = rng.float();
  const live = [...model.entries()];
  if (r < 0.25 && live.length > 0) {
    const e = rng.pick(live);
    return { kind: "teardown", ctx: e.ctx, cid: e.cid };
  }
  if (r < 0.29) return { kind: "teardown", ctx: rng.int(4), cid: rng.int(cids) };
  if (r < 0.31) return { kind: "ctxDel", ctx: rng.int(4) };
  const ctx = rng.int(4);
  const cid = rng.int(cids);
  const n = rng.chance(0.2) ? cfg.MAX_SGL - rng.int(2) : rng.range(1, Math.min(cfg.MAX_SGL, 12));
  const q = rng.float();
  const sgl = q < 0.08 ? goodSgl(rng, cfg.PAGE, cfg.MAX_SGL + rng.range(1, 3)) : q < 0.18 ? badSgl(rng, cfg.PAGE, n) : goodSgl(rng, cfg.PAGE, n);
  return { kind: "setup", ctx, cid, sgl, ctxOk: !rng.chance(0.05) };
}

async function randomRun(b: TagBench, rng: Rng, commands: number, cids: number): Promise<void> {
  await b.waitInit();
  // First a full bucket pair for certain (tb/traffic/buckets.ts): its keys, one page each, then the refused one.
  const { target, fill } = bucketPairFill(rng, 3, b.cfg.N_TAGS);
  for (const cid of [...fill, target]) b.queue.push({ kind: "setup", ctx: 3, cid, sgl: goodSgl(rng, b.cfg.PAGE, 1), ctxOk: true });
  b.queue.push({ kind: "ctxDel", ctx: 3 });
  await b.settle();
  expect(b.model.collisions, "the full bucket pair refused its key").toBe(1);
  for (let i = 0; i < commands; i++) {
    b.queue.push(randomCmd(b, rng, cids));
    while (b.busy) await b.cycle();
  }
  // Everything torn down: every chunk back.
  for (let ctx = 0; ctx < 4; ctx++) b.queue.push({ kind: "ctxDel", ctx });
  await b.settle();
  expect(b.model.size).toBe(0);
  expect(b.model.freeChunks).toBe(b.cfg.POOL_PAGES / POOL_CHUNK);
}

// ---------------------------------------------------------------------------------------------------------
// Small: 16 slots (2 rows per bank), 16-page buffers of 64-byte pages, a pool of 16 chunks: collisions, an
// empty pool, page crossings every few beats.

const SMALL: Config = { N_TAGS: 16, MAX_SGL: 16, PAGE: 64, POOL_PAGES: 128 };

describeRtl("ddp_tag_table N_TAGS=16 MAX_SGL=16 PAGE=64 POOL_PAGES=128", { top: "ddp_tag_table", params: { ...SMALL }, ports: PORTS }, (rtl) => {
  for (const v of PAUSE_VARIANTS) {
    rtl.test(`random setups, teardowns, context deletes, lookups and resolves: ${v.name}`, async ({ dut, rng }) => {
      const b = new TagBench(dut, rng, SMALL, v.backpressure > 0 ? randomPauses(rng, v.backpressure) : [false], v.idle, v.backpressure);
      await randomRun(b, rng, 400, 40);
      const s = b.stats.statuses;
      for (const st of [Status.OK, Status.BAD_CTX, Status.EXISTS, Status.TABLE_FULL, Status.SGL_TOO_LONG, Status.BAD_SGL, Status.NOT_FOUND]) {
        expect(s.get(st) ?? 0, `status ${st} seen`).toBeGreaterThan(0);
      }
      expect(b.model.collisions, "setups refused for full buckets").toBeGreaterThan(0);
      expect(b.model.poolExhausted, "setups refused for an empty pool").toBeGreaterThan(0);
      expect([b.stats.collisions, b.stats.poolFull], "st_collision / st_pool_full pulses").toEqual([b.model.collisions, b.model.poolExhausted]);
      expect(b.stats.lookupHits).toBeGreaterThan(500);
      expect(b.stats.resolves).toBeGreaterThan(500);
      expect(b.stats.crossings).toBeGreaterThan(50);
      expect(b.stats.staleResolves, "resolves through torn-down entries").toBeGreaterThan(50);
    });
  }

  rtl.test("a torn-down entry's slot, set up anew for the same key, does not resolve for the old one", async ({ dut, rng }) => {
    const b = new TagBench(dut, rng, SMALL, [false], 0, 0);
    await b.waitInit();
    b.queue.push({ kind: "setup", ctx: 1, cid: 7, sgl: goodSgl(rng, SMALL.PAGE, 3), ctxOk: true });
    await b.settle();
    const old = b.model.get(1, 7)!;
    b.queue.push({ kind: "teardown", ctx: 1, cid: 7 }, { kind: "setup", ctx: 1, cid: 7, sgl: goodSgl(rng, SMALL.PAGE, 3), ctxOk: true });
    await b.settle();
    const now = b.model.get(1, 7)!;
    expect([now.slot, now.gen], "same slot, next generation").toEqual([old.slot, (old.gen + 1) & 0xff]);
    expect(sglPageGranular(now.sgl, SMALL.PAGE)).toBe(true);
    // Only stale resolves of the old entry from here on.
    for (let i = 0; i < 50; i++) await b.cycle();
    expect(b.stats.staleResolves).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------------------
// NIC scale: 16384 slots, 128-page buffers of 4 KiB pages (the contract's defaults).

const NIC: Config = { N_TAGS: 16384, MAX_SGL: 128, PAGE: 4096, POOL_PAGES: 16 * 16384 };

describeRtl("ddp_tag_table defaults", { top: "ddp_tag_table", ports: PORTS }, (rtl) => {
  rtl.test("random setups, teardowns, context deletes, lookups and resolves", async ({ dut, rng }) => {
    const b = new TagBench(dut, rng, NIC, randomPauses(rng, 0.2), 0.1, 0.2);
    await randomRun(b, rng, 150, 0x10000);
    expect(b.stats.statuses.get(Status.OK) ?? 0).toBeGreaterThan(60);
    expect(b.stats.resolves).toBeGreaterThan(300);
    expect(b.stats.crossings).toBeGreaterThan(10);
  }, 300_000);
});
