// `make coverage`: the RTL regression (test/rtl, test/e2e; with SOAK=1 also a soak) on coverage-instrumented
// harness builds, the data merged with verilator_coverage, a per-module table and the functional cover points on
// the terminal, an HTML report by genhtml. Usage: tsx scripts/coverage.ts [--soak FRAMES] [--tests PATH...]
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../src/cosim/index.js";
import { coverPoints, pct, readDat, summarize } from "./coverage/dat.js";

const OUT = join(REPO_ROOT, "build/coverage");
const DAT_DIR = join(OUT, "dat");
const WAIVERS = join(REPO_ROOT, "docs/coverage-waivers.md");

const args = process.argv.slice(2);
const soakAt = args.indexOf("--soak");
const soakFrames = soakAt >= 0 ? Number(args[soakAt + 1]) : 0;
const testsAt = args.indexOf("--tests");
// --tests takes the paths up to the next option.
const testArgs = testsAt >= 0 ? args.slice(testsAt + 1) : [];
const testEnd = testArgs.findIndex((a) => a.startsWith("--"));
const tests = testsAt >= 0 ? testArgs.slice(0, testEnd < 0 ? undefined : testEnd) : ["test/rtl", "test/e2e"];
if (!Number.isInteger(soakFrames) || soakFrames < 0) {
  console.error("coverage: --soak needs a whole number of frames");
  process.exit(2);
}

function run(cmd: string, cmdArgs: string[], env: Record<string, string> = {}): number {
  const r = spawnSync(cmd, cmdArgs, { cwd: REPO_ROOT, stdio: "inherit", env: { ...process.env, ...env } });
  return r.status ?? 1;
}

const started = Date.now();
rmSync(DAT_DIR, { recursive: true, force: true });
mkdirSync(DAT_DIR, { recursive: true });
const env = { COVERAGE: "1", DDP_COVERAGE_DIR: DAT_DIR };
// A failing test does not stop the report: coverage of a red run is still worth seeing, and the status says it.
const testStatus = run("npx", ["--no-install", "vitest", "run", "--config", "scripts/coverage/vitest.config.ts", ...tests], env);
let soakStatus = 0;
if (soakFrames > 0) {
  soakStatus = run("npx", ["--no-install", "tsx", "scripts/soak.ts", `--frames=${soakFrames}`], { ...env, DDP_COVERAGE_LABEL: "soak" });
}

const files = readdirSync(DAT_DIR).filter((f) => f.endsWith(".dat")).sort();
if (files.length === 0) {
  console.error("coverage: no coverage data was written (did any harness start?)");
  process.exit(1);
}
// Labels are <test file>-<pid>: the soak's sets last, so "first hit" names the CI suite when it hit a point.
const sets = files
  .map((f) => ({ label: f.replace(/-\d+\.dat$/, ""), points: readDat(join(DAT_DIR, f)) }))
  .sort((a, b) => Number(a.label === "soak") - Number(b.label === "soak") || a.label.localeCompare(b.label));

const merged = join(OUT, "merged.dat");
const info = join(OUT, "merged.info");
if (run("verilator_coverage", ["--write", merged, "--write-info", info, ...files.map((f) => join(DAT_DIR, f))]) !== 0) process.exit(1);

// Waived lines: `rtl/<file>.sv:<line>` in the first column of the waiver file's tables.
const waived = new Set<string>();
if (existsSync(WAIVERS)) for (const m of readFileSync(WAIVERS, "utf8").matchAll(/^\| `(rtl\/[\w.]+\.sv):(\d+)`/gm)) waived.add(`${m[1]}:${m[2]}`);

const rows = summarize(readDat(merged), waived);
const all = (k: "line" | "branch" | "toggle"): [number, number] => rows.reduce<[number, number]>((s, r) => [s[0] + r[k][0], s[1] + r[k][1]], [0, 0]);
const lines: string[] = [];
lines.push("| module | line | branch | toggle |", "| --- | ---: | ---: | ---: |");
for (const r of rows) lines.push(`| ${r.module} | ${pct(r.line)} | ${pct(r.branch)} | ${pct(r.toggle)} |`);
lines.push(`| **rtl/** | ${pct(all("line"))} | ${pct(all("branch"))} | ${pct(all("toggle"))} |`);

const points = coverPoints(sets);
const suitePoints = coverPoints(sets.filter((s) => s.label !== "soak"));
const hit = points.filter((p) => p.count > 0);
lines.push("", `functional cover points: ${hit.length} of ${points.length} hit`, "", "| point | hits | first hit by |", "| --- | ---: | --- |");
for (const p of points) lines.push(`| ${p.name} | ${p.count} | ${p.first ?? "**not hit**"} |`);
if (soakFrames > 0) {
  const before = new Set(suitePoints.filter((p) => p.count > 0).map((p) => p.name));
  const added = hit.filter((p) => !before.has(p.name)).map((p) => p.name);
  lines.push("", `the ${soakFrames}-frame soak hit ${added.length} point(s) the suite did not${added.length > 0 ? `: ${added.join(", ")}` : ""}`);
}

const html = join(OUT, "html");
rmSync(html, { recursive: true, force: true });
const genStatus = run("genhtml", ["--quiet", "--branch-coverage", "--prefix", REPO_ROOT, "--output-directory", html, info]);
writeFileSync(join(OUT, "report.md"), lines.join("\n") + "\n");
console.log("\n" + lines.join("\n"));
console.log(`\ncoverage data: ${files.length} files in ${DAT_DIR}; merged: ${merged}`);
console.log(`report: ${join(OUT, "report.md")}`);
if (genStatus === 0) console.log(`HTML report: ${join(html, "index.html")}`);
console.log(`wall time: ${((Date.now() - started) / 60_000).toFixed(1)} min`);
process.exit(testStatus !== 0 || soakStatus !== 0 || genStatus !== 0 ? 1 : 0);
