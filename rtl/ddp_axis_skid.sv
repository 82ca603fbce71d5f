// ddp_axis_skid: AXI-Stream register slice with a skid buffer.
//
// Breaks every combinational path between the two sides: outputs come from registers, and s_axis_tready is
// a register too (it does not depend on m_axis_tready in the same cycle). Full throughput: with
// m_axis_tready held high one beat passes per cycle, latency one cycle.
//
//   out    the output register (m_axis_*)
//   skid   holds the one beat that arrived in the cycle the output stalled; s_axis_tready = skid empty
//
// Parameters:
//   DATA_W   tdata width in bits, a multiple of 8
//   KEEP_W   tkeep width (derived: one bit per byte)
//   USER_W   tuser width (at least 1; tie s_axis_tuser to 0 and leave m_axis_tuser open if unused)
// Ports:
//   clk, rst                          clock, synchronous active-high reset (clears valids only)
//   s_axis_t{data,keep,user,last,valid,ready}  input stream
//   m_axis_t{data,keep,user,last,valid,ready}  output stream

module ddp_axis_skid #(
  // tdata width in bits, a multiple of 8
  parameter int DATA_W = 64,
  // tkeep width: one bit per byte
  parameter int KEEP_W = DATA_W / 8,
  // tuser width (at least 1)
  parameter int USER_W = 1
) (
  input  logic              clk,
  input  logic              rst,

  input  logic [DATA_W-1:0] s_axis_tdata,
  input  logic [KEEP_W-1:0] s_axis_tkeep,
  input  logic [USER_W-1:0] s_axis_tuser,
  input  logic              s_axis_tlast,
  input  logic              s_axis_tvalid,
  output logic              s_axis_tready,

  output logic [DATA_W-1:0] m_axis_tdata,
  output logic [KEEP_W-1:0] m_axis_tkeep,
  output logic [USER_W-1:0] m_axis_tuser,
  output logic              m_axis_tlast,
  output logic              m_axis_tvalid,
  input  logic              m_axis_tready
);

  // One beat: {tdata, tkeep, tuser, tlast}.
  localparam int BEAT_W = DATA_W + KEEP_W + USER_W + 1;

  logic [BEAT_W-1:0] in_beat;
  logic [BEAT_W-1:0] out_beat_q, out_beat_d;
  logic [BEAT_W-1:0] skid_beat_q, skid_beat_d;
  logic              out_valid_q, out_valid_d;
  logic              skid_valid_q, skid_valid_d;
  logic              out_free;  // the output register can take a new beat at this edge

  assign in_beat = {s_axis_tdata, s_axis_tkeep, s_axis_tuser, s_axis_tlast};
  assign {m_axis_tdata, m_axis_tkeep, m_axis_tuser, m_axis_tlast} = out_beat_q;
  assign m_axis_tvalid = out_valid_q;
  assign s_axis_tready = !skid_valid_q;

  always_comb begin
    out_free     = !out_valid_q || m_axis_tready;
    out_beat_d   = out_beat_q;
    out_valid_d  = out_valid_q;
    // The skid register may load freely while empty: its contents only count once skid_valid is set.
    skid_beat_d  = skid_valid_q ? skid_beat_q : in_beat;
    skid_valid_d = skid_valid_q;

    if (out_free) begin
      // The skid beat (if any) is older than anything on the input, which is stalled while it is held.
      out_beat_d   = skid_valid_q ? skid_beat_q : in_beat;
      out_valid_d  = skid_valid_q || s_axis_tvalid;
      skid_valid_d = 1'b0;
    end else if (s_axis_tvalid && s_axis_tready) begin
      skid_valid_d = 1'b1;
    end
  end

  always_ff @(posedge clk) begin
    out_beat_q  <= out_beat_d;
    skid_beat_q <= skid_beat_d;
    if (rst) begin
      out_valid_q  <= 1'b0;
      skid_valid_q <= 1'b0;
    end else begin
      out_valid_q  <= out_valid_d;
      skid_valid_q <= skid_valid_d;
    end
  end

`ifndef SYNTHESIS
  // AXI-Stream handshake rules, on both sides: once valid is up it stays up, with the same beat, until ready.
  in_valid_held: assert property (@(posedge clk) disable iff (rst)
    s_axis_tvalid && !s_axis_tready |=> s_axis_tvalid && $stable(in_beat))
    else $error("s_axis: tvalid dropped or beat changed before tready");
  out_valid_held: assert property (@(posedge clk) disable iff (rst)
    m_axis_tvalid && !m_axis_tready |=> m_axis_tvalid && $stable(out_beat_q))
    else $error("m_axis: tvalid dropped or beat changed before tready");
`endif

endmodule
