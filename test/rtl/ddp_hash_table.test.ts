// ddp_hash_table: a golden model of the 2-choice table (placement from src/contract/hash.ts, the contract's
// hash) checks, cycle by cycle, every response, every lookup result (hit, slot, gen, val) and every slot read,
// while operations mix with a lookup and a slot read in most cycles and `adv` stalls at random (tb/pauses.ts).
//
// Timing the model holds the RTL to (the module's header): a RAM write happens at the edge at which the response
// reporting it first becomes valid; a lookup's RAM read is its second advance and sees writes at earlier edges
// (and misses while `init` was high before that edge); a slot read's RAM read is its first advance. So the bench
// keeps its own copy of both pipelines and fixes each result at the edge of its RAM read, from the model as it
// stands then. Responses are valid / ready: r_ready is driven at random (`readyP`); a held response must stay
// exactly as it was, each is taken once, and c_ready is high only with no operation running and no response
// waiting. With r_ready always high the latencies are exact (INSERT / DELETE / PROBE 4 edges, SCAN 2 * ROWS + 2
// plus at most one per freed slot); under back-pressure SCAN may take one edge more per held cycle.
// Directed tests: overflow into bank 1, FULL, EXISTS, DELETE frees at once (gen + 1, slot reusable), gen wrap,
// PROBE (EXISTS, OK = the slot the next INSERT takes, FULL, nothing written), SCAN with a mask under
// back-pressure, unknown operations, the reset sweep, constant collisions at ROWS 2 / WAYS 2, and the build
// without the slot-read port.

import { expect } from "vitest";
import { RisingEdge, describeRtl, randomPauses, type Dut, type Rng } from "../../tb/index.js";
import { bucketRows, keyHash } from "../../src/contract/hash.js";

const OP = { INSERT: 0, DELETE: 1, PROBE: 2, SCAN: 3 } as const;
const ST = { OK: 0, EXISTS: 1, FULL: 2, NOT_FOUND: 3 } as const;
/** Keys carry a context in bits 15:0, like the tag table's {cid, ctx}: SCAN with this mask finds one context. */
const CTX_MASK = 0xffffn;

interface Cfg { KEY_W: number; VAL_W: number; ROWS: number; WAYS: number; HAS_RD: number }
/** live: 0 FREE, 1 VALID */
interface Slot { live: number; gen: number; key: bigint; val: bigint }
interface Resp { status: number; slot: number; gen: number; key: bigint; val: bigint; last: boolean }
interface LookupResult { hit: boolean; slot: number; gen: number; val: bigint }
type Cmd =
  | { op: typeof OP.INSERT; key: bigint; val: bigint }
  | { op: typeof OP.DELETE; key: bigint }
  | { op: typeof OP.PROBE; key: bigint }
  | { op: typeof OP.SCAN; pattern: bigint; mask: bigint }
  /** 4..7: unknown */
  | { op: 4 | 5 | 6 | 7; key: bigint };

/** Cycles from the edge that accepts an INSERT, DELETE or PROBE to the edge that raises its response. */
const OP_LAT = 4;

const FREE_SLOT: Slot = { live: 0, gen: 0, key: 0n, val: 0n };
const MISS: LookupResult = { hit: false, slot: 0, gen: 0, val: 0n };

const log2 = (n: number): number => Math.round(Math.log2(n));

function show(cmd: Cmd): string {
  switch (cmd.op) {
    case OP.INSERT: return `INSERT key=0x${cmd.key.toString(16)} val=0x${cmd.val.toString(16)}`;
    case OP.DELETE: return `DELETE key=0x${cmd.key.toString(16)}`;
    case OP.PROBE: return `PROBE key=0x${cmd.key.toString(16)}`;
    case OP.SCAN: return `SCAN pattern=0x${cmd.pattern.toString(16)} mask=0x${cmd.mask.toString(16)}`;
    default: return `op ${cmd.op} key=0x${cmd.key.toString(16)}`;
  }
}

/** A slot freed by DELETE or SCAN: FREE, gen + 1 (mod 256), key and value kept. */
const freed = (s: Slot): Slot => ({ ...s, live: 0, gen: (s.gen + 1) & 0xff });

/** The table as software sees it: 2 banks x ROWS rows x WAYS slots, slot id = {bank, row, way}. */
class Table {
  readonly rowBits: number;
  readonly wayBits: number;
  readonly size: number;
  slots: Slot[];

  constructor(readonly cfg: Cfg) {
    this.rowBits = log2(cfg.ROWS);
    this.wayBits = log2(cfg.WAYS);
    this.size = 2 * cfg.ROWS * cfg.WAYS;
    this.slots = [];
    this.clear();
  }

  clear(): void {
    this.slots = Array.from({ length: this.size }, () => ({ ...FREE_SLOT }));
  }

  slotId(bank: number, row: number, way: number): number {
    return (((bank << this.rowBits) | row) << this.wayBits) | way;
  }

  bankOf(slot: number): number {
    return slot >> (this.rowBits + this.wayBits);
  }

  rowOf(slot: number): number {
    return (slot >> this.wayBits) & (this.cfg.ROWS - 1);
  }

  rows(key: bigint): [number, number] {
    return bucketRows(keyHash(key, this.cfg.KEY_W), this.rowBits);
  }

