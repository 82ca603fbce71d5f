// PDU codec: round trips of every type under every digest combination and alignment, plen arithmetic checked
// independently, every lie of the CVE list rejected with the right code and offset, what real peers get wrong
// without harm accepted as a finding at the right field, truncation, mutation fuzz.
import { describe, expect, it } from "vitest";
import {
  dataDigestMatches,
  decodePdu,
  encodePdu,
  c2hHeaderValid,
  type DecodeOptions,
  type EncodeOptions,
  PduError,
  type PduErrorCode,
  type PduFindingCode,
  pduHeaderLength,
} from "../../src/pdu/pdu.js";
import { sglInCapsule, sglTransport } from "../../src/pdu/sqe.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";
import { ALL_KINDS, randomPdu } from "./gen.js";

const seed = seedFromEnv();
console.log(`pdu.test seed=${seed} (SEED=${seed} to reproduce)`);

const DIGESTS = [
  { hdgst: false, ddgst: false },
  { hdgst: true, ddgst: false },
  { hdgst: false, ddgst: true },
  { hdgst: true, ddgst: true },
];

/** The hlen of each type as the facts table 1.3 lists it (independent of the codec's table). */
const HLEN: Record<string, number> = { ICReq: 128, ICResp: 128, H2CTermReq: 24, C2HTermReq: 24, CapsuleCmd: 72, CapsuleResp: 24, H2CData: 24, C2HData: 24, R2T: 24 };

function decodeError(bytes: Uint8Array, o: DecodeOptions): PduError {
  try {
    decodePdu(bytes, o);
  } catch (e) {
    if (e instanceof PduError) return e;
    throw e;
  }
  throw new Error("decodePdu accepted the PDU");
}

function expectReject(bytes: Uint8Array, o: DecodeOptions, code: PduErrorCode, offset: number): void {
  const e = decodeError(bytes, o);
  expect({ code: e.code, offset: e.offset }, e.message).toEqual({ code, offset });
}

/** The PDU decodes, and its only finding is `code` at `offset`. */
function expectFinding(bytes: Uint8Array, o: DecodeOptions, code: PduFindingCode, offset: number): void {
  expect(decodePdu(bytes, o).findings.map((f) => ({ code: f.code, offset: f.offset }))).toEqual([{ code, offset }]);
}

describe("round trip", () => {
  it("every type, every digest combination, pda 0..31", () => {
    const rng = new Rng(seed);
    for (const kind of ALL_KINDS) {
      expect(pduHeaderLength(kind)).toBe(HLEN[kind]);
      for (const dg of DIGESTS) {
        for (let pda = 0; pda <= 31; pda++) {
          const pdu = randomPdu(rng, kind);
          const wire = encodePdu(pdu, { ...dg, pda });
          const d = decodePdu(wire, { ...dg, pda });
          expect(d.pdu).toEqual(pdu);

          // plen arithmetic from facts 1.5, computed here from the type and options alone.
          const hlen = HLEN[kind]!;
          const digestsAllowed = !["ICReq", "ICResp", "H2CTermReq", "C2HTermReq"].includes(kind);
          const hd = dg.hdgst && digestsAllowed ? 4 : 0;
          const payload = pdu.kind === "C2HData" || pdu.kind === "H2CData" ? pdu.data.length : pdu.kind === "CapsuleCmd" ? (pdu.data?.length ?? 0) : 0;
          const dd = dg.ddgst && payload > 0 && ["CapsuleCmd", "H2CData", "C2HData"].includes(kind) ? 4 : 0;
          const align = (pda + 1) * 4;
          const pdo = wire[3]!;
          expect(wire[2]).toBe(hlen);
          expect(wire[1]! & 3).toBe((hd ? 1 : 0) | (dd ? 2 : 0));
          if (payload > 0) {
            expect(pdo % align).toBe(0);
            expect(pdo).toBeGreaterThanOrEqual(hlen + hd);
            expect(pdo - (hlen + hd)).toBeLessThan(align);
            expect(wire.length).toBe(pdo + payload + dd);
            for (let i = hlen + hd; i < pdo; i++) expect(wire[i]).toBe(0);
          } else {
            expect(pdo).toBe(0);
          }
          expect(new DataView(wire.buffer).getUint32(4, true)).toBe(wire.length);
          expect(d.length).toBe(wire.length);
          if (dd) expect(d.ddgstOk).toBe(true);
          else expect(d.ddgstOk).toBeUndefined();
        }
      }
    }
  });

  it("decodes the first PDU of a longer buffer and reports its length", () => {
    const rng = new Rng(seed + 1);
    const a = encodePdu(randomPdu(rng, "C2HData"), { hdgst: true, ddgst: true });
    const b = encodePdu(randomPdu(rng, "R2T"), { hdgst: true, ddgst: true });
    const both = new Uint8Array(a.length + b.length);
    both.set(a);
    both.set(b, a.length);
    const d = decodePdu(both, { hdgst: true, ddgst: true });
    expect(d.length).toBe(a.length);
    expect(decodePdu(both.subarray(d.length), { hdgst: true, ddgst: true }).pdu.kind).toBe("R2T");
  });
});

