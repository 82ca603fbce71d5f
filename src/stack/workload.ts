// The one I/O loop of the stack (ddpsim run, make bench, the end-to-end tests): a fio-like workload on a session's
// I/O queues, reads and writes, sequential or random, fixed sizes (bs) or random whole-block sizes (fio's
// bsrange), `iodepth` I/Os in flight per queue as a sliding window (fio's), every result checked.
//
// Each queue works in its own slice of the namespace and never has two I/Os on the same slot in flight, so what a
// read must return is known without asking the target: the namespace's pattern (patternBytes) or the bytes this
// workload last wrote there. Writes carry seeded random bytes and are checked in the target's RAM afterwards.
// When the I/O is over the queues stop (sk_del for offloaded ones); invariants.ts then judges the whole run.

import { type DigestVerdict, type HostCounters, newHostCounters } from "../nvme/host.js";
import { patternBytes } from "../nvmet/namespace.js";
import { Rng } from "../util/rng.js";
import { closeSession, runQueues, type Session } from "./session.js";

export const RW_MODES = ["read", "write", "randread", "randwrite", "rw", "randrw"] as const;
export type RwMode = (typeof RW_MODES)[number];

export interface IoSpec {
  seed: number;
  rw: RwMode;
  /** Percentage of reads for rw / randrw. */
  rwmixread: number;
  /** Bytes per I/O, a multiple of the block size; or [min, max]: random whole-block sizes in that range. */
  bs: number | readonly [number, number];
  iodepth: number;
  /** I/Os over all queues (split evenly, the first queues take the remainder). */
  ios: number;
  /** What blocks the workload has not written must read as (default: the namespace's pattern, patternBytes). */
  reference?: (slba: number, nlb: number) => Uint8Array;
}

export interface IoProgress {
  done: number;
  total: number;
  bytes: number;
}

/** What the I/O did and found, and the state the invariants need from before the queues stopped. */
export interface IoRun {
  /**
   * Reads and writes as the workload issued them (fio's I/Os), each counted once; an offloaded queue may split one
   * into several NVMe commands (NvmeTcpHost.split), counted in readCommands / writeCommands.
   */
  reads: number;
  writes: number;
  readCommands: number;
  writeCommands: number;
  bytesRead: number;
  bytesWritten: number;
  /** Per queue, each read's length in issue order (as issued, before any split). */
  readSizes: number[][];
  /** I/Os that failed or returned other bytes (counts, and the first few in words). */
  failed: { read: number; write: number };
  errors: { read: string[]; write: string[] };
  /** Written blocks checked in the target's RAM, and those that differ. */
  writtenBlocks: number;
  badBlocks: number[];
  /** Queues that failed or still had commands outstanding when the I/O was over. */
  unhealthy: string[];
  /** Whether every queue had the NIC check data digests (OFF_DDGST_RX), or had no data digests at all. */
  noSoftwareCrc: boolean;
  /** Host counters summed over the I/O queues. */
  host: HostCounters;
  /** Reads by how their data digests were checked (a split read: its commands' worst verdict). */
  digests: Record<DigestVerdict, number>;
}

const NSID = 1;
const KEEP_ERRORS = 5;

/** Namespace slots (of the largest I/O) each queue may use. */
export function slotsPerQueue(s: Session, bsMax: number): number {
  return Math.floor(s.namespace.blocks / s.ios.length / Math.ceil(bsMax / s.namespace.blockSize));
}

/** Sums counter records field by field. */
export function sumCounters<T extends { [K in keyof T]: number }>(list: readonly T[]): T {
  return list.reduce((sum, c) => {
    const out = { ...sum };
    for (const k of Object.keys(c) as (keyof T)[]) (out[k] as number) += c[k] as number;
    return out;
  });
}

