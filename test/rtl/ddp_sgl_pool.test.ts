// ddp_sgl_pool: SGLs of page frame numbers built page by page into chunks of a shared pool (BEGIN, PAGE, COMMIT),
// given back by ABORT and FREE, and looked up two consecutive pages per advance by the datapath.
//
// Golden model (PoolModel): the PFN list of every committed slot (the slot is given with COMMIT; BEGIN's w_slot
// is random and ignored), the open build, w_full and the count of free chunks (a chunk is taken at every
// CHUNK-th page; none free -> w_full and the page is dropped). The bench
// (PoolBench) drives one operation and one lookup per cycle, and checks after every edge: w_ready, w_done and
// free_chunks with the timing of the module header (one returned chunk per cycle, then a one-cycle w_done), w_full,
// and every lookup's p_pfn0 / p_pfn1 LAT advances after it entered, the outputs holding while adv is 0. The
// chunks themselves are not modelled: two slots sharing a chunk, or a page read from the wrong chunk, show up
// as wrong PFNs.

import { expect } from "vitest";
import { describeRtl, PAUSE_VARIANTS, randomPauses, RisingEdge, type Dut, type Rng } from "../../tb/index.js";

/** Lookup latency in advances (module header). */
const LAT = 3;
const OPCODE = { BEGIN: 0, PAGE: 1, COMMIT: 2, ABORT: 3, FREE: 4 } as const;

type Op =
  /** wSlot: what w_slot carries with it (the module ignores it; random when not given) */
  | { op: "BEGIN"; wSlot?: number }
  | { op: "PAGE"; pfn: bigint }
  | { op: "COMMIT"; slot: number }
  | { op: "ABORT" }
  | { op: "FREE"; slot: number; npages: number };

interface Config {
  SLOTS: number;
  MAX_SGL: number;
  CHUNK: number;
  N_CHUNKS: number;
}

const PFN_W = 52;
const PORTS = ["clk", "w_ready", "w_done", "w_full", "free_chunks", "p_out_valid", "p_pfn0", "p_pfn1"] as const;
type P = (typeof PORTS)[number];

function randomPfn(rng: Rng): bigint {
  return BigInt.asUintN(PFN_W, (BigInt(rng.u32()) << 32n) | BigInt(rng.u32()));
}

class PoolModel {
  readonly committed = new Map<number, bigint[]>();
  build: { pfns: bigint[] } | undefined;
  full = false;
  free: number;

  constructor(readonly cfg: Config) {
    this.free = cfg.N_CHUNKS;
  }

  chunksOf(pages: number): number {
    return Math.ceil(pages / this.cfg.CHUNK);
  }

  /** An accepted operation. Returns the chunks it gives back; they count as free one per cycle afterwards. */
  apply(op: Op): number {
    const b = this.build;
    if (op.op === "BEGIN") {
      this.build = { pfns: [] };
      this.full = false;
      return 0;
    }
    if (op.op === "FREE") {
      const pfns = this.committed.get(op.slot);
      if (pfns === undefined || pfns.length !== op.npages) throw new Error(`test bug: FREE of slot ${op.slot}`);
      this.committed.delete(op.slot);
      return this.chunksOf(op.npages);
    }
    if (b === undefined) throw new Error(`test bug: ${op.op} without BEGIN`);
    if (op.op === "PAGE") {
      if (this.full) return 0;
      if (b.pfns.length >= this.cfg.MAX_SGL) throw new Error("test bug: page beyond MAX_SGL");
      if (b.pfns.length % this.cfg.CHUNK === 0) {
        if (this.free === 0) {
          this.full = true;
          return 0;
        }
        this.free--;
      }
      b.pfns.push(op.pfn);
      return 0;
    }
    this.build = undefined;
    if (op.op === "COMMIT") {
      this.committed.set(op.slot, b.pfns);
      return 0;
    }
    return this.chunksOf(b.pfns.length);
  }
}

interface Lookup {
  slot: number;
  page: number;
  pfn0: bigint;
  /** undefined: page + 1 is past the SGL (don't care) */
  pfn1: bigint | undefined;
}

/** The command side as the module header describes it. */
type CmdState = { kind: "idle" } | { kind: "walk"; left: number } | { kind: "done" };

