// `ddpsim run`: a fio-like workload through the whole stack (target -> impaired wire -> offload device ->
// driver -> TCP -> NVMe/TCP host), on the RTL (default) or the reference model, then a summary: simulated
// throughput at the stated clock, offload ratio, resyncs, the software work the offload saved (against the same
// workload on the software receive path), the ulp_ddp statistics and every invariant.

import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { openDevice, RtlDevice } from "../device/index.js";
import { NicDriver } from "../driver/driver.js";
import { statsGet } from "../driver/netlink.js";
import { HostMemory } from "../contract/host-memory.js";
import { flowKeyOf } from "../net/frame.js";
import { writePcap } from "../net/pcap.js";
import { seqDiff } from "../net/seq.js";
import { PduType } from "../pdu/pdu.js";
import { openSession, type Session, type SessionConfig } from "../stack/session.js";
import { seedFromEnv } from "../util/rng.js";
import { EXIT_FAIL, EXIT_OK, parse, parseChoice, parseInteger, parseRate, parseSize, Progress, UsageError } from "./args.js";
import { CountingDevice } from "./counting-device.js";
import { BACKENDS, type Backend, hardwareCounters } from "./netlink-cmd.js";
import { type RunReport, RunReportSchema } from "./schemas.js";
import { type FioSpec, runFio, RW_MODES, type RwMode } from "../stack/workload.js";
import { formatEthtoolStats } from "./ynl.js";

export const RUN_HELP = `Usage: ddpsim run [options]

Runs a fio-like workload of NVMe/TCP reads and writes through target, wire, offload device, driver, TCP and
host, then prints the simulated throughput, the offload ratio, the software work saved, the ulp_ddp
statistics and whether every invariant held. Exits 1 if an invariant failed.

Workload:
  --rw MODE            ${RW_MODES.join(" | ")} (default read)
  --rwmixread N        percentage of reads for rw / randrw (default 50)
  --bs SIZE            bytes per I/O, a multiple of 512 (default 128k)
  --iodepth N          I/Os in flight per queue (default 8)
  --queues N           I/O queues, each its own TCP connection (default 1)
  --size SIZE          bytes to transfer over all queues (default 4m)
  --ios N              number of I/Os over all queues (instead of --size)
  --hdgst, --ddgst     negotiate header / data digests
  --pdu-size SIZE      the target's largest C2HData PDU (default 4096)
  --page-size SIZE     pages of the read buffers = SGL entries (default: 4096, or the smallest power of two
                       that keeps a --bs read within the device's max_ddp_sgl_len)
Wire (controller -> host, seeded):
  --mss N              TCP MSS (default 1460)
  --loss RATE          segments lost and retransmitted later (e.g. 0.01 or 1%)
  --reorder RATE       segments swapped with the next one
  --duplicate RATE     segments sent twice
  --corrupt RATE       segments corrupted (bad checksum) and retransmitted later
Device and output:
  --backend rtl|model  ddp_top in Verilator (default) or the reference model
  --clock-mhz MHZ      clock for the simulated throughput (default 250: 16 Gb/s at DATA_W 64)
  --seed N             seed of everything random (default: SEED from the environment, else random)
  --waves FILE         FST waveform of the RTL run
  --pcap FILE          capture of the I/O queues (both directions) as pcap
  --no-baseline        count what software would do without offload instead of running it
  --json               print the report as one JSON object
  -h, --help           this text
`;

export interface RunOptions {
  seed: number;
  backend: Backend;
  spec: Omit<FioSpec, "seed">;
  hdgst: boolean;
  ddgst: boolean;
  pduSize: number | undefined;
  pageSize: number | undefined;
  mss: number;
  impairments: { loss: number; reorder: number; duplicate: number; corrupt: number };
  queues: number;
  clockMHz: number;
  waves: string | undefined;
  pcap: string | undefined;
  baseline: boolean;
  json: boolean;
}

const BLOCK = 512;

