// ddp_tag_cam: the tag CAM, (context, CID) -> scatter-gather list of a registered read buffer.
//
// N_TAGS entries, each {key = (ctx, cid), valid, SGL of up to MAX_SGL entries {addr, len}, total length}.
// A true CAM: any 16-bit CID. Stored per SGL entry: the host address and the entry's start offset in the
// command buffer (prefix sum of the lengths), so the SGL walk is MAX_SGL parallel compares, not a serial sum.
// Unused SGL entries get start = total, so no offset inside the buffer ever selects them.
//
//   lookup (combinational):  lk_ctx, lk_cid -> lk_hit, lk_idx, lk_total         (the entry must be valid)
//   walk   (combinational):  rd_idx, rd_off, rd_cnt -> rd_addr0, rd_len0, rd_addr1, rd_len1
//                            bytes [rd_off, rd_off + rd_cnt) of entry rd_idx's buffer, as at most two pieces
//                            (every SGL entry but the last is at least MIN_SGL_LEN >= rd_cnt bytes long)
//   setup: one su_valid beat per SGL entry, su_first on the first, su_last on the last. The first beat
//          allocates the lowest free entry; the SGL collects in a staging buffer; on the last beat su_status
//          (combinational) gives the outcome and, if OK, the entry is written and becomes valid at that edge.
//          Checks in this order: BAD_CTX (!su_ctx_ok), EXISTS, TABLE_FULL (no free entry at the first beat),
//          SGL_TOO_LONG (more than MAX_SGL beats), BAD_SGL (a zero length, a non-last entry shorter than
//          MIN_SGL_LEN, or a total above 2^32 - 1).
//   teardown: td_valid with td_ctx, td_cid -> td_found (combinational); a found entry is invalid after the edge.
//   context delete: del_valid with del_ctx invalidates every entry of that context at the edge.
//   inval[N_TAGS-1:0]: entries invalidated at this edge (for ddp_place, which stops their PDUs' placement).
//
// Draining: an invalidated entry is not free at once: beats that passed the placement check may still read
// its SGL. It becomes free after DRAIN advances of the pipeline (adv), i.e. once those beats have left m_dma.
//
// Parameters:
//   N_TAGS       entries
//   MAX_SGL      SGL entries per tag
//   N_CTX        contexts (width of the context part of the key)
//   MIN_SGL_LEN  shortest SGL entry but the last (= bytes per beat)
//   DRAIN        pipeline advances after an invalidation before the entry may be reused
//   CTX_W, TAG_W, CNT_W  widths (derived)
// Ports: as listed above; clk, rst (synchronous, active high; clears valid bits, drain counters, staging).

