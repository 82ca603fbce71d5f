// `ddpsim replay FILE`: arguments and help, then the replay (src/replay/), then its report as text or JSON.

import { type ReplayReport } from "../replay/report.js";
import { DEFAULT_LBA_SIZE, type ReplayOptions, replayCapture } from "../replay/replay.js";
import { BACKENDS } from "../stack/report.js";
import { EXIT_FAIL, EXIT_OK, parse, parseChoice, parseInteger, parseSize, UsageError } from "./args.js";
import { rememberedCaps, rememberStats } from "./netlink-cmd.js";
import { formatEthtoolStats } from "./ynl.js";

export const REPLAY_HELP = `Usage: ddpsim replay FILE [--port 4420] [--backend rtl|model] [--page-size SIZE] [--lba-size N] [--json]

Replays the NVMe/TCP connections of a capture through the offload device (ddp_top in Verilator by default)
and the driver, and answers whether the offload behaved. FILE is a pcap or pcapng (what tcpdump, dumpcap and
Wireshark write), of Ethernet, Linux cooked (SLL / SLL2: tcpdump -i any) or raw IP frames; each connection
must be captured from its ICReq on.

The host's commands and digests are learned from the host-to-controller PDUs; every command that moves data
to the host (Read, Identify, Get Log Page, ...) gets a buffer, and on an I/O queue at or above io_threshold
it is set up for DDP as Linux would; each I/O queue is offloaded after its Connect response. Every other frame
goes through the device in capture order, malformed ones included. A Read's length comes from its SGL or, when
the SGL gives none, from NLB x the LBA size of an Identify Namespace in the capture (else --lba-size).

Per command it prints: cid, command, length, bytes placed by the NIC, bytes copied by software, the data digest
result (hw-ok: the NIC verified it; sw-ok: software did; bad: it did not match; none: no data digest), its
status (ok, error, failed: a protocol error failed the queue, outstanding: the capture ended first) and the
SHA-256 of the buffer; then the findings (what the capture, the captured host or the controller got wrong,
each with its frame number: a controller's protocol error fails the queue as in Linux, and the replay carries
on from the next PDU), the ulp_ddp statistics and the invariants (the delivered stream equals the captured one,
every buffer holds the captured data, nothing written outside registered buffers, setup == teardown, counters
add up).
Exits 1 if the capture cannot be used or an invariant failed; findings alone never fail a replay.

Options:
  --port N             the controller's TCP port (default 4420; discovery controllers listen on 8009)
  --page-size SIZE     bytes per segment of the read buffers, each on a 4 KiB page (default 4096, as ddpsim
                       run). The driver maps a buffer in the device's pages: a read is offloaded when its segments
                       are a multiple of the page (the last may be shorter) and it spans at most max_ddp_sgl_len
                       pages; software copies the others (Linux would issue no longer read on an offloaded queue)
  --lba-size N         logical block size of namespaces the capture does not identify (default ${DEFAULT_LBA_SIZE})
  --backend rtl|model  ddp_top in Verilator (default) or the reference model
  --json               print the report as one JSON object
  -h, --help           this text
`;

export function parseReplayArgs(args: readonly string[]): { options: ReplayOptions; json: boolean } | "help" {
  const { values, positionals } = parse(
    args,
    { port: { type: "string" }, backend: { type: "string" }, "page-size": { type: "string" }, "lba-size": { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    true,
  );
  if (values.help) return "help";
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "replay: which capture? (ddpsim replay FILE.pcap)" : `replay: one capture only, got ${positionals.length}`);
  const pageSize = values["page-size"] === undefined ? undefined : parseSize("page-size", values["page-size"]);
  if (pageSize !== undefined && (pageSize < 64 || pageSize > 1 << 24)) throw new UsageError(`--page-size: '${values["page-size"]}' must be 64..16m`);
  const lbaSize = values["lba-size"] === undefined ? undefined : parseInteger("lba-size", values["lba-size"], 512, 1 << 20);
  if (lbaSize !== undefined && (lbaSize & (lbaSize - 1)) !== 0) throw new UsageError(`--lba-size: '${values["lba-size"]}' must be a power of two`);
  return {
    options: {
      file: positionals[0]!,
      port: values.port === undefined ? 4420 : parseInteger("port", values.port, 1, 65535),
      backend: values.backend === undefined ? "rtl" : parseChoice("backend", values.backend, BACKENDS),
      ...(pageSize !== undefined ? { pageSize } : {}),
      ...(lbaSize !== undefined ? { lbaSize } : {}),
    },
    json: values.json ?? false,
  };
}

export function formatReplayReport(r: ReplayReport): string {
  const p = r.pages;
  const lines = [
    `replay ${r.file}: ${r.format}, ${r.frames} frames (${r.deviceFrames} through the device), port ${r.port}, backend ${r.backend}; read buffers in ${p.pageSize}-byte segments, ` +
      `set up when they keep the page rules within ${p.maxSgl} device pages of ${p.devicePage} bytes (reads up to ${p.maxSgl * p.devicePage} bytes), else copied by software`,
  ];
  r.connections.forEach((c, i) => {
    lines.push(
      `connection ${i}: host ${c.host} -> controller ${c.target}, qid ${c.qid ?? "?"}, hdgst ${c.hdgst ? "on" : "off"}, ddgst ${c.ddgst ? "on" : "off"}, ${c.offloaded ? "offloaded" : "not offloaded"}${c.failed ? `, failed: ${c.failed}` : ""}`,
    );
    const rows = r.reads.filter((x) => x.connection === i);
    if (rows.length === 0) return;
    lines.push(`  ${"cid".padEnd(8)}${"command".padEnd(14)}${"length".padStart(9)}${"placed".padStart(9)}${"copied".padStart(9)}  ${"digest".padEnd(7)} ${"status".padEnd(12)} sha256`);
    for (const x of rows) {
      lines.push(
        `  ${`0x${x.cid.toString(16).padStart(4, "0")}`.padEnd(8)}${x.command.padEnd(14)}${String(x.length).padStart(9)}${String(x.placed).padStart(9)}${String(x.copied).padStart(9)}  ${x.digest.padEnd(7)} ${x.status.padEnd(12)} ${x.sha256}`,
      );
    }
  });
  lines.push("", r.findings.length === 0 ? "findings: none" : `findings (${r.findings.length}):`);
  for (const f of r.findings) lines.push(`  frame ${f.frame ?? "?"}${f.connection === null ? "" : `, connection ${f.connection}`}: ${f.source} ${f.code}: ${f.what}`);
  lines.push("", formatEthtoolStats({ ...Object.fromEntries(Object.entries(r.stats).filter(([k]) => k !== "ifindex")), ...r.hardware }), "", "invariants:");
  lines.push(...r.invariants.map((i) => `  [${i.ok ? "ok" : "FAIL"}] ${i.name}: ${i.detail}`));
  lines.push(r.ok ? "all invariants held" : `${r.invariants.filter((i) => !i.ok).length} invariant(s) FAILED`);
  return lines.join("\n");
}

export async function replayCommand(args: readonly string[], out: (s: string) => void): Promise<number> {
  const a = parseReplayArgs(args);
  if (a === "help") {
    out(REPLAY_HELP);
    return EXIT_OK;
  }
  const caps = rememberedCaps();
  const report = await replayCapture({ ...a.options, ...(caps !== undefined ? { caps } : {}) });
  rememberStats("replay", report.backend, a.options.file, report.stats, report.hardware);
  out(a.json ? JSON.stringify(report) : formatReplayReport(report));
  return report.ok ? EXIT_OK : EXIT_FAIL;
}
