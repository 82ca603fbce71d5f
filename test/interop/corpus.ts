// The interop corpus: one capture per documented wire behaviour of a real NVMe/TCP implementation, built with the
// project's own code (builder.ts). Each entry says which behaviour it stands for and where that behaviour was read
// (repository, file, function); the code below is written from those readings, none of it copied. What each
// command must return is the namespace pattern (or data the entry makes up), known before any replay.

import { sglInCapsule, sglTransport, type Sqe, makeCid } from "../../src/pdu/sqe.js";
import {
  discoveryLogPage,
  getLogPageSqe,
  identifyControllerData,
  identifyNamespaceData,
  identifySqe,
  namespaceData,
  type NvmeQueue,
  rawSqe,
} from "./builder.js";
import { CaptureBuilder, connectQueue, readCommand } from "./peers.js";

export interface CorpusEntry {
  name: string;
  /** The wire behaviour the capture stands for. */
  behaviour: string;
  /** Where it was read: repository, file, function. */
  sources: string[];
  port: number;
  /** How the capture is written (sll2: tcpdump -i any on the host). */
  format: "pcap" | "pcapng" | "sll2" | "sll2-pcapng";
  /** Finding codes the replay must list, sorted: what the implementation gets wrong without harm. */
  findings: string[];
  /** Some command is set up for DDP and placed by the NIC (false: an admin queue only, which Linux never offloads). */
  placed: boolean;
  build: () => CaptureBuilder;
}

const NVME_CONNECT_DISABLE_SQFLOW = 1 << 2;
/** Linux's admin queue: NVME_AQ_DEPTH 32, the last tag (NVME_AQ_BLK_MQ_DEPTH = 31) is the AER's CID. */
const LINUX_AQ_SQSIZE = 31;
const LINUX_AER_CID = 31;

/** Linux CIDs (nvme_cid): a tag's 4-bit generation counter, advanced at every use, over the blk-mq tag. */
class LinuxCids {
  private readonly gen = new Map<number, number>();
  next(tag: number): number {
    const g = ((this.gen.get(tag) ?? 0) + 1) & 0xf;
    this.gen.set(tag, g);
    return makeCid(tag, g);
  }
}

/** A command with controller-to-host data answered as `answer` says, expected to end with `data`. */
function dataCommand(b: CaptureBuilder, q: NvmeQueue, sqe: Uint8Array | Sqe, data: Uint8Array, answer: (cid: number) => void): void {
  const s: Sqe = sqe instanceof Uint8Array ? { kind: "Raw", bytes: sqe } : sqe;
  const cid = s.kind === "Raw" ? s.bytes[2]! | (s.bytes[3]! << 8) : (s as { cid: number }).cid;
  q.pdu("host", { kind: "CapsuleCmd", sqe: s });
  q.flush("host");
  answer(cid);
  b.expect(q, cid, data);
}

/** nvmet-tcp's answer to a command with data: one C2HData with LAST (nvmet_setup_c2h_data_pdu), then the CapsuleResp. */
function nvmetAnswer(q: NvmeQueue, data: Uint8Array, o: { sqflowOff?: boolean; stallAfter?: number; sqId?: number } = {}): (cid: number) => void {
  return (cid) => {
    q.dataIn(cid, data, { success: o.sqflowOff ?? false });
    if (!o.sqflowOff) q.respond(cid, { sqId: o.sqId ?? 0 });
    q.flush("target", o.stallAfter === undefined ? {} : { stallAfter: o.stallAfter });
  };
}

/** A Fabrics Property Get / Set capsule (no data) and its response (the value in the CQE's result). */
function property(q: NvmeQueue, cid: number, sqe: Sqe, result: bigint, patch?: (b: Uint8Array) => void): void {
  q.pdu("host", { kind: "CapsuleCmd", sqe }, patch ? { patch } : {});
  q.flush("host");
  q.respond(cid, { result });
  q.flush("target");
}

