// End to end through the whole stack: target -> (wire) -> offload device -> driver -> TCP -> NVMe/TCP host,
// against both back ends of the device: the reference model always, the RTL (ddp_top in Verilator) for the
// scenarios its default build supports.
// Invariants checked in every run (src/stack/invariants.ts): every read returns the namespace's bytes; the
// stream TCP delivers equals the stream the target sent; no host byte outside a registered buffer changed; setup
// == teardown, sk-add == sk-del, and the driver's, host's and device's counters agree; in order, software copies
// and CRCs no byte of an offloaded read (beyond what the MAX_SEGS limit leaves on the ring). On top, each scenario checks which reads were offloaded against what
// the limits imply, computed here from the read sizes and the host's segment size alone: on an offloaded queue a
// read over MAX_SGL x 4 KiB goes out as several commands of at most that (Linux's max_hw_sectors), and each command
// is set up when its buffer is page-granular and at or above io_threshold; a refused command is counted as a setup
// failure and copied by software, every byte of it still right.

import { describe, expect, it } from "vitest";
import { ModelDevice, type OffloadDevice } from "../../src/device/index.js";
import { describeOnRtl } from "../util/rtl-device.js";
import { ULP_DDP_CAP_NVME_TCP, ULP_DDP_CAP_NVME_TCP_DDGST_RX } from "../../src/contract/index.js";
import { HostMemory } from "../../src/contract/host-memory.js";
import type { WireImpairments } from "../../src/nvmet/wire.js";
import { sessionInvariants } from "../../src/stack/invariants.js";
import { openSession, type SessionConfig } from "../../src/stack/session.js";
import { runIo } from "../../src/stack/workload.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";

const seed = seedFromEnv();
console.log(`e2e offload seed=${seed} (SEED=${seed} to reproduce)`);

/** The default build's MAX_SGL and PAGE (and the model's defaults): a buffer may span 128 pages of 4 KiB. */
const MAX_SGL = 128;
const DEVICE_PAGE = 4096;

interface Scenario {
  name: string;
  session: Omit<SessionConfig, "seed" | "nic">;
  reads: number;
  /** Read sizes in blocks: random in [minBlocks (default 1), maxBlocks]. */
  minBlocks?: number;
  maxBlocks: number;
  inFlight: number;
  /** Bytes per segment of the host's read buffers, each segment on its own 4 KiB page (default 4096). */
  pageSize?: number;
  /** What the scenario is about: some (or all) of its reads must be refused by the driver. */
  refused?: "some" | "all";
  /** What the scenario is about: some (or all) of its reads must go out as several commands. */
  split?: "some" | "all";
  caps?: number;
  offload?: boolean;
  /** Model only: the device's io_threshold (for the RTL it is a parameter needing its own build). */
  ioThreshold?: number;
  rtl: boolean;
}

