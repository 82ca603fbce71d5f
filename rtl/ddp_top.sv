// ddp_top: the NVMe/TCP receive-offload block (docs/offload-contract.md, docs/offload-uarch.md).
//
//   s_axis ─► ddp_parser ─► ddp_delay ─► ddp_tracker (S0, S1) ─► ddp_place (S2, S3, OUT) ─► m_axis_rx
//                 │ verdict ──┘   │ head verdict                   │ lookup / walk             m_dma, m_cqe
//                 ▼               ▼                                ▼
//              (per frame)   ddp_ctx_table (5-tuple match)    ddp_tag_table (hash table + page pool, RAM)
//   s_cmd ─► ddp_cmd ─► context table, tag table, tracker init, caps, stats ─► m_evt
//
// Every beat leaves m_axis_rx exactly LATENCY cycles after it was accepted on s_axis when the outputs are
// ready (1 cycle in the parser, DELAY_LAT in the delay line, 9 pipeline registers after it: the tracker's
// two, the tag lookup's three, the resolve's three (S2 feeds the first), OUT). The pipeline after
// the delay line advances as a whole (adv) when every output register can be replaced and the event FIFO has
// room; back-pressure on any output stalls it, and the delay line absorbs the input meanwhile.
//
// Parameters:
//   DATA_W        tdata width (64 only)
//   KEEP_W        tkeep width (derived)
//   N_CTX         contexts
//   N_TAGS        tag table slots (a power of two >= 16)
//   MAX_SGL       SGL pages per buffer (a power of two, a multiple of 8)
//   PAGE          SGL page size in bytes (a power of two >= 64)
//   POOL_PAGES    pages of all buffers set up at once (a multiple of 8)
//   MAX_SEGS      CQE segments per frame (1 .. 4)
//   MAX_FRAME     longest frame offloaded, bytes
//   IO_THRESHOLD  reported by LIMITS_GET
//   DEPTH         delay memory in beats (MAX_FRAME / KEEP_W plus margin)
//   DELAY_LAT     cycles in the delay line
//   LATENCY       s_axis -> m_axis_rx cycles (derived; LIMITS_GET 7)
// Ports: clk, rst (synchronous, active high) and the stream groups of the contract: s_axis_*, m_axis_rx_*,
//   m_cqe_*, m_dma_*, s_cmd_*, m_evt_*.

