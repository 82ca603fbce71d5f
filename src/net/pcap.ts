// Classic libpcap files (not pcapng): https://wiki.wireshark.org/Development/LibpcapFileFormat
// Written little-endian with microsecond timestamps; read in either byte order, microsecond or nanosecond magic.

import { ParseError } from "./errors.js";

export const LINKTYPE_ETHERNET = 1;

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const FILE_HEADER = 24;
const RECORD_HEADER = 16;
const SNAPLEN = 262144;

export interface PcapRecord {
  data: Uint8Array;
  /** Capture time in microseconds since the epoch (or since any origin the writer chose). */
  timeUs: number;
}

export interface PcapFile {
  linkType: number;
  records: (PcapRecord & { originalLength: number })[];
}

/** A pcap image of `records`. Missing timestamps default to the record index in microseconds. */
export function writePcap(records: readonly { data: Uint8Array; timeUs?: number }[], linkType = LINKTYPE_ETHERNET): Uint8Array {
  const size = FILE_HEADER + records.reduce((n, r) => n + RECORD_HEADER + r.data.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC_US, true);
  view.setUint16(4, 2, true); // version 2.4
  view.setUint16(6, 4, true);
  view.setUint32(16, SNAPLEN, true);
  view.setUint32(20, linkType, true);
  let o = FILE_HEADER;
  records.forEach((r, i) => {
    const timeUs = r.timeUs ?? i;
    view.setUint32(o, Math.floor(timeUs / 1e6), true);
    view.setUint32(o + 4, timeUs % 1e6, true);
    view.setUint32(o + 8, r.data.length, true);
    view.setUint32(o + 12, r.data.length, true);
    out.set(r.data, o + RECORD_HEADER);
    o += RECORD_HEADER + r.data.length;
  });
  return out;
}

/** Parses a pcap image; record data are views into `bytes`. Throws ParseError on truncation or a bad magic. */
export function readPcap(bytes: Uint8Array): PcapFile {
  if (bytes.length < FILE_HEADER) throw new ParseError("pcap", 0, `file header needs ${FILE_HEADER} bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicLe = view.getUint32(0, true);
  const magicBe = view.getUint32(0, false);
  let little: boolean;
  let nanos: boolean;
  if (magicLe === MAGIC_US || magicLe === MAGIC_NS) [little, nanos] = [true, magicLe === MAGIC_NS];
  else if (magicBe === MAGIC_US || magicBe === MAGIC_NS) [little, nanos] = [false, magicBe === MAGIC_NS];
  else throw new ParseError("pcap", 0, `not a classic pcap file (magic 0x${magicBe.toString(16).padStart(8, "0")})`);
  const linkType = view.getUint32(20, little) & 0xffff; // upper bits may carry FCS information
  const records: PcapFile["records"] = [];
  let o = FILE_HEADER;
  while (o < bytes.length) {
    if (o + RECORD_HEADER > bytes.length) throw new ParseError("pcap", o, "truncated record header");
    const seconds = view.getUint32(o, little);
    const fraction = view.getUint32(o + 4, little);
    const capturedLength = view.getUint32(o + 8, little);
    const originalLength = view.getUint32(o + 12, little);
    if (o + RECORD_HEADER + capturedLength > bytes.length) {
      throw new ParseError("pcap", o + 8, `record of ${capturedLength} bytes runs past the end of the file`);
    }
    records.push({
      data: bytes.subarray(o + RECORD_HEADER, o + RECORD_HEADER + capturedLength),
      timeUs: seconds * 1e6 + (nanos ? Math.floor(fraction / 1000) : fraction),
      originalLength,
    });
    o += RECORD_HEADER + capturedLength;
  }
  return { linkType, records };
}
