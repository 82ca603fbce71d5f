// ddp_cmd smoke test: every command gets one COMPLETION in command order with the contract's status and data
// (caps arithmetic, limits table, statistics counters fed through stat_inc, unknown op, CTX_ADD / CTX_DEL
// checks against the poked context-table answers); tag-table work (TAG_SETUP beats, TAG_TEARDOWN, CTX_DEL of a
// used context) goes to the tag table port and its completion carries the table's answer, nothing else being
// accepted meanwhile; a found TAG_TEARDOWN is followed by TEARDOWN_DONE {cookie} only after DRAIN pipeline
// advances. Expected values come from the contract's tables. The test answers the tag table port by hand.

import { expect } from "vitest";
import { ClockCycles, RisingEdge, defineStream, describeRtl } from "../../tb/index.js";

const Cmd = defineStream("cmd", { fields: ["op", "tag", "ctx", "seq", "last", "cookie", "index"] });
const Evt = defineStream("evt", { fields: ["kind", "tag", "status", "ctx", "seq", "cookie", "data"] });
const OP = { CTX_ADD: 1, CTX_DEL: 2, TAG_SETUP: 3, TAG_TEARDOWN: 4, RESYNC: 5, CAPS_GET: 6, CAPS_SET: 7, LIMITS_GET: 8, STATS_GET: 9 };
/** LIMITS_GET 0..10 at ddp_cmd's defaults (MAX_SGL 16, N_TAGS 64, PAGE 4096, POOL_PAGES 16 * N_TAGS) and LATENCY 1234. */
const LIMITS = [16, 0, 1, 0, 8, 64, 4, 1234, 9216, 4096, 1024];
/** Hardware counters of contract sections 1, 7 and 8 (STATS_GET indexes 0..15). */
const N_STATS = 16;

function cmd(op: number, tag: number, fields: Partial<Record<"ctx" | "seq" | "last" | "cookie" | "index", number>> = {}) {
  return new Cmd.Transaction({ op, tag, ctx: 0, seq: 0, last: 0, cookie: 0, index: 0, ...fields });
}

