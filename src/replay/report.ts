// The shape of a replay's result (`ddpsim replay --json`), checked before anyone reads it.

import { z } from "zod";
import { StatsReplySchema } from "../driver/netlink.js";
import { BackendSchema, InvariantSchema } from "../stack/report.js";

const count = z.number().int().min(0);

/** hw-ok: the NIC verified the data digest; sw-ok: software did; bad: it did not match; none: no data digest. */
export const DigestResultSchema = z.enum(["hw-ok", "sw-ok", "bad", "none"]);
export type DigestResult = z.infer<typeof DigestResultSchema>;

export const ReplayReportSchema = z.object({
  file: z.string(),
  backend: BackendSchema,
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
