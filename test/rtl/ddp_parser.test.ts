// ddp_parser: frames pass through unchanged, and each gets one verdict equal to the golden model's
// (test/rtl/golden/parser-golden.ts, written from the RFCs), two cycles after its last input beat.
// Traffic: IPv4 / IPv6, with and without 802.1Q, TCP options, IPv4 options, payloads 0..jumbo, short frames
// with Ethernet padding, UDP / ICMP / ARP, IPv4 fragments, IPv6 extension headers, bad checksums, bad
// lengths, truncated frames, garbage and oversize frames; with and without idle and back-pressure.

import { expect } from "vitest";
import {
  AxiStreamMonitor,
  AxiStreamSink,
  AxiStreamSource,
  ClockCycles,
  defineStream,
  describeRtl,
  PAUSE_VARIANTS,
  type Rng,
  setPauses,
} from "../../tb/index.js";
import { checksumOf, sumWords } from "../../src/net/checksum.js";
import {
  ETHERTYPE,
  IPPROTO,
  buildEthernetFrame,
  buildIpFrame,
  buildTcpFrame,
  buildUdpFrame,
  type FlowAddress,
  type TcpOption,
} from "../../src/net/frame.js";
import { parserVerdict, reasonName, type Verdict } from "./golden/parser-golden.js";

const MAX_FRAME = 9216;
/** m_verdict_valid rises this many cycles after the cycle in which the frame's last beat was accepted. */
const VERDICT_DELAY = 2;

const VerdictStream = defineStream("verdict", {
  fields: [
    "ok", "reason", "ipv6", "src_ip", "dst_ip", "src_port", "dst_port", "seq", "tcp_flags", "payload_off",
    "payload_len", "frame_len",
  ],
});
type VerdictTx = InstanceType<typeof VerdictStream.Transaction>;

// ---------------------------------------------------------------------------------------------------------
// Traffic

function randomMac(rng: Rng): string {
  return Array.from(rng.bytes(6), (b) => b.toString(16).padStart(2, "0")).join(":");
}

function randomFlow(rng: Rng, ipVersion: 4 | 6): FlowAddress {
  const ip = (): string =>
    ipVersion === 4
      ? Array.from(rng.bytes(4)).join(".")
      : Array.from({ length: 8 }, () => rng.int(0x10000).toString(16)).join(":");
  return {
    srcMac: randomMac(rng), dstMac: randomMac(rng),
    ...(rng.chance(0.3) && { vlan: { vid: rng.int(4096), pcp: rng.int(8) } }),
    ipVersion, srcIp: ip(), dstIp: ip(), srcPort: rng.int(0x10000), dstPort: rng.int(0x10000),
  };
}

function randomOptions(rng: Rng): TcpOption[] {
  const all: TcpOption[] = [
    { kind: "mss", value: rng.int(0x10000) },
    { kind: "nop" },
    { kind: "wscale", shift: rng.int(15) },
    { kind: "sackPermitted" },
    { kind: "timestamps", tsval: rng.u32(), tsecr: rng.u32() },
    { kind: "sack", blocks: [{ left: rng.u32(), right: rng.u32() }] },
  ];
  return all.filter(() => rng.chance(0.4));
}

/** Payload sizes: mostly small and MTU-sized, sometimes jumbo. */
function randomPayloadLength(rng: Rng, headroom: number): number {
  const r = rng.float();
  if (r < 0.3) return rng.int(16);
  if (r < 0.8) return rng.int(1500);
  if (r < 0.97) return rng.range(1500, 4000);
  return rng.range(MAX_FRAME - 200, MAX_FRAME - headroom);
}

function tcpFrame(rng: Rng, ipVersion: 4 | 6 = rng.chance(0.5) ? 4 : 6): Uint8Array {
  const flow = randomFlow(rng, ipVersion);
  return buildTcpFrame({
    ...flow, seq: rng.u32(), ack: rng.u32(), flags: { ack: true, psh: rng.chance(0.5), fin: rng.chance(0.1) },
    options: randomOptions(rng), payload: rng.bytes(randomPayloadLength(rng, 18 + 40 + 60)),
  });
}

function l3Of(frame: Uint8Array): number {
  return frame[12] === 0x81 && frame[13] === 0x00 ? 18 : 14;
}

/** Inserts IPv4 options (RFC 791) into an IPv4 frame, fixing IHL, total length and the header checksum. */
function withIpv4Options(frame: Uint8Array, optionWords: number, rng: Rng): Uint8Array {
  const l3 = l3Of(frame);
  const opts = rng.bytes(optionWords * 4);
  const out = new Uint8Array(frame.length + opts.length);
  out.set(frame.subarray(0, l3 + 20));
  out.set(opts, l3 + 20);
  out.set(frame.subarray(l3 + 20), l3 + 20 + opts.length);
  out[l3] = 0x40 | (5 + optionWords);
  const total = ((out[l3 + 2]! << 8) | out[l3 + 3]!) + opts.length;
  out[l3 + 2] = total >> 8;
  out[l3 + 3] = total & 0xff;
  fixIpv4Checksum(out, l3);
  return out;
}

