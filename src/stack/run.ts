// The whole stack as one job (`ddpsim run`, make bench): a fio-like workload through target -> impaired wire ->
// offload device (RTL or model) -> driver -> TCP -> NVMe/TCP host, and host -> driver -> transmit data-digest
// block (same backend) -> target, then the report: simulated throughput at a stated clock, the offload figures,
// resyncs, the software work the offload saved on receive and transmit (against the same workload on the
// software paths), the ulp_ddp and transmit statistics and every invariant.

import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { z } from "zod";
import { HostMemory } from "../contract/host-memory.js";
import { openDevice, RtlDevice } from "../device/index.js";
import { openTxDevice } from "../device/tx-device.js";
import { txStatsByName } from "../contract/ulp-ddp.js";
import { statsGet } from "../driver/netlink.js";
import { writePcap } from "../net/pcap.js";
import { HOST_PAGE } from "../nvme/host-buffer.js";
import { sessionFigures } from "./figures.js";
import { sessionInvariants } from "./invariants.js";
import { BackendSchema, type RunReport, RunReportSchema } from "./report.js";
import { openSession, type SessionConfig } from "./session.js";
import { type IoProgress, runIo, RW_MODES } from "./workload.js";

const BLOCK = 512;
/** The namespace of a run: 512 MiB. */
const NAMESPACE_BLOCKS = 1 << 20;
const int = (min: number, max: number) => z.number().int().min(min).max(max);
const rate = z.number().min(0).max(1);

/** Everything a run takes, with the ranges the stack accepts. */
export const RunOptionsSchema = z
  .object({
    seed: int(0, 0xffffffff),
    backend: BackendSchema,
    rw: z.enum(RW_MODES),
    rwmixread: int(0, 100),
    /** Bytes per I/O, a multiple of the 512-byte block. */
    bs: int(BLOCK, 1 << 30).refine((n) => n % BLOCK === 0, { message: `must be a multiple of the ${BLOCK}-byte block` }),
    iodepth: int(1, 4096),
    ios: int(1, 10_000_000),
    queues: int(1, 64),
    hdgst: z.boolean(),
    ddgst: z.boolean(),
    /** The target's largest C2HData PDU (default 4096). */
    pduSize: int(1, 1 << 30).optional(),
    /**
     * Bytes per segment of the read buffers, each on a 4 KiB host page (default HOST_PAGE). The driver maps a
     * buffer in the device's pages: a read is offloaded when its segments are a multiple of the page (the last
     * may be shorter) and it spans at most max_ddp_sgl_len pages; software copies the others. The host splits an
     * I/O over max_ddp_sgl_len x 4 KiB into several commands (NvmeTcpHost.split), so with 4 KiB device pages no
     * read is too long.
     */
    pageSize: int(64, 1 << 30).optional(),
    mss: int(64, 9000),
    impairments: z.object({ loss: rate, reorder: rate, duplicate: rate, corrupt: rate }),
    /** Frames per driver receive call (NAPI weight); default 64. */
    napiBudget: z.number().min(1).optional(),
    /** Active ulp_ddp caps to set before the queues connect (default: as the device comes up, all on). */
    caps: int(0, 7).optional(),
    clockMHz: z.number().positive().max(1e6),
    /** FST waveform of the RTL run, and a pcap of the I/O queues. */
    waves: z.string().optional(),
    pcap: z.string().optional(),
    /** Measure the software work without offload on the software receive path (else count it). */
    baseline: z.boolean(),
  })
  .refine((o) => o.impairments.loss + o.impairments.reorder + o.impairments.duplicate + o.impairments.corrupt <= 1, { message: "must add up to at most 1", path: ["impairments"] })
  .refine((o) => o.waves === undefined || o.backend === "rtl", { message: "needs the rtl backend", path: ["waves"] })
  // Each queue keeps its I/Os in its own slots of the namespace, twice its iodepth of them (runIo).
  .refine((o) => 2 * o.iodepth * o.queues * o.bs <= NAMESPACE_BLOCKS * BLOCK, {
    message: `bs x iodepth x queues x 2 must fit the ${(NAMESPACE_BLOCKS * BLOCK) >> 20} MiB namespace`,
    path: ["bs"],
  });
