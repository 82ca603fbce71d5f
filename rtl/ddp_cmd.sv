// ddp_cmd: command decoder, completions and events, caps, limits and statistics (contract sections 1-2).
//
// One command per s_cmd beat (TAG_SETUP: one beat per SGL entry). Commands on the context table, caps, limits
// and statistics are handled in the cycle they are accepted: their checks are combinational, their writes happen
// at that clock edge, and the COMPLETION enters the event FIFO at the same edge. Commands on the tag table
// (TAG_SETUP beats, TAG_TEARDOWN, and CTX_DEL's removal of the context's entries) go to ddp_tag_table, which
// takes several cycles: no further command is accepted until it answers, and its COMPLETION enters the FIFO
// then, so completions still leave in command order. TAG_SETUP answers once, after its `last` beat.
//
// Events leave through an 8-entry FIFO (m_evt_*). Up to three events may enter in one cycle, in this order:
// RESYNC_REQUEST (from the datapath: a resync candidate, contract section 7), TEARDOWN_DONE, COMPLETION.
// s_cmd_ready and evt_room (which the datapath needs to advance) are both "at least 3 free FIFO entries", so
// nothing is ever lost, and both come from registers.
//
// TEARDOWN_DONE: a TAG_TEARDOWN that found its entry puts its cookie, when the tag table answers, into a
// DRAIN-stage shift register that moves one stage per pipeline advance (adv); the cookie leaves it, as a
// TEARDOWN_DONE, once every beat that read the entry before it was freed has left m_dma. A command is not
// accepted while the first stage is occupied (at most one teardown per advance).
//
// Statistics: N_STATS 64-bit counters, each incremented by the datapath's stat_inc[16*i +: 16] every cycle.
//
// Parameters:
//   N_CTX, N_TAGS, MAX_SGL, MAX_SEGS, MAX_FRAME, IO_THRESHOLD, PAGE, POOL_PAGES   reported by LIMITS_GET
//   LATENCY      cycles from s_axis to m_axis_rx of ddp_top (LIMITS_GET 7)
//   DRAIN        pipeline advances before TEARDOWN_DONE
//   CTX_W        context index width (derived)
// Ports:
//   clk, rst                      clock, synchronous active-high reset
//   s_cmd_*                       the command stream (the fields of contract section 1 this module needs;
//                                 ddp_top wires the others to the context table and the tag table)
//   m_evt_*                       the event stream (fields of contract section 2)
//   ct_*                          context table: add / delete and its answers
//   tt_*                          tag table: its command port (op, first, last, ctx_ok) and answer (status)
//   trk_init, trk_init_idx, trk_init_seq   tracker state of a new context
//   rs_valid, rs_idx, rs_seq      RESYNC of a context in use, to the tracker (which counts the confirms)
//   caps                          active caps: bit 0 nvme-tcp, bit 1 nvme-tcp-ddgst-rx
//   adv                           the datapath advances this cycle
//   evt_room                      the event FIFO can take the datapath's events this cycle
//   rr_valid, rr_ctx, rr_seq      a RESYNC_REQUEST from the datapath (only while evt_room)
//   stat_inc                      counter increments, 16 bits per counter

