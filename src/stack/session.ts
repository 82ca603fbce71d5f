// Wires an NVMe/TCP host to the target emulator, for tests and the ddpsim CLI:
//
//   host --bytes--> TcpStreamSender --frames--> transmit path --> ImpairedWire (optional) --> TcpReceiver
//                                                                                 (reassembly) --> TargetQueue
//   TargetQueue --frames--> ImpairedWire (optional) --> receive path --> skbs --> TcpReceiver (reassembly)
//                                                                                  --> host.receiveSkb
//
// The receive path (deliverFrames) is either software (parse, drop bad checksums, one ring fragment per
// frame) or the NIC: the offload device and its driver, shared by every queue of a session, whose skbs may
// point into the host's read buffers. The transmit path is the NIC's when there is one (NicDriver.transmit:
// the transmit data-digest block fills the DDGST of offloaded sockets' PDUs, the MAC their TCP checksums), else
// the frames as built. The host -> target wire impairs the frames that left the NIC; what TCP sends again (a
// lost or corrupted frame's retransmission) goes through the NIC again, as Linux's would, the driver resyncing
// the transmit block. The target's TCP drops frames whose checksum fails. Everything is seeded; pump() runs
// the exchange until nothing moves (asynchronously, since a device may answer over a bridge). Every queue
// checks that the byte stream TCP delivers is the stream the target sent.

