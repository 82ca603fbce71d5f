// NVMe submission (SQE, 64 B) and completion (CQE, 16 B) entries as NVMe/TCP carries them in capsules,
// the SGL descriptor NVMe/TCP uses, the Fabrics Connect data, and the Linux CID layout (facts 1.6, 1.8).
// Every multi-byte field is little-endian. Bit-level layouts follow the NVMe base and Fabrics specs.

export const SQE_LENGTH = 64;
export const CQE_LENGTH = 16;

export const NvmeOpcode = {
  Write: 0x01,
  Read: 0x02,
  Fabrics: 0x7f,
} as const;

export const FabricsCommandType = {
  PropertySet: 0x00,
  Connect: 0x01,
  PropertyGet: 0x04,
} as const;

/** SQE byte 1: PSDT = 01b (SGL for data). NVMe over Fabrics commands always use SGLs (Linux: NVME_CMD_SGL_METABUF). */
export const SQE_FLAGS_SGL = 0x40;

/** SGL identifier byte (descriptor byte 15): type in bits 7:4, subtype in bits 3:0. */
export const SglId = {
  /** Data Block, subtype Offset: in-capsule data; address = offset into the in-capsule data. */
  InCapsule: 0x01,
  /** Transport Data Block, subtype Transport-specific: data moves in H2CData/C2HData PDUs. */
  TransportDataBlock: 0x5a,
} as const;

export interface SglDescriptor {
  address: bigint;
  length: number;
  /** The identifier byte, see SglId. */
  id: number;
}

/** SGL for data that travels in C2HData (reads) or H2CData after an R2T (writes). */
export function sglTransport(length: number): SglDescriptor {
  return { address: 0n, length, id: SglId.TransportDataBlock };
}

/** SGL for data carried inside the command capsule itself. */
export function sglInCapsule(length: number, offset = 0): SglDescriptor {
  return { address: BigInt(offset), length, id: SglId.InCapsule };
}

interface IoCommand {
  cid: number;
  nsid: number;
  /** Starting LBA (CDW10-11). */
  slba: bigint;
  /** Number of logical blocks, 0's based (CDW12 bits 15:0). */
  nlb: number;
  sgl: SglDescriptor;
}

export interface ReadSqe extends IoCommand {
  kind: "Read";
}

export interface WriteSqe extends IoCommand {
  kind: "Write";
}

export interface ConnectSqe {
  kind: "Connect";
  cid: number;
  /** Record format, 0 for NVMe-oF 1.x. */
  recfmt: number;
  /** 0 = admin queue. */
  qid: number;
  /** Submission queue size, 0's based. */
  sqsize: number;
  cattr: number;
  /** Keep-alive timeout in ms. */
  kato: number;
  sgl: SglDescriptor;
}

export interface PropertyGetSqe {
  kind: "PropertyGet";
  cid: number;
  /** Property size: 4 or 8 bytes. */
  size: 4 | 8;
  /** Property offset (e.g. 0x00 CAP, 0x14 CC, 0x1c CSTS). */
  offset: number;
}

export interface PropertySetSqe {
  kind: "PropertySet";
  cid: number;
  size: 4 | 8;
  offset: number;
  value: bigint;
}

/** Any other command, kept as its 64 raw bytes (CID at bytes 2..3). */
export interface RawSqe {
  kind: "Raw";
  bytes: Uint8Array;
}

export type Sqe = ReadSqe | WriteSqe | ConnectSqe | PropertyGetSqe | PropertySetSqe | RawSqe;

export interface Cqe {
  /** DW0 | DW1 << 32 (command specific; Connect puts the controller id in DW0 bits 15:0). */
  result: bigint;
  sqHead: number;
  sqId: number;
  cid: number;
  /** The raw 16-bit status field: bit 0 phase, 8:1 SC, 11:9 SCT, 13:12 CRD, 14 More, 15 DNR. */
  status: number;
}