`include "ddp_pkg.sv"

module ddp_cmd #(
  // number of contexts
  parameter int N_CTX = 8,
  // number of tag entries
  parameter int N_TAGS = 64,
  // SGL entries per tag
  parameter int MAX_SGL = 16,
  // CQE segments per frame
  parameter int MAX_SEGS = 4,
  // longest offloadable frame in bytes
  parameter int MAX_FRAME = 9216,
  // io_threshold reported by LIMITS_GET
  parameter int IO_THRESHOLD = 0,
  // fixed latency of ddp_top in cycles
  parameter int LATENCY = 0,
  // SGL page size
  parameter int PAGE = 4096,
  // pages in the buffer pool
  parameter int POOL_PAGES = 16 * N_TAGS,
  // pipeline advances between a teardown and its TEARDOWN_DONE
  parameter int DRAIN = 4,
  // context index width
  parameter int CTX_W = (N_CTX > 1) ? $clog2(N_CTX) : 1
) (
  input  logic             clk,
  input  logic             rst,

  input  logic             s_cmd_valid,
  output logic             s_cmd_ready,
  input  logic [3:0]       s_cmd_op,
  input  logic [15:0]      s_cmd_tag,
  input  logic [7:0]       s_cmd_ctx,
  input  logic [31:0]      s_cmd_seq,
  input  logic             s_cmd_last,     // flags[0]: the last beat of a TAG_SETUP
  input  logic [31:0]      s_cmd_cookie,
  input  logic [7:0]       s_cmd_index,

  output logic             m_evt_valid,
  input  logic             m_evt_ready,
  output logic [1:0]       m_evt_kind,
  output logic [15:0]      m_evt_tag,
  output logic [3:0]       m_evt_status,
  output logic [7:0]       m_evt_ctx,
  output logic [31:0]      m_evt_seq,
  output logic [31:0]      m_evt_cookie,
  output logic [63:0]      m_evt_data,

  output logic             ct_add,
  output logic             ct_del,
  output logic [CTX_W-1:0] ct_idx,
  input  logic             ct_tuple_exists,
  input  logic [N_CTX-1:0] ct_valid,

  output logic             tt_valid,
  input  logic             tt_ready,
  output logic [1:0]       tt_op,
  output logic             tt_first,
  output logic             tt_last,
  output logic             tt_ctx_ok,
  input  logic             tt_r_valid,
  output logic             tt_r_ready,
  input  logic [3:0]       tt_r_status,

  output logic             trk_init,
  output logic [CTX_W-1:0] trk_init_idx,
  output logic [31:0]      trk_init_seq,
  output logic             rs_valid,       // RESYNC of a context in use (the tracker checks WAIT_CONFIRM and seq)
  output logic [CTX_W-1:0] rs_idx,
  output logic [31:0]      rs_seq,

  output logic [1:0]       caps,
  input  logic             adv,
  output logic             evt_room,
  input  logic             rr_valid,
  input  logic [7:0]       rr_ctx,
  input  logic [31:0]      rr_seq,
  input  logic [ddp_pkg::N_STATS*16-1:0] stat_inc
);

  localparam logic [1:0] CAPS_HW = 2'b11;
  localparam int         EVT_W   = 2 + 16 + 4 + 8 + 32 + 32 + 64;
  localparam int         FIFO_N  = 8;

  // ---------------------------------------------------------------------------------------------------------
  // Decode.

  logic        fire;          // a command beat is accepted at this edge
  logic        ctx_in_range;
  logic        ctx_used;
  logic        setup_open_q;  // a TAG_SETUP's beats are arriving (the next beat is not the first)
  logic [1:0]  caps_q;
  logic [63:0] stats_q [ddp_pkg::N_STATS];
  logic        cmpl;          // a completion is produced at this edge
  logic [3:0]  cmpl_status;
  logic [63:0] cmpl_data;
  logic [1:0]  caps_new;

  // TEARDOWN_DONE shift register.
  logic        sr_valid_q  [DRAIN];
  logic [31:0] sr_cookie_q [DRAIN];

  logic [3:0]  free_q;        // free event FIFO entries

  // A command on the tag table waiting for its answer, and what its completion needs then.
  logic        busy_q;
  logic        pend_td_q;     // a TAG_TEARDOWN: its cookie goes to the shift register if the entry was found
  logic [15:0] pend_tag_q;
  logic [7:0]  pend_ctx_q;
  logic [31:0] pend_cookie_q;
  logic        to_tt;         // this beat is for the tag table
  logic        answers;       // ... and the tag table will answer it (a setup's last beat, a teardown, a delete)
  logic        answer;        // the tag table's answer is taken at this edge

  assign evt_room     = free_q >= 4'd3;
  assign ctx_in_range = s_cmd_ctx < 8'(N_CTX);
  assign ctx_used     = ctx_in_range && ct_valid[CTX_W'(s_cmd_ctx)];
  assign caps         = caps_q;
  assign to_tt        = s_cmd_op == ddp_pkg::OP_TAG_SETUP
                        || (s_cmd_op == ddp_pkg::OP_TAG_TEARDOWN && ctx_in_range)
                        || (s_cmd_op == ddp_pkg::OP_CTX_DEL && ctx_used);
  assign s_cmd_ready  = evt_room && !sr_valid_q[0] && !busy_q && (!to_tt || tt_ready);
  assign fire         = s_cmd_valid && s_cmd_ready;
  assign tt_valid     = s_cmd_valid && evt_room && !sr_valid_q[0] && !busy_q && to_tt;
  assign tt_op        = s_cmd_op == ddp_pkg::OP_TAG_SETUP ? 2'd0 : s_cmd_op == ddp_pkg::OP_TAG_TEARDOWN ? 2'd1 : 2'd2;
  assign tt_first     = !setup_open_q;
  assign tt_last      = s_cmd_last;
  assign tt_ctx_ok    = ctx_used;
  assign tt_r_ready   = evt_room;
  assign answer       = tt_r_valid && tt_r_ready;
  assign answers      = fire && to_tt && (s_cmd_op != ddp_pkg::OP_TAG_SETUP || s_cmd_last);

  always_comb begin
    ct_add       = 1'b0;
    ct_del       = 1'b0;
    ct_idx       = CTX_W'(s_cmd_ctx);
    trk_init     = 1'b0;
    trk_init_idx = CTX_W'(s_cmd_ctx);
    trk_init_seq = s_cmd_seq;
    rs_valid     = 1'b0;
    rs_idx       = CTX_W'(s_cmd_ctx);
    rs_seq       = s_cmd_seq;
    cmpl         = fire && !to_tt;
    cmpl_status  = ddp_pkg::ST_OK;
    cmpl_data    = '0;
    caps_new     = caps_q;
    unique case (s_cmd_op)
      ddp_pkg::OP_CTX_ADD: begin
        if (!ctx_in_range)                      cmpl_status = ddp_pkg::ST_BAD_CTX;
        else if (ctx_used || ct_tuple_exists)   cmpl_status = ddp_pkg::ST_EXISTS;
        else if (!caps_q[ddp_pkg::CAP_NVME_TCP]) cmpl_status = ddp_pkg::ST_DISABLED;
        ct_add   = fire && cmpl_status == ddp_pkg::ST_OK;
        trk_init = ct_add;
      end
      ddp_pkg::OP_CTX_DEL: begin
        if (!ctx_in_range)  cmpl_status = ddp_pkg::ST_BAD_CTX;
        else if (!ctx_used) cmpl_status = ddp_pkg::ST_NOT_FOUND;
        // The context stops matching now; its tag entries go in the tag table, which answers.
        ct_del    = fire && cmpl_status == ddp_pkg::ST_OK;
      end
      ddp_pkg::OP_TAG_SETUP: ;   // the tag table checks and answers
      ddp_pkg::OP_TAG_TEARDOWN: begin
        // An out-of-range ctx never reaches the tag table (answered NOT_FOUND here).
        cmpl_status = ddp_pkg::ST_NOT_FOUND;
      end
      ddp_pkg::OP_RESYNC: begin
        // OK whether or not it confirms anything (the tracker decides: WAIT_CONFIRM and the candidate's seq).
        if (!ctx_in_range)  cmpl_status = ddp_pkg::ST_BAD_CTX;
        else if (!ctx_used) cmpl_status = ddp_pkg::ST_NOT_FOUND;
        rs_valid = fire && cmpl_status == ddp_pkg::ST_OK;
      end
      ddp_pkg::OP_CAPS_GET: begin
        cmpl_data = {54'd0, CAPS_HW, 6'd0, caps_q};
      end
      ddp_pkg::OP_CAPS_SET: begin
        caps_new  = ((caps_q & ~s_cmd_index[5:4]) | (s_cmd_index[1:0] & s_cmd_index[5:4])) & CAPS_HW;
        cmpl_data = {54'd0, CAPS_HW, 6'd0, caps_new};
      end
      ddp_pkg::OP_LIMITS_GET: begin
        unique case (s_cmd_index)
          8'd0:    cmpl_data = 64'(MAX_SGL);
          8'd1:    cmpl_data = 64'(IO_THRESHOLD);
          8'd2:    cmpl_data = 64'd1;
          8'd3:    cmpl_data = 64'd0;
          8'd4:    cmpl_data = 64'(N_CTX);
          8'd5:    cmpl_data = 64'(N_TAGS);
          8'd6:    cmpl_data = 64'(MAX_SEGS);
          8'd7:    cmpl_data = 64'(LATENCY);
          8'd8:    cmpl_data = 64'(MAX_FRAME);
          8'd9:    cmpl_data = 64'(PAGE);
          8'd10:   cmpl_data = 64'(POOL_PAGES);
          default: cmpl_status = ddp_pkg::ST_BAD_ARG;
        endcase
      end
      ddp_pkg::OP_STATS_GET: begin
        if (s_cmd_index < 8'(ddp_pkg::N_STATS)) cmpl_data = stats_q[s_cmd_index[3:0]];
        else cmpl_status = ddp_pkg::ST_BAD_ARG;
      end
      default: cmpl_status = ddp_pkg::ST_BAD_OP;
    endcase
  end

  always_ff @(posedge clk) begin
    if (rst) begin
      setup_open_q <= 1'b0;
      caps_q       <= CAPS_HW;
      busy_q       <= 1'b0;
    end else begin
      if (fire && s_cmd_op == ddp_pkg::OP_TAG_SETUP) setup_open_q <= !s_cmd_last;
      if (fire && s_cmd_op == ddp_pkg::OP_CAPS_SET) caps_q <= caps_new;
      if (answers) busy_q <= 1'b1;
      else if (answer) busy_q <= 1'b0;
    end
  end

  always_ff @(posedge clk) begin
    if (answers) begin
      pend_td_q     <= s_cmd_op == ddp_pkg::OP_TAG_TEARDOWN;
      pend_tag_q    <= s_cmd_tag;
      pend_ctx_q    <= s_cmd_ctx;
      pend_cookie_q <= s_cmd_cookie;
    end
  end

  // ---------------------------------------------------------------------------------------------------------
  // TEARDOWN_DONE shift register.

  logic        td_push;      // a cookie enters stage 0 at this edge
  logic        done_out;     // the last stage's cookie becomes a TEARDOWN_DONE at this edge

  assign td_push  = answer && pend_td_q && tt_r_status == ddp_pkg::ST_OK;
  assign done_out = adv && sr_valid_q[DRAIN-1];

  always_ff @(posedge clk) begin
    if (rst) begin
      for (int i = 0; i < DRAIN; i++) sr_valid_q[i] <= 1'b0;
    end else begin
      if (adv) begin
        for (int i = DRAIN - 1; i > 0; i--) begin
          sr_valid_q[i]  <= sr_valid_q[i-1];
          sr_cookie_q[i] <= sr_cookie_q[i-1];
        end
        sr_valid_q[0] <= td_push;
      end else if (td_push) begin
        sr_valid_q[0] <= 1'b1;
      end
      if (td_push) sr_cookie_q[0] <= pend_cookie_q;
    end
  end

  // ---------------------------------------------------------------------------------------------------------
  // Event FIFO: up to three pushes per cycle.

  logic [EVT_W-1:0] fifo_q [FIFO_N];
  logic [2:0]       wr_ptr_q, rd_ptr_q;
  logic [EVT_W-1:0] ev_rr, ev_td, ev_cm;
  logic             pop;
  logic [1:0]       n_push;

  always_comb begin
    ev_rr = {ddp_pkg::EVT_RESYNC_REQUEST, 16'd0, 4'd0, rr_ctx, rr_seq, 32'd0, 64'd0};
    ev_td = {ddp_pkg::EVT_TEARDOWN_DONE, 16'd0, 4'd0, 8'd0, 32'd0, sr_cookie_q[DRAIN-1], 64'd0};
    // A tag table's answer and an immediate completion never meet (no command is accepted while one waits).
    ev_cm = answer ? {ddp_pkg::EVT_COMPLETION, pend_tag_q, tt_r_status, pend_ctx_q, 32'd0, 32'd0, 64'd0}
                   : {ddp_pkg::EVT_COMPLETION, s_cmd_tag, cmpl_status, s_cmd_ctx, 32'd0, 32'd0, cmpl_data};
    n_push = 2'(rr_valid) + 2'(done_out) + 2'(cmpl || answer);
  end

  assign pop = m_evt_valid && m_evt_ready;
  assign m_evt_valid = free_q != 4'(FIFO_N);
  assign {m_evt_kind, m_evt_tag, m_evt_status, m_evt_ctx, m_evt_seq, m_evt_cookie, m_evt_data} = fifo_q[rd_ptr_q];

  always_ff @(posedge clk) begin
    logic [2:0] at;
    at = wr_ptr_q;
    if (rr_valid) begin
      fifo_q[at] <= ev_rr;
      at = at + 1'b1;
    end
    if (done_out) begin
      fifo_q[at] <= ev_td;
      at = at + 1'b1;
    end
    if (cmpl || answer) fifo_q[at] <= ev_cm;
  end

  always_ff @(posedge clk) begin
    if (rst) begin
      wr_ptr_q <= '0;
      rd_ptr_q <= '0;
      free_q   <= 4'(FIFO_N);
    end else begin
      wr_ptr_q <= wr_ptr_q + 3'(n_push);
      if (pop) rd_ptr_q <= rd_ptr_q + 1'b1;
      free_q <= free_q - 4'(n_push) + 4'(pop);
    end
  end

  // ---------------------------------------------------------------------------------------------------------
  // Statistics.

  always_ff @(posedge clk) begin
    if (rst) begin
      for (int i = 0; i < ddp_pkg::N_STATS; i++) stats_q[i] <= '0;
    end else begin
      for (int i = 0; i < ddp_pkg::N_STATS; i++) stats_q[i] <= stats_q[i] + 64'(stat_inc[16*i +: 16]);
    end
  end

`ifndef SYNTHESIS
  no_evt_overflow: assert property (@(posedge clk) disable iff (rst) n_push != 2'd0 |-> free_q >= 4'(n_push))
    else $error("ddp_cmd: event FIFO overflow");
  rr_with_room: assert property (@(posedge clk) disable iff (rst) rr_valid |-> evt_room)
    else $error("ddp_cmd: RESYNC_REQUEST without room");
`endif

endmodule
