// Wires a software NVMe/TCP host to the target emulator, for tests and the ddpsim CLI:
//
//   host --bytes--> (framed for the capture only) --> TargetQueue
//   TargetQueue --frames--> ImpairedWire (optional) --> receive path: parse, drop bad checksums,
//                                                       TcpReceiver (reassembly) --> host.receive
//
// Everything is synchronous and seeded; pump() runs the exchange until nothing moves. The receive path is one
// method (deliverFrame) so that a NIC model and driver can later be put in its place.

import { type FlowAddress, parseFrame, reverseFlow } from "../net/frame.js";
import { ParseError } from "../net/errors.js";
import { type ByteSegment, createByteReceiver, type TcpReceiver } from "../net/tcp-receiver.js";
import { TcpStreamSender } from "../net/tcp-sender.js";
import { type HostConfig, NvmeTcpHost } from "../nvme/host.js";
import { Rng } from "../util/rng.js";
import { NvmeSubsystem, type QueueConfig, TargetQueue } from "./controller.js";
import { RamNamespace } from "./namespace.js";
import { ImpairedWire, type WireImpairments } from "./wire.js";

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
  readonly receiver: TcpReceiver<ByteSegment>;
  readonly captured: CapturedFrame[] = [];
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
    this.receiver = createByteReceiver(config.target.isn);
    this.host = new NvmeTcpHost(config.host, (bytes) => this.outbox.push(bytes));
  }

  /** Moves bytes and frames both ways until nothing moves. */
  pump(): void {
    for (;;) {
      if (this.outbox.length > 0) {
        for (const bytes of this.outbox.splice(0)) this.hostToTarget(bytes);
      } else if (this.target.hasPending) {
        this.target.ackSeq = this.hostSender.nextSeq;
        for (const seg of this.target.flush()) this.onWire(seg.frame);
      } else if (this.wire && this.wire.pending > 0) {
        for (const f of this.wire.flush()) this.deliverFrame(f);
      } else {
        return;
      }
    }
  }

  /**
   * Pumps until `op` settles and returns its result. Host operations continue in promise callbacks (e.g. the
   * Connect after the ICResp), so pumping alternates with letting those run.
   */
  async run<T>(op: Promise<T>): Promise<T> {
    let settled = false;
    const watched = op.finally(() => {
      settled = true;
    });
    watched.catch(() => undefined);
    for (;;) {
      this.pump();
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (settled) return watched;
      if (this.outbox.length === 0 && !this.target.hasPending && (this.wire?.pending ?? 0) === 0) {
        throw new Error("queue pair stalled: the operation is waiting for traffic that will never come");
      }
    }
  }

  private hostToTarget(bytes: Uint8Array): void {
    this.hostSender.ackSeq = this.target.nextSeq;
    const segments = this.hostSender.send(bytes);
    if (this.capture) for (const s of segments) this.captured.push({ data: s.frame, from: "host" });
    this.target.receive(bytes);
  }

  private onWire(frame: Uint8Array): void {
    const out = this.wire ? this.wire.push(frame) : [frame];
    for (const f of out) this.deliverFrame(f);
  }

  /** The software receive path: checksum check, TCP reassembly, in-order bytes to the host. */
  deliverFrame(frame: Uint8Array): void {
    if (this.capture) this.captured.push({ data: frame, from: "target" });
    let parsed;
    try {
      parsed = parseFrame(frame);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      this.droppedFrames++;
      return;
    }
    if (!parsed.checksumOk || !parsed.tcp) {
      this.droppedFrames++;
      return;
    }
    for (const seg of this.receiver.receive({ seq: parsed.tcp.seq, data: parsed.payload })) this.host.receive(seg.data);
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
}

export interface Session {
  subsystem: NvmeSubsystem;
  namespace: RamNamespace;
  admin: QueuePair;
  io: QueuePair;
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
  const admin = new QueuePair({ seed: rng.u32(), subsystem, host: { ...host, qid: 0 }, target, hostPort: 40000 });
  const cntlid = await admin.run(admin.host.connect());
  const io = new QueuePair({
    seed: rng.u32(),
    subsystem,
    host: { ...host, qid: 1, cntlid },
    target,
    hostPort: 40001,
    ...(c.impairments ? { impairments: c.impairments } : {}),
    ...(c.capture ? { capture: true } : {}),
  });
  await io.run(io.host.connect());
  return { subsystem, namespace, admin, io };
}
