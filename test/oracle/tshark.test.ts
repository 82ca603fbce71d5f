// Wireshark's NVMe/TCP dissector as an external oracle for the target: pcaps of both directions (ICReq/ICResp
// included, so tshark knows the digests) must decode to exactly the PDUs the target meant to send, with digest
// status Bad exactly where the target corrupted one. One tshark run per scenario.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writePcap } from "../../src/net/pcap.js";
import { parseFrame } from "../../src/net/frame.js";
import { openSession, NVME_TCP_PORT, type SessionConfig } from "../../src/stack/session.js";
import { DigestStatus, nvmeTcpPdus } from "../../src/util/tshark.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";

const seed = seedFromEnv();
console.log(`tshark.test seed=${seed} (SEED=${seed} to reproduce)`);

const dir = mkdtempSync(join(tmpdir(), "ddp-tshark-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const C2H_TYPES = new Set([0x01, 0x03, 0x05, 0x07, 0x09]);

interface Scenario {
  name: string;
  config: Omit<SessionConfig, "seed" | "capture">;
  /** Corrupt the data digest of this many C2HData PDUs (the first ones of the second batch). */
  badDdgst?: number;
}

const scenarios: Scenario[] = [
  { name: "clean, no digests", config: { hdgst: false, ddgst: false, c2hDataSize: 1024 } },
  { name: "digests, SUCCESS flag, reordered", config: { hdgst: true, ddgst: true, successFlag: true, reorder: true, c2hDataSize: 2048 } },
  { name: "corrupted data digests", config: { hdgst: true, ddgst: true, c2hDataSize: 1024 }, badDdgst: 2 },
  // MSS 100 against 24+4-byte headers and 512-byte PDUs: headers and digests straddle segments; seq wraps.
  { name: "headers split across segments, seq wrap", config: { hdgst: true, ddgst: true, mss: 100, c2hDataSize: 512, targetIsn: 0xffff_fe00 } },
];

describe("tshark decodes the target's pcaps as the target meant them", () => {
  for (const [i, sc] of scenarios.entries()) {
    it(sc.name, async () => {
      const rng = new Rng(seed + i);
      const { io } = await openSession({ seed: rng.u32(), capture: true, ...sc.config });
      const reads = (n: number) => Array.from({ length: n }, () => io.host.read(1, rng.int(1000), rng.range(1, 12)));
      await io.run(Promise.all(reads(3)));
      if (sc.badDdgst) io.target.lie(...Array<"bad-ddgst">(sc.badDdgst).fill("bad-ddgst"));
      await io.run(Promise.all(reads(3)));
      await io.run(io.host.write(1, rng.int(1000), rng.bytes(8 * 512))); // R2T + H2CData

      if (sc.config.mss !== undefined) {
        // The scenario must really split headers: some C2HData header starts less than 28 bytes before a
        // segment boundary.
        const starts = io.captured.filter((f) => f.from === "target").map((f) => parseFrame(f.data).tcp!.seq);
        const split = io.target.sent.some((p) => starts.some((s) => ((s - p.seq) >>> 0) > 0 && ((s - p.seq) >>> 0) < 28));
        expect(split).toBe(true);
      }

      const file = join(dir, `scenario-${i}.pcap`);
      writeFileSync(file, writePcap(io.captured.map((f) => ({ data: f.data }))));
      const seen = await nvmeTcpPdus(file, NVME_TCP_PORT);

      const c2h = seen.filter((p) => C2H_TYPES.has(p.type));
      expect(c2h.length).toBe(io.target.sent.length);
      io.target.sent.forEach((meant, k) => {
        const got = c2h[k]!;
        expect({ type: got.type, flags: got.flags, plen: got.plen }).toEqual({ type: meant.type, flags: meant.flags, plen: meant.length });
        if (meant.cid !== undefined) expect(got.cid).toBe(meant.cid);
        if (meant.type === 0x07) expect({ datao: got.datao, datal: got.datal }).toEqual({ datao: meant.datao, datal: meant.datal });
        if (meant.hdgst) expect(got.hdgstStatus).toBe(DigestStatus.good);
        if (meant.ddgst) expect(got.ddgstStatus).toBe(meant.lie === "bad-ddgst" ? DigestStatus.bad : DigestStatus.good);
      });
      expect(c2h.filter((p) => p.ddgstStatus === DigestStatus.bad).length).toBe(sc.badDdgst ?? 0);

      // The host's side: the ICReq, one capsule per command, H2CData for the write, header digests all good.
      const h2c = seen.filter((p) => !C2H_TYPES.has(p.type));
      expect(h2c[0]!.type).toBe(0x00);
      expect(h2c.filter((p) => p.type === 0x04).length).toBe(io.host.counters.commandsSent);
      expect(h2c.filter((p) => p.type === 0x06).length).toBe(io.host.counters.h2cDataPdus);
      if (sc.config.hdgst) for (const p of h2c.slice(1)) expect(p.hdgstStatus).toBe(DigestStatus.good);
    });
  }
});
