// Test helper: seeded random flows and TCP segment specs covering IPv4, IPv6, VLAN and TCP options.

import type { FlowAddress, TcpOption, TcpSegmentSpec } from "../../src/net/frame.js";
import type { Rng } from "../../src/util/rng.js";

function randomMac(rng: Rng): string {
  const b = rng.bytes(6);
  b[0] = (b[0]! & 0xfe) | 0x02; // unicast, locally administered
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(":");
}

function randomIpv6(rng: Rng): string {
  // Some zero groups so that "::" compression gets exercised; printed uncompressed on purpose.
  const groups = Array.from({ length: 8 }, () => (rng.chance(0.4) ? 0 : rng.int(0x10000)));
  return groups.map((g) => g.toString(16)).join(":");
}

export function randomFlow(rng: Rng, ipVersion: 4 | 6 = rng.chance(0.5) ? 4 : 6): FlowAddress {
  const flow: FlowAddress = {
    srcMac: randomMac(rng),
    dstMac: randomMac(rng),
    ipVersion,
    srcIp: ipVersion === 4 ? Array.from(rng.bytes(4)).join(".") : randomIpv6(rng),
    dstIp: ipVersion === 4 ? Array.from(rng.bytes(4)).join(".") : randomIpv6(rng),
    srcPort: rng.int(0x10000),
    dstPort: rng.int(0x10000),
  };
  if (rng.chance(0.4)) flow.vlan = { vid: rng.int(4096), pcp: rng.int(8) };
  return flow;
}

export function randomOptions(rng: Rng): TcpOption[] {
  const candidates: TcpOption[][] = [
    [{ kind: "mss", value: rng.range(536, 9000) }],
    [{ kind: "nop" }, { kind: "wscale", shift: rng.int(15) }],
    [{ kind: "sackPermitted" }],
    [{ kind: "nop" }, { kind: "nop" }, { kind: "timestamps", tsval: rng.u32(), tsecr: rng.u32() }],
    [{ kind: "nop" }, { kind: "nop" }, { kind: "sack", blocks: [{ left: rng.u32(), right: rng.u32() }] }],
  ];
  const options: TcpOption[] = [];
  let size = 0;
  for (const group of candidates) {
    if (!rng.chance(0.4)) continue;
    const bytes = group.reduce((n, o) => n + optionSize(o), 0);
    if (size + bytes > 40) continue;
    options.push(...group);
    size += bytes;
  }
  return options;
}

function optionSize(o: TcpOption): number {
  switch (o.kind) {
    case "nop":
      return 1;
    case "mss":
      return 4;
    case "wscale":
      return 3;
    case "sackPermitted":
      return 2;
    case "sack":
      return 2 + 8 * o.blocks.length;
    case "timestamps":
      return 10;
    case "raw":
      return 2 + o.data.length;
  }
}

export function randomSegment(rng: Rng, flow: FlowAddress = randomFlow(rng)): TcpSegmentSpec {
  return {
    ...flow,
    seq: rng.u32(),
    ack: rng.u32(),
    flags: { ack: rng.chance(0.9), psh: rng.chance(0.5), syn: rng.chance(0.1), fin: rng.chance(0.1), ece: rng.chance(0.1), cwr: rng.chance(0.1) },
    window: rng.int(0x10000),
    options: randomOptions(rng),
    payload: rng.bytes(rng.chance(0.2) ? 0 : rng.range(1, 1460)),
    ipId: rng.int(0x10000),
    ttl: rng.range(1, 255),
  };
}
