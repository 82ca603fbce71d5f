import { describe, expect, it } from "vitest";
import { ipv6ToBytes } from "../../src/net/addr.js";
import { ParseError } from "../../src/net/errors.js";
import {
  buildIpFrame,
  buildTcpFrame,
  buildUdpFrame,
  flowKey,
  flowKeyOf,
  flowOf,
  IPPROTO,
  parseFrame,
  reverseFlow,
  type TcpSegmentSpec,
} from "../../src/net/frame.js";
import { writePcap } from "../../src/net/pcap.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";
import { randomFlow, randomSegment } from "./gen.js";
import { OutOfBoundsRead, strictBytes } from "./strict-bytes.js";
import { tsharkFields } from "./tshark.js";

const seed = seedFromEnv();
console.log(`frame.test.ts SEED=${seed}`);

// RFC 9293 3.1 flag bits, written out here independently of the builder.
const FLAG_BITS = { fin: 0x01, syn: 0x02, rst: 0x04, psh: 0x08, ack: 0x10, urg: 0x20, ece: 0x40, cwr: 0x80 } as const;

function expectedFlags(spec: TcpSegmentSpec): number {
  return Object.entries(FLAG_BITS).reduce((v, [name, bit]) => (spec.flags[name as keyof typeof FLAG_BITS] ? v | bit : v), 0);
}

function sameIp(a: string, b: string): boolean {
  return a.includes(":") ? ipv6ToBytes(a).join() === ipv6ToBytes(b).join() : a === b;
}