class PoolBench {
  readonly model: PoolModel;
  /** Operations to present, in order; the head is presented (w_valid) until accepted. */
  readonly queue: Op[] = [];
  /** Directed lookups, taken before random ones. */
  readonly lookupQueue: Array<{ slot: number; page: number }> = [];
  /** Called for a new operation when the queue is empty; undefined: nothing to do. */
  source: (() => Op | undefined) | undefined;
  readonly stats = { lookups: 0, crossings: 0, fulls: 0, freesInBuild: 0 };
  private cmd: CmdState = { kind: "idle" };
  private readonly pipe: Array<Lookup | undefined> = new Array<Lookup | undefined>(LAT).fill(undefined);
  /** Slots with a FREE queued: no new lookups, and the FREE waits until none is in flight. */
  private readonly retiring = new Set<number>();
  private presenting = false;
  private t = 0;
  private advances = 0;

  constructor(
    readonly dut: Dut<P>,
    readonly rng: Rng,
    readonly cfg: Config,
    /** adv low (pause pattern) */
    private readonly stalls: boolean[],
    /** probability of an idle cycle on the command side and on the lookup stream */
    private readonly idle: number,
  ) {
    this.model = new PoolModel(cfg);
  }

  enqueue(...ops: Op[]): void {
    for (const op of ops) {
      if (op.op === "FREE") this.retiring.add(op.slot);
      this.queue.push(op);
    }
  }

  /** BEGIN, the pages, COMMIT to the slot. */
  enqueueBuild(slot: number, pfns: bigint[]): void {
    this.enqueue({ op: "BEGIN" }, ...pfns.map((pfn): Op => ({ op: "PAGE", pfn })), { op: "COMMIT", slot });
  }

  /** FREE of a committed slot (with its page count). */
  freeOf(slot: number): Op {
    return { op: "FREE", slot, npages: this.model.committed.get(slot)!.length };
  }

  /** A committed slot that no queued FREE names. */
  lookupable(): number[] {
    return [...this.model.committed.keys()].filter((s) => !this.retiring.has(s));
  }

  /** Neither committed, nor the target of the open build, nor waiting for its FREE. */
  slotIdle(slot: number): boolean {
    return !this.model.committed.has(slot) && this.target !== slot && !this.retiring.has(slot);
  }

  /** The slot the open build will be committed to (chosen by the random source at its BEGIN). */
  target: number | undefined;

  get busy(): boolean {
    return this.queue.length > 0 || this.cmd.kind !== "idle";
  }

  /** Runs until every queued operation has finished and every directed lookup has come out. */
  async settle(maxCycles = 100_000): Promise<void> {
    let n = 0;
    const step = async (): Promise<void> => {
      if (n++ === maxCycles) throw new Error(`not settled after ${maxCycles} cycles: ${this.queue.length} operations queued, cmd ${this.cmd.kind}`);
      await this.cycle();
    };
    while (this.busy || this.lookupQueue.length > 0) await step();
    const until = this.advances + LAT;
    while (this.advances < until) await step();
  }

  async cycles(n: number): Promise<void> {
    for (let i = 0; i < n; i++) await this.cycle();
  }

  /** A lookup of the slot is in the pipeline or still to come from lookupQueue. */
  private inFlight(slot: number): boolean {
    return this.pipe.some((l) => l?.slot === slot) || this.lookupQueue.some((l) => l.slot === slot);
  }

  private pickLookup(): Lookup | undefined {
    const directed = this.lookupQueue[0];
    let slot: number;
    let page: number;
    if (directed !== undefined) {
      ({ slot, page } = directed);
    } else {
      const slots = this.lookupable();
      if (slots.length === 0 || this.rng.chance(this.idle)) return undefined;
      slot = this.rng.pick(slots);
      const n = this.model.committed.get(slot)!.length;
      const { CHUNK } = this.cfg;
      const r = this.rng.float();
      // Last pages of chunks (page i + 1 in the next chunk) and the SGL's last page are the interesting ones.
      if (r < 0.3 && n > CHUNK) page = CHUNK * this.rng.range(1, Math.floor((n - 1) / CHUNK)) - 1;
      else if (r < 0.4) page = n - 1;
      else page = this.rng.int(n);
    }
    const pfns = this.model.committed.get(slot);
    if (pfns === undefined || page >= pfns.length) throw new Error(`test bug: lookup of page ${page} of slot ${slot}`);
    return { slot, page, pfn0: pfns[page]!, pfn1: pfns[page + 1] };
  }

