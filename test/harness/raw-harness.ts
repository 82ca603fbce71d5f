// A raw ZeroMQ DEALER client for testing the C++ harness on its own (independent of src/cosim).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Dealer } from "zeromq";
import { z } from "zod";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export const ErrorSchema = z.object({
  kind: z.enum(["protocol", "argument", "assertion", "finished", "limit", "denied", "interrupted"]),
  message: z.string(),
  assertion: z.string().optional(),
});

// Every reply: the envelope plus op-specific fields, which tests parse with their own schemas.
export const ReplySchema = z.looseObject({
  id: z.number().int().nullable(),
  ok: z.boolean(),
  cycle: z.number().int().nonnegative(),
  error: ErrorSchema.optional(),
});
export type Reply = z.infer<typeof ReplySchema>;

/** Builds a top with the project's make target and returns the binary's path. */
export function buildHarness(top: string, params = ""): string {
  const out = execFileSync("make", ["-s", "build-path", `TOP=${top}`, `PARAMS=${params}`], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 280_000,
  });
  return out.trim();
}

/** The harness's only stdout line: `READY <endpoint> <secret>`. */
export const READY_LINE = /^READY ((?:ipc|tcp):\/\/\S+) ([0-9a-f]{32})$/;

export class RawHarness {
  readonly endpoint: string;
  readonly secret: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr = "";
  private nextId = 1;

  private constructor(
    readonly proc: ChildProcess,
    endpoint: string,
    secret: string,
    private readonly socket: Dealer,
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  ) {
    this.endpoint = endpoint;
    this.secret = secret;
    this.exited = exited;
  }

  /** Starts the binary and connects once it printed its READY line. */
  static async start(binary: string, args: string[] = []): Promise<RawHarness> {
    const proc = spawn(binary, args, { stdio: ["pipe", "pipe", "pipe"] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      proc.on("exit", (code, signal) => resolve({ code, signal })),
    );
    let stderr = "";
    proc.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const lines = createInterface({ input: proc.stdout! });
    const first = await Promise.race([
      new Promise<string>((resolve) => lines.once("line", resolve)),
      exited.then(() => {
        throw new Error(`harness exited before READY: ${stderr}`);
      }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no READY within 10 s")), 10_000)),
    ]);
    const match = READY_LINE.exec(first);
    if (!match) throw new Error(`unexpected first stdout line: ${first}`);
    const socket = new Dealer({ receiveTimeout: 20_000, linger: 0 });
    socket.connect(match[1]!);
    const h = new RawHarness(proc, match[1]!, match[2]!, socket, exited);
    proc.stderr?.on("data", (d: Buffer) => (h.stderr += d.toString()));
    h.stderr = stderr;
    return h;
  }

  /** Sends raw parts and returns the reply parts (for malformed-request tests). */
  async raw(parts: (string | Buffer)[]): Promise<Buffer[]> {
    await this.socket.send(parts);
    return (await this.socket.receive()).map((p) => Buffer.from(p));
  }

  /** Sends `{id, op, secret, ...fields}` plus binary parts; checks the id of the reply. */
  async request(
    op: string,
    fields: Record<string, unknown> = {},
    bins: Uint8Array[] = [],
  ): Promise<{ reply: Reply; bins: Buffer[] }> {
    const id = this.nextId++;
    const [json, ...rest] = await this.raw([JSON.stringify({ id, op, secret: this.secret, ...fields }), ...bins.map((b) => Buffer.from(b))]);
    const reply = ReplySchema.parse(JSON.parse(json!.toString("utf8")));
    if (reply.id !== id) throw new Error(`reply id ${reply.id} for request ${id}`);
    return { reply, bins: rest };
  }

  /** Like request() but fails unless the reply is ok; returns its fields parsed by `schema`. */
  async ok<S extends z.ZodType>(schema: S, op: string, fields: Record<string, unknown> = {}, bins: Uint8Array[] = []) {
    const r = await this.request(op, fields, bins);
    if (!r.reply.ok) throw new Error(`${op} failed: ${JSON.stringify(r.reply.error)}`);
    return { result: schema.parse(r.reply) as z.infer<S>, bins: r.bins, cycle: r.reply.cycle };
  }

  closeStdin(): void {
    this.proc.stdin?.end();
  }

  /** Ends the harness (EOF on stdin, SIGKILL if it does not go), and its private endpoint directory with it. */
  async stop(): Promise<void> {
    this.socket.close();
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.closeStdin();
      const killer = setTimeout(() => this.proc.kill("SIGKILL"), 2_000);
      await this.exited;
      clearTimeout(killer);
    }
    // A harness killed outright (here or by a test) cannot remove it itself.
    const privateDir = /^ipc:\/\/(.*\/ddp-harness-[^/]+)\/socket$/.exec(this.endpoint)?.[1];
    if (privateDir !== undefined) rmSync(privateDir, { recursive: true, force: true });
  }
}

export const Empty = z.object({});
