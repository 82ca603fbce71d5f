// NVMe/TCP PDU codec: every PDU type, encode and decode, with the validation a host or target needs against a
// buggy or malicious peer (facts section 1; public-figures section 6 lists the CVEs behind each check).
//
// Layout of every PDU: common header (8 B) + PDU-specific header (hlen - 8) + HDGST (4, optional) + PAD +
// DATA (from pdo) + DDGST (4, optional). All fields little-endian. Digests are where the ICReq / ICResp negotiated
// them, whatever a PDU's flags say (Linux and SPDK read them that way).
//
// Error policy (documented choice), spec-based and as liberal as framing allows:
// - What makes the PDU impossible to frame or to trust throws a PduError: an unknown type, a wrong hlen, a plen or
//   pdo the layout cannot hold, datal against the plen arithmetic (CVE-2023-52454), a header digest mismatch, an
//   unknown command id. A host must tear the connection down (Linux does).
// - What real peers get wrong without harm is accepted and reported in `findings`: reserved fields and flag bits
//   that are set, pdo on a PDU without data (or 0 in front of in-capsule data), a misaligned pdo, digest flags
//   that disagree with the negotiation, SUCCESS without LAST, ICReq / ICResp values outside the spec. Whether one
//   of them is fatal is the receiver's policy (the host applies Linux's, src/nvme/host.ts), not the codec's.
// - A data digest mismatch is reported as `ddgstOk: false`: the framing is still sound, only that command's
//   data is bad (Linux completes the request with NVME_SC_DATA_XFER_ERROR and carries on).

import { crc32c, DIGEST_LENGTH, readDigest, writeDigest } from "./crc32c.js";
import { CQE_LENGTH, type Cqe, le, readCqe, readSqe, SQE_LENGTH, type Sqe, sqeCid, writeCqe, writeSqe } from "./sqe.js";

export const PduType = {
  ICReq: 0x00,
  ICResp: 0x01,
  H2CTermReq: 0x02,
  C2HTermReq: 0x03,
  CapsuleCmd: 0x04,
  CapsuleResp: 0x05,
  H2CData: 0x06,
  C2HData: 0x07,
  R2T: 0x09,
} as const;

export type PduKind = keyof typeof PduType;

export const PduFlags = {
  HDGST: 0x01,
  DDGST: 0x02,
  /** H2CData / C2HData: last data PDU of the command. */
  DATA_LAST: 0x04,
  /** C2HData: command succeeded, no CapsuleResp follows. Only valid together with DATA_LAST. */
  DATA_SUCCESS: 0x08,
} as const;

export const COMMON_HEADER_LENGTH = 8;
/** hlen of every PDU the controller sends and the NIC tracks (C2HData, CapsuleResp, R2T, C2HTermReq). */
export const HEADER_LENGTH = 24;
/** TermReq plen bounds: header plus at most 128 bytes of the offending PDU header. */
export const TERM_REQ_MAX_PLEN = 152;
export const TERM_REQ_MAX_ERROR_DATA = TERM_REQ_MAX_PLEN - 24;
/** Largest PDA (0's based dwords), i.e. 128-byte alignment. */
export const MAX_PDA = 31;
/** Default cap on the data of one PDU, so a lying plen cannot make a receiver buffer gigabytes. */
export const DEFAULT_MAX_DATA_LENGTH = 1 << 24;

/** Fatal error status values for TermReq PDUs. */
export const TermReqFes = {
  InvalidHeaderField: 0x01,
  PduSequenceError: 0x02,
  HeaderDigestError: 0x03,
  DataOutOfRange: 0x04,
  DataLimitExceeded: 0x05,
  UnsupportedParameter: 0x06,
} as const;

// ---- PDU shapes ----

export interface ICReqPdu {
  kind: "ICReq";
  pfv: number;
  /** Host PDU data alignment the host wants for C2H data (0's based dwords). */
  hpda: number;
  hdgstEnable: boolean;
  ddgstEnable: boolean;
  /** Maximum outstanding R2Ts, 0's based. */
  maxr2t: number;
}

export interface ICRespPdu {
  kind: "ICResp";
  pfv: number;
  /** Controller PDU data alignment the controller wants for H2C data (0's based dwords). */
  cpda: number;
  hdgstEnable: boolean;
  ddgstEnable: boolean;
  /** Maximum data bytes per H2CData PDU. */
  maxh2cdata: number;
}

interface TermReqFields {
  fes: number;
  fei: number;
  /** The offending PDU header (at most 128 bytes). */
  errorData: Uint8Array;
}