  /** The key's candidate slots: row A of bank 0, then row B of bank 1, ways in order. */
  candidates(key: bigint): number[] {
    const [a, b] = this.rows(key);
    const ways = Array.from({ length: this.cfg.WAYS }, (_, w) => w);
    return [...ways.map((w) => this.slotId(0, a, w)), ...ways.map((w) => this.slotId(1, b, w))];
  }

  findValid(key: bigint): number | undefined {
    const found = this.candidates(key).filter((i) => this.slots[i]!.live === 1 && this.slots[i]!.key === key);
    expect(found.length, `model: key 0x${key.toString(16)} VALID twice`).toBeLessThanOrEqual(1);
    return found[0];
  }

  lookup(key: bigint): LookupResult {
    const i = this.findValid(key);
    if (i === undefined) return MISS;
    const s = this.slots[i]!;
    return { hit: true, slot: i, gen: s.gen, val: s.val };
  }

  /** An operation's responses, each with the slot it changes (applied when the response appears). */
  plan(cmd: Cmd): Array<{ resp: Resp; change?: [number, Slot] }> {
    const found = (status: number, slot: number, s: Slot, last = true): Resp => ({ status, slot, gen: s.gen, key: s.key, val: s.val, last });
    const none = (status: number, last = true): Resp => ({ status, slot: 0, gen: 0, key: 0n, val: 0n, last });
    switch (cmd.op) {
      case OP.INSERT:
      case OP.PROBE: {
        const v = this.findValid(cmd.key);
        if (v !== undefined) return [{ resp: found(ST.EXISTS, v, this.slots[v]!) }];
        const f = this.candidates(cmd.key).find((i) => this.slots[i]!.live === 0);
        if (f === undefined) return [{ resp: none(ST.FULL) }];
        const gen = this.slots[f]!.gen;
        // PROBE: the slot INSERT would take, its current gen, the key, no value; nothing written.
        if (cmd.op === OP.PROBE) return [{ resp: { status: ST.OK, slot: f, gen, key: cmd.key, val: 0n, last: true } }];
        const after = { live: 1, gen, key: cmd.key, val: cmd.val };
        return [{ resp: found(ST.OK, f, after), change: [f, after] }];
      }
      case OP.DELETE: {
        const v = this.findValid(cmd.key);
        if (v === undefined) return [{ resp: none(ST.NOT_FOUND) }];
        const after = freed(this.slots[v]!);
        return [{ resp: found(ST.OK, v, after), change: [v, after] }];
      }
      case OP.SCAN: {
        // Slot ids ascend as {bank, row, way}: bank 0 rows first, ways in order, the order of the responses.
        const out: Array<{ resp: Resp; change?: [number, Slot] }> = [];
        this.slots.forEach((s, i) => {
          if (s.live !== 1 || (s.key & cmd.mask) !== (cmd.pattern & cmd.mask)) return;
          const after = freed(s);
          out.push({ resp: found(ST.OK, i, after, false), change: [i, after] });
        });
        return [...out, { resp: none(ST.OK) }];
      }
      default:
        return [{ resp: none(ST.NOT_FOUND) }];
    }
  }
}

type Ports = "clk" | "init" | "c_ready" | "r_valid" | "lk_out_valid" | "rd_out_valid";
const PORTS = ["clk", "init", "c_ready", "r_valid", "lk_out_valid", "rd_out_valid"] as const;

interface LookupJob { key: bigint; result?: LookupResult }
interface ReadJob { slot: number; result?: Slot }
/** A lookup or read in the pipeline, with the answer fixed at its RAM read. */
interface InFlight<J, R> { job: J; expect: R }
interface CmdJob { cmd: Cmd; responses?: Resp[] }

/**
 * Drives the table one edge at a time and checks every output against the model. Background traffic: a lookup
 * of one of `lookupKeys` and a read of a random slot in most cycles; asked-for lookups, reads and operations go
 * first. `pauses` is the cyclic adv pattern (true = no advance).
 */
class Bench {
  readonly model: Table;
  pauses: boolean[] = [false];
  lookupKeys: bigint[] = [];
  /** Probability that a background lookup takes a key VALID in the model instead (so that lookups hit). */
  lookupValid = 0;
  /** Probability that a presented command drops c_valid for a cycle. */
  private readonly cmdIdle = 0.3;
  /** Probability of r_ready high in a cycle (1: no back-pressure, exact latencies checked). */
  readyP = 1;
  /** Responses taken, and cycles a response was held (r_valid && !r_ready). */
  readonly responses = { taken: 0, held: 0 };
  cycle = 0;
  /** Lookup results checked, and how many were hits; slot reads checked. */
  readonly checked = { lookups: 0, hits: 0, reads: 0 };
  private init: boolean;
  private ready: boolean;
  private l1: LookupJob | undefined;
  private l2: InFlight<LookupJob, LookupResult> | undefined;
  private lOut: InFlight<LookupJob, LookupResult> | undefined;
  private r1: InFlight<ReadJob, Slot> | undefined;
  private rOut: InFlight<ReadJob, Slot> | undefined;
  private readonly lkAsked: LookupJob[] = [];
  private readonly rdAsked: ReadJob[] = [];
  private readonly cmdAsked: CmdJob[] = [];
  private active: {
    job: CmdJob;
    /** Responses taken (r_valid && r_ready at an edge). */
    got: Resp[];
    planned: Array<{ resp: Resp; change?: [number, Slot] }>;
    /** The accepting edge's cycle (undefined: not accepted yet). */
    accepted?: number;
    /** Edges at which a response of this operation was held. */
    held: number;
  } | undefined;
  /** The response visible (r_valid) after the last edge, and the r_ready driven for the next edge. */
  private shown: Resp | undefined;
  private rReady = true;

