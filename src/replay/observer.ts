// One captured connection replayed through the host's own receive path. The capture stands in for the host: its
// host-to-controller PDUs say which commands the host sent (observeIcReq / observeCommand); two NvmeTcpHosts in
// observer mode then receive the controller's stream exactly as a host would:
//
//   nic        the stream as the NIC path delivers it: frames -> device -> driver skbs -> TCP -> host, with the
//              offload (sk_add after the Connect, setup before each read, teardown, resync confirms, copy skip,
//              the per-PDU digest rule), all done by the host code, not by the replay;
//   reference  the capture's own bytes, reassembled in software, on the software receive path.
//
// Every read's buffer and digest verdict on the NIC path must equal the reference's, and the stream the NIC
// path delivered must be the captured stream.

import type { HostMemory } from "../contract/host-memory.js";
import { createSkbReceiver, fragBytes, type Skb } from "../contract/skb.js";
import type { UlpDdpSocket } from "../contract/ulp-ddp.js";
import type { NicDriver } from "../driver/driver.js";
import { createByteReceiver, type ByteSegment, type TcpReceiver } from "../net/tcp-receiver.js";
import { type CommandState, type IoResult, NvmeTcpHost } from "../nvme/host.js";
import { type FramedPdu, PduFramer } from "../pdu/framer.js";
import { PduError } from "../pdu/pdu.js";
import { sqeCid } from "../pdu/sqe.js";
import { StreamCheck } from "../stack/stream-check.js";
import type { CapturedConnection } from "./capture.js";

/** A command the captured host sent, as both hosts saw it through. */
export interface ObservedCommand {
  cid: number;
  kind: string;
  /** Transfer length the command asked for. */
  length: number;
  nic: () => CommandState;
  ref: () => CommandState;
  /** Results, once the command completed on each path. */
  nicResult?: IoResult;
  refResult?: IoResult;
}

export interface ObserverNic {
  driver: NicDriver;
  memory: HostMemory;
  pageSize: number;
}

export class ObservedQueue {
  readonly nic: NvmeTcpHost;
  readonly ref: NvmeTcpHost;
  readonly commands: ObservedCommand[] = [];
  readonly stream = new StreamCheck();
  /** The host's own stream broke the protocol (the capture is unusable from there on). */
  hostStreamError: string | undefined;
  /** Digests the ICReq asked for. */
  digests = { hdgst: false, ddgst: false };
  qid: number | undefined;

  private readonly h2c: TcpReceiver<ByteSegment>;
  private readonly h2cFramer = new PduFramer({ direction: "H2C", hdgst: false, ddgst: false });
  private readonly raw: TcpReceiver<ByteSegment>;
  private readonly c2h: TcpReceiver<Skb>;

  constructor(
    readonly conn: CapturedConnection,
    private readonly device: ObserverNic,
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

  /** Whether the NIC path's queue was offloaded (sk_add succeeded) when the capture ended. */
  offloaded = false;

  /** Host -> controller payload: the commands, registered on both hosts (a read's DDP setup is awaited). */
  async hostSegment(seq: number, data: Uint8Array): Promise<void> {
    if (this.hostStreamError) return;
    for (const d of this.h2c.receive({ seq, data })) {
      let pdus: FramedPdu[];
      try {
        pdus = this.h2cFramer.push(d.data);
      } catch (e) {
        if (!(e instanceof PduError)) throw e;
        this.hostStreamError = `the host's stream is not NVMe/TCP at offset ${this.h2cFramer.streamOffset}: ${e.message}`;
        return;
      }
      for (const p of pdus) await this.hostPdu(p);
    }
  }

  private async hostPdu(p: FramedPdu): Promise<void> {
    const pdu = p.pdu;
    if (pdu.kind === "ICReq") {
      this.digests = { hdgst: pdu.hdgstEnable, ddgst: pdu.ddgstEnable };
      for (const h of [this.nic, this.ref]) h.observeIcReq(this.digests).catch(() => undefined);
      return;
    }
    if (pdu.kind !== "CapsuleCmd") return;
    const sqe = pdu.sqe;
    if (sqe.kind === "Connect") this.qid = sqe.qid;
    const nic = this.nic.observeCommand(sqe, pdu.data);
    const ref = this.ref.observeCommand(sqe, pdu.data);
    const length = sqe.kind === "Read" || sqe.kind === "Write" ? sqe.sgl.length : 0;
    const c: ObservedCommand = { cid: sqeCid(sqe), kind: sqe.kind, length, nic: nic.state, ref: ref.state };
    this.commands.push(c);
    nic.done.then((r) => (c.nicResult = r), () => undefined);
    ref.done.then((r) => (c.refResult = r), () => undefined);
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
