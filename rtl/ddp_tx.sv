// ddp_tx: the transmit data-digest offload (docs/tx-contract.md). For the offloaded sockets named by the
// transmit descriptors it follows the NVMe/TCP PDU framing of the outgoing stream and writes the DDGST of
// every PDU that declares one; every other byte and frame passes untouched. One beat per cycle, LATENCY 3.
//
//   s_desc ─┬─ FRAME (taken with its frame's first beat) ─┐
//           └─ ADD / DEL / RESYNC (between frames) ───────┤
//   s_axis ───────────────────────────────────────────────┴─► ddp_tx_track (S1) ─► ddp_tx_digest (S2, S3)
//                                                              ─► ddp_axis_skid (S3 register) ─► m_axis
// The whole pipeline advances when the skid buffer's registered ready is high, so back-pressure stalls it
// with no combinational path from m_axis_tready to s_axis_tready.
//
// Parameters: DATA_W (64 .. 512), KEEP_W (derived), N_CTX contexts, CTX_W (derived).
// Ports: clk, rst (synchronous, active high); s_desc_* descriptors and commands; s_axis_* frames in;
// m_axis_* frames out; stat_* free-running 32-bit counters (contract section 6).

module ddp_tx #(
  // tdata width in bits, a multiple of 8
  parameter int DATA_W = 64,
  // tkeep width: one bit per byte
  parameter int KEEP_W = DATA_W / 8,
  // TX contexts
  parameter int N_CTX = 64,
  // context index width
  parameter int CTX_W = N_CTX > 1 ? $clog2(N_CTX) : 1
) (
  input  logic              clk,
  input  logic              rst,

  input  logic              s_desc_valid,
  output logic              s_desc_ready,
  input  logic [1:0]        s_desc_kind,
  input  logic [CTX_W-1:0]  s_desc_ctx,
  input  logic              s_desc_offload,
  input  logic [15:0]       s_desc_hlen,
  input  logic [31:0]       s_desc_seq,
  input  logic [2:0]        s_desc_region,
  input  logic [31:0]       s_desc_rem,
  input  logic              s_desc_dg,
  input  logic [31:0]       s_desc_dlen,
  input  logic [31:0]       s_desc_crc,
  input  logic [63:0]       s_desc_hdr,

  input  logic [DATA_W-1:0] s_axis_tdata,
  input  logic [KEEP_W-1:0] s_axis_tkeep,
  input  logic              s_axis_tvalid,
  output logic              s_axis_tready,
  input  logic              s_axis_tlast,

  output logic [DATA_W-1:0] m_axis_tdata,
  output logic [KEEP_W-1:0] m_axis_tkeep,
  output logic              m_axis_tvalid,
  input  logic              m_axis_tready,
  output logic              m_axis_tlast,

  output logic [31:0]       stat_packets,
  output logic [31:0]       stat_bytes,
  output logic [31:0]       stat_ddgst,
  output logic [31:0]       stat_ooo,
  output logic [31:0]       stat_resync,
  output logic [31:0]       stat_bad_hdr
);

  localparam logic [1:0] K_FRAME = 2'd0;
  localparam int LW = $clog2(KEEP_W + 1);

  logic adv;        // the pipeline moves at this edge
  logic in_frame_q; // a frame's first beat has been taken, its last not yet
  logic beat_fire, cmd_fire, desc_frame;

  assign desc_frame    = s_desc_valid && s_desc_kind == K_FRAME;
  assign s_axis_tready = adv && (in_frame_q || desc_frame);
  assign s_desc_ready  = adv && !in_frame_q && (s_desc_kind != K_FRAME || s_axis_tvalid);
  assign beat_fire     = s_axis_tvalid && s_axis_tready;
  assign cmd_fire      = s_desc_valid && s_desc_ready && s_desc_kind != K_FRAME;

  always_ff @(posedge clk) begin
    if (rst) in_frame_q <= 1'b0;
    else if (beat_fire) in_frame_q <= !s_axis_tlast;
  end

  logic              t_valid, t_last, t_trk, t_init, t_gpre, t_crc_we;
  logic [DATA_W-1:0] t_data;
  logic [KEEP_W-1:0] t_keep;
  logic [CTX_W-1:0]  t_ctx;
  logic [LW-1:0]     t_da, t_dn, t_ga, t_gn;
  logic [1:0]        t_gi;
  logic [31:0]       t_crc;
  logic              st_packet, st_ddgst, st_ooo, st_resync, st_bad_hdr;
  logic [LW-1:0]     st_bytes;

  ddp_tx_track #(
    .DATA_W (DATA_W),
    .N_CTX  (N_CTX)
  ) track (
    .clk          (clk),
    .rst          (rst),
    .adv          (adv),
    .beat_fire    (beat_fire),
    .beat_first   (!in_frame_q),
    .beat_data    (s_axis_tdata),
    .beat_keep    (s_axis_tkeep),
    .beat_last    (s_axis_tlast),
    .beat_ctx     (s_desc_ctx),
    .beat_offload (s_desc_offload),
    .beat_hlen    (s_desc_hlen),
    .beat_seq     (s_desc_seq),
    .cmd_fire     (cmd_fire),
    .cmd_kind     (s_desc_kind),
    .cmd_ctx      (s_desc_ctx),
    .cmd_seq      (s_desc_seq),
    .cmd_region   (s_desc_region),
    .cmd_rem      (s_desc_rem),
    .cmd_dg       (s_desc_dg),
    .cmd_dlen     (s_desc_dlen),
    .cmd_crc      (s_desc_crc),
    .cmd_hdr      (s_desc_hdr),
    .o_valid      (t_valid),
    .o_data       (t_data),
    .o_keep       (t_keep),
    .o_last       (t_last),
    .o_trk        (t_trk),
    .o_ctx        (t_ctx),
    .o_da         (t_da),
    .o_dn         (t_dn),
    .o_init       (t_init),
    .o_ga         (t_ga),
    .o_gn         (t_gn),
    .o_gi         (t_gi),
    .o_gpre       (t_gpre),
    .o_crc_we     (t_crc_we),
    .o_crc        (t_crc),
    .st_packet    (st_packet),
    .st_bytes     (st_bytes),
    .st_ddgst     (st_ddgst),
    .st_ooo       (st_ooo),
    .st_resync    (st_resync),
    .st_bad_hdr   (st_bad_hdr)
  );

  logic              d_valid, d_last;
  logic [DATA_W-1:0] d_data;
  logic [KEEP_W-1:0] d_keep;

  ddp_tx_digest #(
    .DATA_W (DATA_W),
    .N_CTX  (N_CTX)
  ) dgst (
    .clk      (clk),
    .rst      (rst),
    .adv      (adv),
    .i_valid  (t_valid),
    .i_data   (t_data),
    .i_keep   (t_keep),
    .i_last   (t_last),
    .i_trk    (t_trk),
    .i_ctx    (t_ctx),
    .i_da     (t_da),
    .i_dn     (t_dn),
    .i_init   (t_init),
    .i_ga     (t_ga),
    .i_gn     (t_gn),
    .i_gi     (t_gi),
    .i_gpre   (t_gpre),
    .i_crc_we (t_crc_we),
    .i_crc    (t_crc),
    .o_valid  (d_valid),
    .o_data   (d_data),
    .o_keep   (d_keep),
    .o_last   (d_last)
  );

  /* verilator lint_off PINCONNECTEMPTY */
  ddp_axis_skid #(
    .DATA_W (DATA_W)
  ) out (
    .clk           (clk),
    .rst           (rst),
    .s_axis_tdata  (d_data),
    .s_axis_tkeep  (d_keep),
    .s_axis_tuser  (1'b0),
    .s_axis_tlast  (d_last),
    .s_axis_tvalid (d_valid),
    .s_axis_tready (adv),
    .m_axis_tdata  (m_axis_tdata),
    .m_axis_tkeep  (m_axis_tkeep),
    .m_axis_tuser  (),
    .m_axis_tlast  (m_axis_tlast),
    .m_axis_tvalid (m_axis_tvalid),
    .m_axis_tready (m_axis_tready)
  );
  /* verilator lint_on PINCONNECTEMPTY */

  always_ff @(posedge clk) begin
    if (rst) begin
      {stat_packets, stat_bytes, stat_ddgst, stat_ooo, stat_resync, stat_bad_hdr} <= '0;
    end else begin
      stat_packets <= stat_packets + 32'(st_packet);
      stat_bytes   <= stat_bytes + 32'(st_bytes);
      stat_ddgst   <= stat_ddgst + 32'(st_ddgst);
      stat_ooo     <= stat_ooo + 32'(st_ooo);
      stat_resync  <= stat_resync + 32'(st_resync);
      stat_bad_hdr <= stat_bad_hdr + 32'(st_bad_hdr);
    end
  end

endmodule