  constructor(private readonly dut: Dut<Ports>, readonly cfg: Cfg, private readonly rng: Rng) {
    this.model = new Table(cfg);
    this.init = dut.init.value === 1n;
    this.ready = dut.c_ready.value === 1n;
  }

  get initActive(): boolean {
    return this.init;
  }

  /** One rising edge: inputs chosen, the model's view of the edge, then every output checked. */
  async step(): Promise<void> {
    const { dut, rng } = this;
    const adv = !this.pauses[this.cycle % this.pauses.length];

    const lk = this.lkAsked[0] ?? (this.lookupKeys.length > 0 && rng.chance(0.8) ? { key: this.backgroundKey() } : undefined);
    dut.setValue("lk_valid", lk !== undefined);
    dut.setValue("lk_key", lk?.key ?? 0n);
    // Slot reads during the sweep return whatever the RAM holds: none then.
    const rd = this.cfg.HAS_RD === 0 || this.init ? undefined : (this.rdAsked[0] ?? (rng.chance(0.8) ? { slot: rng.int(this.model.size) } : undefined));
    dut.setValue("rd_valid", rd !== undefined);
    dut.setValue("rd_slot", rd?.slot ?? 0);

    if (this.active === undefined && this.cmdAsked.length > 0) this.active = { job: this.cmdAsked.shift()!, got: [], planned: [], held: 0 };
    const presented = this.active !== undefined && this.active.accepted === undefined ? this.active.job.cmd : undefined;
    const cValid = presented !== undefined && !rng.chance(this.cmdIdle);
    dut.setValue("c_valid", cValid);
    dut.setValue("c_op", presented?.op ?? 0);
    dut.setValue("c_key", presented === undefined ? 0n : presented.op === OP.SCAN ? presented.pattern : presented.key);
    // INSERT's value only; c_slot is unused: noise.
    dut.setValue("c_val", presented?.op === OP.INSERT ? presented.val : 0n);
    dut.setValue("c_slot", rng.int(this.model.size));
    dut.setValue("c_mask", presented?.op === OP.SCAN ? presented.mask : 0n);
    this.rReady = rng.chance(this.readyP);
    dut.setValue("r_ready", this.rReady);
    dut.setValue("adv", adv);

    // The edge as the model sees it: RAM reads see the table before this edge's write.
    if (adv) {
      this.lOut = this.l2;
      this.l2 = this.l1 && { job: this.l1, expect: this.init ? MISS : this.model.lookup(this.l1.key) };
      this.l1 = lk;
      if (lk !== undefined && lk === this.lkAsked[0]) this.lkAsked.shift();
      this.rOut = this.r1;
      this.r1 = rd && { job: rd, expect: { ...this.model.slots[rd.slot]! } };
      if (rd !== undefined && rd === this.rdAsked[0]) this.rdAsked.shift();
    }
    if (cValid && this.ready) {
      this.active!.planned = this.model.plan(presented!);
      this.active!.accepted = this.cycle + 1;
    }
    const held = this.shown !== undefined && !this.rReady;

    await RisingEdge(dut.clk);
    this.cycle++;
    this.checkResponse(held);
    this.checkLookup();
    this.checkRead();
    this.init = dut.init.value === 1n;
    this.ready = dut.c_ready.value === 1n;
    expect(this.ready, `c_ready at cycle ${this.cycle}`).toBe(!this.init && (this.active === undefined || this.active.accepted === undefined));
  }

  private backgroundKey(): bigint {
    if (this.rng.chance(this.lookupValid)) {
      const valid = this.model.slots.filter((s) => s.live === 1);
      if (valid.length > 0) return this.rng.pick(valid).key;
    }
    return this.rng.pick(this.lookupKeys);
  }

  /** After an edge. `held`: a response was visible before it and r_ready was low (it must still be there). */
  private checkResponse(held: boolean): void {
    const { dut, active } = this;
    const label = `response at cycle ${this.cycle} to ${active === undefined ? "no operation" : show(active.job.cmd)}`;
    // The response visible before the edge was taken at it unless held.
    if (this.shown !== undefined && !held) {
      active!.got.push(this.shown);
      this.responses.taken++;
      if (this.shown.last) {
        active!.job.responses = active!.got;
        this.active = undefined;
      }
    }
    const valid = dut.r_valid.value === 1n;
    const got: Resp | undefined = valid
      ? {
          status: Number(dut.getValue("r_status")),
          slot: Number(dut.getValue("r_slot")),
          gen: Number(dut.getValue("r_gen")),
          key: dut.getValue("r_key"),
          val: dut.getValue("r_val"),
          last: dut.getValue("r_last") === 1n,
        }
      : undefined;
    if (held) {
      // Stable while held: never dropped, never changed.
      expect(got, `${label}: held response`).toEqual(this.shown);
      this.responses.held++;
      active!.held++;
      return;
    }
    this.shown = got;
    if (got === undefined) return;
    // A new response: the next planned one; its slot changes in the model now (RAM written at this edge or before).
    expect(this.active?.planned.length ?? 0, label).toBeGreaterThan(0);
    const cur = this.active!;
    const next = cur.planned.shift()!;
    expect(got, label).toEqual(next.resp);
    if (next.change) this.model.slots[next.change[0]] = next.change[1];
    // Latency from the accepting edge: INSERT / DELETE / PROBE fixed (nothing can hold before their only response);
    // SCAN a row per cycle, a cycle more at most per freed slot and per held cycle.
    const took = this.cycle - cur.accepted!;
    if (cur.job.cmd.op !== OP.SCAN) expect(took, `${label}: cycles`).toBe(OP_LAT);
    else if (next.resp.last) expect(took - (2 * this.cfg.ROWS + 2), `${label}: cycles beyond 2 * ROWS + 2`).toBeOneOf([...Array(cur.got.length + cur.held + 1).keys()]);
  }