/**
 * What the Linux host does on a new controller's admin queue (nvme_tcp_init_connection, nvmf_connect_admin_queue,
 * nvme_init_ctrl_finish's Identify, the namespace scan's Identify Namespace, the AER it leaves outstanding), answered
 * by nvmet-tcp.
 */
function linuxAdmin(b: CaptureBuilder, o: { hdgst?: boolean; ddgst?: boolean; lbads: number; sqflowOff?: boolean }): NvmeQueue {
  const q = b.connection();
  const cids = new LinuxCids();
  q.connect({ hdgst: o.hdgst ?? false, ddgst: o.ddgst ?? false, maxh2cdata: 0x400000 });
  connectQueue(q, { cid: cids.next(0), qid: 0, cntlid: 1, sqsize: LINUX_AQ_SQSIZE, cattr: o.sqflowOff ? NVME_CONNECT_DISABLE_SQFLOW : 0 });
  let cid = cids.next(1);
  property(q, cid, { kind: "PropertyGet", cid, size: 8, offset: 0x00 }, 0x0000_0020_3c03_007fn); // CAP
  cid = cids.next(2);
  property(q, cid, { kind: "PropertySet", cid, size: 4, offset: 0x14, value: 0x460001n }, 0n); // CC.EN
  cid = cids.next(3);
  property(q, cid, { kind: "PropertyGet", cid, size: 4, offset: 0x1c }, 1n); // CSTS.RDY
  const ctrl = identifyControllerData(1);
  dataCommand(b, q, identifySqe(cids.next(4), 1, 0, sglTransport(4096)), ctrl, nvmetAnswer(q, ctrl, o));
  const ns = identifyNamespaceData(1 << 24, o.lbads);
  dataCommand(b, q, identifySqe(cids.next(5), 0, 1, sglTransport(4096)), ns, nvmetAnswer(q, ns, o));
  // nvme_tcp_submit_async_event: CID NVME_AQ_BLK_MQ_DEPTH, no data (a null SGL), never answered here.
  q.pdu("host", { kind: "CapsuleCmd", sqe: { kind: "Raw", bytes: rawSqe({ opcode: 0x0c, cid: LINUX_AER_CID, sgl: sglTransport(0) }) } });
  q.flush("host");
  return q;
}

/** A Linux host read of `nlb` 512-byte blocks (nvme_tcp_setup_cmd_pdu: pdo 0, SGL Transport Data Block of its length). */
function linuxRead(b: CaptureBuilder, q: NvmeQueue, cid: number, slba: number, nlb: number, answer: (data: Uint8Array) => (cid: number) => void): void {
  const data = namespaceData(1, slba, nlb, 512);
  dataCommand(b, q, { kind: "Read", cid, nsid: 1, slba: BigInt(slba), nlb: nlb - 1, sgl: sglTransport(nlb * 512) }, data, answer(data));
}

const LINUX_HOST = "torvalds/linux drivers/nvme/host/tcp.c";
const LINUX_TARGET = "torvalds/linux drivers/nvme/target/tcp.c";

