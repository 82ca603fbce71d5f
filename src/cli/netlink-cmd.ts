// `ddpsim caps get|set` and `ddpsim stats`: the `ulp_ddp` generic netlink family (caps-get, caps-set with its
// caps-set-ntf, stats-get), printed as ynl prints the replies. ddpsim keeps no device running between commands
// (see state.ts): caps act on a device instance brought up with the remembered active caps, and what caps-set
// chose is remembered for every later run and replay; stats report the device of the last run or replay.

import { HostMemory } from "../contract/host-memory.js";
import { openDevice } from "../device/index.js";
import { openTxDevice } from "../device/tx-device.js";
import { NicDriver } from "../driver/driver.js";
import { type CapName, CAP_NAMES, capBits, capsGet, capsSet, CapsReplySchema, CapsSetOutputSchema, type DdpNetdev, StatsReplySchema } from "../driver/netlink.js";
import { type Backend, BACKENDS } from "../stack/report.js";
import { CliError, EXIT_OK, parse, parseChoice, parseList, UsageError } from "./args.js";
import { loadState, stateFile, updateState } from "./state.js";
import { formatEthtoolStats, formatYnl } from "./ynl.js";

const CAPS = Object.keys(CAP_NAMES) as CapName[];

export const CAPS_HELP = `Usage: ddpsim caps get [--backend model|rtl] [--json]
       ddpsim caps set [--wanted CAPS] [--mask CAPS] [--backend model|rtl] [--json]

The ulp_ddp family's caps-get and caps-set. No device keeps running between ddpsim commands: the caps act on a
device brought up with the active caps ddpsim remembers (both on until a caps set), and what caps set chooses
is remembered and applied by every later 'ddpsim run' and 'ddpsim replay' (state file: ${stateFile()}).
CAPS is a comma-separated list of: ${CAPS.join(", ")} (may be empty: --wanted '').

caps-set computes new = ((active & ~mask) | (wanted & mask)) & hw and calls the driver's set_caps only when
that differs; the reply is the state read back, and the caps-set-ntf notification follows only when the
active set changed.

Options:
  --wanted CAPS        caps to turn on among those in --mask (default: none)
  --mask CAPS          caps to change (default: every cap, i.e. the active set becomes --wanted)
  --backend model|rtl  the device: the reference model (default) or ddp_top in Verilator
  --json               print the reply as JSON
  -h, --help           this text
`;

export const STATS_HELP = `Usage: ddpsim stats [--json]

The ulp_ddp family's stats-get of the device of the last 'ddpsim run' or 'ddpsim replay' (no device keeps
running between ddpsim commands; state file: ${stateFile()}): ifindex and the ten statistics
(rx-nvme-tcp-sk-add, -sk-add-fail, -sk-del, -setup, -setup-fail, -teardown, -drop, -resync, -packets, -bytes),
then the device's extra hardware counters as ethtool -S lists them. Exits 1 if no run or replay has been made.

Options:
  --json               print the reply as JSON (with "source": which run it is)
  -h, --help           this text
`;

/**
 * A device and its driver as the netlink family reaches them (the transmit block attached, as `ddpsim run` has
 * it), with the remembered active caps applied.
 */
async function withNetdev<T>(backend: Backend, fn: (dev: DdpNetdev) => Promise<T>): Promise<T> {
  const device = await openDevice(backend, new HostMemory());
  const tx = await openTxDevice(backend).catch(async (e: unknown) => {
    await device.close();
    throw e;
  });
  try {
    const driver = await NicDriver.create(device, { tx });
    const caps = loadState().activeCaps;
    if (caps !== undefined && caps !== driver.caps.active && (await driver.setCaps(caps)) !== 0) throw new CliError(`the device refused the remembered caps ${caps}`);
    return await fn({ ifindex: driver.ifindex, ops: driver });
  } finally {
    await tx.close();
    await device.close();
  }
}

export async function capsCommand(args: readonly string[], out: (s: string) => void): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "-h" || sub === "--help") {
    out(CAPS_HELP);
    return EXIT_OK;
  }
  if (sub !== "get" && sub !== "set") throw new UsageError(`caps: unknown operation '${sub}' (get or set)`);
  const { values } = parse(rest, {
    wanted: { type: "string" },
    mask: { type: "string" },
    backend: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    out(CAPS_HELP);
    return EXIT_OK;
  }
  if (sub === "get" && (values.wanted !== undefined || values.mask !== undefined)) throw new UsageError("caps get takes no --wanted or --mask");
  const backend = values.backend === undefined ? "model" : parseChoice("backend", values.backend, BACKENDS);
  const wanted = parseList("wanted", values.wanted ?? "", CAPS);
  const mask = values.mask === undefined ? CAPS : parseList("mask", values.mask, CAPS);
  await withNetdev(backend, async (dev) => {
    if (sub === "get") {
      const reply = CapsReplySchema.parse(await capsGet(dev));
      out(values.json ? JSON.stringify(reply) : formatYnl(reply));
      return;
    }
    const { reply, notify } = await capsSet(dev, { ifindex: dev.ifindex, wanted, "wanted-mask": mask });
    updateState({ activeCaps: capBits(reply.active) });
    const output = CapsSetOutputSchema.parse({ reply, ntf: notify ?? null });
    if (values.json) {
      out(JSON.stringify(output));
      return;
    }
    out(formatYnl(output.reply));
    if (output.ntf) out(`caps-set-ntf (mgmt): ${formatYnl(output.ntf)}`);
  });
  return EXIT_OK;
}

export async function statsCommand(args: readonly string[], out: (s: string) => void): Promise<number> {
  const { values } = parse(args, { json: { type: "boolean" }, help: { type: "boolean", short: "h" } });
  if (values.help) {
    out(STATS_HELP);
    return EXIT_OK;
  }
  const last = loadState().last;
  if (!last) throw new CliError(`no statistics yet: stats reports the device of the last 'ddpsim run' or 'ddpsim replay', and none has been made (state file ${stateFile()})`);
  const reply = StatsReplySchema.parse(last.stats);
  const source = { command: last.command, backend: last.backend, what: last.what, at: last.at };
  if (values.json) {
    out(JSON.stringify({ ...reply, hardware: last.hardware, source }));
    return EXIT_OK;
  }
  out(`stats of the device of the last ddpsim ${last.command} (${last.what}, backend ${last.backend}, ${last.at}):`);
  out(formatYnl(reply));
  out(formatEthtoolStats(last.hardware));
  return EXIT_OK;
}

/** Remembers a finished run's or replay's device statistics for `ddpsim stats`. */
export function rememberStats(command: "run" | "replay", backend: Backend, what: string, stats: unknown, hardware: Record<string, number>): void {
  updateState({ last: { command, backend, what, at: new Date().toISOString(), stats: StatsReplySchema.parse(stats), hardware } });
}

/** The active caps that runs and replays apply (undefined: as the device comes up). */
export function rememberedCaps(): number | undefined {
  return loadState().activeCaps;
}
