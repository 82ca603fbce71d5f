// `ddpsim replay`: a capture's NVMe/TCP connections through the offload device and driver, each connection
// observed by the host's own receive path (observer.ts). Controller-to-host frames go to the device in capture
// order, consecutive frames of one connection in one batch (a NAPI poll); at each host-to-controller frame the
// batch is flushed and the host's driver work (sk_add, setup, teardown, resync) runs to completion before the
// captured commands are registered, as a host would have sent them only after receiving what came before.

import { createHash } from "node:crypto";
import { HostMemory } from "../contract/host-memory.js";
import { openDevice } from "../device/index.js";
import { NicDriver } from "../driver/driver.js";
import { statsGet } from "../driver/netlink.js";
import { flowKey } from "../net/frame.js";
import { HOST_ABORTED_STATUS } from "../nvme/host.js";
import { stackInvariants } from "../stack/invariants.js";
import type { Backend } from "../stack/report.js";
import { sumCounters } from "../stack/workload.js";
import { loadCapture } from "./capture.js";
import { ObservedQueue } from "./observer.js";
import { type ReplayReport, ReplayReportSchema } from "./report.js";

export interface ReplayOptions {
  file: string;
  /** The controller's TCP port. */
  port: number;
  backend: Backend;
  /** Pages of the read buffers (SGL entries). */
  pageSize: number;
  /** Active ulp_ddp caps to set first (default: as the device comes up). */
  caps?: number;
}

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
  const memory = new HostMemory();
  const device = await openDevice(o.backend, memory);
  try {
    const driver = await NicDriver.create(device);
    if (o.caps !== undefined && o.caps !== driver.caps.active) await driver.setCaps(o.caps);
    const queues = capture.connections.map((c) => new ObservedQueue(c, { driver, memory, pageSize: o.pageSize }));
    const queueOf = (key: string): ObservedQueue | undefined => {
      const c = capture.connectionOf.get(key);
      return c ? queues[c.index] : undefined;
    };

    let batch: { queue: ObservedQueue; frames: Uint8Array[] } | undefined;
    const flush = async (): Promise<void> => {
      if (!batch) return;
      const { queue, frames } = batch;
      batch = undefined;
      const { skbs } = await driver.receive(frames);
      for (const skb of skbs) queue.nicSkb(skb);
      await settle(driver);
    };
    for (const f of capture.tcp) {
      const q = queueOf(flowKey(f.parsed)!);
      if (!q || f.parsed.payload.length === 0) continue;
      const seq = f.parsed.tcp!.seq;
      if (f.toTarget) {
        await flush();
        if (f.parsed.checksumOk) await q.hostSegment(seq, f.parsed.payload);
        await settle(driver);
        continue;
      }
      if (batch && batch.queue !== q) await flush();
      if (f.parsed.checksumOk) q.controllerSegment(seq, f.parsed.payload);
      batch ??= { queue: q, frames: [] };
      batch.frames.push(f.frame);
    }
    await flush();
    // The capture may end with commands in flight: they are cancelled as a stopping queue cancels them.
    for (const q of queues) await q.stop();
    await settle(driver);

    const reads = queues.flatMap((q) => q.commands.filter((c) => c.kind === "Read").map((c) => ({ q, c })));
    const buffers = reads.flatMap(({ q, c }) => (Buffer.from(c.nic().data).equals(Buffer.from(c.ref().data)) ? [] : [`connection ${q.conn.index} cid 0x${c.cid.toString(16)}: the buffer differs from the captured data`]));
    const vouched = reads.flatMap(({ q, c }) => (c.nic().digest === "hw-ok" && c.ref().digest === "bad" ? [`connection ${q.conn.index} cid 0x${c.cid.toString(16)}: ulp_crc on a bad data digest`] : []));
    const decode = queues.flatMap((q) => [q.hostStreamError, q.ref.failure?.message].filter((x) => x !== undefined).map((m) => `connection ${q.conn.index}: ${m}`));
    const nicOnly = queues.flatMap((q) => (q.nic.failure && !q.ref.failure ? [`connection ${q.conn.index}: the NIC path failed where the captured stream did not: ${q.nic.failure.message}`] : []));
    const invariants = await stackInvariants({
      data: [
        { name: "controller streams decode", failures: decode, checked: "every PDU decoded" },
        { name: "NIC path agrees with the capture", failures: nicOnly, checked: "the host on the NIC path failed nowhere the capture's own stream did not" },
        { name: "buffers hold the captured data", failures: buffers, checked: `${reads.length} read buffers compared with the capture's` },
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
      backend: o.backend,
      port: o.port,
      frames: capture.frames,
      connections: queues.map((q) => ({ host: q.conn.host, target: q.conn.target, qid: q.qid ?? null, ...q.digests, offloaded: q.offloaded })),
      reads: reads.map(({ q, c }) => {
        const r = c.nicResult ?? { ...c.nic(), status: HOST_ABORTED_STATUS };
        return {
          connection: q.conn.index,
          cid: c.cid,
          length: c.length,
          offloaded: r.offloaded,
          placed: r.placed,
          copied: r.copied,
          digest: r.digest,
          completed: c.nicResult !== undefined && c.nicResult.status !== HOST_ABORTED_STATUS,
          sha256: createHash("sha256").update(r.data).digest("hex"),
        };
      }),
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
