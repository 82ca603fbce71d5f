// The harness against hostile neighbours, careless callers and faults (issue 13): its command line, its
// private endpoint and secret, trace files confined to the waves directory, bounded and interruptible
// requests, duplicate JSON keys, two BFMs on one port, a client that dies mid-request and peers that send
// half a multipart message. Each test drives the real binary (tb_passthrough) over raw ZeroMQ or raw sockets.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from "node:fs";
import { connect as connectSocket, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Dealer } from "zeromq";
import { z } from "zod";
import { Empty, RawHarness, READY_LINE, REPO_ROOT, buildHarness } from "./raw-harness.js";

const Values = z.object({ values: z.record(z.string(), z.string()) });
const MAX_CYCLES = 1_000_000_000;

let passthrough = "";
const started: RawHarness[] = [];
const dir = mkdtempSync(join(tmpdir(), "harness-hostile-"));
async function start(args: string[] = []): Promise<RawHarness> {
  const h = await RawHarness.start(passthrough, args);
  started.push(h);
  return h;
}

beforeAll(() => {
  passthrough = buildHarness("tb_passthrough");
}, 300_000);

afterAll(async () => {
  await Promise.all(started.map((h) => h.stop()));
  rmSync(dir, { recursive: true, force: true });
});

/** Resolves with the exit of `h`, or with "still running" after `ms`. */
async function exitWithin(h: RawHarness, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | "still running"> {
  return Promise.race([h.exited, sleep(ms).then(() => "still running" as const)]);
}

describe("command line", () => {
  it.each([
    [["--idle-timeout", "abc"], "--idle-timeout: 'abc'"],
    [["--ppid", "xyz"], "--ppid: 'xyz'"],
    [["--bench", "-5"], "--bench: '-5'"],
    [["--bench", "18446744073709551621"], "--bench: '18446744073709551621'"],
    [["--endpoint", "tcp://127.0.0.1:99999"], "--endpoint: 'tcp://127.0.0.1:99999'"],
    [["--endpoint", "inproc://x"], "--endpoint: 'inproc://x'"],
    [["--idle-timeout"], "--idle-timeout needs a value"],
    [["--frobnicate"], "unknown option '--frobnicate'"],
  ])("%j is a one-line usage error, exit 2", (args, message) => {
    // stdin is closed at once: a harness that accepted the options would serve until EOF and exit 0.
    const r = spawnSync(passthrough, args, { encoding: "utf8", timeout: 10_000, input: "" });
    expect(r.signal, "ran instead of refusing").toBeNull();
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(message);
  });
});

describe("private endpoint and secret", () => {
  it("listens on an ipc:// socket in a 0700 directory of its own, removed when it exits", async () => {
    const h = await start();
    expect(h.endpoint).toMatch(/^ipc:\/\/.*\/ddp-harness-[^/]+\/socket$/);
    const socketDir = dirname(h.endpoint.slice("ipc://".length));
    const st = statSync(socketDir);
    expect(st.mode & 0o777).toBe(0o700);
    expect(st.uid).toBe(process.getuid!());
    await h.ok(Empty, "bye");
    await h.exited;
    expect(existsSync(socketDir)).toBe(false);
  });

  it("a request without the secret, or with a wrong one, is denied and does nothing", async () => {
    const h = await start(["--endpoint", "tcp://127.0.0.1:*"]);
    const before = (await h.ok(Values, "peek", { names: ["count"] })).cycle;
    const stranger = new Dealer({ receiveTimeout: 5_000, linger: 0 });
    stranger.connect(h.endpoint);
    try {
      for (const secret of [undefined, "", "0".repeat(32), `${h.secret}0`, h.secret.toUpperCase()]) {
        await stranger.send(JSON.stringify({ id: 7, op: "step", cycles: 100, ...(secret === undefined ? {} : { secret }) }));
        const [json] = await stranger.receive();
        expect(JSON.parse(json!.toString()), String(secret)).toMatchObject({ id: 7, ok: false, error: { kind: "denied" } });
      }
    } finally {
      stranger.close();
    }
    expect((await h.ok(Values, "peek", { names: ["count"] })).cycle).toBe(before);
  });

  it("denied requests do not keep it alive: it exits at its idle timeout while a stranger keeps knocking", async () => {
    const h = await start(["--idle-timeout", "1"]);
    const stranger = new Dealer({ linger: 0 });
    stranger.connect(h.endpoint);
    const knock = setInterval(() => void stranger.send(JSON.stringify({ id: 1, op: "status" })).catch(() => undefined), 100);
    try {
      expect(await exitWithin(h, 4_000)).toEqual({ code: 0, signal: null });
    } finally {
      clearInterval(knock);
      stranger.close();
    }
  });
});

describe("trace files stay in the waves directory", () => {
  it("paths outside it (absolute, .., through a symbolic link) are argument errors and create nothing", async () => {
    const waves = join(dir, "waves");
    const outside = join(dir, "outside");
    mkdirSync(outside, { recursive: true });
    mkdirSync(waves, { recursive: true });
    symlinkSync(outside, join(waves, "link"));
    symlinkSync(join(outside, "dangling.fst"), join(waves, "dangling.fst"));
    const h = await start(["--waves-dir", waves]);
    for (const file of [join(outside, "a.fst"), "../outside/b.fst", "sub/../../outside/c.fst", "link/d.fst", "dangling.fst", "/etc/e.fst", "."]) {
      const { reply } = await h.request("trace", { file });
      expect(reply.error?.kind, file).toBe("argument");
      expect(reply.error?.message, file).toMatch(/outside the waves directory|symbolic link/);
    }
    expect(spawnSync("find", [outside, "-type", "f"], { encoding: "utf8" }).stdout).toBe("");
    // Inside it, relative or absolute, nested directories are created.
    await h.ok(Empty, "trace", { file: "ok/inside.fst" });
    await h.ok(Empty, "trace", { file: join(waves, "abs.fst") });
    await h.ok(Empty, "trace", { file: null });
    expect(existsSync(join(waves, "ok/inside.fst"))).toBe(true);
    expect(lstatSync(join(waves, "abs.fst")).isFile()).toBe(true);
  });
});

describe("every request is bounded and interruptible", () => {
  it("a step, run or reset beyond the per-request cap is an argument error and runs nothing", async () => {
    const h = await start();
    const before = (await h.ok(Values, "peek", { names: ["count"] })).cycle;
    for (const [op, fields] of [
      ["step", { cycles: 1e12 }],
      ["run", { maxCycles: MAX_CYCLES + 1 }],
      ["run", { maxCycles: 1e12, until: [{ idle: true }] }],
      ["reset", { cycles: 1e12 }],
    ] as const) {
      const { reply } = await h.request(op, fields);
      expect(reply.error?.kind, op).toBe("argument");
      expect(reply.error?.message, op).toContain(`at most ${MAX_CYCLES} cycles per request`);
      expect(reply.cycle, op).toBe(before);
    }
  });

  it("EOF on stdin stops a long run at once", async () => {
    const h = await start();
    const run = h.request("run", { maxCycles: MAX_CYCLES }); // ~1 minute or more of simulation
    await sleep(300);
    h.closeStdin();
    expect(await exitWithin(h, 3_000)).toEqual({ code: 0, signal: null });
    await run.catch(() => undefined);
  });

  it("SIGTERM during a long run answers `interrupted` and exits 0", async () => {
    const h = await start();
    const run = h.request("run", { maxCycles: MAX_CYCLES });
    await sleep(300);
    h.proc.kill("SIGTERM");
    const { reply } = await run;
    expect(reply).toMatchObject({ ok: false, error: { kind: "interrupted" } });
    expect(reply.error?.message).toMatch(/^stopped after cycle \d+: a signal to stop$/);
    expect(await exitWithin(h, 3_000)).toEqual({ code: 0, signal: null });
  });

  it("a client killed mid-request: the request is dropped and the harness exits within its idle timeout", async () => {
    // No stdin to watch and a parent (this test) that stays: only the client's connection tells.
    const h = await start(["--no-stdin", "--idle-timeout", "2"]);
    const script =
      `const { Dealer } = require("zeromq");` +
      `const d = new Dealer({ linger: 0 }); d.connect(${JSON.stringify(h.endpoint)});` +
      `d.send(JSON.stringify({ id: 1, op: "run", maxCycles: ${MAX_CYCLES}, secret: ${JSON.stringify(h.secret)} })).then(() => console.log("SENT"));` +
      `setInterval(() => undefined, 1000);`;
    const client = spawn(process.execPath, ["-e", script], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve) => client.stdout!.once("data", () => resolve()));
    const sent = Date.now();
    await sleep(300);
    client.kill("SIGKILL");
    expect(await exitWithin(h, 5_000)).toEqual({ code: 0, signal: null });
    const seconds = (Date.now() - sent) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(2); // the idle timeout counts from the dropped request
    expect(h.stderr).toContain("idle for");
  });
});