export interface H2CTermReqPdu extends TermReqFields {
  kind: "H2CTermReq";
}

export interface C2HTermReqPdu extends TermReqFields {
  kind: "C2HTermReq";
}

export interface CapsuleCmdPdu {
  kind: "CapsuleCmd";
  sqe: Sqe;
  /** In-capsule data; absent (or empty) when the command has none. */
  data?: Uint8Array;
}

export interface CapsuleRespPdu {
  kind: "CapsuleResp";
  cqe: Cqe;
}

export interface H2CDataPdu {
  kind: "H2CData";
  cccid: number;
  /** Transfer tag from the R2T this answers. */
  ttag: number;
  /** Offset of `data` within the command's data. */
  datao: number;
  last: boolean;
  data: Uint8Array;
}

export interface C2HDataPdu {
  kind: "C2HData";
  cccid: number;
  datao: number;
  last: boolean;
  success: boolean;
  data: Uint8Array;
}

export interface R2TPdu {
  kind: "R2T";
  cccid: number;
  ttag: number;
  r2to: number;
  r2tl: number;
}

export type Pdu =
  | ICReqPdu
  | ICRespPdu
  | H2CTermReqPdu
  | C2HTermReqPdu
  | CapsuleCmdPdu
  | CapsuleRespPdu
  | H2CDataPdu
  | C2HDataPdu
  | R2TPdu;

// ---- per-type rules ----

type Direction = "H2C" | "C2H";

/**
 * How a type's body is laid out:
 * "none": no data, pdo 0, plen = hlen (+HDGST);
 * "data": always data at pdo, plen = pdo + datal (+DDGST), datal field at byte 16;
 * "optional": data at pdo when pdo != 0 (CapsuleCmd in-capsule data), else as "none";
 * "error": TermReq, pdo 0, error data right after the header, 24 <= plen <= 152.
 */
type BodyKind = "none" | "data" | "optional" | "error";

interface TypeRule {
  kind: PduKind;
  type: number;
  hlen: number;
  direction: Direction;
  /** Every flag bit this type may carry. */
  flags: number;
  body: BodyKind;
}

function rule(kind: PduKind, hlen: number, direction: Direction, flags: number, body: BodyKind): TypeRule {
  return { kind, type: PduType[kind], hlen, direction, flags, body };
}

const { HDGST, DDGST, DATA_LAST, DATA_SUCCESS } = PduFlags;
const RULES: readonly TypeRule[] = [
  rule("ICReq", 128, "H2C", 0, "none"),
  rule("ICResp", 128, "C2H", 0, "none"),
  rule("H2CTermReq", 24, "H2C", 0, "error"),
  rule("C2HTermReq", 24, "C2H", 0, "error"),
  rule("CapsuleCmd", 72, "H2C", HDGST | DDGST, "optional"),
  rule("CapsuleResp", 24, "C2H", HDGST, "none"),
  rule("H2CData", 24, "H2C", HDGST | DDGST | DATA_LAST, "data"),
  rule("C2HData", 24, "C2H", HDGST | DDGST | DATA_LAST | DATA_SUCCESS, "data"),
  rule("R2T", 24, "C2H", HDGST, "none"),
];
const RULE_BY_TYPE = new Map<number, TypeRule>(RULES.map((r) => [r.type, r]));
const RULE_BY_KIND = new Map<PduKind, TypeRule>(RULES.map((r) => [r.kind, r]));

function ruleOf(kind: PduKind): TypeRule {
  return RULE_BY_KIND.get(kind)!;
}

/** hlen of a PDU type (by kind or by type byte); undefined for an unknown type byte. */
export function pduHeaderLength(type: PduKind | number): number | undefined {
  return typeof type === "number" ? RULE_BY_TYPE.get(type)?.hlen : ruleOf(type).hlen;
}

/** PDU kind of a type byte, or undefined. */
export function pduKindOf(type: number): PduKind | undefined {
  return RULE_BY_TYPE.get(type)?.kind;
}

/** Data alignment in bytes for a 0's-based PDA. */
export function pdaAlignment(pda: number): number {
  if (!Number.isInteger(pda) || pda < 0 || pda > MAX_PDA) throw new RangeError(`pda must be 0..${MAX_PDA}, got ${pda}`);
  return (pda + 1) * 4;
}

// ---- errors ----

export type PduErrorCode =
  | "TRUNCATED"
  | "BAD_TYPE"
  | "BAD_FLAGS"
  | "BAD_HLEN"
  | "BAD_PDO"
  | "BAD_PLEN"
  | "BAD_DATAL"
  | "DATA_LIMIT"
  | "BAD_FIELD"
  | "BAD_CID"
  | "HDGST_MISMATCH";

