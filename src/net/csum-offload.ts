// TCP checksum offload as a NIC's MAC does it after the transmit offloads (docs/tx-contract.md section 4): the
// checksum of the frame's final bytes written into its TCP header.

import { checksumOf, pseudoHeaderSum, sumWords } from "./checksum.js";
import { IPPROTO, parseFrame } from "./frame.js";

/** A copy of a TCP frame with its TCP checksum computed over its bytes as they are (any other frame as it is). */
export function fillTcpChecksum(frame: Uint8Array): Uint8Array {
  const f = parseFrame(frame);
  if (f.tcp === undefined || f.ip === undefined || f.l4Offset === undefined) return Uint8Array.from(frame);
  const out = Uint8Array.from(frame);
  const l4 = f.l4Offset;
  const end = f.payloadOffset + f.payload.length;
  out[l4 + 16] = 0;
  out[l4 + 17] = 0;
  const ipOff = f.l3Offset;
  const v6 = f.ip.version === 6;
  const src = out.subarray(ipOff + (v6 ? 8 : 12), ipOff + (v6 ? 24 : 16));
  const dst = out.subarray(ipOff + (v6 ? 24 : 16), ipOff + (v6 ? 40 : 20));
  const sum = checksumOf(sumWords(out, l4, end, pseudoHeaderSum(src, dst, IPPROTO.tcp, end - l4)));
  out[l4 + 16] = sum >> 8;
  out[l4 + 17] = sum & 0xff;
  return out;
}