/** The options of `ddpsim run`, checked; UsageError on anything wrong. */
export function parseRunArgs(args: readonly string[], env: NodeJS.ProcessEnv = process.env): RunOptions | "help" {
  const { values, positionals } = parse(
    args,
    {
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
    },
    true,
  );
  if (values.help) return "help";
  if (positionals.length > 0) throw new UsageError(`run: unexpected argument '${positionals[0]}'`);
  const bs = values.bs === undefined ? 128 * 1024 : parseSize("bs", values.bs);
  if (bs % BLOCK !== 0) throw new UsageError(`--bs: ${bs} is not a multiple of the ${BLOCK}-byte block`);
  if (values.size !== undefined && values.ios !== undefined) throw new UsageError("give --size or --ios, not both");
  const size = values.size === undefined ? 4 * 1024 * 1024 : parseSize("size", values.size);
  const ios = values.ios !== undefined ? parseInteger("ios", values.ios, 1, 1e7) : Math.ceil(size / bs);
  const rate = (name: "loss" | "reorder" | "duplicate" | "corrupt"): number => (values[name] === undefined ? 0 : parseRate(name, values[name]));
  const impairments = { loss: rate("loss"), reorder: rate("reorder"), duplicate: rate("duplicate"), corrupt: rate("corrupt") };
  if (impairments.loss + impairments.reorder + impairments.duplicate + impairments.corrupt > 1) throw new UsageError("--loss + --reorder + --duplicate + --corrupt must be at most 1");
  const backend = values.backend === undefined ? "rtl" : parseChoice("backend", values.backend, BACKENDS);
  if (values.waves !== undefined && backend !== "rtl") throw new UsageError("--waves needs --backend rtl");
  const seed = values.seed === undefined ? seedFromEnv(env) : parseInteger("seed", values.seed, 0, 0xffffffff);
  const pageSize = values["page-size"] === undefined ? undefined : parseSize("page-size", values["page-size"]);
  const clockMHz = values["clock-mhz"] === undefined ? 250 : Number(values["clock-mhz"]);
  if (!(clockMHz > 0) || !Number.isFinite(clockMHz)) throw new UsageError(`--clock-mhz: '${values["clock-mhz"]}' must be a positive number`);
  return {
    seed,
    backend,
    spec: {
      rw: values.rw === undefined ? "read" : parseChoice<RwMode>("rw", values.rw, RW_MODES),
      rwmixread: values.rwmixread === undefined ? 50 : parseInteger("rwmixread", values.rwmixread, 0, 100),
      bs,
      iodepth: values.iodepth === undefined ? 8 : parseInteger("iodepth", values.iodepth, 1, 4096),
      ios,
    },
    hdgst: values.hdgst ?? false,
    ddgst: values.ddgst ?? false,
    pduSize: values["pdu-size"] === undefined ? undefined : parseSize("pdu-size", values["pdu-size"]),
    pageSize,
    mss: values.mss === undefined ? 1460 : parseInteger("mss", values.mss, 64, 9000),
    impairments,
    queues: values.queues === undefined ? 1 : parseInteger("queues", values.queues, 1, 64),
    clockMHz,
    waves: values.waves,
    pcap: values.pcap,
    baseline: !(values["no-baseline"] ?? false),
    json: values.json ?? false,
  };
}

function sessionConfig(o: RunOptions): SessionConfig {
  const impaired = Object.values(o.impairments).some((r) => r > 0);
  return {
    seed: o.seed,
    hdgst: o.hdgst,
    ddgst: o.ddgst,
    queueDepth: o.spec.iodepth,
    queues: o.queues,
    mss: o.mss,
    ...(o.pduSize !== undefined ? { c2hDataSize: o.pduSize } : {}),
    ...(impaired ? { impairments: o.impairments } : {}),
    ...(o.pcap !== undefined ? { capture: true } : {}),
  };
}

/** The smallest power-of-two page (at least 4096) that keeps a `bs` read within `maxSgl` SGL entries. */
export function autoPageSize(bs: number, maxSgl: number): number {
  let page = 4096;
  while (maxSgl > 0 && Math.ceil(bs / page) > maxSgl) page *= 2;
  return page;
}

