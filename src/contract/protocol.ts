// The offload block's interface as data (docs/offload-contract.md sections 1-3 and 6): command beats, events,
// CQEs and DMA writes, as zod schemas that the model, the driver and the RTL bridge all parse with.
// Field names are the contract's, in camelCase. Values wider than 53 bits (IP addresses, host addresses, event
// data) are bigints; everything else is a number.

import { z } from "zod";
import { ipToBytes } from "../net/addr.js";

export const Op = {
  CTX_ADD: 1,
  CTX_DEL: 2,
  TAG_SETUP: 3,
  TAG_TEARDOWN: 4,
  RESYNC: 5,
  CAPS_GET: 6,
  CAPS_SET: 7,
  LIMITS_GET: 8,
  STATS_GET: 9,
} as const;

export const Status = {
  OK: 0,
  BAD_OP: 1,
  BAD_CTX: 2,
  EXISTS: 3,
  NOT_FOUND: 4,
  TABLE_FULL: 5,
  SGL_TOO_LONG: 6,
  BAD_SGL: 7,
  DISABLED: 8,
  BAD_ARG: 9,
} as const;
export type StatusCode = (typeof Status)[keyof typeof Status];

export const EventKind = { COMPLETION: 1, RESYNC_REQUEST: 2, TEARDOWN_DONE: 3 } as const;

/** Capability bits (netlink family `ulp_ddp`). */
export const Cap = { NVME_TCP: 0b01, NVME_TCP_DDGST_RX: 0b10 } as const;
export const CAPS_HW = Cap.NVME_TCP | Cap.NVME_TCP_DDGST_RX;

/** CTX_ADD flags. */
export const CtxFlags = { HDGST: 0x01, DDGST: 0x02 } as const;
/** TAG_SETUP flags: the last beat of the SGL. */
export const TAG_SETUP_LAST = 0x01;

/** LIMITS_GET indices. */
export const Limit = {
  maxDdpSglLen: 0,
  ioThreshold: 1,
  fullCcidRange: 2,
  tls: 3,
  nCtx: 4,
  nTags: 5,
  maxSegs: 6,
  latency: 7,
  maxFrame: 8,
  page: 9,
  poolPages: 10,
} as const;

/** Hardware counters in STATS_GET index order. */
export const STAT_NAMES = [
  "rxNvmeTcpPackets",
  "rxNvmeTcpBytes",
  "rxNvmeTcpDrop",
  "rxNvmeTcpResync",
  "pdusCrcOk",
  "pdusCrcBad",
  "oooPackets",
  "retransmits",
  "searches",
  "passthrough",
  "oversize",
  "resyncConfirms",
  "resyncTimeouts",
  "resyncMisses",
  "tagCollisions",
  "poolExhausted",
] as const;
export type StatName = (typeof STAT_NAMES)[number];
export type Stats = Record<StatName, number>;

const uint = (bits: number) => z.number().int().min(0).max(2 ** bits - 1);
const ubig = (bits: number) => z.bigint().min(0n).max((1n << BigInt(bits)) - 1n);

/** One beat of `s_cmd_*`. Fields a command does not use may be omitted (they read as 0). */
export const CommandSchema = z.object({
  op: uint(4),
  tag: uint(16).default(0),
  ctx: uint(8).default(0),
  cid: uint(16).default(0),
  ipv6: z.boolean().default(false),
  srcIp: ubig(128).default(0n),
  dstIp: ubig(128).default(0n),
  srcPort: uint(16).default(0),
  dstPort: uint(16).default(0),
  seq: uint(32).default(0),
  flags: uint(8).default(0),
  cpda: uint(5).default(0),
  addr: ubig(64).default(0n),
  len: uint(32).default(0),
  cookie: uint(32).default(0),
  index: uint(8).default(0),
});
export type Command = z.infer<typeof CommandSchema>;
export type CommandInput = z.input<typeof CommandSchema>;

/** `m_evt_*`. Each kind carries only its meaningful fields (parsing a flat port record strips the others). */
export const EventSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal(EventKind.COMPLETION), tag: uint(16), status: uint(4), ctx: uint(8), data: ubig(64) }),
  z.object({ kind: z.literal(EventKind.RESYNC_REQUEST), ctx: uint(8), seq: uint(32) }),
  z.object({ kind: z.literal(EventKind.TEARDOWN_DONE), cookie: uint(32) }),
]);
export type Event = z.infer<typeof EventSchema>;
export type Completion = Extract<Event, { kind: typeof EventKind.COMPLETION }>;

export const SegmentSchema = z.object({ cid: uint(16), bufOff: uint(32), frameOff: uint(16), len: uint(16) });
export type Segment = z.infer<typeof SegmentSchema>;

/** `m_cqe_*`: `segs` holds the `nseg` valid segments. `ctx` is 0 when `hit` is false. */
export const CqeSchema = z.object({
  hit: z.boolean(),
  ctx: uint(8),
  crcOk: z.boolean(),
  nseg: uint(3),
  segs: z.array(SegmentSchema),
  resync: z.boolean(),
  resyncSeq: uint(32),
});
export type Cqe = z.infer<typeof CqeSchema>;

