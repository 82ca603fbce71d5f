// ddp_cmd smoke test: every command gets one COMPLETION in command order with the contract's status and data
// (caps arithmetic, limits table, statistics counters fed through stat_inc, unknown op, CTX_ADD / CTX_DEL
// checks against the poked context-table answers); a found TAG_TEARDOWN is followed by TEARDOWN_DONE
// {cookie} only after DRAIN pipeline advances. Expected values come from the contract's tables.

import { expect } from "vitest";
import { ClockCycles, RisingEdge, defineStream, describeRtl } from "../../tb/index.js";

const Cmd = defineStream("cmd", { fields: ["op", "tag", "ctx", "seq", "last", "cookie", "index"] });
const Evt = defineStream("evt", { fields: ["kind", "tag", "status", "ctx", "seq", "cookie", "data"] });
const OP = { CTX_ADD: 1, CTX_DEL: 2, TAG_TEARDOWN: 4, RESYNC: 5, CAPS_GET: 6, CAPS_SET: 7, LIMITS_GET: 8, STATS_GET: 9 };
const LIMITS = [16, 0, 1, 0, 8, 64, 4, 1234, 9216];
/** Hardware counters of contract sections 1 and 7 (STATS_GET indexes 0..13). */
const N_STATS = 14;

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

    const cmds = [
      cmd(OP.CAPS_GET, 1),
      cmd(OP.CAPS_SET, 2, { index: 0x10 }), // clear nvme-tcp
      cmd(OP.CTX_ADD, 3, { ctx: 1 }),      // DISABLED
      cmd(OP.CAPS_SET, 4, { index: 0x31 }), // nvme-tcp on, ddgst-rx off
      cmd(OP.CTX_ADD, 5, { ctx: 2 }),      // EXISTS (in use)
      cmd(OP.CTX_ADD, 6, { ctx: 9 }),      // BAD_CTX
      cmd(OP.CTX_ADD, 7, { ctx: 1 }),      // OK
      cmd(OP.CTX_DEL, 8, { ctx: 3 }),      // NOT_FOUND
      cmd(OP.CTX_DEL, 9, { ctx: 2 }),      // OK
      cmd(OP.RESYNC, 10, { ctx: 2 }),
      cmd(0, 11),                           // BAD_OP
      cmd(15, 12),                          // BAD_OP
      ...LIMITS.map((_, i) => cmd(OP.LIMITS_GET, 20 + i, { index: i })),
      cmd(OP.LIMITS_GET, 40, { index: 9 }), // BAD_ARG
      ...Array.from({ length: N_STATS }, (_, i) => cmd(OP.STATS_GET, 50 + i, { index: i })),
      cmd(OP.STATS_GET, 70, { index: N_STATS }), // BAD_ARG
    ];
    await src.send(cmds);
    const got = await sink.recvMany(cmds.length);
    const expected: Array<[number, number, bigint]> = [
      [1, 0, 0x303n], [2, 0, 0x302n], [3, 8, 0n], [4, 0, 0x301n], [5, 3, 0n], [6, 2, 0n], [7, 0, 0n], [8, 4, 0n],
      [9, 0, 0n], [10, 0, 0n], [11, 1, 0n], [12, 1, 0n],
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

    // Teardown: completion at once, TEARDOWN_DONE only after DRAIN (4) advances.
    dut.setValue("td_found", 1);
    await src.send(cmd(OP.TAG_TEARDOWN, 80, { cookie: 0xdeadbeef }));
    const c = await sink.recv();
    expect([Number(c.values.kind), Number(c.values.tag), Number(c.values.status)]).toEqual([1, 80, 0]);
    await ClockCycles(dut.clk, 20);
    expect(await sink.empty(), "TEARDOWN_DONE without pipeline advance").toBe(true);
    dut.setValue("adv", 1);
    await ClockCycles(dut.clk, 3);
    expect(await sink.empty(), "TEARDOWN_DONE too early").toBe(true);
    const d = await sink.recv();
    expect([Number(d.values.kind), Number(d.values.cookie)]).toEqual([3, 0xdeadbeef]);
  });
});
