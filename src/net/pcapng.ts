// pcapng files (the default of Wireshark and dumpcap): https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html
// Read only. Each section has its own byte order (from its Section Header Block) and its own interfaces; a packet's
// link type and timestamp resolution are its interface's. Enhanced, Simple and the obsolete Packet Blocks carry
// packets; every other block (name resolution, statistics, custom, ...) is skipped.

import { ParseError } from "./errors.js";

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const OPB = 0x00000002;
const SPB = 0x00000003;
const EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** if_tsresol option code of an Interface Description Block. */
const OPT_TSRESOL = 9;

export interface PcapngRecord {
  data: Uint8Array;
  originalLength: number;
  linkType: number;
  /** Capture time in microseconds (from the interface's resolution). */
  timeUs: number;
}

interface Interface {
  linkType: number;
  snapLength: number;
  /** Timestamp units per second. */
  unitsPerSecond: number;
}

/** True when `bytes` starts with a pcapng Section Header Block. */
export function isPcapng(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === SHB;
}

/** Parses a pcapng image; packet data are views into `bytes`. Throws ParseError on a malformed or truncated block. */
export function readPcapng(bytes: Uint8Array): PcapngRecord[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: PcapngRecord[] = [];
  let little = true;
  let interfaces: Interface[] = [];
  let o = 0;
  while (o < bytes.length) {
    if (o + 12 > bytes.length) throw new ParseError("pcapng", o, "truncated block header");
    const type = view.getUint32(o, true);
    if (type === SHB) {
      // The byte order of this section (and of the SHB's own lengths) comes from its magic.
      const magic = view.getUint32(o + 8, true);
      if (magic === BYTE_ORDER_MAGIC) little = true;
      else if (view.getUint32(o + 8, false) === BYTE_ORDER_MAGIC) little = false;
      else throw new ParseError("pcapng", o + 8, `bad byte-order magic 0x${magic.toString(16)}`);
      interfaces = [];
    }
    const length = view.getUint32(o + 4, little);
    if (length < 12 || length % 4 !== 0) throw new ParseError("pcapng", o + 4, `block length ${length} is not a multiple of 4 of at least 12`);
    if (o + length > bytes.length) throw new ParseError("pcapng", o + 4, `block of ${length} bytes runs past the end of the file`);
    if (view.getUint32(o + length - 4, little) !== length) throw new ParseError("pcapng", o + length - 4, "trailing block length differs from the leading one");
    const body = o + 8;
    const bodyEnd = o + length - 4;
    const blockType = view.getUint32(o, little);
    const need = (n: number, what: string): void => {
      if (body + n > bodyEnd) throw new ParseError("pcapng", body, `${what} needs ${n} bytes, the block has ${bodyEnd - body}`);
    };
    const iface = (id: number, at: number): Interface => {
      const i = interfaces[id];
      if (!i) throw new ParseError("pcapng", at, `packet of interface ${id}, which is not described`);
      return i;
    };
    const time = (i: Interface, high: number, low: number): number => ((high * 2 ** 32 + low) / i.unitsPerSecond) * 1e6;
    if (blockType === IDB) {
      need(8, "Interface Description Block");
      interfaces.push({ linkType: view.getUint16(body, little), snapLength: view.getUint32(body + 4, little), unitsPerSecond: tsResolution(view, body + 8, bodyEnd, little) });
    } else if (blockType === EPB || blockType === OPB) {
      // The same layout, but for the interface id: 32 bits in an EPB, 16 (then 16 of drop count) in the old PB.
      const what = blockType === EPB ? "Enhanced Packet Block" : "Packet Block";
      need(20, what);
      const i = iface(blockType === EPB ? view.getUint32(body, little) : view.getUint16(body, little), body);
      const captured = view.getUint32(body + 12, little);
      need(20 + captured, `${what} data`);
      records.push({
        data: bytes.subarray(body + 20, body + 20 + captured),
        originalLength: view.getUint32(body + 16, little),
        linkType: i.linkType,
        timeUs: time(i, view.getUint32(body + 4, little), view.getUint32(body + 8, little)),
      });
    } else if (blockType === SPB) {
      need(4, "Simple Packet Block");
      const i = iface(0, body);
      const original = view.getUint32(body, little);
      const captured = Math.min(original, bodyEnd - body - 4, i.snapLength || original);
      records.push({ data: bytes.subarray(body + 4, body + 4 + captured), originalLength: original, linkType: i.linkType, timeUs: 0 });
    }
    o += length;
  }
  return records;
}

/** The if_tsresol option of an IDB's options (from `at`): units per second, microseconds when absent. */
function tsResolution(view: DataView, at: number, end: number, little: boolean): number {
  for (let o = at; o + 4 <= end; ) {
    const code = view.getUint16(o, little);
    const len = view.getUint16(o + 2, little);
    if (code === 0) break;
    if (code === OPT_TSRESOL && len >= 1 && o + 5 <= end) {
      const r = view.getUint8(o + 4);
      return r & 0x80 ? 2 ** (r & 0x7f) : 10 ** (r & 0x7f);
    }
    o += 4 + Math.ceil(len / 4) * 4;
  }
  return 1e6;
}
