// ddp_tx_digest: stages S2 and S3 of ddp_tx. Computes each PDU's CRC32C over its data lanes and writes the
// digest lanes (docs/tx-contract.md).
//
//   S2  the beat's data piece shifted down to lane 0 (ddp_tx_track gives lanes [da, da + dn))
//   S3  CRC register after the piece (ddp_crc32c_core, from 32'hFFFFFFFF when a PDU's data starts in the beat,
//       else the context's register); the digest ~register little-endian into lanes [ga, ga + gn), digest
//       bytes gi, gi + 1, ... Nothing else of the beat changes.
// The CRC register of every context is in an async-read table read and written at S3 (a digest may come
// frames after its data; a RESYNC writes the register as the complement of the CRC value it carries).
//
// Parameters: DATA_W, KEEP_W (derived), N_CTX, CTX_W (derived), LW (derived). Ports: adv advances both
// stages (the S3 register is ddp_tx's output skid buffer); i_* the S1 beat of ddp_tx_track; o_* the beat
// into S3 (combinational from S2).

module ddp_tx_digest #(
  // tdata width in bits, a multiple of 8
  parameter int DATA_W = 64,
  // bytes per beat
  parameter int KEEP_W = DATA_W / 8,
  // TX contexts
  parameter int N_CTX = 64,
  // context index width
  parameter int CTX_W = N_CTX > 1 ? $clog2(N_CTX) : 1,
  // lane / byte count width (0 .. KEEP_W)
  parameter int LW = $clog2(KEEP_W + 1)
) (
  input  logic              clk,
  input  logic              rst,
  input  logic              adv,

  input  logic              i_valid,
  input  logic [DATA_W-1:0] i_data,
  input  logic [KEEP_W-1:0] i_keep,
  input  logic              i_last,
  input  logic              i_trk,
  input  logic [CTX_W-1:0]  i_ctx,
  input  logic [LW-1:0]     i_da,
  input  logic [LW-1:0]     i_dn,
  input  logic              i_init,
  input  logic [LW-1:0]     i_ga,
  input  logic [LW-1:0]     i_gn,
  input  logic [1:0]        i_gi,
  input  logic              i_gpre,
  input  logic              i_crc_we,
  input  logic [31:0]       i_crc,

  output logic              o_valid,
  output logic [DATA_W-1:0] o_data,
  output logic [KEEP_W-1:0] o_keep,
  output logic              o_last
);

  localparam logic [31:0] CRC_INIT = 32'hFFFFFFFF;

  logic [31:0] crc_mem [N_CTX];

  // S2
  logic              s2_valid_q, s2_last_q, s2_trk_q, s2_init_q, s2_gpre_q, s2_crc_we_q;
  logic [DATA_W-1:0] s2_data_q, s2_piece_q;
  logic [KEEP_W-1:0] s2_keep_q;
  logic [CTX_W-1:0]  s2_ctx_q;
  logic [LW-1:0]     s2_dn_q, s2_ga_q, s2_gn_q;
  logic [1:0]        s2_gi_q;
  logic [31:0]       s2_crc_q;

  logic [DATA_W-1:0] piece;
  always_comb begin
    piece = '0;
    for (int a = 0; a < KEEP_W; a++) begin
      if (i_da == LW'(a)) piece = i_data >> (8 * a);
    end
  end

  always_ff @(posedge clk) begin
    if (rst) begin
      s2_valid_q  <= 1'b0;
      s2_crc_we_q <= 1'b0;
    end else if (adv) begin
      s2_valid_q  <= i_valid;
      s2_crc_we_q <= i_crc_we;
    end
  end

  always_ff @(posedge clk) begin
    if (adv) begin
      s2_data_q  <= i_data;
      s2_piece_q <= piece;
      s2_keep_q  <= i_keep;
      s2_last_q  <= i_last;
      s2_trk_q   <= i_trk;
      s2_init_q  <= i_init;
      s2_ctx_q   <= i_ctx;
      s2_dn_q    <= i_dn;
      s2_ga_q    <= i_ga;
      s2_gn_q    <= i_gn;
      s2_gi_q    <= i_gi;
      s2_gpre_q  <= i_gpre;
      s2_crc_q   <= i_crc;
    end
  end

  // S3
  logic              ctx_ok;
  logic [31:0]       crc_q, crc_base, crc_after, digest;
  logic [DATA_W-1:0] filled;

  assign ctx_ok   = 32'(s2_ctx_q) < N_CTX;
  assign crc_q    = crc_mem[ctx_ok ? s2_ctx_q : '0];
  assign crc_base = s2_init_q ? CRC_INIT : crc_q;
  // A digest before the next PDU's data start in the same beat (wide buses) is of the register before it.
  assign digest   = s2_gpre_q ? ~crc_q : ~crc_after;

  ddp_crc32c_core #(
    .DATA_W (DATA_W)
  ) core (
    .clk     (clk),
    .crc_in  (crc_base),
    .data    (s2_piece_q),
    .count   (s2_dn_q),
    .crc_out (crc_after)
  );

  always_comb begin
    logic [1:0] k;
    filled = s2_data_q;
    for (int l = 0; l < KEEP_W; l++) begin
      k = 2'(32'(s2_gi_q) + 32'(l) - 32'(s2_ga_q));
      if (s2_trk_q && LW'(l) >= s2_ga_q && 32'(l) < 32'(s2_ga_q) + 32'(s2_gn_q)) filled[8*l +: 8] = digest[8*k +: 8];
    end
  end

  always_ff @(posedge clk) begin
    if (adv && ctx_ok && s2_crc_we_q) crc_mem[s2_ctx_q] <= ~s2_crc_q;
    else if (adv && ctx_ok && s2_valid_q && s2_trk_q) crc_mem[s2_ctx_q] <= crc_after;
  end

  // S3's register is the skid buffer of ddp_tx: adv is its registered ready.
  assign o_valid = s2_valid_q;
  assign o_data  = filled;
  assign o_keep  = s2_keep_q;
  assign o_last  = s2_last_q;

endmodule
