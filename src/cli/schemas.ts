// The shapes of ddpsim's --json output (one JSON object per command), checked before they are printed so that
// scripts can rely on them.

import { z } from "zod";
import { CAP_NAMES, type CapName } from "../driver/netlink.js";
import { ULP_DDP_STAT_NAMES } from "../contract/ulp-ddp.js";

const count = z.number().int().min(0);
const capName = z.enum(Object.keys(CAP_NAMES) as [CapName, ...CapName[]]);

export const CapsReplySchema = z.object({ ifindex: count, hw: z.array(capName), active: z.array(capName) });

export const CapsSetOutputSchema = z.object({
  reply: CapsReplySchema,
  /** The caps-set-ntf message (group mgmt), sent only when the active set changed. */
  ntf: CapsReplySchema.nullable(),
});

/** stats-get's reply: ifindex and the family's ten statistics, by their netlink names. */
export const StatsReplySchema = z.object({ ifindex: count, ...Object.fromEntries(ULP_DDP_STAT_NAMES.map((n) => [n, count])) } as { ifindex: typeof count } & Record<(typeof ULP_DDP_STAT_NAMES)[number], typeof count>);

export const InvariantSchema = z.object({ name: z.string(), ok: z.boolean(), detail: z.string() });
export type Invariant = z.infer<typeof InvariantSchema>;

export const RunReportSchema = z.object({
  seed: count,
  backend: z.enum(["model", "rtl"]),
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
    pageSize: count,
  }),
  io: z.object({ reads: count, writes: count, bytesRead: count, bytesWritten: count, errors: count }),
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
    /** Placed bytes / C2HData data bytes. */
    byteRatio: z.number(),
    placedBytes: count,
    c2hDataBytes: count,
    /** Frames with placed data / frames carrying C2HData data. */
    packetRatio: z.number(),
    placedPackets: count,
    dataPackets: count,
    resyncRequests: count,
    resyncsConfirmed: count,
  }),
  software: z.object({
    withOffload: z.object({ bytesCopied: count, bytesCrcd: count }),
    withoutOffload: z.object({ bytesCopied: count, bytesCrcd: count }),
    /** How the figures without offload were obtained: the same workload run on the software receive path, or counted. */
    baseline: z.enum(["measured", "counted"]),
    savedCopied: z.number().int(),
    savedCrcd: z.number().int(),
  }),
  stats: StatsReplySchema,
  /** Extra hardware counters (STATS_GET indices beyond the family's). */
  hardware: z.record(z.string(), count),
  invariants: z.array(InvariantSchema),
  ok: z.boolean(),
});
export type RunReport = z.infer<typeof RunReportSchema>;

export const DigestResultSchema = z.enum(["hw-ok", "sw-ok", "bad", "none"]);
export type DigestResult = z.infer<typeof DigestResultSchema>;

export const ReplayReportSchema = z.object({
  file: z.string(),
  backend: z.enum(["model", "rtl"]),
  port: count,
  frames: count,
  connections: z.array(
    z.object({
      host: z.string(),
      target: z.string(),
      qid: count.nullable(),
      hdgst: z.boolean(),
      ddgst: z.boolean(),
      offloaded: z.boolean(),
    }),
  ),
  reads: z.array(
    z.object({
      connection: count,
      cid: count,
      length: count,
      /** Set up for DDP (TAG_SETUP accepted). */
      offloaded: z.boolean(),
      placed: count,
      copied: count,
      digest: DigestResultSchema,
      /** Completed in the capture (CapsuleResp or SUCCESS). */
      completed: z.boolean(),
      sha256: z.string(),
    }),
  ),
  stats: StatsReplySchema,
  hardware: z.record(z.string(), count),
  invariants: z.array(InvariantSchema),
  ok: z.boolean(),
});
export type ReplayReport = z.infer<typeof ReplayReportSchema>;
