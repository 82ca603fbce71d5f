// NVMe/TCP codec throughput: encode and decode of 4 KiB C2HData PDUs with both digests, the streaming framer
// over MSS-sized chunks, and raw CRC32C. Numbers are MB/s of PDU bytes (1 MB = 1e6 bytes).
// Run alone: npx tsx bench/nvme.ts

import { pathToFileURL } from "node:url";
import { crc32c } from "../src/pdu/crc32c.js";
import { PduFramer } from "../src/pdu/framer.js";
import { decodePdu, encodePdu, type C2HDataPdu } from "../src/pdu/pdu.js";
import { Rng } from "../src/util/rng.js";

const DIGESTS = { hdgst: true, ddgst: true };
const MSS = 1448;

/** Runs `op` (which handles `bytesPerOp` bytes) repeatedly for about `ms` milliseconds; returns MB/s. */
function measure(bytesPerOp: number, op: () => void, ms = 300): number {
  for (let i = 0; i < 50; i++) op(); // warm-up
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 100; i++) op();
    ops += 100;
    elapsed = performance.now() - start;
  }
  return (ops * bytesPerOp) / (elapsed / 1000) / 1e6;
}

export async function benchNvme(): Promise<Record<string, number>> {
  const rng = new Rng(1);
  const pdu: C2HDataPdu = { kind: "C2HData", cccid: 1, datao: 0, last: true, success: false, data: rng.bytes(4096) };
  const wire = encodePdu(pdu, DIGESTS);

  // A stream of 64 such PDUs cut into MSS-sized chunks, as TCP would deliver it.
  const stream = new Uint8Array(wire.length * 64);
  for (let i = 0; i < 64; i++) stream.set(wire, i * wire.length);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < stream.length; at += MSS) chunks.push(stream.subarray(at, at + MSS));

  const crcInput = rng.bytes(64 * 1024);
  const results: Record<string, number> = {
    "nvme.encode_c2hdata_4k_MBps": measure(wire.length, () => encodePdu(pdu, DIGESTS)),
    "nvme.decode_c2hdata_4k_MBps": measure(wire.length, () => decodePdu(wire, DIGESTS)),
    "nvme.framer_mss_chunks_MBps": measure(stream.length, () => {
      const framer = new PduFramer({ ...DIGESTS, direction: "C2H" });
      for (const c of chunks) framer.push(c);
    }, 300),
    "nvme.crc32c_64k_MBps": measure(crcInput.length, () => crc32c(crcInput)),
  };

  console.log("NVMe/TCP codec (4 KiB C2HData, HDGST+DDGST)");
  for (const [name, value] of Object.entries(results)) console.log(`  ${name.padEnd(32)} ${value.toFixed(0).padStart(8)} MB/s`);
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await benchNvme();
