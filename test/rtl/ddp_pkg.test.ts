// ddp_pkg against the TypeScript contract: rtl/ddp_pkg.sv (and the LIMITS_GET case of rtl/ddp_cmd.sv, which
// holds the limit indexes) is parsed as text and every opcode, status, event kind, capability bit, statistics
// index and limit index is compared with src/contract/protocol.ts, both ways: a value that differs, a name
// only one side has, or a counter in another order fails. No simulator: the RTL is read, not run.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../src/cosim/index.js";
import { Cap, EventKind, Limit, Op, STAT_NAMES, Status } from "../../src/contract/protocol.js";
import { HEADER_LENGTH, PduType, TERM_REQ_MAX_PLEN } from "../../src/pdu/pdu.js";

const PKG = readFileSync(join(REPO_ROOT, "rtl/ddp_pkg.sv"), "utf8");
const CMD = readFileSync(join(REPO_ROOT, "rtl/ddp_cmd.sv"), "utf8");

/** A SystemVerilog integer literal: 42, 4'd9, 8'h07, 2'b10, 'd3 (underscores allowed). */
function svNumber(text: string): number {
  const t = text.replace(/_/g, "").trim();
  const m = /^(?:\d*)'([sS]?)([dDhHbBoO])([0-9a-fA-F]+)$/.exec(t);
  if (m) return parseInt(m[3]!, { d: 10, h: 16, b: 2, o: 8 }[m[2]!.toLowerCase() as "d" | "h" | "b" | "o"]);
  if (/^\d+$/.test(t)) return Number(t);
  throw new Error(`not a SystemVerilog number: '${text}'`);
}

/** Every `localparam <type> NAME = value;` and every `NAME = value` member of a `typedef enum`, by name. */
function parsePackage(text: string): Map<string, number> {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
  const out = new Map<string, number>();
  const put = (name: string, value: string) => {
    if (out.has(name)) throw new Error(`${name} defined twice`);
    out.set(name, svNumber(value));
  };
  for (const m of code.matchAll(/\blocalparam\s+(?:[\w:]+\s+)?(?:\[[^\]]*\]\s*)?(\w+)\s*=\s*([^;]+);/g)) put(m[1]!, m[2]!);
  for (const m of code.matchAll(/\btypedef\s+enum\b[^{]*\{([^}]*)\}/g)) {
    for (const member of m[1]!.split(",")) {
      const e = /^\s*(\w+)\s*=\s*(.+?)\s*$/.exec(member);
      if (e) put(e[1]!, e[2]!);
    }
  }
  return out;
}

