// The shape of a whole-stack run's result (`ddpsim run --json`, make bench), checked before anyone reads it.

import { z } from "zod";
import { ULP_DDP_TX_STAT_NAMES } from "../contract/ulp-ddp.js";
import { StatsReplySchema } from "../driver/netlink.js";

const count = z.number().int().min(0);

/** The transmit block's counters and the driver's transmit counters, by their netlink-style names. */
const TX_STAT_NAMES = [...Object.values(ULP_DDP_TX_STAT_NAMES), "tx-nvme-tcp-sk-add", "tx-nvme-tcp-sk-del", "tx-nvme-tcp-resync-bytes"] as const;

export const InvariantSchema = z.object({ name: z.string(), ok: z.boolean(), detail: z.string() });
export type Invariant = z.infer<typeof InvariantSchema>;

export const BACKENDS = ["model", "rtl"] as const;
export const BackendSchema = z.enum(BACKENDS);
export type Backend = z.infer<typeof BackendSchema>;

export const RunReportSchema = z.object({
  seed: count,
  backend: BackendSchema,
  workload: z.object({
    rw: z.string(),
    rwmixread: count,
    bs: count,
    iodepth: count,
    queues: count,
    ios: count,
    hdgst: z.boolean(),
    ddgst: z.boolean(),
    mss: count,
    loss: z.number(),
    reorder: z.number(),
    pduSize: count,
    pageSize: count,
  }),
  /**
   * reads / writes: the workload's I/Os (fio's count), each once; readCommands / writeCommands: the NVMe commands
   * they went out as (more when an offloaded queue split I/Os above max_ddp_sgl_len x 4 KiB).
   */
  io: z.object({ reads: count, readCommands: count, writes: count, writeCommands: count, bytesRead: count, bytesWritten: count, errors: count }),
  wallSeconds: z.number(),
  simulation: z.object({
    clockMHz: z.number(),
    dataBits: count.nullable(),
    /** Simulated cycles (RTL only). */
    cycles: count.nullable(),
    /** Bytes of frames through the device and of read data, per simulated cycle (RTL only). */
    frameBytesPerCycle: z.number().nullable(),
    readBytesPerCycle: z.number().nullable(),
    /** Read data rate at the clock, and the line rate (DATA_W x clock), in Gb/s. */
    readGbps: z.number().nullable(),
    lineGbps: z.number().nullable(),
    cyclesPerWallSecond: z.number().nullable(),
  }),
  offload: z.object({
    /** Placed bytes / C2HData data bytes read. */
    byteRatio: z.number(),
    placedBytes: count,
    c2hDataBytes: count,
    /** Frames with placed data / frames carrying C2HData data (retransmissions included). */
    packetRatio: z.number(),
    placedPackets: count,
    dataPackets: count,
    /** Frames of the I/O queues' controller -> host flows through the device. */
    frames: count,
    resyncRequests: count,
    resyncsConfirmed: count,
    /** Runs of unplaced data between placed data, and how long the stream ran from a loss to the resumed offload. */
    lossEpisodes: count,
    lossToResume: z.object({ meanBytes: z.number(), maxBytes: count, meanPdus: z.number() }),
    /** Data bytes left on the ring because a frame used every MAX_SEGS segment slot (a documented limit). */
    segLimitedBytes: count,
  }),
  software: z.object({
    withOffload: z.object({ bytesCopied: count, bytesCrcd: count }),
    withoutOffload: z.object({ bytesCopied: count, bytesCrcd: count }),
    /** How the figures without offload were obtained: the same workload run on the software receive path, or counted. */
    baseline: z.enum(["measured", "counted"]),
    savedCopied: z.number().int(),
    savedCrcd: z.number().int(),
  }),
  /** The transmit data-digest offload (docs/tx-contract.md). */
  transmit: z.object({
    /** PDUs whose DDGST the host left to the NIC, and their data bytes (the CRC work it did not do). */
    hostLeftPdus: count,
    hostLeftBytes: count,
    /** Digests the transmit block filled (tx-nvme-tcp-ddgst: a retransmitted digest counts again). */
    nicFilledPdus: count,
    /** Software CRC32C bytes over sent data, with and without the offload (baseline as for `software`). */
    withOffloadCrcd: count,
    withoutOffloadCrcd: count,
    savedCrcd: z.number().int(),
    stats: z.object(Object.fromEntries(TX_STAT_NAMES.map((n) => [n, count])) as Record<(typeof TX_STAT_NAMES)[number], typeof count>),
  }),
  stats: StatsReplySchema,
  /** Extra hardware counters (STATS_GET indices beyond the family's). */
  hardware: z.record(z.string(), count),
  invariants: z.array(InvariantSchema),
  ok: z.boolean(),
});
export type RunReport = z.infer<typeof RunReportSchema>;
