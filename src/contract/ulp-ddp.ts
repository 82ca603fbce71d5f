// The Linux ULP DDP API (include/net/ulp_ddp.h of the nvme-tcp receive-offload series, facts 2.1 and 4) in
// TypeScript: what a NIC driver offers (UlpDdpDevOps), what the ULP offers back (UlpDdpUlpOps), and the
// limits, config, io, caps and stats they exchange. Device operations return promises because the device
// answers over a bridge; their results are Linux's (0 or a negative errno).

import type { SglEntry } from "./protocol.js";

/** Capability bits (netlink family `ulp_ddp`, enum `cap`). */
export const ULP_DDP_CAP_NVME_TCP = 0b01;
export const ULP_DDP_CAP_NVME_TCP_DDGST_RX = 0b10;
/** The NIC fills DDGST in the PDUs the host sends (docs/tx-contract.md); no Linux series defines it yet. */
export const ULP_DDP_CAP_NVME_TCP_DDGST_TX = 0b100;
/** ULP_DDP_RESYNC_PENDING: the flag resync_request passes and the ULP stores with the seq. */
export const ULP_DDP_RESYNC_PENDING = 1;

/** nvme_tcp_ddp_config.dgst bits. */
export const NVME_TCP_HDR_DIGEST_ENABLE = 1;
export const NVME_TCP_DATA_DIGEST_ENABLE = 2;

/** Errno values the ops return (negated). */
export const Errno = { ENOENT: 2, EEXIST: 17, ENODEV: 19, EINVAL: 22, ENOSPC: 28, EOPNOTSUPP: 95 } as const;

export interface UlpDdpLimits {
  /** Most SGL entries one setup may carry, in pages of the device's page size (Linux: 4 KiB pages). */
  maxDdpSglLen: number;
  /** Smallest read (bytes) worth offloading; the ULP applies it. */
  ioThreshold: number;
  tls: boolean;
  /** nvme_tcp_ddp_limits.full_ccid_range: any 16-bit CID works (else the ULP sets NVME_QUIRK_SKIP_CID_GEN). */
  fullCcidRange: boolean;
}

/** ulp_ddp_config with its nvme_tcp_ddp_config. */
export interface UlpDdpConfig {
  pfv: number;
  /** Dwords, 0's based. */
  cpda: number;
  /** NVME_TCP_HDR_DIGEST_ENABLE | NVME_TCP_DATA_DIGEST_ENABLE. */
  dgst: number;
  queueSize: number;
  affinityHint: number;
}

/** ulp_ddp_io: the request's command id and its scatter-gather list. */
export interface UlpDdpIo {
  commandId: number;
  sgl: readonly SglEntry[];
}

/** What the driver needs of a socket: its flow as received frames carry it (src = the peer) and copied_seq. */
export interface UlpDdpSocket {
  readonly flow: { ipVersion: 4 | 6; srcIp: string; dstIp: string; srcPort: number; dstPort: number };
  /** tcp_sk(sk)->copied_seq: the next in-order byte the application has not yet read. */
  readonly copiedSeq: number;
  /** tcp_sk(sk)->write_seq: the next byte the ULP will send (a socket that never transmits through the NIC has none). */
  readonly writeSeq?: number;
}

/** ulp_ddp_dev_caps: bitmaps of ULP_DDP_CAP_* bits. */
export interface UlpDdpDevCaps {
  hw: number;
  active: number;
}

/** struct ulp_ddp_stats, keyed by the netlink attribute names, in attribute order (values 2..11). */
export const ULP_DDP_STAT_NAMES = [
  "rx-nvme-tcp-sk-add",
  "rx-nvme-tcp-sk-add-fail",
  "rx-nvme-tcp-sk-del",
  "rx-nvme-tcp-setup",
  "rx-nvme-tcp-setup-fail",
  "rx-nvme-tcp-teardown",
  "rx-nvme-tcp-drop",
  "rx-nvme-tcp-resync",
  "rx-nvme-tcp-packets",
  "rx-nvme-tcp-bytes",
] as const;
export type UlpDdpStatName = (typeof ULP_DDP_STAT_NAMES)[number];

export type UlpDdpStats = Record<UlpDdpStatName, number>;

/** The transmit block's hardware counters (docs/tx-contract.md section 6) and their netlink-style names. */
export const ULP_DDP_TX_STAT_NAMES = {
  packets: "tx-nvme-tcp-packets",
  bytes: "tx-nvme-tcp-bytes",
  ddgst: "tx-nvme-tcp-ddgst",
  ooo: "tx-nvme-tcp-ooo",
  resync: "tx-nvme-tcp-resync",
  badHdr: "tx-nvme-tcp-bad-hdr",
} as const;
export type UlpDdpTxStats = Record<keyof typeof ULP_DDP_TX_STAT_NAMES, number>;

/** The counters by their netlink names. */
export function txStatsByName(s: UlpDdpTxStats): Record<(typeof ULP_DDP_TX_STAT_NAMES)[keyof typeof ULP_DDP_TX_STAT_NAMES], number> {
  return Object.fromEntries(Object.entries(ULP_DDP_TX_STAT_NAMES).map(([k, name]) => [name, s[k as keyof UlpDdpTxStats]])) as ReturnType<typeof txStatsByName>;
}

/** struct ulp_ddp_ulp_ops: the ULP's callbacks, stored per socket at sk_add. */
export interface UlpDdpUlpOps {
  /** The device proposes `seq` as the start of a PDU header; the ULP stores it (seq | flags). */
  resyncRequest(seq: number, flags: number): boolean;
  /** The mapping of a torn-down request is gone: the request may complete and its CID be reused. */
  ddpTeardownDone(ddpCtx: unknown): void;
}

/** struct ulp_ddp_dev_ops. */
export interface UlpDdpDevOps {
  limits(): Promise<UlpDdpLimits>;
  skAdd(sk: UlpDdpSocket, config: UlpDdpConfig, ulpOps: UlpDdpUlpOps): Promise<number>;
  skDel(sk: UlpDdpSocket): Promise<void>;
  setup(sk: UlpDdpSocket, io: UlpDdpIo): Promise<number>;
  /** Asynchronous: `ulpOps.ddpTeardownDone(ddpCtx)` follows once the device let go of the buffer. */
  teardown(sk: UlpDdpSocket, io: UlpDdpIo, ddpCtx: unknown): Promise<void>;
  /** Confirms a resync request: a PDU header starts at `seq`. */
  resync(sk: UlpDdpSocket, seq: number): Promise<void>;
  /** Makes `bits` the active caps (the caller has already applied the caps-set algebra). */
  setCaps(bits: number): Promise<number>;
  getCaps(): Promise<UlpDdpDevCaps>;
  getStats(): Promise<UlpDdpStats>;
}