export class PduError extends Error {
  override readonly name = "PduError";
  /**
   * @param offset byte offset of the offending field from the PDU start (for TRUNCATED: where the input ended;
   *   for HDGST_MISMATCH: the digest itself, at hlen). This is what a TermReq would carry as FEI.
   */
  constructor(
    readonly code: PduErrorCode,
    readonly offset: number,
    message: string,
  ) {
    super(`${code} at byte ${offset}: ${message}`);
  }
}

/** What a peer got wrong in a PDU that is still framed and understood (see the error policy above). */
export type PduFindingCode =
  | "RESERVED_PDO"
  | "ICD_PDO_ZERO"
  | "PDO_MISALIGNED"
  | "RESERVED_FLAGS"
  | "HDGST_FLAG_MISSING"
  | "HDGST_FLAG_UNEXPECTED"
  | "DDGST_FLAG_MISSING"
  | "DDGST_FLAG_UNEXPECTED"
  | "SUCCESS_WITHOUT_LAST"
  | "ZERO_DATAL"
  | "RESERVED_FIELD"
  | "IC_FIELD";

export interface PduFinding {
  code: PduFindingCode;
  /** Byte offset of the field from the PDU start. */
  offset: number;
  message: string;
}

interface Problem {
  code: PduErrorCode;
  offset: number;
  message: string;
}

function problem(code: PduErrorCode, offset: number, message: string): Problem {
  return { code, offset, message };
}

// ---- options ----

export interface DigestOptions {
  /** Header digests negotiated (ICReq/ICResp never carry digests, whatever this says). */
  hdgst: boolean;
  /** Data digests negotiated. */
  ddgst: boolean;
}

export interface DecodeOptions extends DigestOptions {
  /** The 0's-based alignment this receiver asked for (HPDA on a host, CPDA on a controller). Default 0. */
  pda?: number;
  /** Reject PDUs not sent in this direction (a host expects "C2H"). */
  direction?: Direction;
  /** Largest acceptable data length of one PDU (bytes a receiver would buffer). Default DEFAULT_MAX_DATA_LENGTH. */
  maxDataLength?: number;
  /** Leave every SQE raw (its meaning depends on the queue: admin and I/O opcodes overlap). */
  rawSqe?: boolean;
  /** Reject a PDU whose command id this returns false for (e.g. no such command outstanding). */
  isKnownCid?: (cid: number, kind: PduKind) => boolean;
  /** Compute and compare the data digest (default true). An offloaded host may skip it when the NIC checked. */
  verifyDdgst?: boolean;
}

/** Field overrides that make the encoder write lies, for malicious-peer tests. Digests cover the lies. */
export interface PduLies {
  flags?: number;
  hlen?: number;
  pdo?: number;
  plen?: number;
  /** datal of H2CData / C2HData (byte 16). */
  datal?: number;
  corruptHdgst?: boolean;
  corruptDdgst?: boolean;
}

export interface EncodeOptions extends Partial<DigestOptions> {
  /** The 0's-based alignment the receiver asked for: HPDA for C2H PDUs, CPDA for H2C PDUs. Default 0. */
  pda?: number;
  lies?: PduLies;
  /**
   * Leave the DDGST to the NIC (transmit digest offload, docs/tx-contract.md): the field is laid out and flagged
   * but holds 0, and no CRC is computed.
   */
  ddgstPlaceholder?: boolean;
}

// ---- header validation (shared by the decoder, the framer and the NIC model's predicate) ----

interface CommonHeader {
  rule: TypeRule;
  flags: number;
  hlen: number;
  pdo: number;
  plen: number;
  /** HDGST bytes (0 or 4). */
  hd: number;
  /** DDGST bytes (0 or 4). */
  dd: number;
  /** Data bytes the plen arithmetic leaves for DATA (or error data for TermReq). */
  dataLength: number;
  /** Where DATA (or TermReq error data) starts. */
  dataOffset: number;
}

function finding(code: PduFindingCode, offset: number, message: string): PduFinding {
  return { code, offset, message };
}

/**
 * Checks the 8-byte common header: type, hlen, pdo and plen must give a layout (else the problem); what it gets
 * wrong without breaking the layout goes to `findings`. The layout follows the negotiated digests: data (a
 * CapsuleCmd has in-capsule data when plen leaves room for it) starts at pdo, or right after the header when a
 * CapsuleCmd's pdo is 0.
 */
