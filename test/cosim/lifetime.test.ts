// Harness process lifetime with the real harness (tb_passthrough): a dead harness is a clear error, never a
// hang, and killing the process that spawned a harness leaves no harness behind.

import { describe, test, expect } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Harness, HarnessError, REPO_ROOT } from "../../src/cosim/index.js";

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
      const long = harness.run(2_000_000_000); // far longer than this test
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
});
