// A fio-like workload on a session (src/stack/session.ts): fixed-size reads and writes, sequential or random,
// `iodepth` in flight per queue (a sliding window, as fio keeps it), and the end-to-end invariants of DESIGN
// section 8 checked afterwards.
//
// Each queue works in its own slice of the namespace and never has two I/Os on the same range in flight, so
// what a read must return is known without asking the target: the namespace's pattern (patternBytes) or the
// bytes this workload last wrote there. Writes carry seeded random bytes and are checked in the target's RAM.
//
// runReadWorkload (session.ts) is the reads-only, random-size workload the e2e tests use; this one adds writes,
// fixed sizes and the sliding window, and checks the same invariants with names for the report.

import { closeSession, runQueues, type Session } from "./session.js";
import { patternBytes } from "../nvmet/namespace.js";
import { Rng } from "../util/rng.js";
import type { Invariant } from "../cli/schemas.js";

export const RW_MODES = ["read", "write", "randread", "randwrite", "rw", "randrw"] as const;
export type RwMode = (typeof RW_MODES)[number];

export interface FioSpec {
  seed: number;
  rw: RwMode;
  /** Percentage of reads in rw / randrw. */
  rwmixread: number;
  /** Bytes per I/O (a multiple of the namespace's block size). */
  bs: number;
  iodepth: number;
  /** I/Os over all queues (split evenly, the first queues take the remainder). */
  ios: number;
}

export interface FioProgress {
  done: number;
  total: number;
  bytes: number;
}

export interface FioResult {
  reads: number;
  writes: number;
  bytesRead: number;
  bytesWritten: number;
  /** I/Os that failed or returned other bytes, in words (at most a few of each kind are kept). */
  errors: { read: string[]; write: string[] };
  errorCount: number;
  host: Session["io"]["host"]["counters"];
  invariants: Invariant[];
}

const NSID = 1;
const KEEP_ERRORS = 5;

interface Io {
  read: boolean;
  slba: number;
}

/** Namespace slots (of `bs` bytes) each queue may use. */
export function slotsPerQueue(s: Session, bs: number): number {
  return Math.floor(s.namespace.blocks / s.ios.length / (bs / s.namespace.blockSize));
}