function checkCommonHeader(b: Uint8Array, o: DecodeOptions, findings: PduFinding[]): CommonHeader | Problem {
  const v = le(b);
  const type = b[0]!;
  const flags = b[1]!;
  const hlen = b[2]!;
  const pdo = b[3]!;
  const plen = v.getUint32(4, true);

  const rule = RULE_BY_TYPE.get(type);
  if (rule === undefined) return problem("BAD_TYPE", 0, `unknown PDU type 0x${type.toString(16)}`);
  if (o.direction !== undefined && rule.direction !== o.direction) return problem("BAD_TYPE", 0, `${rule.kind} is not a ${o.direction} PDU`);
  if (hlen !== rule.hlen) return problem("BAD_HLEN", 2, `hlen ${hlen} for ${rule.kind}, expected ${rule.hlen}`);

  const hd = o.hdgst && (rule.flags & HDGST) !== 0 ? DIGEST_LENGTH : 0;
  const headerEnd = hlen + hd;
  const hasData = rule.body === "data" || (rule.body === "optional" && plen > headerEnd);
  const dd = o.ddgst && (rule.flags & DDGST) !== 0 && hasData ? DIGEST_LENGTH : 0;
  const flag = (bit: number, on: boolean, name: string, what: string): void => {
    if (((flags & bit) !== 0) === on) return;
    findings.push(finding(`${name}_FLAG_${on ? "MISSING" : "UNEXPECTED"}` as PduFindingCode, 1, `${name} flag ${on ? "clear" : "set"} on ${rule.kind} but ${what} ${on ? "on" : "off"}`));
  };
  flag(HDGST, hd > 0, "HDGST", "header digests are");
  flag(DDGST, dd > 0, "DDGST", hasData ? "data digests are" : "it has no data, so data digests are");
  if ((flags & ~rule.flags & ~(HDGST | DDGST)) !== 0) findings.push(finding("RESERVED_FLAGS", 1, `flags 0x${flags.toString(16)}: bits not defined for ${rule.kind}`));
  if (rule.kind === "C2HData" && (flags & (DATA_LAST | DATA_SUCCESS)) === DATA_SUCCESS) findings.push(finding("SUCCESS_WITHOUT_LAST", 1, "SUCCESS without LAST"));

  if (!hasData) {
    if (pdo !== 0) findings.push(finding("RESERVED_PDO", 3, `pdo ${pdo} on ${rule.kind} without data (reserved, 0)`));
    if (rule.body === "error") {
      if (plen < hlen || plen > TERM_REQ_MAX_PLEN) return problem("BAD_PLEN", 4, `plen ${plen} outside ${hlen}..${TERM_REQ_MAX_PLEN} for ${rule.kind}`);
      return { rule, flags, hlen, pdo, plen, hd, dd, dataOffset: hlen, dataLength: plen - hlen };
    }
    if (plen !== headerEnd) return problem("BAD_PLEN", 4, `plen ${plen} for ${rule.kind}, expected ${headerEnd}`);
    return { rule, flags, hlen, pdo, plen, hd, dd, dataOffset: headerEnd, dataLength: 0 };
  }

  let dataOffset = pdo;
  if (pdo === 0 && rule.body === "optional") {
    findings.push(finding("ICD_PDO_ZERO", 3, `in-capsule data with pdo 0 (taken from the end of the header, byte ${headerEnd})`));
    dataOffset = headerEnd;
  }
  if (dataOffset < headerEnd) return problem("BAD_PDO", 3, `pdo ${pdo} inside the header (hlen ${hlen} + hdgst ${hd})`);
  if (dataOffset > plen) return problem("BAD_PDO", 3, `pdo ${pdo} beyond plen ${plen}`);
  if (plen < dataOffset + dd) return problem("BAD_PLEN", 4, `plen ${plen} too small for pdo ${dataOffset} + ddgst ${dd}`);
  const alignment = pdaAlignment(Math.min(o.pda ?? 0, MAX_PDA));
  if (pdo !== 0 && pdo % alignment !== 0) findings.push(finding("PDO_MISALIGNED", 3, `pdo ${pdo} not a multiple of the ${alignment}-byte alignment`));
  const dataLength = plen - dataOffset - dd;
  const limit = o.maxDataLength ?? DEFAULT_MAX_DATA_LENGTH;
  if (dataLength > limit) return problem("DATA_LIMIT", 4, `plen ${plen} implies ${dataLength} data bytes, above the limit ${limit}`);
  return { rule, flags, hlen, pdo, plen, hd, dd, dataOffset, dataLength };
}

