// Shared by the ddpsim tests: running the CLI in-process with its output captured, and captures written by the
// target (openSession with `capture`) together with what the target and the host know about them.

import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/ddpsim.js";
import { writePcap } from "../../src/net/pcap.js";
import type { Lie } from "../../src/nvmet/controller.js";
import { patternBytes } from "../../src/nvmet/namespace.js";
import { openSession } from "../../src/stack/session.js";
import type { WireImpairments } from "../../src/nvmet/wire.js";

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export async function ddpsim(...argv: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join("\n"), err: err.join("\n") };
}

export const tmp = mkdtempSync(join(tmpdir(), "ddpsim-test-"));
// ddpsim's state (remembered caps, the last run's statistics) stays in this test's own directory.
process.env.DDPSIM_STATE_DIR = join(tmp, "state");

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** A read the test host issued: its CID (from the host's result) and the SHA-256 of the namespace bytes it covers. */
export interface CapturedRead {
  cid: number;
  length: number;
  sha256: string;
  status: number;
}

export interface TargetCapture {
  file: string;
  frames: Uint8Array[];
  reads: CapturedRead[];
  /** CIDs of the C2HData PDUs that carried a lie, from the target's `sent` log. */
  liedCids: number[];
  /** Wire events other than "pass" (the capture is lossy only if there are some). */
  impairments: number;
}

/** Reads of (slba, blocks) of 512-byte blocks. */
export const READS: [number, number][] = [
  [0, 8],
  [100, 16],
  [300, 64],
  [1000, 24],
];

/** Runs READS on a target-written capture (software receive path, so the capture does not depend on ddpsim). */
export async function targetCapture(name: string, seed: number, options: { impairments?: WireImpairments; lie?: Lie } = {}): Promise<TargetCapture> {
  const s = await openSession({ seed, hdgst: true, ddgst: true, capture: true, c2hDataSize: 2048, ...(options.impairments ? { impairments: options.impairments } : {}) });
  const io = s.io;
  if (options.lie) io.target.lie(options.lie);
  const results = await io.run(Promise.all(READS.map(([slba, n]) => io.host.read(1, slba, n))));
  const reads = results.map((r, i) => {
    const [slba, n] = READS[i]!;
    return { cid: r.cid, length: n * 512, sha256: sha256(patternBytes(1, slba * 512, n * 512)), status: r.status };
  });
  const frames = io.captured.map((f) => f.data);
  const file = join(tmp, `${name}.pcap`);
  writeFileSync(file, writePcap(frames.map((data) => ({ data }))));
  return {
    file,
    frames,
    reads,
    liedCids: io.target.sent.filter((p) => p.lie !== undefined).map((p) => p.cid!),
    impairments: io.wire?.log.filter((e) => e.action !== "pass").length ?? 0,
  };
}
