// Commands and their completions (contract sections 1-2): statuses, table limits, caps, limits, stats.

import { describe, expect, it } from "vitest";
import { OffloadModel } from "../../src/model/offload-model.js";
import {
  CommandSchema,
  type CommandInput,
  ctxAdd,
  type CtxAddArgs,
  ctxDel,
  type Event,
  EventKind,
  EventSchema,
  Op,
  resync,
  Status,
  tagSetup,
  tagTeardown,
} from "../../src/contract/protocol.js";
import { crc32c } from "../../src/pdu/crc32c.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";

const seed = seedFromEnv();
console.log(`model commands.test seed=${seed} (SEED=${seed} to reproduce)`);

const flow = (port: number): Omit<CtxAddArgs, "ctx"> => ({ ipVersion: 4, srcIp: "10.0.0.2", dstIp: "10.0.0.1", srcPort: 4420, dstPort: port, seq: 1, hdgst: false, ddgst: false });
/** `n` whole pages at PAGE 4096 (the default): a page-granular SGL. */
const sgl = (n: number, len = 4096) => Array.from({ length: n }, (_, i) => ({ addr: 0x10000n * BigInt(i + 1), len }));
/** Page-aligned addresses (PAGE 4096) for hand-built SGL entries. */
const [A, B, C] = [0x10000n, 0x20000n, 0x30000n];

/**
 * The candidate rows [A in bank 0, B in bank 1] of tag key (ctx, cid) in a table of `nTags` slots, from contract
 * section 8: CRC32C of the key {cid[15:0], ctx[15:0]} in little-endian bytes, ROWS = nTags / 8 per bank.
 */
function rowPair(ctx: number, cid: number, nTags: number): [number, number] {
  const h = crc32c(Uint8Array.of(ctx & 0xff, ctx >> 8, cid & 0xff, cid >> 8));
  const rows = nTags / 8;
  return [h & (rows - 1), (h >>> 16) & (rows - 1)];
}

/** The first `n` CIDs of context `ctx` (from 0 up) whose row pair `want` accepts. */
function cidsWith(ctx: number, nTags: number, want: (pair: [number, number]) => boolean, n: number): number[] {
  const out: number[] = [];
  for (let cid = 0; out.length < n && cid < 0x10000; cid++) if (want(rowPair(ctx, cid, nTags))) out.push(cid);
  expect(out.length).toBe(n);
  return out;
}

/** Runs commands and returns the statuses of their completions, in order (checking there is one each). */
function statuses(model: OffloadModel, cmds: (CommandInput | CommandInput[])[]): number[] {
  for (const c of cmds.flat()) model.command(c);
  const events = model.events().map((e) => EventSchema.parse(e));
  const completions = events.filter((e): e is Extract<Event, { kind: 1 }> => e.kind === EventKind.COMPLETION);
  expect(completions.length).toBe(cmds.length);
  return completions.map((e) => e.status);
}

function data(model: OffloadModel, cmd: CommandInput): bigint {
  model.command(cmd);
  const [e] = model.events();
  if (e?.kind !== EventKind.COMPLETION || e.status !== Status.OK) throw new Error(`no OK completion: ${JSON.stringify(e, (_, v) => (typeof v === "bigint" ? v.toString() : v))}`);
  return e.data;
}

