// SQE/CQE helpers: CID layout (facts 1.8), CQE status bits (facts 1.6), Connect data and its NQN termination
// (CVE-2023-6121), raw SQEs kept byte for byte, the length and direction of a command's data (NVMe base spec:
// SGL descriptor types, opcode bits 1:0, Identify / Get Log Page fields), LBA sizes from Identify Namespace.
import { describe, expect, it } from "vitest";
import {
  CONNECT_DATA_LENGTH,
  cidGen,
  cidTag,
  commandName,
  cqeStatus,
  decodeConnectData,
  encodeConnectData,
  identifyNamespaceLbaSize,
  makeCid,
  readSqe,
  sqeCid,
  sqeTransfer,
  statusCode,
  statusCodeType,
  statusOk,
  writeSqe,
} from "../../src/pdu/sqe.js";

describe("CID layout", () => {
  it("generation counter in bits 15:12, tag in 11:0", () => {
    expect(makeCid(0x123, 0xa)).toBe(0xa123);
    expect(makeCid(5, 0x13)).toBe(0x3005); // genctr is 4 bits, wraps like the kernel's
    expect(cidTag(0xa123)).toBe(0x123);
    expect(cidGen(0xa123)).toBe(0xa);
    expect(() => makeCid(0x1000, 0)).toThrow(RangeError);
  });
});

describe("CQE status field", () => {
  it("SC in bits 8:1, SCT in 11:9, DNR in 15", () => {
    expect(cqeStatus(0, 0)).toBe(0);
    expect(cqeStatus(0, 2)).toBe(0x0004);
    expect(cqeStatus(1, 0x82, true)).toBe(0x8000 | (1 << 9) | (0x82 << 1));
    const s = cqeStatus(2, 0x81);
    expect([statusCodeType(s), statusCode(s), statusOk(s)]).toEqual([2, 0x81, false]);
    expect(statusOk(0x0001 | 0x8000)).toBe(true); // phase and DNR do not make a failure
  });
});

describe("Connect data", () => {
  const hostId = Uint8Array.from({ length: 16 }, (_, i) => i);
  it("places host id, cntlid and the NQNs at 0, 16, 256, 512", () => {
    const bytes = encodeConnectData({ hostId, cntlid: 0xffff, subnqn: "nqn.2014-08.org.nvmexpress:sub", hostnqn: "nqn.host" });
    expect(bytes.length).toBe(CONNECT_DATA_LENGTH);
    expect(Array.from(bytes.subarray(16, 18))).toEqual([0xff, 0xff]);
    expect(new TextDecoder().decode(bytes.subarray(256, 256 + 30))).toBe("nqn.2014-08.org.nvmexpress:sub");
    expect(bytes[256 + 30]).toBe(0);
    expect(new TextDecoder().decode(bytes.subarray(512, 520))).toBe("nqn.host");
    expect(decodeConnectData(bytes)).toEqual({ hostId, cntlid: 0xffff, subnqn: "nqn.2014-08.org.nvmexpress:sub", hostnqn: "nqn.host" });
  });

  it("refuses an NQN that is not NUL-terminated within its 256 bytes", () => {
    const bytes = encodeConnectData({ hostId, cntlid: 1, subnqn: "s", hostnqn: "h" });
    bytes.fill(0x41, 512, 768);
    expect(() => decodeConnectData(bytes)).toThrow(/hostnqn is not NUL-terminated/);
    expect(() => decodeConnectData(bytes.subarray(0, 1000))).toThrow(RangeError);
    expect(() => encodeConnectData({ hostId, cntlid: 1, subnqn: "x".repeat(256), hostnqn: "h" })).toThrow(RangeError);
  });
});

describe("raw SQEs", () => {
  it("other opcodes survive byte for byte and expose their CID", () => {
    const raw = Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff);
    raw[0] = 0x06; // Identify
    raw[2] = 0x34;
    raw[3] = 0x12;
    const sqe = readSqe(raw);
    expect(sqe.kind).toBe("Raw");
    expect(sqeCid(sqe)).toBe(0x1234);
    const out = new Uint8Array(64);
    writeSqe(out, sqe);
    expect(out).toEqual(raw);
  });
});