function isProblem(x: CommonHeader | Problem): x is Problem {
  return "code" in x;
}

/**
 * The header-validity rule of the offload contract (docs/offload-contract.md section 5, DESIGN 4.4): what the NIC
 * (RTL and model) checks before it trusts a header, also its resync "magic pattern", and what the host checks of
 * every C2HData header. On the first 24 bytes: type in {C2HTermReq, CapsuleResp, C2HData, R2T}; hlen 24; the
 * HDGST flag as negotiated; for C2HData the DDGST flag as negotiated, datal >= 1, pdo >= 24 (+4 with HDGST) and
 * a multiple of (cpda + 1) * 4, plen == pdo + datal (+4 with DDGST), exactly (no 32-bit wrap); for CapsuleResp
 * and R2T pdo 0, plen 24 (+4) and no DDGST flag; for C2HTermReq pdo 0 and 24 <= plen <= 152. It does not check
 * the header digest (software does) nor the stricter rules decodePdu adds.
 */
export function c2hHeaderValid(h: Uint8Array, o: DigestOptions & { cpda?: number }): boolean {
  if (h.length < HEADER_LENGTH) return false;
  const v = le(h);
  const type = h[0]!;
  const flags = h[1]!;
  const pdo = h[3]!;
  const plen = v.getUint32(4, true);
  const hd = o.hdgst ? DIGEST_LENGTH : 0;
  const dd = o.ddgst ? DIGEST_LENGTH : 0;
  if (h[2] !== HEADER_LENGTH) return false;
  if (((flags & HDGST) !== 0) !== o.hdgst) return false;
  const ddgstFlag = (flags & DDGST) !== 0;
  switch (type) {
    case PduType.C2HData: {
      const datal = v.getUint32(16, true);
      return ddgstFlag === o.ddgst && datal >= 1 && pdo >= HEADER_LENGTH + hd && pdo % (((o.cpda ?? 0) + 1) * 4) === 0 && plen === pdo + datal + dd;
    }
    case PduType.CapsuleResp:
    case PduType.R2T:
      return pdo === 0 && plen === HEADER_LENGTH + hd && !ddgstFlag;
    case PduType.C2HTermReq:
      return pdo === 0 && plen >= HEADER_LENGTH && plen <= TERM_REQ_MAX_PLEN;
    default:
      return false;
  }
}

/** Reserved byte ranges of each PDU-specific header: [from, to). */
const RESERVED: Partial<Record<PduKind, [number, number][]>> = {
  ICReq: [[16, 128]],
  ICResp: [[16, 128]],
  H2CTermReq: [[14, 24]],
  C2HTermReq: [[14, 24]],
  H2CData: [[20, 24]],
  C2HData: [
    [10, 12],
    [20, 24],
  ],
  R2T: [[20, 24]],
};

/** Type-specific checks that need the whole header: problems that make it untrustworthy, findings that do not. */
function checkFields(b: Uint8Array, ch: CommonHeader, o: DecodeOptions, findings: PduFinding[]): Problem | null {
  const v = le(b);
  const kind = ch.rule.kind;
  for (const [from, to] of RESERVED[kind] ?? []) {
    const at = b.subarray(from, to).findIndex((x) => x !== 0);
    if (at >= 0) findings.push(finding("RESERVED_FIELD", from + at, `${kind} reserved byte ${from + at} is 0x${b[from + at]!.toString(16)}`));
  }
  switch (kind) {
    case "ICReq":
    case "ICResp": {
      const pda = kind === "ICReq" ? "hpda" : "cpda";
      if (v.getUint16(8, true) !== 0) findings.push(finding("IC_FIELD", 8, `pfv ${v.getUint16(8, true)} (only 0 is defined)`));
      if (b[10]! > MAX_PDA) findings.push(finding("IC_FIELD", 10, `${pda} ${b[10]} above ${MAX_PDA}`));
      if ((b[11]! & ~3) !== 0) findings.push(finding("IC_FIELD", 11, `undefined digest bits 0x${b[11]!.toString(16)}`));
      const maxh2cdata = v.getUint32(12, true);
      if (kind === "ICResp" && (maxh2cdata % 4 !== 0 || maxh2cdata < 4096)) findings.push(finding("IC_FIELD", 12, `maxh2cdata ${maxh2cdata} not a multiple of 4 >= 4096`));
      return null;
    }
    case "H2CData":
    case "C2HData": {
      const bad = checkDatal(b, ch);
      if (bad) return bad;
      if (ch.dataLength === 0) findings.push(finding("ZERO_DATAL", 16, `${kind} with no data`));
      return checkCid(v.getUint16(8, true), 8, kind, o);
    }
    case "R2T":
      if (v.getUint32(16, true) === 0) return problem("BAD_FIELD", 16, "R2T with r2tl 0");
      return checkCid(v.getUint16(8, true), 8, kind, o);
    case "CapsuleResp":
      return checkCid(v.getUint16(20, true), 20, kind, o);
    default:
      return null;
  }
}