  /** One clock edge: drive, then model and check. */
  async cycle(): Promise<void> {
    const d = this.dut;
    const adv = !this.stalls[this.t++ % this.stalls.length];

    // Command side: valid stays up until the operation is taken (w_ready is checked against the model below).
    if (!this.presenting && this.queue.length === 0 && !this.rng.chance(this.idle)) {
      const op = this.source?.();
      if (op !== undefined) this.enqueue(op);
    }
    const head = this.queue[0];
    const present = head !== undefined && (this.presenting || !this.rng.chance(this.idle)) && !(head.op === "FREE" && this.inFlight(head.slot));
    this.presenting = present;
    d.setValue("w_valid", present);
    if (present) {
      d.setValue("w_op", OPCODE[head.op]);
      // w_slot counts for COMMIT and FREE only: random otherwise (BEGIN's included).
      d.setValue("w_slot", head.op === "COMMIT" || head.op === "FREE" ? head.slot : head.op === "BEGIN" && head.wSlot !== undefined ? head.wSlot : this.rng.int(this.cfg.SLOTS));
      d.setValue("w_pfn", head.op === "PAGE" ? head.pfn : randomPfn(this.rng));
      d.setValue("w_npages", head.op === "FREE" ? head.npages : this.rng.int(this.cfg.MAX_SGL + 1));
    }

    // Lookup stream.
    const lk = this.pickLookup();
    d.setValue("p_valid", lk !== undefined);
    if (lk !== undefined) {
      d.setValue("p_slot", lk.slot);
      d.setValue("p_page", lk.page);
    }
    d.setValue("adv", adv);

    const held = [d.p_out_valid.value, d.p_pfn0.value, d.p_pfn1.value];
    await RisingEdge(d.clk);
    const at = `cycle ${d.sim.cycle}`;

    // The edge, in the model.
    const accepted = present && this.cmd.kind === "idle";
    if (this.cmd.kind === "walk") {
      this.model.free++;
      this.cmd = this.cmd.left === 1 ? { kind: "done" } : { kind: "walk", left: this.cmd.left - 1 };
    } else if (this.cmd.kind === "done") {
      this.cmd = { kind: "idle" };
    } else if (accepted) {
      const op = this.queue.shift()!;
      this.presenting = false;
      const wasFull = this.model.full;
      const back = this.model.apply(op);
      if (this.model.full && !wasFull) this.stats.fulls++;
      if (op.op === "FREE") {
        this.retiring.delete(op.slot);
        if (this.model.build !== undefined) this.stats.freesInBuild++;
      }
      if (op.op === "COMMIT" || op.op === "ABORT" || op.op === "FREE") this.cmd = back === 0 ? { kind: "done" } : { kind: "walk", left: back };
    }
    if (adv && lk !== undefined && this.lookupQueue[0] !== undefined) this.lookupQueue.shift();

    expect(d.w_ready.value, `${at}: w_ready`).toBe(this.cmd.kind === "idle" ? 1n : 0n);
    expect(d.w_done.value, `${at}: w_done`).toBe(this.cmd.kind === "done" ? 1n : 0n);
    expect(d.w_full.value, `${at}: w_full`).toBe(this.model.full ? 1n : 0n);
    expect(d.free_chunks.value, `${at}: free_chunks`).toBe(BigInt(this.model.free));

    if (!adv) {
      expect([d.p_out_valid.value, d.p_pfn0.value, d.p_pfn1.value], `${at}: outputs hold while adv is 0`).toEqual(held);
      return;
    }
    this.advances++;
    this.pipe.unshift(lk);
    this.pipe.length = LAT;
    const out = this.pipe[LAT - 1];
    expect(d.p_out_valid.value, `${at}: p_out_valid`).toBe(out === undefined ? 0n : 1n);
    if (out === undefined) return;
    const what = `${at}: slot ${out.slot} page ${out.page}`;
    expect(d.p_pfn0.value, `${what}: p_pfn0`).toBe(out.pfn0);
    if (out.pfn1 !== undefined) {
      expect(d.p_pfn1.value, `${what}: p_pfn1`).toBe(out.pfn1);
      if (out.page % this.cfg.CHUNK === this.cfg.CHUNK - 1) this.stats.crossings++;
    }
    this.stats.lookups++;
  }
}

