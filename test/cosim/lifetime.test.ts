// Harness process lifetime with the real harness (tb_passthrough): a dead harness is a clear error, never a
// hang, and killing the process that spawned a harness leaves no harness behind.

import { describe, test, expect } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { buildHarness, Harness, HarnessError, MAX_CYCLES_PER_REQUEST, REPO_ROOT, SECRET_ENV } from "../../src/cosim/index.js";

/** True while `pid` is a live process (a zombie waiting to be reaped counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

async function waitUntilGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

describe("harness process lifetime", () => {
  test("a harness killed mid-request rejects that request and every later one with the signal", async () => {
    const harness = await Harness.spawn({ top: "tb_passthrough" });
    try {
      const pid = harness.pid!;
      const long = harness.run(MAX_CYCLES_PER_REQUEST); // far longer than this test
      setTimeout(() => process.kill(pid, "SIGKILL"), 200);
      const err = (await long.catch((e: unknown) => e)) as HarnessError;
      expect(err).toBeInstanceOf(HarnessError);
      expect(err.kind).toBe("dead");
      expect(err.message).toMatch(new RegExp(`harness process ${pid} was killed by signal SIGKILL`));
      await expect(harness.status()).rejects.toMatchObject({ kind: "dead" });
    } finally {
      await harness.close();
    }
  }, 20_000);

  test("close() ends the process", async () => {
    const harness = await Harness.spawn({ top: "tb_passthrough" });
    const pid = harness.pid!;
    expect(alive(pid)).toBe(true);
    await harness.close();
    expect(await waitUntilGone(pid, 3_000)).toBe(true);
  }, 20_000);

  test("SIGKILL of the process that spawned a harness leaves no harness process", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cosim-orphan-"));
    const script = join(dir, "spawner.mts");
    writeFileSync(
      script,
      `import { Harness } from ${JSON.stringify(join(REPO_ROOT, "src/cosim/index.ts"))};\n` +
        `const h = await Harness.spawn({ top: "tb_passthrough" });\n` +
        `console.log("PID " + h.pid);\n` +
        `setInterval(() => undefined, 1000);\n`,
    );
    const child = spawn(process.execPath, ["--import", "tsx", script], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "inherit"] });
    const harnessPid = await new Promise<number>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /PID (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once("exit", (code) => reject(new Error(`spawner exited early (${code}): ${out}`)));
    });
    expect(alive(harnessPid)).toBe(true);
    child.kill("SIGKILL");
    expect(await waitUntilGone(harnessPid, 3_000)).toBe(true);
  }, 60_000);

  test("a harness killed outright leaves no private endpoint directory behind", async () => {
    const harness = await Harness.spawn({ top: "tb_passthrough" });
    const dir = dirname(harness.endpoint.slice("ipc://".length));
    expect(existsSync(dir)).toBe(true);
    process.kill(harness.pid!, "SIGKILL");
    await expect(harness.status()).rejects.toMatchObject({ kind: "dead" });
    await harness.close();
    expect(existsSync(dir)).toBe(false);
  }, 20_000);

  test("a trace file outside the waves directory is written there and moved into place when it ends", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cosim-trace-"));
    const harness = await Harness.spawn({ top: "tb_passthrough", wavesDir: join(dir, "waves") });
    try {
      const elsewhere = join(dir, "elsewhere/deeper/t.fst");
      await harness.trace(elsewhere);
      await harness.step(20);
      expect(existsSync(elsewhere)).toBe(false); // still being written, inside the waves directory
      await harness.trace(join(dir, "waves/inside.fst")); // ends the first trace
      expect(readFileSync(elsewhere)[0]).toBe(0); // FST header block
      await harness.step(5);
      await harness.trace(null);
      expect(readdirSync(join(dir, "waves"))).toEqual(["inside.fst"]);
    } finally {
      await harness.close();
    }
  }, 20_000);
});

describe("connecting to a running harness", () => {
  test("over TCP with the secret it printed; without it every request is denied", async () => {
    const binary = await buildHarness({ top: "tb_passthrough" });
    const child = spawn(binary, ["--endpoint", "tcp://127.0.0.1:*"], { stdio: ["pipe", "pipe", "inherit"] });
    try {
      const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once("line", resolve));
      const [, endpoint, secret] = /^READY (\S+) (\S+)$/.exec(line)!;
      expect(endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      const denied = (await Harness.connect(endpoint!).catch((e: unknown) => e)) as HarnessError;
      expect(denied).toBeInstanceOf(HarnessError);
      expect(denied.kind).toBe("denied");
      expect(denied.message).toContain("missing or wrong secret");

      const h = await Harness.connect(endpoint!, { secret: secret! });
      expect(h.info.top).toBe("tb_passthrough");
      await h.step(3);
      await h.close(); // leaves it running
      process.env[SECRET_ENV] = secret!;
      try {
        const again = await Harness.connect(endpoint!);
        expect((await again.peek(["count"])).count).toBeGreaterThanOrEqual(0n);
        await again.close();
      } finally {
        delete process.env[SECRET_ENV];
      }
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill("SIGKILL");
    }
  }, 60_000);
});