  private checkLookup(): void {
    const { dut, lOut } = this;
    expect(dut.lk_out_valid.value === 1n, `lk_out_valid at cycle ${this.cycle}`).toBe(lOut !== undefined);
    if (lOut === undefined) return;
    const got: LookupResult = {
      hit: dut.getValue("lk_hit") === 1n,
      slot: Number(dut.getValue("lk_slot")),
      gen: Number(dut.getValue("lk_gen")),
      val: dut.getValue("lk_val"),
    };
    expect(got, `lookup of 0x${lOut.job.key.toString(16)} out at cycle ${this.cycle}`).toEqual(lOut.expect);
    lOut.job.result = got;
    this.checked.lookups++;
    if (got.hit) this.checked.hits++;
  }

  private checkRead(): void {
    const { dut, rOut } = this;
    expect(dut.rd_out_valid.value === 1n, `rd_out_valid at cycle ${this.cycle}`).toBe(rOut !== undefined);
    if (rOut === undefined) return;
    const got: Slot = {
      live: Number(dut.getValue("rd_live")),
      gen: Number(dut.getValue("rd_gen")),
      key: dut.getValue("rd_key"),
      val: dut.getValue("rd_val"),
    };
    expect(got, `read of slot ${rOut.job.slot} out at cycle ${this.cycle}`).toEqual(rOut.expect);
    rOut.job.result = got;
    this.checked.reads++;
  }

  private async until(done: () => boolean, what: string, maxCycles = 50_000): Promise<void> {
    for (let n = 0; !done(); n++) {
      if (n === maxCycles) throw new Error(`${what}: not done after ${maxCycles} cycles`);
      await this.step();
    }
  }

  async cycles(n: number): Promise<void> {
    for (let i = 0; i < n; i++) await this.step();
  }

  async settle(): Promise<void> {
    await this.until(() => !this.init, "reset sweep");
  }

  /** One operation through the command port; its responses (each already checked against the model). */
  async op(cmd: Cmd): Promise<Resp[]> {
    const job: CmdJob = { cmd };
    this.cmdAsked.push(job);
    await this.until(() => job.responses !== undefined, show(cmd));
    return job.responses!;
  }

  async op1(cmd: Cmd): Promise<Resp> {
    const [r] = await this.op(cmd);
    return r!;
  }

  async lookup(key: bigint): Promise<LookupResult> {
    const job: LookupJob = { key };
    this.lkAsked.push(job);
    await this.until(() => job.result !== undefined, `lookup of 0x${key.toString(16)}`);
    return job.result!;
  }

  async read(slot: number): Promise<Slot> {
    const job: ReadJob = { slot };
    this.rdAsked.push(job);
    await this.until(() => job.result !== undefined, `read of slot ${slot}`);
    return job.result!;
  }

  /** rst for one edge: pipelines and any operation dropped, the sweep starts (the model is what it will leave). */
  async reset(): Promise<void> {
    const { dut } = this;
    for (const p of ["lk_valid", "rd_valid", "c_valid", "adv"]) dut.setValue(p, 0);
    dut.setValue("rst", 1);
    await RisingEdge(dut.clk);
    this.cycle++;
    dut.setValue("rst", 0);
    this.l1 = this.l2 = this.lOut = undefined;
    this.r1 = this.rOut = undefined;
    this.active = undefined;
    this.shown = undefined;
    this.model.clear();
    this.init = dut.init.value === 1n;
    this.ready = dut.c_ready.value === 1n;
    expect(this.init, "init after rst").toBe(true);
  }
}

function randomBits(rng: Rng, bits: number): bigint {
  let v = 0n;
  for (let i = 0; i < bits; i += 32) v = (v << 32n) | BigInt(rng.u32());
  return v & ((1n << BigInt(bits)) - 1n);
}

/** n keys of contexts 0..3 (bits 15:0). */
function keyPool(rng: Rng, cfg: Cfg, n: number): bigint[] {
  return Array.from({ length: n }, () => (randomBits(rng, cfg.KEY_W - 16) << 16n) | BigInt(rng.int(4)));
}