describeRtl("ddp_cmd", { top: "ddp_cmd", params: { LATENCY: 1234 }, ports: ["clk"] }, (rtl) => {
  rtl.test("completions, caps, limits, stats, teardown done", async ({ dut }) => {
    const src = new Cmd.Source(dut, "s_cmd");
    const sink = new Evt.Sink(dut, "m_evt");
    dut.setValue("adv", 0);
    dut.setValue("ct_valid", 0b0000_0100);
    // Statistics: counter i grows by i + 1 per cycle for 10 cycles.
    let inc = 0n;
    for (let i = 0; i < N_STATS; i++) inc |= BigInt(i + 1) << BigInt(16 * i);
    dut.setValue("stat_inc", inc);
    await ClockCycles(dut.clk, 10);
    dut.setValue("stat_inc", 0);
    await RisingEdge(dut.clk);

    dut.setValue("tt_ready", 1);
    dut.setValue("tt_r_valid", 0);
    const cmds = [
      cmd(OP.CAPS_GET, 1),
      cmd(OP.CAPS_SET, 2, { index: 0x10 }), // clear nvme-tcp
      cmd(OP.CTX_ADD, 3, { ctx: 1 }),      // DISABLED
      cmd(OP.CAPS_SET, 4, { index: 0x31 }), // nvme-tcp on, ddgst-rx off
      cmd(OP.CTX_ADD, 5, { ctx: 2 }),      // EXISTS (in use)
      cmd(OP.CTX_ADD, 6, { ctx: 9 }),      // BAD_CTX
      cmd(OP.CTX_ADD, 7, { ctx: 1 }),      // OK
      cmd(OP.CTX_DEL, 8, { ctx: 3 }),      // NOT_FOUND
      cmd(OP.RESYNC, 10, { ctx: 2 }),
      cmd(0, 11),                           // BAD_OP
      cmd(15, 12),                          // BAD_OP
      cmd(OP.TAG_TEARDOWN, 14, { ctx: 9 }), // NOT_FOUND at once: an unknown context never reaches the tag table
      ...LIMITS.map((_, i) => cmd(OP.LIMITS_GET, 20 + i, { index: i })),
      cmd(OP.LIMITS_GET, 40, { index: LIMITS.length }), // BAD_ARG
      ...Array.from({ length: N_STATS }, (_, i) => cmd(OP.STATS_GET, 50 + i, { index: i })),
      cmd(OP.STATS_GET, 70, { index: N_STATS }), // BAD_ARG
    ];
    await src.send(cmds);
    const got = await sink.recvMany(cmds.length);
    const expected: Array<[number, number, bigint]> = [
      [1, 0, 0x303n], [2, 0, 0x302n], [3, 8, 0n], [4, 0, 0x301n], [5, 3, 0n], [6, 2, 0n], [7, 0, 0n], [8, 4, 0n],
      [10, 0, 0n], [11, 1, 0n], [12, 1, 0n], [14, 4, 0n],
      ...LIMITS.map((v, i): [number, number, bigint] => [20 + i, 0, BigInt(v)]),
      [40, 9, 0n],
      ...Array.from({ length: N_STATS }, (_, i): [number, number, bigint] => [50 + i, 0, BigInt(10 * (i + 1))]),
      [70, 9, 0n],
    ];
    got.forEach((e, i) => {
      const [tag, status, data] = expected[i]!;
      expect(e.values.kind, `event ${i}`).toBe(1n);
      expect([Number(e.values.tag), Number(e.values.status), e.values.data], `event ${i}`).toEqual([tag, status, data]);
    });

    // Tag-table work: the command waits for the table's answer (nothing behind it is accepted meanwhile) and its
    // completion carries the answer's status.
    const viaTable = async (beats: InstanceType<typeof Cmd.Transaction>[], tag: number, status: number, behind = true) => {
      await src.send([...beats, ...(behind ? [cmd(OP.CAPS_GET, tag + 100)] : [])]);
      await ClockCycles(dut.clk, 30);
      expect(await sink.empty(), `tag ${tag}: no completion before the tag table answers, none for the command behind it`).toBe(true);
      dut.setValue("tt_r_status", status);
      dut.setValue("tt_r_valid", 1);
      await RisingEdge(dut.clk);
      expect(dut.signal("tt_r_ready").value, "the answer is taken").toBe(1n);
      dut.setValue("tt_r_valid", 0);
      const [a, b] = await sink.recvMany(behind ? 2 : 1);
      expect([Number(a!.values.kind), Number(a!.values.tag), Number(a!.values.status)], `tag ${tag}`).toEqual([1, tag, status]);
      if (behind) expect(Number(b!.values.tag), "then the command behind it").toBe(tag + 100);
    };
    await viaTable([cmd(OP.CTX_DEL, 9, { ctx: 2 })], 9, 0);
    await viaTable([cmd(OP.TAG_SETUP, 13, { ctx: 1 }), cmd(OP.TAG_SETUP, 13, { ctx: 1, last: 1 })], 13, 5);
    // A teardown the table found: TEARDOWN_DONE only after DRAIN (4) advances (and no command is taken while its
    // cookie waits to enter the drain line, which needs an advance).
    await viaTable([cmd(OP.TAG_TEARDOWN, 80, { ctx: 1, cookie: 0xdeadbeef })], 80, 0, false);
    await ClockCycles(dut.clk, 20);
    expect(await sink.empty(), "TEARDOWN_DONE without pipeline advance").toBe(true);
    dut.setValue("adv", 1);
    await ClockCycles(dut.clk, 3);
    expect(await sink.empty(), "TEARDOWN_DONE too early").toBe(true);
    const d = await sink.recv();
    expect([Number(d.values.kind), Number(d.values.cookie)]).toEqual([3, 0xdeadbeef]);
  });
});
