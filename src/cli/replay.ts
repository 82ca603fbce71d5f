// `ddpsim replay FILE.pcap`: replays a capture's NVMe/TCP connections through the offload device and driver.
//
// The capture stands in for the host: its host-to-controller PDUs (reassembled, decoded with PduFramer) say which
// reads the host issued (CID, length) and which digests it asked for; a replay ULP then does what the offloading
// host does: CTX_ADD (sk_add) at the first controller PDU boundary after the Connect response of an I/O queue,
// TAG_SETUP (setup) of a paged buffer per read before its command's data, teardown at the read's completion, resync
// confirms when a PDU header starts at the requested seq, and the copy of every data byte the NIC did not place.
// Controller-to-host frames go through the device in capture order (consecutive frames of one connection in one
// batch), then through TCP reassembly to the ULP.
//
// The frames' own bytes, reassembled in software, are the reference: the stream the NIC path delivers must equal
// it, and each read's buffer must hold that stream's data for it.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { openDevice } from "../device/index.js";
import { NicDriver } from "../driver/driver.js";
import { statsGet } from "../driver/netlink.js";
import { fragBytes, fragLength, type Skb, createSkbReceiver } from "../contract/skb.js";
import { NVME_TCP_DATA_DIGEST_ENABLE, NVME_TCP_HDR_DIGEST_ENABLE, ULP_DDP_CAP_NVME_TCP_DDGST_RX, type UlpDdpSocket, type UlpDdpUlpOps } from "../contract/ulp-ddp.js";
import { HostMemory } from "../contract/host-memory.js";
import { ParseError } from "../net/errors.js";
import { flowKey, type ParsedFrame, parseFrame } from "../net/frame.js";
import { LINKTYPE_ETHERNET, readPcap } from "../net/pcap.js";
import { seqAdd, seqDiff } from "../net/seq.js";
import { createByteReceiver, type ByteSegment, type TcpReceiver } from "../net/tcp-receiver.js";
import { PduFramer, type FramedPdu } from "../pdu/framer.js";
import { PagedBuffer } from "../nvme/host-buffer.js";
import { PduError, PduType } from "../pdu/pdu.js";
import { StreamCheck } from "../stack/session.js";
import { CliError, EXIT_FAIL, EXIT_OK, parse, parseChoice, parseInteger, UsageError } from "./args.js";
import { BACKENDS, type Backend, hardwareCounters } from "./netlink-cmd.js";
import { type DigestResult, type Invariant, type ReplayReport, ReplayReportSchema } from "./schemas.js";
import { formatEthtoolStats } from "./ynl.js";

export const REPLAY_HELP = `Usage: ddpsim replay FILE.pcap [--port 4420] [--backend rtl|model] [--json]

Replays the NVMe/TCP connections of a capture through the offload device (ddp_top in Verilator by default)
and the driver. The host's reads (CIDs, lengths) and digests are learned from the host-to-controller PDUs;
each I/O queue is offloaded at the first controller PDU boundary after its Connect response, each read's
buffer registered before its data; the controller-to-host frames go through the device in capture order.

Per read it prints: cid, length, bytes placed by the NIC, bytes copied by software, the data digest result
(hw-ok: the NIC verified it; sw-ok: software did; bad: it did not match; none: no data digest) and the SHA-256
of the buffer; then the ulp_ddp statistics and the invariants (the delivered stream equals the captured one,
every buffer holds the captured data, nothing written outside registered buffers, setup == teardown, counters
add up). The capture must hold each connection from its ICReq on (classic pcap, Ethernet).
Exits 1 if the capture cannot be used or an invariant failed.

Options:
  --port N             the controller's TCP port (default 4420)
  --page-size SIZE     pages of the read buffers = SGL entries (default 4096)
  --backend rtl|model  ddp_top in Verilator (default) or the reference model
  --json               print the report as one JSON object
  -h, --help           this text
`;

/** A PDU's digest as the ULP saw it; "vouched-bad": the NIC set ulp_crc on a PDU whose digest does not match. */
type PduDigest = DigestResult | "vouched-bad";

