// ddpsim replay against the reference model, on captures the target wrote (clean, lossy, one bad data digest),
// and every kind of unusable capture. Expected values come from the test's own host (CIDs), the namespace pattern
// (SHA-256 of patternBytes) and the target's `sent` log (which read carried the bad digest).

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ReplayReportSchema, type ReplayReport } from "../../src/replay/report.js";
import { parseFrame } from "../../src/net/frame.js";
import { writePcap } from "../../src/net/pcap.js";
import { seedFromEnv } from "../../src/util/rng.js";
import { ddpsim, READS, type TargetCapture, targetCapture, tmp } from "./helpers.js";

const seed = seedFromEnv();
console.log(`replay.test seed=${seed} (SEED=${seed} to reproduce)`);

async function replayJson(file: string, ...extra: string[]): Promise<ReplayReport> {
  const r = await ddpsim("replay", file, "--backend", "model", "--json", ...extra);
  expect(r.code, r.err || r.out).toBe(0);
  return ReplayReportSchema.parse(JSON.parse(r.out));
}

/** Per read: CID, length and SHA-256 as the test's host and the namespace pattern say. */
function expectSameReads(rep: ReplayReport, cap: TargetCapture): void {
  expect(rep.reads.map((r) => ({ cid: r.cid, length: r.length, sha256: r.sha256 }))).toEqual(cap.reads.map((r) => ({ cid: r.cid, length: r.length, sha256: r.sha256 })));
  for (const r of rep.reads) expect(r.placed + r.copied, `cid 0x${r.cid.toString(16)}`).toBe(r.length);
  expect(rep.reads.every((r) => r.completed)).toBe(true);
  expect(rep.invariants.filter((i) => !i.ok)).toEqual([]);
  expect(rep.stats["rx-nvme-tcp-setup"]).toBe(READS.length);
  expect(rep.stats["rx-nvme-tcp-teardown"]).toBe(READS.length);
}

describe("replay of target-written captures (model)", () => {
  let clean: TargetCapture;
  let lossy: TargetCapture | undefined;
  let bad: TargetCapture;
  beforeAll(async () => {
    clean = await targetCapture("clean", seed);
    // The first seed from `seed` on whose wire something was lost (almost always `seed` itself).
    for (let k = 0; !lossy || lossy.impairments === 0; k++) lossy = await targetCapture("lossy", seed + k, { impairments: { loss: 0.1, retransmitDelay: [2, 5] } });
    bad = await targetCapture("bad-ddgst", seed, { lie: "bad-ddgst" });
  });

  it("clean: every read placed whole by the NIC, digests checked by it", async () => {
    const rep = await replayJson(clean.file);
    expect(rep.connections).toEqual([{ host: "10.0.0.1:40001", target: "10.0.0.2:4420", qid: 1, hdgst: true, ddgst: true, offloaded: true, failed: null }]);
    expect(rep.findings).toEqual([]);
    expect(rep.deviceFrames).toBe(clean.frames.filter((f) => parseFrame(f).tcp!.dstPort !== 4420).length);
    expect(rep.frames).toBe(clean.frames.length);
    expectSameReads(rep, clean);
    for (const r of rep.reads) expect([r.placed, r.copied, r.digest]).toEqual([r.length, 0, "hw-ok"]);
    expect(rep.stats["rx-nvme-tcp-bytes"]).toBe(READS.reduce((n, [, b]) => n + b * 512, 0));
  });

  it("lossy (late retransmissions): the buffers still hold the namespace's bytes, software fills the gaps", async () => {
    const rep = await replayJson(lossy!.file);
    expectSameReads(rep, lossy!);
    for (const r of rep.reads) expect(r.digest).not.toBe("bad");
  });

  it("bad data digest: 'bad' exactly for the read whose PDU carried it", async () => {
    expect(bad.liedCids).toHaveLength(1);
    const rep = await replayJson(bad.file);
    expectSameReads(rep, bad);
    for (const r of rep.reads) expect(r.digest, `cid 0x${r.cid.toString(16)}`).toBe(bad.liedCids.includes(r.cid) ? "bad" : "hw-ok");
    // The host of the original run failed that read with a data transfer error, and only that one.
    expect(bad.reads.filter((r) => r.status !== 0).map((r) => r.cid)).toEqual(bad.liedCids);
  });

  it("text output: one row per read with its digest result, status and SHA-256", async () => {
    const r = await ddpsim("replay", bad.file, "--backend", "model");
    expect(r.code).toBe(0);
    for (const x of bad.reads) {
      const status = bad.liedCids.includes(x.cid) ? "bad\\s+error" : "hw-ok\\s+ok";
      expect(r.out).toMatch(new RegExp(`0x${x.cid.toString(16).padStart(4, "0")}\\s+Read\\s+${x.length}\\s+\\d+\\s+\\d+\\s+${status}\\s+${x.sha256}`));
    }
    expect(r.out).toContain("rx-nvme-tcp-setup: 4");
    expect(r.out).toContain("findings: none");
  });

  describe("unusable captures: a clear error, exit 1", () => {
    const write = (name: string, bytes: Uint8Array): string => {
      const f = join(tmp, name);
      writeFileSync(f, bytes);
      return f;
    };
    const expectError = async (file: string, message: RegExp, ...extra: string[]): Promise<void> => {
      const r = await ddpsim("replay", file, "--backend", "model", ...extra);
      expect(r.code, r.out).toBe(1);
      expect(r.err).toMatch(message);
    };

    it("not a pcap", async () => {
      await expectError(write("text.pcap", new TextEncoder().encode("this is not a capture, just some text")), /not a pcap/);
    });
    it("missing file", async () => {
      await expectError(join(tmp, "nope.pcap"), /cannot read/);
    });
    it("truncated in the middle of a record", async () => {
      const bytes = readFileSync(clean.file);
      await expectError(write("cut.pcap", bytes.subarray(0, bytes.length - 100)), /truncated/);
    });
    it("unknown link type", async () => {
      await expectError(write("user0.pcap", writePcap(clean.frames.map((data) => ({ data })), 147)), /unknown link type 147/);
    });
    it("no NVMe/TCP on the port", async () => {
      await expectError(clean.file, /no NVMe\/TCP traffic on TCP port 4421/, "--port", "4421");
    });
    it("no ICReq/ICResp (capture started mid-connection)", async () => {
      await expectError(write("mid.pcap", writePcap(clean.frames.slice(2).map((data) => ({ data })))), /ICReq\/ICResp/);
    });
  });
});
