// Process-tree helpers for the tests that signal or kill real processes: who descends from a PID, and whether a
// process is still alive (a zombie waiting to be reaped counts as gone), read from /proc.

import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

interface Stat {
  pid: number;
  ppid: number;
  state: string;
  comm: string;
}

function stat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = text.lastIndexOf(")");
    const [state, ppid] = text.slice(close + 2).split(" ");
    return { pid, ppid: Number(ppid), state: state!, comm: text.slice(text.indexOf("(") + 1, close) };
  } catch {
    return undefined;
  }
}

export function alive(pid: number): boolean {
  const s = stat(pid);
  return s !== undefined && s.state !== "Z";
}

/** Every live process descending from `pid` (not `pid` itself), with its command name. */
export function descendants(pid: number): { pid: number; comm: string }[] {
  const all = readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => stat(Number(d)) ?? []);
  const out: Stat[] = [];
  const walk = (parent: number) => {
    for (const s of all) {
      if (s.ppid !== parent || s.state === "Z") continue;
      out.push(s);
      walk(s.pid);
    }
  };
  walk(pid);
  return out.map((s) => ({ pid: s.pid, comm: s.comm }));
}

/** Polls until `condition` holds; false if it still does not after `ms`. */
export async function waitUntil(condition: () => boolean, ms: number, everyMs = 25): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await sleep(everyMs);
  }
  return condition();
}
