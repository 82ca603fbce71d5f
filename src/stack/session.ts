// Wires an NVMe/TCP host to the target emulator, for tests and the ddpsim CLI:
//
//   host --bytes--> (framed for the capture only) --> TargetQueue
//   TargetQueue --frames--> ImpairedWire (optional) --> receive path --> skbs --> TcpReceiver (reassembly)
//                                                                                  --> host.receiveSkb
//
// The receive path (deliverFrames) is either software (parse, drop bad checksums, one ring fragment per
// frame) or the NIC: the offload device and its driver, shared by every queue of a session, whose skbs may
// point into the host's read buffers. Everything is seeded; pump() runs the exchange until nothing moves
// (asynchronously, since a device may answer over a bridge). Every queue checks that the byte stream TCP
// delivers is the stream the target sent.

import type { OffloadDevice } from "../device/device.js";
import { NicDriver } from "../driver/driver.js";
import { bytesSkb, createSkbReceiver, fragBytes, type Skb } from "../contract/skb.js";
import type { UlpDdpSocket } from "../contract/ulp-ddp.js";
import type { HostMemory } from "../contract/host-memory.js";
import { type FlowAddress, parseFrame, reverseFlow } from "../net/frame.js";
import { ParseError } from "../net/errors.js";
import type { TcpReceiver } from "../net/tcp-receiver.js";
import { TcpStreamSender } from "../net/tcp-sender.js";
import { type HostConfig, NvmeTcpHost } from "../nvme/host.js";
import { Rng } from "../util/rng.js";
import { NvmeSubsystem, type QueueConfig, TargetQueue } from "../nvmet/controller.js";
import { patternBytes, RamNamespace } from "../nvmet/namespace.js";
import { ImpairedWire, type WireImpairments } from "../nvmet/wire.js";

export const NVME_TCP_PORT = 4420;

export interface QueuePairConfig {
  seed: number;
  subsystem: NvmeSubsystem;
  host: HostConfig;
  target: Omit<QueueConfig, "addr" | "rng">;
  /** The host's first sequence number. */
  hostIsn?: number;
  /** The host's TCP port (the target listens on 4420). */
  hostPort?: number;
  impairments?: WireImpairments;
  /** Keep every frame of both directions (for pcaps); target frames as the host receives them. */
  capture?: boolean;
  /** Receive through the NIC instead of the software path. */
  nic?: QueueNic;
}

export interface QueueNic {
  driver: NicDriver;
  /** Offer this queue for offload (nvme-tcp's ddp_offload parameter; the admin queue is never offloaded). */
  offload: boolean;
  /** Pages of the host's read buffers (SGL entry size). Default 4096. */
  pageSize?: number;
  /**
   * Frames per driver receive call, TCP and the host running between calls, as a NAPI poll hands the stack at
   * most its weight of packets. Default NAPI_WEIGHT. A resync confirm needs the host to have seen the candidate
   * header, so this bounds how long the device waits for it.
   */
  napiBudget?: number;
}

/** Linux's default NAPI weight: packets per poll. */
export const NAPI_WEIGHT = 64;

/** Compares the stream TCP delivers with the stream the target sent, as both go. */
export class StreamCheck {
  wireBytes = 0;
  deliveredBytes = 0;
  /** Stream offset of the first delivered byte that differs from (or goes beyond) what was sent. */
  mismatchAt: number | undefined;
  private readonly sent: Uint8Array[] = [];
  private head = 0;

  wire(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.sent.push(bytes);
    this.wireBytes += bytes.length;
  }

  delivered(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; ) {
      const ref = this.sent[0];
      if (!ref) {
        this.mismatchAt ??= this.deliveredBytes + i;
        break;
      }
      const n = Math.min(ref.length - this.head, bytes.length - i);
      if (this.mismatchAt === undefined && !Buffer.from(ref.buffer, ref.byteOffset + this.head, n).equals(Buffer.from(bytes.buffer, bytes.byteOffset + i, n))) {
        let k = 0;
        while (ref[this.head + k] === bytes[i + k]) k++;
        this.mismatchAt = this.deliveredBytes + i + k;
      }
      this.head += n;
      i += n;
      if (this.head === ref.length) {
        this.sent.shift();
        this.head = 0;
      }
    }
    this.deliveredBytes += bytes.length;
  }

  /** Everything sent was delivered, byte for byte. */
  get equal(): boolean {
    return this.mismatchAt === undefined && this.wireBytes === this.deliveredBytes;
  }
}

