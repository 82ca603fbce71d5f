// `ddpsim caps get|set` and `ddpsim stats`: the `ulp_ddp` generic netlink family (caps-get, caps-set with its
// caps-set-ntf, stats-get) against a fresh device instance and its driver, printed as ynl prints the replies.

import { openDevice, type OffloadDevice } from "../device/index.js";
import { type CapName, CAP_NAMES, capsGet, capsSet, type DdpNetdev, statsGet } from "../driver/netlink.js";
import { NicDriver } from "../driver/driver.js";
import { HostMemory } from "../contract/host-memory.js";
import { Op, STAT_NAMES, Status } from "../contract/protocol.js";
import { CliError, EXIT_OK, parse, parseChoice, parseList, UsageError } from "./args.js";
import { CapsReplySchema, CapsSetOutputSchema, StatsReplySchema } from "./schemas.js";
import { formatYnl } from "./ynl.js";

export const BACKENDS = ["model", "rtl"] as const;
export type Backend = (typeof BACKENDS)[number];
const CAPS = Object.keys(CAP_NAMES) as CapName[];

export const CAPS_HELP = `Usage: ddpsim caps get [--backend model|rtl] [--json]
       ddpsim caps set [--wanted CAPS] [--mask CAPS] [--backend model|rtl] [--json]

The ulp_ddp family's caps-get and caps-set, against a fresh device (the model unless --backend rtl).
CAPS is a comma-separated list of: ${CAPS.join(", ")} (may be empty: --wanted '').

caps-set computes new = ((active & ~mask) | (wanted & mask)) & hw and calls the driver's set_caps only when
that differs; the reply is the state read back, and the caps-set-ntf notification follows only when the
active set changed.

Options:
  --wanted CAPS        caps to turn on among those in --mask (default: none)
  --mask CAPS          caps to change (default: every cap, i.e. the active set becomes --wanted)
  --backend model|rtl  the reference model (default) or ddp_top in Verilator
  --json               print the reply as JSON
  -h, --help           this text
`;

export const STATS_HELP = `Usage: ddpsim stats [--backend model|rtl] [--json]

The ulp_ddp family's stats-get against a fresh device and its driver: ifindex and the ten statistics
(rx-nvme-tcp-sk-add, -sk-add-fail, -sk-del, -setup, -setup-fail, -teardown, -drop, -resync, -packets,
-bytes). A fresh device has counted nothing; \`ddpsim run\` prints them after a workload.

Options:
  --backend model|rtl  the reference model (default) or ddp_top in Verilator
  --json               print the reply as JSON
  -h, --help           this text
`;

/** A device and its driver, as the netlink family reaches them. */
export async function withNetdev<T>(backend: Backend, fn: (dev: DdpNetdev, device: OffloadDevice) => Promise<T>): Promise<T> {
  const device = await openDevice(backend, new HostMemory());
  try {
    const driver = await NicDriver.create(device);
    return await fn({ ifindex: driver.ifindex, ops: driver }, device);
  } finally {
    await device.close();
  }
}

/**
 * The device's hardware counters beyond the family's four (STATS_GET indices), for debugging; a counter the
 * device does not have (BAD_ARG, e.g. an RTL build older than the model) is left out.
 */
export async function hardwareCounters(device: OffloadDevice): Promise<Record<string, number>> {
  const extra = STAT_NAMES.slice(4);
  const { completions } = await device.commands(extra.map((n, tag) => ({ op: Op.STATS_GET, tag, index: STAT_NAMES.indexOf(n) })));
  return Object.fromEntries(
    extra.flatMap((n, i) => {
      const c = completions[i];
      if (c?.status === Status.BAD_ARG) return [];
      if (c?.status !== Status.OK) throw new CliError(`STATS_GET ${n}: status ${c?.status}`);
      // The contract's names (docs/offload-contract.md, STATS_GET): pdus_crc_ok, ooo_packets, ...
      return [[n.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`), Number(c.data)]];
    }),
  );
}

function backendOf(text: string | undefined): Backend {
  return text === undefined ? "model" : parseChoice("backend", text, BACKENDS);
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
  const backend = backendOf(values.backend);
  const wanted = parseList("wanted", values.wanted ?? "", CAPS);
  const mask = values.mask === undefined ? CAPS : parseList("mask", values.mask, CAPS);
  await withNetdev(backend, async (dev) => {
    if (sub === "get") {
      const reply = CapsReplySchema.parse(await capsGet(dev));
      out(values.json ? JSON.stringify(reply) : formatYnl(reply));
      return;
    }
    const { reply, notify } = await capsSet(dev, { ifindex: dev.ifindex, wanted, "wanted-mask": mask });
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
  const { values } = parse(args, { backend: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } });
  if (values.help) {
    out(STATS_HELP);
    return EXIT_OK;
  }
  const backend = backendOf(values.backend);
  await withNetdev(backend, async (dev) => {
    const reply = StatsReplySchema.parse(await statsGet(dev));
    out(values.json ? JSON.stringify(reply) : formatYnl(reply));
  });
  return EXIT_OK;
}
