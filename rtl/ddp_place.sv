// ddp_place: tag lookup, data digest, placement, ring mask, DMA requests and CQEs (contract sections 3-6).
//
// Takes ddp_tracker's per-beat output (S1) and adds two stages, all advancing together on `adv`:
//   S2  per-context PDU state (N_CTX entries: running CRC, crc_valid, place decision, tag index, cid, datao),
//       read and written every beat like the tracker's. A header that passed this beat starts a new PDU:
//       CRC = 0xFFFFFFFF, crc_valid = 1, and for a C2HData the tag CAM lookup (combinational) decides once
//       whether its data is placed: nvme-tcp cap active, (ctx, cid) valid, datao + datal <= total length.
//       With s_gap in the same beat (a first beat, no data) it is a resync confirm resuming inside the PDU
//       (contract section 7): the same decision, but crc_valid = 0.
//       The beat's data lanes [d_lo, d_lo + d_cnt) are shifted to lane 0 and fed to the CRC32C core with a
//       byte count; a digest completing in this beat is compared with the CRC after this beat's data. A teardown
//       or context delete (inval) clears the place decision of every PDU that used the entry, at once.
//       Frame accumulation of crc_ok (rule 6).
//   S3  segment slots (at most MAX_SEGS per frame; a PDU's data in one frame is one segment), SGL walk through
//       the CAM's walk port (combinational), ring tkeep mask, DMA request, CQE at the frame's last beat.
//   OUT the output registers m_axis_rx_*, m_dma_*, m_cqe_* (each with a `sent` flag: an output taken while
//       another output stalls the pipeline is not offered twice).
//
// adv_ok = every output register can be replaced this cycle; ddp_top ANDs it with the event FIFO's room.
// Placed bytes keep their lanes on the ring with tkeep 0 (never compacted): the ring frame keeps its length
// and byte positions. DMA data is compacted to lane 0: the first len0 bytes go to addr0, the next len1 to addr1.
//
// Parameters:
//   DATA_W, KEEP_W   bus width (64 only), bytes per beat
//   N_CTX, N_TAGS    contexts, tag entries
//   MAX_SEGS         CQE segments per frame (1 .. 4: the CQE has four segment slots)
//   CTX_W, TAG_W     index widths (derived)
// Ports: s_* from ddp_tracker (same names as its m_*); caps; lk_* / rd_* / inval to ddp_tag_cam; the outputs;
//   stat_* increments (valid at the cycle the pipeline advances: gated with adv here).