const impaired: WireImpairments = { loss: 0.03, reorder: 0.03, duplicate: 0.03, corrupt: 0.03 };
const scenarios: Scenario[] = [
  { name: "one queue, digests on, depth 8, reads up to 1M (over 128 device pages: split into commands of 512K, all placed)", session: { hdgst: true, ddgst: true, queueDepth: 8 }, reads: 24, maxBlocks: 2048, inFlight: 12, split: "some", rtl: true },
  { name: "1M reads, depth 2: each goes out as two 512K commands, both placed, no setup refused", session: { hdgst: true, ddgst: true, queueDepth: 2 }, reads: 4, minBlocks: 2048, maxBlocks: 2048, inFlight: 2, split: "all", rtl: true },
  { name: "three queues, no digests, depth 4, 512-byte pages (not page-granular: reads over one segment fall back)", session: { hdgst: false, ddgst: false, queueDepth: 4, queues: 3, c2hDataSize: 2048 }, reads: 10, maxBlocks: 16, inFlight: 6, pageSize: 512, refused: "some", rtl: true },
  { name: "depth 1, data digest only, 512-byte PDUs, MSS 536, 8K pages (two device pages each), seq wrap", session: { hdgst: false, ddgst: true, queueDepth: 1, c2hDataSize: 512, mss: 536, targetIsn: 0xffff_d000 }, reads: 12, maxBlocks: 24, inFlight: 3, pageSize: 8192, rtl: true },
  { name: "depth 32, 4K blocks, SUCCESS flag, reordered responses, two queues", session: { hdgst: true, ddgst: true, queueDepth: 32, queues: 2, blockSize: 4096, blocks: 8192, successFlag: true, reorder: true, c2hDataSize: 8192 }, reads: 40, maxBlocks: 16, inFlight: 40, rtl: true },
  { name: "ddgst-rx cap off: copies skipped, digests in software", session: { hdgst: false, ddgst: true, queueDepth: 8 }, reads: 12, maxBlocks: 64, inFlight: 8, caps: ULP_DDP_CAP_NVME_TCP, rtl: true },
  { name: "nvme-tcp cap off: no sk_add, the NIC passes everything to software", session: { hdgst: true, ddgst: true, queueDepth: 8 }, reads: 8, maxBlocks: 64, inFlight: 8, caps: ULP_DDP_CAP_NVME_TCP_DDGST_RX, rtl: false },
  { name: "ddp_offload off", session: { hdgst: false, ddgst: true, queueDepth: 8 }, reads: 8, maxBlocks: 64, inFlight: 8, offload: false, rtl: false },
  { name: "io_threshold 8K: smaller reads are not set up", session: { hdgst: false, ddgst: true, queueDepth: 8 }, reads: 20, maxBlocks: 40, inFlight: 10, ioThreshold: 8192, rtl: false },
  { name: "impaired wire: loss, reorder, duplicates, corruption", session: { hdgst: true, ddgst: true, queueDepth: 8, impairments: impaired, mss: 1000 }, reads: 16, maxBlocks: 64, inFlight: 8, rtl: true },
  { name: "1000-byte pages are not page-granular: every read (4K blocks) is refused and copied by software", session: { hdgst: false, ddgst: true, queueDepth: 4, blockSize: 4096, blocks: 8192 }, reads: 12, maxBlocks: 8, inFlight: 6, pageSize: 1000, refused: "all", rtl: true },
];

async function runScenario(sc: Scenario, i: number, device: OffloadDevice): Promise<void> {
  const rng = new Rng(seed + i);
  const caps = sc.caps ?? ULP_DDP_CAP_NVME_TCP | ULP_DDP_CAP_NVME_TCP_DDGST_RX;
  const offload = (sc.offload ?? true) && (caps & ULP_DDP_CAP_NVME_TCP) !== 0;
  const session = await openSession({
    seed: rng.u32(),
    ...sc.session,
    nic: { device, offload: sc.offload ?? true, caps, ...(sc.pageSize ? { pageSize: sc.pageSize } : {}) },
  });
  const queues = sc.session.queues ?? 1;
  const bs = sc.session.blockSize ?? 512;
  const report = await runIo(session, { seed: rng.u32(), rw: "randread", rwmixread: 100, bs: [(sc.minBlocks ?? 1) * bs, sc.maxBlocks * bs], iodepth: sc.inFlight, ios: sc.reads * queues });
  const failed = (await sessionInvariants(session, report)).filter((i) => !i.ok);
  expect(failed, failed.map((i) => `${i.name}: ${i.detail}`).join("\n")).toEqual([]);
  expect(report.reads).toBe(sc.reads * queues);

  const host = report.host;
  const stats = await session.driver!.getStats();
  const want = expectedOffload(sc, offload, report.readSizes);
  if (offload && sc.refused === "some") expect(want.refused, "commands the driver must refuse").toBeGreaterThan(0);
  if (offload && sc.refused === "all") expect(want.offloaded, "commands the driver may take").toBe(0);
  if (offload && sc.split === "some") expect(want.split, "reads that must be split").toBeGreaterThan(0);
  if (offload && sc.split === "all") expect(want.split, "reads that must be split").toBe(report.reads);
  if (offload && sc.split) expect(want.refused, "commands the driver must refuse: none, each is within MAX_SGL pages").toBe(0);
  expect(report.readCommands, "Read commands (reads split at MAX_SGL x 4 KiB on an offloaded queue)").toBe(want.commands);
  expect(stats!["rx-nvme-tcp-sk-add"], "sk-add").toBe(offload ? queues : 0);
  expect(stats!["rx-nvme-tcp-setup"], "setups").toBe(offload ? want.offloaded : 0);
  expect(stats!["rx-nvme-tcp-setup-fail"], "setups refused (not page-granular, or over MAX_SGL pages)").toBe(offload ? want.refused : 0);
  const inOrder = !sc.session.impairments;
  if (inOrder) {
    expect(host.bytesPlaced, "bytes the host did not copy").toBe(offload ? want.placedBytes : 0);
    expect(host.bytesCopied, "bytes the host copied").toBe(report.bytesRead - (offload ? want.placedBytes : 0));
    const ddgstRx = offload && sc.session.ddgst && (caps & ULP_DDP_CAP_NVME_TCP_DDGST_RX) !== 0;
    expect(host.bytesCrcd, "bytes the host CRC'd").toBe(!sc.session.ddgst || ddgstRx ? 0 : report.bytesRead);
    expect(host.ddgstOffloaded, "PDUs whose digest the NIC checked").toBe(ddgstRx ? host.c2hDataPdus : 0);
  } else {
    // Loss makes the device search and resync: part of the data is placed, the rest software copies.
    expect(host.bytesPlaced, "bytes placed despite the loss").toBeGreaterThan(0);
    expect(host.bytesPlaced).toBeLessThan(report.bytesRead);
    expect(stats["rx-nvme-tcp-resync"], "resync requests").toBeGreaterThan(0);
  }
  console.log(`[e2e ${device.kind}] ${sc.name}: ${report.reads} reads as ${report.readCommands} commands, ${report.bytesRead} bytes, placed ${host.bytesPlaced}, copied ${host.bytesCopied}, CRC'd ${host.bytesCrcd}; ${JSON.stringify(stats)}`);
}