/** The LIMITS_GET case of ddp_cmd: index -> what it answers (a parameter name or a constant). */
function parseLimits(text: string): Map<number, string> {
  const body = /ddp_pkg::OP_LIMITS_GET\s*:\s*begin([\s\S]*?)endcase/.exec(text);
  if (!body) throw new Error("no LIMITS_GET case in ddp_cmd.sv");
  const out = new Map<number, string>();
  for (const m of body[1]!.matchAll(/^\s*([0-9]*'[dDhH][0-9a-fA-F_]+|\d+)\s*:\s*cmpl_data\s*=\s*64'(?:\((\w+)\)|([dDhH][0-9a-fA-F_]+))\s*;/gm)) {
    out.set(svNumber(m[1]!), m[2] ?? String(svNumber(`'${m[3]!}`)));
  }
  return out;
}

/** The package's constants with prefix `prefix`, by the rest of their name. */
function withPrefix(pkg: Map<string, number>, prefix: string): Record<string, number> {
  return Object.fromEntries([...pkg].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}

/** RTL counter names (STAT_<name>) of the contract's counters (STAT_NAMES: docs/offload-contract.md names). */
const STAT_RTL_NAME: Record<(typeof STAT_NAMES)[number], string> = {
  rxNvmeTcpPackets: "PACKETS",
  rxNvmeTcpBytes: "BYTES",
  rxNvmeTcpDrop: "DROP",
  rxNvmeTcpResync: "RESYNC",
  pdusCrcOk: "CRC_OK",
  pdusCrcBad: "CRC_BAD",
  oooPackets: "OOO",
  retransmits: "RETRANSMIT",
  searches: "SEARCHES",
  passthrough: "PASSTHROUGH",
  oversize: "OVERSIZE",
  resyncConfirms: "RESYNC_CONFIRMS",
  resyncTimeouts: "RESYNC_TIMEOUTS",
  resyncMisses: "RESYNC_MISSES",
  tagCollisions: "TAG_COLLISIONS",
  poolExhausted: "POOL_EXHAUSTED",
};

/** What ddp_cmd answers for each limit of the contract (Limit): a ddp_top parameter, or a constant. */
const LIMIT_RTL: Record<keyof typeof Limit, string> = {
  maxDdpSglLen: "MAX_SGL",
  ioThreshold: "IO_THRESHOLD",
  fullCcidRange: "1",
  tls: "0",
  nCtx: "N_CTX",
  nTags: "N_TAGS",
  maxSegs: "MAX_SEGS",
  latency: "LATENCY",
  maxFrame: "MAX_FRAME",
  page: "PAGE",
  poolPages: "POOL_PAGES",
};

/** Every difference between the RTL's constants and the TypeScript contract (empty when they agree). */
function contractDiff(pkgText: string, cmdText: string): string[] {
  const pkg = parsePackage(pkgText);
  const bad: string[] = [];
  const same = (what: string, rtl: Record<string, number>, ts: Record<string, number>) => {
    for (const k of new Set([...Object.keys(rtl), ...Object.keys(ts)])) {
      if (rtl[k] !== ts[k]) bad.push(`${what} ${k}: RTL ${rtl[k] ?? "missing"}, TypeScript ${ts[k] ?? "missing"}`);
    }
  };
  same("opcode", withPrefix(pkg, "OP_"), Op);
  same("status", withPrefix(pkg, "ST_"), Status);
  same("event kind", withPrefix(pkg, "EVT_"), EventKind);
  // Capabilities: the RTL names bit positions, the contract masks.
  same("capability", Object.fromEntries(Object.entries(withPrefix(pkg, "CAP_")).map(([k, bit]) => [`NVME_TCP${k === "NVME_TCP" ? "" : `_${k}`}`, 1 << bit])), Cap);
  // Statistics: the RTL's STAT_<name> = index, the contract's order.
  const stats = withPrefix(pkg, "STAT_");
  const want = Object.fromEntries(STAT_NAMES.map((n, i) => [STAT_RTL_NAME[n], i]));
  same("statistic", stats, want);
  if (pkg.get("N_STATS") !== STAT_NAMES.length) bad.push(`N_STATS ${pkg.get("N_STATS")}, STAT_NAMES has ${STAT_NAMES.length}`);
  // PDU types and lengths the tracker accepts.
  same("PDU type", withPrefix(pkg, "PDU_"), { C2H_TERM_REQ: PduType.C2HTermReq, CAPSULE_RESP: PduType.CapsuleResp, C2H_DATA: PduType.C2HData, R2T: PduType.R2T });
  if (pkg.get("HDR_LEN") !== HEADER_LENGTH) bad.push(`HDR_LEN ${pkg.get("HDR_LEN")}, HEADER_LENGTH ${HEADER_LENGTH}`);
  if (pkg.get("TERM_REQ_MAX_PLEN") !== TERM_REQ_MAX_PLEN) bad.push(`TERM_REQ_MAX_PLEN ${pkg.get("TERM_REQ_MAX_PLEN")}, TypeScript ${TERM_REQ_MAX_PLEN}`);
  // Limits: index -> what ddp_cmd answers.
  const limits = parseLimits(cmdText);
  for (const i of new Set([...limits.keys(), ...Object.values(Limit)])) {
    const name = Object.entries(Limit).find(([, v]) => v === i)?.[0] as keyof typeof Limit | undefined;
    const expected = name === undefined ? undefined : LIMIT_RTL[name];
    if (limits.get(i) !== expected) bad.push(`LIMITS_GET ${i} (${name ?? "not in Limit"}): RTL answers ${limits.get(i) ?? "BAD_ARG"}, expected ${expected ?? "BAD_ARG"}`);
  }
  return bad;
}

describe("ddp_pkg against src/contract/protocol.ts", () => {
  it("parses the package: opcodes, statuses, event kinds, counters and the region enum are there", () => {
    const pkg = parsePackage(PKG);
    expect(pkg.get("OP_STATS_GET")).toBe(9);
    expect(pkg.get("ST_BAD_ARG")).toBe(9);
    expect(pkg.get("EVT_TEARDOWN_DONE")).toBe(3);
    expect(pkg.get("PDU_C2H_DATA")).toBe(7);
    expect(pkg.get("RG_SEARCH")).toBe(5);
    expect(Object.keys(withPrefix(pkg, "STAT_")).length).toBe(STAT_NAMES.length);
    expect(parseLimits(CMD).size).toBe(Object.keys(Limit).length);
  });

  it("opcodes, statuses, event kinds, caps, PDU types, statistics and limits agree", () => {
    expect(contractDiff(PKG, CMD)).toEqual([]);
  });

  it("the comparison catches a changed value, a missing name, an extra name and a reordered counter", () => {
    const edit = (from: RegExp, to: string) => {
      const text = PKG.replace(from, to);
      expect(text, `${from} matched`).not.toBe(PKG);
      return contractDiff(text, CMD);
    };
    expect(edit(/OP_CAPS_SET\s*=\s*4'd7/, "OP_CAPS_SET = 4'd10")).toEqual(["opcode CAPS_SET: RTL 10, TypeScript 7"]);
    expect(edit(/ST_BAD_ARG\s*=\s*4'd9/, "ST_BAD_ARG = 4'd11")).toEqual(["status BAD_ARG: RTL 11, TypeScript 9"]);
    expect(edit(/EVT_RESYNC_REQUEST\s*=\s*2'd2/, "EVT_RESYNC_REQUESTS = 2'd2")).toHaveLength(2);
    expect(edit(/(localparam logic \[3:0\] ST_BAD_ARG[^\n]*\n)/, "$1  localparam logic [3:0] ST_NEW = 4'd10;\n")).toEqual(["status NEW: RTL 10, TypeScript missing"]);
    expect(edit(/STAT_OOO\s*=\s*6;([\s\S]*)STAT_RETRANSMIT\s*=\s*7;/, "STAT_OOO = 7;$1STAT_RETRANSMIT = 6;")).toHaveLength(2);
    expect(edit(/N_STATS\s*=\s*16/, "N_STATS = 15")).toEqual(["N_STATS 15, STAT_NAMES has 16"]);
    expect(edit(/CAP_DDGST_RX\s*=\s*1/, "CAP_DDGST_RX = 2")).toHaveLength(1);
    expect(contractDiff(PKG, CMD.replace("8'd7:    cmpl_data = 64'(LATENCY);", "8'd7:    cmpl_data = 64'(MAX_FRAME);"))).toEqual([
      "LIMITS_GET 7 (latency): RTL answers MAX_FRAME, expected LATENCY",
    ]);
    expect(contractDiff(PKG, CMD.replace(/\s*8'd8:\s*cmpl_data = 64'\(MAX_FRAME\);/, ""))).toEqual(["LIMITS_GET 8 (maxFrame): RTL answers BAD_ARG, expected MAX_FRAME"]);
  });
});
