// The client side of the co-simulation bridge: builds and starts a Verilator harness (or attaches to a running
// one), matches replies to requests by id, and turns every failure (error reply, timeout, malformed reply, dead
// process) into a HarnessError instead of a hang.

import { spawn as spawnProcess, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, realpathSync, renameSync, rmSync, unlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { Dealer } from "zeromq";
import { HarnessError } from "./errors.js";
import {
  PROTOCOL_VERSION,
  ReplyEnvelopeSchema,
  ErrorReplySchema,
  ReplySchemas,
  BenchResultSchema,
  RunLimitSchema,
  toHex,
  fromHex,
  type Op,
  type RequestFields,
  type Reply,
  type HelloReply,
  type Port,
  type UntilCondition,
  type BfmKind,
  type BfmStatus,
  type BenchResult,
  type Hex,
} from "./protocol.js";

/** The repository root (src/cosim/ is two levels down): `make build-path` runs there. */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

const TAIL_LINES = 50;

export type ParamValue = number | bigint | string | boolean;
export type Params = Record<string, ParamValue>;

export interface BuildOptions {
  top: string;
  params?: Params;
  /** The first Verilator build of a top can take minutes on a loaded machine. */
  buildTimeoutMs?: number;
}

/** Where Harness.connect() takes the secret from when none is given. */
export const SECRET_ENV = "DDP_HARNESS_SECRET";

export interface SpawnOptions extends BuildOptions {
  /**
   * Default: an ipc:// socket in a private directory the harness creates (0700) and removes on exit. A
   * tcp://host:port endpoint lets other machines connect (with the secret).
   */
  endpoint?: string;
  /** The only directory the harness writes trace files in (default: waves/ of the repository). */
  wavesDir?: string;
  /** Seconds without a request before the harness exits on its own (0 disables). */
  idleTimeout?: number;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export interface ConnectOptions {
  /** The secret the harness printed on its READY line (default: $DDP_HARNESS_SECRET). */
  secret?: string;
  requestTimeoutMs?: number;
}

export interface RequestOptions {
  timeoutMs?: number;
}

export interface RawReply<O extends Op> {
  reply: Reply<O>;
  parts: Buffer[];
}

export interface ReceivedItem {
  start: number;
  end: number;
  data: Buffer;
}

export interface RunResult {
  cycle: number;
  cycles: number;
  reason: "done" | "limit";
  met: number[];
}

export interface BoundBfm {
  kind: BfmKind;
  prefix: string;
  signals: string[];
  fields: string[] | undefined;
  /** The pause pattern last set (`""` = never pause). */
  pattern: string;
}

interface Pending {
  op: Op;
  resolve: (r: { json: unknown; parts: Buffer[] }) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Keeps the last lines a process printed, for error messages. */
class OutputTail {
  private lines: string[] = [];
  private partial = new Map<NodeJS.ReadableStream, string>();

  drain(stream: NodeJS.ReadableStream, onLine?: (line: string) => boolean): void {
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      const text = (this.partial.get(stream) ?? "") + chunk;
      const lines = text.split("\n");
      this.partial.set(stream, lines.pop() ?? "");
      for (const line of lines) if (!onLine?.(line)) this.push(line);
    });
  }

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > TAIL_LINES) this.lines.shift();
  }

  get(): string[] {
    return [...this.lines];
  }
}

// Harness and build processes of this Node process, killed when it exits so that nothing outlives a test
// runner or a stopped ddpsim. (If Node itself is SIGKILLed, a harness still exits: stdin EOF,
// PR_SET_PDEATHSIG and --ppid; a build runs to its end.) A build is a process group of its own (make,
// verilator, the compiler) and gets SIGTERM, so that make deletes what it left half written.
const liveProcesses = new Map<ChildProcess, "harness" | "build">();
// Private endpoint directories, which a harness killed outright cannot remove itself.
const privateDirs = new Map<ChildProcess, string>();
let exitHookInstalled = false;
function track(child: ChildProcess, what: "harness" | "build" = "harness"): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const [p, kind] of liveProcesses) {
        if (kind === "harness") p.kill("SIGKILL");
        else if (p.pid !== undefined) killGroup(p.pid);
      }
      for (const dir of privateDirs.values()) rmSync(dir, { recursive: true, force: true });
    });
  }
  liveProcesses.set(child, what);
  child.once("exit", () => {
    liveProcesses.delete(child);
    const dir = privateDirs.get(child);
    privateDirs.delete(child);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGTERM");
  } catch {
    // already gone
  }
}

