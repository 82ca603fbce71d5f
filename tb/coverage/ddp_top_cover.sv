// Functional cover points at ddp_top's ports, named after docs/offload-contract.md. Bound into ddp_top only in
// the coverage build (harness.mk COVERAGE=1), so the RTL itself stays untouched; counted by Verilator's user
// coverage and reported by scripts/coverage.ts.
module ddp_top_cover (
  input logic       clk,
  input logic       rst,
  input logic       s_axis_tvalid,
  input logic       s_axis_tready,
  input logic       m_axis_rx_tvalid,
  input logic       m_axis_rx_tready,
  input logic       m_cqe_valid,
  input logic       m_cqe_ready,
  input logic       m_cqe_hit,
  input logic       m_cqe_crc_ok,
  input logic [2:0] m_cqe_nseg,
  input logic       m_cqe_resync,
  input logic       m_dma_valid,
  input logic       m_dma_ready,
  input logic       s_cmd_valid,
  input logic       s_cmd_ready,
  input logic [3:0] s_cmd_op,
  input logic       m_evt_valid,
  input logic       m_evt_ready,
  input logic [1:0] m_evt_kind,
  input logic [3:0] m_evt_status
);
  logic cmd, evt, cqe, cpl;
  assign cmd = s_cmd_valid && s_cmd_ready;
  assign evt = m_evt_valid && m_evt_ready;
  assign cqe = m_cqe_valid && m_cqe_ready;
  assign cpl = evt && m_evt_kind == ddp_pkg::EVT_COMPLETION;

  // Section 1: every op (0 and 10..15 are unknown: BAD_OP). Points are written out one by one: Verilator 5.006
  // merges the cover points of a generate loop into one.
  cmd_ctx_add: cover property (@(posedge clk) disable iff (rst) cmd && s_cmd_op == 4'd1);
  cmd_ctx_del: cover property (@(posedge clk) disable iff (rst) cmd && s_cmd_op == 4'd2);
  cmd_tag_setup: cover property (@(posedge clk) disable iff (rst) cmd && s_cmd_op == 4'd3);
  cmd_tag_teardown: cover property (@(posedge clk) disable iff (rst) cmd && s_cmd_op == 4'd4);
  cmd_resync: cover property (@(posedge clk) disable iff (rst) cmd && s_cmd_op == 4'd5);
  cmd_caps_get: cover property (@(posedge clk) disable iff (rst) cmd && s_cmd_op == 4'd6);
  cmd_caps_set: cover property (@(posedge clk) disable iff (rst) cmd && s_cmd_op == 4'd7);
  cmd_limits_get: cover property (@(posedge clk) disable iff (rst) cmd && s_cmd_op == 4'd8);
  cmd_stats_get: cover property (@(posedge clk) disable iff (rst) cmd && s_cmd_op == 4'd9);
  cmd_op_unknown: cover property (@(posedge clk) disable iff (rst) cmd && (s_cmd_op == 4'd0 || s_cmd_op > 4'd9));
  // Section 2: every status of a completion, every event kind.
  status_ok: cover property (@(posedge clk) disable iff (rst) cpl && m_evt_status == 4'd0);
  status_bad_op: cover property (@(posedge clk) disable iff (rst) cpl && m_evt_status == 4'd1);
  status_bad_ctx: cover property (@(posedge clk) disable iff (rst) cpl && m_evt_status == 4'd2);
  status_exists: cover property (@(posedge clk) disable iff (rst) cpl && m_evt_status == 4'd3);
  status_not_found: cover property (@(posedge clk) disable iff (rst) cpl && m_evt_status == 4'd4);
  status_table_full: cover property (@(posedge clk) disable iff (rst) cpl && m_evt_status == 4'd5);
  status_sgl_too_long: cover property (@(posedge clk) disable iff (rst) cpl && m_evt_status == 4'd6);
  status_bad_sgl: cover property (@(posedge clk) disable iff (rst) cpl && m_evt_status == 4'd7);
  status_disabled: cover property (@(posedge clk) disable iff (rst) cpl && m_evt_status == 4'd8);
  status_bad_arg: cover property (@(posedge clk) disable iff (rst) cpl && m_evt_status == 4'd9);
  evt_resync_request: cover property (@(posedge clk) disable iff (rst) evt && m_evt_kind == ddp_pkg::EVT_RESYNC_REQUEST);
  evt_teardown_done:  cover property (@(posedge clk) disable iff (rst) evt && m_evt_kind == ddp_pkg::EVT_TEARDOWN_DONE);
  // Section 1: a teardown while frames or DMA writes are inside the block.
  teardown_data_in_flight: cover property (@(posedge clk) disable iff (rst)
    cmd && s_cmd_op == ddp_pkg::OP_TAG_TEARDOWN && (m_dma_valid || m_axis_rx_tvalid));
  // Section 3: the CQE.
  cqe_nseg_0: cover property (@(posedge clk) disable iff (rst) cqe && m_cqe_nseg == 3'd0);
  cqe_nseg_1: cover property (@(posedge clk) disable iff (rst) cqe && m_cqe_nseg == 3'd1);
  cqe_nseg_2: cover property (@(posedge clk) disable iff (rst) cqe && m_cqe_nseg == 3'd2);
  cqe_nseg_3: cover property (@(posedge clk) disable iff (rst) cqe && m_cqe_nseg == 3'd3);
  cqe_nseg_4: cover property (@(posedge clk) disable iff (rst) cqe && m_cqe_nseg == 3'd4);
  cqe_miss:   cover property (@(posedge clk) disable iff (rst) cqe && !m_cqe_hit);
  cqe_crc_ok: cover property (@(posedge clk) disable iff (rst) cqe && m_cqe_crc_ok);
  cqe_resync: cover property (@(posedge clk) disable iff (rst) cqe && m_cqe_resync);
  // Back-pressure on every output, and the block refusing input.
  backpressure_rx:   cover property (@(posedge clk) disable iff (rst) m_axis_rx_tvalid && !m_axis_rx_tready);
  backpressure_cqe:  cover property (@(posedge clk) disable iff (rst) m_cqe_valid && !m_cqe_ready);
  backpressure_dma:  cover property (@(posedge clk) disable iff (rst) m_dma_valid && !m_dma_ready);
  backpressure_evt:  cover property (@(posedge clk) disable iff (rst) m_evt_valid && !m_evt_ready);
  stall_s_axis:      cover property (@(posedge clk) disable iff (rst) s_axis_tvalid && !s_axis_tready);
  stall_s_cmd:       cover property (@(posedge clk) disable iff (rst) s_cmd_valid && !s_cmd_ready);
endmodule

bind ddp_top ddp_top_cover cover_i (.*);
