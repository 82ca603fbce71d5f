// Field layouts checked against bytes written by hand from the tables of facts section 1.6 (not derived from
// the encoder): encodePdu must produce them and decodePdu must read them back into the same fields.
import { describe, expect, it } from "vitest";
import { decodePdu, encodePdu, type EncodeOptions, type Pdu } from "../../src/pdu/pdu.js";
import { cqeStatus, makeCid, sglInCapsule, sglTransport } from "../../src/pdu/sqe.js";

const hex = (s: string): Uint8Array => Uint8Array.from((s.replace(/\s+/g, "").match(/../g) ?? []).map((h) => parseInt(h, 16)));
const zeros = (n: number): string => "00".repeat(n);
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Textbook bitwise CRC32C, so digests in the expected bytes do not come from the code under test. */
function refCrc(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
const le32 = (n: number): string => [0, 8, 16, 24].map((s) => ((n >>> s) & 0xff).toString(16).padStart(2, "0")).join("");
const digestOf = (h: string): string => le32(refCrc(hex(h)));

interface Case {
  name: string;
  pdu: Pdu;
  opts: EncodeOptions;
  wire: string;
}

const data8 = hex("0001020304050607");

const readSqeHex =
  "02 40 03 10 01000000" + zeros(16) + // opcode, PSDT=SGL, cid 0x1003, nsid 1, cdw2-3 + mptr
  "0000000000000000 00100000 000000 5a" + // SGL: address 0, length 4096, transport data block
  "0807060504030201 0700 0000" + zeros(12); // SLBA, NLB 7 (cdw12), cdw13-15

const cmdWriteHeader = "04 03 48 4c 58000000" + "01 40 07 00 01000000" + zeros(16) + "0000000000000000 08000000 000000 01" + "2000000000000000 0000 0000" + zeros(12);

const cases: Case[] = [
  {
    name: "ICReq (hpda 2, both digests)",
    pdu: { kind: "ICReq", pfv: 0, hpda: 2, hdgstEnable: true, ddgstEnable: true, maxr2t: 0 },
    opts: {},
    wire: "00 00 80 00 80000000 0000 02 03 00000000" + zeros(112),
  },
  {
    name: "ICResp (cpda 0, header digest, maxh2cdata 128 KiB)",
    pdu: { kind: "ICResp", pfv: 0, cpda: 0, hdgstEnable: true, ddgstEnable: false, maxh2cdata: 0x20000 },
    opts: { hdgst: true, ddgst: true }, // IC PDUs never carry digests whatever was negotiated
    wire: "01 00 80 00 80000000 0000 00 01 00000200" + zeros(112),
  },
  {
    name: "C2HTermReq with 4 bytes of error data",
    pdu: { kind: "C2HTermReq", fes: 1, fei: 2, errorData: hex("aabbccdd") },
    opts: { hdgst: true, ddgst: true },
    wire: "03 00 18 00 1c000000 0100 02000000" + zeros(10) + "aabbccdd",
  },
  {
    name: "H2CTermReq without error data",
    pdu: { kind: "H2CTermReq", fes: 3, fei: 0x12345678, errorData: new Uint8Array(0) },
    opts: {},
    wire: "02 00 18 00 18000000 0300 78563412" + zeros(10),
  },
  {
    name: "CapsuleCmd Read, no digests",
    pdu: { kind: "CapsuleCmd", sqe: { kind: "Read", cid: makeCid(3, 1), nsid: 1, slba: 0x0102030405060708n, nlb: 7, sgl: sglTransport(4096) } },
    opts: { ddgst: true }, // no in-capsule data: no DDGST even when negotiated
    wire: "04 00 48 00 48000000" + readSqeHex,
  },
  {
    name: "CapsuleCmd Write with 8 bytes in-capsule, both digests",
    pdu: {
      kind: "CapsuleCmd",
      sqe: { kind: "Write", cid: 7, nsid: 1, slba: 0x20n, nlb: 0, sgl: sglInCapsule(8) },
      data: data8,
    },
    opts: { hdgst: true, ddgst: true },
    wire: cmdWriteHeader + digestOf(cmdWriteHeader) + "0001020304050607" + digestOf("0001020304050607"),
  },
  {
    name: "CapsuleCmd Fabrics Connect with 1024 bytes of connect data, cpda 3 (16-byte alignment: pdo 80, pad 8)",
    pdu: {
      kind: "CapsuleCmd",
      sqe: { kind: "Connect", cid: 0, recfmt: 0, qid: 0, sqsize: 31, cattr: 0, kato: 15000, sgl: sglInCapsule(1024) },
      data: new Uint8Array(1024).fill(0x5a),
    },
    opts: { pda: 3 },
    wire:
      "04 00 48 50 50040000" +
      "7f 40 0000 01" + zeros(19) + "0000000000000000 00040000 000000 01" + "0000 0000 1f00 00 00 983a0000" + zeros(12) +
      zeros(8) + "5a".repeat(1024),
  },
  {
    name: "CapsuleResp with a status",
    pdu: { kind: "CapsuleResp", cqe: { result: 0x11n, sqHead: 5, sqId: 1, cid: 0x2007, status: cqeStatus(0, 2) } },
    opts: { ddgst: true },
    wire: "05 00 18 00 18000000 1100000000000000 0500 0100 0720 0400",
  },
  {
    name: "H2CData LAST, no digests",
    pdu: { kind: "H2CData", cccid: 9, ttag: 0x0102, datao: 0x1000, last: true, data: hex("deadbeef") },
    opts: {},
    wire: "06 04 18 18 1c000000 0900 0201 00100000 04000000 00000000 deadbeef",
  },
  {
    name: "C2HData worked example of facts 1.6 (HDGST+DDGST+LAST+SUCCESS, CID 5)",
    pdu: { kind: "C2HData", cccid: 5, datao: 0, last: true, success: true, data: data8 },
    opts: { hdgst: true, ddgst: true },
    wire: "07 0f 18 1c 28000000 0500 0000 00000000 08000000 00000000 b63122c8 0001020304050607 3bbc2c8a",
  },
  {
    name: "C2HData with hpda 3 (pdo 32, 8 pad bytes), no digests",
    pdu: { kind: "C2HData", cccid: 0xf00d, datao: 0x200, last: false, success: false, data: hex("0102") },
    opts: { pda: 3 },
    wire: "07 00 18 20 22000000 0df0 0000 00020000 02000000 00000000" + zeros(8) + "0102",
  },
  {
    name: "R2T with header digest",
    pdu: { kind: "R2T", cccid: 0x0a, ttag: 3, r2to: 0, r2tl: 0x2000 },
    opts: { hdgst: true },
    wire: "09 01 18 00 1c000000 0a00 0300 00000000 00200000 00000000" + digestOf("09 01 18 00 1c000000 0a00 0300 00000000 00200000 00000000"),
  },
];

describe("PDU layouts against hand-written bytes", () => {
  for (const c of cases) {
    it(c.name, () => {
      const wire = hex(c.wire);
      expect(toHex(encodePdu(c.pdu, c.opts))).toBe(toHex(wire));
      const d = decodePdu(wire, { hdgst: c.opts.hdgst ?? false, ddgst: c.opts.ddgst ?? false, pda: c.opts.pda ?? 0 });
      expect(d.pdu).toEqual(c.pdu);
      expect(d.length).toBe(wire.length);
      if (d.ddgstOk !== undefined) expect(d.ddgstOk).toBe(true);
    });
  }
});
