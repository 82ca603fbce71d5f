// A capture's NVMe/TCP connections, for replay: every frame of the file as the NIC would have received it (pcap or
// pcapng; Ethernet, Linux cooked SLL / SLL2 or raw IP, src/net/capture-file.ts), the TCP frames on the controller's
// port grouped by connection with each direction's initial sequence number, and what the file itself gets wrong
// (frames cut by the snap length, link types that cannot be replayed, connections caught mid-stream) as findings.
// Only connections whose streams start with ICReq / ICResp are replayed (the replay needs the digests they
// negotiate); a file with none is refused.

import { readFileSync } from "node:fs";
import { ethernetFrame, linkTypeSupported, readCapture } from "../net/capture-file.js";
import { ParseError } from "../net/errors.js";
import { flowKey, type ParsedFrame, parseFrame } from "../net/frame.js";
import { seqAdd, seqDiff } from "../net/seq.js";
import { PduType } from "../pdu/pdu.js";
import type { Finding } from "./report.js";

/** A capture that cannot be replayed, in one line. */
export class CaptureError extends Error {
  override readonly name = "CaptureError";
}

export interface CapturedFrame {
  /** 1-based frame number in the file, as Wireshark numbers them. */
  number: number;
  /** The frame as the NIC receives it. */
  frame: Uint8Array;
  /** The frame parsed as a receiving stack would (TCP options stepped over), or undefined when it is malformed. */
  parsed: ParsedFrame | undefined;
  /** The connection it belongs to (index), and whether it goes host -> controller. */
  connection: number | undefined;
  toTarget: boolean;
}

export interface CapturedConnection {
  index: number;
  host: string;
  target: string;
  /** The flow as the NIC receives it (src = the controller). */
  flow: { ipVersion: 4 | 6; srcIp: string; dstIp: string; srcPort: number; dstPort: number };
  h2cIsn: number;
  c2hIsn: number;
  /** Controller-to-host payload bytes in the capture: more data than this cannot arrive for any command. */
  c2hBytes: number;
  /** Frames with payload per direction: [seq, frame number, length], in capture order (for findingAt). */
  h2cFrames: [number, number, number][];
  c2hFrames: [number, number, number][];
}

export interface Capture {
  format: "pcap" | "pcapng";
  /** Link types of the file's frames. */
  linkTypes: number[];
  /** Frames in the file. */
  frames: CapturedFrame[];
  connections: CapturedConnection[];
  findings: Finding[];
}