import type { OffloadDevice } from "../device/device.js";
import type { TxDevice } from "../device/tx-device.js";
import { NicDriver } from "../driver/driver.js";
import { bytesSkb, createSkbReceiver, fragBytes, type Skb } from "../contract/skb.js";
import type { UlpDdpSocket } from "../contract/ulp-ddp.js";
import type { HostMemory } from "../contract/host-memory.js";
import { type FlowAddress, parseFrame, reverseFlow } from "../net/frame.js";
import { ParseError } from "../net/errors.js";
import { type ByteSegment, createByteReceiver, type TcpReceiver } from "../net/tcp-receiver.js";
import { TcpStreamSender } from "../net/tcp-sender.js";
import { type HostConfig, NvmeTcpHost } from "../nvme/host.js";
import { Rng } from "../util/rng.js";
import { NvmeSubsystem, type QueueConfig, TargetQueue } from "../nvmet/controller.js";
import { RamNamespace } from "../nvmet/namespace.js";
import { FrameRecorder } from "./recorder.js";
import { StreamCheck } from "./stream-check.js";
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
  /** The host -> target direction's wire. */
  readonly hostWire: ImpairedWire | undefined;
  readonly receiver: TcpReceiver<Skb>;
  readonly captured: CapturedFrame[] = [];
  readonly stream = new StreamCheck();
  readonly nic: QueueNic | undefined;
  /** The socket as the driver knows it (flow as received, copied_seq = what TCP delivered to the host). */
  readonly socket: UlpDdpSocket;
  /** Target frames dropped by the receive path because a checksum failed. */
  droppedFrames = 0;

  private readonly hostSender: TcpStreamSender;
  /** Frames the host wire holds for retransmission (as they left the NIC), and the frame TCP built for each. */
  private readonly resend = new Map<Uint8Array, Uint8Array>();
  /** The target's TCP receive side. */
  private readonly targetReceiver: TcpReceiver<ByteSegment>;
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
    this.hostWire = config.impairments ? new ImpairedWire({ ...config.impairments, seed: rng.u32() }) : undefined;
    this.targetReceiver = createByteReceiver(this.hostSender.nextSeq);
    this.receiver = createSkbReceiver(config.target.isn);
    this.nic = config.nic;
    const receiver = this.receiver;
    const sender = this.hostSender;
    const outbox = this.outbox;
    this.socket = {
      flow: { ipVersion: hostAddr.ipVersion, srcIp: hostAddr.dstIp, dstIp: hostAddr.srcIp, srcPort: hostAddr.dstPort, dstPort: hostAddr.srcPort },
      get copiedSeq() {
        return receiver.nextSeq;
      },
      get writeSeq() {
        return (sender.nextSeq + outbox.reduce((n, b) => n + b.length, 0)) >>> 0;
      },
    };
    const nic = config.nic;
    const ddp = nic?.offload ? { ddp: { netdev: nic.driver, memory: nic.driver.device.memory, socket: this.socket, ...(nic.pageSize ? { pageSize: nic.pageSize } : {}) } } : {};
    this.host = new NvmeTcpHost({ ...config.host, ...ddp }, (bytes) => this.outbox.push(bytes));
  }

  /** Nothing waits to move on this queue (device work aside). */
  get quiet(): boolean {
    return this.outbox.length === 0 && !this.target.hasPending && (this.wire?.pending ?? 0) === 0 && (this.hostWire?.pending ?? 0) === 0;
  }

  /** Moves bytes and frames both ways until nothing moves. */
  async pump(): Promise<void> {
    for (;;) {
      if (this.outbox.length > 0) {
        await this.hostToTarget(this.outbox.splice(0));
      } else if (this.target.hasPending) {
        this.target.ackSeq = this.hostSender.nextSeq;
        const segments = this.target.flush();
        for (const seg of segments) this.stream.wire(seg.payload);
        await this.deliverFrames(segments.flatMap((seg) => (this.wire ? this.wire.push(seg.frame) : [seg.frame])));
      } else if (this.wire && this.wire.pending > 0) {
        await this.deliverFrames(this.wire.flush());
      } else if (this.hostWire && this.hostWire.pending > 0) {
        await this.toTarget(this.hostWire.flush());
      } else {
        return;
      }
    }
  }

  /** Pumps until `op` settles and returns its result (see runQueues). */
  run<T>(op: Promise<T>): Promise<T> {
    return runQueues([this], op);
  }

  /** The host's bytes as TCP segments, through the NIC and the host -> target wire to the target. */
  private async hostToTarget(chunks: readonly Uint8Array[]): Promise<void> {
    this.hostSender.ackSeq = this.target.nextSeq;
    const built = chunks.flatMap((bytes) => this.hostSender.send(bytes).map((s) => s.frame));
    const sent = await this.throughNic(built);
    await this.toTarget(this.hostWire ? sent.flatMap((f, i) => this.pushHostWire(f, built[i]!)) : sent);
  }

  private async throughNic(frames: Uint8Array[]): Promise<Uint8Array[]> {
    return this.nic ? this.nic.driver.transmit(this.socket, frames) : frames;
  }

  /** Puts a frame that left the NIC on the host wire (and keeps what TCP built, should it be resent); what leaves now. */
  private pushHostWire(sent: Uint8Array, built: Uint8Array): Uint8Array[] {
    const wire = this.hostWire!;
    const logAt = wire.log.length;
    const out = wire.push(sent);
    const event = wire.log.slice(logAt).find((e) => e.action !== "retransmit")!;
    if (event.action === "loss" || event.action === "corrupt") this.resend.set(sent, built);
    return out;
  }

  /**
   * Frames off the host wire to the target's TCP, which drops those whose checksum fails. The wire's
   * retransmission of a lost or corrupted frame is TCP's: the frame it built, through the NIC again.
   */
  private async toTarget(frames: readonly Uint8Array[]): Promise<void> {
    if (frames.length === 0) return;
    const resent = await this.throughNic(frames.flatMap((f) => this.resend.get(f) ?? []));
    let k = 0;
    for (const f of frames) {
      const wireFrame = this.resend.delete(f) ? resent[k++]! : f;
      if (this.capture) this.captured.push({ data: wireFrame, from: "host" });
      const seg = checkedSegment(wireFrame);
      if (seg) for (const d of this.targetReceiver.receive(seg)) this.target.receive(d.data);
    }
    this.nic?.driver.txAck(this.socket, this.targetReceiver.nextSeq);
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

/** A TCP frame's payload and sequence number, or undefined when it does not parse or a checksum fails. */
function checkedSegment(frame: Uint8Array): ByteSegment | undefined {
  let parsed;
  try {
    parsed = parseFrame(frame);
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    return undefined;
  }
  if (!parsed.checksumOk || !parsed.tcp) return undefined;
  return { seq: parsed.tcp.seq, data: parsed.payload };
}

/** The software receive path of one frame: parse, drop it if a checksum fails, else its payload as an skb. */
function softwareSkb(frame: Uint8Array): Skb | undefined {
  const seg = checkedSegment(frame);
  return seg && bytesSkb(seg.seq, seg.data);
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
  /** Impairments of the I/O queue, drawn separately for each direction. */
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
  /** The NIC's transmit data-digest block (offers nvme-tcp-ddgst-tx); the session does not close it. */
  tx?: TxDevice;
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
  /** What the device did with every frame (the driver talks to the device through it). */
  recorder: FrameRecorder | undefined;
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
  const recorder = c.nic ? new FrameRecorder(c.nic.device) : undefined;
  const driver = recorder ? await NicDriver.create(recorder, c.nic?.tx ? { tx: c.nic.tx } : {}) : undefined;
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
  return { subsystem, namespace, admin, io: ios[0]!, ios, driver, memory: c.nic?.device.memory, recorder };
}

/** Stops the I/O queues (sk_del for offloaded ones); the device stays open (its owner closes it). */
export async function closeSession(s: Session): Promise<void> {
  for (const q of s.ios) await q.host.stop();
}