/** Runs a program to its end, tracked; a build runs in its own process group, killed as a whole on exit or timeout. */
function execTracked(file: string, args: string[], what: "harness" | "build", timeoutMs?: number): Promise<{ stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnProcess(file, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], detached: what === "build" });
    track(child, what);
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => (what === "build" ? killGroup(child.pid!) : child.kill("SIGKILL")), timeoutMs);
    child.once("error", (e) => reject(Object.assign(e, { stdout, stderr })));
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout });
      else reject(Object.assign(new Error(`${file} ${exitDescription(code, signal)}`), { stdout, stderr }));
    });
  });
}

/** The private directory of a harness's default ipc:// endpoint (the harness removes it unless killed). */
function privateDirOf(endpoint: string): string | undefined {
  const m = /^ipc:\/\/(.*\/ddp-harness-[^/]+)\/socket$/.exec(endpoint);
  return m?.[1];
}

/** Whether `path` lies inside directory `dir` (both absolute). */
function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
}

/** Moves a file, also across file systems. */
function moveFile(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  try {
    renameSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EXDEV") throw e;
    copyFileSync(from, to);
    unlinkSync(from);
  }
}

function formatParams(params: Params = {}): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === "boolean" ? Number(v) : String(v)}`)
    .join(" ");
}

/** Builds (if needed) the harness for a top and parameter set; returns the binary's path. */
export async function buildHarness({ top, params, buildTimeoutMs = 600_000 }: BuildOptions): Promise<string> {
  const args = ["-s", "build-path", `TOP=${top}`, `PARAMS=${formatParams(params)}`];
  // COVERAGE=1 selects the instrumented build (harness.mk), whose harness writes coverage data on exit.
  if (process.env.COVERAGE === "1") args.push("COVERAGE=1");
  let stdout: string;
  try {
    ({ stdout } = await execTracked("make", args, "build", buildTimeoutMs));
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    const output = `${err.stdout ?? ""}\n${err.stderr ?? ""}`.split("\n").filter((l) => l !== "");
    throw new HarnessError("dead", `build of ${top} failed (make ${args.join(" ")}): ${err.message.split("\n")[0]}`, {
      outputTail: output.slice(-TAIL_LINES),
    });
  }
  const path = stdout.trim().split("\n").pop() ?? "";
  if (path === "") throw new HarnessError("dead", `make build-path TOP=${top} printed no path`);
  return isAbsolute(path) ? path : join(REPO_ROOT, path);
}

export class Harness {
  /** Cycles since the harness started, from the latest reply. */
  cycle = 0;
  /** Replies that arrived after their request had timed out (dropped). */
  lateReplies = 0;
  readonly endpoint: string;
  /** BFMs bound so far, by name; a harness outlives tests, so binding the same BFM again is a no-op. */
  readonly bfms = new Map<string, BoundBfm>();

  private readonly socket: Dealer;
  private readonly child: ChildProcess | undefined;
  private readonly tail: OutputTail;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private sendChain: Promise<void> = Promise.resolve();
  private failure: HarnessError | undefined;
  private closing: Promise<void> | undefined;
  private readonly requestTimeoutMs: number;
  private portsByName = new Map<string, Port>();
  private hello: HelloReply | undefined;
  /** A trace file outside the harness's waves directory: written inside it, moved to `to` when it ends. */
  private traceMove: { from: string; to: string } | undefined;
  private traceFiles = 0;

  private constructor(
    endpoint: string,
    private readonly secret: string,
    socket: Dealer,
    child: ChildProcess | undefined,
    tail: OutputTail,
    requestTimeoutMs: number,
    /** The waves directory of a harness this client spawned (unknown for a connected one). */
    private readonly wavesDir: string | undefined,
  ) {
    this.endpoint = endpoint;
    this.socket = socket;
    this.child = child;
    this.tail = tail;
    this.requestTimeoutMs = requestTimeoutMs;
  }

  /** The handshake reply: top name, port table, clock and reset names. */
  get info(): HelloReply {
    if (this.hello === undefined) throw new HarnessError("protocol", "no handshake yet");
    return this.hello;
  }

  /** Builds the harness if needed, starts it, connects and checks the protocol version. */
  static async spawn(options: SpawnOptions): Promise<Harness> {
    const binary = await buildHarness(options);
    mkdirSync(options.wavesDir ?? join(REPO_ROOT, "waves"), { recursive: true });
    const wavesDir = realpathSync(options.wavesDir ?? join(REPO_ROOT, "waves"));
    const args = ["--ppid", String(process.pid), "--waves-dir", wavesDir];
    if (options.endpoint !== undefined) args.push("--endpoint", options.endpoint);
    if (options.idleTimeout !== undefined) args.push("--idle-timeout", String(options.idleTimeout));
    const child = spawnProcess(binary, args, {
      cwd: REPO_ROOT,
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, ...options.env },
    });
    track(child);
    const tail = new OutputTail();
    tail.drain(child.stderr!);

    const ready = await new Promise<{ endpoint: string; secret: string }>((resolve, reject) => {
      const timeoutMs = options.readyTimeoutMs ?? 30_000;
      let ready = false;
      const fail = (message: string) => {
        if (ready) return;
        ready = true;
        clearTimeout(timer);
        child.kill("SIGKILL");
        reject(new HarnessError("dead", `${binary}: ${message}`, { outputTail: tail.get() }));
      };
      const timer = setTimeout(() => fail(`no READY line within ${timeoutMs} ms`), timeoutMs);
      tail.drain(child.stdout!, (line) => {
        const m = /^READY (\S+) ([0-9a-f]+)$/.exec(line);
        if (ready || m === null) return false;
        ready = true;
        clearTimeout(timer);
        resolve({ endpoint: m[1]!, secret: m[2]! });
        return true;
      });
      child.once("error", (e) => fail(`could not start: ${e.message}`));
      child.once("close", (code, signal) => fail(`exited before READY (${exitDescription(code, signal)})`));
    });
    const privateDir = privateDirOf(ready.endpoint);
    if (privateDir !== undefined && child.exitCode === null && child.signalCode === null) privateDirs.set(child, privateDir);
    return Harness.open(ready.endpoint, ready.secret, child, tail, options.requestTimeoutMs, wavesDir);
  }

  /**
   * Attaches to a harness that is already running (remote co-simulation), with the secret it printed on its
   * READY line. `close()` leaves it running.
   */
  static async connect(endpoint: string, options: ConnectOptions = {}): Promise<Harness> {
    const secret = options.secret ?? process.env[SECRET_ENV] ?? "";
    return Harness.open(endpoint, secret, undefined, new OutputTail(), options.requestTimeoutMs);
  }

  /** Runs the harness's bench mode (no ZeroMQ): raw simulator speed. */
  static async bench(options: BuildOptions & { cycles: number; binds?: string[] }): Promise<BenchResult> {
    const binary = await buildHarness(options);
    const args = ["--bench", String(options.cycles), ...(options.binds ?? []).flatMap((b) => ["--bind", b])];
    const { stdout } = await execTracked(binary, args, "harness");
    const line = stdout.trim().split("\n").pop() ?? "";
    const parsed = BenchResultSchema.safeParse(safeJson(line));
    if (!parsed.success) throw new HarnessError("protocol", `malformed bench output '${line}': ${parsed.error.message}`);
    return parsed.data;
  }

  private static async open(
    endpoint: string,
    secret: string,
    child: ChildProcess | undefined,
    tail: OutputTail,
    requestTimeoutMs = 60_000,
    wavesDir?: string,
  ): Promise<Harness> {
    const socket = new Dealer({ linger: 0 });
    socket.connect(endpoint);
    const harness = new Harness(endpoint, secret, socket, child, tail, requestTimeoutMs, wavesDir);
    harness.start();
    try {
      const { reply } = await harness.request("hello", { version: PROTOCOL_VERSION }, [], { timeoutMs: 10_000 });
      if (reply.version !== PROTOCOL_VERSION) {
        throw new HarnessError(
          "version",
          `harness at ${endpoint} speaks protocol version ${reply.version}, this client speaks ${PROTOCOL_VERSION}`,
        );
      }
      harness.hello = reply;
      harness.portsByName = new Map(reply.ports.map((p) => [p.name, p]));
      return harness;
    } catch (e) {
      await harness.close();
      if (e instanceof HarnessError && e.kind === "protocol" && /version/i.test(e.message)) {
        throw new HarnessError("version", `harness at ${endpoint} refused protocol version ${PROTOCOL_VERSION}: ${e.message}`);
      }
      throw e;
    }
  }

  private start(): void {
    this.child?.once("close", (code, signal) => {
      this.fail(
        new HarnessError("dead", `harness process ${this.child?.pid} ${exitDescription(code, signal)}`, {
          outputTail: this.tail.get(),
        }),
      );
    });
    void this.receiveLoop();
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.socket) this.onMessage(frames);
    } catch (e) {
      this.fail(new HarnessError("dead", `socket error: ${(e as Error).message}`, { outputTail: this.tail.get() }));
    }
  }

  /** The last lines the harness printed (stderr, and stdout after READY). */
  outputTail(): string[] {
    return this.tail.get();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get ports(): readonly Port[] {
    return this.info.ports;
  }

  port(name: string): Port {
    const port = this.portsByName.get(name);
    if (port === undefined) throw new HarnessError("argument", `no port '${name}' on ${this.info.top}`);
    return port;
  }

  /** Sends one request and resolves with its parsed reply; rejects with a HarnessError on any failure. */
  request<O extends Op>(op: O, fields: RequestFields<O>, parts: Uint8Array[] = [], options: RequestOptions = {}): Promise<RawReply<O>> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const id = this.nextId++;
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    const json = JSON.stringify({ id, op, secret: this.secret, ...fields });
    const done = new Promise<{ json: unknown; parts: Buffer[] }>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new HarnessError("timeout", `no reply to request ${id} within ${timeoutMs} ms`, {
            op,
            outputTail: this.tail.get(),
          }),
        );
      }, timeoutMs);
      this.pending.set(id, { op, resolve, reject, timer });
    });
    // zeromq allows one blocking send at a time: chain them.
    this.sendChain = this.sendChain.then(() =>
      this.socket.send([json, ...parts]).catch((e: Error) => this.settle(id)?.reject(new HarnessError("dead", `send failed: ${e.message}`, { op }))),
    );
    return done.then(({ json: reply, parts: replyParts }) => {
      const parsed = ReplySchemas[op].safeParse(reply);
      if (!parsed.success) {
        throw new HarnessError("protocol", `malformed reply: ${parsed.error.message}\n${JSON.stringify(reply)}`, { op });
      }
      const ok = parsed.data as Reply<O>;
      this.cycle = ok.cycle;
      return { reply: ok, parts: replyParts };
    });
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (p === undefined) return undefined;
    this.pending.delete(id);
    clearTimeout(p.timer);
    return p;
  }

  private onMessage(frames: Buffer[]): void {
    const [head, ...parts] = frames;
    const json = safeJson(head?.toString("utf8") ?? "");
    const envelope = ReplyEnvelopeSchema.safeParse(json);
    if (!envelope.success) {
      // Without an id the reply cannot be matched: fail everything waiting rather than let one request hang.
      const text = head?.toString("utf8").slice(0, 200) ?? "(empty message)";
      for (const id of [...this.pending.keys()]) {
        const p = this.settle(id)!;
        p.reject(new HarnessError("protocol", `malformed reply without a valid id: ${text}`, { op: p.op }));
      }
      return;
    }
    const pending = this.settle(envelope.data.id);
    if (pending === undefined) {
      this.lateReplies++; // the reply to a request that already timed out
      return;
    }
    if (envelope.data.ok) {
      pending.resolve({ json, parts });
      return;
    }
    const error = ErrorReplySchema.safeParse(json);
    if (!error.success) {
      pending.reject(new HarnessError("protocol", `malformed error reply: ${error.error.message}\n${JSON.stringify(json)}`, { op: pending.op }));
      return;
    }
    const { kind, message, assertion } = error.data.error;
    this.cycle = error.data.cycle;
    const text = assertion === undefined ? message : `assertion ${assertion} failed: ${message}`;
    pending.reject(
      new HarnessError(kind, text, {
        op: pending.op,
        cycle: error.data.cycle,
        reply: error.data,
        ...(assertion === undefined ? {} : { assertion }),
        ...(kind === "assertion" || kind === "finished" ? { outputTail: this.tail.get() } : {}),
      }),
    );
  }

  /** Rejects every pending and later request with `error` (dead process, closed, broken socket). */
  private fail(error: HarnessError): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    for (const id of [...this.pending.keys()]) this.settle(id)!.reject(error);
  }

  /** Says bye, waits briefly for the process to exit, then kills it. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const child = this.child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      if (this.failure === undefined) await this.request("bye", {}, [], { timeoutMs: 2_000 }).catch(() => undefined);
      const killTimer = setTimeout(() => child.kill("SIGKILL"), 2_000);
      await exited;
      clearTimeout(killTimer);
    }
    this.fail(new HarnessError("dead", "harness closed"));
    this.socket.close();
    try {
      this.finishTraceMove(); // the harness closed its trace file on the way out
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e; // a harness killed before it wrote one
    }
  }

  // ---------------------------------------------------------------- typed helpers, values as bigint

  async reset(options: { cycles?: number; bfms?: boolean } = {}): Promise<void> {
    await this.request("reset", options);
  }

  /** Advances `cycles` rising edges; `poke` is applied before the first, `peek` read after the last. */
  async step(
    cycles: number,
    options: { poke?: Record<string, bigint>; peek?: true | string[] } = {},
  ): Promise<Record<string, bigint> | undefined> {
    const fields: RequestFields<"step"> = { cycles };
    if (options.poke !== undefined && Object.keys(options.poke).length > 0) fields.poke = hexValues(options.poke);
    if (options.peek !== undefined) fields.peek = options.peek;
    const { reply } = await this.request("step", fields);
    return reply.values === undefined ? undefined : bigintValues(reply.values);
  }

  async peek(names: true | string[] = true): Promise<Record<string, bigint>> {
    const { reply } = await this.request("peek", { names });
    return bigintValues(reply.values);
  }

  async poke(values: Record<string, bigint>): Promise<void> {
    await this.request("poke", { values: hexValues(values) });
  }

  /** Binds a BFM by signal-name prefix; binding the same name, kind and prefix again returns the first binding. */
  async bind(kind: BfmKind, prefix: string, name: string, fields?: string[]): Promise<BoundBfm> {
    const known = this.bfms.get(name);
    if (known !== undefined) {
      if (known.kind === kind && known.prefix === prefix) return known;
      throw new HarnessError("argument", `BFM name '${name}' is already bound as ${known.kind} on '${known.prefix}'`, { op: "bind" });
    }
    const { reply } = await this.request("bind", fields === undefined ? { kind, prefix, name } : { kind, prefix, name, fields });
    const bound: BoundBfm = { kind, prefix, signals: reply.signals, fields: reply.fields ?? fields, pattern: "" };
    this.bfms.set(name, bound);
    return bound;
  }

  async pause(name: string, pattern: string): Promise<void> {
    await this.request("pause", { name, pattern });
    const bound = this.bfms.get(name);
    if (bound !== undefined) bound.pattern = pattern;
  }

  /** Queues payloads (one frame or transaction each) in a source BFM; returns how many items wait there. */
  async send(name: string, payloads: readonly Uint8Array[]): Promise<number> {
    const { reply } = await this.request("send", { name }, [...payloads]);
    return reply.queued;
  }

  async recv(name: string, max?: number): Promise<ReceivedItem[]> {
    const { reply, parts } = await this.request("recv", max === undefined ? { name } : { name, max });
    if (parts.length !== reply.items.length) {
      throw new HarnessError("protocol", `recv reply lists ${reply.items.length} items but carries ${parts.length} payloads`, { op: "recv" });
    }
    return reply.items.map((item, i) => ({ ...item, data: parts[i]! }));
  }

  /** Runs up to `maxCycles` or until any condition holds. Hitting the limit is a result, not an error. */
  async run(maxCycles: number, until?: UntilCondition[], options: RequestOptions = {}): Promise<RunResult> {
    try {
      const { reply } = await this.request("run", until === undefined ? { maxCycles } : { maxCycles, until }, [], options);
      return { cycle: reply.cycle, cycles: reply.cycles, reason: reply.reason, met: reply.met };
    } catch (e) {
      const limit = RunLimitSchema.safeParse(e instanceof HarnessError && e.kind === "limit" ? e.reply : undefined);
      if (!limit.success) throw e;
      const r = limit.data;
      return { cycle: r.cycle, cycles: r.cycles, reason: "limit", met: r.met };
    }
  }

  /**
   * Starts FST tracing into `file`, or stops with null. A spawned harness writes only in its waves directory:
   * `file` (absolute, or relative to the repository root) elsewhere is traced there and moved when the trace
   * ends. For a connected harness, `file` is a path in that harness's waves directory.
   */
  async trace(file: string | null): Promise<void> {
    let target = file;
    let move: { from: string; to: string } | undefined;
    if (file !== null && this.wavesDir !== undefined) {
      const path = resolve(REPO_ROOT, file);
      if (!inside(this.wavesDir, path)) {
        target = join(this.wavesDir, `.trace-${process.pid}-${++this.traceFiles}.fst`);
        move = { from: target, to: path };
      }
    }
    await this.request("trace", { file: target });
    this.finishTraceMove(); // a new trace (or null) closed the previous one
    this.traceMove = move;
  }

  private finishTraceMove(): void {
    const m = this.traceMove;
    this.traceMove = undefined;
    if (m !== undefined) moveFile(m.from, m.to);
  }

  /** Drops a BFM's queued (source) or received (sink / monitor) items. */
  async clear(name: string): Promise<void> {
    await this.request("clear", { name });
  }

  async status(): Promise<Record<string, BfmStatus>> {
    const { reply } = await this.request("status", {});
    return reply.bfms;
  }
}

function exitDescription(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `was killed by signal ${signal}` : `exited with code ${code}`;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function hexValues(values: Record<string, bigint>): Record<string, Hex> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, toHex(v)]));
}

function bigintValues(values: Record<string, Hex>): Record<string, bigint> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, fromHex(v)]));
}
