// ddp_place: tag lookup, data digest, placement, ring mask, DMA requests and CQEs (contract sections 3-6).
//
// Takes ddp_tracker's per-beat output (S1) and adds these stages, all advancing together on `adv`:
//   L1-L3  the tag table's lookup of (ctx, cid) for a header that passed (ddp_tag_table's 3 advances); the
//          beat waits beside it.
//   S2  per-context PDU state (N_CTX entries: running CRC, crc_valid, place decision, the entry's slot and
//       generation, its page offset, cid, datao), read and written every beat like the tracker's. A header
//       that passed this beat starts a new PDU: CRC = 0xFFFFFFFF, crc_valid = 1, and for a C2HData the lookup
//       decides once whether its data is placed: nvme-tcp cap active, (ctx, cid) found, datao + datal <= total
//       length. With s_gap in the same beat (a first beat, no data) it is a resync confirm resuming inside the
//       PDU (contract section 7): the same decision, but crc_valid = 0.
//       The beat's data lanes [d_lo, d_lo + d_cnt) are shifted to lane 0 and fed to the CRC32C core with a
//       byte count; a digest completing in this beat is compared with the CRC after this beat's data.
//       Frame accumulation of crc_ok (rule 6). A beat to place asks the tag table where its bytes go (resolve).
//   R1-R3  the resolve (its 3 advances): the page addresses, and whether the entry is still the one the header
//          found (a teardown or context delete since makes every later beat of the PDU unplaced).
//   S3  segment slots (at most MAX_SEGS per frame; a PDU's data in one frame is one segment), ring tkeep mask,
//       DMA request, CQE at the frame's last beat.
//   OUT the output registers m_axis_rx_*, m_dma_*, m_cqe_* (each with a `sent` flag: an output taken while
//       another output stalls the pipeline is not offered twice).
//
// adv_ok = every output register can be replaced this cycle; ddp_top ANDs it with the event FIFO's room.
// Placed bytes keep their lanes on the ring with tkeep 0 (never compacted): the ring frame keeps its length
// and byte positions. DMA data is compacted to lane 0: the first len0 bytes go to addr0, the next len1 to addr1.
//
// Parameters:
//   DATA_W, KEEP_W   bus width (64 only), bytes per beat
//   N_CTX            contexts
//   SLOT_W, PO_W     tag slot id and page offset widths (ddp_tag_table's)
//   MAX_SEGS         CQE segments per frame (1 .. 4: the CQE has four segment slots)
//   CTX_W            context index width (derived)
// Ports: s_* from ddp_tracker (same names as its m_*); caps; lk_* / rs_* to ddp_tag_table; the outputs;
//   stat_* increments (valid at the cycle the pipeline advances: gated with adv here).