/** datal (byte 16) of H2CData / C2HData must match the plen arithmetic (CVE-2023-52454). */
function checkDatal(b: Uint8Array, ch: CommonHeader): Problem | null {
  const datal = le(b).getUint32(16, true);
  if (datal !== ch.dataLength) return problem("BAD_DATAL", 16, `datal ${datal} but plen ${ch.plen} - pdo ${ch.dataOffset} - ddgst ${ch.dd} = ${ch.dataLength}`);
  return null;
}

function checkCid(cid: number, offset: number, kind: PduKind, o: DecodeOptions): Problem | null {
  if (o.isKnownCid && !o.isKnownCid(cid, kind)) return problem("BAD_CID", offset, `command id 0x${cid.toString(16)} is not outstanding`);
  return null;
}

// ---- decode ----

export interface PduHeaderInfo {
  type: number;
  flags: number;
  hlen: number;
  pdo: number;
  plen: number;
}

export interface DecodedPdu {
  pdu: Pdu;
  /** The raw common header fields. */
  header: PduHeaderInfo;
  /** Bytes this PDU occupies (== plen). */
  length: number;
  /** Offset of the data (or TermReq error data) within the PDU, and its length (0 when none). */
  dataOffset: number;
  dataLength: number;
  /** True when a header digest was present (it is always correct: a mismatch throws). */
  hasHdgst: boolean;
  /** Present when the PDU carried a data digest and it was verified. */
  ddgstOk?: boolean;
  /** The received data digest, when the PDU carried one. */
  ddgst?: number;
  /** What the sender got wrong without breaking the PDU (see the error policy). */
  findings: PduFinding[];
}

function fail(p: Problem): never {
  throw new PduError(p.code, p.offset, p.message);
}

function need(bytes: Uint8Array, n: number, what: string): void {
  if (bytes.length < n) throw new PduError("TRUNCATED", bytes.length, `${what} needs ${n} bytes, have ${bytes.length}`);
}

/**
 * Validates the 8-byte common header and returns how long the header (hlen + HDGST) and the whole PDU are.
 * Receivers call this before buffering a PDU, so a lying plen is refused before it can cost anything.
 */
export function peekPduLengths(bytes: Uint8Array, o: DecodeOptions): { headerLength: number; plen: number } {
  need(bytes, COMMON_HEADER_LENGTH, "common header");
  const ch = checkCommonHeader(bytes, o, []);
  if (isProblem(ch)) fail(ch);
  return { headerLength: ch.hlen + ch.hd, plen: ch.plen };
}

/**
 * What the sender of a whole header (hlen + HDGST bytes) got wrong without breaking it; throws PduError as
 * decodePdu would for what breaks it. For receivers that stream the data after the header (a host's C2HData).
 */
export function pduHeaderFindings(header: Uint8Array, o: DecodeOptions): PduFinding[] {
  need(header, COMMON_HEADER_LENGTH, "common header");
  const findings: PduFinding[] = [];
  const ch = checkCommonHeader(header, o, findings);
  if (isProblem(ch)) fail(ch);
  need(header, ch.hlen, `${ch.rule.kind} header`);
  const bad = checkFields(header, ch, o, findings);
  if (bad) fail(bad);
  return findings;
}

/**
 * Decodes the PDU at the start of `bytes` (which may hold more after it: `length` says where the next begins).
 * Throws PduError on a PDU that cannot be framed or trusted (see the error policy) or truncated input. Data
 * fields are views into `bytes`, not copies.
 */
