// ddp_tag_table: the registered read buffers, (context, CID) -> page list, in RAM (contract sections 1 and 8).
//
// Why: ConnectX-class hosts keep tens of thousands of reads outstanding with 128-page buffers; a CAM with a
// comparator per entry and SGLs in flops cannot grow there (issue 10). Here the keys live in a 2-choice hash
// table (ddp_hash_table, key {cid[15:0], ctx[15:0]}, 4 ways, N_TAGS slots) and the page lists in a shared chunk
// pool (ddp_sgl_pool, one chunk-map row per hash slot), both inferred RAM.
//
// Command side (c_* / r_*, valid / ready, one operation at a time; from ddp_cmd):
//   c_op 0 SETUP beat: one SGL entry (c_addr, c_len) of (c_ctx, c_cid); c_first on the first, c_last on the
//        last beat. Beats before the last get no response. After the last one the response carries the
//        contract's status, checks in its order: BAD_CTX (c_ctx_ok of the last beat is 0), EXISTS, TABLE_FULL
//        (both buckets full), SGL_TOO_LONG (more than MAX_SGL beats), BAD_SGL (a zero length; an entry crossing
//        a PAGE boundary; an entry but the first not starting on one; an entry but the last not ending on one),
//        TABLE_FULL (the pool has no chunk left). Only an OK setup changes anything visible.
//   c_op 1 TEARDOWN (c_ctx, c_cid): OK (the entry is free at once, its pages back in the pool) or NOT_FOUND.
//   c_op 2 CTX_DEL (c_ctx): every entry of the context freed (a scan of the table: about N_TAGS / 4 cycles),
//        then OK once the pipeline has advanced DRAIN times since (no beat placed with one of them is left).
//   Sequence of a setup after its last beat: PROBE (where the key would go) -> pool COMMIT of that slot's page
//   list -> INSERT (the same slot: nothing ran in between), so a lookup can never find an entry whose page list
//   is not written yet. A failed setup ABORTs its pool build instead.
//
// Datapath side (advancing with `adv`, one request per advance each):
//   lookup  lk_valid, lk_ctx, lk_cid -> LK_LAT (3) advances later lk_out_valid, lk_hit, lk_slot, lk_gen,
//           lk_total (buffer length), lk_pg_off (the first entry's offset in its page).
//   resolve rs_valid, rs_slot, rs_gen, rs_ctx, rs_cid, rs_pos (= lk_pg_off + buffer offset), rs_cnt ->
//           RS_LAT (3) advances later rs_out_valid, rs_ok, rs_addr0 / rs_len0, rs_addr1 / rs_len1: where the
//           rs_cnt bytes at rs_pos go (a second piece when they cross into the next page). rs_ok says the entry
//           is still the one the lookup found: live, same generation and key when its slot was read, which is at
//           the same edge as the pool's page read or later, so a teardown (which bumps the generation) and any
//           reuse of the slot or its chunks after it are seen. The caller places only with rs_ok.
//
// Parameters:
//   N_TAGS       tag slots: a power of two >= 16 (N_TAGS / 8 rows per bank, 4 ways)
//   MAX_SGL      pages per buffer: a power of two and a multiple of CHUNK (8)
//   PAGE         SGL page size in bytes: a power of two >= 64
//   POOL_PAGES   pages of all buffers set up at once: a multiple of 8, >= 16
//   CNT_W        width of a beat's byte count
//   DRAIN        pipeline advances from the end of a CTX_DEL's scan to its response
//   SLOT_W, PO_W, NP_W   slot id, page offset and page count widths (derived)
// Ports: as listed above; init is high while the hash table clears itself after reset (c_ready is low);
//   st_collision / st_pool_full pulse when a setup is refused for a full bucket pair / an empty pool.

