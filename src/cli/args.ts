// Command-line plumbing shared by the ddpsim commands: usage errors (exit 2), node's util.parseArgs with the
// errors it throws turned into usage errors, and parsers for sizes, rates and lists.

import { parseArgs, type ParseArgsConfig } from "node:util";

/** Exit codes: 0 ok, 1 the run found a problem (an invariant failed, a capture is unusable), 2 bad usage. */
export const EXIT_OK = 0;
export const EXIT_FAIL = 1;
export const EXIT_USAGE = 2;

/** Bad arguments: printed with a hint to --help, exit 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** A run that cannot be done with what it was given (an unusable capture, a device that did not answer): exit 1. */
export class CliError extends Error {
  override readonly name = "CliError";
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** util.parseArgs in strict mode; its own errors (unknown option, missing value) become UsageErrors. */
export function parse<O extends Options>(args: readonly string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals });
  } catch (e) {
    if (e instanceof TypeError && "code" in e && typeof e.code === "string" && e.code.startsWith("ERR_PARSE_ARGS")) throw new UsageError(e.message);
    throw e;
  }
}

const SIZE_UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** "128k", "4096", "16m", "1g" (binary units, as fio reads them) to bytes. */
export function parseSize(name: string, text: string): number {
  const m = /^(\d+)([kmg]?)i?b?$/i.exec(text.trim());
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`--${name}: '${text}' is not a size (e.g. 4096, 128k, 16m)`);
  const n = Number(m[1]) * unit;
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--${name}: '${text}' must be a positive size`);
  return n;
}

/** An integer in [min, max]. */
export function parseInteger(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name}: '${text}' must be an integer in ${min}..${max}`);
  return n;
}

/** A probability: "0.01" or "1%". */
export function parseRate(name: string, text: string): number {
  const pct = text.trim().endsWith("%");
  const n = Number(pct ? text.trim().slice(0, -1) : text);
  const p = pct ? n / 100 : n;
  if (text.trim() === "" || !Number.isFinite(p) || p < 0 || p > 1) throw new UsageError(`--${name}: '${text}' must be a rate in 0..1 (or 0%..100%)`);
  return p;
}

/** One of `choices`. */
export function parseChoice<T extends string>(name: string, text: string, choices: readonly T[]): T {
  const found = choices.find((c) => c === text);
  if (found === undefined) throw new UsageError(`--${name}: '${text}' is not one of ${choices.join(", ")}`);
  return found;
}

/** A comma-separated list of `choices` (empty string = empty list). */
export function parseList<T extends string>(name: string, text: string, choices: readonly T[]): T[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => parseChoice(name, s, choices));
}

/** Overwrites one status line in place on a terminal; elsewhere prints a line at most every `everyMs`. */
export class Progress {
  private last = 0;
  private shown = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly everyMs = 5_000,
  ) {}

  update(line: string, now = Date.now()): void {
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[K${line}`);
      this.shown = true;
    } else if (now - this.last >= this.everyMs) {
      this.stream.write(`${line}\n`);
      this.last = now;
    }
  }

  /** Clears the line on a terminal (the summary follows on a clean line). */
  done(): void {
    if (this.shown) this.stream.write("\r\x1b[K");
    this.shown = false;
  }
}