describe("contexts", () => {
  it("CTX_ADD: BAD_CTX, EXISTS (index and 5-tuple), DISABLED; the table fills", () => {
    const m = new OffloadModel({ nCtx: 4 });
    expect(statuses(m, [ctxAdd({ ctx: 4, ...flow(1) }), ctxAdd({ ctx: 255, ...flow(1) }), ctxAdd({ ctx: 0, ...flow(1) }), ctxAdd({ ctx: 0, ...flow(2) }), ctxAdd({ ctx: 1, ...flow(1) })])).toEqual([
      Status.BAD_CTX,
      Status.BAD_CTX,
      Status.OK,
      Status.EXISTS,
      Status.EXISTS,
    ]);
    // The same ports over IPv6, or another port, are other flows.
    expect(statuses(m, [ctxAdd({ ctx: 1, ...flow(1), ipVersion: 6, srcIp: "::a00:2", dstIp: "::a00:1" }), ctxAdd({ ctx: 2, ...flow(2) }), ctxAdd({ ctx: 3, ...flow(3) })])).toEqual([Status.OK, Status.OK, Status.OK]);
    expect(statuses(m, [ctxAdd({ ctx: 3, ...flow(4) })])).toEqual([Status.EXISTS]);
    expect(statuses(m, [ctxDel({ ctx: 3 }), ctxAdd({ ctx: 3, ...flow(4) })])).toEqual([Status.OK, Status.OK]);
    expect(statuses(m, [{ op: Op.CAPS_SET, index: 0x10 }, ctxDel({ ctx: 3 }), ctxAdd({ ctx: 3, ...flow(4) })])).toEqual([Status.OK, Status.OK, Status.DISABLED]);
    expect(m.trackState(1)).toEqual({ state: "HEADER", exp: 1 }); // existing contexts keep tracking
  });

  it("CTX_DEL and RESYNC: NOT_FOUND for an unused context, BAD_CTX out of range", () => {
    const m = new OffloadModel({ nCtx: 2 });
    expect(statuses(m, [ctxDel({ ctx: 1 }), ctxDel({ ctx: 2 }), resync({ ctx: 0, seq: 5 }), resync({ ctx: 9, seq: 5 })])).toEqual([Status.NOT_FOUND, Status.BAD_CTX, Status.NOT_FOUND, Status.BAD_CTX]);
    expect(statuses(m, [ctxAdd({ ctx: 0, ...flow(1) }), resync({ ctx: 0, seq: 5 })])).toEqual([Status.OK, Status.OK]);
    expect(m.trackState(0)).toEqual({ state: "HEADER", exp: 1 }); // not waiting for a confirm: ignored
    expect(m.stats.resyncConfirms).toBe(0);
  });
});

