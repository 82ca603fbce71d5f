// The target's malicious mode: each lie comes out as asked (checked with the codec's decoder, written
// independently of the target) and the software host refuses it the way Linux would.

import { describe, expect, it } from "vitest";
import { parseFrame } from "../../src/net/frame.js";
import { seqDiff } from "../../src/net/seq.js";
import { DATA_TRANSFER_ERROR_STATUS } from "../../src/nvme/host.js";
import { decodePdu, PduError } from "../../src/pdu/pdu.js";
import { type Lie, LIES } from "../../src/nvmet/controller.js";
import { openSession, type QueuePair } from "../../src/stack/session.js";
import { seedFromEnv } from "../../src/util/rng.js";

const seed = seedFromEnv();
console.log(`malicious.test seed=${seed} (SEED=${seed} to reproduce)`);

const TARGET_ISN = 0xffff_ff00;

/** The controller -> host byte stream, rebuilt from the captured frames (clean wire: no gaps). */
function c2hStream(pair: QueuePair): Uint8Array {
  const parts = pair.captured
    .filter((f) => f.from === "target")
    .map((f) => parseFrame(f.data))
    .map((p) => ({ at: seqDiff(p.tcp!.seq, TARGET_ISN), data: p.payload }));
  const out = new Uint8Array(parts.reduce((n, p) => Math.max(n, p.at + p.data.length), 0));
  for (const p of parts) out.set(p.data, p.at);
  return out;
}

/** What the host reports for each lie: a fatal error code, or a command failing its data digest. */
const hostVerdict: Record<Lie, string> = {
  "datao-beyond-transfer": "DATA_OUT_OF_RANGE",
  "unknown-cid": "BAD_CID",
  "hlen-255-with-hdgst": "BAD_HLEN",
  "plen-below-pdo": "BAD_PDO",
  "datal-plen-mismatch": "BAD_DATAL",
  "pdo-misaligned": "BAD_PDO",
  "wrong-digest-flags": "BAD_FLAGS",
  "bad-ddgst": "DATA_TRANSFER_ERROR",
  "bad-hdgst": "HDGST_MISMATCH",
};

/**
 * The codec's view of the lying PDU alone (no command context, so range and CID lies decode; a misaligned pdo and a
 * cleared digest flag are findings of a PDU that still frames, the host's policy makes them fatal).
 */
const codecVerdict: Record<Lie, string> = {
  ...hostVerdict,
  "datao-beyond-transfer": "decodes",
  "unknown-cid": "BAD_CID",
  "bad-ddgst": "ddgst-bad",
  "pdo-misaligned": "finding PDO_MISALIGNED",
  "wrong-digest-flags": "finding DDGST_FLAG_MISSING",
};

describe("malicious target", () => {
  for (const lie of LIES) {
    it(`tells the lie '${lie}' and the host refuses it`, async () => {
      const { io } = await openSession({ seed, hdgst: true, ddgst: true, c2hDataSize: 2048, targetIsn: TARGET_ISN, capture: true });
      io.target.lie(lie);
      const read = io.run(io.host.read(1, 8, 8)); // 4096 bytes: two C2HData PDUs, the first one lies
      if (hostVerdict[lie] === "DATA_TRANSFER_ERROR") {
        expect((await read).status).toBe(DATA_TRANSFER_ERROR_STATUS);
        expect(io.host.failure).toBeUndefined();
      } else {
        await expect(read).rejects.toThrow(hostVerdict[lie]);
        expect(io.host.failure?.code).toBe(hostVerdict[lie]);
      }

      const record = io.target.sent.find((s) => s.lie !== undefined)!;
      expect(record.lie).toBe(lie);
      const bytes = c2hStream(io).subarray(seqDiff(record.seq, TARGET_ISN), seqDiff(record.seq, TARGET_ISN) + record.length);
      // The read's CID, from the second C2HData PDU, which is honest.
      const readCid = io.target.sent.find((s) => s.type === 0x07 && s.lie === undefined)!.cid;
      let verdict: string;
      try {
        const d = decodePdu(bytes, { hdgst: true, ddgst: true, direction: "C2H", isKnownCid: (cid) => cid === readCid });
        verdict = d.ddgstOk === false ? "ddgst-bad" : d.findings.length > 0 ? `finding ${d.findings.map((f) => f.code).join(" ")}` : "decodes";
        if (d.pdu.kind === "C2HData" && lie === "datao-beyond-transfer") expect(d.pdu.datao + d.pdu.data.length).toBeGreaterThan(4096);
      } catch (e) {
        if (!(e instanceof PduError)) throw e;
        verdict = e.code;
      }
      expect(verdict).toBe(codecVerdict[lie]);
    });
  }

  it("refuses digest lies when those digests were not negotiated", async () => {
    const { io } = await openSession({ seed, hdgst: false, ddgst: false });
    expect(() => io.target.lie("bad-ddgst")).toThrow();
    expect(() => io.target.lie("bad-hdgst")).toThrow();
  });
});
