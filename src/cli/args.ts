// Command-line plumbing shared by the ddpsim commands: usage errors (exit 2), node's util.parseArgs with the
// errors it throws turned into usage errors, and parsers for sizes, rates and lists.

import { accessSync, constants, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";

/** Exit codes: 0 ok, 1 the run found a problem (an invariant failed, a capture is unusable), 2 bad usage. */
export const EXIT_OK = 0;
export const EXIT_FAIL = 1;
export const EXIT_USAGE = 2;

/** Bad arguments: printed with a hint to --help, exit 2. The message has one line per problem. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Collects every usage problem of a command line, so that all of them are reported at once. */
export class Problems {
  private readonly lines: string[] = [];

  add(line: string | undefined): void {
    if (line !== undefined) this.lines.push(line);
  }

  /** What `parse` returns, or `fallback` with its UsageError noted (so later checks still run). */
  take<T>(parse: () => T, fallback: T): T {
    try {
      return parse();
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      this.lines.push(e.message);
      return fallback;
    }
  }

  /** Throws one UsageError with every problem noted, if any. */
  check(): void {
    if (this.lines.length > 0) throw new UsageError(this.lines.join("\n"));
  }
}

/** A run that cannot be done with what it was given (an unusable capture, a device that did not answer): exit 1. */
export class CliError extends Error {
  override readonly name = "CliError";
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * `--loss -1` as `--loss=-1`: util.parseArgs calls a value that starts with a dash "ambiguous", which would
 * hide the range error a negative number deserves.
 */
function joinNegativeValues(args: readonly string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") return [...out, ...args.slice(i)];
    const long = arg.startsWith("--") ? arg.slice(2) : undefined;
    const name = long ?? Object.keys(options).find((k) => arg === `-${options[k]!.short ?? ""}`);
    const next = args[i + 1];
    if (name !== undefined && options[name]?.type === "string" && next !== undefined && /^-\.?\d/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** util.parseArgs in strict mode; its own errors (unknown option, missing value) become UsageErrors. */
export function parse<O extends Options>(args: readonly string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: joinNegativeValues(args, options), options, strict: true, allowPositionals });
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

/** A number (`integer`: a whole one); the range is the schema's to check. */
export function parseNumber(name: string, text: string, integer: boolean): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new UsageError(`--${name}: '${text}' is not ${integer ? "an integer" : "a number"}`);
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

/**
 * Why `file` cannot be written (its directory missing or not writable, a directory in its place), or
 * undefined: checked before a long run rather than found out after it.
 */
export function outputFileProblem(name: string, file: string): string | undefined {
  const path = resolve(file);
  const cannot = (why: string) => `--${name}: cannot write '${file}': ${why}`;
  try {
    if (statSync(path).isDirectory()) return cannot("it is a directory");
    accessSync(path, constants.W_OK);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") return cannot(code ?? String(e));
  }
  const dir = dirname(path);
  try {
    if (!statSync(dir).isDirectory()) return cannot(`${dir} is not a directory`);
    accessSync(dir, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return cannot(code === "ENOENT" ? `no directory ${dir}` : `directory ${dir}: ${code ?? String(e)}`);
  }
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
  private closed = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly everyMs = 5_000,
  ) {}

  update(line: string, now = Date.now()): void {
    if (this.closed) return;
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[K${line}`);
      this.shown = true;
    } else if (now - this.last >= this.everyMs) {
      this.stream.write(`${line}\n`);
      this.last = now;
    }
  }

  /** Clears the line on a terminal (the summary or the error follows on a clean line); later updates are
   *  dropped (queues still winding down after a failure must not print below the error). */
  done(): void {
    if (this.shown) this.stream.write("\r\x1b[K");
    this.shown = false;
    this.closed = true;
  }
}