describe("tags", () => {
  it("TAG_SETUP answers once after the last beat, with BAD_CTX, EXISTS, TABLE_FULL, SGL_TOO_LONG, BAD_SGL", () => {
    const m = new OffloadModel({ maxSgl: 8 });
    statuses(m, [ctxAdd({ ctx: 0, ...flow(1) })]);
    const setup = (cid: number, entries = sgl(1), ctx = 0) => tagSetup({ tag: cid, ctx, cid, sgl: entries });
    expect(statuses(m, [setup(1, sgl(4)), setup(2, sgl(3), 1), setup(2, sgl(3), 200), setup(1)])).toEqual([Status.OK, Status.BAD_CTX, Status.BAD_CTX, Status.EXISTS]);
    expect(statuses(m, [setup(2, sgl(9)), setup(2, sgl(8))])).toEqual([Status.SGL_TOO_LONG, Status.OK]);
    // The first failing check wins: BAD_CTX before EXISTS, EXISTS before SGL_TOO_LONG and BAD_SGL, SGL_TOO_LONG before BAD_SGL.
    expect(statuses(m, [setup(1, sgl(9), 1), setup(1, sgl(9)), setup(1, [{ addr: A, len: 0 }]), setup(3, [...sgl(8), { addr: A, len: 0 }])])).toEqual([
      Status.BAD_CTX,
      Status.EXISTS,
      Status.EXISTS,
      Status.SGL_TOO_LONG,
    ]);
    // The page rules (PAGE 4096), one broken at a time: an empty entry (even the last), an entry crossing a page
    // (also as the only one), a later entry not starting on a page, an earlier entry not ending on one.
    const bad = [
      [{ addr: A, len: 0 }],
      [{ addr: A, len: 4096 }, { addr: B, len: 0 }],
      [{ addr: A, len: 4097 }],
      [{ addr: A + 100n, len: 3997 }],
      [{ addr: A + 4095n, len: 2 }, { addr: B, len: 10 }],
      [{ addr: A, len: 4096 }, { addr: B + 8n, len: 100 }],
      [{ addr: A, len: 4096 }, { addr: B + 4095n, len: 1 }, { addr: C, len: 10 }],
      [{ addr: A, len: 4088 }, { addr: B, len: 100 }],
      [{ addr: A + 8n, len: 4000 }, { addr: B, len: 100 }],
      [{ addr: A, len: 4096 }, { addr: B, len: 4095 }, { addr: C, len: 10 }],
    ];
    expect(statuses(m, bad.map((e) => setup(3, e)))).toEqual(bad.map(() => Status.BAD_SGL));
    // Each rule at its edge, kept: a first entry starting anywhere and ending on a page, a last one ending
    // anywhere, a lone entry inside one page, one byte at the end of a page.
    const good = [
      [{ addr: A + 100n, len: 3996 }, { addr: B, len: 4096 }, { addr: C, len: 1 }],
      [{ addr: A + 100n, len: 3996 }],
      [{ addr: A + 4095n, len: 1 }, { addr: B, len: 4096 }],
      [{ addr: A + 8n, len: 100 }],
    ];
    expect(statuses(m, good.map((e, i) => setup(3 + i, e)))).toEqual(good.map(() => Status.OK));
    // The refused setups of CID 3 left no entry (its good setup above was not EXISTS); a teardown frees the new one.
    expect(statuses(m, [tagTeardown({ ctx: 0, cid: 3, cookie: 9 }), setup(3), setup(3)])).toEqual([Status.OK, Status.OK, Status.EXISTS]);
  });

  it("TAG_SETUP: TABLE_FULL when both buckets of (ctx, cid) are full, before SGL_TOO_LONG and BAD_SGL, well before N_TAGS entries", () => {
    const m = new OffloadModel({ nTags: 16 });
    statuses(m, [ctxAdd({ ctx: 0, ...flow(1) }), ctxAdd({ ctx: 1, ...flow(2) })]);
    // 16 slots: 2 rows of 4 ways per bank. Eight keys with the same two rows fill them (row A, then row B).
    const pair = rowPair(0, 0, 16);
    const mates = cidsWith(0, 16, (p) => p[0] === pair[0] && p[1] === pair[1], 10);
    const setup = (cid: number, entries = sgl(1), ctx = 0) => tagSetup({ tag: cid, ctx, cid, sgl: entries });
    expect(statuses(m, mates.slice(0, 8).map((cid) => setup(cid)))).toEqual(new Array(8).fill(Status.OK));
    expect(statuses(m, [setup(mates[8]!), setup(mates[8]!, sgl(200)), setup(mates[8]!, [{ addr: A, len: 0 }]), setup(mates[0]!)])).toEqual([
      Status.TABLE_FULL,
      Status.TABLE_FULL,
      Status.TABLE_FULL,
      Status.EXISTS,
    ]);
    // Keys with another row in either bank still fit: one sharing row A only (it goes to row B), one sharing neither.
    const [shareA] = cidsWith(0, 16, (p) => p[0] === pair[0] && p[1] !== pair[1], 1);
    const [neither] = cidsWith(0, 16, (p) => p[0] !== pair[0] && p[1] !== pair[1], 1);
    expect(statuses(m, [setup(shareA!), setup(neither!)])).toEqual([Status.OK, Status.OK]);
    // A teardown frees its slot (the model has no pipeline to drain: TEARDOWN_DONE follows the completion).
    expect(statuses(m, [tagTeardown({ ctx: 0, cid: mates[3]!, cookie: 1 }), setup(mates[8]!), setup(mates[9]!)])).toEqual([Status.OK, Status.OK, Status.TABLE_FULL]);
    expect(m.stats).toMatchObject({ tagCollisions: 4, poolExhausted: 0 });
    // Context 1's keys of the same two rows find them full until CTX_DEL of context 0 frees its 8 entries there.
    const others = cidsWith(1, 16, (p) => p[0] === pair[0] && p[1] === pair[1], 9);
    expect(statuses(m, [setup(others[0]!, sgl(1), 1), ctxDel({ ctx: 0 })])).toEqual([Status.TABLE_FULL, Status.OK]);
    expect(statuses(m, others.map((cid) => setup(cid, sgl(1), 1)))).toEqual([...new Array(8).fill(Status.OK), Status.TABLE_FULL]);
  });

  it("TAG_SETUP: TABLE_FULL when the pool has no chunks of 8 pages left for the buffer, after BAD_SGL", () => {
    const m = new OffloadModel({ maxSgl: 16, poolPages: 24 }); // 3 chunks
    statuses(m, [ctxAdd({ ctx: 0, ...flow(1) })]);
    const setup = (cid: number, entries = sgl(1)) => tagSetup({ tag: cid, ctx: 0, cid, sgl: entries });
    // 9 pages take 2 chunks, 8 pages 1: the pool is then empty.
    expect(statuses(m, [setup(1, sgl(9)), setup(2, sgl(8)), setup(3), setup(3, sgl(17)), setup(3, [{ addr: A, len: 0 }])])).toEqual([
      Status.OK,
      Status.OK,
      Status.TABLE_FULL,
      Status.SGL_TOO_LONG,
      Status.BAD_SGL,
    ]);
    // Tearing down the 9-page buffer gives back its 2 chunks: two more buffers fit (8 pages and 1), a third does not.
    expect(statuses(m, [tagTeardown({ ctx: 0, cid: 1, cookie: 0 }), setup(3, sgl(8)), setup(4, sgl(1)), setup(5)])).toEqual([Status.OK, Status.OK, Status.OK, Status.TABLE_FULL]);
    expect(m.stats).toMatchObject({ tagCollisions: 0, poolExhausted: 2 });
  });

  it("TAG_TEARDOWN: OK then TEARDOWN_DONE with the cookie; NOT_FOUND without one; CTX_DEL frees a context's tags silently", () => {
    const m = new OffloadModel({ poolPages: 16 }); // 2 chunks: two buffers of up to 8 pages
    statuses(m, [ctxAdd({ ctx: 0, ...flow(1) }), ctxAdd({ ctx: 1, ...flow(2) })]);
    m.command(tagTeardown({ tag: 1, ctx: 0, cid: 5, cookie: 0xdead }));
    for (const b of tagSetup({ tag: 2, ctx: 0, cid: 5, sgl: sgl(2) })) m.command(b);
    m.command(tagTeardown({ tag: 3, ctx: 1, cid: 5, cookie: 0xbeef })); // another context's CID 5
    m.command(tagTeardown({ tag: 4, ctx: 0, cid: 5, cookie: 0xfeed }));
    expect(m.events()).toEqual([
      { kind: EventKind.COMPLETION, tag: 1, status: Status.NOT_FOUND, ctx: 0, data: 0n },
      { kind: EventKind.COMPLETION, tag: 2, status: Status.OK, ctx: 0, data: 0n },
      { kind: EventKind.COMPLETION, tag: 3, status: Status.NOT_FOUND, ctx: 1, data: 0n },
      { kind: EventKind.COMPLETION, tag: 4, status: Status.OK, ctx: 0, data: 0n },
      { kind: EventKind.TEARDOWN_DONE, cookie: 0xfeed },
    ]);
    // The torn-down buffer's chunk is free again: two more buffers fit, a third does not.
    expect(statuses(m, [tagSetup({ ctx: 0, cid: 1, sgl: sgl(1) }), tagSetup({ ctx: 1, cid: 1, sgl: sgl(1) }), tagSetup({ ctx: 1, cid: 2, sgl: sgl(1) })])).toEqual([Status.OK, Status.OK, Status.TABLE_FULL]);
    m.command(ctxDel({ ctx: 0 }));
    expect(m.events().map((e) => e.kind)).toEqual([EventKind.COMPLETION]); // no TEARDOWN_DONE
    expect(statuses(m, [tagSetup({ ctx: 1, cid: 2, sgl: sgl(1) }), tagTeardown({ ctx: 0, cid: 1, cookie: 0 })])).toEqual([Status.OK, Status.NOT_FOUND]);
  });

  it("places nothing through a context's tags after CTX_DEL and a new CTX_ADD", () => {
    // Covered with traffic in tracking.test; here: the tag is gone from the table.
    const m = new OffloadModel();
    statuses(m, [ctxAdd({ ctx: 0, ...flow(1) }), tagSetup({ ctx: 0, cid: 7, sgl: sgl(1) }), ctxDel({ ctx: 0 }), ctxAdd({ ctx: 0, ...flow(1) })]);
    expect(statuses(m, [tagTeardown({ ctx: 0, cid: 7, cookie: 0 }), tagSetup({ ctx: 0, cid: 7, sgl: sgl(1) })])).toEqual([Status.NOT_FOUND, Status.OK]);
  });
});