export const CORPUS: CorpusEntry[] = [
  {
    name: "linux-host-nvmet",
    behaviour:
      "Linux host and nvmet-tcp with both digests: ICReq hpda 0, maxr2t 0; CIDs with a generation counter in bits 15:12; " +
      "capsules with pdo 0 unless data is in the capsule (then pdo = hlen + HDGST, DDGST flag); SGL Transport Data Block " +
      "for reads and large writes, Data Block/Offset for in-capsule writes; H2CData after nvmet's single R2T; nvmet " +
      "answers every read with one C2HData (LAST, pdo 28) and a CapsuleResp in the same MSG_MORE batch; the AER left " +
      "outstanding on the admin queue; a zero-window stall of the host in the middle of a 128 KiB read.",
    sources: [
      `${LINUX_HOST} nvme_tcp_init_connection (ICReq), nvme_tcp_setup_cmd_pdu (pdo, flags, plen), nvme_tcp_map_data / nvme_tcp_set_sg_host_data / nvme_tcp_set_sg_inline (SGLs), nvme_tcp_submit_async_event (AER CID), nvme_tcp_setup_h2c_data_pdu (H2CData)`,
      `${LINUX_TARGET} nvmet_tcp_handle_icreq (ICResp maxdata 0x400000, cpda 0), nvmet_setup_c2h_data_pdu (one PDU, LAST, SUCCESS only with sqhd_disabled), nvmet_setup_r2t_pdu, nvmet_setup_response_pdu, nvmet_try_send_data_pdu (MSG_MORE)`,
      "torvalds/linux drivers/nvme/host/fabrics.c nvmf_connect_admin_queue / nvmf_connect_io_queue (Connect, sqsize, cattr)",
    ],
    port: 4420,
    format: "pcap",
    findings: [],
    placed: true,
    build() {
      const b = new CaptureBuilder();
      linuxAdmin(b, { hdgst: true, ddgst: true, lbads: 9 });
      const q = b.connection();
      const cids = new LinuxCids();
      q.connect({ hdgst: true, ddgst: true, maxh2cdata: 0x400000 });
      connectQueue(q, { cid: cids.next(0), qid: 1, cntlid: 1, sqsize: 127 });
      const answer = (data: Uint8Array): ((cid: number) => void) => nvmetAnswer(q, data, { sqId: 1 });
      linuxRead(b, q, cids.next(1), 0, 8, answer);
      linuxRead(b, q, cids.next(2), 4096, 32, answer);
      linuxRead(b, q, cids.next(3), 8192, 256, (data) => nvmetAnswer(q, data, { sqId: 1, stallAfter: 40_000 }));
      // A 4 KiB write in the capsule, a 32 KiB one after an R2T.
      let cid = cids.next(4);
      q.pdu("host", { kind: "CapsuleCmd", sqe: { kind: "Write", cid, nsid: 1, slba: 100_000n, nlb: 7, sgl: sglInCapsule(4096) }, data: new Uint8Array(4096).fill(0xa5) });
      q.flush("host");
      q.respond(cid, { sqId: 1 });
      q.flush("target");
      cid = cids.next(5);
      q.pdu("host", { kind: "CapsuleCmd", sqe: { kind: "Write", cid, nsid: 1, slba: 100_008n, nlb: 63, sgl: sglTransport(32768) } });
      q.flush("host");
      q.pdu("target", { kind: "R2T", cccid: cid, ttag: 5, r2to: 0, r2tl: 32768 });
      q.flush("target");
      q.pdu("host", { kind: "H2CData", cccid: cid, ttag: 5, datao: 0, last: true, data: new Uint8Array(32768).fill(0x5a) });
      q.flush("host");
      q.respond(cid, { sqId: 1 });
      q.flush("target");
      linuxRead(b, q, cids.next(1), 20_000, 16, answer);
      return b;
    },
  },
  {
    name: "linux-host-nvmet-sqflow-off-mtu9000",
    behaviour:
      "Linux host connected with disable_sqflow (Connect cattr bit 2) to nvmet-tcp: nvmet then sets SUCCESS with LAST on " +
      "the single C2HData of each read and sends no CapsuleResp; reads up to 512 KiB; jumbo frames (MTU 9000), no digests.",
    sources: [
      "torvalds/linux drivers/nvme/host/fabrics.c nvmf_connect_io_queue (cattr |= NVME_CONNECT_DISABLE_SQFLOW)",
      `${LINUX_TARGET} nvmet_setup_c2h_data_pdu (NVME_TCP_F_DATA_SUCCESS when sqhd_disabled), nvmet_try_send_data (no response PDU when sqhd_disabled)`,
    ],
    port: 4420,
    format: "pcap",
    findings: [],
    placed: true,
    build() {
      const b = new CaptureBuilder({ mtu: 9000 });
      linuxAdmin(b, { lbads: 9, sqflowOff: true });
      const q = b.connection();
      const cids = new LinuxCids();
      q.connect({ maxh2cdata: 0x400000 });
      connectQueue(q, { cid: cids.next(0), qid: 1, cntlid: 1, sqsize: 127, cattr: NVME_CONNECT_DISABLE_SQFLOW });
      [8, 64, 256, 1024, 16].forEach((nlb, i) => linuxRead(b, q, cids.next(i + 1), i * 8192, nlb, (data) => nvmetAnswer(q, data, { sqflowOff: true })));
      return b;
    },
  },
  {
    name: "spdk-target",
    behaviour:
      "SPDK nvmf target (current) with a Linux host over IPv6: ICResp cpda = the host's hpda (0), maxh2cdata = max_io_size " +
      "(128 KiB), so a 256 KiB write goes in two H2CData; one C2HData per read with LAST, SUCCESS only when the host " +
      "disabled SQ flow control (it did not here), then the CapsuleResp; written as pcapng, as dumpcap does.",
    sources: [
      "spdk/spdk lib/nvmf/tcp.c nvmf_tcp_icreq_handle (cpda, maxh2cdata), _nvmf_tcp_send_c2h_data (datal = length - rw_offset, LAST, SUCCESS condition), nvmf_tcp_pdu_c2h_data_complete (CapsuleResp unless SUCCESS)",
      `${LINUX_HOST} nvme_tcp_setup_h2c_data_pdu (H2CData of at most maxh2cdata)`,
    ],
    port: 4420,
    format: "pcapng",
    findings: [],
    placed: true,
    build() {
      const b = new CaptureBuilder({ ipVersion: 6 });
      const q = b.connection();
      const cids = new LinuxCids();
      q.connect({ hdgst: true, maxh2cdata: 131072 });
      connectQueue(q, { cid: cids.next(0), qid: 1, cntlid: 2, sqsize: 127 });
      const answer = (data: Uint8Array): ((cid: number) => void) => nvmetAnswer(q, data, { sqId: 1 });
      linuxRead(b, q, cids.next(1), 0, 16, answer);
      const cid = cids.next(2);
      q.pdu("host", { kind: "CapsuleCmd", sqe: { kind: "Write", cid, nsid: 1, slba: 50_000n, nlb: 511, sgl: sglTransport(262144) } });
      q.flush("host");
      q.pdu("target", { kind: "R2T", cccid: cid, ttag: 1, r2to: 0, r2tl: 262144 });
      q.flush("target");
      for (const at of [0, 131072]) q.pdu("host", { kind: "H2CData", cccid: cid, ttag: 1, datao: at, last: at > 0, data: new Uint8Array(131072).fill(at ? 2 : 1) });
      q.flush("host");
      q.respond(cid, { sqId: 1 });
      q.flush("target");
      linuxRead(b, q, cids.next(3), 777, 128, answer);
      linuxRead(b, q, cids.next(1), 9000, 40, answer);
      return b;
    },
  },
  {
    name: "spdk-target-v19-split-success",
    behaviour:
      "SPDK nvmf target before January 2020 (v19.x) with the SPDK host: reads split in C2HData PDUs of at most 128 KiB " +
      "(NVMF_TCP_PDU_MAX_C2H_DATA_SIZE), LAST on the last one and SUCCESS with it whenever c2h_success is on (default), " +
      "no CapsuleResp; 1 MiB reads, data digests, CIDs 0..n-1 without generation (SPDK host).",
    sources: [
      "spdk/spdk lib/nvmf/tcp.c at a2adca79d9^ (Jan 2020) spdk_nvmf_tcp_send_c2h_data (datal = min(128 KiB, rest), LAST and SUCCESS on the last PDU)",
      "spdk/spdk lib/nvme/nvme_tcp.c nvme_tcp_alloc_reqs (cid = request index), nvme_tcp_qpair_icreq_send (hpda 0, maxr2t 0)",
    ],
    port: 4420,
    format: "pcap",
    findings: [],
    placed: true,
    build() {
      const b = new CaptureBuilder();
      const q = b.connection();
      q.connect({ ddgst: true, maxh2cdata: 131072 });
      connectQueue(q, { cid: 0, qid: 1, cntlid: 3, sqsize: 127 });
      const split = (data: Uint8Array) => (cid: number) => {
        q.dataIn(cid, data, { pduSize: 131072, success: true });
        q.flush("target");
      };
      linuxRead(b, q, 0, 0, 2048, split);
      linuxRead(b, q, 1, 4096, 96, split);
      linuxRead(b, q, 0, 8192, 2048, split);
      return b;
    },
  },
  {
    name: "spdk-host-qd96-mtu576",
    behaviour:
      "SPDK host at queue depth 96 against the SPDK target: 96 reads outstanding at once, CIDs 0..95 (the request index, " +
      "no generation) used again by a second wave; capsules with pdo 0 and Transport Data Block SGLs; the target " +
      "completes in its own order; MTU 576, no TCP timestamps, so headers and digests split across segments; a few " +
      "spurious retransmissions; captured with tcpdump -i any (Linux cooked SLL2).",
    sources: [
      "spdk/spdk lib/nvme/nvme_tcp.c nvme_tcp_alloc_reqs (cid = i), nvme_tcp_build_contig_request (SPDK_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK), nvme_tcp_qpair_capsule_cmd_send (pdo only with in-capsule data)",
      "spdk/spdk lib/nvmf/tcp.c _nvmf_tcp_send_c2h_data, nvmf_tcp_pdu_c2h_data_complete (CapsuleResp after the data)",
    ],
    port: 4420,
    format: "sll2",
    findings: [],
    placed: true,
    build() {
      const b = new CaptureBuilder({ mtu: 576, timestamps: false });
      const q = b.connection();
      q.connect({ hdgst: true, ddgst: true, maxh2cdata: 131072 });
      connectQueue(q, { cid: 0, qid: 1, cntlid: 4, sqsize: 127 });
      for (const wave of [0, 1]) {
        const reads = Array.from({ length: wave === 0 ? 96 : 40 }, (_, cid) => {
          const nlb = 8 + ((cid * 5) % 25);
          const slba = wave * 100_000 + cid * 64;
          q.pdu("host", { kind: "CapsuleCmd", sqe: { kind: "Read", cid, nsid: 1, slba: BigInt(slba), nlb: nlb - 1, sgl: sglTransport(nlb * 512) } });
          return { cid, data: namespaceData(1, slba, nlb, 512) };
        });
        q.flush("host");
        // The target's completion order: a fixed permutation (odd CIDs first, in reverse).
        const order = [...reads.filter((r) => r.cid % 2 === 1).reverse(), ...reads.filter((r) => r.cid % 2 === 0)];
        for (const r of order) {
          q.dataIn(r.cid, r.data);
          q.respond(r.cid, { sqId: 1 });
          b.expect(q, r.cid, r.data);
        }
        q.flush("target");
        q.conv.retransmit("target", 3);
      }
      return b;
    },
  },
  {
    name: "go-discovery-client-and-server",
    behaviour:
      "Lightbits discovery-client (Go) host against its own discovery server on port 8009, no digests: the host's " +
      "capsules never set pdo, so the Connect's 1024 bytes of data sit behind pdo 0; CIDs from 1; Identify with an SGL " +
      "of zeros; discovery Get Log Page with an SGL of 16 bytes whatever NUMD asks (1024-byte header, then header and " +
      "entries, then the header again); the server's ICResp maxdata 0x10000, one C2HData per command with LAST (pdo " +
      "24, never SUCCESS) and its CapsuleResp in one flush. An admin queue only: nothing is offloaded.",
    sources: [
      "LightBitsLabs/discovery-client pkg/nvme/nvmehost/tcp_queue.go sendNvmeInitConnection, createTCPHeader (pdo never set), nextCmdID (from 1), getLogPageEntries (1024, then header + n x 1024, then 1024)",
      "LightBitsLabs/discovery-client pkg/nvme/discovery.go NewNvmeGetDiscoveryLogPageRequest (Dptr length 16, type 0x5a), NewIdentifyRequest (no Dptr)",
      "LightBitsLabs/discovery-client pkg/nvme/tcp_queue.go nvmeConnect (ICResp maxdata 0x10000), sendDataPdu (LAST, pdo = 24), pollResponseChannel (data, then CQE, one flush)",
    ],
    port: 8009,
    format: "pcap",
    findings: ["ICD_PDO_ZERO", "SGL_LENGTH", "SGL_LENGTH", "SGL_LENGTH", "SGL_LENGTH"],
    placed: false,
    build() {
      const b = new CaptureBuilder({ target: { port: 8009 } });
      const q = b.connection();
      q.connect({ maxh2cdata: 0x10000 });
      let cid = 1;
      connectQueue(q, { cid: cid++, qid: 0, cntlid: 1, sqsize: 31, patchCapsule: (x) => (x[3] = 0) });
      const goAnswer = (data: Uint8Array) => (c: number) => {
        q.dataIn(c, data);
        q.respond(c);
        q.flush("target");
      };
      for (const [offset, value] of [
        [0x14, 0x460001n],
        [0x1c, 1n],
      ] as const) {
        const c = cid++;
        property(q, c, offset === 0x14 ? { kind: "PropertySet", cid: c, size: 4, offset, value } : { kind: "PropertyGet", cid: c, size: 4, offset }, value);
      }
      const ctrl = identifyControllerData(1);
      dataCommand(b, q, identifySqe(cid++, 1, 0, { address: 0n, length: 0, id: 0 }), ctrl, goAnswer(ctrl));
      const log = discoveryLogPage(7, 3);
      const sixteen = { address: 0n, length: 16, id: 0x5a };
      [1024, log.length, 1024].forEach((bytes, i) => {
        const data = log.subarray(0, bytes);
        dataCommand(b, q, getLogPageSqe(cid++, { lid: 0x70, bytes, nsid: i === 0 ? 0xffffffff : 0, sgl: sixteen }), data, goAnswer(data));
      });
      return b;
    },
  },
  {
    name: "python-host-truenas",
    behaviour:
      "truenas pynvmeof client (Python) against nvmet-tcp: an ICReq of zeros (no digests); admin capsules (Property " +
      "Get/Set, Identify, Set Features) with pdo 72 although they carry no data; reads with pdo 0 and a Transport Data " +
      "Block SGL of block count x the LBA size it read from Identify Namespace (4096 here), one command at a time, " +
      "CIDs from 1 on each queue, the I/O queue on its own connection.",
    sources: [
      "truenas/truenas_pynvmeof_client src/nvmeof_client/client.py _build_icreq, _send_property_get_pdu / _send_identify_controller_pdu / _send_admin_command_pdu (hlen 72, pdo 72, plen 72), _send_nvme_io_command_pdu (pdo 0), read_data, _get_next_admin_command_id / _get_next_io_command_id",
      "truenas/truenas_pynvmeof_client src/nvmeof_client/protocol/io_commands.py pack_nvme_read_command (SGL 0x5a, block_count x logical_block_size); protocol/admin_commands.py pack_identify_command (4096, 0x5a)",
      `${LINUX_TARGET} nvmet_tcp_try_recv_pdu (reads hlen + HDGST of a command: pdo unused), nvmet_setup_c2h_data_pdu`,
    ],
    port: 4420,
    format: "pcap",
    findings: ["RESERVED_PDO", "RESERVED_PDO", "RESERVED_PDO", "RESERVED_PDO", "RESERVED_PDO", "RESERVED_PDO"],
    placed: true,
    build() {
      const b = new CaptureBuilder();
      const pdo72 = (x: Uint8Array): void => void (x[3] = 72);
      const admin = b.connection();
      admin.connect({ maxh2cdata: 0x400000 });
      let cid = 1;
      connectQueue(admin, { cid: cid++, qid: 0, cntlid: 1, sqsize: 31 });
      for (const offset of [0x00, 0x1c]) {
        const c = cid++;
        property(admin, c, { kind: "PropertyGet", cid: c, size: offset === 0 ? 8 : 4, offset }, 1n, pdo72);
      }
      const c = cid++;
      property(admin, c, { kind: "PropertySet", cid: c, size: 4, offset: 0x14, value: 0x460001n }, 0n, pdo72);
      const ctrl = identifyControllerData(1);
      const ns = identifyNamespaceData(1 << 20, 12);
      for (const [sqe, data] of [
        [identifySqe(cid++, 1, 0, sglTransport(4096)), ctrl],
        [identifySqe(cid++, 0, 1, sglTransport(4096)), ns],
      ] as const) {
        const id = sqe[2]!;
        admin.pdu("host", { kind: "CapsuleCmd", sqe: { kind: "Raw", bytes: sqe } }, { patch: pdo72 });
        admin.flush("host");
        nvmetAnswer(admin, data)(id);
        b.expect(admin, id, data);
      }
      const sf = cid++;
      admin.pdu("host", { kind: "CapsuleCmd", sqe: { kind: "Raw", bytes: rawSqe({ opcode: 0x09, cid: sf, cdw: [0x07, 0x003f003f] }) } }, { patch: pdo72 });
      admin.flush("host");
      admin.respond(sf, { result: 0x003f003fn });
      admin.flush("target");
      const io = b.connection();
      io.connect({ maxh2cdata: 0x400000 });
      connectQueue(io, { cid: 1, qid: 1, cntlid: 1, sqsize: 127 });
      [1, 4, 32, 2].forEach((blocks, i) => {
        const data = readCommand(io, { cid: i + 2, slba: i * 100, nlb: blocks, lbaSize: 4096 });
        io.flush("host");
        nvmetAnswer(io, data, { sqId: 1 })(i + 2);
        b.expect(io, i + 2, data);
      });
      return b;
    },
  },
  {
    name: "libnvme-discovery-linux-host",
    behaviour:
      "nvme discover (libnvme) through the Linux host on port 8009, answered by nvmet's discovery controller: a 20-byte " +
      "Get Log Page of the discovery log header with RAE, the entries in Get Log Pages of at most 4096 bytes from LPO " +
      "1024 (RAE on all but the last), then the 20-byte header again to check GENCTR; Linux CIDs; admin queue only.",
    sources: [
      "linux-nvme/libnvme src/nvme/fabrics.c nvme_discovery_log (DISCOVERY_HEADER_LEN 20, lpo = header size, the header fetched again)",
      "linux-nvme/libnvme src/nvme/ioctl.c nvme_get_log_page (NVME_LOG_PAGE_PDU_SIZE 4096 per command, RAE kept until the last)",
      `${LINUX_HOST} nvme_tcp_setup_cmd_pdu; ${LINUX_TARGET} nvmet_setup_c2h_data_pdu`,
    ],
    port: 8009,
    format: "sll2-pcapng",
    findings: [],
    placed: false,
    build() {
      const b = new CaptureBuilder({ target: { port: 8009 } });
      const q = b.connection();
      const cids = new LinuxCids();
      q.connect({ maxh2cdata: 0x400000 });
      connectQueue(q, { cid: cids.next(0), qid: 0, cntlid: 1, sqsize: LINUX_AQ_SQSIZE });
      const log = discoveryLogPage(3, 6);
      const fetch = (tag: number, lpo: number, bytes: number, rae: boolean): void => {
        const data = log.subarray(lpo, lpo + bytes);
        dataCommand(b, q, getLogPageSqe(cids.next(tag), { lid: 0x70, bytes, lpo, rae, sgl: sglTransport(bytes) }), data, nvmetAnswer(q, data));
      };
      fetch(1, 0, 20, true);
      fetch(2, 1024, 4096, true);
      fetch(3, 5120, 2048, false);
      fetch(1, 0, 20, false);
      return b;
    },
  },
];