/**
 * The commands the reads go out as, and which of them the driver takes. On an offloaded queue a read is cut into
 * commands of at most MAX_SGL x 4 KiB (whole blocks; Linux's max_hw_sectors). A command's buffer is segments of
 * `pageSize` bytes (the last shorter), each starting on a 4 KiB page, i.e. on a device page: it keeps the page
 * rules when it is one segment or every segment but the last ends on a page (pageSize a multiple of the page), and
 * then spans ceil(len / page) device pages.
 */
function expectedOffload(sc: Scenario, offload: boolean, sizes: number[][]): { commands: number; split: number; offloaded: number; refused: number; placedBytes: number } {
  const segment = sc.pageSize ?? 4096;
  const block = sc.session.blockSize ?? 512;
  const cap = offload ? Math.floor((MAX_SGL * 4096) / block) * block : Infinity;
  const out = { commands: 0, split: 0, offloaded: 0, refused: 0, placedBytes: 0 };
  for (const read of sizes.flat()) {
    const parts = Array.from({ length: Math.max(1, Math.ceil(read / cap)) }, (_, k) => Math.min(cap, read - k * cap));
    out.commands += parts.length;
    if (parts.length > 1) out.split++;
    for (const len of parts) {
      if (len < (sc.ioThreshold ?? 0)) continue;
      const granular = len <= segment || segment % DEVICE_PAGE === 0;
      if (!granular || Math.ceil(len / DEVICE_PAGE) > MAX_SGL) {
        out.refused++;
      } else {
        out.offloaded++;
        out.placedBytes += len;
      }
    }
  }
  return out;
}

describe("end to end, model device", () => {
  scenarios.forEach((sc, i) => {
    it(sc.name, async () => {
      const memory = new HostMemory();
      await runScenario(sc, i, new ModelDevice(memory, sc.ioThreshold === undefined ? {} : { ioThreshold: sc.ioThreshold }));
    });
  });
});

describeOnRtl("end to end, RTL device (ddp_top)", (openDevice) => {
  scenarios.forEach((sc, i) => {
    if (!sc.rtl) return;
    it(sc.name, async () => {
      await runScenario(sc, i, await openDevice());
    }, 120_000);
  });
});