/** Frames carrying C2HData data, and those of them the device placed data from, over the session's queues. */
function dataPackets(s: Session, device: CountingDevice): { dataPackets: number; placedPackets: number } {
  const out = { dataPackets: 0, placedPackets: 0 };
  for (const q of s.ios) {
    const sent = q.target.sent;
    if (sent.length === 0) continue;
    const isn = sent[0]!.seq;
    // Data byte ranges of every C2HData, as stream offsets, in stream order.
    const ranges = sent
      .filter((p) => p.type === PduType.C2HData && p.datal !== undefined)
      .map((p) => {
        const start = seqDiff(p.seq, isn) + p.length - p.datal! - (p.ddgst ? 4 : 0);
        return { start, end: start + p.datal! };
      });
    const key = flowKeyOf(q.socket.flow);
    for (const f of device.records) {
      if (f.flow !== key) continue;
      const fs = seqDiff(f.seq, isn);
      const fe = fs + f.payload;
      let lo = 0;
      let hi = ranges.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (ranges[mid]!.end <= fs) lo = mid + 1;
        else hi = mid;
      }
      if (lo < ranges.length && ranges[lo]!.start < fe) {
        out.dataPackets++;
        if (f.placed) out.placedPackets++;
      }
    }
  }
  return out;
}

export async function runWorkload(o: RunOptions, progress?: Progress): Promise<RunReport> {
  const memory = new HostMemory();
  const device = new CountingDevice(await openDevice(o.backend, memory));
  const rtl = device.inner instanceof RtlDevice ? device.inner : undefined;
  try {
    const limits = (await NicDriver.create(device)).hw;
    const pageSize = o.pageSize ?? autoPageSize(o.spec.bs, limits.maxDdpSglLen);
    if (o.waves !== undefined) await rtl!.harness.trace(resolve(o.waves));
    const t0 = performance.now();
    const session = await openSession({ ...sessionConfig(o), nic: { device, pageSize } });
    const spec: FioSpec = { seed: o.seed, ...o.spec };
    const fio = await runFio(session, spec, (p) =>
      progress?.update(
        `ddpsim run: ${p.done}/${p.total} I/Os, ${(p.bytes / 2 ** 20).toFixed(1)} MiB, ${((performance.now() - t0) / 1000).toFixed(1)} s${rtl ? `, ${(rtl.cycles / 1e6).toFixed(2)} M cycles` : ""}`,
      ),
    );
    const wallSeconds = (performance.now() - t0) / 1000;
    progress?.done();
    if (o.waves !== undefined) await rtl!.harness.trace(null);
    if (o.pcap !== undefined) writeFileSync(o.pcap, writePcap(session.ios.flatMap((q) => q.captured.map((f) => ({ data: f.data })))));
    const stats = await statsGet({ ifindex: session.driver!.ifindex, ops: session.driver! });
    const hardware = await hardwareCounters(device);

    // Without offload software copies every C2HData byte and CRCs it when data digests are on: measured on the
    // same workload through the software receive path, or counted when that run is skipped.
    let without = { bytesCopied: fio.host.bytesCopied + fio.host.bytesPlaced, bytesCrcd: o.ddgst ? fio.bytesRead : 0 };
    if (o.baseline) {
      const plain = await runFio(await openSession({ ...sessionConfig(o), capture: false }), spec);
      without = { bytesCopied: plain.host.bytesCopied, bytesCrcd: plain.host.bytesCrcd };
    }
    const packets = dataPackets(session, device);
    const cycles = rtl?.cycles ?? null;
    const dataBits = rtl ? rtl.dataBytes * 8 : null;
    const perCycle = (bytes: number): number | null => (cycles ? bytes / cycles : null);
    const readBytesPerCycle = perCycle(fio.bytesRead);
    const report: RunReport = {
      seed: o.seed,
      backend: o.backend,
      workload: { ...o.spec, queues: o.queues, hdgst: o.hdgst, ddgst: o.ddgst, mss: o.mss, loss: o.impairments.loss, reorder: o.impairments.reorder, pageSize },
      io: { reads: fio.reads, writes: fio.writes, bytesRead: fio.bytesRead, bytesWritten: fio.bytesWritten, errors: fio.errorCount },
      wallSeconds,
      simulation: {
        clockMHz: o.clockMHz,
        dataBits,
        cycles,
        frameBytesPerCycle: perCycle(device.frameBytes),
        readBytesPerCycle,
        readGbps: readBytesPerCycle === null ? null : (readBytesPerCycle * 8 * o.clockMHz) / 1000,
        lineGbps: dataBits === null ? null : (dataBits * o.clockMHz) / 1000,
        cyclesPerWallSecond: cycles === null ? null : cycles / wallSeconds,
      },
      offload: {
        byteRatio: fio.bytesRead === 0 ? 0 : stats["rx-nvme-tcp-bytes"] / fio.bytesRead,
        placedBytes: stats["rx-nvme-tcp-bytes"],
        c2hDataBytes: fio.bytesRead,
        packetRatio: packets.dataPackets === 0 ? 0 : packets.placedPackets / packets.dataPackets,
        ...packets,
        resyncRequests: stats["rx-nvme-tcp-resync"],
        resyncsConfirmed: fio.host.resyncConfirmed,
      },
      software: {
        withOffload: { bytesCopied: fio.host.bytesCopied, bytesCrcd: fio.host.bytesCrcd },
        withoutOffload: without,
        baseline: o.baseline ? "measured" : "counted",
        savedCopied: without.bytesCopied - fio.host.bytesCopied,
        savedCrcd: without.bytesCrcd - fio.host.bytesCrcd,
      },
      stats: { ifindex: stats.ifindex ?? session.driver!.ifindex, ...stats },
      hardware,
      invariants: fio.invariants,
      ok: fio.invariants.every((i) => i.ok),
    };
    return RunReportSchema.parse(report);
  } finally {
    await device.close();
  }
}

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
const mib = (n: number): string => `${(n / 2 ** 20).toFixed(2)} MiB`;

