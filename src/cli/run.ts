// `ddpsim run`: arguments and help, then the whole-stack job (src/stack/run.ts), then its report as text or JSON.

import { seedFromEnv } from "../util/rng.js";
import { type RunOptions, RUN_DEFAULTS, RunOptionsSchema, runStack } from "../stack/run.js";
import type { RunReport } from "../stack/report.js";
import { BACKENDS } from "../stack/report.js";
import { RW_MODES, type RwMode } from "../stack/workload.js";
import { EXIT_FAIL, EXIT_OK, outputFileProblem, parse, parseChoice, parseNumber, parseRate, parseSize, Problems, Progress } from "./args.js";
import { rememberedCaps, rememberStats } from "./netlink-cmd.js";
import { formatEthtoolStats } from "./ynl.js";

export const RUN_HELP = `Usage: ddpsim run [options]

Runs a fio-like workload of NVMe/TCP reads and writes through target, wire, offload device, driver, TCP and
host (and back through the NIC's transmit data-digest block, which fills the DDGST of the PDUs the host
sends when nvme-tcp-ddgst-tx is active), then prints the simulated throughput, the offload ratio, the
software work saved on receive and transmit, the ulp_ddp statistics and whether every invariant held. Exits 1
if an invariant failed.

Workload:
  --rw MODE            ${RW_MODES.join(" | ")} (default read)
  --rwmixread N        percentage of reads for rw / randrw (default 50)
  --bs SIZE            bytes per I/O, a multiple of 512 (default 128k). On an offloaded queue an I/O over
                       max_ddp_sgl_len x 4 KiB (128 x 4 KiB = 512 KiB by default) goes out as several commands
                       of at most that, as Linux caps max_hw_sectors (the report counts both)
  --iodepth N          I/Os in flight per queue (default 8)
  --queues N           I/O queues, each its own TCP connection (default 1)
  --size SIZE          bytes to transfer over all queues (default 4m)
  --ios N              number of I/Os over all queues (instead of --size)
  --hdgst, --ddgst     negotiate header / data digests
  --pdu-size SIZE      the target's largest C2HData PDU (default 4096)
  --page-size SIZE     bytes per segment of the read buffers, each on a 4 KiB page (default 4096). The driver
                       maps a buffer in the device's pages: a read is offloaded when its segments are a multiple
                       of the page (the last may be shorter) and it spans at most max_ddp_sgl_len pages (which
                       the split above ensures with the default 4 KiB device page); software copies the others
Wire (both directions of the I/O queues, seeded; what the host sends again goes through the NIC again):
  --mss N              TCP MSS (default 1460)
  --loss RATE          segments lost and retransmitted later (e.g. 0.01 or 1%)
  --reorder RATE       segments swapped with the next one
  --duplicate RATE     segments sent twice
  --corrupt RATE       segments corrupted (bad checksum) and retransmitted later
Device and output:
  --backend rtl|model  ddp_top and ddp_tx in Verilator (default) or the reference models
  --clock-mhz MHZ      clock for the simulated throughput (default 250: 16 Gb/s at DATA_W 64)
  --seed N             seed of everything random (default: SEED from the environment, else random)
  --waves FILE         FST waveform of the RTL run
  --pcap FILE          capture of the I/O queues (both directions) as pcap
  --no-baseline        count what software would do without offload instead of running it
  --json               print the report as one JSON object
  -h, --help           this text
`;

/** The options of `ddpsim run`, checked; UsageError on anything wrong. */
export interface RunArgs {
  options: RunOptions;
  json: boolean;
}

