// Synthesize every rtl/ module with the pinned Yosys (@yowasp/yosys, WebAssembly) and report size and depth.
//
//   node scripts/synth.mjs [module ...]     (default: every rtl/*.sv except packages)
//
// Generic flow, no vendor library: `synth -flatten` maps to Yosys' internal gates ($_AND_, $_XOR_, $_MUX_,
// flip-flops ...) with memories kept as RAM cells (reported as RAM bits); `ltp -noff` gives the longest
// combinational path in gates. A second mapping to 6-input
// LUTs (`abc -lut 6`) gives numbers closer to an FPGA. Parameterized modules use their defaults unless
// synthModule() is given parameters. Exits non-zero if any module fails.

import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, basename } from "node:path";
import { fileURLToPath } from "node:url";
import { runYosys } from "@yowasp/yosys";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const rtlDir = join(root, "rtl");

/** Every module in rtl/ (file name == module name), packages excluded. */
export function rtlModules() {
  return readdirSync(rtlDir)
    .filter((f) => f.endsWith(".sv") && !f.endsWith("_pkg.sv"))
    .map((f) => basename(f, ".sv"))
    .sort();
}

/** All rtl/ sources as a Yosys virtual file tree under rtl/, and the package files (read first). */
function rtlSources() {
  const names = readdirSync(rtlDir).filter((f) => f.endsWith(".sv"));
  const tree = {};
  for (const n of names) tree[n] = readFileSync(join(rtlDir, n), "utf8");
  const packages = names.filter((n) => n.endsWith("_pkg.sv")).map((n) => `rtl/${n}`);
  return { rtl: tree, packages };
}

/** Cells of the flattened design: every cell, or only those of one type (e.g. "$lut"). */
function cellsOf(statJson, type) {
  const design = JSON.parse(statJson).design;
  return type === undefined ? design.num_cells : (design.num_cells_by_type[type] ?? 0);
}

/** Bits held in RAM cells (memories not mapped to flip-flops), from `dump` of the $mem_v2 cells. */
function memoryBitsOf(dumpText) {
  let bits = 0;
  for (const cell of dumpText.split(/\n\s*cell /).slice(1)) {
    const width = /parameter \\WIDTH (\d+)/.exec(cell);
    const size = /parameter \\SIZE (\d+)/.exec(cell);
    if (width && size) bits += Number(width[1]) * Number(size[1]);
  }
  return bits;
}

function depthOf(ltpText) {
  const m = /length=(\d+)/.exec(ltpText);
  if (!m) throw new Error(`no 'length=' in ltp output:\n${ltpText}`);
  return Number(m[1]);
}

/**
 * Synthesize one module. params: overrides of its parameters, e.g. { DATA_W: 256 }.
 * Returns { module, params, cells, ramBits, depth, luts, lutDepth, seconds }: cells / depth in generic gates
 * (flip-flops count as cells, not as depth), luts / lutDepth: LUTs (flip-flops not counted) and LUT levels
 * after mapping to 6-input LUTs.
 */
export async function synthModule(module, params = {}) {
  const { rtl, packages } = rtlSources();
  const chparams = Object.entries(params).map(([k, v]) => `chparam -set ${k} ${v} ${module}`);
  // Only the top's file is read; `hierarchy -libdir` loads the modules it instantiates (file name == module).
  const script = [
    `read_verilog -sv ${[...packages, `rtl/${module}.sv`].join(" ")}`,
    ...chparams,
    `hierarchy -libdir rtl -top ${module}`,
    // Yosys' own `synth` up to its fine step, then the rest of it without `memory_map`: memories stay RAM
    // blocks (as on an FPGA or with an SRAM macro) instead of becoming thousands of flip-flops.
    "synth -flatten -run begin:fine",
    "opt -fast -full; opt -full; techmap; opt -fast; abc -fast; opt -fast",
    "tee -q -o gates.json stat -json",
    "tee -q -o mems.txt dump t:$mem_v2",
    "tee -q -o gates.ltp ltp -noff",
    "abc -lut 6",
    "opt_clean",
    "tee -q -o luts.json stat -json",
    "tee -q -o luts.ltp ltp -noff",
  ].join("; ");
  let log = "";
  const collect = (bytes) => {
    if (bytes) log += new TextDecoder().decode(bytes);
  };
  const started = performance.now();
  let out;
  try {
    out = await runYosys(["-q", "-p", script], { rtl }, { stdout: collect, stderr: collect });
  } catch (err) {
    throw new Error(`yosys failed on ${module}: ${err instanceof Error ? err.message : String(err)}\n${log}`);
  }
  return {
    module,
    params,
    cells: cellsOf(out["gates.json"]),
    ramBits: memoryBitsOf(out["mems.txt"] ?? ""),
    depth: depthOf(out["gates.ltp"]),
    luts: cellsOf(out["luts.json"], "$lut"),
    lutDepth: depthOf(out["luts.ltp"]),
    seconds: (performance.now() - started) / 1000,
  };
}

/** The results as an aligned text table (failed modules: a result with `error` set). */
export function synthTable(results) {
  const rows = [["module", "cells", "RAM bits", "depth", "LUT6", "LUT6 depth", "seconds"]];
  for (const r of results) {
    const params = Object.entries(r.params ?? {}).map(([k, v]) => `${k}=${v}`).join(" ");
    const label = params ? `${r.module} (${params})` : r.module;
    rows.push(r.error ? [label, "FAIL", "", "", "", "", ""] : [label, r.cells, r.ramBits, r.depth, r.luts, r.lutDepth, r.seconds.toFixed(1)].map(String));
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  "));
  lines.push("cells, depth: generic gates (depth = gates on the longest path between flip-flops / ports)");
  return lines.join("\n");
}

async function main() {
  const wanted = process.argv.slice(2);
  const modules = wanted.length > 0 ? wanted : rtlModules();
  const results = [];
  for (const m of modules) {
    try {
      results.push(await synthModule(m));
    } catch (err) {
      console.error(err instanceof Error ? err.message : String(err));
      results.push({ module: m, error: true });
    }
  }
  console.log(synthTable(results));
  process.exitCode = results.some((r) => r.error) ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
