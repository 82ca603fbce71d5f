// ddpsim against the RTL (ddp_top in Verilator, the default back end): one short `run` and one `replay` of a
// target-written capture with a bad data digest.

import { describe, expect, it } from "vitest";
import { ReplayReportSchema } from "../../src/replay/report.js";
import { RunReportSchema } from "../../src/stack/report.js";
import { seedFromEnv } from "../../src/util/rng.js";
import { ddpsim, READS, targetCapture } from "./helpers.js";

const seed = seedFromEnv();
console.log(`rtl.test seed=${seed} (SEED=${seed} to reproduce)`);

describe("ddpsim on the RTL", () => {
  it("run: reads with data digests, all placed, cycles counted, throughput within the line rate", async () => {
    const ios = 12;
    const bs = 16 * 1024;
    const r = await ddpsim("run", "--ddgst", "--bs", "16k", "--ios", String(ios), "--iodepth", "4", "--seed", String(seed), "--clock-mhz", "250", "--json");
    expect(r.code, r.err || r.out).toBe(0);
    const rep = RunReportSchema.parse(JSON.parse(r.out));
    expect(rep.backend).toBe("rtl");
    expect(rep.io.bytesRead).toBe(ios * bs);
    expect(rep.offload.placedBytes).toBe(ios * bs);
    expect(rep.software.withOffload).toEqual({ bytesCopied: 0, bytesCrcd: 0 });
    expect(rep.software.withoutOffload).toEqual({ bytesCopied: ios * bs, bytesCrcd: ios * bs });
    const sim = rep.simulation;
    expect(sim.dataBits).toBe(64);
    expect(sim.lineGbps).toBe(16);
    // Every frame byte needs a beat lane, so no more than 8 frame bytes per cycle; cycles > 0.
    expect(sim.cycles!).toBeGreaterThan(0);
    expect(sim.frameBytesPerCycle!).toBeLessThanOrEqual(8);
    expect(sim.readGbps!).toBeCloseTo((sim.readBytesPerCycle! * 8 * 250) / 1000, 9);
    expect(rep.ok).toBe(true);
  }, 120_000);

  it("replay: the corrupted read is 'bad', the others checked by the NIC, buffers hold the namespace's bytes", async () => {
    const cap = await targetCapture("rtl-bad-ddgst", seed, { lie: "bad-ddgst" });
    const r = await ddpsim("replay", cap.file, "--json");
    expect(r.code, r.err || r.out).toBe(0);
    const rep = ReplayReportSchema.parse(JSON.parse(r.out));
    expect(rep.backend).toBe("rtl");
    expect(rep.reads.map((x) => [x.cid, x.sha256])).toEqual(cap.reads.map((x) => [x.cid, x.sha256]));
    for (const x of rep.reads) expect(x.digest).toBe(cap.liedCids.includes(x.cid) ? "bad" : "hw-ok");
    expect(rep.stats["rx-nvme-tcp-setup"]).toBe(READS.length);
    expect(rep.hardware.pdus_crc_bad).toBe(1);
    expect(rep.ok).toBe(true);
  }, 120_000);
});