describe("frames against tshark", () => {
  it("checksums, headers and options of random IPv4/IPv6/VLAN frames, and bad checksums are seen as bad", () => {
    const rng = new Rng(seed);
    type Case = { frame: Uint8Array; check: (row: Record<string, string>) => void };
    const cases: Case[] = [];
    const TCP_GOOD = 1;
    const TCP_BAD = 0;
    for (let i = 0; i < 60; i++) {
      const spec = randomSegment(rng, randomFlow(rng, i % 2 === 0 ? 4 : 6));
      const frame = buildTcpFrame(spec);
      cases.push({
        frame,
        check: (row) => {
          expect(row["tcp.checksum.status"]).toBe(String(TCP_GOOD));
          if (spec.ipVersion === 4) {
            expect(row["ip.checksum.status"]).toBe("1");
            expect(row["ip.src"]).toBe(spec.srcIp);
            expect(row["ip.dst"]).toBe(spec.dstIp);
            expect(Number(row["ip.id"])).toBe(spec.ipId);
            expect(Number(row["ip.ttl"])).toBe(spec.ttl);
          } else {
            expect(sameIp(row["ipv6.src"]!, spec.srcIp)).toBe(true);
            expect(sameIp(row["ipv6.dst"]!, spec.dstIp)).toBe(true);
            // tshark prints RFC 5952 text: our parser must print the same (except the mixed dotted form tshark
            // uses for ::a.b.c.d and ::ffff:a.b.c.d, which we print in hex).
            const parsed = parseFrame(frame);
            const mixed = (ip: string): boolean => ipv6ToBytes(ip).subarray(0, 10).every((b) => b === 0);
            if (!mixed(spec.srcIp)) expect(parsed.ip?.src).toBe(row["ipv6.src"]);
            if (!mixed(spec.dstIp)) expect(parsed.ip?.dst).toBe(row["ipv6.dst"]);
            expect(Number(row["ipv6.hlim"])).toBe(spec.ttl);
          }
          expect(row["vlan.id"]).toBe(spec.vlan ? String(spec.vlan.vid) : "");
          expect(row["vlan.priority"]).toBe(spec.vlan ? String(spec.vlan.pcp) : "");
          expect(Number(row["tcp.srcport"])).toBe(spec.srcPort);
          expect(Number(row["tcp.dstport"])).toBe(spec.dstPort);
          expect(Number(row["tcp.seq_raw"])).toBe(spec.seq);
          expect(Number(row["tcp.ack_raw"])).toBe(spec.ack);
          expect(Number(row["tcp.flags"])).toBe(expectedFlags(spec));
          expect(Number(row["tcp.window_size_value"])).toBe(spec.window);
          expect(Number(row["tcp.len"])).toBe(spec.payload.length);
          const opts = spec.options ?? [];
          const one = <K extends string>(kind: K) => opts.find((o) => o.kind === kind);
          const mss = one("mss");
          expect(row["tcp.options.mss_val"]).toBe(mss?.kind === "mss" ? String(mss.value) : "");
          const ws = one("wscale");
          expect(row["tcp.options.wscale.shift"]).toBe(ws?.kind === "wscale" ? String(ws.shift) : "");
          const ts = one("timestamps");
          expect(row["tcp.options.timestamp.tsval"]).toBe(ts?.kind === "timestamps" ? String(ts.tsval) : "");
          expect(row["tcp.options.timestamp.tsecr"]).toBe(ts?.kind === "timestamps" ? String(ts.tsecr) : "");
          const sack = one("sack");
          expect(row["tcp.options.sack_le"]).toBe(sack?.kind === "sack" ? String(sack.blocks[0]!.left) : "");
          expect(parseFrame(frame).checksumOk).toBe(true);
        },
      });
      if (i % 3 === 0) {
        // One byte flipped in the TCP payload, or in the header's sequence number when there is no payload.
        const bad = frame.slice();
        const parsed = parseFrame(frame);
        const at = parsed.payload.length > 0 ? parsed.payloadOffset + rng.int(parsed.payload.length) : parsed.l4Offset! + 4;
        bad[at]! ^= 1 << rng.int(8);
        cases.push({
          frame: bad,
          check: (row) => {
            expect(row["tcp.checksum.status"]).toBe(String(TCP_BAD));
            expect(parseFrame(bad).tcp?.checksumOk).toBe(false);
            expect(parseFrame(bad).checksumOk).toBe(false);
          },
        });
      }
      if (i % 4 === 0 && spec.ipVersion === 4) {
        // TTL is not in the TCP pseudo-header: only the IP header checksum breaks.
        const bad = frame.slice();
        const l3 = parseFrame(frame).l3Offset;
        bad[l3 + 8]! ^= 0x10;
        cases.push({
          frame: bad,
          check: (row) => {
            expect(row["ip.checksum.status"]).toBe("0");
            expect(row["tcp.checksum.status"]).toBe(String(TCP_GOOD));
            const p = parseFrame(bad);
            expect(p.ip?.version === 4 && p.ip.checksumOk).toBe(false);
            expect(p.tcp?.checksumOk).toBe(true);
            expect(p.checksumOk).toBe(false);
          },
        });
      }
    }
    for (const ipVersion of [4, 6] as const) {
      const flow = randomFlow(rng, ipVersion);
      const payload = rng.bytes(rng.range(0, 300));
      const frame = buildUdpFrame({ ...flow, payload });
      cases.push({
        frame,
        check: (row) => {
          expect(row["udp.checksum.status"]).toBe("1");
          expect(Number(row["udp.srcport"])).toBe(flow.srcPort);
          const p = parseFrame(frame);
          expect(p.udp?.checksumOk).toBe(true);
          expect(Array.from(p.payload)).toEqual(Array.from(payload));
        },
      });
    }
    // IPv6 extension headers spliced in front of a UDP datagram (its checksum does not change): hop-by-hop options
    // (PadN), then an atomic fragment header; and a real fragment (M=1), whose UDP header must not be parsed.
    for (const more of [false, true]) {
      const flow = randomFlow(rng, 6);
      const payload = rng.bytes(rng.range(1, 100));
      const plain = buildUdpFrame({ ...flow, payload });
      const l3 = flow.vlan ? 18 : 14;
      const hopByHop = [44, 0, 1, 4, 0, 0, 0, 0]; // next: fragment; PadN of 4 bytes
      const fragmentHeader = [17, 0, 0, more ? 1 : 0, 0, 0, 0x12, 0x34]; // next: UDP; offset 0; id 0x1234
      const frame = new Uint8Array(plain.length + 16);
      frame.set(plain.subarray(0, l3 + 40));
      frame.set([...hopByHop, ...fragmentHeader], l3 + 40);
      frame.set(plain.subarray(l3 + 40), l3 + 56);
      frame[l3 + 6] = 0; // next header: hop-by-hop
      const payloadLength = ((frame[l3 + 4]! << 8) | frame[l3 + 5]!) + 16;
      frame[l3 + 4] = payloadLength >> 8;
      frame[l3 + 5] = payloadLength & 0xff;
      cases.push({
        frame,
        check: (row) => {
          const p = parseFrame(frame);
          expect(p.ip?.headerLength).toBe(56);
          expect(p.ip?.protocol).toBe(IPPROTO.udp);
          expect(p.ip?.isFragment).toBe(more);
          if (more) {
            expect(p.udp).toBeUndefined();
          } else {
            expect(row["udp.checksum.status"]).toBe("1");
            expect(p.udp?.checksumOk).toBe(true);
            expect(Array.from(p.payload)).toEqual(Array.from(payload));
          }
        },
      });
    }
    // IPv4 fragments: flags and offset as tshark reads them, header checksum good.
    const fragFlow = randomFlow(rng, 4);
    for (const fragment of [{ offset: 0, more: true }, { offset: 1480, more: false }]) {
      const frame = buildIpFrame({ ...fragFlow, protocol: IPPROTO.tcp, payload: rng.bytes(64), fragment, ipId: 77 });
      cases.push({
        frame,
        check: (row) => {
          expect(row["ip.checksum.status"]).toBe("1");
          expect(row["ip.flags.mf"]).toBe(fragment.more ? "1" : "0");
          expect(Number(row["ip.frag_offset"]) * 8).toBe(fragment.offset); // tshark counts 8-byte units
          const p = parseFrame(frame);
          expect(p.ip?.isFragment).toBe(true);
          expect(p.tcp).toBeUndefined();
        },
      });
    }

    const fields = [
      "ip.checksum.status", "tcp.checksum.status", "udp.checksum.status", "ip.src", "ip.dst", "ip.id", "ip.ttl",
      "ipv6.src", "ipv6.dst", "ipv6.hlim", "vlan.id", "vlan.priority", "tcp.srcport", "tcp.dstport", "tcp.seq_raw",
      "tcp.ack_raw", "tcp.flags", "tcp.window_size_value", "tcp.len", "tcp.options.mss_val", "tcp.options.wscale.shift",
      "tcp.options.timestamp.tsval", "tcp.options.timestamp.tsecr", "tcp.options.sack_le", "udp.srcport", "ip.flags.mf",
      "ip.frag_offset",
    ];
    const rows = tsharkFields(writePcap(cases.map((c) => ({ data: c.frame }))), fields, [
      "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
      "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE", "-o", "tcp.analyze_sequence_numbers:FALSE", "-o", "tcp.desegment_tcp_streams:FALSE",
    ]);
    expect(rows.length).toBe(cases.length);
    cases.forEach((c, i) => {
      const row = Object.fromEntries(fields.map((f, j) => [f, rows[i]![j] ?? ""]));
      try {
        c.check(row);
      } catch (e) {
        throw new Error(`frame ${i + 1} (SEED=${seed}): ${(e as Error).message}`);
      }
    });
  });
});

