// The skb the driver hands to TCP: one TCP segment's payload as fragments, each either bytes in the receive
// ring or a reference into host memory where the device already placed the bytes (a page fragment pointing
// into the destination buffer). `ulpCrc` is skb->ulp_crc: the device verified every digest in this payload.
// TCP never looks inside: it cuts skbs with trimSkb and delivers them in order.

import type { HostMemory } from "./host-memory.js";
import { seqAdd } from "../net/seq.js";
import { TcpReceiver } from "../net/tcp-receiver.js";

export type SkbFrag = { kind: "ring"; data: Uint8Array } | { kind: "placed"; addr: bigint; len: number };

export interface Skb {
  /** TCP sequence number of the first payload byte. */
  seq: number;
  len: number;
  frags: SkbFrag[];
  ulpCrc: boolean;
}

export function fragLength(f: SkbFrag): number {
  return f.kind === "ring" ? f.data.length : f.len;
}

/** The part of a fragment from byte `from` to byte `to`. */
export function sliceFrag(f: SkbFrag, from: number, to: number): SkbFrag {
  return f.kind === "ring" ? { kind: "ring", data: f.data.subarray(from, to) } : { kind: "placed", addr: f.addr + BigInt(from), len: to - from };
}

/** The bytes [from, to) of the skb's payload, as an skb (fragments cut, never copied). */
export function trimSkb(skb: Skb, from: number, to: number): Skb {
  const frags: SkbFrag[] = [];
  let at = 0;
  for (const f of skb.frags) {
    const n = fragLength(f);
    const lo = Math.max(from, at);
    const hi = Math.min(to, at + n);
    if (lo < hi) frags.push(lo === at && hi === at + n ? f : sliceFrag(f, lo - at, hi - at));
    at += n;
  }
  return { seq: seqAdd(skb.seq, from), len: to - from, frags, ulpCrc: skb.ulpCrc };
}

/** The bytes of a fragment: ring bytes as they are, placed bytes read from host memory. */
export function fragBytes(f: SkbFrag, memory: HostMemory | undefined): Uint8Array {
  if (f.kind === "ring") return f.data;
  if (!memory) throw new Error("a placed skb fragment without host memory to read it from");
  return memory.read(f.addr, f.len);
}

/** An skb of plain bytes (the software receive path). */
export function bytesSkb(seq: number, data: Uint8Array): Skb {
  return { seq, len: data.length, frags: [{ kind: "ring", data }], ulpCrc: false };
}

/** A TCP receive queue of skbs. */
export function createSkbReceiver(nextSeq: number): TcpReceiver<Skb> {
  return new TcpReceiver<Skb>({ nextSeq, range: (s) => ({ seq: s.seq, length: s.len }), trim: trimSkb });
}
