// ddpsim against the reference model: help and argument errors, `run` (JSON report against values computed here
// from the workload), `caps` and `stats` (the netlink family's shape and caps-set algebra), and that the run's
// invariants do fail when a device corrupts what it places.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CapsReplySchema, CapsSetOutputSchema, StatsReplySchema } from "../../src/driver/netlink.js";
import { ReplayReportSchema } from "../../src/replay/report.js";
import { sessionInvariants } from "../../src/stack/invariants.js";
import { RunReportSchema } from "../../src/stack/report.js";
import { runIo } from "../../src/stack/workload.js";
import { ModelDevice } from "../../src/device/index.js";
import { ULP_DDP_STAT_NAMES } from "../../src/contract/ulp-ddp.js";
import { HostMemory } from "../../src/contract/host-memory.js";
import { patternBytes } from "../../src/nvmet/namespace.js";
import { openSession } from "../../src/stack/session.js";
import { seedFromEnv } from "../../src/util/rng.js";
import { Progress } from "../../src/cli/args.js";
import { ddpsim, sha256, tmp } from "./helpers.js";

const seed = seedFromEnv();
console.log(`ddpsim.test seed=${seed} (SEED=${seed} to reproduce)`);

describe("help and usage errors", () => {
  it("prints help for every command", async () => {
    const top = await ddpsim("--help");
    expect(top.code).toBe(0);
    for (const c of ["run", "replay", "caps", "stats"]) expect(top.out).toContain(c);
    for (const [cmd, flag] of [
      ["run", "--rwmixread"],
      ["replay", "--port"],
      ["caps", "--wanted"],
      ["stats", "last 'ddpsim run'"],
    ] as const) {
      const r = await ddpsim(cmd, "--help");
      expect(r.code, cmd).toBe(0);
      expect(r.out, cmd).toContain(flag);
    }
  });

  it.each([
    [["run", "--bs", "100"], "multiple of the 512-byte block"],
    [["run", "--rw", "sideways"], "--rw"],
    [["run", "--loss", "2"], "--loss"],
    [["run", "--iodepth", "0"], "--iodepth"],
    [["run", "--size", "1m", "--ios", "3"], "not both"],
    [["run", "--frobnicate"], "frobnicate"],
    [["run", "--backend", "fpga"], "--backend"],
    [["run", "--backend", "model", "--waves", "x.fst"], "--waves: needs the rtl backend"],
    // Negative numbers reach the range check (util.parseArgs alone calls them "ambiguous").
    [["run", "--loss", "-1"], "--loss: '-1' must be a rate in 0..1"],
    [["run", "--iodepth", "-1"], "--iodepth: Too small"],
    [["run", "--seed", "-1"], "--seed: Too small"],
    [["run", "--clock-mhz", "-5"], "--clock-mhz: Too small"],
    [["run", "--rwmixread=-3"], "--rwmixread: Too small"],
    [["run", "--bs", "1g"], "--bs: bs x iodepth x queues x 2 must fit the 512 MiB namespace"],
    [["run", "--bs", "64m", "--queues", "4"], "--bs: bs x iodepth x queues x 2 must fit"],
    [["run", "--page-size", "3"], "--page-size: Too small"],
    [["run", "--size", "100000000000000"], "--size: 100000000000000 is 762939454 I/Os of 131072 bytes; Too big"],
    [["run", "--iodepth", "1.5"], "--iodepth: '1.5' is not an integer"],
    [["run", "--pcap", "/proc/nope/x.pcap"], "--pcap: cannot write '/proc/nope/x.pcap': no directory /proc/nope"],
    [["run", "--waves", "/tmp"], "--waves: cannot write '/tmp': it is a directory"],
    [["caps", "set", "--wanted", "tls"], "--wanted"],
    [["caps", "poke"], "unknown operation"],
    [["replay"], "which capture"],
    [["replay", "--port", "70000", "x.pcap"], "--port"],
    [["frobnicate"], "unknown command"],
    [[], "Usage"],
  ])("%j exits 2 with a clear error", async (argv, message) => {
    const r = await ddpsim(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
  });

  it("every problem of a command line is reported, one line each, before any work", async () => {
    // The RTL back end and a long run: were anything started before the checks, this would take minutes.
    const r = await ddpsim("run", "--ios", "100000", "--loss", "-1", "--bs", "1000", "--rw", "sideways", "--pcap", "/proc/nope/x.pcap", "--queues", "0");
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    const lines = r.err.split("\n");
    expect(lines.at(-1)).toBe("Try 'ddpsim run --help'.");
    const problems = lines.slice(0, -1);
    expect(problems.every((l) => l.startsWith("ddpsim: "))).toBe(true);
    for (const option of ["--loss", "--bs", "--rw", "--pcap", "--queues"]) expect(problems.filter((l) => l.startsWith(`ddpsim: ${option}:`)).length, option).toBeGreaterThanOrEqual(1);
  }, 10_000);

  it("the bin wrapper runs the CLI and passes the exit status", () => {
    const bin = fileURLToPath(new URL("../../bin/ddpsim.mjs", import.meta.url));
    const ok = spawnSync(process.execPath, [bin, "--help"], { encoding: "utf8" });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain("Usage: ddpsim");
    const bad = spawnSync(process.execPath, [bin, "run", "--rw", "sideways"], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--rw");
  }, 60_000);
});

describe("run (model)", () => {
  it("in-order reads with digests: everything placed and checked by the NIC, software does none of it", async () => {
    const bs = 32 * 1024;
    const ios = 16;
    const r = await ddpsim("run", "--backend", "model", "--hdgst", "--ddgst", "--bs", "32k", "--ios", String(ios), "--iodepth", "4", "--seed", String(seed), "--json");
    expect(r.code, r.err || r.out).toBe(0);
    const rep = RunReportSchema.parse(JSON.parse(r.out));
    expect(rep.seed).toBe(seed);
    expect(rep.io).toEqual({ reads: ios, readCommands: ios, writes: 0, writeCommands: 0, bytesRead: ios * bs, bytesWritten: 0, errors: 0 });
    // 32 KiB = 8 pages of 4 KiB: within the model's 128 device pages, so every read is set up and fully placed.
    expect(rep.workload.pageSize).toBe(4096);
    expect(rep.stats["rx-nvme-tcp-setup"]).toBe(ios);
    expect(rep.stats["rx-nvme-tcp-teardown"]).toBe(ios);
    expect(rep.stats["rx-nvme-tcp-sk-add"]).toBe(1);
    expect(rep.offload.placedBytes).toBe(ios * bs);
    expect(rep.offload.byteRatio).toBe(1);
    expect(rep.offload.packetRatio).toBe(1);
    expect(rep.software.baseline).toBe("measured");
    expect(rep.software.withOffload).toEqual({ bytesCopied: 0, bytesCrcd: 0 });
    expect(rep.software.withoutOffload).toEqual({ bytesCopied: ios * bs, bytesCrcd: ios * bs });
    expect(rep.simulation.cycles).toBeNull();
    expect(rep.invariants.length).toBeGreaterThanOrEqual(6);
    expect(rep.invariants.every((i) => i.ok)).toBe(true);
    expect(rep.ok).toBe(true);
  });

  it("128 KiB reads (32 device pages) are placed with the default 4 KiB pages; reads over 128 pages are split into commands of 128 pages, all placed", async () => {
    const run = async (...args: string[]) => {
      const r = await ddpsim("run", "--backend", "model", "--seed", String(seed), "--json", "--no-baseline", ...args);
      expect(r.code, r.err || r.out).toBe(0);
      return RunReportSchema.parse(JSON.parse(r.out));
    };
    const rep = await run("--ios", "4");
    expect(rep.workload.bs).toBe(128 * 1024);
    expect(rep.workload.pageSize).toBe(4096);
    expect(rep.stats["rx-nvme-tcp-setup"]).toBe(4);
    expect(rep.stats["rx-nvme-tcp-setup-fail"]).toBe(0);
    expect(rep.offload.placedBytes).toBe(4 * 128 * 1024);
    expect(rep.software.baseline).toBe("counted");
    expect(rep.software.withoutOffload.bytesCopied).toBe(4 * 128 * 1024);
    // The model's MAX_SGL: a buffer spans at most 128 pages of 4 KiB (512 KiB). The host caps its commands there
    // (Linux's max_hw_sectors), so one 512-byte block more is a second command of one block, and 1 MiB is two.
    for (const [bs, commands] of [
      [512 * 1024, 1],
      [512 * 1024 + 512, 2],
      [1024 * 1024, 2],
    ] as const) {
      const big = await run("--bs", String(bs), "--ios", "2", "--iodepth", "2");
      expect(big.io, `bs ${bs}`).toEqual({ reads: 2, readCommands: 2 * commands, writes: 0, writeCommands: 0, bytesRead: 2 * bs, bytesWritten: 0, errors: 0 });
      expect(big.stats["rx-nvme-tcp-setup"], `bs ${bs}`).toBe(2 * commands);
      expect(big.stats["rx-nvme-tcp-setup-fail"], `bs ${bs}`).toBe(0);
      expect(big.offload.placedBytes, `bs ${bs}`).toBe(2 * bs);
      expect(big.software.withOffload.bytesCopied, `bs ${bs}`).toBe(0);
      expect(big.ok, `bs ${bs}: ${big.invariants.filter((i) => !i.ok).map((i) => i.detail)}`).toBe(true);
    }
    const text = await ddpsim("run", "--backend", "model", "--seed", String(seed), "--no-baseline", "--bs", "1m", "--ios", "2", "--iodepth", "2");
    expect(text.out).toMatch(/I\/O\s+2 reads \(2\.00 MiB, as 4 commands\), 0 writes \(0\.00 MiB\)/);
  });

  it("randrw on two queues over a lossy, reordering wire: every invariant holds", async () => {
    const r = await ddpsim("run", "--backend", "model", "--rw", "randrw", "--rwmixread", "60", "--queues", "2", "--bs", "16k", "--ios", "40", "--ddgst", "--loss", "3%", "--reorder", "0.03", "--mss", "1000", "--seed", String(seed), "--json");
    expect(r.code, r.err || r.out).toBe(0);
    const rep = RunReportSchema.parse(JSON.parse(r.out));
    expect(rep.io.reads + rep.io.writes).toBe(40);
    expect(rep.io.bytesRead).toBe(rep.io.reads * 16384);
    expect(rep.invariants.map((i) => [i.name, i.ok])).toEqual(rep.invariants.map((i) => [i.name, true]));
    // Software copies what the NIC did not place, and the baseline copies everything.
    expect(rep.software.withOffload.bytesCopied).toBe(rep.io.bytesRead - (rep.software.withoutOffload.bytesCopied - rep.software.withOffload.bytesCopied));
    expect(rep.software.withoutOffload.bytesCopied).toBe(rep.io.bytesRead);
  });

  it("a documented limit is a figure, not a failure: small PDUs beyond MAX_SEGS per frame stay on the ring", async () => {
    // 256-byte PDUs: a 1460-byte frame carries about five, the device places at most MAX_SEGS (4) of them.
    const r = await ddpsim("run", "--backend", "model", "--size", "128k", "--pdu-size", "256", "--seed", "3", "--json", "--no-baseline");
    expect(r.code, r.err || r.out).toBe(0);
    const rep = RunReportSchema.parse(JSON.parse(r.out));
    expect(rep.ok).toBe(true);
    expect(rep.offload.segLimitedBytes).toBeGreaterThan(0);
    expect(rep.offload.placedBytes + rep.offload.segLimitedBytes).toBe(rep.io.bytesRead);
    expect(rep.software.withOffload.bytesCopied).toBe(rep.offload.segLimitedBytes);
    const text = await ddpsim("run", "--backend", "model", "--size", "128k", "--pdu-size", "256", "--seed", "3", "--no-baseline");
    expect(text.out).toMatch(/limits\s+\d+ data bytes stayed on the ring: their frames used all MAX_SEGS/);
  });

  it("text summary: throughput line, offload ratio, statistics by their netlink names, invariants", async () => {
    const r = await ddpsim("run", "--backend", "model", "--ios", "4", "--bs", "8k", "--seed", String(seed));
    expect(r.code).toBe(0);
    expect(r.out).toContain(`seed ${seed}`);
    expect(r.out).toMatch(/offload\s+bytes 100\.0 %/);
    for (const n of ULP_DDP_STAT_NAMES) expect(r.out).toMatch(new RegExp(`^\\s+${n}: \\d+$`, "m"));
    expect(r.out).toContain("all invariants held");
  });

  it("--pcap writes the I/O queue's capture, which replay reads back (sequential reads from offset 0)", async () => {
    const file = join(tmp, "run.pcap");
    const run = await ddpsim("run", "--backend", "model", "--ddgst", "--bs", "8k", "--ios", "4", "--iodepth", "1", "--seed", String(seed), "--pcap", file, "--json");
    expect(run.code).toBe(0);
    const r = await ddpsim("replay", file, "--backend", "model", "--json");
    expect(r.code, r.err).toBe(0);
    const rep = ReplayReportSchema.parse(JSON.parse(r.out));
    // fio's sequential read: I/O k covers bytes [k * bs, (k + 1) * bs) of the namespace.
    expect(rep.reads.map((x) => x.sha256)).toEqual([0, 1, 2, 3].map((k) => sha256(patternBytes(1, k * 8192, 8192))));
    expect(rep.reads.map((x) => x.digest)).toEqual(["hw-ok", "hw-ok", "hw-ok", "hw-ok"]);
  });

  it("the invariants fail when the device's DMA carries wrong bytes", async () => {
    const memory = new HostMemory();
    // Every DMA write lands with its first byte flipped.
    const apply = memory.apply.bind(memory);
    let writes = 0;
    memory.apply = (w) => {
      writes++;
      apply({ ...w, data: w.data.map((b, i) => (i === 0 ? b ^ 0xff : b)) });
    };
    const s = await openSession({ seed, hdgst: false, ddgst: false, queueDepth: 4, nic: { device: new ModelDevice(memory) } });
    const io = await runIo(s, { seed, rw: "read", rwmixread: 100, bs: 4096, iodepth: 4, ios: 8 });
    expect(writes).toBeGreaterThan(0);
    const failed = (await sessionInvariants(s, io)).filter((i) => !i.ok).map((i) => i.name);
    expect(failed).toEqual(["reads return the namespace's bytes", "wire stream intact"]);
  });
});

describe("caps and stats (model)", () => {
  /** A fresh state directory: no remembered caps, no last run. */
  const freshState = (): void => {
    process.env.DDPSIM_STATE_DIR = mkdtempSync(join(tmp, "state-"));
  };

  it("caps get: the three caps (the transmit block attached) in hw and active", async () => {
    freshState();
    const r = await ddpsim("caps", "get", "--json");
    expect(r.code).toBe(0);
    const all = ["nvme-tcp", "nvme-tcp-ddgst-rx", "nvme-tcp-ddgst-tx"];
    expect(CapsReplySchema.parse(JSON.parse(r.out))).toEqual({ ifindex: 1, hw: all, active: all });
    const text = await ddpsim("caps", "get");
    expect(text.out).toBe("{'active': {'nvme-tcp', 'nvme-tcp-ddgst-rx', 'nvme-tcp-ddgst-tx'},\n 'hw': {'nvme-tcp', 'nvme-tcp-ddgst-rx', 'nvme-tcp-ddgst-tx'},\n 'ifindex': 1}");
  });

  it("caps set: new = ((active & ~mask) | (wanted & mask)) & hw, notification only on change", async () => {
    const cases: [string[], string[], boolean][] = [
      [["--wanted", "nvme-tcp"], ["nvme-tcp"], true],
      [["--wanted", "nvme-tcp,nvme-tcp-ddgst-rx,nvme-tcp-ddgst-tx"], ["nvme-tcp", "nvme-tcp-ddgst-rx", "nvme-tcp-ddgst-tx"], false],
      [["--wanted", "", "--mask", "nvme-tcp-ddgst-rx"], ["nvme-tcp", "nvme-tcp-ddgst-tx"], true],
      [["--wanted", "", "--mask", "nvme-tcp-ddgst-tx"], ["nvme-tcp", "nvme-tcp-ddgst-rx"], true],
      [["--wanted", "nvme-tcp-ddgst-rx", "--mask", "nvme-tcp"], ["nvme-tcp-ddgst-rx", "nvme-tcp-ddgst-tx"], true],
      [["--wanted", "nvme-tcp", "--mask", ""], ["nvme-tcp", "nvme-tcp-ddgst-rx", "nvme-tcp-ddgst-tx"], false],
    ];
    for (const [args, active, ntf] of cases) {
      freshState();
      const r = await ddpsim("caps", "set", ...args, "--json");
      expect(r.code, args.join(" ")).toBe(0);
      const o = CapsSetOutputSchema.parse(JSON.parse(r.out));
      expect(o.reply.active, args.join(" ")).toEqual(active);
      expect(o.ntf !== null, args.join(" ")).toBe(ntf);
    }
  });

  it("caps set is remembered: caps get shows it, and the next run has the NIC leave data digests to software", async () => {
    freshState();
    expect((await ddpsim("caps", "set", "--wanted", "", "--mask", "nvme-tcp-ddgst-rx")).code).toBe(0);
    const get = CapsReplySchema.parse(JSON.parse((await ddpsim("caps", "get", "--json")).out));
    expect(get.active).toEqual(["nvme-tcp", "nvme-tcp-ddgst-tx"]);
    // Setting the same again changes nothing: no notification.
    const again = CapsSetOutputSchema.parse(JSON.parse((await ddpsim("caps", "set", "--wanted", "", "--mask", "nvme-tcp-ddgst-rx", "--json")).out));
    expect(again.ntf).toBeNull();
    const run = RunReportSchema.parse(JSON.parse((await ddpsim("run", "--backend", "model", "--ddgst", "--bs", "8k", "--ios", "4", "--seed", String(seed), "--json", "--no-baseline")).out));
    expect(run.offload.byteRatio).toBe(1);
    expect(run.software.withOffload.bytesCrcd).toBe(run.io.bytesRead);
    expect(run.ok).toBe(true);
  });

  it("stats: the device of the last run, printed as ynl does; before any run, a clear error", async () => {
    freshState();
    const none = await ddpsim("stats");
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/^ddpsim: no statistics yet: .*ddpsim run/);
    const run = RunReportSchema.parse(JSON.parse((await ddpsim("run", "--backend", "model", "--bs", "8k", "--ios", "6", "--seed", String(seed), "--json", "--no-baseline")).out));
    const r = await ddpsim("stats", "--json");
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as { source: { command: string; what: string }; hardware: Record<string, number> };
    const reply = StatsReplySchema.parse(json);
    expect(Object.keys(reply).sort()).toEqual(["ifindex", ...ULP_DDP_STAT_NAMES].sort());
    for (const n of ULP_DDP_STAT_NAMES) expect(reply[n], n).toBe(run.stats[n]);
    expect(reply["rx-nvme-tcp-setup"]).toBe(6);
    expect(json.source).toMatchObject({ command: "run", what: `seed ${seed}` });
    expect(json.hardware).toEqual(run.hardware);
    const text = await ddpsim("stats");
    const lines = text.out.split("\n");
    expect(lines[0]).toContain("last ddpsim run");
    expect(lines[1]).toBe("{'ifindex': 1,");
    expect(lines.slice(2, 2 + ULP_DDP_STAT_NAMES.length).map((l) => l.trim().split(":")[0])).toEqual([...ULP_DDP_STAT_NAMES].sort().map((n) => `'${n}'`));
    expect(text.out).toContain("NIC statistics:");
  });

  it("a malformed state file is a one-line error", async () => {
    freshState();
    writeFileSync(join(process.env.DDPSIM_STATE_DIR!, "state.json"), "{not json");
    const r = await ddpsim("stats");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^ddpsim: the state file .* is not JSON/);
    expect(r.err.split("\n")).toHaveLength(1);
  });
});

describe("progress lines", () => {
  /** A non-terminal stream that records what it is given. */
  function recorder(): { stream: NodeJS.WriteStream; lines: string[] } {
    const lines: string[] = [];
    const stream = { isTTY: false, write: (s: string) => (lines.push(s), true) } as unknown as NodeJS.WriteStream;
    return { stream, lines };
  }

  it("are rate-limited and none follows done() (a failed run's winding-down queues printed below the error)", () => {
    const { stream, lines } = recorder();
    const progress = new Progress(stream, 1000);
    progress.update("a", 5000);
    progress.update("b", 5500);
    progress.update("c", 6000);
    progress.done();
    progress.update("d", 9000);
    expect(lines).toEqual(["a\n", "c\n"]);
  });
});