/** n distinct keys, none of `not`, whose rows are `a` (bank 0) and, if given, `b` (bank 1). */
function keysAt(rng: Rng, model: Table, n: number, a: number, b?: number, not: bigint[] = []): bigint[] {
  const out = new Set<bigint>();
  while (out.size < n) {
    const key = (randomBits(rng, model.cfg.KEY_W - 16) << 16n) | BigInt(rng.int(4));
    const [ra, rb] = model.rows(key);
    if (ra === a && (b === undefined || rb === b) && !not.includes(key)) out.add(key);
  }
  return [...out];
}

/**
 * A random operation on the model's current contents: an insert with probability `insertP`, else mostly deletes of
 * present keys and probes, sometimes a SCAN, rarely an unknown operation (`unknownP`).
 */
function randomCmd(rng: Rng, model: Table, keys: bigint[], insertP: number): Cmd {
  const r = rng.float();
  const key = (): bigint => {
    const valid = model.slots.filter((s) => s.live === 1);
    return valid.length > 0 && rng.chance(0.6) ? rng.pick(valid).key : rng.pick(keys);
  };
  if (r < insertP) return { op: OP.INSERT, key: rng.pick(keys), val: randomBits(rng, model.cfg.VAL_W) };
  if (r < insertP + (1 - insertP) * 0.6) return { op: OP.DELETE, key: key() };
  if (r < insertP + (1 - insertP) * 0.9) return { op: OP.PROBE, key: key() };
  // One context (the common use), or any pattern and mask.
  return rng.chance(0.8)
    ? { op: OP.SCAN, pattern: BigInt(rng.int(4)), mask: CTX_MASK }
    : { op: OP.SCAN, pattern: rng.pick(keys), mask: randomBits(rng, model.cfg.KEY_W) & ~(randomBits(rng, model.cfg.KEY_W) << 16n) };
}

/** `ops` random operations under background lookups and reads; every kind of response is seen. */
async function randomRun(bench: Bench, rng: Rng, ops: number, poolSize: number): Promise<void> {
  const keys = keyPool(rng, bench.cfg, poolSize);
  bench.lookupKeys = keys;
  bench.lookupValid = 0.5;
  await bench.settle();
  const seen = new Set<string>();
  for (let i = 0; i < ops; i++) {
    // Idle gaps between operations let lookups run against a still table too.
    if (rng.chance(0.3)) await bench.cycles(rng.range(1, 4));
    // Phases of 200 operations that fill the table (FULL: ~190 inserts of 180 keys into 128 slots) and empty it.
    const cmd = randomCmd(rng, bench.model, keys, Math.floor(i / 200) % 2 === 0 ? 0.97 : 0.3);
    const rs = await bench.op(cmd);
    for (const r of rs) seen.add(`${cmd.op}:${r.status}`);
    // A PROBE, then (often) the INSERT of its key right after it: the same status and slot.
    if (cmd.op === OP.PROBE && rng.chance(0.5)) {
      const ins = await bench.op1({ op: OP.INSERT, key: cmd.key, val: randomBits(rng, bench.cfg.VAL_W) });
      expect([ins.status, ins.slot], `INSERT after ${show(cmd)}`).toEqual([rs[0]!.status, rs[0]!.slot]);
      seen.add(`${cmd.op}:${rs[0]!.status}:then-insert`);
    }
  }
  await bench.cycles(10);
  const kinds = [`${OP.INSERT}:${ST.OK}`, `${OP.INSERT}:${ST.EXISTS}`, `${OP.INSERT}:${ST.FULL}`, `${OP.DELETE}:${ST.OK}`,
    `${OP.DELETE}:${ST.NOT_FOUND}`, `${OP.PROBE}:${ST.OK}`, `${OP.PROBE}:${ST.EXISTS}`, `${OP.PROBE}:${ST.OK}:then-insert`,
    `${OP.SCAN}:${ST.OK}`];
  expect([...seen].sort()).toEqual(expect.arrayContaining(kinds));
  // The lookup stream hits often enough to check slots, gens and values, not just misses.
  expect(bench.checked.hits).toBeGreaterThan(bench.checked.lookups / 4);
  if (bench.cfg.HAS_RD !== 0) expect(bench.checked.reads).toBeGreaterThan(ops);
  if (bench.readyP < 1) expect(bench.responses.held, "cycles with a response held").toBeGreaterThan(ops / 4);
}

function suite(cfg: Cfg, body: (test: (name: string, fn: (bench: Bench, rng: Rng) => Promise<void>) => void) => void): void {
  const params = Object.fromEntries(Object.entries(cfg).map(([k, v]) => [k, v]));
  const name = `ddp_hash_table ${Object.entries(cfg).map(([k, v]) => `${k}=${v}`).join(" ")}`;
  describeRtl(name, { top: "ddp_hash_table", params, ports: PORTS }, (rtl) => {
    body((testName, fn) => rtl.test(testName, async ({ dut, rng }) => fn(new Bench(dut, cfg, rng), rng)));
  });
}

// Small enough that rows collide and fill: 2 x 16 rows x 4 ways = 128 slots.
const SMALL: Cfg = { KEY_W: 32, VAL_W: 16, ROWS: 16, WAYS: 4, HAS_RD: 1 };