function fixIpv4Checksum(frame: Uint8Array, l3: number): void {
  const end = l3 + (frame[l3]! & 0x0f) * 4;
  frame[l3 + 10] = 0;
  frame[l3 + 11] = 0;
  const c = checksumOf(sumWords(frame, l3, end));
  frame[l3 + 10] = c >> 8;
  frame[l3 + 11] = c & 0xff;
}

/** Ethernet pads frames to 60 bytes (without FCS); padding is not part of the IP datagram. */
function padded(frame: Uint8Array, rng: Rng): Uint8Array {
  const out = new Uint8Array(Math.max(60, frame.length) + (rng.chance(0.2) ? rng.int(10) : 0));
  out.set(frame);
  out.set(rng.bytes(out.length - frame.length), frame.length);
  return out;
}

function flipByte(frame: Uint8Array, at: number, rng: Rng): Uint8Array {
  const out = Uint8Array.from(frame);
  out[at] = out[at]! ^ rng.range(1, 255);
  return out;
}

/** One frame of a random kind; the golden model decides what the verdict must be. */
function randomFrame(rng: Rng): Uint8Array {
  const kind = rng.int(16);
  switch (kind) {
    case 0: { // short TCP segment, padded to the Ethernet minimum
      const flow = randomFlow(rng, rng.chance(0.7) ? 4 : 6);
      return padded(buildTcpFrame({ ...flow, seq: rng.u32(), ack: rng.u32(), flags: { ack: true }, payload: rng.bytes(rng.int(8)) }), rng);
    }
    case 1: // IPv4 with options
      return withIpv4Options(tcpFrame(rng, 4), rng.range(1, 10), rng);
    case 2: { // not TCP: UDP, ICMP, ARP
      const flow = randomFlow(rng, rng.chance(0.5) ? 4 : 6);
      const which = rng.int(3);
      if (which === 0) return padded(buildUdpFrame({ ...flow, payload: rng.bytes(rng.int(300)) }), rng);
      if (which === 1) return padded(buildIpFrame({ ...flow, protocol: IPPROTO.icmp, payload: rng.bytes(rng.int(100)) }), rng);
      return padded(buildEthernetFrame(flow, ETHERTYPE.arp, rng.bytes(28)), rng);
    }
    case 3: { // IPv4 fragment of a TCP segment
      const flow = randomFlow(rng, 4);
      const offset = rng.chance(0.5) ? 0 : 8 * rng.range(1, 100);
      return padded(buildIpFrame({ ...flow, protocol: IPPROTO.tcp, fragment: { offset, more: offset === 0 || rng.chance(0.5) }, payload: rng.bytes(rng.range(20, 600)) }), rng);
    }
    case 4: { // IPv6 extension header (hop-by-hop, routing, fragment, destination options)
      const flow = randomFlow(rng, 6);
      return padded(buildIpFrame({ ...flow, protocol: rng.pick([0, 43, 44, 60]), payload: rng.bytes(rng.range(8, 200)) }), rng);
    }
    case 5: { // bad IPv4 header checksum
      const f = tcpFrame(rng, 4);
      return flipByte(f, l3Of(f) + rng.int(20), rng);
    }
    case 6: { // bad TCP checksum: any byte of the segment or of the pseudo-header addresses
      const f = tcpFrame(rng);
      const l3 = l3Of(f);
      const v6 = f[l3]! >> 4 === 6;
      const start = v6 ? l3 + 8 : l3 + 20;
      const out = flipByte(f, rng.range(start, f.length - 1), rng);
      if (!v6 && rng.chance(0.5)) fixIpv4Checksum(out, l3);
      return out;
    }
    case 7: // truncated
      return tcpFrame(rng).subarray(0, rng.range(1, 120));
    case 8: { // truncated inside the payload
      const f = tcpFrame(rng);
      return f.subarray(0, rng.range(Math.min(f.length - 1, 60), f.length - 1));
    }
    case 9: // garbage
      return rng.bytes(rng.range(1, 200));
    case 10: { // garbage after an IP ethertype
      const f = rng.bytes(rng.range(14, 200));
      f[12] = rng.chance(0.5) ? 0x08 : 0x86;
      f[13] = f[12] === 0x08 ? 0x00 : 0xdd;
      f[14] = (f[12] === 0x08 ? 0x40 : 0x60) | (f[14]! & 0x0f);
      return f;
    }
    case 11: { // bad lengths: IHL, total length, data offset
      const f = Uint8Array.from(tcpFrame(rng));
      const l3 = l3Of(f);
      const v6 = f[l3]! >> 4 === 6;
      const which = rng.int(3);
      if (which === 0 && !v6) f[l3] = 0x40 | rng.int(5);
      else if (which === 1) f[l3 + (v6 ? 4 : 2)] = rng.int(256);
      else f[l3 + (v6 ? 40 : 20) + 12] = rng.int(5) << 4;
      if (!v6 && (f[l3]! & 0x0f) >= 5) fixIpv4Checksum(f, l3);
      return f;
    }
    case 12: { // oversize
      const flow = randomFlow(rng, 4);
      return buildTcpFrame({ ...flow, seq: rng.u32(), ack: 0, flags: {}, payload: rng.bytes(rng.range(MAX_FRAME - 50, MAX_FRAME + 100)) });
    }
    default:
      return tcpFrame(rng);
  }
}

