// `ddpsim replay`: a capture's NVMe/TCP connections through the offload device and driver, each connection
// observed by the host's own receive path (observer.ts). Every frame of the file goes to the device in capture
// order, malformed ones included (a NIC receives them too), except what the hosts of the replayed connections sent;
// consecutive frames of one connection go in one batch (a NAPI poll of at most NAPI_WEIGHT frames). At each frame
// a host sent, the batch is flushed and the host's driver work (sk_add, setup, teardown, resync) runs to completion
// before the captured commands are registered, as a host would have sent them only after receiving what came before.
//
// The replay answers whether the offload behaved: the invariants are about the NIC and the driver only; what the
// capture, the captured host or the controller got wrong is a finding, listed with its frame.

import { createHash } from "node:crypto";
import { HostMemory } from "../contract/host-memory.js";
import { openDevice } from "../device/index.js";
import { NicDriver } from "../driver/driver.js";
import { statsGet } from "../driver/netlink.js";
import { HOST_ABORTED_STATUS, type NvmeTcpHost } from "../nvme/host.js";
import { HOST_PAGE } from "../nvme/host-buffer.js";
import { statusOk } from "../pdu/sqe.js";
import { stackInvariants } from "../stack/invariants.js";
import type { Backend } from "../stack/report.js";
import { NAPI_WEIGHT } from "../stack/session.js";
import { sumCounters } from "../stack/workload.js";
import { type CapturedConnection, frameAt, loadCapture } from "./capture.js";
import { type ObservedCommand, ObservedQueue } from "./observer.js";
import { type Finding, type ReplayReport, ReplayReportSchema } from "./report.js";

export interface ReplayOptions {
  file: string;
  /** The controller's TCP port. */
  port: number;
  backend: Backend;
  /** Bytes per segment of the read buffers (SGL entries), each on a 4 KiB host page; default HOST_PAGE. */
  pageSize?: number;
  /** Logical block size of namespaces no Identify Namespace in the capture describes. Default 512. */
  lbaSize?: number;
  /** Active ulp_ddp caps to set first (default: as the device comes up). */
  caps?: number;
}

export const DEFAULT_LBA_SIZE = 512;

/** Lets the stack's pending work run: host continuations and the driver's device calls, until nothing is left. */
async function settle(driver: NicDriver): Promise<void> {
  for (;;) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (!driver.busy) return;
    await driver.idle();
  }
}