describe("the data a command moves (sqeTransfer), by the spec's fields and not the SGL alone", () => {
  const lba = (): number => 4096;
  /** An SQE's 64 bytes: opcode, CID 1, NSID, SGL (length, identifier) and command dwords from 10. */
  const sqe = (opcode: number, sgl: [number, number], cdw: number[] = [], nsid = 1): Uint8Array => {
    const b = new Uint8Array(64);
    const v = new DataView(b.buffer);
    b[0] = opcode;
    v.setUint16(2, 1, true);
    v.setUint32(4, nsid, true);
    v.setUint32(32, sgl[0], true);
    b[39] = sgl[1];
    cdw.forEach((d, i) => v.setUint32(40 + 4 * i, d, true));
    return b;
  };
  it("a Read: the SGL's length, or NLB x LBA size when the SGL gives none (length 0, or a Segment descriptor)", () => {
    expect(sqeTransfer(sqe(0x02, [8192, 0x5a], [0, 0, 1]), { admin: false, lbaSize: lba })).toEqual({ direction: "c2h", sglLength: 8192, fieldLength: 8192, length: 8192 });
    expect(sqeTransfer(sqe(0x02, [0, 0x5a], [0, 0, 1]), { admin: false, lbaSize: lba })).toMatchObject({ sglLength: undefined, length: 8192 });
    expect(sqeTransfer(sqe(0x02, [64, 0x20], [0, 0, 3]), { admin: false, lbaSize: lba })).toMatchObject({ sglLength: undefined, length: 16384 }); // Segment: a list, not data
    // Keyed Data Block: 24-bit length (byte 11 is the key's).
    expect(sqeTransfer(sqe(0x02, [0x7f000200, 0x40], [0, 0, 0]), { admin: false, lbaSize: lba })).toMatchObject({ sglLength: 512, length: 4096 });
  });
  it("admin Identify (4096) and Get Log Page (NUMD) against an SGL that says less; direction from the opcode bits", () => {
    expect(sqeTransfer(sqe(0x06, [0, 0x00], [1], 0), { admin: true, lbaSize: lba })).toEqual({ direction: "c2h", sglLength: undefined, fieldLength: 4096, length: 4096 });
    // A Go host's discovery Get Log Page: SGL 16 bytes, NUMD 1024 bytes (LightBitsLabs discovery-client).
    expect(sqeTransfer(sqe(0x02, [16, 0x5a], [0x70 | (255 << 16)], 0), { admin: true, lbaSize: lba })).toMatchObject({ sglLength: 16, fieldLength: 1024, length: 1024 });
    expect(sqeTransfer(sqe(0x01, [4096, 0x01], [0, 0, 0]), { admin: false, lbaSize: lba }).direction).toBe("h2c");
    const connect = sqe(0x7f, [1024, 0x01]);
    connect[4] = 0x01;
    expect(sqeTransfer(connect, { admin: false, lbaSize: lba })).toMatchObject({ direction: "h2c", length: 1024 });
    expect(readSqe(sqe(0x02, [512, 0x5a], [0x02]), { admin: true }).kind).toBe("Raw"); // Get Log Page, not Read
    expect([commandName(sqe(0x02, [0, 0]), true), commandName(sqe(0x02, [0, 0]), false), commandName(connect, false), commandName(sqe(0x99, [0, 0]), false)]).toEqual([
      "Get Log Page",
      "Read",
      "Connect",
      "I/O opcode 0x99",
    ]);
  });
  it("Identify Namespace data: the LBA size of the formatted LBA format", () => {
    const ns = new Uint8Array(4096);
    ns[25] = 1; // two formats
    ns[26] = 1; // FLBAS: format 1
    ns[128 + 2] = 9;
    ns[132 + 2] = 12;
    expect(identifyNamespaceLbaSize(ns)).toBe(4096);
    ns[26] = 0;
    expect(identifyNamespaceLbaSize(ns)).toBe(512);
    ns[130] = 3; // LBADS below 9: nonsense
    expect(identifyNamespaceLbaSize(ns)).toBeUndefined();
  });
});
