// Frame variants the target's own frames never use, made from a valid frame (checksums kept valid): IPv4
// header options, an IPv6 hop-by-hop extension header, Ethernet padding of short frames, pure ACKs.

import { buildTcpFrame, parseFrame } from "../../src/net/frame.js";
import { checksumOf, pseudoHeaderSum, sumWords } from "../../src/net/checksum.js";
import type { FlowAddress } from "../../src/net/frame.js";

function l3(frame: Uint8Array): number {
  return frame[12] === 0x81 && frame[13] === 0x00 ? 18 : 14;
}

/** The same segment with `words` 32-bit words of IPv4 options (NOPs, then END) in the IP header. */
export function withIpv4Options(frame: Uint8Array, words: number): Uint8Array {
  const o = l3(frame);
  if (frame[o]! >> 4 !== 4 || (frame[o]! & 15) !== 5) return frame;
  const extra = 4 * words;
  const out = new Uint8Array(frame.length + extra);
  out.set(frame.subarray(0, o + 20));
  out.fill(0x01, o + 20, o + 20 + extra - 1); // NOP
  out[o + 20 + extra - 1] = 0x00; // END
  out.set(frame.subarray(o + 20), o + 20 + extra);
  const v = new DataView(out.buffer);
  out[o] = 0x40 | (5 + words);
  v.setUint16(o + 2, v.getUint16(o + 2) + extra);
  v.setUint16(o + 10, 0);
  v.setUint16(o + 10, checksumOf(sumWords(out, o, o + 20 + extra, 0)));
  return out;
}

/** The same segment behind an 8-byte IPv6 hop-by-hop header (PadN): the TCP checksum is unchanged. */
export function withIpv6HopByHop(frame: Uint8Array): Uint8Array {
  const o = l3(frame);
  if (frame[o]! >> 4 !== 6 || frame[o + 6] !== 6) return frame;
  const out = new Uint8Array(frame.length + 8);
  out.set(frame.subarray(0, o + 40));
  out.set([6, 0, 1, 4, 0, 0, 0, 0], o + 40); // next header TCP, length 0 (8 bytes), PadN of 4 bytes
  out.set(frame.subarray(o + 40), o + 48);
  const v = new DataView(out.buffer);
  out[o + 6] = 0; // hop-by-hop
  v.setUint16(o + 4, v.getUint16(o + 4) + 8);
  return out;
}

/** Pads a frame shorter than 60 bytes with zeros to 60 (what an Ethernet MAC delivers without the FCS). */
export function withEthernetPadding(frame: Uint8Array): Uint8Array {
  if (frame.length >= 60) return frame;
  const out = new Uint8Array(60);
  out.set(frame);
  return out;
}

/** A pure ACK (no payload) of the flow at `seq` (rule 1 of the contract). */
export function pureAck(addr: FlowAddress, seq: number): Uint8Array {
  return buildTcpFrame({ ...addr, seq, ack: 1, flags: { ack: true }, payload: new Uint8Array(0) });
}

/** Payload offset and length as the model's parser sees them (for generators that reason about frames). */
export function payloadOf(frame: Uint8Array): { offset: number; length: number; seq: number } {
  const f = parseFrame(frame);
  return { offset: f.payloadOffset, length: f.payload.length, seq: f.tcp?.seq ?? 0 };
}

/**
 * The same segment with a malformed TCP option (a 4-byte option area whose option claims 40 bytes), TCP
 * checksum recomputed: the model's parseFrame throws on it, the RTL skips option bytes (divergence D1).
 */
export function withMalformedTcpOption(frame: Uint8Array): Uint8Array {
  const f = parseFrame(frame);
  const l4 = f.l4Offset!;
  const hdr = f.tcp!.headerLength;
  const out = new Uint8Array(frame.length + 4);
  out.set(frame.subarray(0, l4 + hdr));
  out.set([0x1e, 40, 0, 0], l4 + hdr); // kind 30, length 40: runs past the header
  out.set(frame.subarray(l4 + hdr), l4 + hdr + 4);
  const v = new DataView(out.buffer);
  out[l4 + 12] = ((hdr + 4) / 4) << 4;
  const o = l3(frame);
  const v6 = out[o]! >> 4 === 6;
  if (v6) v.setUint16(o + 4, v.getUint16(o + 4) + 4);
  else {
    v.setUint16(o + 2, v.getUint16(o + 2) + 4);
    v.setUint16(o + 10, 0);
    v.setUint16(o + 10, checksumOf(sumWords(out, o, o + 4 * (out[o]! & 15), 0)));
  }
  const tcpLen = out.length - l4;
  const src = v6 ? out.subarray(o + 8, o + 24) : out.subarray(o + 12, o + 16);
  const dst = v6 ? out.subarray(o + 24, o + 40) : out.subarray(o + 16, o + 20);
  v.setUint16(l4 + 16, 0);
  v.setUint16(l4 + 16, checksumOf(sumWords(out, l4, out.length, pseudoHeaderSum(src, dst, 6, tcpLen))));
  return out;
}

/** IPv4: the same segment marked as a fragment (MF set, or a non-zero offset), IP checksum fixed: passthrough. */
export function asIpv4Fragment(frame: Uint8Array, offsetUnits: number): Uint8Array {
  const o = l3(frame);
  if (frame[o]! >> 4 !== 4) return frame;
  const out = frame.slice();
  const v = new DataView(out.buffer);
  v.setUint16(o + 6, offsetUnits === 0 ? 0x2000 : offsetUnits & 0x1fff); // MF, or offset (MF clear: a last fragment)
  v.setUint16(o + 10, 0);
  v.setUint16(o + 10, checksumOf(sumWords(out, o, o + 4 * (out[o]! & 15), 0)));
  return out;
}

/** Bytes after the IP datagram (an Ethernet trailer): the IP length says where the segment ends. */
export function withTrailer(frame: Uint8Array, trailer: Uint8Array): Uint8Array {
  const out = new Uint8Array(frame.length + trailer.length);
  out.set(frame);
  out.set(trailer, frame.length);
  return out;
}

/** The frame cut short by `n` bytes (the IP length now runs past the frame): passthrough. */
export function truncated(frame: Uint8Array, n: number): Uint8Array {
  return frame.slice(0, Math.max(1, frame.length - n));
}
