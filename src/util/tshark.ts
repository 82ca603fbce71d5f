// A small runner for tshark, Wireshark's command-line dissector, used as an external oracle: the project writes
// pcaps and asks tshark what it sees. Output crosses a process boundary, so it is validated with zod.

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { z } from "zod";

const execFileAsync = promisify(execFile);

export interface TsharkRun {
  pcap: string;
  /** Decode TCP port -> protocol ("-d tcp.port==P,proto"), e.g. { 4420: "nvme-tcp" }. */
  decodeAs?: Record<number, string>;
  /** Dissector preferences ("-o name:value"), e.g. { "nvme-tcp.check_ddgst": "TRUE" }. */
  prefs?: Record<string, string>;
  /** Display filter ("-Y"): only matching frames are reported. */
  displayFilter?: string;
}

function commonArgs(run: TsharkRun): string[] {
  const args = ["-r", run.pcap];
  for (const [port, proto] of Object.entries(run.decodeAs ?? {})) args.push("-d", `tcp.port==${port},${proto}`);
  for (const [name, value] of Object.entries(run.prefs ?? {})) args.push("-o", `${name}:${value}`);
  if (run.displayFilter !== undefined) args.push("-Y", run.displayFilter);
  return args;
}

async function tshark(args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync("tshark", args, { maxBuffer: 256 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new Error(`tshark ${args.join(" ")} failed: ${detail}`);
  }
}

/**
 * One row per frame: each requested field's occurrences in that frame (a frame can hold several PDUs, so a
 * field can occur several times; a missing field gives an empty list).
 */
export async function tsharkFields(run: TsharkRun, fields: readonly string[]): Promise<Array<Record<string, string[]>>> {
  const args = [...commonArgs(run), "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=|"];
  for (const f of fields) args.push("-e", f);
  const stdout = await tshark(args);
  return stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const cells = line.split("\t");
      const row: Record<string, string[]> = {};
      fields.forEach((f, i) => {
        const cell = cells[i] ?? "";
        row[f] = cell === "" ? [] : cell.split("|");
      });
      return row;
    });
}

const jsonOutput = z.array(z.object({ _source: z.object({ layers: z.record(z.string(), z.unknown()) }) }));

/** A protocol layer flattened to its dotted field names (subtrees merged in; the first occurrence wins). */
export type FlatLayer = Record<string, string>;

export interface TsharkFrame {
  number: number;
  /** Each requested protocol's instances in this frame, in order (several PDUs of one protocol are several). */
  layers: Record<string, FlatLayer[]>;
}

function flatten(node: unknown, into: FlatLayer): FlatLayer {
  if (node === null || typeof node !== "object") return into;
  for (const [key, value] of Object.entries(node)) {
    if (typeof value === "string") {
      if (!(key in into)) into[key] = value;
    } else {
      flatten(value, into);
    }
  }
  return into;
}

/** Every instance of each protocol in `protocols`, per frame, with all its fields ("-T json -J"). */
export async function tsharkLayers(run: TsharkRun, protocols: readonly string[]): Promise<TsharkFrame[]> {
  const args = [...commonArgs(run), "-T", "json", "--no-duplicate-keys", "-J", ["frame", ...protocols].join(" ")];
  const parsed = jsonOutput.parse(JSON.parse(await tshark(args)));
  return parsed.map((packet) => {
    const all = packet._source.layers;
    const frame = flatten(all.frame, {});
    const layers: Record<string, FlatLayer[]> = {};
    for (const proto of protocols) {
      const value = all[proto];
      const instances = value === undefined ? [] : Array.isArray(value) ? value : [value];
      // A layer that only names itself (a string) has no fields to report, but it still counts as an instance.
      layers[proto] = instances.map((inst) => flatten(inst, {}));
    }
    return { number: Number(frame["frame.number"]), layers };
  });
}

/** Wireshark's checksum status values (proto_tree_add_checksum). */
export const DigestStatus = { bad: 0, good: 1, unverified: 2, notPresent: 3 } as const;

/** What tshark's nvme-tcp dissector says about one PDU. */
export interface NvmeTcpPduView {
  /** Frame in which the PDU ended (the dissector reassembles PDUs across segments). */
  frame: number;
  type: number;
  flags: number;
  hlen: number;
  pdo: number;
  plen: number;
  /** CCCID for data/R2T PDUs, the SQE's CID for CapsuleCmd, the CQE's CID for CapsuleResp. */
  cid?: number;
  datao?: number;
  datal?: number;
  hdgstStatus?: number;
  ddgstStatus?: number;
}

const optionalNumber = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));

/**
 * Every NVMe/TCP PDU in a capture, in stream order per frame, with digests checked by tshark. Both directions
 * must be in the capture from the ICReq on: the dissector learns from ICReq/ICResp that digests are on.
 */
export async function nvmeTcpPdus(pcap: string, port: number): Promise<NvmeTcpPduView[]> {
  const frames = await tsharkLayers(
    {
      pcap,
      decodeAs: { [port]: "nvme-tcp" },
      prefs: { "nvme-tcp.check_hdgst": "TRUE", "nvme-tcp.check_ddgst": "TRUE" },
      displayFilter: "nvme-tcp",
    },
    ["nvme-tcp", "nvme"],
  );
  const out: NvmeTcpPduView[] = [];
  for (const frame of frames) {
    // Fabrics capsules (Connect, ...) are decoded inside the nvme-tcp layer; other SQEs/CQEs by the separate
    // "nvme" layer, whose instances with a CID belong, in order, to this frame's remaining capsule PDUs (data PDUs
    // also pass through "nvme", but without any CID field).
    const capsuleCids = (frame.layers.nvme ?? [])
      .map((l) => l["nvme.cmd.cid"] ?? l["nvme.cqe.cid"])
      .filter((cid): cid is string => cid !== undefined);
    for (const l of frame.layers["nvme-tcp"] ?? []) {
      const type = Number(l["nvme-tcp.type"]);
      const isCapsule = type === 4 || type === 5;
      const inline = l["nvme.fabrics.cmd.cid"] ?? l["nvme.cqe.cid"];
      const cid = isCapsule ? (inline ?? capsuleCids.shift()) : l["nvme-tcp.cmd.cid"];
      const view: NvmeTcpPduView = {
        frame: frame.number,
        type,
        flags: Number(l["nvme-tcp.flags"]),
        hlen: Number(l["nvme-tcp.hlen"]),
        pdo: Number(l["nvme-tcp.pdo"]),
        plen: Number(l["nvme-tcp.plen"]),
      };
      const extras: Partial<NvmeTcpPduView> = {
        cid: optionalNumber(cid),
        datao: optionalNumber(l["nvme-tcp.data.offset"]),
        datal: optionalNumber(l["nvme-tcp.data.length"]),
        hdgstStatus: optionalNumber(l["nvme-tcp.hdgst.status"]),
        ddgstStatus: optionalNumber(l["nvme-tcp.ddgst.status"]),
      };
      for (const [k, v] of Object.entries(extras)) if (v !== undefined) Object.assign(view, { [k]: v });
      out.push(view);
    }
  }
  return out;
}