`include "ddp_pkg.sv"

module ddp_tag_cam #(
  // number of tag entries
  parameter int N_TAGS = 64,
  // SGL entries per tag
  parameter int MAX_SGL = 16,
  // number of contexts
  parameter int N_CTX = 8,
  // shortest SGL entry except the last, bytes (one beat)
  parameter int MIN_SGL_LEN = 8,
  // pipeline advances from an invalidation until no beat can read the entry any more
  parameter int DRAIN = 4,
  // context index width
  parameter int CTX_W = (N_CTX > 1) ? $clog2(N_CTX) : 1,
  // tag index width
  parameter int TAG_W = (N_TAGS > 1) ? $clog2(N_TAGS) : 1,
  // width of a byte count within one beat (0 .. MIN_SGL_LEN)
  parameter int CNT_W = $clog2(MIN_SGL_LEN + 1)
) (
  input  logic              clk,
  input  logic              rst,
  input  logic              adv,

  input  logic [CTX_W-1:0]  lk_ctx,
  input  logic [15:0]       lk_cid,
  output logic              lk_hit,
  output logic [TAG_W-1:0]  lk_idx,
  output logic [31:0]       lk_total,

  input  logic [TAG_W-1:0]  rd_idx,
  input  logic [31:0]       rd_off,
  input  logic [CNT_W-1:0]  rd_cnt,
  input  logic              rd_en,
  output logic [63:0]       rd_addr0,
  output logic [CNT_W-1:0]  rd_len0,
  output logic [63:0]       rd_addr1,
  output logic [CNT_W-1:0]  rd_len1,

  input  logic              su_valid,
  input  logic              su_first,
  input  logic              su_last,
  input  logic              su_ctx_ok,
  input  logic [CTX_W-1:0]  su_ctx,
  input  logic [15:0]       su_cid,
  input  logic [63:0]       su_addr,
  input  logic [31:0]       su_len,
  output logic [3:0]        su_status,

  input  logic              td_valid,
  input  logic [CTX_W-1:0]  td_ctx,
  input  logic [15:0]       td_cid,
  output logic              td_found,

  input  logic              del_valid,
  input  logic [CTX_W-1:0]  del_ctx,

  output logic [N_TAGS-1:0] valid,
  output logic [N_TAGS-1:0] inval
);

  localparam int KEY_W   = CTX_W + 16;
  localparam int NUM_W   = $clog2(MAX_SGL + 2);  // beats counted, saturating at MAX_SGL + 1
  localparam int DRAIN_W = $clog2(DRAIN + 1);

  logic [N_TAGS-1:0]      valid_q;
  logic [KEY_W-1:0]       key_q   [N_TAGS];
  logic [31:0]            total_q [N_TAGS];
  logic [MAX_SGL*64-1:0]  addr_q  [N_TAGS];
  logic [MAX_SGL*32-1:0]  start_q [N_TAGS];
  logic [DRAIN_W-1:0]     drain_q [N_TAGS];

  // ---------------------------------------------------------------------------------------------------------
  // Lookup and teardown match.

  logic [N_TAGS-1:0] lk_match, td_match, del_match, free;

  always_comb begin
    lk_hit   = 1'b0;
    lk_idx   = '0;
    lk_total = '0;
    td_found = 1'b0;
    for (int e = N_TAGS - 1; e >= 0; e--) begin
      lk_match[e]  = valid_q[e] && key_q[e] == {lk_ctx, lk_cid};
      td_match[e]  = valid_q[e] && key_q[e] == {td_ctx, td_cid};
      del_match[e] = valid_q[e] && key_q[e][KEY_W-1 -: CTX_W] == del_ctx;
      free[e]      = !valid_q[e] && drain_q[e] == '0;
      if (lk_match[e]) begin
        lk_hit = 1'b1;
        lk_idx = TAG_W'(e);
      end
      if (td_match[e]) td_found = 1'b1;
    end
    for (int e = 0; e < N_TAGS; e++) begin
      if (lk_match[e]) lk_total = lk_total | total_q[e];
    end
  end

  // (Separate from the block above: td_found feeds the command decoder, which drives td_valid.)
  assign inval = (td_valid ? td_match : '0) | (del_valid ? del_match : '0);

  assign valid = valid_q;

  // ---------------------------------------------------------------------------------------------------------
  // SGL walk.

  logic [MAX_SGL*32-1:0] w_start;
  logic [MAX_SGL*64-1:0] w_addr;
  logic [31:0]           w_total;
  logic [MAX_SGL-1:0]    w_le;        // entry i starts at or before rd_off
  logic [31:0]           w_start_j, w_end_j, w_room;
  logic [63:0]           w_addr_j, w_addr_n;

  always_comb begin
    w_start = start_q[rd_idx];
    w_addr  = addr_q[rd_idx];
    w_total = total_q[rd_idx];
    for (int i = 0; i < MAX_SGL; i++) w_le[i] = w_start[i*32 +: 32] <= rd_off;
    w_start_j = '0;
    w_end_j   = '0;
    w_addr_j  = '0;
    w_addr_n  = '0;
    // Starts increase, so w_le is a run of ones from entry 0: entry j is the last one.
    for (int i = 0; i < MAX_SGL; i++) begin
      if (w_le[i] && (i == MAX_SGL - 1 || !w_le[(i + 1) % MAX_SGL])) begin
        w_start_j = w_start_j | w_start[i*32 +: 32];
        w_addr_j  = w_addr_j | w_addr[i*64 +: 64];
        w_end_j   = w_end_j | ((i == MAX_SGL - 1) ? w_total : w_start[((i + 1) % MAX_SGL)*32 +: 32]);
        w_addr_n  = w_addr_n | ((i == MAX_SGL - 1) ? 64'd0 : w_addr[((i + 1) % MAX_SGL)*64 +: 64]);
      end
    end
    w_room   = w_end_j - rd_off;
    rd_addr0 = w_addr_j + {32'd0, rd_off - w_start_j};
    rd_len0  = (w_room < 32'(rd_cnt)) ? CNT_W'(w_room) : rd_cnt;
    rd_addr1 = w_addr_n;
    rd_len1  = rd_cnt - rd_len0;
  end

  // ---------------------------------------------------------------------------------------------------------
  // Setup: staging buffer and checks.

  logic [MAX_SGL*64-1:0] st_addr_q;
  logic [MAX_SGL*32-1:0] st_start_q;
  logic [32:0]           st_total_q;   // sum of the lengths so far (bit 32: overflow)
  logic [NUM_W-1:0]      st_num_q;     // beats so far, saturating at MAX_SGL + 1
  logic                  st_bad_q;     // a non-last entry was too short, or a length was 0
  logic                  st_full_q;    // no free entry at the first beat
  logic [TAG_W-1:0]      st_alloc_q;
  logic                  st_prev_short_q; // the previous beat was shorter than MIN_SGL_LEN (bad unless last)

  logic [TAG_W-1:0]      alloc_idx;
  logic                  alloc_ok;
  logic [MAX_SGL*64-1:0] cm_addr;      // the SGL with this beat's entry
  logic [MAX_SGL*32-1:0] cm_start;
  logic [32:0]           cm_total;
  logic [NUM_W-1:0]      cm_num;
  logic                  cm_bad, cm_full, cm_exists, cm_commit;
  logic [TAG_W-1:0]      cm_alloc;
  logic [32:0]           prev_total;
  logic [NUM_W-1:0]      prev_num;

  always_comb begin
    alloc_ok  = 1'b0;
    alloc_idx = '0;
    for (int e = N_TAGS - 1; e >= 0; e--) begin
      if (free[e]) begin
        alloc_ok  = 1'b1;
        alloc_idx = TAG_W'(e);
      end
    end
    prev_total = su_first ? 33'd0 : st_total_q;
    prev_num   = su_first ? '0 : st_num_q;
    cm_addr    = su_first ? '0 : st_addr_q;
    cm_start   = su_first ? '0 : st_start_q;
    for (int i = 0; i < MAX_SGL; i++) begin
      if (prev_num == NUM_W'(i)) begin
        cm_addr[i*64 +: 64]  = su_addr;
        cm_start[i*32 +: 32] = prev_total[31:0];
      end
    end
    cm_total  = prev_total + {1'b0, su_len};
    cm_num    = (prev_num == NUM_W'(MAX_SGL + 1)) ? prev_num : prev_num + 1'b1;
    cm_bad    = (!su_first && (st_bad_q || st_prev_short_q)) || su_len == '0 || cm_total[32] || prev_total[32];
    cm_full   = su_first ? !alloc_ok : st_full_q;
    cm_alloc  = su_first ? alloc_idx : st_alloc_q;
    cm_exists = 1'b0;
    for (int e = 0; e < N_TAGS; e++) begin
      if (valid_q[e] && key_q[e] == {su_ctx, su_cid}) cm_exists = 1'b1;
    end
    if (!su_ctx_ok)                        su_status = ddp_pkg::ST_BAD_CTX;
    else if (cm_exists)                    su_status = ddp_pkg::ST_EXISTS;
    else if (cm_full)                      su_status = ddp_pkg::ST_TABLE_FULL;
    else if (cm_num > NUM_W'(MAX_SGL))     su_status = ddp_pkg::ST_SGL_TOO_LONG;
    else if (cm_bad)                       su_status = ddp_pkg::ST_BAD_SGL;
    else                                   su_status = ddp_pkg::ST_OK;
    cm_commit = su_valid && su_last && su_status == ddp_pkg::ST_OK;
    // Unused SGL entries start at the total.
    for (int i = 0; i < MAX_SGL; i++) begin
      if (NUM_W'(i) >= cm_num) cm_start[i*32 +: 32] = cm_total[31:0];
    end
  end

  always_ff @(posedge clk) begin
    if (su_valid) begin
      st_addr_q       <= cm_addr;
      st_start_q      <= cm_start;
      st_total_q      <= cm_total;
      st_num_q        <= cm_num;
      st_bad_q        <= cm_bad;
      st_full_q       <= cm_full;
      st_alloc_q      <= cm_alloc;
      st_prev_short_q <= su_len < 32'(MIN_SGL_LEN);
    end
    if (cm_commit) begin
      key_q[cm_alloc]   <= {su_ctx, su_cid};
      total_q[cm_alloc] <= cm_total[31:0];
      addr_q[cm_alloc]  <= cm_addr;
      start_q[cm_alloc] <= cm_start;
    end
  end

  // ---------------------------------------------------------------------------------------------------------
  // Valid bits and drain counters.

  always_ff @(posedge clk) begin
    if (rst) begin
      valid_q <= '0;
      for (int e = 0; e < N_TAGS; e++) drain_q[e] <= '0;
    end else begin
      for (int e = 0; e < N_TAGS; e++) begin
        if (inval[e]) begin
          valid_q[e] <= 1'b0;
          drain_q[e] <= DRAIN_W'(DRAIN);
        end else if (adv && drain_q[e] != '0) begin
          drain_q[e] <= drain_q[e] - 1'b1;
        end
      end
      if (cm_commit) valid_q[cm_alloc] <= 1'b1;
    end
  end

`ifndef SYNTHESIS
  // Security: a walk used for a DMA write reads an entry that is valid or still draining (not reusable), and
  // stays inside the buffer and inside the SGL entries it touches.
  logic [31:0] chk_end_n;
  always_comb begin
    chk_end_n = w_total;
    for (int i = 0; i < MAX_SGL - 1; i++) begin
      if (w_start[i*32 +: 32] == w_end_j) chk_end_n = w_start[(i + 1)*32 +: 32];
    end
  end
  walk_in_buffer: assert property (@(posedge clk) disable iff (rst)
      rd_en |-> !free[rd_idx] && {1'b0, rd_off} + 33'(rd_cnt) <= {1'b0, w_total})
    else $error("ddp_tag_cam: DMA walk outside the registered buffer");
  walk_in_entries: assert property (@(posedge clk) disable iff (rst)
      rd_en |-> w_le[0] && w_start_j <= rd_off && {1'b0, rd_off} + 33'(rd_len0) <= {1'b0, w_end_j}
                && (rd_len1 == '0 || {1'b0, w_end_j} + 33'(rd_len1) <= {1'b0, chk_end_n}))
    else $error("ddp_tag_cam: DMA piece outside its SGL entry");
  commit_free: assert property (@(posedge clk) disable iff (rst) cm_commit |-> free[cm_alloc])
    else $error("ddp_tag_cam: setup over an entry in use");
`endif

endmodule