export function decodePdu(bytes: Uint8Array, o: DecodeOptions): DecodedPdu {
  need(bytes, COMMON_HEADER_LENGTH, "common header");
  const findings: PduFinding[] = [];
  const ch = checkCommonHeader(bytes, o, findings);
  if (isProblem(ch)) fail(ch);
  need(bytes, ch.hlen + ch.hd, `${ch.rule.kind} header`);
  const bad = checkFields(bytes, ch, o, findings);
  if (bad) fail(bad);
  if (ch.hd > 0) {
    const expected = crc32c(bytes.subarray(0, ch.hlen));
    const got = readDigest(bytes, ch.hlen);
    if (got !== expected) fail(problem("HDGST_MISMATCH", ch.hlen, `header digest 0x${hex32(got)}, computed 0x${hex32(expected)}`));
  }
  need(bytes, ch.plen, `${ch.rule.kind} PDU (plen)`);

  const data = bytes.subarray(ch.dataOffset, ch.dataOffset + ch.dataLength);
  const decoded: DecodedPdu = {
    pdu: readPdu(bytes, ch.rule.kind, data, o.rawSqe ?? false),
    header: { type: ch.rule.type, flags: ch.flags, hlen: ch.hlen, pdo: ch.pdo, plen: ch.plen },
    length: ch.plen,
    dataOffset: ch.dataOffset,
    dataLength: ch.dataLength,
    hasHdgst: ch.hd > 0,
    findings,
  };
  if (ch.dd > 0) {
    decoded.ddgst = readDigest(bytes, ch.plen - DIGEST_LENGTH);
    if (o.verifyDdgst ?? true) decoded.ddgstOk = crc32c(data) === decoded.ddgst;
  }
  return decoded;
}

/**
 * Checks the data digest of a PDU decoded with `verifyDdgst: false` (an offloaded host does this only for PDUs
 * the NIC did not vouch for). Undefined when the PDU carried no data digest.
 */
export function dataDigestMatches(d: DecodedPdu): boolean | undefined {
  return d.ddgst === undefined ? undefined : crc32c(pduData(d.pdu)) === d.ddgst;
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, "0");
}

function readPdu(b: Uint8Array, kind: PduKind, data: Uint8Array, rawSqe: boolean): Pdu {
  const v = le(b);
  const flags = b[1]!;
  switch (kind) {
    case "ICReq":
      return { kind, pfv: v.getUint16(8, true), hpda: b[10]!, hdgstEnable: (b[11]! & 1) !== 0, ddgstEnable: (b[11]! & 2) !== 0, maxr2t: v.getUint32(12, true) };
    case "ICResp":
      return { kind, pfv: v.getUint16(8, true), cpda: b[10]!, hdgstEnable: (b[11]! & 1) !== 0, ddgstEnable: (b[11]! & 2) !== 0, maxh2cdata: v.getUint32(12, true) };
    case "H2CTermReq":
    case "C2HTermReq":
      return { kind, fes: v.getUint16(8, true), fei: v.getUint32(10, true), errorData: data };
    case "CapsuleCmd": {
      const sqe: Sqe = rawSqe ? { kind: "Raw", bytes: b.slice(8, 8 + SQE_LENGTH) } : readSqe(b.subarray(8, 8 + SQE_LENGTH));
      return data.length > 0 ? { kind, sqe, data } : { kind, sqe };
    }
    case "CapsuleResp":
      return { kind, cqe: readCqe(b.subarray(8, 8 + CQE_LENGTH)) };
    case "H2CData":
      return { kind, cccid: v.getUint16(8, true), ttag: v.getUint16(10, true), datao: v.getUint32(12, true), last: (flags & DATA_LAST) !== 0, data };
    case "C2HData":
      return {
        kind,
        cccid: v.getUint16(8, true),
        datao: v.getUint32(12, true),
        last: (flags & DATA_LAST) !== 0,
        success: (flags & DATA_SUCCESS) !== 0,
        data,
      };
    case "R2T":
      return { kind, cccid: v.getUint16(8, true), ttag: v.getUint16(10, true), r2to: v.getUint32(12, true), r2tl: v.getUint32(16, true) };
  }
}

// ---- encode ----

/** The bytes of a PDU's data section: C2H/H2C data, in-capsule data, or TermReq error data (else empty). */
export function pduData(pdu: Pdu): Uint8Array {
  switch (pdu.kind) {
    case "H2CData":
    case "C2HData":
      return pdu.data;
    case "CapsuleCmd":
      return pdu.data ?? new Uint8Array(0);
    case "H2CTermReq":
    case "C2HTermReq":
      if (pdu.errorData.length > TERM_REQ_MAX_ERROR_DATA) throw new RangeError(`TermReq error data ${pdu.errorData.length} > ${TERM_REQ_MAX_ERROR_DATA} bytes`);
      return pdu.errorData;
    default:
      return new Uint8Array(0);
  }
}

function flagsOf(pdu: Pdu): number {
  switch (pdu.kind) {
    case "H2CData":
      return pdu.last ? DATA_LAST : 0;
    case "C2HData":
      return (pdu.last ? DATA_LAST : 0) | (pdu.success ? DATA_SUCCESS : 0);
    default:
      return 0;
  }
}

