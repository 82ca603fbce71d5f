// Frame build and parse rates of src/net, for the record and to catch slowdowns: `npx tsx bench/net.ts`.

import { pathToFileURL } from "node:url";
import { buildTcpFrame, parseFrame, type TcpSegmentSpec } from "../src/net/frame.js";

export interface NetBenchRow {
  case: string;
  buildPerSec: number;
  parsePerSec: number;
  /** Parse throughput in Gbit/s of frame bytes. */
  parseGbps: number;
}

function rate(iterations: number, fn: () => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return iterations / (Number(process.hrtime.bigint() - start) / 1e9);
}

export async function benchNet(iterations = 20000): Promise<NetBenchRow[]> {
  const base = { srcMac: "02:00:00:00:00:01", dstMac: "02:00:00:00:00:02", srcPort: 4420, dstPort: 50000, seq: 1, ack: 2, flags: { ack: true } };
  const cases: [string, TcpSegmentSpec][] = [
    ["IPv4 64 B", { ...base, ipVersion: 4, srcIp: "10.0.0.1", dstIp: "10.0.0.2", payload: new Uint8Array(64) }],
    ["IPv4 1448 B + ts", { ...base, ipVersion: 4, srcIp: "10.0.0.1", dstIp: "10.0.0.2", payload: new Uint8Array(1448), options: [{ kind: "nop" }, { kind: "nop" }, { kind: "timestamps", tsval: 1, tsecr: 2 }] }],
    ["IPv6+VLAN 1428 B", { ...base, ipVersion: 6, srcIp: "fd00::1", dstIp: "fd00::2", vlan: { vid: 100 }, payload: new Uint8Array(1428) }],
  ];
  const rows = cases.map(([name, spec]): NetBenchRow => {
    const frame = buildTcpFrame(spec);
    const parsePerSec = rate(iterations, () => parseFrame(frame));
    return { case: name, buildPerSec: rate(iterations, () => buildTcpFrame(spec)), parsePerSec, parseGbps: (parsePerSec * frame.length * 8) / 1e9 };
  });
  console.table(rows.map((r) => ({ case: r.case, "build/s": Math.round(r.buildPerSec), "parse/s": Math.round(r.parsePerSec), "parse Gbit/s": r.parseGbps.toFixed(2) })));
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await benchNet();