export async function runFio(s: Session, spec: FioSpec, onProgress?: (p: FioProgress) => void): Promise<FioResult> {
  const ns = s.namespace;
  const nlb = spec.bs / ns.blockSize;
  if (!Number.isInteger(nlb) || nlb < 1) throw new RangeError(`bs ${spec.bs} is not a multiple of the ${ns.blockSize}-byte block`);
  const slots = slotsPerQueue(s, spec.bs);
  if (slots < 2 * spec.iodepth) throw new RangeError(`the namespace holds ${slots} I/Os of ${spec.bs} bytes per queue, fewer than twice the iodepth ${spec.iodepth}`);
  const random = spec.rw.startsWith("rand");
  const mixed = spec.rw === "rw" || spec.rw === "randrw";
  const readsOnly = spec.rw === "read" || spec.rw === "randread";

  const written = new Map<number, Uint8Array>();
  const errors = { read: [] as string[], write: [] as string[] };
  const failed = { read: 0, write: 0 };
  const r = { reads: 0, writes: 0, bytesRead: 0, bytesWritten: 0, errorCount: 0 };
  const progress: FioProgress = { done: 0, total: spec.ios, bytes: 0 };
  const error = (kind: "read" | "write", what: string): void => {
    r.errorCount++;
    failed[kind]++;
    if (errors[kind].length < KEEP_ERRORS) errors[kind].push(what);
  };
  const expected = (slba: number): Uint8Array => {
    const out = patternBytes(NSID, slba * ns.blockSize, spec.bs);
    for (let i = 0; i < nlb; i++) {
      const w = written.get(slba + i);
      if (w) out.set(w, i * ns.blockSize);
    }
    return out;
  };

  const rng = new Rng(spec.seed);
  const queueRngs = s.ios.map(() => rng.fork());
  const perQueue = s.ios.map((q, qi) => {
    const qrng = queueRngs[qi]!;
    const quota = Math.floor(spec.ios / s.ios.length) + (qi < spec.ios % s.ios.length ? 1 : 0);
    const base = qi * slots * nlb;
    const busy = new Set<number>();
    let issued = 0;
    let cursor = 0;
    const next = (): Io | undefined => {
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
      return { read, slba: base + slot * nlb };
    };
    const perform = async (io: Io): Promise<void> => {
      const kind = io.read ? "read" : "write";
      const where = `queue ${qi + 1} ${kind} [${io.slba}, +${nlb})`;
      try {
        if (io.read) {
          const res = await q.host.read(NSID, io.slba, nlb);
          r.reads++;
          r.bytesRead += spec.bs;
          if (res.status !== 0) error(kind, `${where}: status 0x${res.status.toString(16)}`);
          else if (!Buffer.from(res.data).equals(Buffer.from(expected(io.slba)))) error(kind, `${where}: returned other bytes than the namespace's`);
        } else {
          const data = qrng.bytes(spec.bs);
          const res = await q.host.write(NSID, io.slba, data);
          r.writes++;
          r.bytesWritten += spec.bs;
          if (res.status !== 0) error(kind, `${where}: status 0x${res.status.toString(16)}`);
          else for (let i = 0; i < nlb; i++) written.set(io.slba + i, data.subarray(i * ns.blockSize, (i + 1) * ns.blockSize));
        }
      } catch (e) {
        error(kind, `${where}: ${e instanceof Error ? e.message : String(e)}`);
      }
      busy.delete((io.slba - base) / nlb);
      progress.done++;
      progress.bytes += spec.bs;
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
  const healthy = s.ios.map((q, i) => (q.host.failure ? `queue ${i + 1}: ${q.host.failure.message}` : q.host.outstanding > 0 ? `queue ${i + 1}: ${q.host.outstanding} commands outstanding` : "")).filter((x) => x !== "");
  await runQueues(s.ios, closeSession(s));

  const host = s.ios
    .map((q) => q.host.counters)
    .reduce((sum, c) => {
      const out = { ...sum };
      for (const k of Object.keys(c) as (keyof typeof c)[]) out[k] += c[k];
      return out;
    });
  const landed = [...written].filter(([lba, data]) => !Buffer.from(ns.read(lba, 1)).equals(Buffer.from(data))).map(([lba]) => lba);

  const invariants: Invariant[] = [];
  const check = (name: string, ok: boolean, detail: string): void => {
    invariants.push({ name, ok, detail });
  };
  check("reads return the namespace's bytes", failed.read === 0, failed.read === 0 ? `${r.reads} reads compared with the namespace` : `${failed.read} reads failed: ${errors.read.join("; ")}`);
  check(
    "writes reached the namespace",
    failed.write === 0 && landed.length === 0,
    failed.write > 0 ? `${failed.write} writes failed: ${errors.write.join("; ")}` : landed.length > 0 ? `${landed.length} written blocks differ in the target's RAM (first LBA ${landed[0]})` : `${written.size} written blocks checked in the target's RAM`,
  );
  check("queues healthy", healthy.length === 0, healthy.length === 0 ? "no queue failed, nothing outstanding" : healthy.join("; "));
  const streams = s.ios.map((q, i) => (q.stream.equal ? "" : `queue ${i + 1}: TCP delivered ${q.stream.deliveredBytes} bytes, the target sent ${q.stream.wireBytes}, first difference at ${q.stream.mismatchAt}`)).filter((x) => x !== "");
  check("wire stream intact", streams.length === 0, streams.length === 0 ? `${s.ios.reduce((n, q) => n + q.stream.wireBytes, 0)} bytes delivered as sent` : streams.join("; "));
  const guards = s.memory?.checkGuards() ?? [];
  check("nothing written outside registered buffers", guards.length === 0, guards.length === 0 ? "every guard byte intact" : `${guards.length} bytes changed, first at 0x${guards[0]!.addr.toString(16)}`);

  const adds: string[] = [];
  const setupTeardown: string[] = [];
  if (s.driver) {
    const d = s.driver;
    const st = await d.getStats();
    if (st["rx-nvme-tcp-setup"] !== st["rx-nvme-tcp-teardown"]) setupTeardown.push(`setup ${st["rx-nvme-tcp-setup"]} != teardown ${st["rx-nvme-tcp-teardown"]}`);
    if (d.tagsHeld !== 0) setupTeardown.push(`${d.tagsHeld} tags still held`);
    if (st["rx-nvme-tcp-sk-add"] !== st["rx-nvme-tcp-sk-del"]) setupTeardown.push(`sk-add ${st["rx-nvme-tcp-sk-add"]} != sk-del ${st["rx-nvme-tcp-sk-del"]}`);
    if (st["rx-nvme-tcp-setup"] !== host.ddpSetups) adds.push(`driver setups ${st["rx-nvme-tcp-setup"]} != host's ${host.ddpSetups}`);
    if (st["rx-nvme-tcp-setup-fail"] !== host.ddpSetupFailures) adds.push(`driver setup-fail ${st["rx-nvme-tcp-setup-fail"]} != host's ${host.ddpSetupFailures}`);
    if (st["rx-nvme-tcp-bytes"] !== d.rx.placedBytes) adds.push(`device placed ${st["rx-nvme-tcp-bytes"]} bytes, its CQEs ${d.rx.placedBytes}`);
    // Under loss the device may place a retransmitted PDU's bytes that TCP then drops as a duplicate: the host
    // skips at most what was placed, and exactly that when the wire kept order.
    const inOrder = s.ios.every((q) => !q.wire || q.wire.log.every((e) => e.action === "pass"));
    if (inOrder ? host.bytesPlaced !== d.rx.placedBytes : host.bytesPlaced > d.rx.placedBytes) adds.push(`host skipped ${host.bytesPlaced} copies, the device placed ${d.rx.placedBytes}`);
    if (inOrder && host.ddpBytesCopied !== 0) adds.push(`software copied ${host.ddpBytesCopied} bytes of offloaded reads on an in-order wire`);
  }
  if (host.bytesCopied + host.bytesPlaced !== r.bytesRead) adds.push(`copied ${host.bytesCopied} + placed ${host.bytesPlaced} != ${r.bytesRead} bytes read`);
  check("setup == teardown", setupTeardown.length === 0, setupTeardown.length === 0 ? (s.driver ? "every setup torn down, every sk_add deleted" : "no NIC") : setupTeardown.join("; "));
  check("counters add up", adds.length === 0, adds.length === 0 ? "host, driver and device counters agree" : adds.join("; "));
  return { ...r, errors, host, invariants };
}
