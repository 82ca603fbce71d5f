// ddp_tx_track: first stage of ddp_tx. Follows the NVMe/TCP PDU framing of each offloaded socket's transmit
// byte stream and gives every beat its lanes' roles; applies the context commands (docs/tx-contract.md).
//
// A PDU of the stream is cut into regions; `rem` counts the bytes left in the current one:
//   HDR   8-byte common header (type, flags, hlen, pdo, plen LE), assembled in `hdr` across beats and frames
//   SKIP  the rest of the header, HDGST, PAD (digest PDU: up to pdo) or all of a PDU without digest (to plen)
//   DATA  [pdo, plen - 4): CRC'd by ddp_tx_digest
//   DGST  [plen - 4, plen): written by ddp_tx_digest
//   LOST  a header failed its check: nothing is touched until RESYNC / ADD
// Per beat a chain of SEGS steps walks the payload lanes [ps, pe), one region piece per step. Every region
// length that can end inside the chain comes from a register or a constant, except a header's, whose decode
// only starts a SKIP (at least 16 bytes). At DATA_W 64 a beat holds at most 4 pieces (e.g. the end of a SKIP,
// 1 data byte, the digest, a header start) and one DATA and one DGST piece at most.
//
// Context state (CTX_STATE_W bits per context) sits in an async-read table read and written at every beat of a
// tracked frame, so the next frame of the same context can follow at once. Outputs are registered (stage S1).
//
// Parameters: DATA_W, KEEP_W (derived), N_CTX contexts, CTX_W (derived), SEGS pieces per beat (derived).
// Ports: adv advances the pipeline; beat_* a beat that transfers this cycle (with the FRAME descriptor's fields
// on its first beat); cmd_* a context command that transfers this cycle; o_* the beat and its roles at S1;
// st_* one-cycle statistics pulses (with the transfer).

