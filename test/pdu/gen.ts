// Random valid PDUs for the codec and framer tests.
import type { Rng } from "../../src/util/rng.js";
import type { Pdu, PduKind } from "../../src/pdu/pdu.js";
import { cqeStatus, makeCid, sglInCapsule, sglTransport, type Sqe } from "../../src/pdu/sqe.js";

export const ALL_KINDS: readonly PduKind[] = ["ICReq", "ICResp", "H2CTermReq", "C2HTermReq", "CapsuleCmd", "CapsuleResp", "H2CData", "C2HData", "R2T"];
export const C2H_KINDS: readonly PduKind[] = ["CapsuleResp", "C2HData", "R2T"];

const u16 = (r: Rng): number => r.int(0x10000);
const cid = (r: Rng): number => makeCid(r.int(0x1000), r.int(16));
const u64 = (r: Rng): bigint => (BigInt(r.u32()) << 32n) | BigInt(r.u32());

function randomSqe(r: Rng, dataLength: number): Sqe {
  const sgl = dataLength > 0 ? sglInCapsule(dataLength) : sglTransport(r.int(1 << 20));
  switch (r.int(6)) {
    case 0:
      return { kind: "Read", cid: cid(r), nsid: r.u32(), slba: u64(r), nlb: u16(r), sgl };
    case 1:
      return { kind: "Write", cid: cid(r), nsid: r.u32(), slba: u64(r), nlb: u16(r), sgl };
    case 2:
      return { kind: "Connect", cid: cid(r), recfmt: 0, qid: u16(r), sqsize: u16(r), cattr: r.int(256), kato: r.u32(), sgl };
    case 3:
      return { kind: "PropertyGet", cid: cid(r), size: r.pick([4, 8] as const), offset: r.u32() };
    case 4:
      return { kind: "PropertySet", cid: cid(r), size: r.pick([4, 8] as const), offset: r.u32(), value: u64(r) };
    default: {
      const bytes = r.bytes(64);
      bytes[0] = 0x06; // Identify: an opcode the codec keeps raw
      return { kind: "Raw", bytes };
    }
  }
}

/** A random valid PDU of `kind`; data PDUs carry 1..maxData bytes. */
export function randomPdu(r: Rng, kind: PduKind, maxData = 300): Pdu {
  const data = (): Uint8Array => r.bytes(1 + r.int(maxData));
  switch (kind) {
    case "ICReq":
      return { kind, pfv: 0, hpda: r.int(32), hdgstEnable: r.chance(0.5), ddgstEnable: r.chance(0.5), maxr2t: r.u32() };
    case "ICResp":
      return { kind, pfv: 0, cpda: r.int(32), hdgstEnable: r.chance(0.5), ddgstEnable: r.chance(0.5), maxh2cdata: 4096 + 4 * r.int(1 << 20) };
    case "H2CTermReq":
    case "C2HTermReq":
      return { kind, fes: r.range(1, 6), fei: r.u32(), errorData: r.bytes(r.int(129)) };
    case "CapsuleCmd": {
      if (r.chance(0.5)) return { kind, sqe: randomSqe(r, 0) };
      const d = data();
      return { kind, sqe: randomSqe(r, d.length), data: d };
    }
    case "CapsuleResp":
      return { kind, cqe: { result: u64(r), sqHead: u16(r), sqId: u16(r), cid: cid(r), status: cqeStatus(r.int(8), r.int(256), r.chance(0.5)) } };
    case "H2CData":
      return { kind, cccid: cid(r), ttag: u16(r), datao: r.u32(), last: r.chance(0.5), data: data() };
    case "C2HData": {
      const last = r.chance(0.5);
      return { kind, cccid: cid(r), datao: r.u32(), last, success: last && r.chance(0.5), data: data() };
    }
    case "R2T":
      return { kind, cccid: cid(r), ttag: u16(r), r2to: r.u32(), r2tl: 1 + r.int(0x7fffffff) };
  }
}
