// Reading Verilator coverage data (.dat, "SystemC::Coverage-3") and summing it per RTL module and per
// functional cover point. Used by scripts/coverage.ts; tested by test/coverage/coverage.test.ts.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { z } from "zod";

/** One coverage point of a .dat line: its \x01key\x02value fields and its count. */
export const PointSchema = z.object({
  file: z.string().min(1),
  line: z.number().int().nonnegative(),
  page: z.string().regex(/^v_(line|branch|toggle|user|expr)\//),
  comment: z.string(),
  hier: z.string(),
  count: z.number().int().nonnegative(),
});
export type Point = z.infer<typeof PointSchema>;

export type Kind = "line" | "branch" | "toggle" | "user";

export function kindOf(p: Point): Kind | undefined {
  const k = p.page.slice(2, p.page.indexOf("/"));
  return k === "line" || k === "branch" || k === "toggle" || k === "user" ? k : undefined;
}

/** Parses a .dat file's text; throws on a line that is not a coverage point (the format changed). */
export function parseDat(text: string): Point[] {
  const lines = text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
  return lines.map((line) => {
    const m = /^C '(.*)' (\d+)$/.exec(line);
    if (m === null) throw new Error(`not a coverage point: ${line.slice(0, 120)}`);
    const fields = new Map(m[1]!.split("\x01").filter((f) => f !== "").map((f) => f.split("\x02") as [string, string]));
    return PointSchema.parse({
      file: fields.get("f"),
      line: Number(fields.get("l")),
      page: fields.get("page"),
      comment: fields.get("o") ?? "",
      hier: fields.get("h") ?? "",
      count: Number(m[2]),
    });
  });
}

export function readDat(path: string): Point[] {
  return parseDat(readFileSync(path, "latin1"));
}

/** A point's identity in its module's source, all instances together. */
function sourceKey(p: Point): string {
  return `${p.page}\x00${p.file}\x00${p.line}\x00${p.comment}`;
}

export interface ModuleRow {
  module: string;
  line: [hit: number, total: number];
  branch: [hit: number, total: number];
  toggle: [hit: number, total: number];
}

/**
 * Per RTL file (module): points hit by any instance over points. A point is identified by its source position
 * and comment, so a module instantiated twice counts once. Points of files outside `dir` (the cover points'
 * own modules) are left out; `waived` ("file:line") are dropped from line and branch.
 */
export function summarize(points: readonly Point[], waived: ReadonlySet<string> = new Set(), dir = "rtl/"): ModuleRow[] {
  const merged = new Map<string, { p: Point; count: number }>();
  for (const p of points) {
    if (!p.file.startsWith(dir)) continue;
    const k = sourceKey(p);
    const e = merged.get(k);
    if (e === undefined) merged.set(k, { p, count: p.count });
    else e.count += p.count;
  }
  const rows = new Map<string, ModuleRow>();
  for (const { p, count } of merged.values()) {
    const kind = kindOf(p);
    if (kind === undefined || kind === "user") continue;
    if (kind !== "toggle" && waived.has(`${p.file}:${p.line}`)) continue;
    const module = basename(p.file, ".sv");
    let row = rows.get(module);
    if (row === undefined) rows.set(module, (row = { module, line: [0, 0], branch: [0, 0], toggle: [0, 0] }));
    row[kind][1]++;
    if (count > 0) row[kind][0]++;
  }
  return [...rows.values()].sort((a, b) => a.module.localeCompare(b.module));
}

export interface CoverPoint {
  /** The point's name: its hierarchy below the bound cover module, e.g. `cmd_op[3].cp` -> `cmd_op[3]`. */
  name: string;
  count: number;
  /** The label (test file, or `soak`) of the first data set, in the order given, that hit it. */
  first: string | undefined;
}

/** The functional (user) cover points, summed over instances and data sets, with the first set that hit each. */
export function coverPoints(sets: readonly { label: string; points: readonly Point[] }[]): CoverPoint[] {
  const byName = new Map<string, CoverPoint>();
  for (const { label, points } of sets) {
    for (const p of points) {
      if (kindOf(p) !== "user") continue;
      const name = pointName(p);
      let cp = byName.get(name);
      if (cp === undefined) byName.set(name, (cp = { name, count: 0, first: undefined }));
      cp.count += p.count;
      if (p.count > 0 && cp.first === undefined) cp.first = label;
    }
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true }));
}

/** `<module>.<path below the cover instance>`: TOP.ddp_top.u_tracker.cover_i.lane[3].data_end -> ddp_tracker.lane[3].data_end. */
function pointName(p: Point): string {
  const module = p.page.slice(p.page.indexOf("/") + 1).replace(/_cover(__.*)?$/, "");
  const below = /\.cover_i\.(.*)$/.exec(p.hier)?.[1] ?? p.comment;
  return `${module}.${below.replace(/\.cp$/, "")}`;
}

export function pct([hit, total]: [number, number]): string {
  return total === 0 ? "-" : `${((100 * hit) / total).toFixed(1)} %`;
}
