// The interop corpus (corpus.ts) against two oracles: Wireshark's NVMe/TCP dissector reads every capture as its
// peers meant it (PDU by PDU, digests good), and `ddpsim replay` returns every command's data byte for byte (the
// namespace pattern or the data the entry made up), lists the findings the entry documents and nothing else,
// holds every invariant, and has the NIC place data wherever its limits allow. Every capture is replayed on the
// reference model and once through the RTL (ddp_top in Verilator).

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseFrame } from "../../src/net/frame.js";
import { seqAdd } from "../../src/net/seq.js";
import { type ReplayReport } from "../../src/replay/report.js";
import { tsharkFields } from "../../src/util/tshark.js";
import { tmp } from "../cli/helpers.js";
import { type CapturedFrame, type PduRecord, sll2Frame, toCookedPcap, toPcap, toPcapng } from "./builder.js";
import { CORPUS, type CorpusEntry } from "./corpus.js";
import type { CaptureBuilder } from "./peers.js";
import { failedInvariants, replayBytes, rowsOf } from "./run.js";

function captureFile(entry: CorpusEntry, frames: readonly CapturedFrame[]): Uint8Array {
  switch (entry.format) {
    case "pcap":
      return toPcap(frames);
    case "pcapng":
      return toPcapng(frames);
    case "sll2":
      return toCookedPcap(frames, 276);
    case "sll2-pcapng":
      return toPcapng(frames, 276, sll2Frame);
  }
}

const built = new Map<string, { b: CaptureBuilder; bytes: Uint8Array }>();
function build(entry: CorpusEntry): { b: CaptureBuilder; bytes: Uint8Array } {
  let x = built.get(entry.name);
  if (!x) {
    const b = entry.build();
    x = { b, bytes: captureFile(entry, b.frames) };
    built.set(entry.name, x);
  }
  return x;
}

/** A PDU as the comparison sees it: direction, type, flags, hlen, pdo, plen. */
const shape = (p: Pick<PduRecord, "from" | "type" | "flags" | "hlen" | "pdo" | "plen">): string => `${p.from} ${p.type}/${p.flags}/${p.hlen}/${p.pdo}/${p.plen}`;

/** Every NVMe/TCP PDU tshark finds in the file, per TCP stream, in stream order; and every digest status it gives. */
async function tsharkView(entry: CorpusEntry, bytes: Uint8Array): Promise<{ streams: string[][]; digests: string[] }> {
  const file = join(tmp, `tshark-${entry.name}`);
  writeFileSync(file, bytes);
  const fields = ["tcp.stream", "tcp.dstport", "nvme-tcp.type", "nvme-tcp.flags", "nvme-tcp.hlen", "nvme-tcp.pdo", "nvme-tcp.plen", "nvme-tcp.hdgst.status", "nvme-tcp.ddgst.status"];
  const rows = await tsharkFields(
    { pcap: file, decodeAs: { [entry.port]: "nvme-tcp" }, prefs: { "nvme-tcp.check_hdgst": "TRUE", "nvme-tcp.check_ddgst": "TRUE" }, displayFilter: "nvme-tcp" },
    fields,
  );
  const streams: string[][] = [];
  const digests: string[] = [];
  for (const r of rows) {
    const stream = Number(r["tcp.stream"]![0]);
    const from = Number(r["tcp.dstport"]![0]) === entry.port ? "host" : "target";
    const n = r["nvme-tcp.type"]!.length;
    for (let i = 0; i < n; i++) {
      const at = (f: string): number => Number(r[f]![i]);
      (streams[stream] ??= []).push(shape({ from, type: at("nvme-tcp.type"), flags: at("nvme-tcp.flags"), hlen: at("nvme-tcp.hlen"), pdo: at("nvme-tcp.pdo"), plen: at("nvme-tcp.plen") }));
    }
    digests.push(...r["nvme-tcp.hdgst.status"]!, ...r["nvme-tcp.ddgst.status"]!);
  }
  return { streams, digests };
}