describe("parseFrame", () => {
  it("gives back what was built (random specs)", () => {
    const rng = new Rng(seed ^ 1);
    for (let i = 0; i < 300; i++) {
      const spec = randomSegment(rng);
      const p = parseFrame(buildTcpFrame(spec));
      expect(p.tcp).toMatchObject({ srcPort: spec.srcPort, dstPort: spec.dstPort, seq: spec.seq, ack: spec.ack, window: spec.window });
      expect(p.tcp?.options).toEqual(spec.options);
      for (const f of Object.keys(FLAG_BITS) as (keyof typeof FLAG_BITS)[]) expect(p.tcp?.flags[f]).toBe(spec.flags[f] ?? false);
      expect(Array.from(p.payload)).toEqual(Array.from(spec.payload));
      expect(p.vlan?.vid).toBe(spec.vlan?.vid);
      const flow = flowOf(p)!;
      expect(flowKey(p)).toBe(flowKeyOf(spec));
      expect(sameIp(flow.srcIp, spec.srcIp) && sameIp(flow.dstIp, spec.dstIp)).toBe(true);
      expect(flowKeyOf(reverseFlow(flow))).not.toBe(flowKey(p));
    }
  });

  it("ignores Ethernet padding after the IP packet", () => {
    const rng = new Rng(seed ^ 2);
    const spec = { ...randomSegment(rng, randomFlow(rng, 4)), options: [], payload: Uint8Array.of(1, 2, 3) };
    const frame = buildTcpFrame(spec);
    const padded = new Uint8Array(64);
    padded.set(frame);
    padded.fill(0xee, frame.length);
    const p = parseFrame(padded);
    expect(Array.from(p.payload)).toEqual([1, 2, 3]);
    expect(p.checksumOk).toBe(true);
  });

  it("names the layer and byte offset of malformed headers", () => {
    const rng = new Rng(seed ^ 3);
    const spec = { ...randomSegment(rng, { ...randomFlow(rng, 4), vlan: { vid: 5 } }), options: [], payload: rng.bytes(10) };
    const frame = buildTcpFrame(spec);
    const l3 = 18;
    const l4 = l3 + 20;
    const cases: [string, (b: Uint8Array) => void, string, number][] = [
      ["IHL 4", (b) => void (b[l3] = 0x44), "ipv4", l3],
      ["total length beyond the frame", (b) => void (b[l3 + 2] = 0xff), "ipv4", l3],
      ["total length below the header", (b) => void ((b[l3 + 2] = 0), (b[l3 + 3] = 19)), "ipv4", l3 + 2],
      ["TCP data offset 4", (b) => void (b[l4 + 12] = 0x40), "tcp", l4 + 12],
      ["TCP data offset beyond the segment", (b) => void (b[l4 + 12] = 0xf0), "tcp", l4 + 12],
    ];
    for (const [what, mutate, layer, offset] of cases) {
      const bad = frame.slice();
      mutate(bad);
      let err: unknown;
      try {
        parseFrame(bad);
      } catch (e) {
        err = e;
      }
      expect(err, what).toBeInstanceOf(ParseError);
      expect([(err as ParseError).layer, (err as ParseError).offset], what).toEqual([layer, offset]);
    }
    // A bad option length inside a header that is otherwise fine.
    const withOpt = buildTcpFrame({ ...spec, options: [{ kind: "mss", value: 1460 }] });
    withOpt[l4 + 21] = 9;
    expect(() => parseFrame(withOpt)).toThrow(expect.objectContaining({ layer: "tcp", offset: l4 + 21 }));
  });

  it("(the out-of-bounds detector used below does detect a read past the end)", () => {
    expect(() => strictBytes(new Uint8Array(4))[4]).toThrow(OutOfBoundsRead);
  });

  it("never reads out of bounds: every truncation and random corruption ends in a result or a ParseError", () => {
    const rng = new Rng(seed ^ 4);
    const tryParse = (bytes: Uint8Array): "ok" | "error" => {
      try {
        parseFrame(strictBytes(bytes));
        return "ok";
      } catch (e) {
        if (e instanceof OutOfBoundsRead || !(e instanceof ParseError)) throw e;
        expect(e.offset).toBeGreaterThanOrEqual(0);
        expect(e.offset).toBeLessThanOrEqual(bytes.length);
        return "error";
      }
    };
    for (let i = 0; i < 40; i++) {
      const frame = buildTcpFrame({ ...randomSegment(rng), payload: rng.bytes(rng.int(40)) });
      for (let len = 0; len < frame.length; len++) expect(tryParse(frame.subarray(0, len))).toBe("error");
      for (let j = 0; j < 100; j++) {
        const bad = frame.slice();
        for (let k = rng.range(1, 4); k > 0; k--) bad[rng.int(Math.min(bad.length, 80))] = rng.u32() & 0xff;
        tryParse(bad);
      }
    }
  });
});
