// ddp_crc32c: CRC32C of every frame of an AXI-Stream, one beat per cycle.
//
// CRC32C (Castagnoli): reflected polynomial 0x82F63B78, init 32'hFFFFFFFF, final xor 32'hFFFFFFFF, bytes
// least significant bit first (RFC 3720, the NVMe/TCP digest). m_crc_value is the CRC as a number; on the
// wire NVMe/TCP sends it little-endian.
//
// Each frame's result leaves on the m_crc valid/ready channel, in frame order. The result register is a
// skid buffer (ddp_axis_skid): s_axis_tready is registered and drops only when a result is waiting on a
// stalled m_crc, so no result is ever lost and no combinational path runs from m_crc_ready to s_axis_tready.
//
// Parameters:
//   DATA_W   tdata width in bits, a multiple of 8 (64, 128, 256, 512)
//   KEEP_W   tkeep width (derived)
// Ports:
//   clk, rst                               clock, synchronous active-high reset
//   s_axis_t{data,keep,valid,ready,last}   frames; tkeep contiguous from lane 0, all ones except on the
//                                          last beat (a zero tkeep adds no bytes)
//   m_crc_{valid,ready,value}              one CRC32C per frame

module ddp_crc32c #(
  // tdata width in bits, a multiple of 8
  parameter int DATA_W = 64,
  // tkeep width: one bit per byte
  parameter int KEEP_W = DATA_W / 8
) (
  input  logic              clk,
  input  logic              rst,

  input  logic [DATA_W-1:0] s_axis_tdata,
  input  logic [KEEP_W-1:0] s_axis_tkeep,
  input  logic              s_axis_tvalid,
  output logic              s_axis_tready,
  input  logic              s_axis_tlast,

  output logic              m_crc_valid,
  input  logic              m_crc_ready,
  output logic [31:0]       m_crc_value
);

  localparam logic [31:0] CRC_INIT = 32'hFFFFFFFF;
  localparam int          COUNT_W  = $clog2(KEEP_W + 1);

  logic [31:0]        crc_q;      // running register of the frame in progress
  logic [31:0]        crc_next;   // register after the current beat
  logic [COUNT_W-1:0] beat_bytes;
  logic               beat_fire;

  // tkeep is contiguous from lane 0, so the byte count is 1 + the lane where the run of ones ends: cheaper
  // and shallower than counting the ones.
  always_comb begin
    logic [KEEP_W:0] keep_ext;
    keep_ext   = {1'b0, s_axis_tkeep};
    beat_bytes = '0;
    for (int i = 0; i < KEEP_W; i++) begin
      beat_bytes = beat_bytes | (COUNT_W'(i + 1) & {COUNT_W{keep_ext[i] && !keep_ext[i+1]}});
    end
  end
  assign beat_fire  = s_axis_tvalid && s_axis_tready;

  ddp_crc32c_core #(
    .DATA_W (DATA_W)
  ) core (
    .clk     (clk),
    .crc_in  (crc_q),
    .data    (s_axis_tdata),
    .count   (beat_bytes),
    .crc_out (crc_next)
  );

  always_ff @(posedge clk) begin
    if (rst) begin
      crc_q <= CRC_INIT;
    end else if (beat_fire) begin
      crc_q <= s_axis_tlast ? CRC_INIT : crc_next;
    end
  end

  // The result channel reuses the skid buffer as a 32-bit stream; its tkeep / tuser / tlast carry nothing.
  /* verilator lint_off PINCONNECTEMPTY */
  ddp_axis_skid #(
    .DATA_W (32)
  ) result (
    .clk           (clk),
    .rst           (rst),
    .s_axis_tdata  (~crc_next),
    .s_axis_tkeep  ('1),
    .s_axis_tuser  (1'b0),
    .s_axis_tlast  (1'b1),
    .s_axis_tvalid (s_axis_tvalid && s_axis_tlast),
    .s_axis_tready (s_axis_tready),
    .m_axis_tdata  (m_crc_value),
    .m_axis_tkeep  (),
    .m_axis_tuser  (),
    .m_axis_tlast  (),
    .m_axis_tvalid (m_crc_valid),
    .m_axis_tready (m_crc_ready)
  );
  /* verilator lint_on PINCONNECTEMPTY */

`ifndef SYNTHESIS
  // tkeep is 2^n - 1 (contiguous from lane 0), and all ones on every beat but the last.
  keep_contiguous: assert property (@(posedge clk) disable iff (rst)
    s_axis_tvalid |-> (s_axis_tkeep & (s_axis_tkeep + KEEP_W'(1))) == '0)
    else $error("s_axis_tkeep not contiguous from lane 0");
  keep_full_before_last: assert property (@(posedge clk) disable iff (rst)
    s_axis_tvalid && !s_axis_tlast |-> &s_axis_tkeep)
    else $error("s_axis_tkeep partial on a beat that is not the last");
`endif

endmodule