const RUN_OPTIONS = {
  rw: { type: "string" },
  rwmixread: { type: "string" },
  bs: { type: "string" },
  iodepth: { type: "string" },
  queues: { type: "string" },
  size: { type: "string" },
  ios: { type: "string" },
  hdgst: { type: "boolean" },
  ddgst: { type: "boolean" },
  "pdu-size": { type: "string" },
  "page-size": { type: "string" },
  mss: { type: "string" },
  loss: { type: "string" },
  reorder: { type: "string" },
  duplicate: { type: "string" },
  corrupt: { type: "string" },
  backend: { type: "string" },
  "clock-mhz": { type: "string" },
  seed: { type: "string" },
  waves: { type: "string" },
  pcap: { type: "string" },
  "no-baseline": { type: "boolean" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** The option a field of RunOptions comes from (for the schema's range errors). */
const OPTION_OF: Record<string, string> = {
  seed: "--seed",
  backend: "--backend",
  rw: "--rw",
  rwmixread: "--rwmixread",
  bs: "--bs",
  iodepth: "--iodepth",
  ios: "--ios",
  queues: "--queues",
  pduSize: "--pdu-size",
  pageSize: "--page-size",
  mss: "--mss",
  impairments: "--loss + --reorder + --duplicate + --corrupt",
  "impairments.loss": "--loss",
  "impairments.reorder": "--reorder",
  "impairments.duplicate": "--duplicate",
  "impairments.corrupt": "--corrupt",
  clockMHz: "--clock-mhz",
  waves: "--waves",
  pcap: "--pcap",
};

const DEFAULT_SIZE = 4 * 1024 * 1024;

/**
 * The options of `ddpsim run`, checked before any work starts: strings become numbers here, RunOptionsSchema
 * checks the ranges, and output files must be writable. Every problem is reported (UsageError, a line each).
 */
export function parseRunArgs(args: readonly string[], env: NodeJS.ProcessEnv = process.env): RunArgs | "help" {
  const { values, positionals } = parse(args, RUN_OPTIONS, true);
  if (values.help) return "help";
  const problems = new Problems();
  if (positionals.length > 0) problems.add(`run: unexpected argument '${positionals[0]}'`);
  const d = RUN_DEFAULTS;
  // A value that does not parse is noted and replaced by its default, so that the others are still checked.
  const value = <T>(text: string | undefined, convert: (text: string) => T, fallback: T): T => (text === undefined ? fallback : problems.take(() => convert(text), fallback));
  const integer = (name: "ios" | "seed" | "rwmixread" | "iodepth" | "queues" | "mss", fallback: number) => value(values[name], (t) => parseNumber(name, t, true), fallback);
  const size = <F>(name: "bs" | "size" | "pdu-size" | "page-size", fallback: F) => value<number | F>(values[name], (t) => parseSize(name, t), fallback);
  const rate = (name: "loss" | "reorder" | "duplicate" | "corrupt") => value(values[name], (t) => parseRate(name, t), 0);

  const bs = size("bs", d.bs);
  if (values.size !== undefined && values.ios !== undefined) problems.add("give --size or --ios, not both");
  const bytes = size("size", DEFAULT_SIZE);
  const ios = values.ios === undefined ? Math.ceil(bytes / bs) : integer("ios", d.ios);
  const pduSize = size("pdu-size", undefined);
  const pageSize = size("page-size", undefined);
  for (const name of ["waves", "pcap"] as const) if (values[name] !== undefined) problems.add(outputFileProblem(name, values[name]));
  const options = {
    seed: values.seed === undefined ? seedFromEnv(env) : integer("seed", 0),
    backend: value(values.backend, (t) => parseChoice("backend", t, BACKENDS), d.backend),
    rw: value(values.rw, (t) => parseChoice<RwMode>("rw", t, RW_MODES), d.rw),
    rwmixread: integer("rwmixread", d.rwmixread),
    bs,
    iodepth: integer("iodepth", d.iodepth),
    ios,
    queues: integer("queues", d.queues),
    hdgst: values.hdgst ?? false,
    ddgst: values.ddgst ?? false,
    ...(pduSize === undefined ? {} : { pduSize }),
    ...(pageSize === undefined ? {} : { pageSize }),
    mss: integer("mss", d.mss),
    impairments: { loss: rate("loss"), reorder: rate("reorder"), duplicate: rate("duplicate"), corrupt: rate("corrupt") },
    clockMHz: value(values["clock-mhz"], (t) => parseNumber("clock-mhz", t, false), d.clockMHz),
    ...(values.waves === undefined ? {} : { waves: values.waves }),
    ...(values.pcap === undefined ? {} : { pcap: values.pcap }),
    baseline: !(values["no-baseline"] ?? false),
  };
  const checked = RunOptionsSchema.safeParse(options);
  if (!checked.success) {
    for (const issue of checked.error.issues) {
      const field = issue.path.join(".");
      // --size reaches the schema as a number of I/Os.
      const option = field === "ios" && values.size !== undefined ? `--size: ${values.size} is ${ios} I/Os of ${bs} bytes;` : `${OPTION_OF[field] ?? (field || "run")}:`;
      problems.add(`${option} ${issue.message}`);
    }
  }
  problems.check();
  return { options: checked.data!, json: values.json ?? false };
}

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
const mib = (n: number): string => `${(n / 2 ** 20).toFixed(2)} MiB`;
/** How many NVMe commands the I/Os went out as, when an offloaded queue split some. */
const split = (ios: number, commands: number): string => (commands === ios ? "" : `, as ${commands} commands`);

export function formatRunReport(r: RunReport): string {
  const w = r.workload;
  const s = r.simulation;
  const lines = [
    `ddpsim run: ${w.rw}${w.rw.endsWith("rw") ? ` (${w.rwmixread}% reads)` : ""}, bs ${w.bs}, iodepth ${w.iodepth}, ${w.queues} queue(s), ${r.io.reads + r.io.writes} I/Os; ` +
      `hdgst ${w.hdgst ? "on" : "off"}, ddgst ${w.ddgst ? "on" : "off"}, PDUs ${w.pduSize}, pages ${w.pageSize}, mss ${w.mss}, loss ${w.loss}, reorder ${w.reorder}; backend ${r.backend}; seed ${r.seed} (--seed ${r.seed} reproduces)`,
    "",
    `I/O           ${r.io.reads} reads (${mib(r.io.bytesRead)}${split(r.io.reads, r.io.readCommands)}), ${r.io.writes} writes (${mib(r.io.bytesWritten)}${split(r.io.writes, r.io.writeCommands)}), ` +
      `${r.io.errors} errors, ${r.wallSeconds.toFixed(1)} s wall`,
    s.cycles === null
      ? "simulated     n/a (the model has no cycles; --backend rtl)"
      : `simulated     ${s.cycles} cycles; read data ${s.readBytesPerCycle!.toFixed(2)} B/cycle = ${s.readGbps!.toFixed(2)} Gb/s at ${s.clockMHz} MHz ` +
        `(line ${s.lineGbps!.toFixed(1)} Gb/s at DATA_W ${s.dataBits}; frames ${s.frameBytesPerCycle!.toFixed(2)} B/cycle); ${Math.round(s.cyclesPerWallSecond!)} cycles per wall second`,
    `offload       bytes ${pct(r.offload.byteRatio)} (${r.offload.placedBytes} of ${r.offload.c2hDataBytes} C2HData bytes placed), ` +
      `packets ${pct(r.offload.packetRatio)} (${r.offload.placedPackets} of ${r.offload.dataPackets} data packets)`,
    `resync        ${r.offload.resyncRequests} requested, ${r.offload.resyncsConfirmed} confirmed; ${r.offload.lossEpisodes} runs of unplaced data ` +
      `(loss -> resume mean ${Math.round(r.offload.lossToResume.meanBytes)} B, max ${r.offload.lossToResume.maxBytes} B)`,
    ...(r.offload.segLimitedBytes > 0 ? [`limits        ${r.offload.segLimitedBytes} data bytes stayed on the ring: their frames used all MAX_SEGS placed-segment slots`] : []),
    `software      copied ${r.software.withOffload.bytesCopied} bytes (${r.software.withoutOffload.bytesCopied} without offload, ${r.software.savedCopied} saved), ` +
      `CRC'd ${r.software.withOffload.bytesCrcd} bytes (${r.software.withoutOffload.bytesCrcd} without offload, ${r.software.savedCrcd} saved); ` +
      `without offload ${r.software.baseline === "measured" ? "measured on the software receive path" : "counted"}`,
    `transmit      NIC filled ${r.transmit.nicFilledPdus} data digests (the host left ${r.transmit.hostLeftPdus} PDUs, ${r.transmit.hostLeftBytes} data bytes, to it); ` +
      `host CRC'd ${r.transmit.withOffloadCrcd} sent bytes (${r.transmit.withoutOffloadCrcd} without offload, ${r.transmit.savedCrcd} saved)`,
    "",
    formatEthtoolStats({ ...Object.fromEntries(Object.entries(r.stats).filter(([k]) => k !== "ifindex")), ...r.hardware }),
    "",
    "invariants:",
    ...r.invariants.map((i) => `  [${i.ok ? "ok" : "FAIL"}] ${i.name}: ${i.detail}`),
    r.ok ? "all invariants held" : `${r.invariants.filter((i) => !i.ok).length} invariant(s) FAILED`,
  ];
  return lines.join("\n");
}

export async function runCommand(args: readonly string[], out: (s: string) => void): Promise<number> {
  const a = parseRunArgs(args);
  if (a === "help") {
    out(RUN_HELP);
    return EXIT_OK;
  }
  const caps = rememberedCaps();
  const progress = new Progress();
  const report = await runStack({ ...a.options, ...(caps !== undefined ? { caps } : {}) }, (line) => progress.update(line))
    .finally(() => progress.done());
  rememberStats("run", report.backend, `seed ${report.seed}`, report.stats, report.hardware);
  out(a.json ? JSON.stringify(report) : formatRunReport(report));
  return report.ok ? EXIT_OK : EXIT_FAIL;
}
