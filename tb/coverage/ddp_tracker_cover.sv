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

  // Section 5: every tracker state at a beat's start and every change of state within a beat (regions:
  // HDR 0, HDGST 1, PAD 2, DATA 3, DDGST 4, SEARCH 5). From PAD, DATA or DDGST, a change back to HDGST, PAD or
  // DATA needs a new header to pass, and a header never starts and completes in one beat (24 bytes > 8 lanes):
  // those are left out as unreachable. Points are written out one by one: Verilator 5.006 merges the cover
  // points of a generate loop into one.
  state_hdr: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd0);
  state_hdgst: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd1);
  state_pad: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd2);
  state_data: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd3);
  state_ddgst: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd4);
  state_search: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd5);
  to_hdr_hdgst: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd0 && end_rg == 3'd1);
  to_hdr_pad: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd0 && end_rg == 3'd2);
  to_hdr_data: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd0 && end_rg == 3'd3);
  to_hdr_ddgst: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd0 && end_rg == 3'd4);
  to_hdr_search: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd0 && end_rg == 3'd5);
  to_hdgst_hdr: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd1 && end_rg == 3'd0);
  to_hdgst_pad: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd1 && end_rg == 3'd2);
  to_hdgst_data: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd1 && end_rg == 3'd3);
  to_hdgst_ddgst: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd1 && end_rg == 3'd4);
  to_hdgst_search: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd1 && end_rg == 3'd5);
  to_pad_hdr: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd2 && end_rg == 3'd0);
  to_pad_data: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd2 && end_rg == 3'd3);
  to_pad_ddgst: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd2 && end_rg == 3'd4);
  to_pad_search: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd2 && end_rg == 3'd5);
  to_data_hdr: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd3 && end_rg == 3'd0);
  to_data_ddgst: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd3 && end_rg == 3'd4);
  to_data_search: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd3 && end_rg == 3'd5);
  to_ddgst_hdr: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd4 && end_rg == 3'd0);
  to_ddgst_search: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd4 && end_rg == 3'd5);
  to_search_hdr: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd5 && end_rg == 3'd0);
  to_search_hdgst: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd5 && end_rg == 3'd1);
  to_search_pad: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd5 && end_rg == 3'd2);
  to_search_data: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd5 && end_rg == 3'd3);
  to_search_ddgst: cover property (@(posedge clk) disable iff (rst) beat && c_rg == 3'd5 && end_rg == 3'd4);
  header_pass: cover property (@(posedge clk) disable iff (rst) beat && hdr_done);
  header_fail: cover property (@(posedge clk) disable iff (rst) beat && hdr_fail);
  // Several PDUs in one beat: a header completes and the next one starts in the same beat.
  pdus_in_one_beat: cover property (@(posedge clk) disable iff (rst) beat && (hdr_done || rr) && hs_valid);

  // A header split across frames after k of its bytes; a header starting (split across beats) at each lane;
  // header, data and digest regions ending on each lane.
  hdr_split_frame_1: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'd0 && c_rem == 32'd23);
  hdr_split_frame_2: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'd0 && c_rem == 32'd22);
  hdr_split_frame_3: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'd0 && c_rem == 32'd21);
  hdr_split_frame_4: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'd0 && c_rem == 32'd20);
  hdr_split_frame_5: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'd0 && c_rem == 32'd19);
  hdr_split_frame_6: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'd0 && c_rem == 32'd18);
  hdr_split_frame_7: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'd0 && c_rem == 32'd17);
  hdr_split_frame_8: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'd0 && c_rem == 32'd16);
  hdr_split_frame_9: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'd0 && c_rem == 32'd15);
  hdr_split_frame_10: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'd0 && c_rem == 32'd14);
  hdr_split_frame_11: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'd0 && c_rem == 32'd13);
  hdr_split_frame_12: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'd0 && c_rem == 32'd12);
  hdr_split_frame_13: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'd0 && c_rem == 32'd11);
  hdr_split_frame_14: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'd0 && c_rem == 32'd10);
  hdr_split_frame_15: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'd0 && c_rem == 32'd9);
  hdr_split_frame_16: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'd0 && c_rem == 32'd8);
  hdr_split_frame_17: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'd0 && c_rem == 32'd7);
  hdr_split_frame_18: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'd0 && c_rem == 32'd6);
  hdr_split_frame_19: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'd0 && c_rem == 32'd5);
  hdr_split_frame_20: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'd0 && c_rem == 32'd4);
  hdr_split_frame_21: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'd0 && c_rem == 32'd3);
  hdr_split_frame_22: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'd0 && c_rem == 32'd2);
  hdr_split_frame_23: cover property (@(posedge clk) disable iff (rst) sof && r34 && diff == '0 && c_rg == 3'd0 && c_rem == 32'd1);
  // A header starting on lane 0 began the beat (hs_valid marks only headers starting after a region ended in it).
  hdr_start_lane0: cover property (@(posedge clk) disable iff (rst) beat && ((hs_valid && hs_lane == 4'd0) || (c_rg == 3'd0 && c_rem == 32'd24 && lo == 4'd0)));
  hdr_start_lane1: cover property (@(posedge clk) disable iff (rst) beat && hs_valid && hs_lane == 4'd1);
  hdr_start_lane2: cover property (@(posedge clk) disable iff (rst) beat && hs_valid && hs_lane == 4'd2);
  hdr_start_lane3: cover property (@(posedge clk) disable iff (rst) beat && hs_valid && hs_lane == 4'd3);
  hdr_start_lane4: cover property (@(posedge clk) disable iff (rst) beat && hs_valid && hs_lane == 4'd4);
  hdr_start_lane5: cover property (@(posedge clk) disable iff (rst) beat && hs_valid && hs_lane == 4'd5);
  hdr_start_lane6: cover property (@(posedge clk) disable iff (rst) beat && hs_valid && hs_lane == 4'd6);
  hdr_start_lane7: cover property (@(posedge clk) disable iff (rst) beat && hs_valid && hs_lane == 4'd7);
  hdr_end_lane0:   cover property (@(posedge clk) disable iff (rst) beat && (hdr_done || hdr_fail) && lo + 4'(c_rem) - 4'd1 == 4'd0);
  hdr_end_lane1:   cover property (@(posedge clk) disable iff (rst) beat && (hdr_done || hdr_fail) && lo + 4'(c_rem) - 4'd1 == 4'd1);
  hdr_end_lane2:   cover property (@(posedge clk) disable iff (rst) beat && (hdr_done || hdr_fail) && lo + 4'(c_rem) - 4'd1 == 4'd2);
  hdr_end_lane3:   cover property (@(posedge clk) disable iff (rst) beat && (hdr_done || hdr_fail) && lo + 4'(c_rem) - 4'd1 == 4'd3);
  hdr_end_lane4:   cover property (@(posedge clk) disable iff (rst) beat && (hdr_done || hdr_fail) && lo + 4'(c_rem) - 4'd1 == 4'd4);
  hdr_end_lane5:   cover property (@(posedge clk) disable iff (rst) beat && (hdr_done || hdr_fail) && lo + 4'(c_rem) - 4'd1 == 4'd5);
  hdr_end_lane6:   cover property (@(posedge clk) disable iff (rst) beat && (hdr_done || hdr_fail) && lo + 4'(c_rem) - 4'd1 == 4'd6);
  hdr_end_lane7:   cover property (@(posedge clk) disable iff (rst) beat && (hdr_done || hdr_fail) && lo + 4'(c_rem) - 4'd1 == 4'd7);
  data_end_lane0:  cover property (@(posedge clk) disable iff (rst) beat && d_valid && d_rem == 32'(d_cnt) && d_lo + d_cnt - 4'd1 == 4'd0);
  data_end_lane1:  cover property (@(posedge clk) disable iff (rst) beat && d_valid && d_rem == 32'(d_cnt) && d_lo + d_cnt - 4'd1 == 4'd1);
  data_end_lane2:  cover property (@(posedge clk) disable iff (rst) beat && d_valid && d_rem == 32'(d_cnt) && d_lo + d_cnt - 4'd1 == 4'd2);
  data_end_lane3:  cover property (@(posedge clk) disable iff (rst) beat && d_valid && d_rem == 32'(d_cnt) && d_lo + d_cnt - 4'd1 == 4'd3);
  data_end_lane4:  cover property (@(posedge clk) disable iff (rst) beat && d_valid && d_rem == 32'(d_cnt) && d_lo + d_cnt - 4'd1 == 4'd4);
  data_end_lane5:  cover property (@(posedge clk) disable iff (rst) beat && d_valid && d_rem == 32'(d_cnt) && d_lo + d_cnt - 4'd1 == 4'd5);
  data_end_lane6:  cover property (@(posedge clk) disable iff (rst) beat && d_valid && d_rem == 32'(d_cnt) && d_lo + d_cnt - 4'd1 == 4'd6);
  data_end_lane7:  cover property (@(posedge clk) disable iff (rst) beat && d_valid && d_rem == 32'(d_cnt) && d_lo + d_cnt - 4'd1 == 4'd7);
  ddgst_end_lane0: cover property (@(posedge clk) disable iff (rst) beat && g_done && g_lane + 4'd3 - 4'(g_off) == 4'd0);
  ddgst_end_lane1: cover property (@(posedge clk) disable iff (rst) beat && g_done && g_lane + 4'd3 - 4'(g_off) == 4'd1);
  ddgst_end_lane2: cover property (@(posedge clk) disable iff (rst) beat && g_done && g_lane + 4'd3 - 4'(g_off) == 4'd2);
  ddgst_end_lane3: cover property (@(posedge clk) disable iff (rst) beat && g_done && g_lane + 4'd3 - 4'(g_off) == 4'd3);
  ddgst_end_lane4: cover property (@(posedge clk) disable iff (rst) beat && g_done && g_lane + 4'd3 - 4'(g_off) == 4'd4);
  ddgst_end_lane5: cover property (@(posedge clk) disable iff (rst) beat && g_done && g_lane + 4'd3 - 4'(g_off) == 4'd5);
  ddgst_end_lane6: cover property (@(posedge clk) disable iff (rst) beat && g_done && g_lane + 4'd3 - 4'(g_off) == 4'd6);
  ddgst_end_lane7: cover property (@(posedge clk) disable iff (rst) beat && g_done && g_lane + 4'd3 - 4'(g_off) == 4'd7);

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