export type RunOptions = z.infer<typeof RunOptionsSchema>;

/** The defaults of everything but the seed. */
export const RUN_DEFAULTS = {
  backend: "rtl",
  rw: "read",
  rwmixread: 50,
  bs: 128 * 1024,
  iodepth: 8,
  ios: 32,
  queues: 1,
  hdgst: false,
  ddgst: false,
  mss: 1460,
  impairments: { loss: 0, reorder: 0, duplicate: 0, corrupt: 0 },
  clockMHz: 250,
  baseline: true,
} as const satisfies Omit<RunOptions, "seed">;

const DEFAULT_PDU = 4096;

function sessionConfig(o: RunOptions): SessionConfig {
  const impaired = Object.values(o.impairments).some((r) => r > 0);
  return {
    seed: o.seed,
    blocks: NAMESPACE_BLOCKS,
    hdgst: o.hdgst,
    ddgst: o.ddgst,
    queueDepth: o.iodepth,
    queues: o.queues,
    mss: o.mss,
    c2hDataSize: o.pduSize ?? DEFAULT_PDU,
    ...(impaired ? { impairments: o.impairments } : {}),
    ...(o.pcap !== undefined ? { capture: true } : {}),
  };
}

export async function runStack(options: RunOptions, onProgress?: (line: string) => void): Promise<RunReport> {
  const o = RunOptionsSchema.parse(options);
  const memory = new HostMemory();
  const device = await openDevice(o.backend, memory);
  const rtl = device instanceof RtlDevice ? device : undefined;
  // The transmit data-digest block on the same backend (its own process for the RTL).
  const tx = await openTxDevice(o.backend).catch(async (e: unknown) => {
    await device.close();
    throw e;
  });
  try {
    const pageSize = o.pageSize ?? HOST_PAGE;
    if (o.waves !== undefined) await rtl!.harness.trace(resolve(o.waves));
    const t0 = performance.now();
    const nic = { device, tx, pageSize, ...(o.napiBudget !== undefined ? { napiBudget: o.napiBudget } : {}), ...(o.caps !== undefined ? { caps: o.caps } : {}) };
    const session = await openSession({ ...sessionConfig(o), nic });
    const spec = { seed: o.seed, rw: o.rw, rwmixread: o.rwmixread, bs: o.bs, iodepth: o.iodepth, ios: o.ios };
    const progress = (p: IoProgress): void =>
      onProgress?.(`ddpsim run: ${p.done}/${p.total} I/Os, ${(p.bytes / 2 ** 20).toFixed(1)} MiB, ${((performance.now() - t0) / 1000).toFixed(1)} s${rtl ? `, ${(rtl.cycles / 1e6).toFixed(2)} M cycles` : ""}`);
    const io = await runIo(session, spec, progress);
    const wallSeconds = (performance.now() - t0) / 1000;
    if (o.waves !== undefined) await rtl!.harness.trace(null);
    if (o.pcap !== undefined) writeFileSync(o.pcap, writePcap(session.ios.flatMap((q) => q.captured.map((f) => ({ data: f.data })))));
    const invariants = await sessionInvariants(session, io);
    const driver = session.driver!;
    const stats = await statsGet({ ifindex: driver.ifindex, ops: driver });
    const hardware = await driver.hardwareCounters();
    const fig = sessionFigures(session);

    // Without offload software copies every C2HData byte and CRCs it when data digests are on: measured on the
    // same workload through the software receive path, or counted when that run is skipped.
    // Without offload the host also CRCs the data of every PDU it sends with a digest.
    let without = { bytesCopied: io.host.bytesCopied + io.host.bytesPlaced, bytesCrcd: o.ddgst ? io.bytesRead : 0 };
    let withoutTxCrcd = io.host.txBytesCrcd + io.host.txBytesNotCrcd;
    if (o.baseline) {
      const plain = await runIo(await openSession({ ...sessionConfig(o), capture: false }), spec);
      without = { bytesCopied: plain.host.bytesCopied, bytesCrcd: plain.host.bytesCrcd };
      withoutTxCrcd = plain.host.txBytesCrcd;
    }
    const txStats = (await driver.txStats())!;
    const recorder = session.recorder!;
    const cycles = rtl?.cycles ?? null;
    const dataBits = rtl ? rtl.dataBytes * 8 : null;
    const perCycle = (bytes: number): number | null => (cycles ? bytes / cycles : null);
    const readBytesPerCycle = perCycle(io.bytesRead);
    const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
    const report: RunReport = {
      seed: o.seed,
      backend: o.backend,
      workload: {
        rw: o.rw,
        rwmixread: o.rwmixread,
        bs: o.bs,
        iodepth: o.iodepth,
        ios: o.ios,
        queues: o.queues,
        hdgst: o.hdgst,
        ddgst: o.ddgst,
        mss: o.mss,
        loss: o.impairments.loss,
        reorder: o.impairments.reorder,
        pduSize: o.pduSize ?? DEFAULT_PDU,
        pageSize,
      },
      io: { reads: io.reads, readCommands: io.readCommands, writes: io.writes, writeCommands: io.writeCommands, bytesRead: io.bytesRead, bytesWritten: io.bytesWritten, errors: io.failed.read + io.failed.write },
      wallSeconds,
      simulation: {
        clockMHz: o.clockMHz,
        dataBits,
        cycles,
        frameBytesPerCycle: perCycle(recorder.frameBytes),
        readBytesPerCycle,
        readGbps: readBytesPerCycle === null ? null : (readBytesPerCycle * 8 * o.clockMHz) / 1000,
        lineGbps: dataBits === null ? null : (dataBits * o.clockMHz) / 1000,
        cyclesPerWallSecond: cycles === null ? null : cycles / wallSeconds,
      },
      offload: {
        byteRatio: io.bytesRead === 0 ? 0 : stats["rx-nvme-tcp-bytes"] / io.bytesRead,
        placedBytes: stats["rx-nvme-tcp-bytes"],
        c2hDataBytes: io.bytesRead,
        packetRatio: fig.packets,
        placedPackets: fig.placedPackets,
        dataPackets: fig.dataPackets,
        frames: fig.frames,
        resyncRequests: stats["rx-nvme-tcp-resync"],
        resyncsConfirmed: io.host.resyncConfirmed,
        lossEpisodes: fig.episodes,
        lossToResume: { meanBytes: mean(fig.gapBytes), maxBytes: Math.max(0, ...fig.gapBytes), meanPdus: mean(fig.gapPdus) },
        segLimitedBytes: fig.segLimitedBytes,
      },
      software: {
        withOffload: { bytesCopied: io.host.bytesCopied, bytesCrcd: io.host.bytesCrcd },
        withoutOffload: without,
        baseline: o.baseline ? "measured" : "counted",
        savedCopied: without.bytesCopied - io.host.bytesCopied,
        savedCrcd: without.bytesCrcd - io.host.bytesCrcd,
      },
      transmit: {
        hostLeftPdus: io.host.txDdgstOffloaded,
        hostLeftBytes: io.host.txBytesNotCrcd,
        nicFilledPdus: txStats.device.ddgst,
        withOffloadCrcd: io.host.txBytesCrcd,
        withoutOffloadCrcd: withoutTxCrcd,
        savedCrcd: withoutTxCrcd - io.host.txBytesCrcd,
        stats: { ...txStatsByName(txStats.device), ...txStats.driver },
      },
      stats,
      hardware,
      invariants,
      ok: invariants.every((i) => i.ok),
    };
    return RunReportSchema.parse(report);
  } finally {
    await tx.close();
    await device.close();
  }
}
