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
import { Rng, seedFromEnv } from "../../src/util/rng.js";

const seed = seedFromEnv();
console.log(`model commands.test seed=${seed} (SEED=${seed} to reproduce)`);

const flow = (port: number): Omit<CtxAddArgs, "ctx"> => ({ ipVersion: 4, srcIp: "10.0.0.2", dstIp: "10.0.0.1", srcPort: 4420, dstPort: port, seq: 1, hdgst: false, ddgst: false });
const sgl = (n: number, len = 4096) => Array.from({ length: n }, (_, i) => ({ addr: 0x10000n * BigInt(i + 1), len }));

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
    const m = new OffloadModel({ nTags: 3, maxSgl: 4 });
    statuses(m, [ctxAdd({ ctx: 0, ...flow(1) })]);
    const setup = (cid: number, entries = sgl(1), ctx = 0) => tagSetup({ tag: cid, ctx, cid, sgl: entries });
    expect(statuses(m, [setup(1, sgl(4)), setup(2, sgl(3), 1), setup(2, sgl(3), 200), setup(1)])).toEqual([Status.OK, Status.BAD_CTX, Status.BAD_CTX, Status.EXISTS]);
    expect(statuses(m, [setup(2, sgl(5))])).toEqual([Status.SGL_TOO_LONG]);
    // Entries shorter than one beat (8 bytes at DATA_W 64) only in last place, never 0 bytes.
    expect(statuses(m, [setup(2, [{ addr: 1n, len: 7 }, { addr: 100n, len: 8 }]), setup(2, [{ addr: 1n, len: 8 }, { addr: 100n, len: 0 }]), setup(2, [{ addr: 1n, len: 0 }])])).toEqual([
      Status.BAD_SGL,
      Status.BAD_SGL,
      Status.BAD_SGL,
    ]);
    // A total length above 2^32 - 1 (here 2^32 and 2^32 + 7); exactly 2^32 - 1 is fine (checked on a fresh model).
    const big = (last: number) => [{ addr: 1n, len: 0xffff_fff8 }, { addr: 0x1_0000_0000n, len: last }];
    expect(statuses(m, [setup(2, big(8)), setup(2, big(15)), setup(2, [...big(4), { addr: 3n, len: 4 }])])).toEqual([Status.BAD_SGL, Status.BAD_SGL, Status.BAD_SGL]);
    const fresh = new OffloadModel();
    statuses(fresh, [ctxAdd({ ctx: 0, ...flow(1) })]);
    expect(statuses(fresh, [tagSetup({ ctx: 0, cid: 1, sgl: big(7) })])).toEqual([Status.OK]);
    expect(statuses(m, [setup(2, [{ addr: 1n, len: 8 }, { addr: 100n, len: 1 }]), setup(3, [{ addr: 1n, len: 1 }])])).toEqual([Status.OK, Status.OK]);
    expect(statuses(m, [setup(4)])).toEqual([Status.TABLE_FULL]);
    // The failures changed nothing: three entries, and a teardown frees one.
    expect(statuses(m, [tagTeardown({ ctx: 0, cid: 3, cookie: 9 }), setup(4), setup(5)])).toEqual([Status.OK, Status.OK, Status.TABLE_FULL]);
  });

  it("TAG_TEARDOWN: OK then TEARDOWN_DONE with the cookie; NOT_FOUND without one; CTX_DEL frees a context's tags silently", () => {
    const m = new OffloadModel({ nTags: 2 });
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
    const params = { nCtx: 5, nTags: 33, maxSgl: 7, maxSegs: 3, maxFrame: 2000, ioThreshold: 4096, latency: 1234 };
    const m = new OffloadModel(params);
    const want = [7, 4096, 1, 0, 5, 33, 3, 1234, 2000];
    want.forEach((v, index) => expect(data(m, { op: Op.LIMITS_GET, index })).toBe(BigInt(v)));
    expect(statuses(m, [{ op: Op.LIMITS_GET, index: 9 }, { op: Op.LIMITS_GET, index: 255 }])).toEqual([Status.BAD_ARG, Status.BAD_ARG]);
    const d = new OffloadModel();
    expect([0, 4, 5, 6, 8].map((index) => data(d, { op: Op.LIMITS_GET, index }))).toEqual([16n, 8n, 64n, 4n, 9216n]);
  });

  it("STATS_GET reads the counters in index order; other indices are BAD_ARG", () => {
    const m = new OffloadModel();
    m.frame(new Uint8Array(20)); // too short to parse: passthrough
    m.frame(new Uint8Array(10000)); // oversize
    // Contract section 1 (0..10) and section 7 (11 resync_confirms, 12 resync_timeouts, 13 resync_misses).
    const got = Array.from({ length: 14 }, (_, index) => data(m, { op: Op.STATS_GET, index }));
    expect(got).toEqual([0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 2n, 1n, 0n, 0n, 0n]);
    expect(statuses(m, [{ op: Op.STATS_GET, index: 14 }])).toEqual([Status.BAD_ARG]);
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
