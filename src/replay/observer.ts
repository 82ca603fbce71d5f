// One captured connection replayed through the host's own receive path. The capture stands in for the host: its
// host-to-controller PDUs say which commands the host sent (observeIcReq / observeCommand); two NvmeTcpHosts in
// observer mode then receive the controller's stream exactly as a host would:
//
//   nic        the stream as the NIC path delivers it: frames -> device -> driver skbs -> TCP -> host, with the
//              offload (sk_add after the Connect, setup before each command with controller-to-host data, teardown,
//              resync confirms, copy skip, the per-PDU digest rule), all done by the host code, not by the replay;
//   reference  the capture's own bytes, reassembled in software, on the software receive path.
//
// Every command's buffer and digest verdict on the NIC path must equal the reference's, the NIC path must meet
// the same protocol errors as the reference and no other, and the stream the NIC path delivered must be the
// captured stream. The captured host's stream is decoded as liberally as framing allows (what it gets wrong is a
// finding); the length of each command's data comes from its SGL or, when that gives none, from the command's own
// fields (Read: NLB x the namespace's LBA size, learned from an Identify Namespace in the capture).

import type { HostMemory } from "../contract/host-memory.js";
import { createSkbReceiver, fragBytes, type Skb } from "../contract/skb.js";
import type { UlpDdpSocket } from "../contract/ulp-ddp.js";
import type { NicDriver } from "../driver/driver.js";
import { createByteReceiver, type ByteSegment, type TcpReceiver } from "../net/tcp-receiver.js";
import { type CommandState, type IoResult, NvmeTcpHost } from "../nvme/host.js";
import { type FramedPdu, PduFramer } from "../pdu/framer.js";
import { PduError, type PduFinding } from "../pdu/pdu.js";
import { AdminOpcode, commandName, identifyNamespaceLbaSize, readSqe, sqeCid, sqeTransfer, statusOk } from "../pdu/sqe.js";
import { StreamCheck } from "../stack/stream-check.js";
import type { CapturedConnection } from "./capture.js";

/** A command the captured host sent, as both hosts saw it through. */
export interface ObservedCommand {
  cid: number;
  name: string;
  /** Bytes it may move controller to host, and bytes of them kept in its buffer. */
  dataIn: number;
  kept: number;
  nic: () => CommandState;
  ref: () => CommandState;
  /** Results, once the command completed on each path, or the error that failed it. */
  nicResult?: IoResult;
  refResult?: IoResult;
  refError?: Error;
}

export interface ObserverNic {
  driver: NicDriver;
  memory: HostMemory;
  /** Bytes per segment of the read buffers (SGL entries), each on a 4 KiB host page. */
  pageSize: number;
}

/** What the replay shares between connections: LBA sizes from Identify Namespace data, the default for others. */
export interface Namespaces {
  lbaSize: (nsid: number) => number;
  learn: (nsid: number, lbaSize: number) => void;
}

/** A finding of the captured host's stream, at its PDU's stream offset (host -> controller). */
export interface HostStreamFinding {
  /** A PDU finding, or SGL_LENGTH: a command's SGL disagrees with its own fields about the length of its data. */
  code: PduFinding["code"] | "SGL_LENGTH";
  offset: number;
  message: string;
  at: number;
}

export class ObservedQueue {
  readonly nic: NvmeTcpHost;
  readonly ref: NvmeTcpHost;
  readonly commands: ObservedCommand[] = [];
  readonly stream = new StreamCheck();
  /** What the captured host's stream gets wrong, at its offsets. */
  readonly hostFindings: HostStreamFinding[] = [];
  /** The host's own stream broke the protocol at this offset: no command is learned after it. */
  hostStreamError: { at: number; message: string } | undefined;
  /** Digests the ICReq asked for. */
  digests = { hdgst: false, ddgst: false };
  qid: number | undefined;
  /** Whether the NIC path's queue was offloaded (sk_add succeeded) when the capture ended. */
  offloaded = false;

  private readonly h2c: TcpReceiver<ByteSegment>;
  private readonly h2cFramer = new PduFramer({ direction: "H2C", hdgst: false, ddgst: false, rawSqe: true });
  private readonly raw: TcpReceiver<ByteSegment>;
  private readonly c2h: TcpReceiver<Skb>;

  constructor(
    readonly conn: CapturedConnection,
    private readonly device: ObserverNic,
    private readonly namespaces: Namespaces,
  ) {
    this.h2c = createByteReceiver(conn.h2cIsn);
    this.raw = createByteReceiver(conn.c2hIsn);
    const c2h = createSkbReceiver(conn.c2hIsn);
    this.c2h = c2h;
    const socket: UlpDdpSocket = {
      flow: conn.flow,
      get copiedSeq() {
        return c2h.nextSeq;
      },
    };
    // Tags, CIDs, block size and queue depth are the captured host's business: unused in observer mode.
    const base = { hdgst: false, ddgst: false, queueDepth: 1, qid: 0, blockSize: 512 };
    const none = (): void => undefined;
    this.nic = new NvmeTcpHost({ ...base, ddp: { netdev: device.driver, memory: device.memory, socket, pageSize: device.pageSize } }, none);
    this.ref = new NvmeTcpHost(base, none);
  }