`include "ddp_pkg.sv"

module ddp_place #(
  // tdata width in bits (64 only)
  parameter int DATA_W = 64,
  // bytes per beat
  parameter int KEEP_W = DATA_W / 8,
  // number of contexts
  parameter int N_CTX = 8,
  // number of tag entries
  parameter int N_TAGS = 64,
  // segments per CQE (1 .. 4)
  parameter int MAX_SEGS = 4,
  // context index width
  parameter int CTX_W = (N_CTX > 1) ? $clog2(N_CTX) : 1,
  // tag index width
  parameter int TAG_W = (N_TAGS > 1) ? $clog2(N_TAGS) : 1
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

  output logic [CTX_W-1:0]  lk_ctx,
  output logic [15:0]       lk_cid,
  input  logic              lk_hit,
  input  logic [TAG_W-1:0]  lk_idx,
  input  logic [31:0]       lk_total,
  output logic [TAG_W-1:0]  rd_idx,
  output logic [31:0]       rd_off,
  output logic [3:0]        rd_cnt,
  output logic              rd_en,
  input  logic [63:0]       rd_addr0,
  input  logic [3:0]        rd_len0,
  input  logic [63:0]       rd_addr1,
  input  logic [3:0]        rd_len1,
  input  logic [N_TAGS-1:0] inval,

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
  // S2: per-context PDU state.

  logic [31:0]      p_crc   [N_CTX];
  logic             p_crcv  [N_CTX];
  logic             p_place [N_CTX];
  logic [TAG_W-1:0] p_tag   [N_CTX];
  logic [15:0]      p_cid   [N_CTX];
  logic [31:0]      p_datao [N_CTX];

  logic              live2;
  logic [31:0]       e_crc_in, e_crc_out;
  logic              e_crcv, e_place;
  logic [TAG_W-1:0]  e_tag;
  logic [15:0]       e_cid;
  logic [31:0]       e_datao;
  logic [DATA_W-1:0] e_shift;
  logic [3:0]        e_cnt;
  logic              e_match, place_now;
  logic [32:0]       e_end;
  logic              fr_crc_q, fr_crc;   // crc_ok of the frame so far

  assign lk_ctx = s_ctx;
  assign lk_cid = s_hdr_cid;

  always_comb begin
    live2 = s_valid && s_hit;
    e_end = {1'b0, s_hdr_datao} + {1'b0, s_hdr_datal};
    if (s_hdr_done) begin
      e_crc_in = CRC_INIT;
      e_crcv   = !s_gap;   // with a gap: a resync resume inside the PDU (its earlier bytes were never checked)
      e_place  = s_hdr_c2h && caps[ddp_pkg::CAP_NVME_TCP] && lk_hit && e_end <= {1'b0, lk_total} && !inval[lk_idx];
      e_tag    = lk_idx;
      e_cid    = s_hdr_cid;
      e_datao  = s_hdr_datao;
    end else begin
      e_crc_in = p_crc[s_ctx];
      e_crcv   = p_crcv[s_ctx] && !s_gap;
      e_place  = p_place[s_ctx] && !inval[p_tag[s_ctx]];
      e_tag    = p_tag[s_ctx];
      e_cid    = p_cid[s_ctx];
      e_datao  = p_datao[s_ctx];
    end
    e_shift   = s_data >> {s_d_lo[2:0], 3'b000};
    e_cnt     = s_d_valid ? s_d_cnt : 4'd0;
    e_match   = ~e_crc_out == s_g_value;
    place_now = live2 && s_d_valid && e_place && caps[ddp_pkg::CAP_NVME_TCP];
    fr_crc    = (s_sof ? s_crc_base : fr_crc_q)
                && !((s_d_valid || s_g_present) && !e_crcv)
                && !(s_g_done && !e_match)
                && !s_crc_kill;
  end

  ddp_crc32c_core #(.DATA_W(DATA_W)) u_crc (
    .clk     (clk),
    .crc_in  (e_crc_in),
    .data    (e_shift),
    .count   (e_cnt),
    .crc_out (e_crc_out)
  );

  always_ff @(posedge clk) begin
    // A teardown or context delete stops the placement of every PDU that used the entry.
    for (int c = 0; c < N_CTX; c++) begin
      if (inval[p_tag[c]]) p_place[c] <= 1'b0;
    end
    if (adv && live2) begin
      p_crc[s_ctx]   <= e_crc_out;
      p_crcv[s_ctx]  <= e_crcv;
      p_place[s_ctx] <= e_place;
      p_tag[s_ctx]   <= e_tag;
      p_cid[s_ctx]   <= e_cid;
      p_datao[s_ctx] <= e_datao;
    end
  end

  // S2 -> S3 registers.
  logic              t_valid_q, t_last_q, t_sof_q, t_hit_q, t_place_q, t_cont_q, t_crc_q;
  logic [DATA_W-1:0] t_data_q, t_shift_q;
  logic [KEEP_W-1:0] t_keep_q;
  logic [12:0]       t_beat_q;
  logic [CTX_W-1:0]  t_ctx_q;
  logic [3:0]        t_lo_q, t_cnt_q;
  logic [31:0]       t_off_q;
  logic [15:0]       t_cid_q;
  logic [TAG_W-1:0]  t_tag_q;
  logic              t_crc_ok_q, t_crc_bad_q;
  logic              t_rr_q;
  logic [31:0]       t_rr_seq_q;

  always_ff @(posedge clk) begin
    if (adv) begin
      if (s_valid) fr_crc_q <= fr_crc;
      t_last_q    <= s_last;
      t_sof_q     <= s_sof;
      t_hit_q     <= s_hit;
      t_place_q   <= place_now;
      t_cont_q    <= s_d_cont;
      t_crc_q     <= fr_crc && caps[ddp_pkg::CAP_DDGST_RX];
      t_data_q    <= s_data;
      t_shift_q   <= e_shift;
      t_keep_q    <= s_keep;
      t_beat_q    <= s_beat;
      t_ctx_q     <= s_ctx;
      t_lo_q      <= s_d_lo;
      t_cnt_q     <= s_d_cnt;
      t_off_q     <= e_datao + s_d_koff;
      t_cid_q     <= e_cid;
      t_tag_q     <= e_tag;
      t_crc_ok_q  <= live2 && s_g_done && e_crcv && e_match;
      t_crc_bad_q <= live2 && s_g_done && e_crcv && !e_match;
      t_rr_q      <= s_rr;
      t_rr_seq_q  <= s_rr_seq;
    end
  end

  always_ff @(posedge clk) begin
    if (rst) t_valid_q <= 1'b0;
    else if (adv) t_valid_q <= s_valid;
  end

  // ---------------------------------------------------------------------------------------------------------
  // S3: segments, SGL walk, ring mask.

  logic [2:0]       nseg_q, nseg;
  logic             open_q, open;
  logic [SEG_W-1:0] seg_q [4];
  logic [SEG_W-1:0] seg   [4];
  logic             placed;
  logic [KEEP_W-1:0] pmask;
  logic [15:0]      frame_off;
  logic             rr_q, rr;            // the frame raised a RESYNC_REQUEST (the last one's seq)
  logic [31:0]      rr_seq_q, rr_seq;

  always_comb begin
    nseg   = t_sof_q ? 3'd0 : nseg_q;
    open   = t_sof_q ? 1'b0 : open_q;
    for (int i = 0; i < 4; i++) seg[i] = t_sof_q ? '0 : seg_q[i];
    rr     = t_sof_q ? 1'b0 : rr_q;
    rr_seq = t_sof_q ? 32'd0 : rr_seq_q;
    if (t_valid_q && t_rr_q) begin
      rr     = 1'b1;
      rr_seq = t_rr_seq_q;
    end
    placed    = 1'b0;
    frame_off = {t_beat_q, 3'b000} + {12'd0, t_lo_q};
    if (t_valid_q && t_place_q) begin
      if (t_cont_q && open) begin
        placed = 1'b1;
        for (int i = 0; i < 4; i++) begin
          if (3'(i + 1) == nseg) seg[i][15:0] = seg[i][15:0] + {12'd0, t_cnt_q};
        end
      end else if (nseg < 3'(MAX_SEGS)) begin
        placed = 1'b1;
        for (int i = 0; i < 4; i++) begin
          if (3'(i) == nseg) seg[i] = {t_cid_q, t_off_q, frame_off, {12'd0, t_cnt_q}};
        end
        nseg = nseg + 1'b1;
      end
    end
    open = placed;
    for (int i = 0; i < KEEP_W; i++) pmask[i] = placed && 4'(i) >= t_lo_q && 4'(i) < t_lo_q + t_cnt_q;
    rd_idx = t_tag_q;
    rd_off = t_off_q;
    rd_cnt = t_cnt_q;
    rd_en  = placed && adv;
  end

  always_ff @(posedge clk) begin
    if (adv && t_valid_q) begin
      nseg_q <= nseg;
      open_q <= open;
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
      m_axis_rx_tdata <= t_data_q;
      m_axis_rx_tkeep <= t_keep_q & ~pmask;
      m_axis_rx_tlast <= t_last_q;
      m_dma_addr0     <= rd_addr0;
      m_dma_len0      <= rd_len0;
      m_dma_addr1     <= rd_addr1;
      m_dma_len1      <= rd_len1;
      m_dma_data      <= t_shift_q;
      m_cqe_hit       <= t_hit_q;
      m_cqe_ctx       <= 8'(t_ctx_q);
      m_cqe_crc_ok    <= t_crc_q;
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
      rx_v_q     <= t_valid_q;
      dma_v_q    <= t_valid_q && placed;
      cqe_v_q    <= t_valid_q && t_last_q;
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
    stat_packet  = adv && t_valid_q && t_last_q && (nseg != 3'd0 || t_crc_q);
    stat_bytes   = (adv && placed) ? t_cnt_q : 4'd0;
    stat_crc_ok  = adv && t_valid_q && t_crc_ok_q;
    stat_crc_bad = adv && t_valid_q && t_crc_bad_q;
  end

`ifndef SYNTHESIS
  // Security: a DMA write only for a beat whose tag entry was valid when its PDU's placement was decided and
  // has not been invalidated since (the CAM's walk assertions check the addresses against the SGL).
  dma_pieces_sum: assert property (@(posedge clk) disable iff (rst) placed |-> rd_len0 + rd_len1 == t_cnt_q && rd_len0 != 4'd0)
    else $error("ddp_place: DMA pieces do not add up to the placed bytes");
  dma_only_placed: assert property (@(posedge clk) disable iff (rst) m_dma_valid |-> m_dma_len0 != 4'd0)
    else $error("ddp_place: empty DMA request");
`endif

endmodule
