// SQE/CQE helpers: CID layout (facts 1.8), CQE status bits (facts 1.6), Connect data and its NQN termination
// (CVE-2023-6121), raw SQEs kept byte for byte.
import { describe, expect, it } from "vitest";
import {
  CONNECT_DATA_LENGTH,
  cidGen,
  cidTag,
  cqeStatus,
  decodeConnectData,
  encodeConnectData,
  makeCid,
  readSqe,
  sqeCid,
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