/** Writes the PDU-specific header fields (bytes 8..hlen). */
function writeSpecificHeader(out: Uint8Array, pdu: Pdu): void {
  const v = le(out);
  switch (pdu.kind) {
    case "ICReq":
    case "ICResp":
      v.setUint16(8, pdu.pfv, true);
      v.setUint8(10, pdu.kind === "ICReq" ? pdu.hpda : pdu.cpda);
      v.setUint8(11, (pdu.hdgstEnable ? 1 : 0) | (pdu.ddgstEnable ? 2 : 0));
      v.setUint32(12, pdu.kind === "ICReq" ? pdu.maxr2t : pdu.maxh2cdata, true);
      return;
    case "H2CTermReq":
    case "C2HTermReq":
      v.setUint16(8, pdu.fes, true);
      v.setUint32(10, pdu.fei, true);
      return;
    case "CapsuleCmd":
      writeSqe(out.subarray(8, 8 + SQE_LENGTH), pdu.sqe);
      return;
    case "CapsuleResp":
      writeCqe(out.subarray(8, 8 + CQE_LENGTH), pdu.cqe);
      return;
    case "H2CData":
    case "C2HData":
      v.setUint16(8, pdu.cccid, true);
      if (pdu.kind === "H2CData") v.setUint16(10, pdu.ttag, true);
      v.setUint32(12, pdu.datao, true);
      v.setUint32(16, pdu.data.length, true);
      return;
    case "R2T":
      v.setUint16(8, pdu.cccid, true);
      v.setUint16(10, pdu.ttag, true);
      v.setUint32(12, pdu.r2to, true);
      v.setUint32(16, pdu.r2tl, true);
      return;
  }
}

/**
 * Encodes one PDU. Digests are included where the type allows them and `hdgst` / `ddgst` say they were
 * negotiated; `pda` pads the data up to the receiver's alignment. `lies` overwrite header fields after the
 * honest layout is built (the layout itself stays honest) and before digests are computed.
 */
export function encodePdu(pdu: Pdu, o: EncodeOptions = {}): Uint8Array {
  const rule = ruleOf(pdu.kind);
  const body = pduData(pdu);
  const hasData = rule.body === "data" || (rule.body === "optional" && body.length > 0);
  const hd = o.hdgst && (rule.flags & HDGST) !== 0 ? DIGEST_LENGTH : 0;
  const dd = o.ddgst && (rule.flags & DDGST) !== 0 && hasData ? DIGEST_LENGTH : 0;
  const headerEnd = rule.hlen + hd;

  let pdo = 0;
  let dataOffset = headerEnd;
  if (hasData) {
    const alignment = pdaAlignment(o.pda ?? 0);
    pdo = Math.ceil(headerEnd / alignment) * alignment;
    dataOffset = pdo;
  }
  const plen = dataOffset + body.length + dd;

  const out = new Uint8Array(plen);
  const v = le(out);
  out[0] = rule.type;
  out[1] = flagsOf(pdu) | (hd ? HDGST : 0) | (dd ? DDGST : 0);
  out[2] = rule.hlen;
  out[3] = pdo;
  v.setUint32(4, plen, true);
  writeSpecificHeader(out, pdu);
  out.set(body, dataOffset);

  const lies = o.lies ?? {};
  if (lies.flags !== undefined) out[1] = lies.flags;
  if (lies.hlen !== undefined) out[2] = lies.hlen;
  if (lies.pdo !== undefined) out[3] = lies.pdo;
  if (lies.plen !== undefined) v.setUint32(4, lies.plen, true);
  if (lies.datal !== undefined) {
    if (rule.body !== "data") throw new RangeError(`${pdu.kind} has no datal field`);
    v.setUint32(16, lies.datal, true);
  }

  const corrupt = 0xdeadbeef;
  if (hd) writeDigest(out, rule.hlen, crc32c(out.subarray(0, rule.hlen)) ^ (lies.corruptHdgst ? corrupt : 0));
  if (dd && !o.ddgstPlaceholder) writeDigest(out, plen - DIGEST_LENGTH, crc32c(body) ^ (lies.corruptDdgst ? corrupt : 0));
  return out;
}

/** The command id a PDU refers to, if any. */
export function pduCid(pdu: Pdu): number | undefined {
  switch (pdu.kind) {
    case "CapsuleCmd":
      return sqeCid(pdu.sqe);
    case "CapsuleResp":
      return pdu.cqe.cid;
    case "H2CData":
    case "C2HData":
    case "R2T":
      return pdu.cccid;
    default:
      return undefined;
  }
}