interface Read {
  connection: number;
  cid: number;
  length: number;
  buffer: PagedBuffer;
  offloaded: boolean;
  placed: number;
  copied: number;
  digests: PduDigest[];
  completed: boolean;
  /** Data bytes that differ from the captured stream's. */
  mismatches: number;
}

/** A stretch of the delivered stream as the NIC path gave it: ring bytes or bytes placed at `addr`. */
interface Piece {
  start: number;
  end: number;
  addr: bigint | undefined;
  ulpCrc: boolean;
}

interface Connection {
  index: number;
  /** Flow key of each direction. */
  h2cKey: string;
  c2hKey: string;
  host: string;
  target: string;
  /** The flow as the NIC receives it (src = the controller). */
  flow: UlpDdpSocket["flow"];
  h2cIsn: number;
  c2hIsn: number;
  h2c: TcpReceiver<ByteSegment>;
  h2cFramer: PduFramer;
  /** Software reassembly of the controller's frames: the reference stream. */
  raw: TcpReceiver<ByteSegment>;
  rawStream: GrowingBytes;
  /** The NIC path: skbs from the driver, reassembled, then framed. */
  c2h: TcpReceiver<Skb>;
  c2hFramer: PduFramer;
  pieces: Piece[];
  stream: StreamCheck;
  digests: { hdgst: boolean; ddgst: boolean };
  qid: number | undefined;
  connectCid: number | undefined;
  socket: UlpDdpSocket | undefined;
  ulpOps: UlpDdpUlpOps;
  ddgstRx: boolean;
  /** Outstanding reads by CID. */
  reads: Map<number, Read>;
  resyncSeq: number | undefined;
  /** Set when the controller's stream broke the protocol: nothing more is decoded. */
  failure: string | undefined;
  /** Driver work the ULP queued while consuming (sk_add, teardown, resync), run in order after the batch. */
  actions: (() => Promise<void>)[];
}

/** A byte array that grows at its end, for random access to the reference stream. */
class GrowingBytes {
  private buf = new Uint8Array(1 << 16);
  length = 0;