/** What every replay of an entry must show, whatever the back end. */
function expectReplay(entry: CorpusEntry, b: CaptureBuilder, code: number, err: string, report: ReplayReport): void {
  expect(code, err).toBe(0);
  expect(failedInvariants(report)).toEqual([]);
  expect(rowsOf(report, b.expected)).toEqual(b.expected);
  expect(report.reads.filter((r) => r.status !== "ok").map((r) => `0x${r.cid.toString(16)} ${r.status}`)).toEqual([]);
  expect(report.findings.map((f) => f.code).sort()).toEqual(entry.findings);
  expect(report.connections.every((c) => c.failed === null)).toBe(true);
  // Every byte is either placed by the NIC or copied by software; something is placed wherever DDP applies.
  for (const r of report.reads) expect(r.placed + r.copied, `0x${r.cid.toString(16)}`).toBe(r.kept);
  const placed = report.reads.reduce((n, r) => n + r.placed, 0);
  if (entry.placed) expect(placed).toBeGreaterThan(0);
  else expect(placed).toBe(0);
}

describe("interop corpus", () => {
  for (const entry of CORPUS) {
    describe(entry.name, () => {
      it("tshark's dissector sees each connection's PDUs as the peers meant them, every digest good", async () => {
        const { b, bytes } = build(entry);
        const { streams, digests } = await tsharkView(entry, bytes);
        expect(streams).toEqual(b.pdus.map((pdus) => pdus.map(shape)));
        expect(digests.filter((d) => d !== "1")).toEqual([]);
      });

      it("replays on the model: every command's data, the documented findings, invariants held", async () => {
        const { b, bytes } = build(entry);
        const { code, err, report } = await replayBytes(`${entry.name}.${entry.format.includes("pcapng") ? "pcapng" : "pcap"}`, bytes, "--port", String(entry.port));
        expectReplay(entry, b, code, err, report);
        expect(report.format).toBe(entry.format.includes("pcapng") ? "pcapng" : "pcap");
      });
    });
  }
});

describe("interop corpus through the RTL (ddp_top)", () => {
  for (const entry of CORPUS) {
    it(entry.name, async () => {
      const { b, bytes } = build(entry);
      const { code, err, report } = await replayBytes(`rtl-${entry.name}`, bytes, "--port", String(entry.port), "--backend", "rtl");
      expect(report.backend).toBe("rtl");
      expectReplay(entry, b, code, err, report);
    }, 300_000);
  }
});

describe("the corpus covers what replay must handle (issue 12)", () => {
  const all = CORPUS.map((e) => ({ e, ...build(e) }));
  const frames = all.flatMap(({ b }) => b.frames.map((f) => ({ f, p: parseFrame(f.data) })));

  it("reads up to 1 MiB, 64+ commands outstanding, MTU 576 to 9000, TCP timestamps on and off", () => {
    expect(Math.max(...all.flatMap(({ b }) => b.expected.map((x) => x.length)))).toBe(1 << 20);
    // Capsules a host had sent before the controller's first data on that connection.
    const outstanding = all.flatMap(({ b }) => b.pdus.map((pdus) => pdus.slice(0, pdus.findIndex((p) => p.type === 0x07) >>> 0).filter((p) => p.type === 0x04 && p.from === "host").length));
    expect(Math.max(...outstanding)).toBeGreaterThanOrEqual(64);
    const convs = all.flatMap(({ b }) => b.queues.map((q) => q.conv));
    expect([Math.min(...convs.map((c) => c.mtu)), Math.max(...convs.map((c) => c.mtu))]).toEqual([576, 9000]);
    expect(new Set(convs.map((c) => c.timestamps))).toEqual(new Set([true, false]));
  });

  it("a zero-window stall with probes, spurious retransmissions, PDU headers split across segments", () => {
    expect(frames.some(({ p }) => p.tcp!.window === 0)).toBe(true);
    const dataFrames = frames.filter(({ p }) => p.payload.length > 0);
    const seen = new Set<Uint8Array>();
    expect(dataFrames.some(({ f }) => (seen.has(f.data) ? true : (seen.add(f.data), false)))).toBe(true);
    // A C2HData header (up to its pdo) that a segment boundary cuts.
    const starts = new Set(frames.filter(({ f, p }) => f.from === "target" && p.payload.length > 0).map(({ p }) => p.tcp!.seq));
    const split = all.some(({ b }) => b.pdus.flat().some((p) => p.type === 0x07 && Array.from({ length: p.pdo - 1 }, (_, k) => seqAdd(p.seq!, k + 1)).some((s) => starts.has(s))));
    expect(split).toBe(true);
  });
});
