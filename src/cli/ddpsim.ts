// ddpsim: the command line of the NVMe/TCP receive-offload simulator.
//   ddpsim run       a fio-like workload through target, wire, NIC (RTL or model), driver, TCP and host
//   ddpsim replay    a pcap's controller-to-host frames through the NIC, with the host's reads learned from it
//   ddpsim caps      the ulp_ddp netlink family's caps-get / caps-set
//   ddpsim stats     the ulp_ddp netlink family's stats-get
// Exit status: 0 ok, 1 an invariant failed or the input was unusable, 2 bad arguments.

import { pathToFileURL } from "node:url";
import { CaptureError } from "../replay/capture.js";
import { CliError, EXIT_FAIL, EXIT_OK, EXIT_USAGE, UsageError } from "./args.js";
import { capsCommand, statsCommand } from "./netlink-cmd.js";
import { replayCommand } from "./replay.js";
import { runCommand } from "./run.js";

export const HELP = `Usage: ddpsim <command> [options]

Co-simulates the NVMe/TCP receive-offload NIC block (ddp_top in Verilator, or its reference model) with the
kernel-style driver, the NVMe/TCP host and a target emulator.

Commands:
  run       fio-like workload (--rw, --bs, --iodepth, --queues, --size, digests, loss, reorder, ...); prints
            simulated throughput, offload ratio, software work saved, ulp_ddp statistics and invariants
  replay    replay a pcap's NVMe/TCP connection(s) through the NIC: per read the bytes placed and copied,
            the digest result and the buffer's SHA-256
  caps      ulp_ddp caps-get / caps-set (ynl-style output)
  stats     ulp_ddp stats-get (ynl-style output)

Run 'ddpsim <command> --help' for a command's options. Every command takes --json.
Exit status: 0 ok, 1 an invariant failed or the input could not be used, 2 bad arguments.
`;

const COMMANDS: Record<string, (args: readonly string[], out: (s: string) => void) => Promise<number>> = {
  run: runCommand,
  replay: replayCommand,
  caps: capsCommand,
  stats: statsCommand,
};

export async function main(argv: readonly string[], out: (s: string) => void = (s) => console.log(s), err: (s: string) => void = (s) => console.error(s)): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined) {
      err(HELP);
      return EXIT_USAGE;
    }
    if (command === "-h" || command === "--help" || command === "help") {
      out(HELP);
      return EXIT_OK;
    }
    const run = COMMANDS[command];
    if (!run) throw new UsageError(`unknown command '${command}' (run, replay, caps, stats)`);
    return await run(rest, out);
  } catch (e) {
    if (e instanceof UsageError) {
      const lines = e.message.split("\n").map((l) => `ddpsim: ${l}`);
      err(`${lines.join("\n")}\nTry 'ddpsim ${COMMANDS[command ?? ""] ? `${command} ` : ""}--help'.`);
      return EXIT_USAGE;
    }
    if (e instanceof CliError || e instanceof CaptureError) {
      err(`ddpsim: ${e.message}`);
      return EXIT_FAIL;
    }
    // Anything else (a harness that would not build, start or stay alive, a device breaking its contract) is
    // also reported in one line (a harness error's output tail follows its first line); DEBUG=1 shows it all.
    if (e instanceof Error) {
      err(process.env.DEBUG ? `ddpsim: ${e.name}: ${e.message}\n${e.stack ?? ""}` : `ddpsim: ${e.name}: ${e.message.split("\n")[0]}`);
      return EXIT_FAIL;
    }
    throw e;
  }
}

const STOP_SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

/**
 * ddpsim as a program: main() with the exit status set, and on SIGINT / SIGTERM / SIGHUP one line and exit
 * 128 + the signal's number at once (exiting kills the harness processes; nothing is left behind).
 */
export async function cli(argv: readonly string[]): Promise<void> {
  for (const [signal, number] of Object.entries(STOP_SIGNALS)) {
    process.once(signal, () => {
      console.error(`ddpsim: stopped by ${signal}`);
      process.exit(128 + number);
    });
  }
  process.exitCode = await main(argv);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await cli(process.argv.slice(2));