module ddp_tx_track #(
  // tdata width in bits, a multiple of 8
  parameter int DATA_W = 64,
  // bytes per beat
  parameter int KEEP_W = DATA_W / 8,
  // TX contexts
  parameter int N_CTX = 64,
  // context index width
  parameter int CTX_W = N_CTX > 1 ? $clog2(N_CTX) : 1,
  // region pieces per beat: 4 suffice at 8 lanes; wider beats may hold several PDUs
  parameter int SEGS = KEEP_W <= 8 ? 4 : KEEP_W / 4 + 4,
  // lane / byte count width (0 .. KEEP_W)
  parameter int LW = $clog2(KEEP_W + 1)
) (
  input  logic              clk,
  input  logic              rst,
  input  logic              adv,

  input  logic              beat_fire,
  input  logic              beat_first,
  input  logic [DATA_W-1:0] beat_data,
  input  logic [KEEP_W-1:0] beat_keep,
  input  logic              beat_last,
  input  logic [CTX_W-1:0]  beat_ctx,      // first beat only: the descriptor's fields
  input  logic              beat_offload,
  input  logic [15:0]       beat_hlen,
  input  logic [31:0]       beat_seq,

  input  logic              cmd_fire,
  input  logic [1:0]        cmd_kind,
  input  logic [CTX_W-1:0]  cmd_ctx,
  input  logic [31:0]       cmd_seq,
  input  logic [2:0]        cmd_region,
  input  logic [31:0]       cmd_rem,
  input  logic              cmd_dg,
  input  logic [31:0]       cmd_dlen,
  input  logic [31:0]       cmd_crc,
  input  logic [63:0]       cmd_hdr,

  output logic              o_valid,       // a beat
  output logic [DATA_W-1:0] o_data,
  output logic [KEEP_W-1:0] o_keep,
  output logic              o_last,
  output logic              o_trk,         // the beat's frame is tracked
  output logic [CTX_W-1:0]  o_ctx,
  output logic [LW-1:0]     o_da,          // data piece: lanes [da, da + dn)
  output logic [LW-1:0]     o_dn,
  output logic              o_init,        // a PDU's data starts in this beat (before its data piece)
  output logic [LW-1:0]     o_ga,          // digest piece: lanes [ga, ga + gn) carry digest bytes gi, gi + 1, ..
  output logic [LW-1:0]     o_gn,
  output logic [1:0]        o_gi,
  output logic              o_gpre,        // the digest piece precedes o_init: it is of the register before it
  output logic              o_crc_we,      // RESYNC: the context's CRC value becomes o_crc
  output logic [31:0]       o_crc,

  output logic              st_packet,
  output logic [LW-1:0]     st_bytes,
  output logic              st_ddgst,
  output logic              st_ooo,
  output logic              st_resync,
  output logic              st_bad_hdr
);

  localparam logic [1:0] K_ADD = 2'd1, K_DEL = 2'd2, K_RESYNC = 2'd3;
  localparam logic [2:0] R_HDR = 3'd0, R_SKIP = 3'd1, R_DATA = 3'd2, R_DGST = 3'd3, R_LOST = 3'd4;

  typedef struct packed {
    logic [2:0]  region;
    logic [31:0] rem;
    logic [31:0] seq;
    logic        dg;
    logic [31:0] dlen;
    logic [63:0] hdr;
  } ctx_state_t;

  ctx_state_t        mem [N_CTX];
  logic [N_CTX-1:0]  live_q;  // added and not deleted

  // Frame registers (the descriptor's fields after the first beat).
  logic              in_frame_q;
  logic [15:0]       off_q;   // frame offset of the next beat's lane 0
  logic [CTX_W-1:0]  ctx_q;
  logic [15:0]       hlen_q;
  logic              trk_q;

  logic [CTX_W-1:0]  ctx;
  logic [15:0]       hlen, off;
  logic              ctx_ok, live, trk, in_seq;
  ctx_state_t        rd, wr;
  logic [LW-1:0]     pe, ps;

  // Chain results.
  logic [LW-1:0]     da, dn, ga, gn;
  logic [1:0]        gi;
  logic              init, gpre, ddgst, bad, multi, short_segs;

  assign ctx    = beat_first ? beat_ctx : ctx_q;
  assign hlen   = beat_first ? beat_hlen : hlen_q;
  assign off    = beat_first ? 16'd0 : off_q;
  assign ctx_ok = 32'(ctx) < N_CTX;
  assign rd     = mem[ctx_ok ? ctx : '0];
  assign live   = ctx_ok && live_q[ctx_ok ? ctx : '0];
  assign in_seq = beat_seq == rd.seq;
  assign trk    = beat_first ? beat_offload && live && rd.region != R_LOST && in_seq : trk_q;

  // Payload lanes of the beat: [ps, pe), pe = bytes in the beat (tkeep contiguous from lane 0).
  always_comb begin
    logic [KEEP_W:0] keep_ext;
    keep_ext = {1'b0, beat_keep};
    pe = '0;
    for (int i = 0; i < KEEP_W; i++) pe = pe | (LW'(i + 1) & {LW{keep_ext[i] && !keep_ext[i+1]}});
    if (hlen <= off) ps = '0;
    else if (hlen - off >= 16'(KEEP_W)) ps = LW'(KEEP_W);
    else ps = LW'(hlen - off);
    if (ps > pe) ps = pe;
  end

  always_comb begin
    logic [2:0]  region;
    logic [31:0] rem;
    logic [LW-1:0] c, avail, take;
    logic        ends, have_d, have_g;
    logic [7:0]  hb [8];
    logic [31:0] plen;
    logic [7:0]  pdo;

    region = rd.region;
    rem    = rd.rem;
    wr     = rd;
    for (int b = 0; b < 8; b++) hb[b] = rd.hdr[8*b +: 8];
    c = ps;
    {da, dn, ga, gn, gi} = '0;
    {init, gpre, ddgst, bad, multi, have_d, have_g} = '0;
    plen = '0;
    pdo  = '0;
    for (int s = 0; s < SEGS; s++) begin
      avail = pe - c;
      ends  = 1'b0;
      take  = '0;
      if (avail != '0) begin
        ends = region != R_LOST && rem <= 32'(avail);
        take = ends ? LW'(rem) : avail;
        unique case (region)
          R_HDR: begin
            // header byte b is lane c + b - (8 - rem)
            for (int b = 0; b < 8; b++) begin
              for (int l = 0; l < KEEP_W; l++) begin
                if (32'(b) >= 32'd8 - rem && 32'(b) < 32'd8 - rem + 32'(take) && 32'(l) == 32'(c) + 32'(b) + rem - 32'd8)
                  hb[b] = beat_data[8*l +: 8];
              end
            end
          end
          R_DATA: begin
            multi = multi | have_d;
            have_d = 1'b1;
            da = c;
            dn = take;
          end
          R_DGST: begin
            multi = multi | have_g;
            have_g = 1'b1;
            ga = c;
            gn = take;
            gi = 2'(3'd4 - 3'(rem));
          end
          default: ;
        endcase
        if (ends) begin
          unique case (region)
            R_HDR: begin
              pdo  = hb[3];
              plen = {hb[7], hb[6], hb[5], hb[4]};
              wr.dg   = hb[1][1];
              wr.dlen = plen - 32'(pdo) - 32'd4;
              if (plen < 32'd24 || (hb[1][1] && (pdo < 8'd24 || plen < 32'(pdo) + 32'd4))) begin
                bad = 1'b1;
                region = R_LOST;
              end else begin
                region = R_SKIP;
                rem = hb[1][1] ? 32'(pdo) - 32'd8 : plen - 32'd8;
              end
            end
            R_SKIP: begin
              if (wr.dg) begin
                // a new PDU's data: its CRC starts here; a digest before it is of the old register, a data piece
                // before it would need a second CRC
                multi = multi | have_d;
                gpre = have_g;
                init = 1'b1;
                region = wr.dlen == '0 ? R_DGST : R_DATA;
                rem = wr.dlen == '0 ? 32'd4 : wr.dlen;
              end else begin
                region = R_HDR;
                rem = 32'd8;
              end
            end
            R_DATA: begin
              region = R_DGST;
              rem = 32'd4;
            end
            default: begin  // R_DGST
              ddgst = 1'b1;
              region = R_HDR;
              rem = 32'd8;
            end
          endcase
        end else begin
          rem = rem - 32'(avail);
        end
        c = c + take;
      end
    end
    short_segs = c != pe;
    wr.region = region;
    wr.rem    = rem;
    for (int b = 0; b < 8; b++) wr.hdr[8*b +: 8] = hb[b];
    wr.seq    = rd.seq + 32'(LW'(pe - ps));
  end

  // A RESYNC that names an impossible position (a header byte past 8, a digest byte past 4) makes the context LOST.
  function automatic logic [2:0] resync_region(input logic [2:0] region, input logic [31:0] rem);
    if (region == R_HDR && rem > 32'd8) resync_region = R_LOST;
    else if (region == R_DGST && rem > 32'd4) resync_region = R_LOST;
    else if (region > R_LOST) resync_region = R_LOST;
    else resync_region = region;
  endfunction

  logic cmd_ok;
  assign cmd_ok = 32'(cmd_ctx) < N_CTX;

  // One write port: a beat of a tracked frame, or a command (never both: commands come between frames).
  logic             mem_we;
  logic [CTX_W-1:0] mem_wa;
  ctx_state_t       mem_wd;
  always_comb begin
    mem_we = beat_fire && trk;
    mem_wa = ctx;
    mem_wd = wr;
    if (cmd_fire && cmd_ok && (cmd_kind == K_ADD || (cmd_kind == K_RESYNC && live_q[cmd_ctx]))) begin
      mem_we = 1'b1;
      mem_wa = cmd_ctx;
      mem_wd = cmd_kind == K_ADD
        ? {R_HDR, 32'd8, cmd_seq, 1'b0, 32'd0, 64'd0}
        : {resync_region(cmd_region, cmd_rem), cmd_rem, cmd_seq, cmd_dg, cmd_dlen, cmd_hdr};
    end
  end

  always_ff @(posedge clk) begin
    if (mem_we) mem[mem_wa] <= mem_wd;
  end

  always_ff @(posedge clk) begin
    if (rst) begin
      live_q     <= '0;
      in_frame_q <= 1'b0;
      o_valid    <= 1'b0;
      o_crc_we   <= 1'b0;
    end else if (adv) begin
      if (cmd_fire && cmd_ok && cmd_kind == K_ADD) live_q[cmd_ctx] <= 1'b1;
      if (cmd_fire && cmd_ok && cmd_kind == K_DEL) live_q[cmd_ctx] <= 1'b0;
      if (beat_fire) in_frame_q <= !beat_last;
      o_valid  <= beat_fire;
      o_crc_we <= cmd_fire && cmd_ok && cmd_kind == K_RESYNC && live_q[cmd_ctx];
    end
  end

  always_ff @(posedge clk) begin
    if (adv) begin
      if (beat_fire) begin
        off_q  <= off + 16'(KEEP_W);
        ctx_q  <= ctx;
        hlen_q <= hlen;
        trk_q  <= trk;
      end
      o_data <= beat_data;
      o_keep <= beat_keep;
      o_last <= beat_last;
      o_trk  <= trk;
      o_ctx  <= cmd_fire ? cmd_ctx : ctx;
      o_da   <= da;
      o_dn   <= trk ? dn : '0;
      o_init <= trk && init;
      o_ga   <= ga;
      o_gn   <= trk ? gn : '0;
      o_gi   <= gi;
      o_gpre <= gpre;
      o_crc  <= cmd_crc;
    end
  end

  assign st_packet  = beat_fire && beat_first && trk;
  assign st_bytes   = beat_fire && trk ? pe - ps : '0;
  assign st_ddgst   = beat_fire && trk && ddgst;
  assign st_ooo     = beat_fire && beat_first && beat_offload && live && rd.region != R_LOST && !in_seq;
  assign st_resync  = cmd_fire && cmd_ok && cmd_kind == K_RESYNC && live_q[cmd_ctx];
  assign st_bad_hdr = beat_fire && trk && bad;

`ifndef SYNTHESIS
  // The chain must cover every payload lane, with at most one data and one digest piece per beat (contract 5).
  one_piece_per_beat: assert property (@(posedge clk) disable iff (rst) beat_fire && trk |-> !multi && !short_segs)
    else $error("beat needs more than one data / digest piece or more than SEGS pieces");
  frame_starts_with_first: assert property (@(posedge clk) disable iff (rst) beat_fire |-> beat_first == !in_frame_q)
    else $error("beat_first does not match the frame boundary");
`endif

endmodule