`include "ddp_pkg.sv"

module ddp_tag_table #(
  // tag slots, a power of two >= 16
  parameter int N_TAGS = 16384,
  // pages per buffer, a power of two and a multiple of 8
  parameter int MAX_SGL = 128,
  // SGL page size in bytes, a power of two
  parameter int PAGE = 4096,
  // pages in the pool, a multiple of 8
  parameter int POOL_PAGES = 16 * N_TAGS,
  // width of a beat's byte count
  parameter int CNT_W = 4,
  // pipeline advances between the end of a CTX_DEL scan and its response
  parameter int DRAIN = 8,
  // slot id width
  parameter int SLOT_W = $clog2(N_TAGS),
  // offset within a page
  parameter int PO_W = $clog2(PAGE),
  // page count (0 .. MAX_SGL)
  parameter int NP_W = $clog2(MAX_SGL + 1)
) (
  input  logic              clk,
  input  logic              rst,
  input  logic              adv,
  output logic              init,

  input  logic              c_valid,
  output logic              c_ready,
  input  logic [1:0]        c_op,
  input  logic              c_first,
  input  logic              c_last,
  input  logic              c_ctx_ok,
  input  logic [15:0]       c_ctx,
  input  logic [15:0]       c_cid,
  input  logic [63:0]       c_addr,
  input  logic [31:0]       c_len,
  output logic              r_valid,
  input  logic              r_ready,
  output logic [3:0]        r_status,

  input  logic              lk_valid,
  input  logic [15:0]       lk_ctx,
  input  logic [15:0]       lk_cid,
  output logic              lk_out_valid,
  output logic              lk_hit,
  output logic [SLOT_W-1:0] lk_slot,
  output logic [7:0]        lk_gen,
  output logic [31:0]       lk_total,
  output logic [PO_W-1:0]   lk_pg_off,

  input  logic              rs_valid,
  input  logic [SLOT_W-1:0] rs_slot,
  input  logic [7:0]        rs_gen,
  input  logic [15:0]       rs_ctx,
  input  logic [15:0]       rs_cid,
  input  logic [31:0]       rs_pos,
  input  logic [CNT_W-1:0]  rs_cnt,
  output logic              rs_out_valid,
  output logic              rs_ok,
  output logic [63:0]       rs_addr0,
  output logic [CNT_W-1:0]  rs_len0,
  output logic [63:0]       rs_addr1,
  output logic [CNT_W-1:0]  rs_len1,

  output logic              st_collision,
  output logic              st_pool_full
);

  localparam int CHUNK    = 8;
  localparam int ROWS     = N_TAGS / 8;
  localparam int PFN_W    = 64 - PO_W;
  localparam int PAGE_W   = $clog2(MAX_SGL);
  // Entry value: {total, page offset of the first entry, pages}.
  localparam int VAL_W    = 32 + PO_W + NP_W;
  localparam int NBEAT_W  = $clog2(MAX_SGL + 2);   // beats counted, saturating at MAX_SGL + 1
  localparam int DRAIN_W  = $clog2(DRAIN + 1);

  localparam logic [1:0] C_SETUP = 2'd0, C_TEARDOWN = 2'd1, C_CTX_DEL = 2'd2;
  localparam logic [2:0] H_INSERT = 3'd0, H_DELETE = 3'd1, H_PROBE = 3'd2, H_SCAN = 3'd3;
  localparam logic [1:0] H_OK = 2'd0, H_EXISTS = 2'd1, H_FULL = 2'd2;
  localparam logic [2:0] P_BEGIN = 3'd0, P_PAGE = 3'd1, P_COMMIT = 3'd2, P_ABORT = 3'd3, P_FREE = 3'd4;

  // ---------------------------------------------------------------------------------------------------------
  // The hash table and the pool.

  logic              h_c_valid, h_c_ready, h_r_valid, h_r_ready, h_r_last;
  logic [2:0]        h_c_op;
  logic [31:0]       h_c_key, h_c_mask;
  logic [VAL_W-1:0]  h_c_val;
  logic [1:0]        h_r_status;
  logic [SLOT_W-1:0] h_r_slot;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [7:0]        h_r_gen;    // commands need only the slot and the page count
  logic [31:0]       h_r_key;
  logic [VAL_W-1:0]  h_r_val;
  logic [VAL_W-1:0]  h_lk_val;   // the lookup needs no page count
  /* verilator lint_on UNUSEDSIGNAL */
  logic              h_rd_valid, h_rd_out_valid, h_rd_live;
  logic [SLOT_W-1:0] h_rd_slot;
  logic [7:0]        h_rd_gen;
  logic [31:0]       h_rd_key;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [VAL_W-1:0]  h_rd_val;   // the resolve needs only liveness, generation and key
  /* verilator lint_on UNUSEDSIGNAL */

  ddp_hash_table #(.KEY_W(32), .VAL_W(VAL_W), .ROWS(ROWS), .WAYS(4), .HAS_RD(1)) u_hash (
    .clk, .rst, .init, .adv,
    .lk_valid, .lk_key ({lk_cid, lk_ctx}), .lk_out_valid, .lk_hit, .lk_slot, .lk_gen, .lk_val (h_lk_val),
    .rd_valid (h_rd_valid), .rd_slot (h_rd_slot), .rd_out_valid (h_rd_out_valid), .rd_live (h_rd_live),
    .rd_gen (h_rd_gen), .rd_key (h_rd_key), .rd_val (h_rd_val),
    .c_valid (h_c_valid), .c_ready (h_c_ready), .c_op (h_c_op), .c_key (h_c_key), .c_val (h_c_val),
    .c_slot ('0), .c_mask (h_c_mask),
    .r_valid (h_r_valid), .r_ready (h_r_ready), .r_status (h_r_status), .r_slot (h_r_slot), .r_gen (h_r_gen),
    .r_key (h_r_key), .r_val (h_r_val), .r_last (h_r_last)
  );

  logic              p_w_valid, p_w_ready, p_w_full, p_w_done;
  logic [2:0]        p_w_op;
  logic [SLOT_W-1:0] p_w_slot;
  logic [PFN_W-1:0]  p_w_pfn;
  logic [NP_W-1:0]   p_w_npages;
  logic              p_out_valid;
  logic [PFN_W-1:0]  p_pfn0, p_pfn1;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [$clog2(POOL_PAGES / CHUNK + 1)-1:0] p_free_chunks;   // for debugging
  /* verilator lint_on UNUSEDSIGNAL */

  ddp_sgl_pool #(.SLOTS(N_TAGS), .MAX_SGL(MAX_SGL), .CHUNK(CHUNK), .N_CHUNKS(POOL_PAGES / CHUNK), .PFN_W(PFN_W)) u_pool (
    .clk, .rst, .adv,
    .w_valid (p_w_valid), .w_ready (p_w_ready), .w_op (p_w_op), .w_slot (p_w_slot), .w_pfn (p_w_pfn),
    .w_npages (p_w_npages), .w_full (p_w_full), .w_done (p_w_done), .free_chunks (p_free_chunks),
    .p_valid (rs_valid), .p_slot (rs_slot), .p_page (PAGE_W'(rs_pos >> PO_W)),
    .p_out_valid, .p_pfn0, .p_pfn1
  );

  // ---------------------------------------------------------------------------------------------------------
  // Lookup: the hash table's, with the value unpacked.

  assign {lk_total, lk_pg_off} = h_lk_val[NP_W +: 32 + PO_W];

  // ---------------------------------------------------------------------------------------------------------
  // Resolve. Advance 1: the pool reads the chunk map (p_* above). Advance 2: the pool reads the page; the
  // hash table reads the slot. Advance 3: both answers registered; the pieces are cut here.

  logic [7:0]       r1_gen_q, r2_gen_q, r3_gen_q;
  logic [31:0]      r1_key_q, r2_key_q, r3_key_q;
  logic [PO_W-1:0]  r1_off_q, r2_off_q, r3_off_q;
  logic [CNT_W-1:0] r1_cnt_q, r2_cnt_q, r3_cnt_q;
  logic             r1_valid_q;
  logic [SLOT_W-1:0] r1_slot_q;
  logic [PO_W:0]    room;   // bytes from rs_pos to the end of its page

  assign h_rd_valid = r1_valid_q;
  assign h_rd_slot  = r1_slot_q;

  always_ff @(posedge clk) begin
    if (rst) r1_valid_q <= 1'b0;
    else if (adv) r1_valid_q <= rs_valid;
  end

  always_ff @(posedge clk) begin
    if (adv) begin
      r1_slot_q <= rs_slot;
      r1_gen_q  <= rs_gen;
      r1_key_q  <= {rs_cid, rs_ctx};
      r1_off_q  <= rs_pos[PO_W-1:0];
      r1_cnt_q  <= rs_cnt;
      r2_gen_q  <= r1_gen_q;
      r2_key_q  <= r1_key_q;
      r2_off_q  <= r1_off_q;
      r2_cnt_q  <= r1_cnt_q;
      r3_gen_q  <= r2_gen_q;
      r3_key_q  <= r2_key_q;
      r3_off_q  <= r2_off_q;
      r3_cnt_q  <= r2_cnt_q;
    end
  end

  always_comb begin
    room         = (PO_W + 1)'(PAGE) - {1'b0, r3_off_q};
    rs_out_valid = p_out_valid;
    rs_ok        = h_rd_out_valid && h_rd_live && h_rd_gen == r3_gen_q && h_rd_key == r3_key_q;
    rs_addr0     = {p_pfn0, r3_off_q};
    rs_len0      = (room < (PO_W + 1)'(r3_cnt_q)) ? CNT_W'(room) : r3_cnt_q;
    rs_addr1     = {p_pfn1, {PO_W{1'b0}}};
    rs_len1      = r3_cnt_q - rs_len0;
  end

  // ---------------------------------------------------------------------------------------------------------
  // Command side.

  typedef enum logic [3:0] {
    S_IDLE, S_BEGIN, S_PAGE, S_PROBE, S_PROBE_R, S_COMMIT, S_INSERT, S_INSERT_R, S_ABORT,
    S_DELETE, S_DELETE_R, S_FREE, S_SCAN, S_SCAN_R, S_DRAIN, S_RESP
  } state_e;

  state_e            state_q;
  logic [15:0]       ctx_q, cid_q;
  logic [63:0]       addr_q;
  logic [31:0]       len_q;
  logic              last_q, ctx_ok_q;
  logic [NBEAT_W-1:0] nbeat_q;       // setup beats so far (saturating at MAX_SGL + 1)
  logic [31:0]       total_q;
  logic [PO_W-1:0]   pg_off_q;       // the first entry's offset in its page
  logic              bad_q;          // an entry broke the page rules
  logic              open_end_q;     // the previous entry did not end on a page boundary
  logic [1:0]        probe_q;        // the PROBE's answer
  logic [SLOT_W-1:0] slot_q;
  logic [NP_W-1:0]   npages_q;       // pages of the entry a TEARDOWN freed
  logic [3:0]        status_q;
  logic [DRAIN_W-1:0] drain_q;

  logic [PO_W-1:0]   e_off;          // this entry's offset in its page
  logic [PO_W:0]     e_end;          // ... and where it ends (PAGE: on the boundary)
  logic              e_bad;

  always_comb begin
    e_off = addr_q[PO_W-1:0];
    e_end = {1'b0, e_off} + (PO_W + 1)'(len_q);
    // Relative to the page rules: crossing a boundary, not starting on one (but the first), an earlier entry not
    // ending on one (this beat follows it), a zero length.
    e_bad = len_q == '0 || len_q > 32'(PAGE) || e_end > (PO_W + 1)'(PAGE)
            || (nbeat_q != '0 && e_off != '0) || (nbeat_q != '0 && open_end_q);
  end

  assign c_ready  = state_q == S_IDLE && !init;
  assign r_valid  = state_q == S_RESP;
  assign r_status = status_q;

  always_comb begin
    h_c_valid  = 1'b0;
    h_c_op     = H_PROBE;
    h_c_key    = {cid_q, ctx_q};
    h_c_mask   = '1;
    h_c_val    = {total_q, pg_off_q, NP_W'(nbeat_q)};
    h_r_ready  = 1'b0;
    p_w_valid  = 1'b0;
    p_w_op     = P_BEGIN;
    p_w_slot   = slot_q;
    p_w_pfn    = addr_q[63:PO_W];
    p_w_npages = npages_q;
    unique case (state_q)
      S_BEGIN:  p_w_valid = 1'b1;
      S_PAGE: begin
        p_w_valid = nbeat_q < NBEAT_W'(MAX_SGL);
        p_w_op    = P_PAGE;
      end
      S_PROBE:  h_c_valid = 1'b1;
      S_PROBE_R, S_INSERT_R, S_DELETE_R: h_r_ready = 1'b1;
      S_COMMIT: begin
        p_w_valid = 1'b1;
        p_w_op    = P_COMMIT;
      end
      S_INSERT: begin
        h_c_valid = 1'b1;
        h_c_op    = H_INSERT;
      end
      S_ABORT: begin
        p_w_valid = 1'b1;
        p_w_op    = P_ABORT;
      end
      S_DELETE: begin
        h_c_valid = 1'b1;
        h_c_op    = H_DELETE;
      end
      S_FREE: begin
        p_w_valid = 1'b1;
        p_w_op    = P_FREE;
      end
      S_SCAN: begin
        h_c_valid = 1'b1;
        h_c_op    = H_SCAN;
        h_c_key   = {16'd0, ctx_q};
        h_c_mask  = 32'h0000_FFFF;
      end
      S_SCAN_R: begin
        // Each freed slot's pages go back to the pool before the scan moves on.
        h_r_ready  = h_r_last || p_w_ready;
        p_w_valid  = h_r_valid && !h_r_last;
        p_w_op     = P_FREE;
        p_w_slot   = h_r_slot;
        p_w_npages = h_r_val[NP_W-1:0];
      end
      default: ;
    endcase
  end

  // The setup's status once the PROBE answered, in the contract's order.
  logic [3:0] setup_status;
  always_comb begin
    if (!ctx_ok_q)                          setup_status = ddp_pkg::ST_BAD_CTX;
    else if (h_r_status == H_EXISTS)        setup_status = ddp_pkg::ST_EXISTS;
    else if (h_r_status == H_FULL)          setup_status = ddp_pkg::ST_TABLE_FULL;
    else if (nbeat_q > NBEAT_W'(MAX_SGL))   setup_status = ddp_pkg::ST_SGL_TOO_LONG;
    else if (bad_q)                         setup_status = ddp_pkg::ST_BAD_SGL;
    else if (p_w_full)                      setup_status = ddp_pkg::ST_TABLE_FULL;
    else                                    setup_status = ddp_pkg::ST_OK;
  end

  assign st_collision = state_q == S_PROBE_R && h_r_valid && ctx_ok_q && h_r_status == H_FULL;
  assign st_pool_full = state_q == S_PROBE_R && h_r_valid && setup_status == ddp_pkg::ST_TABLE_FULL
                        && h_r_status == H_OK;

  always_ff @(posedge clk) begin
    if (rst) begin
      state_q <= S_IDLE;
    end else begin
      unique case (state_q)
        S_IDLE: begin
          if (c_valid && c_ready) begin
            unique case (c_op)
              C_SETUP:    state_q <= c_first ? S_BEGIN : S_PAGE;
              C_TEARDOWN: state_q <= S_DELETE;
              C_CTX_DEL:  state_q <= S_SCAN;
              default:    state_q <= S_RESP;   // not sent by ddp_cmd; answered with the last status
            endcase
          end
        end
        S_BEGIN:    if (p_w_ready) state_q <= S_PAGE;
        S_PAGE:     if (p_w_ready || !p_w_valid) state_q <= last_q ? S_PROBE : S_IDLE;
        S_PROBE:    if (h_c_ready) state_q <= S_PROBE_R;
        S_PROBE_R:  if (h_r_valid) state_q <= setup_status == ddp_pkg::ST_OK ? S_COMMIT : S_ABORT;
        S_COMMIT:   if (p_w_done) state_q <= S_INSERT;
        S_INSERT:   if (h_c_ready) state_q <= S_INSERT_R;
        S_INSERT_R: if (h_r_valid) state_q <= S_RESP;
        S_ABORT:    if (p_w_done) state_q <= S_RESP;
        S_DELETE:   if (h_c_ready) state_q <= S_DELETE_R;
        S_DELETE_R: if (h_r_valid) state_q <= h_r_status == H_OK ? S_FREE : S_RESP;
        S_FREE:     if (p_w_done) state_q <= S_RESP;
        S_SCAN:     if (h_c_ready) state_q <= S_SCAN_R;
        S_SCAN_R:   if (h_r_valid && h_r_last) state_q <= S_DRAIN;
        S_DRAIN:    if (drain_q == '0) state_q <= S_RESP;
        S_RESP:     if (r_ready) state_q <= S_IDLE;
        default:    state_q <= S_IDLE;
      endcase
    end
  end

  // A command waits in the states that issue an operation until the other side takes it: COMMIT, ABORT and
  // FREE are accepted then finish with w_done; the pool is idle whenever one of them starts.
  always_ff @(posedge clk) begin
    if (state_q == S_IDLE && c_valid && c_ready) begin
      ctx_q    <= c_ctx;
      cid_q    <= c_cid;
      addr_q   <= c_addr;
      len_q    <= c_len;
      last_q   <= c_last;
      ctx_ok_q <= c_ctx_ok;
      if (c_op == C_SETUP && c_first) begin
        nbeat_q    <= '0;
        total_q    <= '0;
        bad_q      <= 1'b0;
        open_end_q <= 1'b0;
        pg_off_q   <= c_addr[PO_W-1:0];
      end
    end
    if (state_q == S_PAGE && (p_w_ready || !p_w_valid)) begin
      nbeat_q    <= (nbeat_q == NBEAT_W'(MAX_SGL + 1)) ? nbeat_q : nbeat_q + 1'b1;
      total_q    <= total_q + len_q;
      bad_q      <= bad_q || e_bad;
      open_end_q <= e_end != (PO_W + 1)'(PAGE);
    end
    if (state_q == S_PROBE_R && h_r_valid) begin
      probe_q  <= h_r_status;
      slot_q   <= h_r_slot;
      status_q <= setup_status;
    end
    if (state_q == S_DELETE_R && h_r_valid) begin
      slot_q   <= h_r_slot;
      npages_q <= h_r_val[NP_W-1:0];
      status_q <= h_r_status == H_OK ? ddp_pkg::ST_OK : ddp_pkg::ST_NOT_FOUND;
    end
    if (state_q == S_SCAN_R) begin
      drain_q  <= DRAIN_W'(DRAIN);
      status_q <= ddp_pkg::ST_OK;
    end else if (state_q == S_DRAIN && adv && drain_q != '0) begin
      drain_q <= drain_q - 1'b1;
    end
  end

`ifndef SYNTHESIS
  initial begin
    params_ok: assert (N_TAGS >= 16 && (N_TAGS & (N_TAGS - 1)) == 0 && MAX_SGL >= CHUNK && MAX_SGL % CHUNK == 0
                       && (MAX_SGL & (MAX_SGL - 1)) == 0 && PAGE >= 64 && (PAGE & (PAGE - 1)) == 0
                       && POOL_PAGES >= 2 * CHUNK && POOL_PAGES % CHUNK == 0 && (1 << CNT_W) - 1 <= PAGE)
      else $fatal(1, "ddp_tag_table: N_TAGS %0d MAX_SGL %0d PAGE %0d POOL_PAGES %0d out of range", N_TAGS, MAX_SGL,
                  PAGE, POOL_PAGES);
  end

  // The INSERT after a PROBE takes the slot the PROBE named (the page list was committed there).
  insert_where_probed: assert property (@(posedge clk) disable iff (rst)
      state_q == S_INSERT_R && h_r_valid |-> h_r_status == H_OK && h_r_slot == slot_q && probe_q == H_OK)
    else $error("ddp_tag_table: INSERT went to slot %0d, PROBE said %0d", h_r_slot, slot_q);
  // The pool and the hash table answer only what was asked.
  commit_not_full: assert property (@(posedge clk) disable iff (rst) state_q == S_COMMIT |-> !p_w_full)
    else $error("ddp_tag_table: COMMIT of a build that ran out of chunks");
  // A resolve whose entry is still the one looked up stays inside its pages (the caller keeps to the buffer).
  resolve_in_page: assert property (@(posedge clk) disable iff (rst)
      rs_out_valid && rs_ok |-> {1'b0, r3_off_q} + (PO_W + 1)'(rs_len0) <= (PO_W + 1)'(PAGE) && rs_len1 <= r3_cnt_q)
    else $error("ddp_tag_table: DMA piece outside its page");
`endif

endmodule