export interface CapturedFrame {
  data: Uint8Array;
  /** Which side sent it. */
  from: "host" | "target";
}

/** One NVMe/TCP queue: a host, the target's side of it, and the network between them. */
export class QueuePair {
  readonly host: NvmeTcpHost;
  readonly target: TargetQueue;
  readonly wire: ImpairedWire | undefined;
  readonly receiver: TcpReceiver<Skb>;
  readonly captured: CapturedFrame[] = [];
  readonly stream = new StreamCheck();
  readonly nic: QueueNic | undefined;
  /** The socket as the driver knows it (flow as received, copied_seq = what TCP delivered to the host). */
  readonly socket: UlpDdpSocket;
  /** Target frames dropped by the receive path because a checksum failed. */
  droppedFrames = 0;

  private readonly hostSender: TcpStreamSender;
  private readonly outbox: Uint8Array[] = [];
  private readonly capture: boolean;

  constructor(config: QueuePairConfig) {
    const rng = new Rng(config.seed);
    const hostAddr: FlowAddress = {
      srcMac: "02:00:00:00:00:01",
      dstMac: "02:00:00:00:00:02",
      ipVersion: 4,
      srcIp: "10.0.0.1",
      dstIp: "10.0.0.2",
      srcPort: config.hostPort ?? 40000,
      dstPort: NVME_TCP_PORT,
    };
    this.capture = config.capture ?? false;
    this.hostSender = new TcpStreamSender(hostAddr, { isn: config.hostIsn ?? 1000, mss: config.target.mss });
    this.target = new TargetQueue(config.subsystem, { ...config.target, addr: reverseFlow(hostAddr), rng: rng.fork() });
    this.wire = config.impairments ? new ImpairedWire({ ...config.impairments, seed: rng.u32() }) : undefined;
    this.receiver = createSkbReceiver(config.target.isn);
    this.nic = config.nic;
    const receiver = this.receiver;
    this.socket = {
      flow: { ipVersion: hostAddr.ipVersion, srcIp: hostAddr.dstIp, dstIp: hostAddr.srcIp, srcPort: hostAddr.dstPort, dstPort: hostAddr.srcPort },
      get copiedSeq() {
        return receiver.nextSeq;
      },
    };
    const nic = config.nic;
    const ddp = nic?.offload ? { ddp: { netdev: nic.driver, memory: nic.driver.device.memory, socket: this.socket, ...(nic.pageSize ? { pageSize: nic.pageSize } : {}) } } : {};
    this.host = new NvmeTcpHost({ ...config.host, ...ddp }, (bytes) => this.outbox.push(bytes));
  }

  /** Nothing waits to move on this queue (device work aside). */
  get quiet(): boolean {
    return this.outbox.length === 0 && !this.target.hasPending && (this.wire?.pending ?? 0) === 0;
  }

  /** Moves bytes and frames both ways until nothing moves. */
  async pump(): Promise<void> {
    for (;;) {
      if (this.outbox.length > 0) {
        for (const bytes of this.outbox.splice(0)) this.hostToTarget(bytes);
      } else if (this.target.hasPending) {
        this.target.ackSeq = this.hostSender.nextSeq;
        const segments = this.target.flush();
        for (const seg of segments) this.stream.wire(seg.payload);
        await this.deliverFrames(segments.flatMap((seg) => (this.wire ? this.wire.push(seg.frame) : [seg.frame])));
      } else if (this.wire && this.wire.pending > 0) {
        await this.deliverFrames(this.wire.flush());
      } else {
        return;
      }
    }
  }

  /** Pumps until `op` settles and returns its result (see runQueues). */
  run<T>(op: Promise<T>): Promise<T> {
    return runQueues([this], op);
  }

  private hostToTarget(bytes: Uint8Array): void {
    this.hostSender.ackSeq = this.target.nextSeq;
    const segments = this.hostSender.send(bytes);
    if (this.capture) for (const s of segments) this.captured.push({ data: s.frame, from: "host" });
    this.target.receive(bytes);
  }