/** SGL lengths 1..MAX_SGL, with whole chunks, one page more or less, and the longest often. */
function randomLength(rng: Rng, cfg: Config): number {
  const r = rng.float();
  if (r < 0.15) return cfg.MAX_SGL;
  if (r < 0.35) return Math.min(cfg.MAX_SGL, Math.max(1, cfg.CHUNK * rng.range(1, cfg.MAX_SGL / cfg.CHUNK) + rng.range(-1, 1)));
  return rng.range(1, cfg.MAX_SGL);
}

/**
 * Random operations until `builds` builds have begun: BEGIN (with a random w_slot), pages up to a random length,
 * then COMMIT to an idle slot chosen at BEGIN (or ABORT); a build that hits w_full gets a few more (ignored) pages, maybe a FREE, and an ABORT; FREEs
 * of committed slots, the more the more slots are committed, some in the middle of a build.
 */
function randomSource(b: PoolBench, rng: Rng, builds: number): { next: () => Op | undefined; finished: () => boolean } {
  const { cfg, model } = b;
  let target = 0;
  let afterFull = 0;
  let begun = 0;
  const freeSome = (): Op | undefined => {
    const slots = b.lookupable();
    return slots.length === 0 ? undefined : b.freeOf(rng.pick(slots));
  };
  const page = (): Op => ({ op: "PAGE", pfn: randomPfn(rng) });
  // The build's end; its slot is free for a later build once the model has taken the COMMIT (the source is
  // asked again only after that).
  const end = (op: Op): Op => {
    b.target = undefined;
    return op;
  };
  const next = (): Op | undefined => {
    if (model.build !== undefined) {
      // After w_full: a FREE now and then (chunks come back, the build must stay full), ignored pages, ABORT.
      if (model.full) return afterFull-- > 0 ? ((rng.chance(0.3) ? freeSome() : undefined) ?? page()) : end({ op: "ABORT" });
      if (model.build.pfns.length < target) return (rng.chance(0.002) ? freeSome() : undefined) ?? page();
      return end(rng.chance(0.15) ? { op: "ABORT" } : { op: "COMMIT", slot: b.target! });
    }
    if (begun === builds) return undefined;
    const idle = Array.from({ length: cfg.SLOTS }, (_, s) => s).filter((s) => b.slotIdle(s));
    // Slots about half in use: more SGL pages than the pool holds, so builds run out of chunks.
    if (idle.length === 0 || rng.chance(model.committed.size / cfg.SLOTS)) {
      const f = freeSome();
      if (f !== undefined || idle.length === 0) return f;
    }
    begun++;
    target = randomLength(rng, cfg);
    afterFull = rng.int(3);
    b.target = rng.pick(idle);
    return { op: "BEGIN" };
  };
  return { next, finished: () => begun === builds && model.build === undefined && !b.busy };
}

/** Runs `builds` random builds, then frees everything: every chunk must be back. */
async function randomRun(b: PoolBench, builds: number): Promise<void> {
  const src = randomSource(b, b.rng, builds);
  b.source = src.next;
  while (!src.finished()) await b.cycle();
  b.source = undefined;
  b.enqueue(...[...b.model.committed.keys()].map((s) => b.freeOf(s)));
  await b.settle();
  expect(b.dut.free_chunks.value, "every chunk free at the end").toBe(BigInt(b.cfg.N_CHUNKS));
}

/** Lookups of every page of the slots. */
function lookupAll(b: PoolBench, slots: number[]): void {
  for (const slot of slots) {
    const n = b.model.committed.get(slot)!.length;
    for (let page = 0; page < n; page++) b.lookupQueue.push({ slot, page });
  }
}

const pfnsOf = (rng: Rng, n: number): bigint[] => Array.from({ length: n }, () => randomPfn(rng));
const pages = (rng: Rng, n: number): Op[] => pfnsOf(rng, n).map((pfn) => ({ op: "PAGE", pfn }));