describe("malformed requests", () => {
  it("a duplicate JSON key is a protocol error, whichever value comes first", async () => {
    const h = await start();
    const before = (await h.ok(Values, "peek", { names: ["count"] })).cycle;
    for (const text of [
      `{"id": 3, "op": "step", "secret": "${h.secret}", "cycles": 1, "cycles": 100000}`,
      `{"id": 3, "op": "step", "secret": "${h.secret}", "cycles": 100000, "cycles": 1}`,
      `{"id": 3, "op": "peek", "op": "step", "secret": "${h.secret}", "names": true}`,
      `{"id": 3, "op": "poke", "secret": "${h.secret}", "values": {"half_in": "1", "half_in": "2"}}`,
    ]) {
      const [json] = await h.raw([text]);
      const reply = JSON.parse(json!.toString()) as { ok: boolean; error?: { kind: string; message: string } };
      expect(reply.ok, text).toBe(false);
      expect(reply.error?.kind, text).toBe("protocol");
      expect(reply.error?.message, text).toMatch(/duplicate key '(cycles|op|half_in)'/);
    }
    expect((await h.ok(Values, "peek", { names: ["count"] })).cycle).toBe(before);
  });

  it("two BFMs may not drive the same port; a monitor may watch it", async () => {
    const h = await start();
    await h.ok(Empty, "bind", { kind: "axis_source", prefix: "s_axis", name: "a" });
    const second = await h.request("bind", { kind: "axis_source", prefix: "s_axis", name: "b" });
    expect(second.reply.error?.kind).toBe("argument");
    expect(second.reply.error?.message).toMatch(/port 's_axis_t\w+' is already driven by BFM 'a'/);
    await h.ok(Empty, "bind", { kind: "axis_monitor", prefix: "s_axis", name: "watch" });
    await h.ok(Empty, "bind", { kind: "axis_sink", prefix: "m_axis", name: "sink" });
    expect((await h.request("bind", { kind: "axis_sink", prefix: "m_axis", name: "sink2" })).reply.error?.message).toMatch(/'m_axis_tready' is already driven by BFM 'sink'/);
    await h.ok(Empty, "bind", { kind: "vr_source", prefix: "s_vr", name: "v", fields: ["tag"] });
    expect((await h.request("bind", { kind: "vr_source", prefix: "s_vr", name: "v2", fields: ["addr"] })).reply.error?.message).toMatch(/'s_vr_valid' is already driven by BFM 'v'/);
    // The refused ones were not added.
    const status = await h.ok(z.object({ bfms: z.record(z.string(), z.unknown()) }), "status");
    expect(Object.keys(status.result.bfms).sort()).toEqual(["a", "sink", "v", "watch"]);
  });
});