  /** The receive path: frames from the wire in arrival order, through the NIC or the software path, to TCP. */
  async deliverFrames(frames: Uint8Array[]): Promise<void> {
    if (frames.length === 0) return;
    if (this.capture) for (const f of frames) this.captured.push({ data: f, from: "target" });
    if (this.nic) {
      const budget = this.nic.napiBudget ?? NAPI_WEIGHT;
      for (let i = 0; i < frames.length; i += budget) {
        const { skbs, dropped } = await this.nic.driver.receive(frames.slice(i, i + budget));
        this.droppedFrames += dropped;
        for (const skb of skbs) this.toTcp(skb);
      }
      return;
    }
    for (const f of frames) {
      const skb = softwareSkb(f);
      if (skb) this.toTcp(skb);
      else this.droppedFrames++;
    }
  }

  private toTcp(skb: Skb): void {
    const memory = this.nic?.driver.device.memory;
    for (const s of this.receiver.receive(skb)) {
      for (const f of s.frags) this.stream.delivered(fragBytes(f, memory));
      this.host.receiveSkb(s);
    }
  }
}

/** The software receive path of one frame: parse, drop it if a checksum fails, else its payload as an skb. */
function softwareSkb(frame: Uint8Array): Skb | undefined {
  let parsed;
  try {
    parsed = parseFrame(frame);
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    return undefined;
  }
  if (!parsed.checksumOk || !parsed.tcp) return undefined;
  return bytesSkb(parsed.tcp.seq, parsed.payload);
}

/**
 * Pumps every queue until `op` settles and returns its result. Host operations continue in promise callbacks
 * (e.g. the Connect after the ICResp) and device work runs asynchronously, so pumping alternates with letting
 * those run; the queues are stalled only when none has anything to move and no device work is in flight.
 */
export async function runQueues<T>(queues: readonly QueuePair[], op: Promise<T>): Promise<T> {
  let settled = false;
  const watched = op.finally(() => {
    settled = true;
  });
  watched.catch(() => undefined);
  const drivers = [...new Set(queues.flatMap((q) => (q.nic ? [q.nic.driver] : [])))];
  for (;;) {
    for (const q of queues) await q.pump();
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (settled) return watched;
    if (queues.every((q) => q.quiet)) {
      const busy = drivers.filter((d) => d.busy);
      if (busy.length === 0) throw new Error("queue pair stalled: the operation is waiting for traffic that will never come");
      await Promise.all(busy.map((d) => d.idle()));
    }
  }
}

export interface SessionConfig {
  seed: number;
  hdgst: boolean;
  ddgst: boolean;
  queueDepth?: number;
  blockSize?: number;
  /** Namespace 1's size in blocks. */
  blocks?: number;
  mss?: number;
  c2hDataSize?: number;
  successFlag?: boolean;
  reorder?: boolean;
  /** The target's first sequence number on the I/O queue (near 2^32 to test wrap). */
  targetIsn?: number;
  /** Impairments of the I/O queue's controller -> host direction. */
  impairments?: WireImpairments;
  capture?: boolean;
  /** I/O queues (default 1), each its own TCP connection. */
  queues?: number;
  /** Receive through this offload device and a driver on it (shared by all queues). */
  nic?: SessionNic;
}

export interface SessionNic {
  device: OffloadDevice;
  /** Offer the I/O queues for offload (default true). */
  offload?: boolean;
  pageSize?: number;
  /** See QueueNic.napiBudget. */
  napiBudget?: number;
  /** Active caps to set (ULP_DDP_CAP_* bits) before the queues connect; default: as the device comes up. */
  caps?: number;
}

export interface Session {
  subsystem: NvmeSubsystem;
  namespace: RamNamespace;
  admin: QueuePair;
  /** The first I/O queue. */
  io: QueuePair;
  ios: QueuePair[];
  driver: NicDriver | undefined;
  memory: HostMemory | undefined;
}

export const SUBNQN = "nqn.2024-01.io.example:ddpsim";