/** Presents the operations one after another, each until taken, then idles `after` cycles; no model, no lookups. */
async function drive(dut: Dut<P>, ops: Op[], after: number): Promise<void> {
  for (const op of ops) {
    dut.setValue("w_valid", 1);
    dut.setValue("w_op", OPCODE[op.op]);
    if (op.op === "COMMIT" || op.op === "FREE") dut.setValue("w_slot", op.slot);
    if (op.op === "PAGE") dut.setValue("w_pfn", op.pfn);
    if (op.op === "FREE") dut.setValue("w_npages", op.npages);
    for (let taken = false; !taken; ) {
      taken = dut.w_ready.value === 1n;
      await RisingEdge(dut.clk);
    }
  }
  dut.setValue("w_valid", 0);
  for (let i = 0; i < after; i++) await RisingEdge(dut.clk);
}

// ---------------------------------------------------------------------------------------------------------
// A NIC-like SGL (128 pages of 8-page chunks) over a small pool: builds run out of chunks often.

const MID: Config = { SLOTS: 16, MAX_SGL: 128, CHUNK: 8, N_CHUNKS: 64 };

describeRtl("ddp_sgl_pool SLOTS=16 MAX_SGL=128 CHUNK=8 N_CHUNKS=64", { top: "ddp_sgl_pool", params: { ...MID }, ports: PORTS }, (rtl) => {
  // idle: gaps between operations and between lookups; back-pressure: adv stalls.
  for (const v of PAUSE_VARIANTS) {
    rtl.test(`random builds, commits, aborts, frees and lookups: ${v.name}`, async ({ dut, rng }) => {
      const b = new PoolBench(dut, rng, MID, v.backpressure > 0 ? randomPauses(rng, v.backpressure) : [false], v.idle);
      await randomRun(b, 120);
      expect(b.stats.fulls, "builds that ran out of chunks").toBeGreaterThan(0);
      expect(b.stats.crossings, "lookups across a chunk boundary").toBeGreaterThan(100);
      expect(b.stats.freesInBuild, "FREEs while a build is open").toBeGreaterThan(0);
      expect(b.stats.lookups).toBeGreaterThan(3000);
    });
  }

  rtl.test("exhaustion and recovery: every chunk used, w_full, freed, reused", async ({ dut, rng }) => {
    const b = new PoolBench(dut, rng, MID, randomPauses(rng, 0.3), 0);
    const max = MID.MAX_SGL;
    // Four full-length SGLs take every chunk (all from the bump pointer).
    for (let s = 0; s < 4; s++) b.enqueueBuild(s, pfnsOf(rng, max));
    await b.settle();
    expect(dut.free_chunks.value, "pool used up").toBe(0n);
    // No chunk for the first page: w_full, later pages ignored, ABORT returns nothing.
    b.enqueue({ op: "BEGIN" }, ...pages(rng, 3));
    await b.settle();
    expect(dut.w_full.value, "w_full at the first page").toBe(1n);
    b.enqueue({ op: "ABORT" });
    await b.settle();
    expect(dut.free_chunks.value).toBe(0n);
    // Chunks freed by slot 1 are reused (from the free FIFO) by slot 4; the other SGLs are intact.
    b.enqueue(b.freeOf(1));
    b.enqueueBuild(4, pfnsOf(rng, max));
    await b.settle();
    expect(dut.free_chunks.value).toBe(0n);
    lookupAll(b, [0, 2, 3, 4]);
    await b.settle();
    // Out of chunks in the middle of a build: of 32 free chunks, 16 + 13 go to slots 5 and 6, and slot 7 gets
    // 3 of the 5 it needs.
    b.enqueue(b.freeOf(0), b.freeOf(2));
    b.enqueueBuild(5, pfnsOf(rng, max));
    b.enqueueBuild(6, pfnsOf(rng, 100));
    b.enqueue({ op: "BEGIN" }, ...pages(rng, 40));
    await b.settle();
    expect(dut.w_full.value, "w_full after 3 chunks' pages").toBe(1n);
    expect(b.model.build!.pfns.length, "pages kept before w_full").toBe(3 * MID.CHUNK);
    // w_full is sticky: chunks freed now do not revive the build; its later pages stay ignored.
    b.enqueue(b.freeOf(5), ...pages(rng, 2));
    await b.settle();
    expect(dut.w_full.value, "w_full after a FREE").toBe(1n);
    expect(dut.free_chunks.value).toBe(16n);
    b.enqueue({ op: "ABORT" });
    await b.settle();
    expect(dut.free_chunks.value, "slot 5's 16 and the aborted build's 3 chunks are back").toBe(19n);
    // Everything freed, then every chunk used again (now all from the FIFO), and freed again.
    b.enqueue(...[...b.model.committed.keys()].map((s) => b.freeOf(s)));
    for (let s = 8; s < 12; s++) b.enqueueBuild(s, pfnsOf(rng, max));
    await b.settle();
    expect(dut.free_chunks.value, "pool used up again").toBe(0n);
    lookupAll(b, [8, 9, 10, 11]);
    b.enqueue(...[8, 9, 10, 11].map((s) => b.freeOf(s)));
    await b.settle();
    expect(dut.free_chunks.value).toBe(BigInt(MID.N_CHUNKS));
    expect(b.stats.fulls).toBe(2);
    expect(b.stats.lookups).toBeGreaterThan(8 * max);
  });

  rtl.test("the slot is COMMIT's: BEGIN's w_slot names another (committed) slot and changes nothing", async ({ dut, rng }) => {
    const b = new PoolBench(dut, rng, MID, randomPauses(rng, 0.3), 0);
    b.enqueueBuild(3, pfnsOf(rng, 20));
    await b.settle();
    // Built with w_slot = 3 at BEGIN, committed to slot 5: slot 3 keeps its SGL, slot 5 gets the new one.
    const pfns = pfnsOf(rng, 13);
    b.enqueue({ op: "BEGIN", wSlot: 3 }, ...pfns.map((pfn): Op => ({ op: "PAGE", pfn })), { op: "COMMIT", slot: 5 });
    await b.settle();
    expect(b.model.committed.get(5)).toEqual(pfns);
    lookupAll(b, [3, 5]);
    await b.settle();
    expect(b.stats.lookups).toBeGreaterThanOrEqual(33);
  });

  rtl.test("chunk boundary crossing: page i = CHUNK-1 -> i+1 in the next chunk of a scattered SGL", async ({ dut, rng }) => {
    const b = new PoolBench(dut, rng, MID, randomPauses(rng, 0.3), 0);
    // One chunk each to slots 0..7 (chunks 0..7), freed in an order with no two neighbours in a row: the next
    // SGL's chunks are 5 2 7 0 3 6 1 4 (from the free FIFO) then 8.. (bump pointer).
    for (let s = 0; s < 8; s++) b.enqueueBuild(s, pfnsOf(rng, MID.CHUNK));
    await b.settle();
    b.enqueue(...[5, 2, 7, 0, 3, 6, 1, 4].map((s) => b.freeOf(s)));
    b.enqueueBuild(8, pfnsOf(rng, MID.MAX_SGL));
    await b.settle();
    for (let page = MID.CHUNK - 1; page < MID.MAX_SGL - 1; page += MID.CHUNK) b.lookupQueue.push({ slot: 8, page });
    lookupAll(b, [8]);
    await b.settle();
    expect(b.stats.crossings, "every boundary crossed twice").toBeGreaterThanOrEqual(2 * (MID.MAX_SGL / MID.CHUNK - 1));
  });
});

