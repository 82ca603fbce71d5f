// ddp_ctx_table smoke test: contexts added with random 5-tuples (IPv4 and IPv6) are found by exact match and
// nowhere else; IPv4 upper address bits are ignored; a deleted context stops matching; the duplicate-tuple
// check sees valid entries only. Golden model: a plain array of the tuples written.

import { expect } from "vitest";
import { RisingEdge, describeRtl, type Rng } from "../../tb/index.js";

interface Tuple { ipv6: boolean; src: bigint; dst: bigint; sport: number; dport: number }

function randomTuple(rng: Rng): Tuple {
  const ipv6 = rng.chance(0.5);
  const ip = (): bigint => {
    let v = 0n;
    for (let i = 0; i < (ipv6 ? 4 : 1); i++) v = (v << 32n) | BigInt(rng.u32());
    return v;
  };
  return { ipv6, src: ip(), dst: ip(), sport: rng.int(0x10000), dport: rng.int(0x10000) };
}

describeRtl("ddp_ctx_table", { top: "ddp_ctx_table", ports: ["clk", "lk_hit", "lk_idx", "wr_tuple_exists", "valid"] }, (rtl) => {
  rtl.test("add, look up, delete", async ({ dut, rng }) => {
    const set = (prefix: "lk" | "wr", t: Tuple, junkUpper = false): void => {
      const junk = junkUpper && !t.ipv6 ? BigInt(rng.u32()) << 64n : 0n;
      dut.setValue(`${prefix}_ipv6`, t.ipv6);
      dut.setValue(`${prefix}_src_ip`, t.src | junk);
      dut.setValue(`${prefix}_dst_ip`, t.dst | junk);
      dut.setValue(`${prefix}_src_port`, t.sport);
      dut.setValue(`${prefix}_dst_port`, t.dport);
    };
    const table: (Tuple | undefined)[] = new Array<Tuple | undefined>(8).fill(undefined);
    for (let round = 0; round < 40; round++) {
      const idx = rng.int(8);
      const t = randomTuple(rng);
      if (table[idx] === undefined) {
        set("wr", t, true);
        dut.setValue("wr_idx", idx);
        dut.setValue("wr_hdgst", 1);
        dut.setValue("wr_ddgst", 0);
        dut.setValue("wr_cpda", 3);
        dut.setValue("wr_add", 1);
        await RisingEdge(dut.clk);
        dut.setValue("wr_add", 0);
        table[idx] = t;
      } else if (rng.chance(0.3)) {
        dut.setValue("wr_idx", idx);
        dut.setValue("wr_del", 1);
        await RisingEdge(dut.clk);
        dut.setValue("wr_del", 0);
        table[idx] = undefined;
      }
      // Every stored tuple is found at its index; a fresh tuple is not found.
      for (let i = 0; i < 8; i++) {
        const s = table[i];
        if (s === undefined) continue;
        set("lk", s, true);
        set("wr", s);
        dut.setValue("rd_idx", i);
        await RisingEdge(dut.clk);
        expect(dut.lk_hit.value, `entry ${i}`).toBe(1n);
        expect(dut.lk_idx.value, `entry ${i}`).toBe(BigInt(i));
        expect(dut.wr_tuple_exists.value).toBe(1n);
        expect(dut.getValue("rd_hdgst")).toBe(1n);
        expect(dut.getValue("rd_cpda")).toBe(3n);
      }
      const other = randomTuple(rng);
      set("lk", other);
      set("wr", other);
      await RisingEdge(dut.clk);
      expect(dut.lk_hit.value).toBe(0n);
      expect(dut.wr_tuple_exists.value).toBe(0n);
      const mask = table.reduce((m, t, i) => (t ? m | (1n << BigInt(i)) : m), 0n);
      expect(dut.valid.value).toBe(mask);
    }
  });
});