/** A subsystem with namespace 1, an admin queue and one connected I/O queue. */
export async function openSession(c: SessionConfig): Promise<Session> {
  const blockSize = c.blockSize ?? 512;
  const namespace = new RamNamespace({ nsid: 1, blockSize, blocks: c.blocks ?? 1 << 20 });
  const subsystem = new NvmeSubsystem({ subnqn: SUBNQN, namespaces: [namespace] });
  const rng = new Rng(c.seed);
  const target = {
    isn: c.targetIsn ?? 5000,
    mss: c.mss ?? 1460,
    c2hDataSize: c.c2hDataSize ?? 4096,
    successFlag: c.successFlag ?? false,
    reorder: c.reorder ?? false,
  };
  const host = { hdgst: c.hdgst, ddgst: c.ddgst, queueDepth: c.queueDepth ?? 32, blockSize, subnqn: SUBNQN };
  const driver = c.nic ? await NicDriver.create(c.nic.device) : undefined;
  if (driver && c.nic?.caps !== undefined) await driver.setCaps(c.nic.caps);
  const nic = (offload: boolean): { nic?: QueueNic } =>
    driver
      ? { nic: { driver, offload, ...(c.nic?.pageSize ? { pageSize: c.nic.pageSize } : {}), ...(c.nic?.napiBudget ? { napiBudget: c.nic.napiBudget } : {}) } }
      : {};
  const admin = new QueuePair({ seed: rng.u32(), subsystem, host: { ...host, qid: 0 }, target, hostPort: 40000, ...nic(false) });
  const cntlid = await admin.run(admin.host.connect());
  const ios: QueuePair[] = [];
  for (let q = 1; q <= (c.queues ?? 1); q++) {
    const io = new QueuePair({
      seed: rng.u32(),
      subsystem,
      host: { ...host, qid: q, cntlid },
      target,
      hostPort: 40000 + q,
      ...(c.impairments ? { impairments: c.impairments } : {}),
      ...(c.capture ? { capture: true } : {}),
      ...nic(c.nic?.offload ?? true),
    });
    await io.run(io.host.connect());
    ios.push(io);
  }
  return { subsystem, namespace, admin, io: ios[0]!, ios, driver, memory: c.nic?.device.memory };
}

/** Stops the I/O queues (sk_del for offloaded ones); the device stays open (its owner closes it). */
export async function closeSession(s: Session): Promise<void> {
  for (const q of s.ios) await q.host.stop();
}

// ---------------------------------------------------------------------------------------------------------
// An offloaded read workload end to end, with the invariants of DESIGN section 8 (for test/e2e and the CLI).

export interface ReadWorkload {
  seed: number;
  /** Reads per I/O queue. */
  reads: number;
  /** Read sizes in blocks: uniform in [1, maxBlocks]. */
  maxBlocks: number;
  /** Reads issued at once per queue (more than the queue depth makes some wait for a tag). */
  inFlight: number;
}

export interface WorkloadReport {
  reads: number;
  bytesRead: number;
  /** Every read's length in bytes, per queue in issue order. */
  sizes: number[][];
  /** Host counters summed over the I/O queues. */
  host: NvmeTcpHost["counters"];
  driver: NicDriver["counters"] | undefined;
  rx: NicDriver["rx"] | undefined;
  stats: Awaited<ReturnType<NicDriver["getStats"]>> | undefined;
  /** Invariants that failed, in words (empty = all held). */
  violations: string[];
}