// ---------------------------------------------------------------------------------------------------------
// The small build: 2-page chunks (one word per chunk and bank), a pool of 5 chunks, not a power of two.

const SMALL: Config = { SLOTS: 4, MAX_SGL: 8, CHUNK: 2, N_CHUNKS: 5 };

describeRtl("ddp_sgl_pool SLOTS=4 MAX_SGL=8 CHUNK=2 N_CHUNKS=5", { top: "ddp_sgl_pool", params: { ...SMALL }, ports: PORTS }, (rtl) => {
  rtl.test("random builds, commits, aborts, frees and lookups", async ({ dut, rng }) => {
    const b = new PoolBench(dut, rng, SMALL, randomPauses(rng, 0.3), 0.2);
    await randomRun(b, 400);
    expect(b.stats.fulls).toBeGreaterThan(10);
    expect(b.stats.crossings).toBeGreaterThan(100);
  });

  rtl.test("exhaustion and recovery", async ({ dut, rng }) => {
    const b = new PoolBench(dut, rng, SMALL, randomPauses(rng, 0.3), 0);
    b.enqueueBuild(0, pfnsOf(rng, 8));
    // Slot 1 gets the last chunk for pages 0-1; page 2 finds none; pages 3 and 4 are ignored.
    b.enqueue({ op: "BEGIN" }, ...pages(rng, 5));
    await b.settle();
    expect(dut.w_full.value).toBe(1n);
    expect(dut.free_chunks.value).toBe(0n);
    b.enqueue({ op: "ABORT" }, b.freeOf(0));
    b.enqueueBuild(1, pfnsOf(rng, 8));
    b.enqueueBuild(2, pfnsOf(rng, 1));
    await b.settle();
    expect(dut.free_chunks.value).toBe(0n);
    expect(dut.w_full.value, "w_full cleared by BEGIN").toBe(0n);
    lookupAll(b, [1, 2]);
    b.enqueue(b.freeOf(1), b.freeOf(2));
    await b.settle();
    expect(dut.free_chunks.value).toBe(5n);
    expect(b.stats.lookups).toBeGreaterThanOrEqual(9);
  });
});