describe("caps, limits, stats, bad commands", () => {
  it("CAPS_SET computes ((active & ~mask) | (wanted & mask)) & hw", () => {
    const rng = new Rng(seed);
    const m = new OffloadModel();
    let active = 0b11;
    expect(data(m, { op: Op.CAPS_GET })).toBe(0x303n);
    for (let i = 0; i < 50; i++) {
      const wanted = rng.int(4);
      const mask = rng.int(4);
      active = ((active & ~mask) | (wanted & mask)) & 0b11;
      expect(data(m, { op: Op.CAPS_SET, index: wanted | (mask << 4) })).toBe(BigInt(0x300 | active));
      expect(data(m, { op: Op.CAPS_GET })).toBe(BigInt(0x300 | active));
    }
  });

  it("LIMITS_GET reports the parameters; other indices are BAD_ARG", () => {
    const params = { nCtx: 5, nTags: 32, maxSgl: 16, page: 1024, poolPages: 40, maxSegs: 3, maxFrame: 2000, ioThreshold: 4096, latency: 1234 };
    const m = new OffloadModel(params);
    const want = [16, 4096, 1, 0, 5, 32, 3, 1234, 2000, 1024, 40];
    want.forEach((v, index) => expect(data(m, { op: Op.LIMITS_GET, index })).toBe(BigInt(v)));
    expect(statuses(m, [{ op: Op.LIMITS_GET, index: 11 }, { op: Op.LIMITS_GET, index: 255 }])).toEqual([Status.BAD_ARG, Status.BAD_ARG]);
    // Defaults (contract): MAX_SGL 128, N_TAGS 16384, PAGE 4096, POOL_PAGES 16 * N_TAGS; N_CTX 8, MAX_SEGS 4, MAX_FRAME 9216.
    const d = new OffloadModel();
    expect([0, 4, 5, 6, 8, 9, 10].map((index) => data(d, { op: Op.LIMITS_GET, index }))).toEqual([128n, 8n, 16384n, 4n, 9216n, 4096n, 262144n]);
    expect(data(new OffloadModel({ nTags: 64 }), { op: Op.LIMITS_GET, index: 10 })).toBe(1024n);
    // N_TAGS and MAX_SGL are powers of two (at least 16 and 8), PAGE too (at least 64); POOL_PAGES whole chunks of 8.
    for (const bad of [{ nTags: 33 }, { nTags: 8 }, { maxSgl: 7 }, { maxSgl: 4 }, { page: 1000 }, { page: 32 }, { poolPages: 20 }, { poolPages: 8 }]) {
      expect(() => new OffloadModel(bad), JSON.stringify(bad)).toThrow();
    }
  });

  it("STATS_GET reads the counters in index order; other indices are BAD_ARG", () => {
    const m = new OffloadModel({ nTags: 16, poolPages: 64 }); // 8 pool chunks
    m.frame(new Uint8Array(20)); // too short to parse: passthrough
    m.frame(new Uint8Array(10000)); // oversize
    // One setup refused for a full bucket pair, then two for an empty pool.
    statuses(m, [ctxAdd({ ctx: 0, ...flow(1) })]);
    const pair = rowPair(0, 0, 16);
    const mates = cidsWith(0, 16, (p) => p[0] === pair[0] && p[1] === pair[1], 9);
    const [x, y] = cidsWith(0, 16, (p) => p[0] !== pair[0] && p[1] !== pair[1], 2);
    const setups = [...mates, x!, y!].map((cid) => tagSetup({ ctx: 0, cid, sgl: sgl(1) }));
    expect(statuses(m, setups)).toEqual([...new Array(8).fill(Status.OK), Status.TABLE_FULL, Status.TABLE_FULL, Status.TABLE_FULL]);
    // Contract section 1 (0..10), section 7 (11 resync_confirms, 12 resync_timeouts, 13 resync_misses), section 8
    // (14 tag_collisions, 15 pool_exhausted).
    const got = Array.from({ length: 16 }, (_, index) => data(m, { op: Op.STATS_GET, index }));
    expect(got).toEqual([0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 2n, 1n, 0n, 0n, 0n, 1n, 2n]);
    expect(statuses(m, [{ op: Op.STATS_GET, index: 17 }, { op: Op.STATS_GET, index: 255 }])).toEqual([Status.BAD_ARG, Status.BAD_ARG]);
  });

  it("unknown ops get BAD_OP and change nothing; every command gets one completion, in order", () => {
    const m = new OffloadModel();
    const ops = [0, 10, 11, 12, 13, 14, 15];
    for (const [i, op] of ops.entries()) m.command({ op, tag: i, ctx: 0 });
    expect(m.events()).toEqual(ops.map((_, i) => ({ kind: EventKind.COMPLETION, tag: i, status: Status.BAD_OP, ctx: 0, data: 0n })));
    expect(statuses(m, [ctxAdd({ ctx: 0, ...flow(1) })])).toEqual([Status.OK]);
  });

  it("the command schema refuses values wider than their field", () => {
    expect(() => CommandSchema.parse({ op: 16 })).toThrow();
    expect(() => CommandSchema.parse({ op: 1, ctx: 256 })).toThrow();
    expect(() => CommandSchema.parse({ op: 3, addr: 1n << 64n })).toThrow();
    expect(() => CommandSchema.parse({ op: 1, cpda: 32 })).toThrow();
    expect(CommandSchema.parse({ op: 6 })).toMatchObject({ op: 6, tag: 0, addr: 0n, srcIp: 0n });
  });
});
