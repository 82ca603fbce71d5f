// Transmit data-digest offload end to end (docs/tx-contract.md), through `ddpsim run`'s stack: host -> driver
// (TxDigestOffload) -> transmit block (TxModel or ddp_tx in Verilator) -> impaired wire -> target, with loss on
// both directions: a frame the host wire loses is sent again through the NIC, the driver resyncing the block.
// The target checks every data digest in software and fails a write whose digest is wrong; every invariant must
// hold. Expected figures come from the workload alone: a write of `bs` > 4096 bytes
// goes out after R2T as ceil(bs / maxh2cdata) H2CData PDUs, each with a DDGST over its data.

import { describe, expect, it } from "vitest";
import { ULP_DDP_CAP_NVME_TCP, ULP_DDP_CAP_NVME_TCP_DDGST_RX } from "../../src/contract/index.js";
import type { RunReport } from "../../src/stack/report.js";
import { RUN_DEFAULTS, type RunOptions, runStack } from "../../src/stack/run.js";
import { seedFromEnv } from "../../src/util/rng.js";

const seed = seedFromEnv();
console.log(`e2e tx-offload seed=${seed} (SEED=${seed} to reproduce)`);

/** The target's maxh2cdata (its ICResp) and the Fabrics Connect's data, CRC'd by the host before sk_add. */
const MAXH2CDATA = 8192;
const CONNECT_DATA = 1024;

const options = (o: Partial<RunOptions>): RunOptions => ({
  ...RUN_DEFAULTS,
  seed,
  backend: "model",
  rw: "write",
  bs: 32 * 1024,
  ios: 24,
  ddgst: true,
  impairments: { loss: 0.01, reorder: 0, duplicate: 0, corrupt: 0 },
  ...o,
});

async function expectOffloaded(o: RunOptions): Promise<RunReport> {
  const r = await runStack(o);
  expect(r.invariants.filter((i) => !i.ok)).toEqual([]);
  expect(r.io.errors).toBe(0);
  expect(r.io.reads + r.io.writes).toBe(o.ios);
  const left = r.io.writes * Math.ceil(o.bs / MAXH2CDATA);
  expect(left).toBeGreaterThan(0);
  expect(r.transmit.hostLeftPdus).toBe(left);
  expect(r.transmit.hostLeftBytes).toBe(r.io.bytesWritten);
  // Every digest is filled at least once; a retransmitted frame holding a digest's end fills it again.
  expect(r.transmit.nicFilledPdus).toBeGreaterThanOrEqual(left);
  expect(r.transmit.stats["tx-nvme-tcp-ddgst"]).toBe(r.transmit.nicFilledPdus);
  expect(r.transmit.stats["tx-nvme-tcp-bad-hdr"]).toBe(0);
  // The driver resyncs before every frame that does not start at the block's next byte: none passes untracked.
  expect(r.transmit.stats["tx-nvme-tcp-ooo"]).toBe(0);
  // Offloaded queues CRC nothing they send after sk_add; only each queue's Connect went before it.
  expect(r.transmit.withOffloadCrcd).toBe(o.queues * CONNECT_DATA);
  expect(r.transmit.withoutOffloadCrcd).toBe(o.queues * CONNECT_DATA + r.io.bytesWritten);
  expect(r.transmit.savedCrcd).toBe(r.io.bytesWritten);
  return r;
}

describe("transmit data-digest offload end to end, model", () => {
  it("write, ddgst, 1 % loss: the NIC fills every DDGST, the host CRCs none, the target finds every one good", async () => {
    await expectOffloaded(options({}));
  });

  it("randrw over two queues", async () => {
    await expectOffloaded(options({ rw: "randrw", queues: 2, ios: 40 }));
  });

  it("5 % loss, duplicates and corruption: retransmissions go through the NIC again after a resync", async () => {
    const r = await expectOffloaded(options({ impairments: { loss: 0.05, reorder: 0.02, duplicate: 0.02, corrupt: 0.02 } }));
    const resyncs = r.transmit.stats["tx-nvme-tcp-resync"];
    expect(resyncs).toBeGreaterThan(0);
    // Each resync costs the driver a walk over at most one PDU (the largest: an H2CData with HDGST and DDGST).
    expect(r.transmit.stats["tx-nvme-tcp-resync-bytes"]).toBeLessThanOrEqual(resyncs * (24 + 4 + MAXH2CDATA + 4));
  });

  it("cap nvme-tcp-ddgst-tx off: the host CRCs everything it sends, the NIC fills none", async () => {
    const o = options({ caps: ULP_DDP_CAP_NVME_TCP | ULP_DDP_CAP_NVME_TCP_DDGST_RX, baseline: false });
    const r = await runStack(o);
    expect(r.invariants.filter((i) => !i.ok)).toEqual([]);
    expect(r.io.errors).toBe(0);
    expect([r.transmit.hostLeftPdus, r.transmit.hostLeftBytes, r.transmit.nicFilledPdus]).toEqual([0, 0, 0]);
    expect(r.transmit.withOffloadCrcd).toBe(CONNECT_DATA + o.ios * o.bs);
    expect(r.transmit.savedCrcd).toBe(0);
  });
});

describe("transmit data-digest offload end to end, RTL (ddp_top + ddp_tx)", () => {
  it("write, ddgst, 1 % loss", async () => {
    await expectOffloaded(options({ backend: "rtl", ios: 16 }));
  }, 120_000);
});