`include "ddp_pkg.sv"

module ddp_top #(
  // tdata width in bits (64 only)
  parameter int DATA_W = 64,
  // tkeep width
  parameter int KEEP_W = DATA_W / 8,
  // number of contexts
  parameter int N_CTX = 8,
  // tag table slots
  parameter int N_TAGS = 16384,
  // SGL pages per buffer
  parameter int MAX_SGL = 128,
  // SGL page size in bytes
  parameter int PAGE = 4096,
  // pages of all buffers set up at once
  parameter int POOL_PAGES = 16 * N_TAGS,
  // CQE segments per frame (1 .. 4)
  parameter int MAX_SEGS = 4,
  // longest offloadable frame in bytes
  parameter int MAX_FRAME = 9216,
  // io_threshold reported by LIMITS_GET
  parameter int IO_THRESHOLD = 0,
  // delay memory in beats
  parameter int DEPTH = (MAX_FRAME + KEEP_W - 1) / KEEP_W + 8,
  // cycles in the delay line
  parameter int DELAY_LAT = DEPTH,
  // s_axis -> m_axis_rx latency in cycles
  parameter int LATENCY = DELAY_LAT + 10,
  // bytes the stream may advance past a resync candidate without a confirm (contract section 7; >= 32)
  parameter int RESYNC_TIMEOUT = 1048576
) (
  input  logic              clk,
  input  logic              rst,

  input  logic [DATA_W-1:0] s_axis_tdata,
  input  logic [KEEP_W-1:0] s_axis_tkeep,
  input  logic              s_axis_tvalid,
  output logic              s_axis_tready,
  input  logic              s_axis_tlast,

  output logic [DATA_W-1:0] m_axis_rx_tdata,
  output logic [KEEP_W-1:0] m_axis_rx_tkeep,
  output logic              m_axis_rx_tvalid,
  input  logic              m_axis_rx_tready,
  output logic              m_axis_rx_tlast,

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

  output logic              m_dma_valid,
  input  logic              m_dma_ready,
  output logic [63:0]       m_dma_addr0,
  output logic [3:0]        m_dma_len0,
  output logic [63:0]       m_dma_addr1,
  output logic [3:0]        m_dma_len1,
  output logic [DATA_W-1:0] m_dma_data,

  input  logic              s_cmd_valid,
  output logic              s_cmd_ready,
  input  logic [3:0]        s_cmd_op,
  input  logic [15:0]       s_cmd_tag,
  input  logic [7:0]        s_cmd_ctx,
  input  logic [15:0]       s_cmd_cid,
  input  logic              s_cmd_ipv6,
  input  logic [127:0]      s_cmd_src_ip,
  input  logic [127:0]      s_cmd_dst_ip,
  input  logic [15:0]       s_cmd_src_port,
  input  logic [15:0]       s_cmd_dst_port,
  input  logic [31:0]       s_cmd_seq,
  input  logic [7:0]        s_cmd_flags,
  input  logic [4:0]        s_cmd_cpda,
  input  logic [63:0]       s_cmd_addr,
  input  logic [31:0]       s_cmd_len,
  input  logic [31:0]       s_cmd_cookie,
  input  logic [7:0]        s_cmd_index,

  output logic              m_evt_valid,
  input  logic              m_evt_ready,
  output logic [1:0]        m_evt_kind,
  output logic [15:0]       m_evt_tag,
  output logic [3:0]        m_evt_status,
  output logic [7:0]        m_evt_ctx,
  output logic [31:0]       m_evt_seq,
  output logic [31:0]       m_evt_cookie,
  output logic [63:0]       m_evt_data
);

  localparam int CTX_W = (N_CTX > 1) ? $clog2(N_CTX) : 1;
  localparam int SLOT_W = $clog2(N_TAGS);
  localparam int PO_W   = $clog2(PAGE);
  // Pipeline advances after a tag entry is freed before no beat that read it is left (a beat reads the entry's
  // slot at the edge it enters R2; then R3, OUT, and the advance that takes it from OUT; plus margin).
  localparam int DRAIN = 5;
  // Verdict carried through the delay line: {ok, reason, ipv6, src_ip, dst_ip, src_port, dst_port, seq,
  // payload_off, payload_len}.
  localparam int VERDICT_W = 1 + 4 + 1 + 128 + 128 + 16 + 16 + 32 + 16 + 16;
  localparam logic [3:0] REASON_OVERSIZE = 4'd9;

  logic adv;

  // ---------------------------------------------------------------------------------------------------------
  // Parser and delay line.

  logic [DATA_W-1:0] p_tdata;
  logic [KEEP_W-1:0] p_tkeep;
  logic              p_tvalid, p_tready, p_tlast;
  logic              v_valid, v_ready, v_ok, v_ipv6;
  logic [3:0]        v_reason;
  logic [127:0]      v_src_ip, v_dst_ip;
  logic [15:0]       v_src_port, v_dst_port, v_poff, v_plen;
  logic [31:0]       v_seq;
  logic [7:0]        v_tcp_flags;
  logic [15:0]       v_frame_len;

  ddp_parser #(.DATA_W(DATA_W), .MAX_FRAME(MAX_FRAME)) u_parser (
    .clk, .rst,
    .s_axis_tdata, .s_axis_tkeep, .s_axis_tvalid, .s_axis_tready, .s_axis_tlast,
    .m_axis_tdata (p_tdata), .m_axis_tkeep (p_tkeep), .m_axis_tvalid (p_tvalid), .m_axis_tready (p_tready),
    .m_axis_tlast (p_tlast),
    .m_verdict_valid (v_valid), .m_verdict_ready (v_ready), .m_verdict_ok (v_ok), .m_verdict_reason (v_reason),
    .m_verdict_ipv6 (v_ipv6), .m_verdict_src_ip (v_src_ip), .m_verdict_dst_ip (v_dst_ip),
    .m_verdict_src_port (v_src_port), .m_verdict_dst_port (v_dst_port), .m_verdict_seq (v_seq),
    .m_verdict_tcp_flags (v_tcp_flags), .m_verdict_payload_off (v_poff), .m_verdict_payload_len (v_plen),
    .m_verdict_frame_len (v_frame_len)
  );

  logic [DATA_W-1:0]    d_tdata;
  logic [KEEP_W-1:0]    d_tkeep;
  logic                 d_tvalid, d_tlast;
  logic [VERDICT_W-1:0] d_verdict;
  logic                 d_missing, d_sof, d_meta_valid;

  ddp_delay #(
    .DATA_W(DATA_W), .DEPTH(DEPTH), .LATENCY(DELAY_LAT), .VERDICT_W(VERDICT_W), .MAX_BEATS((MAX_FRAME + KEEP_W - 1) / KEEP_W)
  ) u_delay (
    .clk, .rst,
    .s_axis_tdata (p_tdata), .s_axis_tkeep (p_tkeep), .s_axis_tvalid (p_tvalid), .s_axis_tready (p_tready),
    .s_axis_tlast (p_tlast),
    .s_verdict_valid (v_valid), .s_verdict_ready (v_ready),
    .s_verdict_data ({v_ok, v_reason, v_ipv6, v_src_ip, v_dst_ip, v_src_port, v_dst_port, v_seq, v_poff, v_plen}),
    .m_axis_tdata (d_tdata), .m_axis_tkeep (d_tkeep), .m_axis_tvalid (d_tvalid), .m_axis_tready (adv),
    .m_axis_tlast (d_tlast),
    .m_meta_verdict (d_verdict), .m_meta_missing (d_missing), .m_meta_sof (d_sof), .m_meta_valid (d_meta_valid)
  );

  logic         h_ok, h_ipv6;
  logic [3:0]   h_reason;
  logic [127:0] h_src_ip, h_dst_ip;
  logic [15:0]  h_src_port, h_dst_port, h_poff, h_plen;
  logic [31:0]  h_seq;

  assign {h_ok, h_reason, h_ipv6, h_src_ip, h_dst_ip, h_src_port, h_dst_port, h_seq, h_poff, h_plen} = d_verdict;

  // ---------------------------------------------------------------------------------------------------------
  // Context table.

  logic             ct_lk_hit;
  logic [CTX_W-1:0] ct_lk_idx;
  logic             ct_add, ct_del, ct_tuple_exists;
  logic [CTX_W-1:0] ct_idx, cfg_idx;
  logic             cfg_valid, cfg_hdgst, cfg_ddgst;
  logic [4:0]       cfg_cpda;
  logic [N_CTX-1:0] ct_valid;

  ddp_ctx_table #(.N_CTX(N_CTX)) u_ctx (
    .clk, .rst,
    .lk_ipv6 (h_ipv6), .lk_src_ip (h_src_ip), .lk_dst_ip (h_dst_ip), .lk_src_port (h_src_port),
    .lk_dst_port (h_dst_port), .lk_hit (ct_lk_hit), .lk_idx (ct_lk_idx),
    .wr_add (ct_add), .wr_del (ct_del), .wr_idx (ct_idx), .wr_ipv6 (s_cmd_ipv6), .wr_src_ip (s_cmd_src_ip),
    .wr_dst_ip (s_cmd_dst_ip), .wr_src_port (s_cmd_src_port), .wr_dst_port (s_cmd_dst_port),
    .wr_hdgst (s_cmd_flags[0]), .wr_ddgst (s_cmd_flags[1]), .wr_cpda (s_cmd_cpda),
    .wr_tuple_exists (ct_tuple_exists),
    .rd_idx (cfg_idx), .rd_valid (cfg_valid), .rd_hdgst (cfg_hdgst), .rd_ddgst (cfg_ddgst), .rd_cpda (cfg_cpda),
    .valid (ct_valid)
  );

  // ---------------------------------------------------------------------------------------------------------
  // Tracker.

  logic              t_valid, t_last, t_sof, t_hit, t_crc_base, t_crc_kill, t_gap;
  logic [DATA_W-1:0] t_data;
  logic [KEEP_W-1:0] t_keep;
  logic [12:0]       t_beat;
  logic [CTX_W-1:0]  t_ctx;
  logic              t_hdr_done, t_hdr_c2h, t_d_valid, t_d_cont, t_g_present, t_g_done;
  logic [15:0]       t_hdr_cid;
  logic [31:0]       t_hdr_datao, t_hdr_datal, t_d_koff, t_g_value;
  logic [3:0]        t_d_lo, t_d_cnt;
  logic              t_st_drop, t_st_search, t_st_ooo, t_st_retx, t_st_pass, t_st_oversize;
  logic              trk_init;
  logic              rs_valid, rs_confirm, t_rr, t_st_miss, t_st_tmo;
  logic [CTX_W-1:0]  rs_idx;
  logic [31:0]       rs_seq, t_rr_seq;
  logic [CTX_W-1:0]  trk_init_idx;
  logic [31:0]       trk_init_seq;

  ddp_tracker #(.DATA_W(DATA_W), .N_CTX(N_CTX), .RESYNC_TIMEOUT(RESYNC_TIMEOUT)) u_tracker (
    .clk, .rst, .adv,
    .s_valid (d_tvalid), .s_data (d_tdata), .s_keep (d_tkeep), .s_last (d_tlast), .s_sof (d_sof),
    .s_ok (h_ok && !d_missing), .s_oversize (d_missing || h_reason == REASON_OVERSIZE),
    .s_seq (h_seq), .s_poff (h_poff), .s_plen (h_plen), .lk_hit (ct_lk_hit), .lk_idx (ct_lk_idx),
    .cfg_idx, .cfg_hdgst, .cfg_ddgst, .cfg_cpda,
    .init_valid (trk_init), .init_idx (trk_init_idx), .init_seq (trk_init_seq),
    .rs_valid, .rs_idx, .rs_seq, .rs_confirm,
    .m_valid (t_valid), .m_data (t_data), .m_keep (t_keep), .m_last (t_last), .m_sof (t_sof), .m_beat (t_beat),
    .m_hit (t_hit), .m_ctx (t_ctx), .m_crc_base (t_crc_base), .m_crc_kill (t_crc_kill), .m_gap (t_gap),
    .m_hdr_done (t_hdr_done), .m_hdr_c2h (t_hdr_c2h), .m_hdr_cid (t_hdr_cid), .m_hdr_datao (t_hdr_datao),
    .m_hdr_datal (t_hdr_datal), .m_d_valid (t_d_valid), .m_d_lo (t_d_lo), .m_d_cnt (t_d_cnt),
    .m_d_koff (t_d_koff), .m_d_cont (t_d_cont), .m_g_present (t_g_present), .m_g_done (t_g_done),
    .m_g_value (t_g_value), .m_st_drop (t_st_drop), .m_st_search (t_st_search), .m_st_ooo (t_st_ooo),
    .m_st_retx (t_st_retx), .m_st_pass (t_st_pass), .m_st_oversize (t_st_oversize),
    .m_rr (t_rr), .m_rr_seq (t_rr_seq), .m_st_miss (t_st_miss), .m_st_tmo (t_st_tmo)
  );

  // ---------------------------------------------------------------------------------------------------------
  // Tag table and placement.

  logic              lk_valid, lk_hit, lk_out_valid, pr_out_valid;
  logic [15:0]       lk_ctx, lk_cid;
  logic [SLOT_W-1:0] lk_slot;
  logic [7:0]        lk_gen;
  logic [31:0]       lk_total;
  logic [PO_W-1:0]   lk_pg_off;
  // pr_*: place resolves (a buffer offset of a looked-up entry -> DMA pieces); rs_* above are the tracker's resyncs
  logic              pr_valid, pr_ok;
  logic [SLOT_W-1:0] pr_slot;
  logic [7:0]        pr_gen;
  logic [31:0]       pr_pos;
  logic [15:0]       pr_ctx, pr_cid;
  logic [3:0]        pr_cnt, pr_len0, pr_len1;
  logic [63:0]       pr_addr0, pr_addr1;
  logic              tt_valid, tt_ready, tt_first, tt_last, tt_ctx_ok, tt_r_valid, tt_r_ready, tt_init;
  logic [1:0]        tt_op;
  logic [3:0]        tt_r_status;
  logic              st_tag_collision, st_pool_full;
  logic              adv_ok;
  logic [1:0]        caps;
  logic              stat_packet, stat_crc_ok, stat_crc_bad;
  logic [3:0]        stat_bytes;

  ddp_tag_table #(
    .N_TAGS(N_TAGS), .MAX_SGL(MAX_SGL), .PAGE(PAGE), .POOL_PAGES(POOL_PAGES), .CNT_W(4), .DRAIN(DRAIN)
  ) u_tags (
    .clk, .rst, .adv, .init (tt_init),
    .c_valid (tt_valid), .c_ready (tt_ready), .c_op (tt_op), .c_first (tt_first), .c_last (tt_last),
    .c_ctx_ok (tt_ctx_ok), .c_ctx (16'(s_cmd_ctx)), .c_cid (s_cmd_cid), .c_addr (s_cmd_addr), .c_len (s_cmd_len),
    .r_valid (tt_r_valid), .r_ready (tt_r_ready), .r_status (tt_r_status),
    .lk_valid, .lk_ctx, .lk_cid, .lk_out_valid (lk_out_valid), .lk_hit, .lk_slot, .lk_gen, .lk_total, .lk_pg_off,
    .rs_valid (pr_valid), .rs_slot (pr_slot), .rs_gen (pr_gen), .rs_ctx (pr_ctx), .rs_cid (pr_cid),
    .rs_pos (pr_pos), .rs_cnt (pr_cnt), .rs_out_valid (pr_out_valid), .rs_ok (pr_ok),
    .rs_addr0 (pr_addr0), .rs_len0 (pr_len0), .rs_addr1 (pr_addr1), .rs_len1 (pr_len1),
    .st_collision (st_tag_collision), .st_pool_full
  );

  ddp_place #(.DATA_W(DATA_W), .N_CTX(N_CTX), .SLOT_W(SLOT_W), .PO_W(PO_W), .MAX_SEGS(MAX_SEGS)) u_place (
    .clk, .rst, .adv, .adv_ok, .caps,
    .s_valid (t_valid), .s_data (t_data), .s_keep (t_keep), .s_last (t_last), .s_sof (t_sof), .s_beat (t_beat),
    .s_hit (t_hit), .s_ctx (t_ctx), .s_crc_base (t_crc_base), .s_crc_kill (t_crc_kill), .s_gap (t_gap),
    .s_hdr_done (t_hdr_done), .s_hdr_c2h (t_hdr_c2h), .s_hdr_cid (t_hdr_cid), .s_hdr_datao (t_hdr_datao),
    .s_hdr_datal (t_hdr_datal), .s_d_valid (t_d_valid), .s_d_lo (t_d_lo), .s_d_cnt (t_d_cnt),
    .s_d_koff (t_d_koff), .s_d_cont (t_d_cont), .s_g_present (t_g_present), .s_g_done (t_g_done),
    .s_g_value (t_g_value), .s_rr (t_rr), .s_rr_seq (t_rr_seq),
    .lk_valid, .lk_ctx, .lk_cid, .lk_hit, .lk_slot, .lk_gen, .lk_total, .lk_pg_off,
    .rs_valid (pr_valid), .rs_slot (pr_slot), .rs_gen (pr_gen), .rs_ctx (pr_ctx), .rs_cid (pr_cid),
    .rs_pos (pr_pos), .rs_cnt (pr_cnt), .rs_ok (pr_ok), .rs_addr0 (pr_addr0), .rs_len0 (pr_len0),
    .rs_addr1 (pr_addr1), .rs_len1 (pr_len1),
    .m_axis_rx_tdata, .m_axis_rx_tkeep, .m_axis_rx_tvalid, .m_axis_rx_tready, .m_axis_rx_tlast,
    .m_dma_valid, .m_dma_ready, .m_dma_addr0, .m_dma_len0, .m_dma_addr1, .m_dma_len1, .m_dma_data,
    .m_cqe_valid, .m_cqe_ready, .m_cqe_hit, .m_cqe_ctx, .m_cqe_crc_ok, .m_cqe_nseg,
    .m_cqe_seg0_cid, .m_cqe_seg0_buf_off, .m_cqe_seg0_frame_off, .m_cqe_seg0_len,
    .m_cqe_seg1_cid, .m_cqe_seg1_buf_off, .m_cqe_seg1_frame_off, .m_cqe_seg1_len,
    .m_cqe_seg2_cid, .m_cqe_seg2_buf_off, .m_cqe_seg2_frame_off, .m_cqe_seg2_len,
    .m_cqe_seg3_cid, .m_cqe_seg3_buf_off, .m_cqe_seg3_frame_off, .m_cqe_seg3_len,
    .m_cqe_resync, .m_cqe_resync_seq,
    .stat_packet, .stat_bytes, .stat_crc_ok, .stat_crc_bad
  );

  // ---------------------------------------------------------------------------------------------------------
  // Commands, events, statistics.

  logic                             evt_room;
  logic                             cmd_ready;

  // No command is taken while the tag table clears itself after reset (N_TAGS / 8 cycles).
  assign s_cmd_ready = cmd_ready && !tt_init;
  logic [ddp_pkg::N_STATS*16-1:0]   stat_inc;
  logic                             t_adv;   // the tracker's output beat moves on at this edge

  assign adv   = adv_ok && evt_room;
  assign t_adv = adv && t_valid;

  always_comb begin
    stat_inc = '0;
    stat_inc[16*ddp_pkg::STAT_PACKETS     +: 16] = 16'(stat_packet);
    stat_inc[16*ddp_pkg::STAT_BYTES       +: 16] = 16'(stat_bytes);
    stat_inc[16*ddp_pkg::STAT_DROP        +: 16] = 16'(t_adv && t_st_drop);
    stat_inc[16*ddp_pkg::STAT_CRC_OK      +: 16] = 16'(stat_crc_ok);
    stat_inc[16*ddp_pkg::STAT_CRC_BAD     +: 16] = 16'(stat_crc_bad);
    stat_inc[16*ddp_pkg::STAT_OOO         +: 16] = 16'(t_adv && t_st_ooo);
    stat_inc[16*ddp_pkg::STAT_RETRANSMIT  +: 16] = 16'(t_adv && t_st_retx);
    stat_inc[16*ddp_pkg::STAT_SEARCHES    +: 16] = 16'(t_adv && t_st_search);
    stat_inc[16*ddp_pkg::STAT_PASSTHROUGH +: 16] = 16'(t_adv && t_st_pass);
    stat_inc[16*ddp_pkg::STAT_OVERSIZE    +: 16] = 16'(t_adv && t_st_oversize);
    stat_inc[16*ddp_pkg::STAT_RESYNC      +: 16] = 16'(t_adv && t_rr);
    stat_inc[16*ddp_pkg::STAT_RESYNC_CONFIRMS +: 16] = 16'(rs_confirm);
    stat_inc[16*ddp_pkg::STAT_RESYNC_TIMEOUTS +: 16] = 16'(t_adv && t_st_tmo);
    stat_inc[16*ddp_pkg::STAT_RESYNC_MISSES   +: 16] = 16'(t_adv && t_st_miss);
    stat_inc[16*ddp_pkg::STAT_TAG_COLLISIONS  +: 16] = 16'(st_tag_collision);
    stat_inc[16*ddp_pkg::STAT_POOL_EXHAUSTED  +: 16] = 16'(st_pool_full);
  end

  ddp_cmd #(
    .N_CTX(N_CTX), .N_TAGS(N_TAGS), .MAX_SGL(MAX_SGL), .MAX_SEGS(MAX_SEGS), .MAX_FRAME(MAX_FRAME),
    .IO_THRESHOLD(IO_THRESHOLD), .PAGE(PAGE), .POOL_PAGES(POOL_PAGES), .LATENCY(LATENCY), .DRAIN(DRAIN)
  ) u_cmd (
    .clk, .rst,
    .s_cmd_valid (s_cmd_valid && !tt_init), .s_cmd_ready (cmd_ready), .s_cmd_op, .s_cmd_tag, .s_cmd_ctx, .s_cmd_seq,
    .s_cmd_last (s_cmd_flags[0]),
    .s_cmd_cookie, .s_cmd_index,
    .m_evt_valid, .m_evt_ready, .m_evt_kind, .m_evt_tag, .m_evt_status, .m_evt_ctx, .m_evt_seq, .m_evt_cookie,
    .m_evt_data,
    .ct_add, .ct_del, .ct_idx, .ct_tuple_exists, .ct_valid,
    .tt_valid, .tt_ready, .tt_op, .tt_first, .tt_last, .tt_ctx_ok, .tt_r_valid, .tt_r_ready, .tt_r_status,
    .trk_init, .trk_init_idx, .trk_init_seq, .rs_valid, .rs_idx, .rs_seq,
    .caps, .adv, .evt_room,
    .rr_valid (t_adv && t_rr), .rr_ctx (8'(t_ctx)), .rr_seq (t_rr_seq),
    .stat_inc
  );

  // Signals kept for debugging; not needed by the logic.
  logic unused_ok;
  assign unused_ok = ^{v_tcp_flags, v_frame_len, d_meta_valid, cfg_valid, lk_out_valid, pr_out_valid,
                     s_cmd_flags[7:2]};

`ifndef SYNTHESIS
  // Line rate: with every output ready and the event FIFO not full, the pipeline advances every cycle.
  line_rate: assert property (@(posedge clk) disable iff (rst)
      (m_axis_rx_tready && m_dma_ready && m_cqe_ready && evt_room) |-> adv)
    else $error("ddp_top: pipeline stalled with every output ready");
`endif

endmodule