suite(SMALL, (test) => {
  test("random operations, lookups and slot reads every cycle, adv always on", async (bench, rng) => {
    await randomRun(bench, rng, 1000, 180);
  });

  test("random operations with random adv stalls and random r_ready", async (bench, rng) => {
    bench.pauses = randomPauses(rng, 0.5);
    bench.readyP = 0.5;
    await randomRun(bench, rng, 1000, 180);
  });

  test("bucket overflow: the key after WAYS keys of one row A goes to its row B in bank 1", async (bench, rng) => {
    const { model } = bench;
    await bench.settle();
    const keys = keysAt(rng, model, 5, 3);
    bench.lookupKeys = keys;
    for (let w = 0; w < 4; w++) {
      const r = await bench.op1({ op: OP.INSERT, key: keys[w]!, val: BigInt(w) });
      expect(r, `key ${w}`).toMatchObject({ status: ST.OK, slot: model.slotId(0, 3, w) });
    }
    const rowB = model.rows(keys[4]!)[1];
    const r = await bench.op1({ op: OP.INSERT, key: keys[4]!, val: 4n });
    expect(r).toMatchObject({ status: ST.OK, slot: model.slotId(1, rowB, 0) });
    for (let k = 0; k < 5; k++) {
      expect(await bench.lookup(keys[k]!), `key ${k}`).toEqual({ hit: true, slot: k < 4 ? model.slotId(0, 3, k) : model.slotId(1, rowB, 0), gen: 0, val: BigInt(k) });
    }
    await bench.cycles(20);
  });

  test("FULL when both rows are full; a freed slot in row B takes the key", async (bench, rng) => {
    const { model } = bench;
    await bench.settle();
    const [target] = keysAt(rng, model, 1, 5);
    const b = model.rows(target!)[1];
    // Row 5 of bank 0 filled by keys of row A 5; then keys of rows (5, b) overflow into row b of bank 1.
    const fillA = keysAt(rng, model, 4, 5, undefined, [target!]);
    const fillB = keysAt(rng, model, 4, 5, b, [target!, ...fillA]);
    bench.lookupKeys = [target!, ...fillA, ...fillB];
    for (const k of [...fillA, ...fillB]) expect((await bench.op1({ op: OP.INSERT, key: k, val: 1n })).status).toBe(ST.OK);
    expect(await bench.op1({ op: OP.INSERT, key: target!, val: 7n })).toEqual({ status: ST.FULL, slot: 0, gen: 0, key: 0n, val: 0n, last: true });
    expect((await bench.lookup(target!)).hit).toBe(false);
    expect(await bench.op1({ op: OP.PROBE, key: target! })).toEqual({ status: ST.FULL, slot: 0, gen: 0, key: 0n, val: 0n, last: true });
    // DELETE frees the way at once (gen + 1): the next INSERT takes it.
    const gone = await bench.op1({ op: OP.DELETE, key: fillB[2]! });
    expect(gone).toEqual({ status: ST.OK, slot: model.slotId(1, b, 2), gen: 1, key: fillB[2]!, val: 1n, last: true });
    expect(await bench.op1({ op: OP.PROBE, key: target! })).toEqual({ status: ST.OK, slot: model.slotId(1, b, 2), gen: 1, key: target!, val: 0n, last: true });
    expect(await bench.op1({ op: OP.INSERT, key: target!, val: 7n })).toMatchObject({ status: ST.OK, slot: model.slotId(1, b, 2), gen: 1 });
    expect(await bench.lookup(target!)).toEqual({ hit: true, slot: model.slotId(1, b, 2), gen: 1, val: 7n });
  });

  test("EXISTS: the stored slot and value come back, in bank 0 and in bank 1 after row A frees a way", async (bench, rng) => {
    const { model } = bench;
    await bench.settle();
    const keys = keysAt(rng, model, 5, 9);
    bench.lookupKeys = keys;
    for (let k = 0; k < 5; k++) await bench.op1({ op: OP.INSERT, key: keys[k]!, val: BigInt(100 + k) });
    expect(await bench.op1({ op: OP.INSERT, key: keys[1]!, val: 999n })).toEqual({ status: ST.EXISTS, slot: model.slotId(0, 9, 1), gen: 0, key: keys[1]!, val: 101n, last: true });
    // keys[4] sits in bank 1. With a FREE way in its row A again, inserting it must still find it there.
    const inB = model.slotId(1, model.rows(keys[4]!)[1], 0);
    await bench.op1({ op: OP.DELETE, key: keys[0]! });
    expect(await bench.op1({ op: OP.INSERT, key: keys[4]!, val: 999n })).toEqual({ status: ST.EXISTS, slot: inB, gen: 0, key: keys[4]!, val: 104n, last: true });
    expect(await bench.lookup(keys[4]!)).toEqual({ hit: true, slot: inB, gen: 0, val: 104n });
  });

  test("DELETE frees at once: gen + 1, lookups miss, the slot reads FREE and is reused by the next INSERT", async (bench, rng) => {
    const { model } = bench;
    await bench.settle();
    const [key] = keyPool(rng, bench.cfg, 1);
    bench.lookupKeys = [key!];
    const first = await bench.op1({ op: OP.INSERT, key: key!, val: 5n });
    expect(first).toMatchObject({ status: ST.OK, gen: 0 });
    expect((await bench.lookup(key!)).hit).toBe(true);
    expect(await bench.op1({ op: OP.DELETE, key: key! })).toEqual({ ...first, status: ST.OK, gen: 1 });
    expect(await bench.lookup(key!)).toEqual(MISS);
    expect(await bench.read(first.slot)).toEqual({ live: 0, gen: 1, key: key!, val: 5n });
    expect((await bench.op1({ op: OP.DELETE, key: key! })).status).toBe(ST.NOT_FOUND);
    // The freed way is the lowest FREE one again: the key goes back to it, with the new gen.
    const second = await bench.op1({ op: OP.INSERT, key: key!, val: 6n });
    expect(second).toEqual({ status: ST.OK, slot: first.slot, gen: 1, key: key!, val: 6n, last: true });
    expect(await bench.lookup(key!)).toEqual({ hit: true, slot: first.slot, gen: 1, val: 6n });
    expect(model.slots[first.slot]).toEqual({ live: 1, gen: 1, key: key!, val: 6n });
  });

  test("gen counts DELETEs mod 256", async (bench, rng) => {
    const { model } = bench;
    await bench.settle();
    const [key] = keyPool(rng, bench.cfg, 1);
    bench.lookupKeys = [key!];
    let slot = -1;
    for (let i = 0; i < 256; i++) {
      const r = await bench.op1({ op: OP.INSERT, key: key!, val: BigInt(i & 0xff) });
      expect(r).toMatchObject({ status: ST.OK, gen: i & 0xff });
      slot = r.slot;
      expect(await bench.op1({ op: OP.DELETE, key: key! })).toMatchObject({ status: ST.OK, slot, gen: (i + 1) & 0xff });
    }
    expect(await bench.read(slot)).toMatchObject({ live: 0, gen: 0 });
    expect(model.slots[slot]!.gen).toBe(0);
  });

  test("PROBE: EXISTS, OK with the slot the next INSERT takes, FULL; it writes nothing", async (bench, rng) => {
    const { model } = bench;
    await bench.settle();
    const keys = keysAt(rng, model, 9, 6);
    bench.lookupKeys = keys;
    bench.readyP = 0.6;
    for (let k = 0; k < 9; k++) {
      const p = await bench.op1({ op: OP.PROBE, key: keys[k]! });
      // Probed twice: nothing was written by the first (the model checks every slot read and lookup meanwhile).
      expect(await bench.op1({ op: OP.PROBE, key: keys[k]! })).toEqual(p);
      expect((await bench.lookup(keys[k]!)).hit).toBe(false);
      if (p.status === ST.OK) {
        expect(await bench.read(p.slot)).toMatchObject({ live: 0 });
        expect(p).toMatchObject({ key: keys[k]!, val: 0n, gen: model.slots[p.slot]!.gen });
      }
      const ins = await bench.op1({ op: OP.INSERT, key: keys[k]!, val: BigInt(k) });
      expect([ins.status, ins.slot], `key ${k}`).toEqual([p.status, p.slot]);
      // EXISTS: the stored slot as it is.
      expect(await bench.op1({ op: OP.PROBE, key: keys[k]! })).toEqual(ins.status === ST.OK ? { ...ins, status: ST.EXISTS } : ins);
    }
    // Row A 6 filled by the first four; the rest went to their rows B. Free a way of row A: PROBE and INSERT take it.
    await bench.op1({ op: OP.DELETE, key: keys[1]! });
    const [late] = keysAt(rng, model, 1, 6, undefined, keys);
    expect(await bench.op1({ op: OP.PROBE, key: late! })).toEqual({ status: ST.OK, slot: model.slotId(0, 6, 1), gen: 1, key: late!, val: 0n, last: true });
    expect(await bench.op1({ op: OP.INSERT, key: late!, val: 1n })).toMatchObject({ status: ST.OK, slot: model.slotId(0, 6, 1), gen: 1 });
  });

  test("SCAN with a context mask frees every VALID key of that context, in slot order, under r_ready back-pressure", async (bench, rng) => {
    const { model } = bench;
    await bench.settle();
    bench.readyP = 0.4;
    const keys = keyPool(rng, bench.cfg, 90);
    bench.lookupKeys = keys;
    for (const key of keys) await bench.op1({ op: OP.INSERT, key, val: key & 0xffffn });
    // Some keys of context 1 are deleted already: the scan must not report them.
    const ctx1 = model.slots.flatMap((s, i) => (s.live === 1 && (s.key & CTX_MASK) === 1n ? [i] : []));
    const before = ctx1.map((i) => ({ ...model.slots[i]! }));
    for (const i of ctx1.slice(0, 3)) await bench.op1({ op: OP.DELETE, key: model.slots[i]!.key });
    const expected = ctx1.slice(3);
    expect(expected.length).toBeGreaterThan(2);
    const rs = await bench.op({ op: OP.SCAN, pattern: 0xabcd0001n, mask: CTX_MASK });
    expect(rs.map((r) => r.slot)).toEqual([...expected, 0]);
    expect(rs.map((r) => r.last)).toEqual([...expected.map(() => false), true]);
    for (const r of rs.slice(0, -1)) expect(r.key & CTX_MASK).toBe(1n);
    // Each with the key and value it held and its gen + 1.
    expect(rs.slice(0, -1).map((r) => [r.key, r.val, r.gen])).toEqual(before.slice(3).map((s) => [s.key, s.val, (s.gen + 1) & 0xff]));
    expect(bench.responses.held, "responses held").toBeGreaterThan(0);
    let others = 0;
    for (const key of keys) {
      const { hit } = await bench.lookup(key);
      if ((key & CTX_MASK) === 1n) expect(hit, `key 0x${key.toString(16)}`).toBe(false);
      else if (hit) others++;
    }
    expect(others).toBeGreaterThan(0);
    expect(await bench.read(expected[0]!)).toMatchObject({ live: 0, gen: before[3]!.gen + 1 });
    // A freed slot is reused at once; the next SCAN frees only that key.
    const again = await bench.op1({ op: OP.INSERT, key: rs[0]!.key, val: 1n });
    expect(again.status).toBe(ST.OK);
    expect((await bench.op({ op: OP.SCAN, pattern: 1n, mask: CTX_MASK })).map((r) => [r.slot, r.key, r.last])).toEqual([[again.slot, rs[0]!.key, false], [0, 0n, true]]);
    // Nothing left to free: only the final response.
    expect(await bench.op({ op: OP.SCAN, pattern: 1n, mask: CTX_MASK })).toEqual([{ status: ST.OK, slot: 0, gen: 0, key: 0n, val: 0n, last: true }]);
  });

  // 4..7 are answered NOT_FOUND and change nothing, but the op_known assertion flags them (the harness runs with
  // assertions, so the simulation stops there).
  for (const op of [4, 7] as const) {
    test(`unknown operation ${op}: the op_known assertion fails at its acceptance`, async (bench, rng) => {
      await bench.settle();
      const [key] = keyPool(rng, bench.cfg, 1);
      await bench.op1({ op: OP.INSERT, key: key!, val: 1n });
      await expect(bench.op({ op, key: key! })).rejects.toMatchObject({ kind: "assertion", assertion: "TOP.ddp_hash_table.op_known" });
    });
  }

  test("reset sweep: ROWS cycles of init, lookups miss meanwhile, every slot FREE afterwards", async (bench, rng) => {
    const { model, cfg } = bench;
    await bench.settle();
    // Until both banks' last rows hold a key: a sweep that stops one row short leaves them behind.
    const keys: bigint[] = [];
    const lastRowsTaken = (): boolean => [0, 1].every((bank) => model.slots[model.slotId(bank, cfg.ROWS - 1, 0)]!.live === 1);
    while (!lastRowsTaken()) {
      expect(keys.length, "keys inserted to reach both last rows").toBeLessThan(1000);
      const [key] = keyPool(rng, cfg, 1);
      keys.push(key!);
      await bench.op1({ op: OP.INSERT, key: key!, val: 3n });
    }
    // Keys in the rows the sweep reaches last: without the init rule their lookups would hit.
    const late = model.slots.filter((s, i) => s.live === 1 && model.bankOf(i) === 0 && model.rowOf(i) >= cfg.ROWS / 2).map((s) => s.key);
    bench.lookupKeys = late;
    await bench.reset();
    let initCycles = 1;
    while (bench.initActive) {
      await bench.step();
      if (bench.initActive) initCycles++;
    }
    expect(initCycles).toBe(cfg.ROWS);
    bench.lookupKeys = keys;
    for (const key of keys.slice(0, 20)) expect(await bench.lookup(key)).toEqual(MISS);
    for (let slot = 0; slot < model.size; slot++) expect(await bench.read(slot), `slot ${slot}`).toEqual(FREE_SLOT);
  });
});

