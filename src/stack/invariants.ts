// The end-to-end invariants of DESIGN section 8, in one place, for every whole-stack run: `ddpsim run`,
// `ddpsim replay`, `make bench` and the end-to-end tests. Each is a named verdict with its evidence in words:
//
//   data                  every read returned the right bytes, every write reached the target and every data
//                         digest it checked was good (the caller says what "right" is: the namespace's
//                         contents, or the captured stream)
//   queues healthy        no queue failed, nothing outstanding
//   wire stream intact    the stream TCP delivered is the stream the sender sent, byte for byte
//   nothing written outside registered buffers   every guard byte intact
//   setup == teardown     every setup torn down, every sk_add deleted (receive and transmit), no tag held
//   counters add up       host, driver and device agree on setups and placed bytes; every byte read was copied
//                         or placed; on an in-order wire software neither copies nor CRCs a byte of an
//                         offloaded read, except what the documented MAX_SEGS limit left on the ring; the
//                         transmit block filled every DDGST the host left to it

import type { HostMemory } from "../contract/host-memory.js";
import type { NicDriver } from "../driver/driver.js";
import type { HostCounters } from "../nvme/host.js";
import { sessionFigures } from "./figures.js";
import type { Invariant } from "./report.js";
import type { Session } from "./session.js";
import type { StreamCheck } from "./stream-check.js";
import type { IoRun } from "./workload.js";

export interface StackFacts {
  /** Comparisons of the I/O's data with its reference: each a name, its failures, and what was checked. */
  data: { name: string; failures: string[]; checked: string }[];
  /** Queues that failed or kept commands outstanding, in words. */
  unhealthy: string[];
  streams: { who: string; check: StreamCheck }[];
  memory: HostMemory | undefined;
  driver: NicDriver | undefined;
  /** Host counters summed over the queues. */
  host: HostCounters;
  /** Bytes the reads asked for (undefined: not known, e.g. a capture that ends with reads in flight). */
  bytesRead: number | undefined;
  /** The wire kept every frame in order (no loss, reorder, duplicate or corruption). */
  inOrder: boolean;
  /** Every queue had the NIC check data digests, or no data digests were on. */
  noSoftwareCrc: boolean;
  /** Data bytes that frames with every MAX_SEGS slot used left on the ring (undefined: not recorded). */
  segLimitedBytes: number | undefined;
}