describe("lies are rejected with the field's code and offset, harmless mistakes are findings", () => {
  const rng = new Rng(seed + 2);
  const host: DecodeOptions = { hdgst: true, ddgst: true, direction: "C2H" };
  const c2h = (lies: EncodeOptions["lies"], dataLen = 64, pda = 0): Uint8Array =>
    encodePdu({ kind: "C2HData", cccid: 1, datao: 0, last: true, success: false, data: rng.bytes(dataLen) }, { hdgst: true, ddgst: true, pda, lies });

  it("hlen 255 with header digests on (CVE-2025-21927), and other wrong hlens", () => {
    for (const hlen of [255, 0, 8, 23, 25, 72, 128]) {
      expectReject(c2h({ hlen }), host, "BAD_HLEN", 2);
      expectReject(encodePdu({ kind: "CapsuleResp", cqe: { result: 0n, sqHead: 0, sqId: 0, cid: 1, status: 0 } }, { hdgst: true, lies: { hlen } }), host, "BAD_HLEN", 2);
      expectReject(encodePdu({ kind: "R2T", cccid: 1, ttag: 0, r2to: 0, r2tl: 8 }, { hdgst: true, lies: { hlen } }), host, "BAD_HLEN", 2);
    }
    expectReject(encodePdu(randomPdu(rng, "ICResp"), { lies: { hlen: 24 } }), host, "BAD_HLEN", 2);
  });

  it("pdo inside the header or beyond plen", () => {
    expectReject(c2h({ pdo: 24 }), host, "BAD_PDO", 3); // < hlen + HDGST
    expectReject(c2h({ pdo: 0 }), host, "BAD_PDO", 3);
    expectReject(c2h({ pdo: 252 }, 8), host, "BAD_PDO", 3); // beyond plen 44
    // A pdo that moves the data without moving it on the wire breaks the datal arithmetic.
    expectReject(c2h({ pdo: 32 }), host, "BAD_DATAL", 16);
  });

  it("misaligned pdo, pdo on a PDU without data, in-capsule data with pdo 0: findings, the PDU still decodes", () => {
    expectFinding(c2h({}, 64, 0), { ...host, pda: 3 }, "PDO_MISALIGNED", 3); // pdo 28, hpda 3 asks for 16-byte alignment
    expectFinding(encodePdu({ kind: "CapsuleResp", cqe: { result: 0n, sqHead: 0, sqId: 0, cid: 1, status: 0 } }, { hdgst: true, lies: { pdo: 28 } }), host, "RESERVED_PDO", 3);
    expectFinding(encodePdu({ kind: "C2HTermReq", fes: 1, fei: 0, errorData: new Uint8Array(8) }, { lies: { pdo: 24 } }), host, "RESERVED_PDO", 3);
    // A Python host's capsules: pdo 72 on commands without data (truenas_pynvmeof_client, client.py).
    const read = { kind: "CapsuleCmd", sqe: { kind: "Read", cid: 1, nsid: 1, slba: 0n, nlb: 7, sgl: sglTransport(4096) } } as const;
    const controller: DecodeOptions = { hdgst: false, ddgst: false, direction: "H2C" };
    expectFinding(encodePdu(read, { lies: { pdo: 72 } }), controller, "RESERVED_PDO", 3);
    // A Go host's Connect: 1024 bytes in the capsule behind pdo 0 (LightBitsLabs discovery-client, createTCPHeader).
    const data = rng.bytes(1024);
    const connect = encodePdu({ kind: "CapsuleCmd", sqe: { kind: "Connect", cid: 1, recfmt: 0, qid: 0, sqsize: 31, cattr: 0, kato: 0, sgl: sglInCapsule(1024) }, data }, { lies: { pdo: 0 } });
    expectFinding(connect, controller, "ICD_PDO_ZERO", 3);
    const d = decodePdu(connect, controller);
    expect(d.pdu.kind === "CapsuleCmd" && Array.from(d.pdu.data ?? [])).toEqual(Array.from(data));
  });

  it("plen too small, too large, or over the data limit", () => {
    expectReject(c2h({ plen: 30 }), host, "BAD_PLEN", 4); // < pdo + DDGST
    expectReject(c2h({ plen: 0xffffffff }), host, "DATA_LIMIT", 4);
    expectReject(c2h({}, 5000), { ...host, maxDataLength: 4096 }, "DATA_LIMIT", 4);
    expectReject(encodePdu({ kind: "CapsuleResp", cqe: { result: 0n, sqHead: 0, sqId: 0, cid: 1, status: 0 } }, { hdgst: true, lies: { plen: 24 } }), host, "BAD_PLEN", 4);
    expectReject(encodePdu({ kind: "R2T", cccid: 1, ttag: 0, r2to: 0, r2tl: 8 }, { hdgst: true, lies: { plen: 1000 } }), host, "BAD_PLEN", 4);
    expectReject(encodePdu({ kind: "C2HTermReq", fes: 1, fei: 0, errorData: new Uint8Array(8) }, { lies: { plen: 153 } }), host, "BAD_PLEN", 4);
    expectReject(encodePdu({ kind: "C2HTermReq", fes: 1, fei: 0, errorData: new Uint8Array(8) }, { lies: { plen: 23 } }), host, "BAD_PLEN", 4);
    expectReject(encodePdu(randomPdu(rng, "ICResp"), { lies: { plen: 132 } }), host, "BAD_PLEN", 4);
  });

  it("datal inconsistent with plen (CVE-2023-52454); datal 0 is a finding", () => {
    for (const datal of [63, 65, 0, 0xffffffff, 1 << 20]) expectReject(c2h({ datal }), host, "BAD_DATAL", 16);
    const h2c = encodePdu({ kind: "H2CData", cccid: 1, ttag: 0, datao: 0, last: true, data: new Uint8Array(16) }, { ddgst: true, lies: { datal: 17 } });
    expectReject(h2c, { hdgst: false, ddgst: true, direction: "H2C" }, "BAD_DATAL", 16);
    const empty = encodePdu({ kind: "C2HData", cccid: 1, datao: 0, last: true, success: false, data: new Uint8Array(0) }, {});
    expectFinding(empty, { hdgst: false, ddgst: false }, "ZERO_DATAL", 16);
  });

  it("flags: digests not as negotiated, SUCCESS without LAST, undefined bits are findings (the layout follows the negotiation)", () => {
    expectFinding(c2h({ flags: 0x06 }), host, "HDGST_FLAG_MISSING", 1);
    expectFinding(c2h({ flags: 0x05 }), host, "DDGST_FLAG_MISSING", 1);
    expectFinding(c2h({ flags: 0x0b }), host, "SUCCESS_WITHOUT_LAST", 1);
    expectFinding(c2h({ flags: 0x17 }), host, "RESERVED_FLAGS", 1); // undefined bit 4
    expectFinding(encodePdu({ kind: "R2T", cccid: 1, ttag: 0, r2to: 0, r2tl: 8 }, { hdgst: true, lies: { flags: 0x03 } }), host, "DDGST_FLAG_UNEXPECTED", 1);
    expectFinding(encodePdu({ kind: "R2T", cccid: 1, ttag: 0, r2to: 0, r2tl: 8 }, { hdgst: true, lies: { flags: 0x05 } }), host, "RESERVED_FLAGS", 1); // LAST on R2T
    expectFinding(encodePdu({ kind: "C2HTermReq", fes: 1, fei: 0, errorData: new Uint8Array(0) }, { lies: { flags: 0x01 } }), host, "HDGST_FLAG_UNEXPECTED", 1);
    // Digests on the wire when the receiver negotiated none: the digest bytes are then data, against datal.
    expectReject(c2h({}), { hdgst: false, ddgst: false }, "BAD_DATAL", 16);
  });

  it("unknown types and PDUs in the wrong direction", () => {
    for (const type of [0x08, 0x0a, 0x10, 0x7f, 0xff]) expectReject(c2h({}).map((b, i) => (i === 0 ? type : b)), host, "BAD_TYPE", 0);
    expectReject(encodePdu(randomPdu(rng, "CapsuleCmd"), { hdgst: true, ddgst: true }), host, "BAD_TYPE", 0);
    expectReject(c2h({}), { ...host, direction: "H2C" }, "BAD_TYPE", 0);
  });

  it("header digest mismatch is an error at the digest; data digest mismatch is ddgstOk false", () => {
    expectReject(c2h({ corruptHdgst: true }), host, "HDGST_MISMATCH", 24);
    const flipped = c2h({});
    flipped[12]! ^= 1; // datao changed after the digest was computed
    expectReject(flipped, host, "HDGST_MISMATCH", 24);
    const d = decodePdu(c2h({ corruptDdgst: true }), host);
    expect(d.ddgstOk).toBe(false);
    const unchecked = decodePdu(c2h({ corruptDdgst: true }), { ...host, verifyDdgst: false });
    expect(unchecked.ddgstOk).toBeUndefined();
    expect(dataDigestMatches(unchecked)).toBe(false);
    expect(dataDigestMatches(decodePdu(c2h({}), { ...host, verifyDdgst: false }))).toBe(true);
  });

  it("command ids that are not outstanding", () => {
    const known = (cid: number): boolean => cid === 1;
    expectReject(encodePdu({ kind: "C2HData", cccid: 2, datao: 0, last: true, success: false, data: new Uint8Array(4) }, {}), { hdgst: false, ddgst: false, isKnownCid: known }, "BAD_CID", 8);
    expectReject(encodePdu({ kind: "R2T", cccid: 2, ttag: 0, r2to: 0, r2tl: 4 }, {}), { hdgst: false, ddgst: false, isKnownCid: known }, "BAD_CID", 8);
    expectReject(encodePdu({ kind: "CapsuleResp", cqe: { result: 0n, sqHead: 0, sqId: 0, cid: 2, status: 0 } }, {}), { hdgst: false, ddgst: false, isKnownCid: known }, "BAD_CID", 20);
    expect(decodePdu(encodePdu({ kind: "R2T", cccid: 1, ttag: 0, r2to: 0, r2tl: 4 }, {}), { hdgst: false, ddgst: false, isKnownCid: known }).pdu.kind).toBe("R2T");
  });

  it("ICResp / ICReq values outside the spec are findings; an R2T of 0 bytes is refused", () => {
    const ic = { kind: "ICResp", pfv: 0, cpda: 0, hdgstEnable: false, ddgstEnable: false, maxh2cdata: 8192 } as const;
    const none = { hdgst: false, ddgst: false };
    expectFinding(encodePdu({ ...ic, pfv: 1 }), none, "IC_FIELD", 8);
    expectFinding(encodePdu({ ...ic, cpda: 32 }), none, "IC_FIELD", 10);
    expectFinding(encodePdu({ ...ic, maxh2cdata: 4094 }), none, "IC_FIELD", 12);
    expectFinding(encodePdu({ ...ic, maxh2cdata: 8190 }), none, "IC_FIELD", 12);
    const icreq = encodePdu({ kind: "ICReq", pfv: 0, hpda: 0, hdgstEnable: false, ddgstEnable: false, maxr2t: 0 });
    icreq[11] = 0x04;
    expectFinding(icreq, none, "IC_FIELD", 11);
    expectReject(encodePdu({ kind: "R2T", cccid: 1, ttag: 0, r2to: 0, r2tl: 0 }), none, "BAD_FIELD", 16);
  });

  it("reserved bytes that are set: a finding at the first one", () => {
    const none = { hdgst: false, ddgst: false };
    const at = (bytes: Uint8Array, i: number): Uint8Array => bytes.map((b, k) => (k === i ? 0x5a : b));
    expectFinding(at(encodePdu({ kind: "C2HData", cccid: 1, datao: 0, last: true, success: false, data: rng.bytes(8) }), 11), none, "RESERVED_FIELD", 11);
    expectFinding(at(encodePdu({ kind: "R2T", cccid: 1, ttag: 0, r2to: 0, r2tl: 8 }), 22), none, "RESERVED_FIELD", 22);
    expectFinding(at(encodePdu(randomPdu(rng, "ICReq")), 100), { ...none, direction: "H2C" }, "RESERVED_FIELD", 100);
    expectFinding(at(encodePdu({ kind: "C2HTermReq", fes: 1, fei: 0, errorData: new Uint8Array(0) }), 14), none, "RESERVED_FIELD", 14);
  });
});