// The flow table's key: 296 bits, and 64-bit values.
suite({ KEY_W: 296, VAL_W: 64, ROWS: 8, WAYS: 4, HAS_RD: 1 }, (test) => {
  test("random operations with random adv stalls and random r_ready, wide keys", async (bench, rng) => {
    bench.pauses = randomPauses(rng, 0.4);
    bench.readyP = 0.7;
    await randomRun(bench, rng, 500, 90);
  });
});

// Collisions all the time: 2 x 2 rows x 2 ways = 8 slots.
suite({ KEY_W: 32, VAL_W: 8, ROWS: 2, WAYS: 2, HAS_RD: 1 }, (test) => {
  test("random operations with random adv stalls and random r_ready, constant collisions", async (bench, rng) => {
    bench.pauses = randomPauses(rng, 0.4);
    bench.readyP = 0.5;
    await randomRun(bench, rng, 400, 14);
  });

  test("40 keys fill all 8 slots, the rest are FULL, every stored key is found", async (bench, rng) => {
    const { model } = bench;
    await bench.settle();
    const keys = [...new Set(keyPool(rng, bench.cfg, 40))];
    bench.lookupKeys = keys;
    const statuses: number[] = [];
    for (const key of keys) statuses.push((await bench.op1({ op: OP.INSERT, key, val: 1n })).status);
    expect(statuses.filter((s) => s === ST.OK).length).toBe(model.size);
    expect(statuses.filter((s) => s === ST.FULL).length).toBe(keys.length - model.size);
    expect(model.slots.every((s) => s.live === 1)).toBe(true);
    for (const s of model.slots) expect((await bench.lookup(s.key)).hit).toBe(true);
  });
});

// Without the slot-read port: no RAM copy for it, rd_out_valid never rises; the rest as before.
suite({ ...SMALL, HAS_RD: 0 }, (test) => {
  test("random operations with random adv stalls, no slot-read port", async (bench, rng) => {
    bench.pauses = randomPauses(rng, 0.3);
    await randomRun(bench, rng, 1000, 180);
  });
});