// Usage errors: each fails its assertion (the harness names it) at the edge where it happens.

describeRtl("ddp_sgl_pool SLOTS=4 MAX_SGL=8 CHUNK=2 N_CHUNKS=5 usage errors", { top: "ddp_sgl_pool", params: { ...SMALL }, ports: PORTS }, (rtl) => {
  const cases: Array<{ name: string; label: string; ops: (rng: Rng) => Op[] }> = [
    { name: "PAGE after COMMIT (no BEGIN)", label: "page_with_begin", ops: (rng) => [{ op: "BEGIN" }, ...pages(rng, 1), { op: "COMMIT", slot: 0 }, ...pages(rng, 1)] },
    { name: "a page beyond MAX_SGL", label: "page_in_range", ops: (rng) => [{ op: "BEGIN" }, ...pages(rng, SMALL.MAX_SGL + 1)] },
    { name: "ABORT without BEGIN", label: "end_with_begin", ops: () => [{ op: "ABORT" }] },
    {
      name: "COMMIT after w_full",
      label: "commit_not_full",
      ops: (rng) => [{ op: "BEGIN" }, ...pages(rng, 8), { op: "COMMIT", slot: 0 }, { op: "BEGIN" }, ...pages(rng, 3), { op: "COMMIT", slot: 1 }],
    },
    { name: "BEGIN over an open build", label: "begin_closed", ops: (rng) => [{ op: "BEGIN" }, ...pages(rng, 1), { op: "BEGIN" }] },
    {
      name: "a slot freed twice",
      label: "no_double_free",
      ops: (rng) => [{ op: "BEGIN" }, ...pages(rng, 1), { op: "COMMIT", slot: 0 }, { op: "FREE", slot: 0, npages: 1 }, { op: "FREE", slot: 0, npages: 1 }],
    },
  ];
  for (const c of cases) {
    rtl.test(c.name, async ({ dut, rng }) => {
      dut.setValue("adv", 1);
      await expect(drive(dut, c.ops(rng), 4)).rejects.toMatchObject({ kind: "assertion", assertion: `TOP.ddp_sgl_pool.${c.label}` });
    });
  }
  rtl.test("the same operations used correctly fail no assertion", async ({ dut, rng }) => {
    dut.setValue("adv", 1);
    await drive(dut, [{ op: "BEGIN" }, ...pages(rng, 8), { op: "COMMIT", slot: 0 }, { op: "BEGIN" }, ...pages(rng, 3), { op: "ABORT" }], 4);
    await drive(dut, [{ op: "FREE", slot: 0, npages: 8 }, { op: "BEGIN" }, ...pages(rng, 1), { op: "COMMIT", slot: 0 }], 10);
    expect(dut.free_chunks.value).toBe(4n);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The defaults (16384 slots, 32768 chunks, 128-page SGLs): widths and addressing at full size.

describeRtl("ddp_sgl_pool defaults", { top: "ddp_sgl_pool", ports: PORTS }, (rtl) => {
  const DEFAULTS: Config = { SLOTS: 16384, MAX_SGL: 128, CHUNK: 8, N_CHUNKS: 32768 };
  rtl.test("random builds, frees and lookups", async ({ dut, rng }) => {
    const b = new PoolBench(dut, rng, DEFAULTS, randomPauses(rng, 0.2), 0.1);
    await randomRun(b, 40);
    expect(b.stats.crossings).toBeGreaterThan(50);
  });
});