/** Runs random reads on every I/O queue at once, checks every result and the invariants, then stops the queues. */
export async function runReadWorkload(s: Session, w: ReadWorkload): Promise<WorkloadReport> {
  const rng = new Rng(w.seed);
  const bs = s.namespace.blockSize;
  const violations: string[] = [];
  let reads = 0;
  let bytesRead = 0;
  const sizes: number[][] = s.ios.map(() => []);
  // One generator per queue, so that the reads do not depend on how the queues' completions interleave.
  const rngs = s.ios.map(() => rng.fork());
  const perQueue = s.ios.map(async (q, qi) => {
    const rng = rngs[qi]!;
    for (let done = 0; done < w.reads; ) {
      const n = Math.min(w.inFlight, w.reads - done);
      const ops = Array.from({ length: n }, () => ({ slba: rng.int(Math.max(1, s.namespace.blocks - w.maxBlocks)), nlb: rng.range(1, w.maxBlocks) }));
      sizes[qi]!.push(...ops.map((o) => o.nlb * bs));
      const results = await Promise.all(ops.map((o) => q.host.read(1, o.slba, o.nlb)));
      results.forEach((r, k) => {
        const o = ops[k]!;
        const want = patternBytes(1, o.slba * bs, o.nlb * bs);
        if (r.status !== 0) violations.push(`queue ${qi + 1}: read [${o.slba}, +${o.nlb}) status 0x${r.status.toString(16)}`);
        else if (!Buffer.from(r.data).equals(Buffer.from(want))) violations.push(`queue ${qi + 1}: read [${o.slba}, +${o.nlb}) returned other bytes than the namespace's`);
        reads++;
        bytesRead += want.length;
      });
      done += n;
    }
  });
  await runQueues(s.ios, Promise.all(perQueue));
  for (const q of s.ios) if (q.host.failure) violations.push(`queue ${q.host.cntlid}: ${q.host.failure.message}`);
  // Whether the NIC checked digests for every queue (OFF_DDGST_RX, or no data digests at all), before stopping.
  const noSoftwareCrc = s.ios.every((q) => q.host.offload.ddgstRx || !q.host.negotiated.ddgst);
  await runQueues(s.ios, closeSession(s));

  const host = s.ios.map((q) => q.host.counters).reduce((sum, c) => {
    const out = { ...sum };
    for (const k of Object.keys(c) as (keyof typeof c)[]) out[k] += c[k];
    return out;
  });
  const check = (ok: boolean, what: string): void => {
    if (!ok) violations.push(what);
  };
  s.ios.forEach((q, i) => {
    check(q.stream.equal, `queue ${i + 1}: TCP delivered ${q.stream.deliveredBytes} bytes, the target sent ${q.stream.wireBytes}; first difference at ${q.stream.mismatchAt}`);
    check(q.host.outstanding === 0, `queue ${i + 1}: ${q.host.outstanding} commands still outstanding`);
  });
  check(host.bytesCopied + host.bytesPlaced === bytesRead, `copied ${host.bytesCopied} + placed ${host.bytesPlaced} != ${bytesRead} bytes read`);
  const inOrder = s.ios.every((q) => !q.wire || q.wire.log.every((e) => e.action === "pass"));
  let stats: WorkloadReport["stats"];
  if (s.driver) {
    const d = s.driver;
    stats = await d.getStats();
    check(stats["rx-nvme-tcp-setup"] === stats["rx-nvme-tcp-teardown"], `setup ${stats["rx-nvme-tcp-setup"]} != teardown ${stats["rx-nvme-tcp-teardown"]}`);
    check(d.tagsHeld === 0, `${d.tagsHeld} tags still held by the driver`);
    check(stats["rx-nvme-tcp-sk-add"] === stats["rx-nvme-tcp-sk-del"], `sk-add ${stats["rx-nvme-tcp-sk-add"]} != sk-del ${stats["rx-nvme-tcp-sk-del"]}`);
    check(stats["rx-nvme-tcp-setup"] === host.ddpSetups, `driver setups ${stats["rx-nvme-tcp-setup"]} != host's ${host.ddpSetups}`);
    check(stats["rx-nvme-tcp-setup-fail"] === host.ddpSetupFailures, `driver setup-fail ${stats["rx-nvme-tcp-setup-fail"]} != host's ${host.ddpSetupFailures}`);
    check(stats["rx-nvme-tcp-bytes"] === d.rx.placedBytes, `device placed ${stats["rx-nvme-tcp-bytes"]} bytes, CQEs report ${d.rx.placedBytes}`);
    if (inOrder) {
      check(host.bytesPlaced === d.rx.placedBytes, `host skipped ${host.bytesPlaced} copies, the device placed ${d.rx.placedBytes}`);
      check(host.ddpBytesCopied === 0, `software copied ${host.ddpBytesCopied} bytes of offloaded reads`);
      if (noSoftwareCrc) check(host.ddpBytesCrcd === 0, `software CRC'd ${host.ddpBytesCrcd} bytes of offloaded reads`);
    }
  }
  const guards = s.memory?.checkGuards() ?? [];
  check(guards.length === 0, `${guards.length} host bytes outside registered buffers changed (first at 0x${guards[0]?.addr.toString(16)})`);
  return { reads, bytesRead, sizes, host, driver: s.driver?.counters, rx: s.driver?.rx, stats, violations };
}
