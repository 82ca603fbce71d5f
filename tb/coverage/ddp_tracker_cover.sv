// Functional cover points of ddp_tracker (contract sections 4, 5 and 7), on its internal signals. Bound into
// ddp_tracker only in the coverage build (harness.mk COVERAGE=1); counted by Verilator's user coverage.
module ddp_tracker_cover (
  input logic        clk,
  input logic        rst,
  input logic        adv,
  input logic        live,
  input logic        b0_sof,
  input logic        b0_valid,
  input logic        f0_ok,
  input logic        f0_oversize,
  input logic        pay,
  input logic        r1, r2, r34, r4, r5, sr_in, tmo_sof, res0,
  input logic [31:0] diff,
  input logic [2:0]  c_rg,
  input logic [31:0] c_rem,
  input logic [2:0]  end_rg,
  input logic        hdr_done, hdr_fail, hs_valid,
  input logic [3:0]  hs_lane,
  input logic [3:0]  lo,
  input logic        d_valid,
  input logic [3:0]  d_lo, d_cnt,
  input logic [31:0] d_rem,
  input logic        g_done,
  input logic [3:0]  g_lane,
  input logic [2:0]  g_off,
  input logic        rr, miss, tmo_p,
  input logic        rs_confirm,
  input logic        rs_wrong,
  input logic        ws
);
  logic sof, beat;
  assign sof  = adv && live && b0_sof;
  assign beat = adv && pay;

  // Section 4: the sequence rules at a frame's first beat.
  rule1_empty:       cover property (@(posedge clk) disable iff (rst) sof && r1);
  rule2_retransmit:  cover property (@(posedge clk) disable iff (rst) sof && r2);
  rule3_in_order:    cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0);
  rule4_data_gap:    cover property (@(posedge clk) disable iff (rst) sof && r4);
  rule4_gap_to_end:  cover property (@(posedge clk) disable iff (rst) sof && r4 && diff == c_rem);
  rule5_lost_header: cover property (@(posedge clk) disable iff (rst) sof && r5);
  search_frame:      cover property (@(posedge clk) disable iff (rst) sof && sr_in);
  verdict_pass:      cover property (@(posedge clk) disable iff (rst) adv && b0_valid && b0_sof && !f0_ok);
  verdict_oversize:  cover property (@(posedge clk) disable iff (rst) adv && b0_valid && b0_sof && f0_oversize);

  // Section 5: every tracker state at a beat's start and every change of state within a beat. Regions are
  // numbered in PDU order (HDR 0, HDGST 1, PAD 2, DATA 3, DDGST 4, SEARCH 5): from PAD, DATA or DDGST an earlier
  // region other than HDR needs a new header to pass, and a header never starts and completes in one beat
  // (24 bytes > 8 lanes), so those changes are left out as unreachable.
  for (genvar f = 0; f <= 5; f++) begin : state
    cp: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'(f));
    for (genvar t = 0; t <= 5; t++) begin : to
      if (f != t && !(f >= 2 && f <= 4 && t >= 1 && t < f)) begin : g
        cp: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'(f) && end_rg == 3'(t));
      end
    end
  end
  header_pass: cover property (@(posedge clk) disable iff (rst) beat && hdr_done);
  header_fail: cover property (@(posedge clk) disable iff (rst) beat && hdr_fail);
  // Several PDUs in one beat: a header completes and the next one starts in the same beat.
  pdus_in_one_beat: cover property (@(posedge clk) disable iff (rst) beat && (hdr_done || rr) && hs_valid);

  // A header split across frames after k of its bytes; a header starting (split across beats) at each lane.
  for (genvar k = 1; k <= 23; k++) begin : hdr_split_frame
    cp: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'(ddp_pkg::RG_HDR) && c_rem == 32'(24 - k));
  end
  for (genvar l = 0; l < 8; l++) begin : lane
    hdr_start: cover property (@(posedge clk) disable iff (rst) beat && hs_valid && hs_lane == 4'(l));
    // Header, data and digest regions ending on lane l.
    hdr_end:   cover property (@(posedge clk) disable iff (rst) beat && (hdr_done || hdr_fail) && lo + 4'(c_rem) - 4'd1 == 4'(l));
    data_end:  cover property (@(posedge clk) disable iff (rst) beat && d_valid && d_rem == 32'(d_cnt) && d_lo + d_cnt - 4'd1 == 4'(l));
    ddgst_end: cover property (@(posedge clk) disable iff (rst) beat && g_done && g_lane + 4'd3 - 4'(g_off) == 4'(l));
  end

  // Section 7: every resync outcome.
  resync_candidate:     cover property (@(posedge clk) disable iff (rst) beat && rr);
  resync_confirm:       cover property (@(posedge clk) disable iff (rst) rs_confirm);
  resync_wrong_confirm: cover property (@(posedge clk) disable iff (rst) rs_wrong);
  resync_miss:          cover property (@(posedge clk) disable iff (rst) (beat && miss) || (sof && r5 && ws));
  resync_timeout:       cover property (@(posedge clk) disable iff (rst) (beat && tmo_p) || (sof && tmo_sof));
  resync_resume_in_pdu: cover property (@(posedge clk) disable iff (rst) adv && res0);
endmodule

bind ddp_tracker ddp_tracker_cover cover_i (
  .b0_sof (b0_sof_q), .b0_valid (b0_valid_q), .f0_ok (f0_ok_q), .f0_oversize (f0_oversize_q),
  // A RESYNC for a context waiting on another seq (ignored, contract section 7).
  .rs_wrong (rs_valid && st_wc[rs_idx] && !st_conf[rs_idx] && st_cand[rs_idx] != rs_seq),
  .*
);
