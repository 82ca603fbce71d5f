// Running `ddpsim replay` on a built capture, for the interop tests.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ReplayReport, ReplayReportSchema } from "../../src/replay/report.js";
import { ddpsim, tmp } from "../cli/helpers.js";
import type { ExpectedData } from "./peers.js";

export interface Replayed {
  code: number;
  err: string;
  report: ReplayReport;
}

/** Writes `bytes` to a file named `name` and replays it (--json, model back end unless `extra` says otherwise). */
export async function replayBytes(name: string, bytes: Uint8Array, ...extra: string[]): Promise<Replayed> {
  const file = join(tmp, name);
  writeFileSync(file, bytes);
  const args = ["replay", file, "--json", ...(extra.includes("--backend") ? [] : ["--backend", "model"]), ...extra];
  const r = await ddpsim(...args);
  if (r.out === "") throw new Error(`ddpsim ${args.join(" ")} exited ${r.code}: ${r.err}`);
  return { code: r.code, err: r.err, report: ReplayReportSchema.parse(JSON.parse(r.out)) };
}

/**
 * The report's row of each expected command (a CID used again is matched in order), as connection, CID, the
 * bytes its buffer kept and their SHA-256: what the test compares with what the builder meant.
 */
export function rowsOf(report: ReplayReport, expected: readonly ExpectedData[]): ExpectedData[] {
  const used = new Set<number>();
  return expected.map((e) => {
    const i = report.reads.findIndex((r, k) => !used.has(k) && r.connection === e.connection && r.cid === e.cid);
    if (i < 0) return { ...e, length: -1, sha256: "(no such command in the report)" };
    used.add(i);
    const row = report.reads[i]!;
    return { connection: row.connection, cid: row.cid, length: row.kept, sha256: row.sha256 };
  });
}

/** Invariants that failed, as "name: detail". */
export function failedInvariants(report: ReplayReport): string[] {
  return report.invariants.filter((i) => !i.ok).map((i) => `${i.name}: ${i.detail}`);
}
