// What ddpsim remembers between commands. No device keeps running between two ddpsim commands (each run or
// replay starts its own RTL or model instance), so the netlink-style commands act on this small state instead:
// the active caps that `caps set` chose, applied by every later run and replay (as a netdev keeps its features),
// and the statistics of the device of the last run or replay, which `stats` reports.
// The file lives in $DDPSIM_STATE_DIR, else $XDG_STATE_HOME/ddpsim, else ~/.local/state/ddpsim.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { StatsReplySchema } from "../driver/netlink.js";
import { BackendSchema } from "../stack/report.js";
import { CliError } from "./args.js";

export const StateSchema = z.object({
  /** Active caps (ULP_DDP_CAP_* bits) set by `caps set`; absent: as the device comes up. */
  activeCaps: z.number().int().min(0).max(7).optional(),
  /** The device of the last run or replay. */
  last: z
    .object({
      command: z.enum(["run", "replay"]),
      backend: BackendSchema,
      /** The run's seed, or the replayed file. */
      what: z.string(),
      at: z.string(),
      stats: StatsReplySchema,
      hardware: z.record(z.string(), z.number().int().min(0)),
    })
    .optional(),
});
export type State = z.infer<typeof StateSchema>;

export function stateFile(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DDPSIM_STATE_DIR ?? join(env.XDG_STATE_HOME ?? join(homedir(), ".local", "state"), "ddpsim");
  return join(dir, "state.json");
}

export function loadState(env: NodeJS.ProcessEnv = process.env): State {
  const file = stateFile(env);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new CliError(`cannot read the state file ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`the state file ${file} is not JSON (delete it to start afresh)`);
  }
  const parsed = StateSchema.safeParse(json);
  if (!parsed.success) throw new CliError(`the state file ${file} is malformed at ${parsed.error.issues[0]?.path.join(".") || "top level"} (delete it to start afresh)`);
  return parsed.data;
}

/** Merges `change` into the state; written whole to a temporary file first, so a crash leaves the old state. */
export function updateState(change: Partial<State>, env: NodeJS.ProcessEnv = process.env): void {
  const file = stateFile(env);
  const next = StateSchema.parse({ ...loadState(env), ...change });
  try {
    mkdirSync(join(file, ".."), { recursive: true });
    writeFileSync(`${file}.tmp`, `${JSON.stringify(next, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
  } catch (e) {
    throw new CliError(`cannot write the state file ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