export function formatRunReport(r: RunReport): string {
  const w = r.workload;
  const s = r.simulation;
  const lines = [
    `ddpsim run: ${w.rw}${w.rw.endsWith("rw") ? ` (${w.rwmixread}% reads)` : ""}, bs ${w.bs}, iodepth ${w.iodepth}, ${w.queues} queue(s), ${r.io.reads + r.io.writes} I/Os; ` +
      `hdgst ${w.hdgst ? "on" : "off"}, ddgst ${w.ddgst ? "on" : "off"}, mss ${w.mss}, loss ${w.loss}, reorder ${w.reorder}; backend ${r.backend}; seed ${r.seed} (--seed ${r.seed} reproduces)`,
    "",
    `I/O           ${r.io.reads} reads (${mib(r.io.bytesRead)}), ${r.io.writes} writes (${mib(r.io.bytesWritten)}), ${r.io.errors} errors, ${r.wallSeconds.toFixed(1)} s wall`,
    s.cycles === null
      ? "simulated     n/a (the model has no cycles; --backend rtl)"
      : `simulated     ${s.cycles} cycles; read data ${s.readBytesPerCycle!.toFixed(2)} B/cycle = ${s.readGbps!.toFixed(2)} Gb/s at ${s.clockMHz} MHz ` +
        `(line ${s.lineGbps!.toFixed(1)} Gb/s at DATA_W ${s.dataBits}; frames ${s.frameBytesPerCycle!.toFixed(2)} B/cycle); ${Math.round(s.cyclesPerWallSecond!)} cycles per wall second`,
    `offload       bytes ${pct(r.offload.byteRatio)} (${r.offload.placedBytes} of ${r.offload.c2hDataBytes} C2HData bytes placed), ` +
      `packets ${pct(r.offload.packetRatio)} (${r.offload.placedPackets} of ${r.offload.dataPackets} data packets)`,
    `resync        ${r.offload.resyncRequests} requested, ${r.offload.resyncsConfirmed} confirmed`,
    `software      copied ${r.software.withOffload.bytesCopied} bytes (${r.software.withoutOffload.bytesCopied} without offload, ${r.software.savedCopied} saved), ` +
      `CRC'd ${r.software.withOffload.bytesCrcd} bytes (${r.software.withoutOffload.bytesCrcd} without offload, ${r.software.savedCrcd} saved); ` +
      `without offload ${r.software.baseline === "measured" ? "measured on the software receive path" : "counted"}`,
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
  const o = parseRunArgs(args);
  if (o === "help") {
    out(RUN_HELP);
    return EXIT_OK;
  }
  const report = await runWorkload(o, new Progress());
  out(o.json ? JSON.stringify(report) : formatRunReport(report));
  return report.ok ? EXIT_OK : EXIT_FAIL;
}