/** Placed bytes at consecutive host addresses (how the RTL groups them into beats does not matter). */
export const DmaWriteSchema = z.object({ addr: ubig(64), data: z.custom<Uint8Array>((v) => v instanceof Uint8Array, "expected a Uint8Array") });
export type DmaWrite = z.infer<typeof DmaWriteSchema>;

// ---- friendlier builders of command beats ----

/** An IP address as the 128-bit command field (IPv4 in bits 31:0). */
export function ipField(version: 4 | 6, ip: string): bigint {
  let v = 0n;
  for (const b of ipToBytes(version, ip)) v = (v << 8n) | BigInt(b);
  return v;
}

export interface CtxAddArgs {
  tag?: number;
  ctx: number;
  ipVersion: 4 | 6;
  /** Addresses and ports as seen on received frames: src is the target. */
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  /** TCP seq of the next PDU's first byte. */
  seq: number;
  hdgst: boolean;
  ddgst: boolean;
  cpda?: number;
}

export function ctxAdd(a: CtxAddArgs): CommandInput {
  return {
    op: Op.CTX_ADD,
    tag: a.tag ?? 0,
    ctx: a.ctx,
    ipv6: a.ipVersion === 6,
    srcIp: ipField(a.ipVersion, a.srcIp),
    dstIp: ipField(a.ipVersion, a.dstIp),
    srcPort: a.srcPort,
    dstPort: a.dstPort,
    seq: a.seq >>> 0,
    flags: (a.hdgst ? CtxFlags.HDGST : 0) | (a.ddgst ? CtxFlags.DDGST : 0),
    cpda: a.cpda ?? 0,
  };
}

export interface SglEntry {
  addr: bigint;
  len: number;
}

/**
 * The page rules of TAG_SETUP (contract section 1): every entry is non-empty and inside one `page`, every entry
 * but the first starts on a page boundary and every entry but the last ends on one.
 */
export function sglPageGranular(sgl: readonly SglEntry[], page: number): boolean {
  const p = BigInt(page);
  return sgl.every((e, i) => {
    const off = Number(e.addr % p);
    if (e.len === 0 || off + e.len > page) return false;
    if (i > 0 && off !== 0) return false;
    return i === sgl.length - 1 || off + e.len === page;
  });
}

/** A host SGL cut at every `page` boundary (entries of several pages become one entry per page). */
export function sglPages(sgl: readonly SglEntry[], page: number): SglEntry[] {
  const p = BigInt(page);
  const out: SglEntry[] = [];
  for (const e of sgl) {
    for (let at = 0; at < e.len || (e.len === 0 && at === 0); ) {
      const addr = e.addr + BigInt(at);
      const len = Math.min(e.len - at, page - Number(addr % p));
      out.push({ addr, len });
      if (len === 0) break;
      at += len;
    }
  }
  return out;
}

/**
 * Where buffer bytes [off, off + len) live: one {addr, len} piece per SGL entry they touch, in order. Fewer bytes
 * than `len` in total when the range runs past the SGL's end (callers decide whether that is an error).
 */
export function sglSlices(sgl: readonly SglEntry[], off: number, len: number): SglEntry[] {
  const out: SglEntry[] = [];
  let skip = off;
  let left = len;
  for (const e of sgl) {
    if (left === 0) break;
    if (skip >= e.len) {
      skip -= e.len;
      continue;
    }
    const n = Math.min(e.len - skip, left);
    out.push({ addr: e.addr + BigInt(skip), len: n });
    left -= n;
    skip = 0;
  }
  return out;
}

/** The beats of one TAG_SETUP: one per SGL entry, `last` on the final one. */
export function tagSetup(a: { tag?: number; ctx: number; cid: number; sgl: readonly SglEntry[] }): CommandInput[] {
  return a.sgl.map((e, i) => ({
    op: Op.TAG_SETUP,
    tag: a.tag ?? 0,
    ctx: a.ctx,
    cid: a.cid,
    addr: e.addr,
    len: e.len,
    flags: i === a.sgl.length - 1 ? TAG_SETUP_LAST : 0,
  }));
}

export function tagTeardown(a: { tag?: number; ctx: number; cid: number; cookie: number }): CommandInput {
  return { op: Op.TAG_TEARDOWN, tag: a.tag ?? 0, ctx: a.ctx, cid: a.cid, cookie: a.cookie };
}

export function ctxDel(a: { tag?: number; ctx: number }): CommandInput {
  return { op: Op.CTX_DEL, tag: a.tag ?? 0, ctx: a.ctx };
}

export function resync(a: { tag?: number; ctx: number; seq: number }): CommandInput {
  return { op: Op.RESYNC, tag: a.tag ?? 0, ctx: a.ctx, seq: a.seq >>> 0 };
}

/** CAPS_SET: `wanted` and `mask` are 2-bit cap sets. */
export function capsSet(a: { tag?: number; wanted: number; mask: number }): CommandInput {
  return { op: Op.CAPS_SET, tag: a.tag ?? 0, index: (a.wanted & 3) | ((a.mask & 3) << 4) };
}
