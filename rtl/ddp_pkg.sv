// ddp_pkg: constants shared by the offload block's modules (docs/offload-contract.md).
//
// Command opcodes, completion statuses and event kinds of the contract's sections 1-2, the tracker's region
// kinds (section 5), the NVMe/TCP PDU types the block recognises, and the statistics indexes of STATS_GET.
// Referenced as ddp_pkg::NAME (no `import`: the Yosys the project pins does not accept it).

// Include guard: the modules that use the package `include it, so any file order works (lint of rtl/*.sv
// in alphabetical order, Yosys, the harness build), and it is defined once.
`ifndef DDP_PKG_SV
`define DDP_PKG_SV

// Not every module uses every constant.
/* verilator lint_off UNUSEDPARAM */
package ddp_pkg;

  // Command opcodes (s_cmd_op).
  localparam logic [3:0] OP_CTX_ADD      = 4'd1;
  localparam logic [3:0] OP_CTX_DEL      = 4'd2;
  localparam logic [3:0] OP_TAG_SETUP    = 4'd3;
  localparam logic [3:0] OP_TAG_TEARDOWN = 4'd4;
  localparam logic [3:0] OP_RESYNC       = 4'd5;
  localparam logic [3:0] OP_CAPS_GET     = 4'd6;
  localparam logic [3:0] OP_CAPS_SET     = 4'd7;
  localparam logic [3:0] OP_LIMITS_GET   = 4'd8;
  localparam logic [3:0] OP_STATS_GET    = 4'd9;

  // Completion statuses (m_evt_status).
  localparam logic [3:0] ST_OK           = 4'd0;
  localparam logic [3:0] ST_BAD_OP       = 4'd1;
  localparam logic [3:0] ST_BAD_CTX      = 4'd2;
  localparam logic [3:0] ST_EXISTS       = 4'd3;
  localparam logic [3:0] ST_NOT_FOUND    = 4'd4;
  localparam logic [3:0] ST_TABLE_FULL   = 4'd5;
  localparam logic [3:0] ST_SGL_TOO_LONG = 4'd6;
  localparam logic [3:0] ST_BAD_SGL      = 4'd7;
  localparam logic [3:0] ST_DISABLED     = 4'd8;
  localparam logic [3:0] ST_BAD_ARG      = 4'd9;

  // Event kinds (m_evt_kind).
  localparam logic [1:0] EVT_COMPLETION     = 2'd1;
  localparam logic [1:0] EVT_RESYNC_REQUEST = 2'd2;
  localparam logic [1:0] EVT_TEARDOWN_DONE  = 2'd3;

  // Capability bits (CAPS_GET / CAPS_SET).
  localparam int CAP_NVME_TCP  = 0;
  localparam int CAP_DDGST_RX  = 1;

  // NVMe/TCP PDU types the tracker accepts (C2H direction).
  localparam logic [7:0] PDU_C2H_TERM_REQ = 8'h03;
  localparam logic [7:0] PDU_CAPSULE_RESP = 8'h05;
  localparam logic [7:0] PDU_C2H_DATA     = 8'h07;
  localparam logic [7:0] PDU_R2T          = 8'h09;
  // Common header length of every accepted type, and the digest length.
  localparam int HDR_LEN    = 24;
  localparam int DGST_LEN   = 4;
  // Largest C2HTermReq plen.
  localparam int TERM_REQ_MAX_PLEN = 152;

  // Tracker region of a context (contract section 5). HDR: collecting the 24 header bytes; HDGST: the 4
  // header-digest bytes after them; PAD: bytes skipped (C2HData padding, or the rest of a non-data PDU);
  // DATA: C2HData data; DDGST: the 4 data-digest bytes; SEARCH: scanning for a header (rule 5, contract
  // section 7). WAIT_CONFIRM is not a region: it is a flag beside the tracking regions.
  typedef enum logic [2:0] {
    RG_HDR    = 3'd0,
    RG_HDGST  = 3'd1,
    RG_PAD    = 3'd2,
    RG_DATA   = 3'd3,
    RG_DDGST  = 3'd4,
    RG_SEARCH = 3'd5
  } region_e;

  // STATS_GET indexes (hardware counters).
  localparam int STAT_PACKETS     = 0;
  localparam int STAT_BYTES       = 1;
  localparam int STAT_DROP        = 2;
  localparam int STAT_RESYNC      = 3;
  localparam int STAT_CRC_OK      = 4;
  localparam int STAT_CRC_BAD     = 5;
  localparam int STAT_OOO         = 6;
  localparam int STAT_RETRANSMIT  = 7;
  localparam int STAT_SEARCHES    = 8;
  localparam int STAT_PASSTHROUGH = 9;
  localparam int STAT_OVERSIZE    = 10;
  localparam int STAT_RESYNC_CONFIRMS = 11;
  localparam int STAT_RESYNC_TIMEOUTS = 12;
  localparam int STAT_RESYNC_MISSES   = 13;
  localparam int STAT_TAG_COLLISIONS  = 14;
  localparam int STAT_POOL_EXHAUSTED  = 15;
  localparam int N_STATS          = 16;

endpackage
/* verilator lint_on UNUSEDPARAM */

`endif  // DDP_PKG_SV