export async function runIo(s: Session, spec: IoSpec, onProgress?: (p: IoProgress) => void): Promise<IoRun> {
  const ns = s.namespace;
  const [bsMin, bsMax] = typeof spec.bs === "number" ? [spec.bs, spec.bs] : spec.bs;
  for (const b of [bsMin, bsMax]) if (!Number.isInteger(b / ns.blockSize) || b < ns.blockSize) throw new RangeError(`bs ${b} is not a multiple of the ${ns.blockSize}-byte block`);
  if (bsMin > bsMax) throw new RangeError(`bs range [${bsMin}, ${bsMax}] is empty`);
  const slotBlocks = bsMax / ns.blockSize;
  const slots = slotsPerQueue(s, bsMax);
  if (slots < 2 * spec.iodepth) throw new RangeError(`the namespace holds ${slots} I/Os of ${bsMax} bytes per queue, fewer than twice the iodepth ${spec.iodepth}`);
  const random = spec.rw.startsWith("rand");
  const mixed = spec.rw === "rw" || spec.rw === "randrw";
  const readsOnly = spec.rw === "read" || spec.rw === "randread";

  const written = new Map<number, Uint8Array>();
  const r: IoRun = {
    reads: 0,
    writes: 0,
    readCommands: 0,
    writeCommands: 0,
    bytesRead: 0,
    bytesWritten: 0,
    readSizes: s.ios.map(() => []),
    failed: { read: 0, write: 0 },
    errors: { read: [], write: [] },
    writtenBlocks: 0,
    badBlocks: [],
    unhealthy: [],
    noSoftwareCrc: true,
    host: newHostCounters(),
    digests: { none: 0, "hw-ok": 0, "sw-ok": 0, bad: 0 },
  };
  const progress: IoProgress = { done: 0, total: spec.ios, bytes: 0 };
  const error = (kind: "read" | "write", what: string): void => {
    r.failed[kind]++;
    if (r.errors[kind].length < KEEP_ERRORS) r.errors[kind].push(what);
  };
  const expected = (slba: number, nlb: number): Uint8Array => {
    const out = spec.reference ? spec.reference(slba, nlb).slice() : patternBytes(NSID, slba * ns.blockSize, nlb * ns.blockSize);
    for (let i = 0; i < nlb; i++) {
      const w = written.get(slba + i);
      if (w) out.set(w, i * ns.blockSize);
    }
    return out;
  };

  const rng = new Rng(spec.seed);
  // One generator per queue, so that a queue's I/Os do not depend on how the queues' completions interleave.
  const queueRngs = s.ios.map(() => rng.fork());
  const perQueue = s.ios.map((q, qi) => {
    const qrng = queueRngs[qi]!;
    const quota = Math.floor(spec.ios / s.ios.length) + (qi < spec.ios % s.ios.length ? 1 : 0);
    const base = qi * slots * slotBlocks;
    const busy = new Set<number>();
    let issued = 0;
    let cursor = 0;
    const next = (): { read: boolean; slot: number; nlb: number } | undefined => {
      if (issued === quota) return undefined;
      issued++;
      let slot: number;
      if (random) {
        do slot = qrng.int(slots);
        while (busy.has(slot));
      } else {
        slot = cursor;
        cursor = (cursor + 1) % slots;
      }
      busy.add(slot);
      const read = readsOnly || (mixed && qrng.int(100) < spec.rwmixread);
      const nlb = bsMin === bsMax ? slotBlocks : qrng.range(bsMin / ns.blockSize, slotBlocks);
      return { read, slot, nlb };
    };
    const perform = async (io: { read: boolean; slot: number; nlb: number }): Promise<void> => {
      const kind = io.read ? "read" : "write";
      const slba = base + io.slot * slotBlocks;
      const bytes = io.nlb * ns.blockSize;
      const where = `queue ${qi + 1} ${kind} [${slba}, +${io.nlb})`;
      try {
        if (io.read) {
          r.readSizes[qi]!.push(bytes);
          const res = await q.host.read(NSID, slba, io.nlb);
          r.reads++;
          r.readCommands += res.commands;
          r.bytesRead += bytes;
          r.digests[res.digest]++;
          if (res.status !== 0) error(kind, `${where}: status 0x${res.status.toString(16)}`);
          else if (!Buffer.from(res.data).equals(Buffer.from(expected(slba, io.nlb)))) error(kind, `${where}: returned other bytes than the namespace's`);
        } else {
          const data = qrng.bytes(bytes);
          const res = await q.host.write(NSID, slba, data);
          r.writes++;
          r.writeCommands += res.commands;
          r.bytesWritten += bytes;
          if (res.status !== 0) error(kind, `${where}: status 0x${res.status.toString(16)}`);
          else for (let i = 0; i < io.nlb; i++) written.set(slba + i, data.subarray(i * ns.blockSize, (i + 1) * ns.blockSize));
        }
      } catch (e) {
        error(kind, `${where}: ${e instanceof Error ? e.message : String(e)}`);
      }
      busy.delete(io.slot);
      progress.done++;
      progress.bytes += bytes;
      onProgress?.(progress);
    };
    // iodepth workers, each issuing its next I/O as soon as its last one completes.
    return Promise.all(
      Array.from({ length: spec.iodepth }, async () => {
        for (let io = next(); io !== undefined; io = next()) await perform(io);
      }),
    );
  });
  await runQueues(s.ios, Promise.all(perQueue));
  r.unhealthy = s.ios.flatMap((q, i) => (q.host.failure ? [`queue ${i + 1}: ${q.host.failure.message}`] : q.host.outstanding > 0 ? [`queue ${i + 1}: ${q.host.outstanding} commands outstanding`] : []));
  r.noSoftwareCrc = s.ios.every((q) => q.host.offload.ddgstRx || !q.host.negotiated.ddgst);
  await runQueues(s.ios, closeSession(s));
  r.host = sumCounters(s.ios.map((q) => q.host.counters));
  r.writtenBlocks = written.size;
  r.badBlocks = [...written].filter(([lba, data]) => !Buffer.from(ns.read(lba, 1)).equals(Buffer.from(data))).map(([lba]) => lba);
  return r;
}