describe("truncated and mutated input", () => {
  it("every prefix of every type is TRUNCATED at its end", () => {
    const rng = new Rng(seed + 3);
    for (const kind of ALL_KINDS) {
      for (const dg of DIGESTS) {
        const o = { ...dg, pda: rng.int(32) };
        const wire = encodePdu(randomPdu(rng, kind, 40), o);
        expect(decodePdu(wire, o).length).toBe(wire.length);
        for (let n = 0; n < wire.length; n++) expectReject(wire.subarray(0, n), o, "TRUNCATED", n);
      }
    }
  });

  it("random byte mutations either decode or throw PduError, never anything else", () => {
    const rng = new Rng(seed + 4);
    for (let trial = 0; trial < 3000; trial++) {
      const dg = rng.pick(DIGESTS);
      const wire = encodePdu(randomPdu(rng, rng.pick(ALL_KINDS), 40), dg);
      const n = 1 + rng.int(3);
      for (let k = 0; k < n; k++) wire[rng.int(Math.min(wire.length, 32))] = rng.u32() & 0xff;
      const cut = rng.chance(0.3) ? wire.subarray(0, rng.int(wire.length + 1)) : wire;
      try {
        decodePdu(cut, dg);
      } catch (e) {
        expect(e).toBeInstanceOf(PduError);
      }
    }
  });
});

