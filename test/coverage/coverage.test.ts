// The coverage tooling of `make coverage` itself: an instrumented harness writes data on each way it exits,
// verilator_coverage merges it, and the summary and cover-point readers make sense of it.
import { describe, test, expect, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildHarness, Harness } from "../../src/cosim/index.js";
import { coverPoints, parseDat, readDat, summarize } from "../../scripts/coverage/dat.js";

const dir = mkdtempSync(join(tmpdir(), "ddp-cov-"));
const env = { COVERAGE: "1", DDP_COVERAGE_DIR: dir };

async function spawnCovered(label: string): Promise<Harness> {
  process.env.COVERAGE = "1"; // buildHarness picks the instrumented variant from the environment
  try {
    return await Harness.spawn({ top: "tb_passthrough", env: { ...env, DDP_COVERAGE_LABEL: label } });
  } finally {
    delete process.env.COVERAGE;
  }
}

async function exited(h: Harness): Promise<void> {
  const pid = h.pid!;
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`harness ${pid} still running`);
}

const datOf = (label: string): string[] => readdirSync(dir).filter((f) => f.startsWith(`${label}-`) && f.endsWith(".dat"));

describe("coverage tooling", () => {
  beforeAll(async () => {
    process.env.COVERAGE = "1";
    try {
      expect(await buildHarness({ top: "tb_passthrough" })).toMatch(/build\/coverage\/tb_passthrough\//);
    } finally {
      delete process.env.COVERAGE;
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("the normal build stays uninstrumented", async () => {
    expect(await buildHarness({ top: "tb_passthrough" })).not.toMatch(/build\/coverage\//);
  });

  test("a harness that says bye and one that gets SIGTERM both write their data", async () => {
    const bye = await spawnCovered("bye");
    await bye.reset();
    await bye.step(100);
    await bye.close();
    const term = await spawnCovered("term");
    await term.step(10);
    process.kill(term.pid!, "SIGTERM");
    await exited(term);
    expect(datOf("bye")).toHaveLength(1);
    expect(datOf("term")).toHaveLength(1);
  });

  test("the data merges, and its summary has covered lines of the fixture", () => {
    const files = readdirSync(dir).filter((f) => f.endsWith(".dat")).map((f) => join(dir, f));
    expect(files.length).toBeGreaterThanOrEqual(2);
    const merged = join(dir, "merged.dat");
    const r = spawnSync("verilator_coverage", ["--write", merged, "--write-info", join(dir, "merged.info"), ...files], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const [row] = summarize(readDat(merged), new Set(), "tb/fixtures/");
    expect(row?.module).toBe("tb_passthrough");
    expect(row!.line[1]).toBeGreaterThan(0);
    expect(row!.line[0]).toBeGreaterThan(0);
    expect(row!.toggle[0]).toBeLessThanOrEqual(row!.toggle[1]);
    // The merge adds the counts of both runs.
    const sum = (ps: ReturnType<typeof readDat>) => ps.reduce((s, p) => s + p.count, 0);
    expect(sum(readDat(merged))).toBe(files.reduce((s, f) => s + sum(readDat(f)), 0));
  });

  test("cover points are summed over data sets and name the first set that hit them", () => {
    const point = (hier: string, count: number) =>
      `C '\x01f\x02tb/coverage/x.sv\x01l\x027\x01n\x021\x01page\x02v_user/ddp_tracker_cover\x01o\x02cp\x01h\x02TOP.t.u.cover_i.${hier}' ${count}`;
    const a = parseDat(`# SystemC::Coverage-3\n${point("lane[3].data_end", 0)}\n${point("rule4_data_gap", 2)}\n`);
    const b = parseDat(`${point("lane[3].data_end", 5)}\n${point("rule4_data_gap", 1)}\n`);
    expect(coverPoints([{ label: "a", points: a }, { label: "b", points: b }])).toEqual([
      { name: "ddp_tracker.lane[3].data_end", count: 5, first: "b" },
      { name: "ddp_tracker.rule4_data_gap", count: 3, first: "a" },
    ]);
    expect(() => parseDat("C 'broken\n")).toThrow(/not a coverage point/);
  });
});