`include "ddp_pkg.sv"

module ddp_place #(
  // tdata width in bits (64 only)
  parameter int DATA_W = 64,
  // bytes per beat
  parameter int KEEP_W = DATA_W / 8,
  // number of contexts
  parameter int N_CTX = 8,
  // tag slot id width
  parameter int SLOT_W = 14,
  // offset within an SGL page
  parameter int PO_W = 12,
  // segments per CQE (1 .. 4)
  parameter int MAX_SEGS = 4,
  // context index width
  parameter int CTX_W = (N_CTX > 1) ? $clog2(N_CTX) : 1
) (
  input  logic              clk,
  input  logic              rst,
  input  logic              adv,
  output logic              adv_ok,
  input  logic [1:0]        caps,

  input  logic              s_valid,
  input  logic [DATA_W-1:0] s_data,
  input  logic [KEEP_W-1:0] s_keep,
  input  logic              s_last,
  input  logic              s_sof,
  input  logic [12:0]       s_beat,
  input  logic              s_hit,
  input  logic [CTX_W-1:0]  s_ctx,
  input  logic              s_crc_base,
  input  logic              s_crc_kill,
  input  logic              s_gap,
  input  logic              s_hdr_done,
  input  logic              s_hdr_c2h,
  input  logic [15:0]       s_hdr_cid,
  input  logic [31:0]       s_hdr_datao,
  input  logic [31:0]       s_hdr_datal,
  input  logic              s_d_valid,
  input  logic [3:0]        s_d_lo,
  input  logic [3:0]        s_d_cnt,
  input  logic [31:0]       s_d_koff,
  input  logic              s_d_cont,
  input  logic              s_g_present,
  input  logic              s_g_done,
  input  logic [31:0]       s_g_value,
  input  logic              s_rr,        // a RESYNC_REQUEST was raised at this beat (contract section 7)
  input  logic [31:0]       s_rr_seq,

  output logic              lk_valid,
  output logic [15:0]       lk_ctx,
  output logic [15:0]       lk_cid,
  input  logic              lk_hit,
  input  logic [SLOT_W-1:0] lk_slot,
  input  logic [7:0]        lk_gen,
  input  logic [31:0]       lk_total,
  input  logic [PO_W-1:0]   lk_pg_off,
  output logic              rs_valid,
  output logic [SLOT_W-1:0] rs_slot,
  output logic [7:0]        rs_gen,
  output logic [15:0]       rs_ctx,
  output logic [15:0]       rs_cid,
  output logic [31:0]       rs_pos,
  output logic [3:0]        rs_cnt,
  input  logic              rs_ok,
  input  logic [63:0]       rs_addr0,
  input  logic [3:0]        rs_len0,
  input  logic [63:0]       rs_addr1,
  input  logic [3:0]        rs_len1,

  output logic [DATA_W-1:0] m_axis_rx_tdata,
  output logic [KEEP_W-1:0] m_axis_rx_tkeep,
  output logic              m_axis_rx_tvalid,
  input  logic              m_axis_rx_tready,
  output logic              m_axis_rx_tlast,

  output logic              m_dma_valid,
  input  logic              m_dma_ready,
  output logic [63:0]       m_dma_addr0,
  output logic [3:0]        m_dma_len0,
  output logic [63:0]       m_dma_addr1,
  output logic [3:0]        m_dma_len1,
  output logic [DATA_W-1:0] m_dma_data,

  output logic              m_cqe_valid,
  input  logic              m_cqe_ready,
  output logic              m_cqe_hit,
  output logic [7:0]        m_cqe_ctx,
  output logic              m_cqe_crc_ok,
  output logic [2:0]        m_cqe_nseg,
  output logic [15:0]       m_cqe_seg0_cid,
  output logic [31:0]       m_cqe_seg0_buf_off,
  output logic [15:0]       m_cqe_seg0_frame_off,
  output logic [15:0]       m_cqe_seg0_len,
  output logic [15:0]       m_cqe_seg1_cid,
  output logic [31:0]       m_cqe_seg1_buf_off,
  output logic [15:0]       m_cqe_seg1_frame_off,
  output logic [15:0]       m_cqe_seg1_len,
  output logic [15:0]       m_cqe_seg2_cid,
  output logic [31:0]       m_cqe_seg2_buf_off,
  output logic [15:0]       m_cqe_seg2_frame_off,
  output logic [15:0]       m_cqe_seg2_len,
  output logic [15:0]       m_cqe_seg3_cid,
  output logic [31:0]       m_cqe_seg3_buf_off,
  output logic [15:0]       m_cqe_seg3_frame_off,
  output logic [15:0]       m_cqe_seg3_len,
  output logic              m_cqe_resync,
  output logic [31:0]       m_cqe_resync_seq,

  output logic              stat_packet,    // a frame with placed bytes or crc_ok left
  output logic [3:0]        stat_bytes,     // bytes placed
  output logic              stat_crc_ok,    // a digest matched (PDU with crc_valid)
  output logic              stat_crc_bad    // a digest did not match (PDU with crc_valid)
);

  localparam logic [31:0] CRC_INIT = 32'hFFFFFFFF;
  localparam int          SEG_W    = 16 + 32 + 16 + 16;   // {cid, buf_off, frame_off, len}

  // ---------------------------------------------------------------------------------------------------------
  // L1-L3: the beat waits for its header's lookup.

  typedef struct packed {
    logic              valid;
    logic [DATA_W-1:0] data;
    logic [KEEP_W-1:0] keep;
    logic              last, sof;
    logic [12:0]       beat;
    logic              hit;
    logic [CTX_W-1:0]  ctx;
    logic              crc_base, crc_kill, gap, hdr_done, hdr_c2h;
    logic [15:0]       hdr_cid;
    logic [31:0]       hdr_datao, hdr_datal;
    logic              d_valid;
    logic [3:0]        d_lo, d_cnt;
    logic [31:0]       d_koff;
    logic              d_cont, g_present, g_done;
    logic [31:0]       g_value;
    logic              rr;
    logic [31:0]       rr_seq;
  } beat_t;

  // L1-L3 as three named registers: Yosys 0.55 loses unpacked arrays of structs.
  beat_t l1_q, l2_q, l3_q;
  beat_t b;     // the beat in S2

  assign lk_valid = s_valid && s_hit && s_hdr_done && s_hdr_c2h;
  assign lk_ctx   = 16'(s_ctx);
  assign lk_cid   = s_hdr_cid;

  // Member by member (Yosys reads no named assignment patterns).
  beat_t s_in;
  always_comb begin
    s_in.valid     = s_valid;
    s_in.data      = s_data;
    s_in.keep      = s_keep;
    s_in.last      = s_last;
    s_in.sof       = s_sof;
    s_in.beat      = s_beat;
    s_in.hit       = s_hit;
    s_in.ctx       = s_ctx;
    s_in.crc_base  = s_crc_base;
    s_in.crc_kill  = s_crc_kill;
    s_in.gap       = s_gap;
    s_in.hdr_done  = s_hdr_done;
    s_in.hdr_c2h   = s_hdr_c2h;
    s_in.hdr_cid   = s_hdr_cid;
    s_in.hdr_datao = s_hdr_datao;
    s_in.hdr_datal = s_hdr_datal;
    s_in.d_valid   = s_d_valid;
    s_in.d_lo      = s_d_lo;
    s_in.d_cnt     = s_d_cnt;
    s_in.d_koff    = s_d_koff;
    s_in.d_cont    = s_d_cont;
    s_in.g_present = s_g_present;
    s_in.g_done    = s_g_done;
    s_in.g_value   = s_g_value;
    s_in.rr        = s_rr;
    s_in.rr_seq    = s_rr_seq;
  end

  always_ff @(posedge clk) begin
    if (adv) begin
      l1_q <= s_in;
      l2_q <= l1_q;
      l3_q <= l2_q;
    end
    if (rst) begin
      l1_q.valid <= 1'b0;
      l2_q.valid <= 1'b0;
      l3_q.valid <= 1'b0;
    end
  end

  assign b = l3_q;

  // ---------------------------------------------------------------------------------------------------------
  // S2: per-context PDU state.

  logic [31:0]       p_crc    [N_CTX];
  logic              p_crcv   [N_CTX];
  logic              p_place  [N_CTX];
  logic [SLOT_W-1:0] p_slot   [N_CTX];
  logic [7:0]        p_gen    [N_CTX];
  logic [PO_W-1:0]   p_pg_off [N_CTX];
  logic [15:0]       p_cid    [N_CTX];
  logic [31:0]       p_datao  [N_CTX];

  logic              live2;
  logic [31:0]       e_crc_in, e_crc_out;
  logic              e_crcv, e_place;
  logic [SLOT_W-1:0] e_slot;
  logic [7:0]        e_gen;
  logic [PO_W-1:0]   e_pg_off;
  logic [15:0]       e_cid;
  logic [31:0]       e_datao;
  logic [DATA_W-1:0] e_shift;
  logic [3:0]        e_cnt;
  logic              e_match, place_now;
  logic [32:0]       e_end;
  logic              fr_crc_q, fr_crc;   // crc_ok of the frame so far

  always_comb begin
    live2 = b.valid && b.hit;
    e_end = {1'b0, b.hdr_datao} + {1'b0, b.hdr_datal};
    if (b.hdr_done) begin
      e_crc_in = CRC_INIT;
      e_crcv   = !b.gap;   // with a gap: a resync resume inside the PDU (its earlier bytes were never checked)
      e_place  = b.hdr_c2h && caps[ddp_pkg::CAP_NVME_TCP] && lk_hit && e_end <= {1'b0, lk_total};
      e_slot   = lk_slot;
      e_gen    = lk_gen;
      e_pg_off = lk_pg_off;
      e_cid    = b.hdr_cid;
      e_datao  = b.hdr_datao;
    end else begin
      e_crc_in = p_crc[b.ctx];
      e_crcv   = p_crcv[b.ctx] && !b.gap;
      e_place  = p_place[b.ctx];
      e_slot   = p_slot[b.ctx];
      e_gen    = p_gen[b.ctx];
      e_pg_off = p_pg_off[b.ctx];
      e_cid    = p_cid[b.ctx];
      e_datao  = p_datao[b.ctx];
    end
    e_shift   = b.data >> {b.d_lo[2:0], 3'b000};
    e_cnt     = b.d_valid ? b.d_cnt : 4'd0;
    e_match   = ~e_crc_out == b.g_value;
    place_now = live2 && b.d_valid && e_place && caps[ddp_pkg::CAP_NVME_TCP];
    fr_crc    = (b.sof ? b.crc_base : fr_crc_q)
                && !((b.d_valid || b.g_present) && !e_crcv)
                && !(b.g_done && !e_match)
                && !b.crc_kill;
  end

  ddp_crc32c_core #(.DATA_W(DATA_W)) u_crc (
    .clk     (clk),
    .crc_in  (e_crc_in),
    .data    (e_shift),
    .count   (e_cnt),
    .crc_out (e_crc_out)
  );

  always_ff @(posedge clk) begin
    if (adv && live2) begin
      p_crc[b.ctx]    <= e_crc_out;
      p_crcv[b.ctx]   <= e_crcv;
      p_place[b.ctx]  <= e_place;
      p_slot[b.ctx]   <= e_slot;
      p_gen[b.ctx]    <= e_gen;
      p_pg_off[b.ctx] <= e_pg_off;
      p_cid[b.ctx]    <= e_cid;
      p_datao[b.ctx]  <= e_datao;
    end
  end

  // The resolve of a beat to place: where buffer offset datao + koff (from the first entry's page offset) goes.
  assign rs_valid = place_now;
  assign rs_slot  = e_slot;
  assign rs_gen   = e_gen;
  assign rs_ctx   = 16'(b.ctx);
  assign rs_cid   = e_cid;
  assign rs_pos   = 32'(e_pg_off) + e_datao + b.d_koff;
  assign rs_cnt   = b.d_cnt;

  // ---------------------------------------------------------------------------------------------------------
  // R1-R3: the beat waits for its resolve.

  typedef struct packed {
    logic              valid, last, sof, hit, place, cont, crc, crc_ok, crc_bad, rr;
    logic [DATA_W-1:0] data, shift;
    logic [KEEP_W-1:0] keep;
    logic [12:0]       beat;
    logic [CTX_W-1:0]  ctx;
    logic [3:0]        lo, cnt;
    logic [31:0]       off;
    logic [15:0]       cid;
    logic [31:0]       rr_seq;
  } placed_t;

  placed_t r1_q, r2_q, r3_q;   // R1-R3, named like L1-L3
  placed_t t;    // the beat in S3

  placed_t b_out;   // what S2 hands the resolve stages
  always_comb begin
    b_out.valid   = b.valid;
    b_out.last    = b.last;
    b_out.sof     = b.sof;
    b_out.hit     = b.hit;
    b_out.place   = place_now;
    b_out.cont    = b.d_cont;
    b_out.crc     = fr_crc && caps[ddp_pkg::CAP_DDGST_RX];
    b_out.crc_ok  = live2 && b.g_done && e_crcv && e_match;
    b_out.crc_bad = live2 && b.g_done && e_crcv && !e_match;
    b_out.rr      = b.rr;
    b_out.data    = b.data;
    b_out.shift   = e_shift;
    b_out.keep    = b.keep;
    b_out.beat    = b.beat;
    b_out.ctx     = b.ctx;
    b_out.lo      = b.d_lo;
    b_out.cnt     = b.d_cnt;
    b_out.off     = e_datao + b.d_koff;
    b_out.cid     = e_cid;
    b_out.rr_seq  = b.rr_seq;
  end

  always_ff @(posedge clk) begin
    if (adv) begin
      if (b.valid) fr_crc_q <= fr_crc;
      r1_q <= b_out;
      r2_q <= r1_q;
      r3_q <= r2_q;
    end
    if (rst) begin
      r1_q.valid <= 1'b0;
      r2_q.valid <= 1'b0;
      r3_q.valid <= 1'b0;
    end
  end

  assign t = r3_q;

  // ---------------------------------------------------------------------------------------------------------
  // S3: segments, ring mask. A beat is placed only if the entry was still the header's when its slot was read.

  logic [2:0]        nseg_q, nseg;
  logic              open_q, open;
  logic [SEG_W-1:0]  seg_q [4];
  logic [SEG_W-1:0]  seg   [4];
  logic              placed;
  logic [KEEP_W-1:0] pmask;
  logic [15:0]       frame_off;
  logic              rr_q, rr;            // the frame raised a RESYNC_REQUEST (the last one's seq)
  logic [31:0]       rr_seq_q, rr_seq;

  always_comb begin
    nseg   = t.sof ? 3'd0 : nseg_q;
    open   = t.sof ? 1'b0 : open_q;
    for (int i = 0; i < 4; i++) seg[i] = t.sof ? '0 : seg_q[i];
    rr     = t.sof ? 1'b0 : rr_q;
    rr_seq = t.sof ? 32'd0 : rr_seq_q;
    if (t.valid && t.rr) begin
      rr     = 1'b1;
      rr_seq = t.rr_seq;
    end
    placed    = 1'b0;
    frame_off = {t.beat, 3'b000} + {12'd0, t.lo};
    if (t.valid && t.place && rs_ok) begin
      if (t.cont && open) begin
        placed = 1'b1;
        for (int i = 0; i < 4; i++) begin
          if (3'(i + 1) == nseg) seg[i][15:0] = seg[i][15:0] + {12'd0, t.cnt};
        end
      end else if (nseg < 3'(MAX_SEGS)) begin
        placed = 1'b1;
        for (int i = 0; i < 4; i++) begin
          if (3'(i) == nseg) seg[i] = {t.cid, t.off, frame_off, {12'd0, t.cnt}};
        end
        nseg = nseg + 1'b1;
      end
    end
    open = placed;
    for (int i = 0; i < KEEP_W; i++) pmask[i] = placed && 4'(i) >= t.lo && 4'(i) < t.lo + t.cnt;
  end

  always_ff @(posedge clk) begin
    if (adv && t.valid) begin
      nseg_q   <= nseg;
      open_q   <= open;
      rr_q     <= rr;
      rr_seq_q <= rr_seq;
      for (int i = 0; i < 4; i++) seg_q[i] <= seg[i];
    end
  end

  // ---------------------------------------------------------------------------------------------------------
  // OUT: output registers.

  logic rx_v_q, rx_sent_q, dma_v_q, dma_sent_q, cqe_v_q, cqe_sent_q;

  assign adv_ok = (!rx_v_q || rx_sent_q || m_axis_rx_tready)
               && (!dma_v_q || dma_sent_q || m_dma_ready)
               && (!cqe_v_q || cqe_sent_q || m_cqe_ready);

  assign m_axis_rx_tvalid = rx_v_q && !rx_sent_q;
  assign m_dma_valid      = dma_v_q && !dma_sent_q;
  assign m_cqe_valid      = cqe_v_q && !cqe_sent_q;

  always_ff @(posedge clk) begin
    if (adv) begin
      m_axis_rx_tdata <= t.data;
      m_axis_rx_tkeep <= t.keep & ~pmask;
      m_axis_rx_tlast <= t.last;
      m_dma_addr0     <= rs_addr0;
      m_dma_len0      <= rs_len0;
      m_dma_addr1     <= rs_addr1;
      m_dma_len1      <= rs_len1;
      m_dma_data      <= t.shift;
      m_cqe_hit       <= t.hit;
      m_cqe_ctx       <= 8'(t.ctx);
      m_cqe_crc_ok    <= t.crc;
      m_cqe_nseg      <= nseg;
      {m_cqe_seg0_cid, m_cqe_seg0_buf_off, m_cqe_seg0_frame_off, m_cqe_seg0_len} <= seg[0];
      {m_cqe_seg1_cid, m_cqe_seg1_buf_off, m_cqe_seg1_frame_off, m_cqe_seg1_len} <= seg[1];
      {m_cqe_seg2_cid, m_cqe_seg2_buf_off, m_cqe_seg2_frame_off, m_cqe_seg2_len} <= seg[2];
      {m_cqe_seg3_cid, m_cqe_seg3_buf_off, m_cqe_seg3_frame_off, m_cqe_seg3_len} <= seg[3];
      m_cqe_resync     <= rr;
      m_cqe_resync_seq <= rr_seq;
    end
  end

  always_ff @(posedge clk) begin
    if (rst) begin
      rx_v_q     <= 1'b0;
      rx_sent_q  <= 1'b0;
      dma_v_q    <= 1'b0;
      dma_sent_q <= 1'b0;
      cqe_v_q    <= 1'b0;
      cqe_sent_q <= 1'b0;
    end else if (adv) begin
      rx_v_q     <= t.valid;
      dma_v_q    <= t.valid && placed;
      cqe_v_q    <= t.valid && t.last;
      rx_sent_q  <= 1'b0;
      dma_sent_q <= 1'b0;
      cqe_sent_q <= 1'b0;
    end else begin
      if (m_axis_rx_tvalid && m_axis_rx_tready) rx_sent_q  <= 1'b1;
      if (m_dma_valid && m_dma_ready)           dma_sent_q <= 1'b1;
      if (m_cqe_valid && m_cqe_ready)           cqe_sent_q <= 1'b1;
    end
  end

  // Statistics, counted when the beat moves into the output registers.
  always_comb begin
    stat_packet  = adv && t.valid && t.last && (nseg != 3'd0 || t.crc);
    stat_bytes   = (adv && placed) ? t.cnt : 4'd0;
    stat_crc_ok  = adv && t.valid && t.crc_ok;
    stat_crc_bad = adv && t.valid && t.crc_bad;
  end

`ifndef SYNTHESIS
  // Security: a DMA write only for a beat whose entry was still the header's when its slot was read (rs_ok), in
  // pieces that add up to the beat's placed bytes (ddp_tag_table checks each piece stays in its page).
  dma_pieces_sum: assert property (@(posedge clk) disable iff (rst) placed |-> rs_len0 + rs_len1 == t.cnt && rs_len0 != 4'd0)
    else $error("ddp_place: DMA pieces do not add up to the placed bytes");
  dma_only_placed: assert property (@(posedge clk) disable iff (rst) m_dma_valid |-> m_dma_len0 != 4'd0)
    else $error("ddp_place: empty DMA request");
`endif

endmodule