/**
 * A ZeroMQ peer written by hand (ZMTP 3.0, NULL mechanism, as a DEALER) over the harness's ipc socket, so that
 * it can do what a ZeroMQ library never does: send part of a multipart message and stop.
 */
async function rawPeer(endpoint: string): Promise<Socket> {
  const socket = connectSocket({ path: endpoint.slice("ipc://".length) });
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  socket.on("data", () => undefined); // the harness's greeting and READY
  const greeting = Buffer.alloc(64);
  greeting[0] = 0xff;
  greeting[9] = 0x7f;
  greeting[10] = 3; // version 3.0
  greeting.write("NULL", 12, "ascii");
  const prop = (name: string, value: string) => {
    const v = Buffer.alloc(4);
    v.writeUInt32BE(value.length);
    return Buffer.concat([Buffer.from([name.length]), Buffer.from(name), v, Buffer.from(value)]);
  };
  const body = Buffer.concat([Buffer.from([5]), Buffer.from("READY"), prop("Socket-Type", "DEALER")]);
  socket.write(Buffer.concat([greeting, Buffer.from([0x04, body.length]), body]));
  return socket;
}

/** One ZMTP message frame (short form); `more` = another part follows. */
function frame(text: string, more: boolean): Buffer {
  return Buffer.concat([Buffer.from([more ? 1 : 0, Buffer.byteLength(text)]), Buffer.from(text)]);
}

describe("peers that send half a multipart message", () => {
  it("a request whose later parts never come is never served, and other clients are served meanwhile", async () => {
    const h = await start();
    await h.ok(Empty, "bind", { kind: "axis_source", prefix: "s_axis", name: "src" });
    const before = (await h.ok(Values, "peek", { names: ["count"] })).cycle;
    const step = JSON.stringify({ id: 9, op: "step", cycles: 1000, secret: h.secret });
    // One peer sends the first part of a two-part request and hangs up, another sends it and stays.
    const quitter = await rawPeer(h.endpoint);
    quitter.end(frame(step, true));
    const lingerer = await rawPeer(h.endpoint);
    lingerer.write(frame(step, true));
    const send = JSON.stringify({ id: 10, op: "send", name: "src", secret: h.secret });
    lingerer.write(frame(send, true)); // the "more" of the step, then a send still missing its frame
    await sleep(300);
    expect((await h.ok(Values, "peek", { names: ["count"] })).cycle).toBe(before);
    expect((await h.ok(z.object({ bfms: z.record(z.string(), z.object({ queued: z.number() })) }), "status")).result.bfms.src?.queued).toBe(0);
    lingerer.destroy();
    await sleep(200);
    await h.ok(Empty, "step", { cycles: 5 });
    expect((await h.ok(Values, "peek", { names: ["count"] })).cycle).toBe(before + 5);
    expect(h.proc.exitCode).toBeNull();
  });
});

it("READY line: endpoint and a 128-bit secret", async () => {
  const h = await start();
  expect(`READY ${h.endpoint} ${h.secret}`).toMatch(READY_LINE);
  const other = await start();
  expect(other.secret).not.toBe(h.secret);
});
