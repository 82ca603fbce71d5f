// The shape of a replay's result (`ddpsim replay --json`), checked before anyone reads it.

import { z } from "zod";
import { StatsReplySchema } from "../driver/netlink.js";
import { BackendSchema, InvariantSchema } from "../stack/report.js";

const count = z.number().int().min(0);

/** hw-ok: the NIC verified the data digest; sw-ok: software did; bad: it did not match; none: no data digest. */
export const DigestResultSchema = z.enum(["hw-ok", "sw-ok", "bad", "none"]);
export type DigestResult = z.infer<typeof DigestResultSchema>;

/**
 * Something the capture, the captured host or the controller got wrong. Findings never fail a replay: it answers
 * whether the offload (NIC and driver) behaved, whatever its peers did.
 * capture: the file (snap length, link layer, connections caught mid-stream); host: the captured host's stream
 * (reserved fields, SGLs, ...); controller: its stream, protocol errors included (Linux fails the queue on those).
 */
export const FindingSchema = z.object({
  /** 1-based frame number of the frame that carries it (null: none known). */
  frame: count.nullable(),
  connection: count.nullable(),
  source: z.enum(["capture", "host", "controller"]),
  code: z.string(),
  what: z.string(),
});
export type Finding = z.infer<typeof FindingSchema>;

export const ReplayReportSchema = z.object({
  file: z.string(),
  format: z.enum(["pcap", "pcapng"]),
  linkTypes: z.array(count),
  backend: BackendSchema,
  port: count,
  frames: count,
  /** Frames given to the device (every frame but those the hosts sent on the replayed connections). */
  deviceFrames: count,
  /**
   * How read buffers were laid out and which of them the device can take. Every buffer is made of `pageSize`-byte
   * segments, each on a 4 KiB host page; the driver maps it in the device's `devicePage`-byte pages (rule
   * "device-pages"): a buffer is set up when its segments keep the page rules (each a multiple of the page, the last
   * may be shorter) and it spans at most `maxSgl` pages, so reads up to maxSgl x devicePage bytes are offloaded.
   * Longer ones are copied by software: Linux would not issue them on an offloaded queue, whose max_hw_sectors
   * comes from max_ddp_sgl_len, but a capture of another host may hold them.
   */
  pages: z.object({ rule: z.literal("device-pages"), pageSize: count, devicePage: count, maxSgl: count }),
  /** The logical block size of namespaces no Identify Namespace in the capture describes. */
  lbaSize: count,
  connections: z.array(
    z.object({
      host: z.string(),
      target: z.string(),
      qid: count.nullable(),
      hdgst: z.boolean(),
      ddgst: z.boolean(),
      offloaded: z.boolean(),
      /** Set when a protocol error left the queue failed for good (no PDU boundary to carry on from). */
      failed: z.string().nullable(),
    }),
  ),
  /** Every command that moves data controller to host (Read, Identify, Get Log Page, ...). */
  reads: z.array(
    z.object({
      connection: count,
      cid: count,
      command: z.string(),
      /** Bytes the command may move, and bytes of them kept in its buffer (see ObservedSqe.keep). */
      length: count,
      kept: count,
      /** Set up for DDP (TAG_SETUP accepted). */
      offloaded: z.boolean(),
      placed: count,
      copied: count,
      digest: DigestResultSchema,
      /** Completed in the capture (CapsuleResp or SUCCESS). */
      completed: z.boolean(),
      /** ok, error (an error status or a bad data digest), failed (a protocol error failed the queue), outstanding (the capture ended first). */
      status: z.enum(["ok", "error", "failed", "outstanding"]),
      sha256: z.string(),
    }),
  ),
  findings: z.array(FindingSchema),
  stats: StatsReplySchema,
  hardware: z.record(z.string(), count),
  invariants: z.array(InvariantSchema),
  ok: z.boolean(),
});
export type ReplayReport = z.infer<typeof ReplayReportSchema>;