function expectedOf(v: Verdict): Record<string, bigint> {
  const e: Record<string, bigint> = { ok: v.ok ? 1n : 0n, reason: BigInt(v.reason) };
  if (v.frameLen <= MAX_FRAME) e.frame_len = BigInt(v.frameLen);
  if (!v.ok) return e;
  return {
    ...e, ipv6: v.ipv6 ? 1n : 0n, src_ip: v.srcIp, dst_ip: v.dstIp, src_port: BigInt(v.srcPort),
    dst_port: BigInt(v.dstPort), seq: BigInt(v.seq), tcp_flags: BigInt(v.tcpFlags),
    payload_off: BigInt(v.payloadOff), payload_len: BigInt(v.payloadLen),
  };
}

function actualOf(tx: VerdictTx, keys: readonly string[]): Record<string, bigint> {
  const values = tx.values as Record<string, bigint>;
  return Object.fromEntries(keys.map((k) => [k, values[k]!]));
}

// ---------------------------------------------------------------------------------------------------------

describeRtl("ddp_parser", { top: "ddp_parser", ports: ["clk"] }, (rtl) => {
  for (const v of PAUSE_VARIANTS) {
    rtl.test(`random frames, ${v.name}`, async ({ dut, rng }) => {
      const source = new AxiStreamSource(dut, "s_axis");
      const inputs = new AxiStreamMonitor(dut, "s_axis");
      const sink = new AxiStreamSink(dut, "m_axis");
      const verdicts = new VerdictStream.Sink(dut, "m_verdict");
      await setPauses(rng, v, { sources: [source], sinks: [sink] });

      const frames = Array.from({ length: 1000 }, () => randomFrame(rng));
      await source.send(frames);
      const out = await sink.recvMany(frames.length);
      const seen = await inputs.recvMany(frames.length);
      const got = await verdicts.recvMany(frames.length);

      const reasons = new Map<string, number>();
      frames.forEach((frame, i) => {
        expect(Buffer.from(out[i]!.tdata).equals(frame), `frame ${i} (${frame.length} bytes) changed`).toBe(true);
        const golden = parserVerdict(frame, MAX_FRAME);
        const expected = expectedOf(golden);
        const label = `frame ${i} (${frame.length} bytes, expected ${reasonName(golden.reason)}, got ${reasonName(Number(got[i]!.values.reason))})`;
        expect(actualOf(got[i]!, Object.keys(expected)), label).toEqual(expected);
        expect(got[i]!.start, `${label}: verdict timing`).toBe(seen[i]!.end! + VERDICT_DELAY);
        reasons.set(reasonName(golden.reason), (reasons.get(reasonName(golden.reason)) ?? 0) + 1);
      });
      if (v.idle === 0 && v.backpressure === 0) {
        // Line rate: the input never stalls, one beat per cycle, frames back to back.
        seen.forEach((f, i) => {
          expect(f.end! - f.start! + 1, `frame ${i}: input beats`).toBe(Math.ceil(frames[i]!.length / 8));
          if (i > 0) expect(f.start, `frame ${i}: input gap`).toBe(seen[i - 1]!.end! + 1);
        });
      }
      console.log(`[ddp_parser] ${v.name}: ${[...reasons].map(([r, n]) => `${r} ${n}`).join(", ")}`);
      // Every reason the traffic is meant to reach is reached.
      for (const r of ["ok", "notIp", "truncated", "badLength", "ipCsum", "fragment", "ipv6Ext", "notTcp", "tcpCsum", "oversize"]) {
        expect(reasons.get(r) ?? 0, `no frame with reason ${r}`).toBeGreaterThan(0);
      }

      await ClockCycles(dut.clk, 20);
      expect(await sink.empty(), "extra frames out").toBe(true);
      expect(await verdicts.empty(), "extra verdicts").toBe(true);
    });
  }

  rtl.test("back-to-back one-beat frames and single bytes", async ({ dut, rng }) => {
    const source = new AxiStreamSource(dut, "s_axis");
    const sink = new AxiStreamSink(dut, "m_axis");
    const verdicts = new VerdictStream.Sink(dut, "m_verdict");
    const frames = Array.from({ length: 200 }, () => rng.bytes(rng.range(1, 16)));
    await source.send(frames);
    const out = await sink.recvMany(frames.length);
    const got = await verdicts.recvMany(frames.length);
    frames.forEach((frame, i) => {
      expect(Buffer.from(out[i]!.tdata).equals(frame), `frame ${i}`).toBe(true);
      const expected = expectedOf(parserVerdict(frame, MAX_FRAME));
      expect(actualOf(got[i]!, Object.keys(expected)), `frame ${i}`).toEqual(expected);
    });
    await ClockCycles(dut.clk, 10);
    expect(await verdicts.empty()).toBe(true);
  });
});