  /** Host -> controller payload: the commands, registered on both hosts (a command's DDP setup is awaited). */
  async hostSegment(seq: number, data: Uint8Array): Promise<void> {
    if (this.hostStreamError) return;
    for (const d of this.h2c.receive({ seq, data })) {
      let pdus: FramedPdu[];
      try {
        pdus = this.h2cFramer.push(d.data);
      } catch (e) {
        if (!(e instanceof PduError)) throw e;
        pdus = [...this.h2cFramer.completedBeforeFailure];
        this.hostStreamError = { at: this.h2cFramer.streamOffset, message: `the host's stream is not NVMe/TCP from here on: ${e.message}` };
      }
      for (const p of pdus) await this.hostPdu(p);
      if (this.hostStreamError) return;
    }
  }

  private async hostPdu(p: FramedPdu): Promise<void> {
    for (const f of p.findings) this.hostFindings.push({ ...f, at: p.streamOffset });
    const pdu = p.pdu;
    if (pdu.kind === "ICReq") {
      this.digests = { hdgst: pdu.hdgstEnable, ddgst: pdu.ddgstEnable };
      for (const h of [this.nic, this.ref]) h.observeIcReq({ ...this.digests, hpda: pdu.hpda }).catch(() => undefined);
      return;
    }
    if (pdu.kind !== "CapsuleCmd" || pdu.sqe.kind !== "Raw") return;
    const bytes = pdu.sqe.bytes;
    const admin = this.qid === 0;
    const sqe = readSqe(bytes, { admin });
    if (sqe.kind === "Connect") this.qid = sqe.qid;
    const t = sqeTransfer(bytes, { admin, lbaSize: this.namespaces.lbaSize });
    const name = commandName(bytes, admin);
    const cid = sqeCid(sqe);
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const dataIn = t.direction === "c2h" || t.direction === "bidirectional" ? t.length : 0;
    const dataOut = t.direction === "h2c" || t.direction === "bidirectional" ? t.length : 0;
    if (t.fieldLength !== undefined && t.sglLength !== t.fieldLength) {
      const why = t.sglLength === undefined ? `its SGL gives no length (identifier 0x${bytes[39]!.toString(16)}, length ${v.getUint32(32, true)})` : `its SGL gives ${t.sglLength} bytes`;
      this.hostFindings.push({ code: "SGL_LENGTH", offset: 32, message: `${name} cid 0x${cid.toString(16)}: ${why}, its own fields ${t.fieldLength}; ${t.length} bytes expected`, at: p.streamOffset });
    }
    // No command can receive more data than the connection carries: a buffer never grows beyond that.
    const kept = Math.min(dataIn, this.conn.c2hBytes);
    const observed = { sqe, dataIn, dataOut, keep: kept, ...(pdu.data ? { inCapsule: pdu.data } : {}) };
    const nic = this.nic.observeCommand(observed);
    const ref = this.ref.observeCommand(observed);
    const c: ObservedCommand = { cid, name, dataIn, kept, nic: nic.state, ref: ref.state };
    this.commands.push(c);
    nic.done.then(
      (r) => (c.nicResult = r),
      () => undefined,
    );
    ref.done.then(
      (r) => {
        c.refResult = r;
        if (admin && bytes[0] === AdminOpcode.Identify && bytes[40] === 0 && statusOk(r.status)) {
          const size = identifyNamespaceLbaSize(r.data);
          if (size !== undefined) this.namespaces.learn(v.getUint32(4, true), size);
        }
      },
      (e: unknown) => (c.refError = e instanceof Error ? e : new Error(String(e))),
    );
    await Promise.all([nic.ready, ref.ready]);
  }

  /** A controller -> host frame's payload as captured: the reference stream. */
  controllerSegment(seq: number, data: Uint8Array): void {
    for (const d of this.raw.receive({ seq, data })) {
      this.stream.wire(d.data);
      this.ref.receive(d.data);
    }
  }

  /** An skb of this connection from the driver: TCP reassembly, then the NIC path's host. */
  nicSkb(skb: Skb): void {
    for (const s of this.c2h.receive(skb)) {
      for (const f of s.frags) this.stream.delivered(fragBytes(f, this.device.memory));
      this.nic.receiveSkb(s);
    }
  }

  /** The capture ended: outstanding commands are cancelled (offloaded ones torn down first), then sk_del. */
  stop(): Promise<void> {
    this.offloaded = this.nic.offload.ddp;
    this.nic.abortOutstanding();
    this.ref.abortOutstanding();
    return this.nic.stop();
  }
}