describe("c2hHeaderValid (DESIGN 4.4)", () => {
  const rng = new Rng(seed + 5);
  it("accepts every valid C2H header and rejects the host-irrelevant and lying ones", () => {
    for (const dg of DIGESTS) {
      for (const kind of ["CapsuleResp", "C2HData", "R2T"] as const) {
        expect(c2hHeaderValid(encodePdu(randomPdu(rng, kind), dg), dg)).toBe(true);
      }
      // A C2HTermReq never carries digests, so its HDGST flag is clear; the contract checks that flag on every
      // type, so with header digests negotiated the device does not trust a TermReq (the connection ends anyway).
      expect(c2hHeaderValid(encodePdu(randomPdu(rng, "C2HTermReq"), dg), dg)).toBe(!dg.hdgst);
      for (const kind of ["ICReq", "ICResp", "H2CTermReq", "CapsuleCmd", "H2CData"] as const) {
        expect(c2hHeaderValid(encodePdu(randomPdu(rng, kind), dg), dg)).toBe(false);
      }
    }
    const o = { hdgst: true, ddgst: true };
    const c2h = (lies: EncodeOptions["lies"]): Uint8Array => encodePdu({ kind: "C2HData", cccid: 1, datao: 0, last: true, success: false, data: new Uint8Array(32) }, { ...o, lies });
    expect(c2hHeaderValid(c2h({}), o)).toBe(true);
    expect(c2hHeaderValid(c2h({}).subarray(0, 23), o)).toBe(false);
    for (const lies of [{ hlen: 255 }, { pdo: 24 }, { pdo: 30 }, { plen: 100 }, { datal: 31 }, { flags: 0x05 }]) {
      expect(c2hHeaderValid(c2h(lies), o), JSON.stringify(lies)).toBe(false);
    }
    // The header digest is software's business, not the NIC's.
    expect(c2hHeaderValid(c2h({ corruptHdgst: true }), o)).toBe(true);
  });
});
