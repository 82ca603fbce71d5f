import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ethernetFrame, LinkType, linkTypeSupported, readCapture } from "../../src/net/capture-file.js";
import { ParseError } from "../../src/net/errors.js";
import { buildTcpFrame, parseFrame } from "../../src/net/frame.js";
import { readPcap, writePcap } from "../../src/net/pcap.js";
import { isPcapng, readPcapng } from "../../src/net/pcapng.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";
import { sll2Frame, sllFrame, toPcapng } from "../interop/builder.js";
import { randomFlow } from "./gen.js";
import { tsharkFields } from "./tshark.js";

const seed = seedFromEnv();
console.log(`pcap.test.ts SEED=${seed}`);

describe("pcap", () => {
  it("reads back what editcap rewrote as a nanosecond pcap", () => {
    const rng = new Rng(seed);
    const records = Array.from({ length: 20 }, (_, i) => ({ data: rng.bytes(rng.range(14, 1514)), timeUs: 1_700_000_000_000_000 + i * 1_234_567 }));
    const dir = mkdtempSync(join(tmpdir(), "net-pcap-"));
    try {
      writeFileSync(join(dir, "us.pcap"), writePcap(records));
      const run = spawnSync("editcap", ["-F", "nsecpcap", join(dir, "us.pcap"), join(dir, "ns.pcap")], { encoding: "utf8" });
      expect(run.status, run.stderr).toBe(0);
      const ns = readFileSync(join(dir, "ns.pcap"));
      expect(ns.readUInt32LE(0)).toBe(0xa1b23c4d); // editcap really wrote the nanosecond magic
      const file = readPcap(new Uint8Array(ns));
      expect(file.linkType).toBe(1);
      expect(file.records.map((r) => r.timeUs)).toEqual(records.map((r) => r.timeUs));
      expect(file.records.map((r) => Array.from(r.data))).toEqual(records.map((r) => Array.from(r.data)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads a big-endian file written by hand", () => {
    const hex = "a1b2c3d4 0002 0004 00000000 00000000 0000ffff 00000001" + " 00000002 00000003 00000003 0000003c aabbcc";
    const bytes = Uint8Array.from(hex.replace(/\s/g, "").match(/../g)!, (b) => parseInt(b, 16));
    const file = readPcap(bytes);
    expect(file.linkType).toBe(1);
    expect(file.records).toHaveLength(1);
    expect(file.records[0]!.timeUs).toBe(2_000_003);
    expect(file.records[0]!.originalLength).toBe(60);
    expect(Array.from(file.records[0]!.data)).toEqual([0xaa, 0xbb, 0xcc]);
  });

  it("rejects bad magic and truncation with the offset", () => {
    const good = writePcap([{ data: new Uint8Array(10) }]);
    expect(() => readPcap(good.subarray(0, 20))).toThrow(ParseError);
    const badMagic = good.slice();
    badMagic[0] = 0;
    expect(() => readPcap(badMagic)).toThrow(expect.objectContaining({ layer: "pcap", offset: 0 }));
    expect(() => readPcap(good.subarray(0, 30))).toThrow(expect.objectContaining({ layer: "pcap", offset: 24 }));
    expect(() => readPcap(good.subarray(0, good.length - 1))).toThrow(expect.objectContaining({ layer: "pcap", offset: 32 }));
  });
});

describe("pcapng", () => {
  it("reads what editcap wrote as pcapng from a pcap: same frames, times and link type", () => {
    const rng = new Rng(seed + 1);
    const records = Array.from({ length: 20 }, (_, i) => ({ data: rng.bytes(rng.range(14, 1514)), timeUs: 1_700_000_000_000_000 + i * 7_654_321 }));
    const dir = mkdtempSync(join(tmpdir(), "net-pcapng-"));
    try {
      writeFileSync(join(dir, "in.pcap"), writePcap(records));
      const run = spawnSync("editcap", ["-F", "pcapng", join(dir, "in.pcap"), join(dir, "out.pcapng")], { encoding: "utf8" });
      expect(run.status, run.stderr).toBe(0);
      const bytes = new Uint8Array(readFileSync(join(dir, "out.pcapng")));
      expect(isPcapng(bytes)).toBe(true);
      const file = readCapture(bytes);
      expect(file.format).toBe("pcapng");
      expect(file.records.map((r) => [r.linkType, r.timeUs, r.originalLength])).toEqual(records.map((r) => [1, r.timeUs, r.data.length]));
      expect(file.records.map((r) => Array.from(r.data))).toEqual(records.map((r) => Array.from(r.data)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads a big-endian section with nanosecond timestamps, two interfaces and every packet block, written by hand", () => {
    const words = (...ws: number[]): number[] => ws.flatMap((w) => [(w >>> 24) & 0xff, (w >>> 16) & 0xff, (w >>> 8) & 0xff, w & 0xff]);
    const bytes = Uint8Array.from([
      ...words(0x0a0d0d0a, 28, 0x1a2b3c4d, 0x00010000, 0xffffffff, 0xffffffff, 28), // SHB, version 1.0
      ...words(1, 20, 0x00010000, 0, 20), // IDB 0: Ethernet, microseconds
      ...words(1, 28, 0x01140000, 0, 0x00090001, 0x09000000, 28), // IDB 1: Linux cooked SLL2 (276), if_tsresol 9 (ns)
      ...words(6, 36, 1, 0, 1_000_000_123, 3, 60, 0xaabbcc00, 36), // EPB on interface 1: 3 of 60 bytes
      ...words(3, 20, 4, 0x01020304, 20), // SPB (interface 0): 4 bytes
      ...words(2, 36, 0x00010000, 0, 5_000, 2, 2, 0xeeff0000, 36), // obsolete PB on interface 1: 2 bytes
    ]);
    const file = readCapture(bytes);
    expect(file.records.map((r) => [r.linkType, r.originalLength, Array.from(r.data)])).toEqual([
      [276, 60, [0xaa, 0xbb, 0xcc]],
      [1, 4, [1, 2, 3, 4]],
      [276, 2, [0xee, 0xff]],
    ]);
    expect(file.records[0]!.timeUs).toBeCloseTo(1_000_000.123, 6);
    expect(file.records[2]!.timeUs).toBeCloseTo(5, 6);
  });

  it("rejects a bad byte-order magic, a bad block length and a truncated block, with the offset", () => {
    const good = toPcapng([{ data: new Uint8Array(60), timeUs: 5, from: "host" }]);
    expect(readCapture(good).records).toHaveLength(1);
    const magic = good.slice();
    magic[8] = 0;
    expect(() => readPcapng(magic)).toThrow(expect.objectContaining({ layer: "pcapng", offset: 8 }));
    const length = good.slice();
    length[4] = 13;
    expect(() => readPcapng(length)).toThrow(expect.objectContaining({ layer: "pcapng", offset: 4 }));
    expect(() => readPcapng(good.subarray(0, good.length - 4))).toThrow(ParseError);
  });
});

describe("link types: cooked and raw IP captures become the Ethernet frames tshark sees in them", () => {
  const rng = new Rng(seed + 2);
  const frames = Array.from({ length: 12 }, (_, i) =>
    buildTcpFrame({ ...randomFlow(rng, i % 2 === 0 ? 4 : 6), seq: rng.u32(), ack: rng.u32(), flags: { ack: true, psh: i % 3 === 0 }, payload: rng.bytes(rng.range(0, 300)) }),
  ).map((data, i) => ({ data, timeUs: i, from: (i % 2 === 0 ? "host" : "target") as "host" | "target" }));
  // tshark's reading of the L3/L4 fields, frame by frame (independent of the project's parser).
  const fields = ["ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "tcp.srcport", "tcp.dstport", "tcp.seq_raw", "tcp.len"];
  const view = (pcap: Uint8Array): string[][] => tsharkFields(pcap, fields);

  const cases: [string, number, (f: (typeof frames)[number]) => Uint8Array][] = [
    ["Linux cooked SLL2 (tcpdump -i any)", LinkType.LINUX_SLL2, sll2Frame],
    ["Linux cooked SLL", LinkType.LINUX_SLL, sllFrame],
    ["raw IP", LinkType.RAW, (f) => f.data.subarray(14)],
  ];
  for (const [name, linkType, convert] of cases) {
    it(name, () => {
      const plain = frames.filter((f) => f.data[12] !== 0x81); // a cooked header has no room for the VLAN tag
      const cooked = writePcap(plain.map((f) => ({ data: convert(f), timeUs: f.timeUs })), linkType);
      const file = readCapture(cooked);
      expect(file.records.every((r) => r.linkType === linkType)).toBe(true);
      const ethernet = writePcap(file.records.map((r) => ({ data: ethernetFrame(r.linkType, r.data), timeUs: r.timeUs })));
      expect(view(ethernet)).toEqual(view(cooked));
      expect(view(ethernet).map((row) => row[7])).toEqual(plain.map((f) => String(parseFrame(f.data).payload.length)));
    });
  }

  it("a cooked header cut short is a ParseError naming the link layer; unknown link types are refused", () => {
    expect(() => ethernetFrame(LinkType.LINUX_SLL2, new Uint8Array(10))).toThrow(expect.objectContaining({ layer: "link" }));
    expect(() => ethernetFrame(147, new Uint8Array(40))).toThrow(/link type 147/);
    expect(linkTypeSupported(147)).toBe(false);
  });
});
