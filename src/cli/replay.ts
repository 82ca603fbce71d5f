// `ddpsim replay FILE.pcap`: arguments and help, then the replay (src/replay/), then its report as text or JSON.

import { type ReplayReport } from "../replay/report.js";
import { type ReplayOptions, replayCapture } from "../replay/replay.js";
import { BACKENDS } from "../stack/report.js";
import { EXIT_FAIL, EXIT_OK, parse, parseChoice, parseInteger, UsageError } from "./args.js";
import { rememberedCaps, rememberStats } from "./netlink-cmd.js";
import { formatEthtoolStats } from "./ynl.js";

export const REPLAY_HELP = `Usage: ddpsim replay FILE.pcap [--port 4420] [--backend rtl|model] [--json]

Replays the NVMe/TCP connections of a capture through the offload device (ddp_top in Verilator by default)
and the driver. The host's reads (CIDs, lengths) and digests are learned from the host-to-controller PDUs;
each I/O queue is offloaded at the first controller PDU boundary after its Connect response, each read's
buffer registered before its data; the controller-to-host frames go through the device in capture order.

Per read it prints: cid, length, bytes placed by the NIC, bytes copied by software, the data digest result
(hw-ok: the NIC verified it; sw-ok: software did; bad: it did not match; none: no data digest) and the SHA-256
of the buffer; then the ulp_ddp statistics and the invariants (the delivered stream equals the captured one,
every buffer holds the captured data, nothing written outside registered buffers, setup == teardown, counters
add up). The capture must hold each connection from its ICReq on (classic pcap, Ethernet).
Exits 1 if the capture cannot be used or an invariant failed.

Options:
  --port N             the controller's TCP port (default 4420)
  --page-size SIZE     pages of the read buffers = SGL entries (default 4096)
  --backend rtl|model  ddp_top in Verilator (default) or the reference model
  --json               print the report as one JSON object
  -h, --help           this text
`;


export function parseReplayArgs(args: readonly string[]): { options: ReplayOptions; json: boolean } | "help" {
  const { values, positionals } = parse(
    args,
    { port: { type: "string" }, backend: { type: "string" }, "page-size": { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    true,
  );
  if (values.help) return "help";
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "replay: which capture? (ddpsim replay FILE.pcap)" : `replay: one capture only, got ${positionals.length}`);
  return {
    options: {
      file: positionals[0]!,
      port: values.port === undefined ? 4420 : parseInteger("port", values.port, 1, 65535),
      backend: values.backend === undefined ? "rtl" : parseChoice("backend", values.backend, BACKENDS),
      pageSize: values["page-size"] === undefined ? 4096 : parseInteger("page-size", values["page-size"], 64, 1 << 24),
    },
    json: values.json ?? false,
  };
}

export function formatReplayReport(r: ReplayReport): string {
  const lines = [`replay ${r.file}: ${r.frames} frames, port ${r.port}, backend ${r.backend}`];
  r.connections.forEach((c, i) => {
    lines.push(
      `connection ${i}: host ${c.host} -> controller ${c.target}, qid ${c.qid ?? "?"}, hdgst ${c.hdgst ? "on" : "off"}, ddgst ${c.ddgst ? "on" : "off"}, ${c.offloaded ? "offloaded" : "not offloaded"}`,
    );
    const rows = r.reads.filter((x) => x.connection === i);
    if (rows.length === 0) return;
    lines.push(`  ${"cid".padEnd(8)}${"length".padStart(9)}${"placed".padStart(9)}${"copied".padStart(9)}  ${"digest".padEnd(7)} ${"done".padEnd(5)} sha256`);
    for (const x of rows) {
      lines.push(
        `  ${`0x${x.cid.toString(16).padStart(4, "0")}`.padEnd(8)}${String(x.length).padStart(9)}${String(x.placed).padStart(9)}${String(x.copied).padStart(9)}  ${x.digest.padEnd(7)} ${(x.completed ? "yes" : "no").padEnd(5)} ${x.sha256}`,
      );
    }
  });
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