export async function replayCapture(o: ReplayOptions): Promise<ReplayReport> {
  const capture = loadCapture(o.file, o.port);
  const findings: Finding[] = [...capture.findings];
  const memory = new HostMemory();
  const device = await openDevice(o.backend, memory);
  try {
    const driver = await NicDriver.create(device);
    if (o.caps !== undefined && o.caps !== driver.caps.active) await driver.setCaps(o.caps);
    const pageSize = o.pageSize ?? HOST_PAGE;
    const defaultLba = o.lbaSize ?? DEFAULT_LBA_SIZE;
    const lbaSizes = new Map<number, number>();
    const namespaces = {
      lbaSize: (nsid: number) => lbaSizes.get(nsid) ?? defaultLba,
      learn: (nsid: number, size: number) => {
        const known = lbaSizes.get(nsid);
        if (known !== undefined && known !== size) findings.push({ frame: null, connection: null, source: "controller", code: "LBA_SIZE", what: `namespace ${nsid}: Identify Namespace says ${size}-byte blocks, earlier ${known}` });
        lbaSizes.set(nsid, size);
      },
    };
    const queues = capture.connections.map((c) => new ObservedQueue(c, { driver, memory, pageSize }, namespaces));

    let batch: { queue: ObservedQueue | undefined; frames: Uint8Array[] } | undefined;
    let deviceFrames = 0;
    const flush = async (): Promise<void> => {
      if (!batch) return;
      const { queue, frames } = batch;
      batch = undefined;
      const { skbs } = await driver.receive(frames);
      if (queue) for (const skb of skbs) queue.nicSkb(skb);
      await settle(driver);
    };
    for (const f of capture.frames) {
      const q = f.connection === undefined ? undefined : queues[f.connection];
      const p = f.parsed;
      const payload = p && p.tcp && p.checksumOk && p.payload.length > 0 ? p.payload : undefined;
      if (q && f.toTarget) {
        await flush();
        if (payload) await q.hostSegment(p!.tcp!.seq, payload);
        await settle(driver);
        continue;
      }
      if (batch && (batch.queue !== q || batch.frames.length >= NAPI_WEIGHT)) await flush();
      if (q && payload) q.controllerSegment(p!.tcp!.seq, payload);
      batch ??= { queue: q, frames: [] };
      batch.frames.push(f.frame);
      deviceFrames++;
    }
    await flush();
    // The capture may end with commands in flight: they are cancelled as a stopping queue cancels them.
    for (const q of queues) await q.stop();
    await settle(driver);

    for (const q of queues) findings.push(...queueFindings(q));
    const reads = queues.flatMap((q) => q.commands.filter((c) => c.dataIn > 0).map((c) => ({ q, c })));
    const name = (q: ObservedQueue, c: ObservedCommand): string => `connection ${q.conn.index} ${c.name} cid 0x${c.cid.toString(16)}`;
    const buffers = reads.flatMap(({ q, c }) => (Buffer.from(c.nic().data).equals(Buffer.from(c.ref().data)) ? [] : [`${name(q, c)}: the buffer differs from the captured data`]));
    const vouched = reads.flatMap(({ q, c }) => (c.nic().digest === "hw-ok" && c.ref().digest === "bad" ? [`${name(q, c)}: ulp_crc on a bad data digest`] : []));
    const disagree = queues.flatMap((q) => {
      const errors = (h: NvmeTcpHost): string => h.errors.map((e) => `${e.error.code} at ${e.at}${e.recovered ? "" : " (queue failed)"}`).join(", ") || "none";
      const [nic, ref] = [errors(q.nic), errors(q.ref)];
      return nic === ref ? [] : [`connection ${q.conn.index}: protocol errors on the NIC path [${nic}], in the captured stream [${ref}]`];
    });
    const invariants = await stackInvariants({
      data: [
        { name: "NIC path agrees with the capture", failures: disagree, checked: "the host on the NIC path met the captured stream's protocol errors and no other" },
        { name: "buffers hold the captured data", failures: buffers, checked: `${reads.length} buffers of commands with controller-to-host data compared with the capture's` },
        { name: "NIC vouched only for good digests", failures: vouched, checked: "no bad digest had ulp_crc" },
      ],
      unhealthy: [],
      streams: queues.map((q) => ({ who: `connection ${q.conn.index}`, check: q.stream })),
      memory,
      driver,
      host: sumCounters(queues.map((q) => q.nic.counters)),
      bytesRead: undefined,
      inOrder: false,
      noSoftwareCrc: false,
      segLimitedBytes: undefined,
    });

    const stats = await statsGet({ ifindex: driver.ifindex, ops: driver });
    const report: ReplayReport = {
      file: o.file,
      format: capture.format,
      linkTypes: capture.linkTypes,
      backend: o.backend,
      port: o.port,
      frames: capture.frames.length,
      deviceFrames,
      pages: { rule: "device-pages", pageSize, devicePage: driver.hw.page, maxSgl: driver.hw.maxDdpSglLen },
      lbaSize: defaultLba,
      connections: queues.map((q) => ({ host: q.conn.host, target: q.conn.target, qid: q.qid ?? null, ...q.digests, offloaded: q.offloaded, failed: q.ref.failure?.message ?? null })),
      reads: reads.map(({ q, c }) => {
        const s = c.nic();
        const status = c.refError ? "failed" : c.refResult === undefined || c.refResult.status === HOST_ABORTED_STATUS ? "outstanding" : statusOk(c.refResult.status) ? "ok" : "error";
        return {
          connection: q.conn.index,
          cid: c.cid,
          command: c.name,
          length: c.dataIn,
          kept: c.kept,
          offloaded: s.offloaded,
          placed: s.placed,
          copied: s.copied,
          digest: s.digest,
          completed: status === "ok" || status === "error",
          status,
          sha256: createHash("sha256").update(s.data).digest("hex"),
        };
      }),
      findings,
      stats,
      hardware: await driver.hardwareCounters(),
      invariants,
      ok: invariants.every((i) => i.ok),
    };
    return ReplayReportSchema.parse(report);
  } finally {
    await device.close();
  }
}

/** What the captured host and the controller got wrong on one connection, each at its frame. */
function queueFindings(q: ObservedQueue): Finding[] {
  const c: CapturedConnection = q.conn;
  const at = (toTarget: boolean, offset: number): { frame: number | null; connection: number } => ({ frame: frameAt(c, toTarget, offset), connection: c.index });
  const out: Finding[] = q.hostFindings.map((f) => ({ ...at(true, f.at), source: "host", code: f.code, what: f.message }));
  if (q.hostStreamError) out.push({ ...at(true, q.hostStreamError.at), source: "host", code: "HOST_STREAM", what: `${q.hostStreamError.message}; no command is learned after it` });
  out.push(...q.ref.findings.map((f): Finding => ({ ...at(false, f.at), source: "controller", code: f.code, what: f.message })));
  for (const e of q.ref.errors) {
    const then = e.recovered ? "the replay carries on at the next PDU as the recovered queue" : "no PDU boundary to carry on from: the rest of the connection is not received";
    out.push({ ...at(false, e.at), source: "controller", code: e.error.code, what: `protocol error: ${e.error.message}; Linux fails the queue (every outstanding command); ${then}` });
  }
  if (q.ref.afterFailure > 0) out.push({ frame: null, connection: c.index, source: "controller", code: "AFTER_FAILURE", what: `${q.ref.afterFailure} PDU(s) came for commands a protocol error had failed (their data is still received into their buffers)` });
  return out;
}
