// Transmit data-digest block line rate (docs/tx-contract.md): drives ddp_tx with write streams at full rate
// (output always ready) and measures, from the BFM cycle stamps, input beats per cycle, the latency of every
// frame (first beat in -> first beat out), digests filled and mismatches against the model.
// Run alone with `npx tsx bench/tx.ts`; bench/run.ts calls benchTx().

import { pathToFileURL } from "node:url";
import { Harness } from "../src/cosim/index.js";
import { encodeTxDesc, TX_DESC_FIELDS } from "../src/device/tx-codec.js";
import { TX_N_CTX } from "../src/device/tx-device.js";
import { TxKind, TxModel } from "../src/model/tx-model.js";
import { Rng } from "../src/util/rng.js";
import { txScenario } from "../tb/traffic/tx.js";

const MIXES = [
  { name: "small segments (1..100 B)", maxSegment: 100, maxData: 300 },
  { name: "MTU segments (1..1400 B)", maxSegment: 1400, maxData: 4000 },
];

export async function benchTx(seed = 1): Promise<void> {
  const harness = await Harness.spawn({ top: "ddp_tx", params: { DATA_W: 64, N_CTX: TX_N_CTX } });
  try {
    const widths = TX_DESC_FIELDS.map((f) => Math.ceil(harness.ports.find((p) => p.name === `s_desc_${f}`)!.width / 8));
    const rows = [];
    for (const mix of MIXES) {
      await harness.reset({ cycles: 4, bfms: true });
      await harness.bind("vr_source", "s_desc", "desc", [...TX_DESC_FIELDS]);
      await harness.bind("axis_source", "s_axis", "in");
      await harness.bind("axis_monitor", "s_axis", "inmon");
      await harness.bind("axis_sink", "m_axis", "out");
      const sc = txScenario(new Rng(seed), { sockets: 8, pdusPerSocket: 40, retransmit: 0, nCtx: TX_N_CTX, ...mix });
      const model = new TxModel(TX_N_CTX);
      // Contexts first, so that the measured stream is frames only (a command takes a cycle of its own).
      const adds = sc.items.filter((i) => i.desc.kind === TxKind.ADD);
      const frames = sc.items.filter((i) => i.desc.kind === TxKind.FRAME);
      for (const a of adds) if (a.desc.kind === TxKind.ADD) model.command(a.desc);
      await harness.send("desc", adds.map((i) => encodeTxDesc(i.desc, widths)));
      await harness.run(1000, [{ idle: "desc" }]);
      await harness.send("desc", frames.map((i) => encodeTxDesc(i.desc, widths)));
      await harness.send("in", frames.map((i) => i.frame!));
      await harness.run(10_000_000, [{ received: { out: frames.length } }]);
      const ins = await harness.recv("inmon");
      const outs = await harness.recv("out");
      const beats = frames.reduce((n, i) => n + Math.ceil(i.frame!.length / 8), 0);
      const latencies = [...new Set(outs.map((o, k) => o.start - ins[k]!.start))];
      const mismatches = frames.filter((i, k) => i.desc.kind === TxKind.FRAME && !Buffer.from(outs[k]!.data).equals(model.frame(i.desc, i.frame!))).length;
      rows.push({
        mix: mix.name,
        frames: frames.length,
        "beats in": beats,
        cycles: ins.at(-1)!.end - ins[0]!.start + 1,
        "beats/cycle": (beats / (ins.at(-1)!.end - ins[0]!.start + 1)).toFixed(2),
        "latency (cycles)": latencies.join(" / "),
        "digests filled": model.stats.ddgst,
        "model mismatches": mismatches,
      });
    }
    console.log("ddp_tx line rate (DATA_W 64, output always ready; cycles from the BFM stamps)");
    console.table(rows);
  } finally {
    await harness.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchTx(Number(process.env.SEED ?? 1));
}
