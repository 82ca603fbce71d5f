// Test helper: run tshark (the independent oracle) over a pcap and return one row of fields per frame.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Writes `pcap` to a temporary file and returns tshark's fields (one string per field, "" when absent) per frame. */
export function tsharkFields(pcap: Uint8Array, fields: readonly string[], extraArgs: readonly string[] = []): string[][] {
  const dir = mkdtempSync(join(tmpdir(), "net-tshark-"));
  try {
    const file = join(dir, "frames.pcap");
    writeFileSync(file, pcap);
    const args = ["-n", "-r", file, ...extraArgs, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"];
    for (const f of fields) args.push("-e", f);
    const run = spawnSync("tshark", args, { encoding: "utf8", maxBuffer: 64 << 20 });
    if (run.error) throw new Error(`tshark could not run (is it installed? 'make deps'): ${run.error.message}`);
    if (run.status !== 0) throw new Error(`tshark failed (${run.status}): ${run.stderr}`);
    return run.stdout
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => line.split("\t"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