export function loadCapture(file: string, port: number): Capture {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new CaptureError(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let records;
  let format: Capture["format"];
  try {
    ({ records, format } = readCapture(bytes));
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    throw new CaptureError(/magic|file header/.test(e.message) ? `${file} is not a pcap or pcapng capture (${e.message})` : `${file} is truncated (${e.message})`);
  }
  const linkTypes = [...new Set(records.map((r) => r.linkType))];
  if (linkTypes.length > 0 && !linkTypes.some(linkTypeSupported)) {
    throw new CaptureError(`${file}: unknown link type ${linkTypes.join(", ")} (Ethernet, Linux cooked SLL / SLL2, raw IP and loopback can be replayed)`);
  }
  const findings: Finding[] = [];
  const frames: CapturedFrame[] = [];
  const cut: number[] = [];
  records.forEach((r, i) => {
    const number = i + 1;
    if (r.data.length < r.originalLength) cut.push(number);
    let frame: Uint8Array;
    try {
      frame = ethernetFrame(r.linkType, r.data);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      findings.push({ frame: number, connection: null, source: "capture", code: "LINK_LAYER", what: `not replayed: ${e.message}` });
      return;
    }
    frames.push({ number, frame, parsed: lenientParse(frame), connection: undefined, toTarget: false });
  });
  if (cut.length > 0) {
    findings.push({ frame: cut[0]!, connection: null, source: "capture", code: "SNAP_LENGTH", what: `${cut.length} frame(s) cut by the snap length: their payload is missing from the streams (the frames still go through the device)` });
  }
  const onPort = frames.filter((f) => f.parsed?.tcp && (f.parsed.tcp.srcPort === port || f.parsed.tcp.dstPort === port));
  if (onPort.every((f) => f.parsed!.payload.length === 0)) throw new CaptureError(`${file}: no NVMe/TCP traffic on TCP port ${port}`);
  const connections = connectionsOf(onPort, port, findings);
  if (connections.length === 0) throw new CaptureError(`${file}: no connection on port ${port} starts with ICReq/ICResp (the capture must hold each connection from its beginning)`);
  return { format, linkTypes, frames, connections, findings };
}

/** The frame parsed as a TCP stack reads it: options are stepped over, not judged. */
function lenientParse(frame: Uint8Array): ParsedFrame | undefined {
  try {
    return parseFrame(frame, { skipTcpOptions: true });
  } catch (e) {
    if (e instanceof ParseError) return undefined;
    throw e;
  }
}

/** The first sequence number of a direction: after its SYN, else the earliest payload byte seen. */
function isnOf(frames: readonly CapturedFrame[]): number | undefined {
  const syn = frames.find((f) => f.parsed!.tcp!.flags.syn);
  if (syn) return seqAdd(syn.parsed!.tcp!.seq, 1);
  let isn: number | undefined;
  for (const f of frames) if (f.parsed!.payload.length > 0 && (isn === undefined || seqDiff(f.parsed!.tcp!.seq, isn) < 0)) isn = f.parsed!.tcp!.seq;
  return isn;
}

/** Whether the payload at `seq` (from the first frame that starts exactly there) begins an IC PDU of `type`. */
function startsWith(frames: readonly CapturedFrame[], seq: number, type: number): boolean {
  const f = frames.find((x) => x.parsed!.tcp!.seq === seq && x.parsed!.payload.length >= 8);
  return f !== undefined && f.parsed!.payload[0] === type && f.parsed!.payload[2] === 128;
}

function connectionsOf(onPort: readonly CapturedFrame[], port: number, findings: Finding[]): CapturedConnection[] {
  // Frames by the host -> controller flow key.
  const byKey = new Map<string, CapturedFrame[]>();
  for (const f of onPort) {
    const p = f.parsed!;
    const t = p.tcp!;
    f.toTarget = t.dstPort === port;
    const ip = p.ip!;
    const key = f.toTarget ? flowKey(p)! : `tcp ${ip.version === 4 ? `${ip.dst}:${t.dstPort}>${ip.src}:${t.srcPort}` : `[${ip.dst}]:${t.dstPort}>[${ip.src}]:${t.srcPort}`}`;
    byKey.set(key, [...(byKey.get(key) ?? []), f]);
  }
  const connections: CapturedConnection[] = [];
  for (const [h2cKey, frames] of byKey) {
    const h2c = frames.filter((f) => f.toTarget);
    const c2h = frames.filter((f) => !f.toTarget);
    const h2cIsn = isnOf(h2c);
    const c2hIsn = isnOf(c2h);
    const [host, target] = h2cKey.slice(4).split(">") as [string, string];
    if (h2cIsn === undefined || c2hIsn === undefined || !startsWith(h2c, h2cIsn, PduType.ICReq) || !startsWith(c2h, c2hIsn, PduType.ICResp)) {
      findings.push({ frame: frames[0]!.number, connection: null, source: "capture", code: "MID_STREAM", what: `connection ${host} -> ${target} does not start with ICReq/ICResp: not replayed (its frames still go through the device)` });
      continue;
    }
    const first = c2h[0]!.parsed!;
    const ip = first.ip!;
    const withPayload = (fs: CapturedFrame[]): [number, number, number][] => fs.filter((f) => f.parsed!.payload.length > 0).map((f) => [f.parsed!.tcp!.seq, f.number, f.parsed!.payload.length]);
    const c: CapturedConnection = {
      index: connections.length,
      host,
      target,
      flow: { ipVersion: ip.version, srcIp: ip.src, dstIp: ip.dst, srcPort: first.tcp!.srcPort, dstPort: first.tcp!.dstPort },
      h2cIsn,
      c2hIsn,
      c2hBytes: c2h.reduce((n, f) => n + f.parsed!.payload.length, 0),
      h2cFrames: withPayload(h2c),
      c2hFrames: withPayload(c2h),
    };
    for (const f of frames) f.connection = c.index;
    connections.push(c);
  }
  return connections;
}

/** The number of the first frame that carries byte `offset` of a connection's stream in one direction. */
export function frameAt(c: CapturedConnection, toTarget: boolean, offset: number): number | null {
  const seq = seqAdd(toTarget ? c.h2cIsn : c.c2hIsn, offset);
  const hit = (toTarget ? c.h2cFrames : c.c2hFrames).find(([s, , len]) => seqDiff(seq, s) >= 0 && seqDiff(seq, s) < len);
  return hit ? hit[1] : null;
}