export function le(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** The CID of any SQE. */
export function sqeCid(sqe: Sqe): number {
  return sqe.kind === "Raw" ? le(sqe.bytes).getUint16(2, true) : sqe.cid;
}

function writeSgl(v: DataView, sgl: SglDescriptor): void {
  v.setBigUint64(24, sgl.address, true);
  v.setUint32(32, sgl.length, true);
  v.setUint8(39, sgl.id);
}

function readSgl(v: DataView): SglDescriptor {
  return { address: v.getBigUint64(24, true), length: v.getUint32(32, true), id: v.getUint8(39) };
}

/** Writes the 64-byte SQE into `out` (which must be zeroed: reserved bytes are left as they are). */
export function writeSqe(out: Uint8Array, sqe: Sqe): void {
  if (out.length < SQE_LENGTH) throw new RangeError(`writeSqe: need ${SQE_LENGTH} bytes, got ${out.length}`);
  if (sqe.kind === "Raw") {
    if (sqe.bytes.length !== SQE_LENGTH) throw new RangeError(`RawSqe must be ${SQE_LENGTH} bytes, got ${sqe.bytes.length}`);
    out.set(sqe.bytes);
    return;
  }
  const v = le(out);
  v.setUint8(1, SQE_FLAGS_SGL);
  v.setUint16(2, sqe.cid, true);
  switch (sqe.kind) {
    case "Read":
    case "Write":
      v.setUint8(0, sqe.kind === "Read" ? NvmeOpcode.Read : NvmeOpcode.Write);
      v.setUint32(4, sqe.nsid, true);
      writeSgl(v, sqe.sgl);
      v.setBigUint64(40, sqe.slba, true);
      v.setUint16(48, sqe.nlb, true);
      return;
    case "Connect":
      v.setUint8(0, NvmeOpcode.Fabrics);
      v.setUint8(4, FabricsCommandType.Connect);
      writeSgl(v, sqe.sgl);
      v.setUint16(40, sqe.recfmt, true);
      v.setUint16(42, sqe.qid, true);
      v.setUint16(44, sqe.sqsize, true);
      v.setUint8(46, sqe.cattr);
      v.setUint32(48, sqe.kato, true);
      return;
    case "PropertyGet":
    case "PropertySet":
      v.setUint8(0, NvmeOpcode.Fabrics);
      v.setUint8(4, sqe.kind === "PropertyGet" ? FabricsCommandType.PropertyGet : FabricsCommandType.PropertySet);
      // ATTRIB bits 2:0: 0 = 4-byte property, 1 = 8-byte property.
      v.setUint8(40, sqe.size === 8 ? 1 : 0);
      v.setUint32(44, sqe.offset, true);
      if (sqe.kind === "PropertySet") v.setBigUint64(48, sqe.value, true);
      return;
  }
}

/**
 * Parses a 64-byte SQE; commands other than Read, Write, Connect and Property Get/Set come back as Raw. On an admin
 * queue (`admin`) opcodes 01h and 02h are Create I/O Submission Queue and Get Log Page, not Write and Read.
 */
export function readSqe(bytes: Uint8Array, o: { admin?: boolean } = {}): Sqe {
  if (bytes.length < SQE_LENGTH) throw new RangeError(`readSqe: need ${SQE_LENGTH} bytes, got ${bytes.length}`);
  const v = le(bytes);
  const opcode = v.getUint8(0);
  const cid = v.getUint16(2, true);
  if (!o.admin && (opcode === NvmeOpcode.Read || opcode === NvmeOpcode.Write)) {
    return {
      kind: opcode === NvmeOpcode.Read ? "Read" : "Write",
      cid,
      nsid: v.getUint32(4, true),
      slba: v.getBigUint64(40, true),
      nlb: v.getUint16(48, true),
      sgl: readSgl(v),
    };
  }
  if (opcode === NvmeOpcode.Fabrics) {
    const fctype = v.getUint8(4);
    if (fctype === FabricsCommandType.Connect) {
      return {
        kind: "Connect",
        cid,
        recfmt: v.getUint16(40, true),
        qid: v.getUint16(42, true),
        sqsize: v.getUint16(44, true),
        cattr: v.getUint8(46),
        kato: v.getUint32(48, true),
        sgl: readSgl(v),
      };
    }
    const size = (v.getUint8(40) & 0x7) === 1 ? 8 : 4;
    if (fctype === FabricsCommandType.PropertyGet) return { kind: "PropertyGet", cid, size, offset: v.getUint32(44, true) };
    if (fctype === FabricsCommandType.PropertySet) {
      return { kind: "PropertySet", cid, size, offset: v.getUint32(44, true), value: v.getBigUint64(48, true) };
    }
  }
  return { kind: "Raw", bytes: bytes.slice(0, SQE_LENGTH) };
}

// ---- the data a command moves ----

/** Admin opcodes whose data length their own fields give (NVMe base specification, admin command set). */
export const AdminOpcode = { GetLogPage: 0x02, Identify: 0x06 } as const;

/** Identify data structures are 4096 bytes (CNS-independent). */
export const IDENTIFY_DATA_LENGTH = 4096;

/** Which way a command's data goes: bits 1:0 of the opcode, or of the Fabrics command type (NVMe base, figure "Opcodes"). */
export type DataDirection = "none" | "h2c" | "c2h" | "bidirectional";
const DIRECTIONS: readonly DataDirection[] = ["none", "h2c", "c2h", "bidirectional"];

export interface Transfer {
  direction: DataDirection;
  /** What the SGL descriptor says, when it is one that carries a length (Data Block, Keyed or Transport Data Block) and that length is not 0. */
  sglLength: number | undefined;
  /** What the command's own fields say: Read NLB x LBA size, Identify 4096, Get Log Page NUMD (undefined for others). */
  fieldLength: number | undefined;
  /** The larger of the two: a receiver that accepts what either allows. */
  length: number;
}

/** SGL descriptor types (identifier bits 7:4) whose bytes 8..11 hold a data length; a Keyed Data Block's is 24 bits. */
const SGL_DATA_BLOCK = 0x0;
const SGL_KEYED_DATA_BLOCK = 0x4;
const SGL_TRANSPORT_DATA_BLOCK = 0x5;

/**
 * The data a command moves, from its 64 raw bytes: its direction, and its length from the SGL descriptor and from
 * its own fields. `lbaSize` gives the logical block size of a namespace (for Read). Hosts in the field send SGLs of
 * length 0, of other types than Linux's, or shorter than the command's fields; the larger length is used.
 */
export function sqeTransfer(bytes: Uint8Array, o: { admin: boolean; lbaSize: (nsid: number) => number }): Transfer {
  const v = le(bytes);
  const opcode = v.getUint8(0);
  const direction = DIRECTIONS[(opcode === NvmeOpcode.Fabrics ? v.getUint8(4) : opcode) & 3]!;
  const type = v.getUint8(39) >>> 4;
  const raw = type === SGL_KEYED_DATA_BLOCK ? v.getUint32(32, true) & 0xffffff : v.getUint32(32, true);
  const sglLength = (type === SGL_DATA_BLOCK || type === SGL_KEYED_DATA_BLOCK || type === SGL_TRANSPORT_DATA_BLOCK) && raw > 0 ? raw : undefined;
  let fieldLength: number | undefined;
  if (!o.admin && opcode === NvmeOpcode.Read) fieldLength = (v.getUint16(48, true) + 1) * o.lbaSize(v.getUint32(4, true));
  else if (o.admin && opcode === AdminOpcode.Identify) fieldLength = IDENTIFY_DATA_LENGTH;
  else if (o.admin && opcode === AdminOpcode.GetLogPage) fieldLength = (v.getUint16(44, true) * 0x10000 + v.getUint16(42, true) + 1) * 4;
  return { direction, sglLength, fieldLength, length: Math.max(sglLength ?? 0, fieldLength ?? 0) };
}

/** A command's name for people: the common admin, I/O and Fabrics commands, else its opcode. */
export function commandName(bytes: Uint8Array, admin: boolean): string {
  const opcode = bytes[0]!;
  if (opcode === NvmeOpcode.Fabrics) return FABRICS_NAMES[bytes[4]!] ?? `Fabrics 0x${bytes[4]!.toString(16)}`;
  return (admin ? ADMIN_NAMES : IO_NAMES)[opcode] ?? `${admin ? "admin" : "I/O"} opcode 0x${opcode.toString(16)}`;
}

const ADMIN_NAMES: Record<number, string> = { 0x02: "Get Log Page", 0x06: "Identify", 0x09: "Set Features", 0x0a: "Get Features", 0x0c: "Async Event Request", 0x18: "Keep Alive" };
const IO_NAMES: Record<number, string> = { 0x00: "Flush", 0x01: "Write", 0x02: "Read", 0x05: "Compare", 0x08: "Write Zeroes", 0x09: "Dataset Management" };
const FABRICS_NAMES: Record<number, string> = { 0x00: "Property Set", 0x01: "Connect", 0x04: "Property Get", 0x05: "Authentication Send", 0x06: "Authentication Receive", 0x08: "Disconnect" };

/**
 * The logical block size an Identify Namespace data structure (CNS 0) gives for its formatted LBA format (FLBAS
 * bits 3:0, and 6:5 as the high bits when there are more than 16 formats; LBADS is a power of two), or undefined
 * when it names none in a sane range (512 bytes to 1 GiB).
 */
export function identifyNamespaceLbaSize(data: Uint8Array): number | undefined {
  if (data.length < 256) return undefined;
  const flbas = data[26]!;
  const index = (flbas & 0x0f) | (data[25]! >= 16 ? ((flbas >>> 5) & 3) << 4 : 0);
  const lbads = data[128 + 4 * index + 2]!;
  return lbads >= 9 && lbads <= 30 ? 2 ** lbads : undefined;
}

export function writeCqe(out: Uint8Array, cqe: Cqe): void {
  if (out.length < CQE_LENGTH) throw new RangeError(`writeCqe: need ${CQE_LENGTH} bytes, got ${out.length}`);
  const v = le(out);
  v.setBigUint64(0, cqe.result, true);
  v.setUint16(8, cqe.sqHead, true);
  v.setUint16(10, cqe.sqId, true);
  v.setUint16(12, cqe.cid, true);
  v.setUint16(14, cqe.status, true);
}

export function readCqe(bytes: Uint8Array): Cqe {
  if (bytes.length < CQE_LENGTH) throw new RangeError(`readCqe: need ${CQE_LENGTH} bytes, got ${bytes.length}`);
  const v = le(bytes);
  return {
    result: v.getBigUint64(0, true),
    sqHead: v.getUint16(8, true),
    sqId: v.getUint16(10, true),
    cid: v.getUint16(12, true),
    status: v.getUint16(14, true),
  };
}

/** Status code type values (CQE status bits 11:9). */
export const StatusCodeType = { Generic: 0, CommandSpecific: 1, MediaError: 2, PathRelated: 3 } as const;

/** Builds the 16-bit CQE status field (phase tag 0, as on fabrics). */
export function cqeStatus(sct: number, sc: number, dnr = false): number {
  return ((dnr ? 1 : 0) << 15) | ((sct & 0x7) << 9) | ((sc & 0xff) << 1);
}

export function statusCode(status: number): number {
  return (status >>> 1) & 0xff;
}

export function statusCodeType(status: number): number {
  return (status >>> 9) & 0x7;
}

/** Success is SCT 0 / SC 0; phase, CRD, More and DNR do not matter. */
export function statusOk(status: number): boolean {
  return (status & 0x0ffe) === 0;
}

// ---- CID layout of Linux hosts: bits 15:12 generation counter, bits 11:0 the blk-mq tag ----

export function makeCid(tag: number, genctr: number): number {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xfff) throw new RangeError(`makeCid: tag must be 0..4095, got ${tag}`);
  return (((genctr & 0xf) << 12) | tag) >>> 0;
}

