import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ParseError } from "../../src/net/errors.js";
import { readPcap, writePcap } from "../../src/net/pcap.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";

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