  append(b: Uint8Array): void {
    if (this.length + b.length > this.buf.length) {
      let size = this.buf.length;
      while (size < this.length + b.length) size *= 2;
      const bigger = new Uint8Array(size);
      bigger.set(this.buf.subarray(0, this.length));
      this.buf = bigger;
    }
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  slice(from: number, to: number): Uint8Array {
    return this.buf.subarray(from, Math.min(to, this.length));
  }
}

interface ReplayOptions {
  file: string;
  port: number;
  backend: Backend;
  pageSize: number;
  json: boolean;
}

export function parseReplayArgs(args: readonly string[]): ReplayOptions | "help" {
  const { values, positionals } = parse(
    args,
    { port: { type: "string" }, backend: { type: "string" }, "page-size": { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    true,
  );
  if (values.help) return "help";
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "replay: which capture? (ddpsim replay FILE.pcap)" : `replay: one capture only, got ${positionals.length}`);
  return {
    file: positionals[0]!,
    port: values.port === undefined ? 4420 : parseInteger("port", values.port, 1, 65535),
    backend: values.backend === undefined ? "rtl" : parseChoice("backend", values.backend, BACKENDS),
    pageSize: values["page-size"] === undefined ? 4096 : parseInteger("page-size", values["page-size"], 64, 1 << 24),
    json: values.json ?? false,
  };
}

interface CapturedTcp {
  index: number;
  frame: Uint8Array;
  parsed: ParsedFrame;
  toTarget: boolean;
}

/** The capture's TCP frames on `port`, checked for everything that would make a replay meaningless. */
function loadCapture(file: string, port: number): { frames: number; tcp: CapturedTcp[] } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let pcap;
  try {
    pcap = readPcap(bytes);
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    throw new CliError(/magic|file header/.test(e.message) ? `${file} is not a pcap capture (${e.message})` : `${file} is truncated (${e.message})`);
  }
  if (pcap.linkType !== LINKTYPE_ETHERNET) throw new CliError(`${file}: unknown link type ${pcap.linkType} (only Ethernet, link type ${LINKTYPE_ETHERNET}, can be replayed)`);
  const tcp: CapturedTcp[] = [];
  pcap.records.forEach((r, index) => {
    let parsed: ParsedFrame;
    try {
      parsed = parseFrame(r.data);
    } catch (e) {
      if (e instanceof ParseError) return;
      throw e;
    }
    const t = parsed.tcp;
    if (!t || (t.srcPort !== port && t.dstPort !== port)) return;
    if (r.data.length < r.originalLength) throw new CliError(`${file} is truncated: frame ${index + 1} was captured with ${r.data.length} of its ${r.originalLength} bytes (snap length)`);
    tcp.push({ index, frame: r.data, parsed, toTarget: t.dstPort === port });
  });
  if (tcp.every((f) => f.parsed.payload.length === 0)) throw new CliError(`${file}: no NVMe/TCP traffic on TCP port ${port}`);
  return { frames: pcap.records.length, tcp };
}

/** The first sequence number of a direction: after its SYN, else the earliest payload byte seen. */
function isnOf(frames: readonly CapturedTcp[]): number | undefined {
  const syn = frames.find((f) => f.parsed.tcp!.flags.syn);
  if (syn) return seqAdd(syn.parsed.tcp!.seq, 1);
  let isn: number | undefined;
  for (const f of frames) if (f.parsed.payload.length > 0 && (isn === undefined || seqDiff(f.parsed.tcp!.seq, isn) < 0)) isn = f.parsed.tcp!.seq;
  return isn;
}

/** The payload bytes at `seq`, from the first frame that starts exactly there. */
function startsWith(frames: readonly CapturedTcp[], seq: number, type: number): boolean {
  const f = frames.find((x) => x.parsed.tcp!.seq === seq && x.parsed.payload.length >= 8);
  return f !== undefined && f.parsed.payload[0] === type && f.parsed.payload[2] === 128;
}

export async function replay(o: ReplayOptions): Promise<ReplayReport> {
  const { frames: frameCount, tcp } = loadCapture(o.file, o.port);
  // Connections by the host -> controller flow key; those whose streams start with ICReq / ICResp are usable.
  const byKey = new Map<string, CapturedTcp[]>();
  for (const f of tcp) {
    const t = f.parsed.tcp!;
    const ip = f.parsed.ip!;
    const key = f.toTarget ? flowKey(f.parsed)! : `tcp ${ip.version === 4 ? `${ip.dst}:${t.dstPort}>${ip.src}:${t.srcPort}` : `[${ip.dst}]:${t.dstPort}>[${ip.src}]:${t.srcPort}`}`;
    byKey.set(key, [...(byKey.get(key) ?? []), f]);
  }

  const memory = new HostMemory();
  const device = await openDevice(o.backend, memory);
  try {
    const driver = await NicDriver.create(device);
    const caps = await driver.getCaps();
    const conns: Connection[] = [];
    const reads: Read[] = [];
    const connOf = new Map<string, Connection>();
    for (const [h2cKey, frames] of byKey) {
      const h2cFrames = frames.filter((f) => f.toTarget);
      const c2hFrames = frames.filter((f) => !f.toTarget);
      const h2cIsn = isnOf(h2cFrames);
      const c2hIsn = isnOf(c2hFrames);
      if (h2cIsn === undefined || c2hIsn === undefined || !startsWith(h2cFrames, h2cIsn, PduType.ICReq) || !startsWith(c2hFrames, c2hIsn, PduType.ICResp)) continue;
      const first = c2hFrames[0]!.parsed;
      const ip = first.ip!;
      const c: Connection = {
        index: conns.length,
        h2cKey,
        c2hKey: flowKey(first)!,
        host: h2cKey.slice(4).split(">")[0]!,
        target: h2cKey.slice(4).split(">")[1]!,
        flow: { ipVersion: ip.version, srcIp: ip.src, dstIp: ip.dst, srcPort: first.tcp!.srcPort, dstPort: first.tcp!.dstPort },
        h2cIsn,
        c2hIsn,
        h2c: createByteReceiver(h2cIsn),
        h2cFramer: new PduFramer({ direction: "H2C", hdgst: false, ddgst: false }),
        raw: createByteReceiver(c2hIsn),
        rawStream: new GrowingBytes(),
        c2h: createSkbReceiver(c2hIsn),
        c2hFramer: new PduFramer({ direction: "C2H", hdgst: false, ddgst: false }),
        pieces: [],
        stream: new StreamCheck(),
        digests: { hdgst: false, ddgst: false },
        qid: undefined,
        connectCid: undefined,
        socket: undefined,
        ddgstRx: false,
        reads: new Map(),
        resyncSeq: undefined,
        failure: undefined,
        actions: [],
        ulpOps: {
          resyncRequest: (seq) => {
            c.resyncSeq = seq;
            return true;
          },
          ddpTeardownDone: () => undefined,
        },
      };
      conns.push(c);
      connOf.set(h2cKey, c);
      connOf.set(c.c2hKey, c);
    }
    if (conns.length === 0) throw new CliError(`${o.file}: no connection on port ${o.port} starts with ICReq/ICResp (the capture must hold each connection from its beginning)`);

    const teardown = async (c: Connection, r: Read): Promise<void> => {
      c.reads.delete(r.cid);
      if (r.offloaded && c.socket) await driver.teardown(c.socket, { commandId: r.cid, sgl: r.buffer.sgl }, r);
    };

    // ---- host -> controller: learn the reads and register their buffers ----
    const hostPdu = async (c: Connection, p: FramedPdu): Promise<void> => {
      const pdu = p.pdu;
      if (pdu.kind === "ICReq") c.digests = { hdgst: pdu.hdgstEnable, ddgst: pdu.ddgstEnable };
      if (pdu.kind !== "CapsuleCmd") return;
      const sqe = pdu.sqe;
      if (sqe.kind === "Connect") {
        c.qid = sqe.qid;
        c.connectCid = sqe.cid;
        return;
      }
      if (sqe.kind !== "Read") return;
      const old = c.reads.get(sqe.cid);
      if (old) await teardown(c, old);
      const r: Read = {
        connection: c.index,
        cid: sqe.cid,
        length: sqe.sgl.length,
        buffer: new PagedBuffer(memory, sqe.sgl.length, o.pageSize),
        offloaded: false,
        placed: 0,
        copied: 0,
        digests: [],
        completed: false,
        mismatches: 0,
      };
      if (c.socket && r.length > 0) r.offloaded = (await driver.setup(c.socket, { commandId: r.cid, sgl: r.buffer.sgl })) === 0;
      c.reads.set(r.cid, r);
      reads.push(r);
    };

    // ---- controller -> host, NIC path: what the offloading host does with each PDU ----
    const controllerPdu = (c: Connection, p: FramedPdu): void => {
      const pdu = p.pdu;
      const startSeq = seqAdd(c.c2hIsn, p.streamOffset);
      if (c.resyncSeq !== undefined && startSeq === c.resyncSeq && c.socket) {
        const sk = c.socket;
        c.resyncSeq = undefined;
        c.actions.push(() => driver.resync(sk, startSeq));
      }
      if (pdu.kind === "ICResp") {
        c.digests = { hdgst: pdu.hdgstEnable, ddgst: pdu.ddgstEnable };
        return;
      }
      if (pdu.kind === "CapsuleResp") {
        if (pdu.cqe.cid === c.connectCid && c.socket === undefined) {
          c.connectCid = undefined;
          // nvme_tcp_offload_socket: I/O queues only, with copied_seq at the PDU boundary after the response.
          if (c.qid !== 0) c.actions.push(() => offloadSocket(c, seqAdd(startSeq, p.length)));
          return;
        }
        const r = c.reads.get(pdu.cqe.cid);
        if (r) {
          r.completed = true;
          c.actions.push(() => teardown(c, r));
        }
        return;
      }
      if (pdu.kind !== "C2HData") return;
      const r = c.reads.get(pdu.cccid);
      if (!r || pdu.datao + pdu.data.length > r.length) {
        c.failure = `C2HData for cid 0x${pdu.cccid.toString(16)} [${pdu.datao}, +${pdu.data.length}) matches no outstanding read`;
        return;
      }
      const dataStart = p.streamOffset + p.dataOffset;
      const dataEnd = dataStart + p.dataLength;
      let vouched = true;
      for (const piece of c.pieces) {
        if (piece.end <= dataStart || piece.start >= p.streamOffset + p.length) continue;
        vouched &&= piece.ulpCrc;
        // Data bytes of this piece: skipped when placed exactly where the buffer wants them (src == dst).
        for (let at = Math.max(piece.start, dataStart); at < Math.min(piece.end, dataEnd); ) {
          const off = pdu.datao + (at - dataStart);
          const dst = r.buffer.addressOf(off);
          const n = Math.min(dst.len, Math.min(piece.end, dataEnd) - at);
          if (piece.addr !== undefined && piece.addr + BigInt(at - piece.start) === dst.addr) r.placed += n;
          else {
            r.buffer.write(off, pdu.data.subarray(at - dataStart, at - dataStart + n));
            r.copied += n;
          }
          at += n;
        }
      }
      const captured = c.rawStream.slice(dataStart, dataEnd);
      const inBuffer = r.buffer.read(pdu.datao, pdu.data.length);
      if (!Buffer.from(captured).equals(Buffer.from(inBuffer))) r.mismatches += pdu.data.length;
      if (p.ddgst === undefined) r.digests.push("none");
      else if (c.ddgstRx && vouched) r.digests.push(p.ddgstOk ? "hw-ok" : "vouched-bad");
      else r.digests.push(p.ddgstOk ? "sw-ok" : "bad");
      if (pdu.success) {
        r.completed = true;
        c.actions.push(() => teardown(c, r));
      }
    };

    const offloadSocket = async (c: Connection, copiedSeq: number): Promise<void> => {
      const sk: UlpDdpSocket = { flow: c.flow, copiedSeq };
      const dgst = (c.digests.hdgst ? NVME_TCP_HDR_DIGEST_ENABLE : 0) | (c.digests.ddgst ? NVME_TCP_DATA_DIGEST_ENABLE : 0);
      if ((await driver.skAdd(sk, { pfv: 0, cpda: 0, dgst, queueSize: 128, affinityHint: 0 }, c.ulpOps)) !== 0) return;
      c.socket = sk;
      c.ddgstRx = c.digests.ddgst && (caps.active & ULP_DDP_CAP_NVME_TCP_DDGST_RX) !== 0;
    };

    const consume = (c: Connection, skb: Skb): void => {
      let at = seqDiff(skb.seq, c.c2hIsn);
      for (const f of skb.frags) {
        const bytes = fragBytes(f, memory);
        c.stream.delivered(bytes);
        c.pieces.push({ start: at, end: at + fragLength(f), addr: f.kind === "placed" ? f.addr : undefined, ulpCrc: skb.ulpCrc });
        at += fragLength(f);
        if (c.failure) continue;
        try {
          for (const p of c.c2hFramer.push(bytes)) controllerPdu(c, p);
        } catch (e) {
          if (!(e instanceof PduError)) throw e;
          c.failure = `controller stream at offset ${c.c2hFramer.streamOffset}: ${e.message}`;
        }
      }
      const done = c.c2hFramer.streamOffset;
      while (c.pieces.length > 0 && c.pieces[0]!.end <= done) c.pieces.shift();
    };

    let batch: { conn: Connection; frames: Uint8Array[] } | undefined;
    const flush = async (): Promise<void> => {
      if (!batch) return;
      const { conn: c, frames } = batch;
      batch = undefined;
      const { skbs } = await driver.receive(frames);
      for (const skb of skbs) for (const s of c.c2h.receive(skb)) consume(c, s);
      for (const a of c.actions.splice(0)) await a();
    };

    for (const f of tcp) {
      const c = connOf.get(flowKey(f.parsed)!);
      if (!c || f.parsed.payload.length === 0) continue;
      const seg = { seq: f.parsed.tcp!.seq, data: f.parsed.payload };
      if (f.toTarget) {
        await flush();
        if (!f.parsed.checksumOk) continue;
        for (const d of c.h2c.receive(seg)) {
          let pdus: FramedPdu[];
          try {
            pdus = c.h2cFramer.push(d.data);
          } catch (e) {
            if (!(e instanceof PduError)) throw e;
            throw new CliError(`${o.file}: the host's stream of ${c.host} is not NVMe/TCP at offset ${c.h2cFramer.streamOffset}: ${e.message}`);
          }
          for (const p of pdus) await hostPdu(c, p);
        }
        continue;
      }
      if (batch && batch.conn !== c) await flush();
      if (f.parsed.checksumOk) {
        for (const d of c.raw.receive(seg)) {
          c.rawStream.append(d.data);
          c.stream.wire(d.data);
        }
      }
      batch ??= { conn: c, frames: [] };
      batch.frames.push(f.frame);
    }
    await flush();
    // The capture may end with reads in flight: their buffers are released as a stopping queue releases them.
    for (const c of conns) {
      for (const r of [...c.reads.values()]) await teardown(c, r);
      if (c.socket) await driver.skDel(c.socket);
    }

    const stats = await statsGet({ ifindex: driver.ifindex, ops: driver });
    const hardware = await hardwareCounters(device);
    const invariants: Invariant[] = [];
    const check = (name: string, bad: string[], okDetail: string): void => {
      invariants.push({ name, ok: bad.length === 0, detail: bad.length === 0 ? okDetail : bad.join("; ") });
    };
    check("controller streams decode", conns.flatMap((c) => (c.failure ? [`connection ${c.index}: ${c.failure}`] : [])), "every PDU decoded");
    check(
      "wire stream intact",
      conns.flatMap((c) => (c.stream.equal ? [] : [`connection ${c.index}: NIC path delivered ${c.stream.deliveredBytes} bytes, the capture holds ${c.stream.wireBytes}; first difference at ${c.stream.mismatchAt}`])),
      "the NIC path delivered the captured streams byte for byte",
    );
    check("buffers hold the captured data", reads.filter((r) => r.mismatches > 0).map((r) => `cid 0x${r.cid.toString(16)}: ${r.mismatches} bytes differ`), `${reads.length} read buffers compared`);
    check("NIC vouched only for good digests", reads.filter((r) => r.digests.includes("vouched-bad")).map((r) => `cid 0x${r.cid.toString(16)}: ulp_crc on a bad data digest`), "no bad digest had ulp_crc");
    const guards = memory.checkGuards();
    check("nothing written outside registered buffers", guards.length === 0 ? [] : [`${guards.length} bytes changed, first at 0x${guards[0]!.addr.toString(16)}`], "every guard byte intact");
    const st = stats;
    check(
      "setup == teardown",
      [
        ...(st["rx-nvme-tcp-setup"] !== st["rx-nvme-tcp-teardown"] ? [`setup ${st["rx-nvme-tcp-setup"]} != teardown ${st["rx-nvme-tcp-teardown"]}`] : []),
        ...(st["rx-nvme-tcp-sk-add"] !== st["rx-nvme-tcp-sk-del"] ? [`sk-add ${st["rx-nvme-tcp-sk-add"]} != sk-del ${st["rx-nvme-tcp-sk-del"]}`] : []),
        ...(driver.tagsHeld !== 0 ? [`${driver.tagsHeld} tags still held`] : []),
      ],
      "every setup torn down, every sk_add deleted",
    );
    const placed = reads.reduce((n, r) => n + r.placed, 0);
    check(
      "counters add up",
      [
        ...(st["rx-nvme-tcp-bytes"] !== driver.rx.placedBytes ? [`device placed ${st["rx-nvme-tcp-bytes"]} bytes, its CQEs ${driver.rx.placedBytes}`] : []),
        ...(placed > driver.rx.placedBytes ? [`reads skipped ${placed} copies, the device placed ${driver.rx.placedBytes}`] : []),
        ...(st["rx-nvme-tcp-setup"] !== reads.filter((r) => r.offloaded).length ? [`driver setups ${st["rx-nvme-tcp-setup"]} != ${reads.filter((r) => r.offloaded).length} reads set up`] : []),
      ],
      "per-read, driver and device counters agree",
    );

    const report: ReplayReport = {
      file: o.file,
      backend: o.backend,
      port: o.port,
      frames: frameCount,
      connections: conns.map((c) => ({ host: c.host, target: c.target, qid: c.qid ?? null, ...c.digests, offloaded: c.socket !== undefined })),
      reads: reads.map((r) => ({
        connection: r.connection,
        cid: r.cid,
        length: r.length,
        offloaded: r.offloaded,
        placed: r.placed,
        copied: r.copied,
        digest: readDigest(r.digests),
        completed: r.completed,
        sha256: createHash("sha256").update(r.buffer.contents()).digest("hex"),
      })),
      stats: { ...stats, ifindex: driver.ifindex },
      hardware,
      invariants,
      ok: invariants.every((i) => i.ok),
    };
    return ReplayReportSchema.parse(report);
  } finally {
    await device.close();
  }
}

/** A read's digest result from its PDUs': bad if any was, else sw-ok if software checked any, else hw-ok, else none. */
function readDigest(pdus: readonly PduDigest[]): DigestResult {
  if (pdus.includes("bad") || pdus.includes("vouched-bad")) return "bad";
  if (pdus.includes("sw-ok")) return "sw-ok";
  return pdus.includes("hw-ok") ? "hw-ok" : "none";
}

export function formatReplayReport(r: ReplayReport): string {
  const lines = [`replay ${r.file}: ${r.frames} frames, port ${r.port}, backend ${r.backend}`];
  r.connections.forEach((c, i) => {
    lines.push(
      `connection ${i}: host ${c.host} -> controller ${c.target}, qid ${c.qid ?? "?"}, hdgst ${c.hdgst ? "on" : "off"}, ddgst ${c.ddgst ? "on" : "off"}, ${c.offloaded ? "offloaded" : "not offloaded"}`,
    );
    const rows = r.reads.filter((x) => x.connection === i);
    if (rows.length === 0) return;
    lines.push(`  ${"cid".padEnd(8)}${"length".padStart(9)}${"placed".padStart(9)}${"copied".padStart(9)}  ${"digest".padEnd(7)} ${"done".padEnd(5)} sha256`);
    for (const x of rows) {
      lines.push(
        `  ${`0x${x.cid.toString(16).padStart(4, "0")}`.padEnd(8)}${String(x.length).padStart(9)}${String(x.placed).padStart(9)}${String(x.copied).padStart(9)}  ${x.digest.padEnd(7)} ${(x.completed ? "yes" : "no").padEnd(5)} ${x.sha256}`,
      );
    }
  });
  lines.push("", formatEthtoolStats({ ...Object.fromEntries(Object.entries(r.stats).filter(([k]) => k !== "ifindex")), ...r.hardware }), "", "invariants:");
  lines.push(...r.invariants.map((i) => `  [${i.ok ? "ok" : "FAIL"}] ${i.name}: ${i.detail}`));
  lines.push(r.ok ? "all invariants held" : `${r.invariants.filter((i) => !i.ok).length} invariant(s) FAILED`);
  return lines.join("\n");
}

export async function replayCommand(args: readonly string[], out: (s: string) => void): Promise<number> {
  const o = parseReplayArgs(args);
  if (o === "help") {
    out(REPLAY_HELP);
    return EXIT_OK;
  }
  const report = await replay(o);
  out(o.json ? JSON.stringify(report) : formatReplayReport(report));
  return report.ok ? EXIT_OK : EXIT_FAIL;
}
