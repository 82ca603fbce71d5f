// Exchanges shared by the interop captures and the replay tests, on top of builder.ts: a capture of several
// connections, the Fabrics Connect, reads and what each read must return.

import { encodeConnectData, type SglDescriptor, sglInCapsule, sglTransport, type Sqe } from "../../src/pdu/sqe.js";
import { Clock, type CapturedFrame, type ConversationOptions, namespaceData, NvmeQueue, type PduRecord, sha256, TcpConversation } from "./builder.js";

/** A command whose data the replay must find in its buffer: connection index, CID, length, SHA-256. */
export interface ExpectedData {
  connection: number;
  cid: number;
  length: number;
  sha256: string;
}

export const SUBNQN = "nqn.2024-01.io.example:interop";
export const HOSTNQN = "nqn.2014-08.org.nvmexpress:uuid:0c1f2e3d-4b5a-6978-8796-a5b4c3d2e1f0";

/** The connections of one capture (host ports 51000, 51001, ...), in one clock, and what their commands return. */
export class CaptureBuilder {
  readonly queues: NvmeQueue[] = [];
  readonly expected: ExpectedData[] = [];
  private readonly clock = new Clock();

  constructor(private readonly defaults: ConversationOptions = {}) {}

  /** A new connection, opened (three-way handshake). */
  connection(o: ConversationOptions = {}): NvmeQueue {
    const conv = new TcpConversation({ ...this.defaults, ...o, clock: this.clock, host: { port: 51000 + this.queues.length, ...this.defaults.host, ...o.host } });
    conv.open();
    const q = new NvmeQueue(conv);
    this.queues.push(q);
    return q;
  }

  /** Every frame of every connection, in capture (time) order. */
  get frames(): CapturedFrame[] {
    return this.queues.flatMap((q) => q.conv.frames).sort((a, b) => a.timeUs - b.timeUs);
  }

  /** Every PDU, per connection, as its sender meant it. */
  get pdus(): PduRecord[][] {
    return this.queues.map((q) => q.pdus);
  }

  /** Records that command `cid` of queue `q` must end with `data` in its buffer. */
  expect(q: NvmeQueue, cid: number, data: Uint8Array): void {
    this.expected.push({ connection: this.queues.indexOf(q), cid, length: data.length, sha256: sha256(data) });
  }
}

/**
 * Fabrics Connect of queue `qid` as Linux sends it (nvmf_connect_admin_queue / nvmf_connect_io_queue: 1024 bytes
 * of Connect data in the capsule, SGL Data Block with subtype Offset), and the controller's success with `cntlid`.
 */
export function connectQueue(q: NvmeQueue, o: { cid: number; qid: number; cntlid: number; sqsize?: number; cattr?: number; patchCapsule?: (b: Uint8Array) => void }): void {
  const data = encodeConnectData({ hostId: new Uint8Array(16).fill(0x5a), cntlid: o.qid === 0 ? 0xffff : o.cntlid, subnqn: SUBNQN, hostnqn: HOSTNQN });
  const sqe: Sqe = { kind: "Connect", cid: o.cid, recfmt: 0, qid: o.qid, sqsize: o.sqsize ?? 127, cattr: o.cattr ?? 0, kato: o.qid === 0 ? 5000 : 0, sgl: sglInCapsule(data.length) };
  q.pdu("host", { kind: "CapsuleCmd", sqe, data }, o.patchCapsule ? { patch: o.patchCapsule } : {});
  q.flush("host");
  q.respond(o.cid, { result: BigInt(o.cntlid), sqId: o.qid });
  q.flush("target");
}

/** A Read command capsule (opcode 0x02) of `nlb` blocks at `slba`, with the SGL given (default: Transport Data Block of the length). */
export function readCommand(q: NvmeQueue, o: { cid: number; nsid?: number; slba: number; nlb: number; lbaSize: number; sgl?: SglDescriptor; patch?: (b: Uint8Array) => void }): Uint8Array {
  const sqe: Sqe = { kind: "Read", cid: o.cid, nsid: o.nsid ?? 1, slba: BigInt(o.slba), nlb: o.nlb - 1, sgl: o.sgl ?? sglTransport(o.nlb * o.lbaSize) };
  q.pdu("host", { kind: "CapsuleCmd", sqe }, o.patch ? { patch: o.patch } : {});
  return namespaceData(o.nsid ?? 1, o.slba, o.nlb, o.lbaSize);
}
