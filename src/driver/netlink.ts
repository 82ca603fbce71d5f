// The generic netlink family `ulp_ddp` (facts 4) over a device's ops: caps-get, caps-set (with the core's
// algebra and the notification rule) and stats-get, with the family's attribute and flag names.

import { z } from "zod";
import { ULP_DDP_CAP_NVME_TCP, ULP_DDP_CAP_NVME_TCP_DDGST_RX, ULP_DDP_CAP_NVME_TCP_DDGST_TX, ULP_DDP_STAT_NAMES, type UlpDdpDevOps, type UlpDdpStats } from "../contract/ulp-ddp.js";

/** enum `cap` as flag names, by bit. */
export const CAP_NAMES = {
  "nvme-tcp": ULP_DDP_CAP_NVME_TCP,
  "nvme-tcp-ddgst-rx": ULP_DDP_CAP_NVME_TCP_DDGST_RX,
  "nvme-tcp-ddgst-tx": ULP_DDP_CAP_NVME_TCP_DDGST_TX,
} as const;
export type CapName = keyof typeof CAP_NAMES;
/** The policy masks `wanted` and `wanted-mask` to the defined bits. */
const CAP_POLICY_MASK = ULP_DDP_CAP_NVME_TCP | ULP_DDP_CAP_NVME_TCP_DDGST_RX | ULP_DDP_CAP_NVME_TCP_DDGST_TX;

const count = z.number().int().min(0);
const capName = z.enum(Object.keys(CAP_NAMES) as [CapName, ...CapName[]]);

/** caps-get's reply (and caps-set's, and the caps-set-ntf notification). */
export const CapsReplySchema = z.object({ ifindex: count, hw: z.array(capName), active: z.array(capName) });
export type CapsReply = z.infer<typeof CapsReplySchema>;

/** What `ddpsim caps set` prints: the reply and the notification, sent only when the active set changed. */
export const CapsSetOutputSchema = z.object({ reply: CapsReplySchema, ntf: CapsReplySchema.nullable() });

/** stats-get's reply: ifindex and the family's ten statistics, by their netlink names. */
export const StatsReplySchema = z.object({ ifindex: count, ...Object.fromEntries(ULP_DDP_STAT_NAMES.map((n) => [n, count])) } as { ifindex: typeof count } & Record<(typeof ULP_DDP_STAT_NAMES)[number], typeof count>);
export type StatsReply = z.infer<typeof StatsReplySchema>;

export interface CapsSetRequest {
  ifindex?: number;
  wanted: CapName[];
  "wanted-mask": CapName[];
}


/** A netdev as the family reaches it: its ifindex and ulp_ddp_ops. */
export interface DdpNetdev {
  ifindex: number;
  ops: UlpDdpDevOps;
}

export function capBits(names: readonly CapName[]): number {
  return names.reduce((bits, n) => bits | CAP_NAMES[n], 0);
}

export function capNames(bits: number): CapName[] {
  return (Object.keys(CAP_NAMES) as CapName[]).filter((n) => (bits & CAP_NAMES[n]) !== 0);
}

/** caps-set step 1: `new = ((active & ~mask) | (wanted & mask)) & hw`. */
export function capsSetBits(active: number, wanted: number, mask: number, hw: number): number {
  const w = wanted & CAP_POLICY_MASK;
  const m = mask & CAP_POLICY_MASK;
  return ((active & ~m) | (w & m)) & hw;
}

export async function capsGet(dev: DdpNetdev): Promise<CapsReply> {
  const caps = await dev.ops.getCaps();
  return { ifindex: dev.ifindex, hw: capNames(caps.hw), active: capNames(caps.active) };
}

/**
 * caps-set: computes the new active set, calls set_caps only if it differs, replies with the state read back.
 * `notify` is the caps-set-ntf message, sent only when the active set really changed.
 */
export async function capsSet(dev: DdpNetdev, req: CapsSetRequest): Promise<{ reply: CapsReply; notify: CapsReply | undefined }> {
  const old = await dev.ops.getCaps();
  const next = capsSetBits(old.active, capBits(req.wanted), capBits(req["wanted-mask"]), old.hw);
  if (next !== old.active) {
    const rc = await dev.ops.setCaps(next);
    if (rc !== 0) throw new Error(`set_caps failed: ${rc}`);
  }
  const reply = await capsGet(dev);
  return { reply, notify: capBits(reply.active) !== old.active ? reply : undefined };
}

export async function statsGet(dev: DdpNetdev): Promise<StatsReply> {
  const stats = await dev.ops.getStats();
  // Attribute order as the family defines it.
  return { ifindex: dev.ifindex, ...(Object.fromEntries(ULP_DDP_STAT_NAMES.map((n) => [n, stats[n]])) as UlpDdpStats) };
}