export function cidTag(cid: number): number {
  return cid & 0xfff;
}

export function cidGen(cid: number): number {
  return (cid >>> 12) & 0xf;
}

// ---- Fabrics Connect data (1024 bytes, in-capsule) ----

export const CONNECT_DATA_LENGTH = 1024;
const NQN_FIELD = 256;

export interface ConnectData {
  /** Host identifier, 16 bytes (a UUID). */
  hostId: Uint8Array;
  /** 0xFFFF on the admin queue (dynamic controller), the assigned controller id on I/O queues. */
  cntlid: number;
  subnqn: string;
  hostnqn: string;
}

export function encodeConnectData(d: ConnectData): Uint8Array {
  if (d.hostId.length !== 16) throw new RangeError(`hostId must be 16 bytes, got ${d.hostId.length}`);
  const out = new Uint8Array(CONNECT_DATA_LENGTH);
  out.set(d.hostId, 0);
  le(out).setUint16(16, d.cntlid, true);
  writeNqn(out, 256, d.subnqn);
  writeNqn(out, 512, d.hostnqn);
  return out;
}

/**
 * Parses Connect data. An NQN must be NUL-terminated inside its 256-byte field: CVE-2023-6121 was a target
 * reading past an unterminated one.
 */
export function decodeConnectData(bytes: Uint8Array): ConnectData {
  if (bytes.length < CONNECT_DATA_LENGTH) throw new RangeError(`Connect data must be ${CONNECT_DATA_LENGTH} bytes, got ${bytes.length}`);
  return {
    hostId: bytes.slice(0, 16),
    cntlid: le(bytes).getUint16(16, true),
    subnqn: readNqn(bytes, 256, "subnqn"),
    hostnqn: readNqn(bytes, 512, "hostnqn"),
  };
}

function writeNqn(out: Uint8Array, offset: number, nqn: string): void {
  const bytes = new TextEncoder().encode(nqn);
  if (bytes.length >= NQN_FIELD) throw new RangeError(`NQN longer than ${NQN_FIELD - 1} bytes: ${nqn}`);
  out.set(bytes, offset);
}

function readNqn(bytes: Uint8Array, offset: number, name: string): string {
  const field = bytes.subarray(offset, offset + NQN_FIELD);
  const end = field.indexOf(0);
  if (end < 0) throw new RangeError(`Connect data: ${name} is not NUL-terminated`);
  return new TextDecoder().decode(field.subarray(0, end));
}
