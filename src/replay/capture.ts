// A capture's NVMe/TCP connections, for replay: the TCP frames on the controller's port, checked for everything
// that would make a replay meaningless, grouped by connection, each with its initial sequence numbers. Only
// connections whose streams start with ICReq / ICResp are usable (the replay needs the digests they negotiate).

import { readFileSync } from "node:fs";
import { ParseError } from "../net/errors.js";
import { flowKey, type ParsedFrame, parseFrame } from "../net/frame.js";
import { LINKTYPE_ETHERNET, readPcap } from "../net/pcap.js";
import { seqAdd, seqDiff } from "../net/seq.js";
import { PduType } from "../pdu/pdu.js";

/** A capture that cannot be replayed, in one line. */
export class CaptureError extends Error {
  override readonly name = "CaptureError";
}

export interface CapturedTcp {
  /** 0-based frame number in the capture. */
  index: number;
  frame: Uint8Array;
  parsed: ParsedFrame;
  toTarget: boolean;
}

export interface CapturedConnection {
  index: number;
  /** flowKey of each direction. */
  h2cKey: string;
  c2hKey: string;
  host: string;
  target: string;
  /** The flow as the NIC receives it (src = the controller). */
  flow: { ipVersion: 4 | 6; srcIp: string; dstIp: string; srcPort: number; dstPort: number };
  h2cIsn: number;
  c2hIsn: number;
}

export interface Capture {
  /** Frames in the file. */
  frames: number;
  /** TCP frames on the port, in capture order. */
  tcp: CapturedTcp[];
  connections: CapturedConnection[];
  /** Connection of a frame, by its flow key (either direction). */
  connectionOf: Map<string, CapturedConnection>;
}

export function loadCapture(file: string, port: number): Capture {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new CaptureError(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let pcap;
  try {
    pcap = readPcap(bytes);
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    throw new CaptureError(/magic|file header/.test(e.message) ? `${file} is not a pcap capture (${e.message})` : `${file} is truncated (${e.message})`);
  }
  if (pcap.linkType !== LINKTYPE_ETHERNET) throw new CaptureError(`${file}: unknown link type ${pcap.linkType} (only Ethernet, link type ${LINKTYPE_ETHERNET}, can be replayed)`);
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
    if (r.data.length < r.originalLength) throw new CaptureError(`${file} is truncated: frame ${index + 1} was captured with ${r.data.length} of its ${r.originalLength} bytes (snap length)`);
    tcp.push({ index, frame: r.data, parsed, toTarget: t.dstPort === port });
  });
  if (tcp.every((f) => f.parsed.payload.length === 0)) throw new CaptureError(`${file}: no NVMe/TCP traffic on TCP port ${port}`);
  const { connections, connectionOf } = connectionsOf(tcp);
  if (connections.length === 0) throw new CaptureError(`${file}: no connection on port ${port} starts with ICReq/ICResp (the capture must hold each connection from its beginning)`);
  return { frames: pcap.records.length, tcp, connections, connectionOf };
}

/** The first sequence number of a direction: after its SYN, else the earliest payload byte seen. */
function isnOf(frames: readonly CapturedTcp[]): number | undefined {
  const syn = frames.find((f) => f.parsed.tcp!.flags.syn);
  if (syn) return seqAdd(syn.parsed.tcp!.seq, 1);
  let isn: number | undefined;
  for (const f of frames) if (f.parsed.payload.length > 0 && (isn === undefined || seqDiff(f.parsed.tcp!.seq, isn) < 0)) isn = f.parsed.tcp!.seq;
  return isn;
}

/** Whether the payload at `seq` (from the first frame that starts exactly there) begins an IC PDU of `type`. */
function startsWith(frames: readonly CapturedTcp[], seq: number, type: number): boolean {
  const f = frames.find((x) => x.parsed.tcp!.seq === seq && x.parsed.payload.length >= 8);
  return f !== undefined && f.parsed.payload[0] === type && f.parsed.payload[2] === 128;
}

function connectionsOf(tcp: readonly CapturedTcp[]): Pick<Capture, "connections" | "connectionOf"> {
  // Frames by the host -> controller flow key.
  const byKey = new Map<string, CapturedTcp[]>();
  for (const f of tcp) {
    const t = f.parsed.tcp!;
    const ip = f.parsed.ip!;
    const key = f.toTarget ? flowKey(f.parsed)! : `tcp ${ip.version === 4 ? `${ip.dst}:${t.dstPort}>${ip.src}:${t.srcPort}` : `[${ip.dst}]:${t.dstPort}>[${ip.src}]:${t.srcPort}`}`;
    byKey.set(key, [...(byKey.get(key) ?? []), f]);
  }
  const connections: CapturedConnection[] = [];
  const connectionOf = new Map<string, CapturedConnection>();
  for (const [h2cKey, frames] of byKey) {
    const h2cFrames = frames.filter((f) => f.toTarget);
    const c2hFrames = frames.filter((f) => !f.toTarget);
    const h2cIsn = isnOf(h2cFrames);
    const c2hIsn = isnOf(c2hFrames);
    if (h2cIsn === undefined || c2hIsn === undefined || !startsWith(h2cFrames, h2cIsn, PduType.ICReq) || !startsWith(c2hFrames, c2hIsn, PduType.ICResp)) continue;
    const first = c2hFrames[0]!.parsed;
    const ip = first.ip!;
    const [host, target] = h2cKey.slice(4).split(">") as [string, string];
    const c: CapturedConnection = {
      index: connections.length,
      h2cKey,
      c2hKey: flowKey(first)!,
      host,
      target,
      flow: { ipVersion: ip.version, srcIp: ip.src, dstIp: ip.dst, srcPort: first.tcp!.srcPort, dstPort: first.tcp!.dstPort },
      h2cIsn,
      c2hIsn,
    };
    connections.push(c);
    connectionOf.set(h2cKey, c);
    connectionOf.set(c.c2hKey, c);
  }
  return { connections, connectionOf };
}