export async function stackInvariants(f: StackFacts): Promise<Invariant[]> {
  const out: Invariant[] = [];
  const check = (name: string, bad: readonly string[], ok: string): void => {
    out.push({ name, ok: bad.length === 0, detail: bad.length === 0 ? ok : bad.join("; ") });
  };
  for (const d of f.data) check(d.name, d.failures, d.checked);
  check("queues healthy", f.unhealthy, "no queue failed, nothing outstanding");
  const streams = f.streams.flatMap((s) => s.check.problem(s.who) ?? []);
  check("wire stream intact", streams, `${f.streams.reduce((n, s) => n + s.check.wireBytes, 0)} bytes delivered as sent`);
  const guards = f.memory?.checkGuards() ?? [];
  check("nothing written outside registered buffers", guards.length === 0 ? [] : [`${guards.length} bytes changed, first at 0x${guards[0]!.addr.toString(16)}`], "every guard byte intact");

  const teardown: string[] = [];
  const adds: string[] = [];
  const h = f.host;
  const d = f.driver;
  if (d) {
    const st = await d.getStats();
    if (st["rx-nvme-tcp-setup"] !== st["rx-nvme-tcp-teardown"]) teardown.push(`setup ${st["rx-nvme-tcp-setup"]} != teardown ${st["rx-nvme-tcp-teardown"]}`);
    if (st["rx-nvme-tcp-sk-add"] !== st["rx-nvme-tcp-sk-del"]) teardown.push(`sk-add ${st["rx-nvme-tcp-sk-add"]} != sk-del ${st["rx-nvme-tcp-sk-del"]}`);
    if (d.tagsHeld !== 0) teardown.push(`${d.tagsHeld} tags still held by the driver`);
    const tx = await d.txStats();
    if (tx && tx.driver["tx-nvme-tcp-sk-add"] !== tx.driver["tx-nvme-tcp-sk-del"]) teardown.push(`tx sk-add ${tx.driver["tx-nvme-tcp-sk-add"]} != tx sk-del ${tx.driver["tx-nvme-tcp-sk-del"]}`);
    // Every PDU whose DDGST the host left to the NIC got one (a retransmitted digest is filled again).
    if (tx && tx.device.ddgst < h.txDdgstOffloaded) adds.push(`the NIC filled ${tx.device.ddgst} digests, the host left ${h.txDdgstOffloaded} to it`);
    if (st["rx-nvme-tcp-setup"] !== h.ddpSetups) adds.push(`driver setups ${st["rx-nvme-tcp-setup"]} != host's ${h.ddpSetups}`);
    if (st["rx-nvme-tcp-setup-fail"] !== h.ddpSetupFailures) adds.push(`driver setup-fail ${st["rx-nvme-tcp-setup-fail"]} != host's ${h.ddpSetupFailures}`);
    const placed = d.rx.placedBytes;
    if (st["rx-nvme-tcp-bytes"] !== placed) adds.push(`device placed ${st["rx-nvme-tcp-bytes"]} bytes, its CQEs ${placed}`);
    // Under loss the device may place a retransmitted PDU's bytes that TCP then drops as a duplicate: the host
    // skips at most what was placed, and exactly that when the wire kept order.
    if (f.inOrder ? h.bytesPlaced !== placed : h.bytesPlaced > placed) adds.push(`host skipped ${h.bytesPlaced} copies, the device placed ${placed}`);
    if (f.inOrder && f.segLimitedBytes !== undefined && h.ddpBytesCopied > f.segLimitedBytes) {
      adds.push(`software copied ${h.ddpBytesCopied} bytes of offloaded reads on an in-order wire, more than the ${f.segLimitedBytes} bytes that frames using all MAX_SEGS segment slots left on the ring`);
    }
    if (f.inOrder && f.noSoftwareCrc && h.ddpBytesCrcd !== 0) adds.push(`software CRC'd ${h.ddpBytesCrcd} bytes of offloaded reads on an in-order wire`);
  }
  if (f.bytesRead !== undefined && h.bytesCopied + h.bytesPlaced !== f.bytesRead) adds.push(`copied ${h.bytesCopied} + placed ${h.bytesPlaced} != ${f.bytesRead} bytes read`);
  check("setup == teardown", teardown, d ? "every setup torn down, every sk_add deleted" : "no NIC");
  check("counters add up", adds, "host, driver and device counters agree");
  return out;
}

/** The invariants of a session after runIo: data against the namespace and the target's RAM. */
export function sessionInvariants(s: Session, io: IoRun): Promise<Invariant[]> {
  // Whether the wire kept order is judged by what reached the device (a wire, or anything in front of the
  // device, may have reordered it).
  const figures = s.recorder ? sessionFigures(s) : undefined;
  const reads = io.failed.read === 0 ? [] : [`${io.failed.read} reads failed: ${io.errors.read.join("; ")}`];
  const badDigests = s.ios.reduce((n, q) => n + q.target.ddgstErrors, 0);
  const writes = [
    ...(badDigests > 0 ? [`the target found ${badDigests} bad data digests`] : []),
    ...(io.failed.write > 0 ? [`${io.failed.write} writes failed: ${io.errors.write.join("; ")}`] : []),
    ...(io.badBlocks.length > 0 ? [`${io.badBlocks.length} written blocks differ in the target's RAM (first LBA ${io.badBlocks[0]})`] : []),
  ];
  return stackInvariants({
    data: [
      { name: "reads return the namespace's bytes", failures: reads, checked: `${io.reads} reads (${io.readCommands} Read commands) compared with the namespace` },
      { name: "writes reached the namespace", failures: writes, checked: `${io.writtenBlocks} written blocks checked in the target's RAM, every data digest good` },
    ],
    unhealthy: io.unhealthy,
    streams: s.ios.map((q, i) => ({ who: `queue ${i + 1}`, check: q.stream })),
    memory: s.memory,
    driver: s.driver,
    host: io.host,
    bytesRead: io.bytesRead,
    inOrder: figures?.inOrder ?? true,
    noSoftwareCrc: io.noSoftwareCrc,
    segLimitedBytes: figures?.segLimitedBytes,
  });
}
