// ddp_tracker: per-beat PDU tracking of offloaded flows (contract sections 4 and 5), DATA_W = 64.
//
// Two register stages, both advancing when `adv` is high (the whole datapath advances together):
//   S0  latches the beat from the head of ddp_delay and, at a frame's first beat, the frame's verdict and the
//       context lookup (lk_hit / lk_idx, combinational from ddp_ctx_table on the verdict's 5-tuple).
//   S1  reads the frame's context state (a register array, N_CTX entries, read and written every beat, so a
//       frame of the same context may follow on the next cycle with nothing to forward) and produces:
//       - at the first beat: the sequence rules 1-5 (serial-number arithmetic): in order, retransmission,
//         data-only gap (skip it, the PDU's digest becomes unverifiable), lost header (SEARCH);
//       - at every payload beat of a tracked frame: the regions of the payload lanes. The lanes of a beat are
//         cut into at most BYTES segments, one per region piece, each found from the remaining length of the
//         region (compared with the lanes left in the beat), so several region changes per beat cost a short
//         chain of 4-bit compares, not a per-lane counter chain.
//       A header completes at most once per beat (24 bytes > 8 lanes) and always started in an earlier beat, so
//       its bytes in this beat are the lanes from the first payload lane on, at header positions hdr_cnt..23:
//       the header is assembled from the stored partial header and the shifted beat, then decoded and checked
//       in the same cycle, so the lanes after it get their regions too. A header starting in this beat is
//       stored (from its first lane) for the next beats or frames; likewise the data digest bytes.
//   Outputs (registered, S1): the beat, the frame's context, the data lanes of the beat (at most one PDU's data
//   per beat: two data regions are at least a 24-byte header apart) with their offset in the PDU's data, a
//   header that passed (cid, datao, datal), the digest bytes, and per-frame statistics pulses.
//
// Region lengths: HDR 24, HDGST 4, PAD pdo - 24 (- 4) for C2HData or plen - 24 (- 4) (at least 0) for the
// other types, DATA datal, DDGST 4; regions of length 0 are skipped.
//
// Parameters:
//   DATA_W   tdata width (64 only)
//   KEEP_W   bytes per beat (derived)
//   N_CTX    contexts
//   CTX_W    context index width (derived)
// Ports:
//   clk, rst, adv                          clock, reset, the pipeline advances at this edge
//   s_valid, s_data, s_keep, s_last, s_sof the beat at the head of ddp_delay (taken when s_valid && adv)
//   s_ok, s_oversize                       the frame's verdict is ok / the frame was oversize (reason or missing)
//   s_seq, s_poff, s_plen                  TCP seq, payload offset in the frame, payload length
//   lk_hit, lk_idx                         the 5-tuple's context (meaningful when s_ok)
//   cfg_idx -> cfg_hdgst, cfg_ddgst, cfg_cpda  negotiation of the frame's context (from ddp_ctx_table)
//   init_valid, init_idx, init_seq         CTX_ADD: the context restarts in HDR at seq
//   m_*                                    the S1 outputs listed above (see the declarations)

`include "ddp_pkg.sv"

module ddp_tracker #(
  // tdata width in bits (64 only)
  parameter int DATA_W = 64,
  // bytes per beat
  parameter int KEEP_W = DATA_W / 8,
  // number of contexts
  parameter int N_CTX = 8,
  // context index width
  parameter int CTX_W = (N_CTX > 1) ? $clog2(N_CTX) : 1,
  // bytes the stream may advance past a resync candidate without a confirm (at least 32)
  parameter int RESYNC_TIMEOUT = 1048576
) (
  input  logic              clk,
  input  logic              rst,
  input  logic              adv,

  input  logic              s_valid,
  input  logic [DATA_W-1:0] s_data,
  input  logic [KEEP_W-1:0] s_keep,
  input  logic              s_last,
  input  logic              s_sof,
  input  logic              s_ok,
  input  logic              s_oversize,
  input  logic [31:0]       s_seq,
  input  logic [15:0]       s_poff,
  input  logic [15:0]       s_plen,
  input  logic              lk_hit,
  input  logic [CTX_W-1:0]  lk_idx,

  output logic [CTX_W-1:0]  cfg_idx,
  input  logic              cfg_hdgst,
  input  logic              cfg_ddgst,
  input  logic [4:0]        cfg_cpda,

  input  logic              init_valid,
  input  logic [CTX_W-1:0]  init_idx,
  input  logic [31:0]       init_seq,

  input  logic              rs_valid,     // RESYNC command {rs_idx, rs_seq} (context in use)
  input  logic [CTX_W-1:0]  rs_idx,
  input  logic [31:0]       rs_seq,
  output logic              rs_confirm,   // it confirmed the context's candidate (this cycle)

  output logic              m_valid,
  output logic [DATA_W-1:0] m_data,
  output logic [KEEP_W-1:0] m_keep,
  output logic              m_last,
  output logic              m_sof,
  output logic [12:0]       m_beat,       // beat index within the frame
  output logic              m_hit,        // frame: verdict ok and a context matches
  output logic [CTX_W-1:0]  m_ctx,
  output logic              m_crc_base,   // frame: DDGST negotiated and handled by rule 1, 3 or 4 while tracking
  output logic              m_crc_kill,   // beat: a header failed its check (crc_ok = 0 for the frame)
  output logic              m_gap,        // first beat: rule 4, the current PDU's digest is unverifiable
  output logic              m_hdr_done,   // beat: a header passed its check (with m_gap: a resync resume, section 7)
  output logic              m_hdr_c2h,    //   and it is a C2HData
  output logic [15:0]       m_hdr_cid,
  output logic [31:0]       m_hdr_datao,
  output logic [31:0]       m_hdr_datal,
  output logic              m_d_valid,    // beat: lanes [d_lo, d_lo + d_cnt) are PDU data
  output logic [3:0]        m_d_lo,
  output logic [3:0]        m_d_cnt,
  output logic [31:0]       m_d_koff,     // offset in the PDU's data of lane d_lo
  output logic              m_d_cont,     // the data continues the previous beat's (same PDU, same frame)
  output logic              m_g_present,  // beat: data-digest bytes are in this beat
  output logic              m_g_done,     // beat: the 4th digest byte is in this beat
  output logic [31:0]       m_g_value,    // the digest, read little-endian (when g_done)
  output logic              m_st_drop,    // statistics pulses (one per frame or per event)
  output logic              m_st_search,
  output logic              m_st_ooo,
  output logic              m_st_retx,
  output logic              m_st_pass,
  output logic              m_st_oversize,
  output logic              m_rr,         // beat: a resync candidate was found (RESYNC_REQUEST)
  output logic [31:0]       m_rr_seq,     //   the seq of its type byte
  output logic              m_st_miss,    // statistics pulses: a candidate dropped by a failed header or a gap
  output logic              m_st_tmo      //   a candidate dropped by RESYNC_TIMEOUT
);

  localparam int HDR_BITS = 8 * ddp_pkg::HDR_LEN;
  // Most region pieces in one beat of 8 lanes: e.g. HDR end, HDGST (4), PAD, DATA, DDGST (1 of 4); or HDR
  // end, PAD, DATA, DDGST (4), HDR start. Every region but PAD and DATA is at least 4 bytes, and two headers are
  // at least 24 bytes apart, so 5 pieces cover 8 lanes (checked by an assertion below).
  // With resync: a header that fails (always the beat's first piece), the scan that finds a candidate right
  // after it, and at most 3 pieces after the candidate (HDGST 4 + DATA + DDGST, PAD + DATA + DDGST, DATA + DDGST +
  // HDR, PAD + HDR) in the lanes left: 5 pieces again; one more for margin.
  localparam int SEGS = 6;
  // Resync window: the last WIN in-order payload bytes of a context (a candidate's 23 bytes before its last).
  localparam int WIN = ddp_pkg::HDR_LEN - 1;
  localparam logic [31:0] TMO = 32'(RESYNC_TIMEOUT);

  // ALIGNED[64*m + q]: q is a multiple of m + 1 (m = cpda 0..31, q = pdo / 4 = 0..63). A constant table
  // instead of a run-time modulo, which synthesizes as a deep divider.
  function automatic logic [2047:0] aligned_table();
    logic [2047:0] t;
    for (int m = 0; m < 32; m++) begin
      for (int q = 0; q < 64; q++) t[64*m + q] = (q % (m + 1)) == 0;
    end
    aligned_table = t;
  endfunction
  localparam logic [2047:0] ALIGNED = aligned_table();

  // Header check of contract section 5 (the same as the in-order check below), for the resync scan.
  // (cid and datao are not checked.)
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic logic hdr_check(logic [8*ddp_pkg::HDR_LEN-1:0] h, logic hdgst, logic ddgst, logic [4:0] cpda);
    logic [7:0]  f_type, f_hlen, f_pdo, f_tot;
    logic [1:0]  f_flags;
    logic [31:0] f_plen, f_datal;
    logic [33:0] f_sum;
    logic        f_al, f_ok;
    f_type  = h[7:0];
    f_flags = h[9:8];
    f_hlen  = h[23:16];
    f_pdo   = h[31:24];
    f_plen  = h[63:32];
    f_datal = h[159:128];
    f_tot   = hdgst ? 8'd28 : 8'd24;
    f_al    = f_pdo[1:0] == 2'b00 && ALIGNED[{cpda, f_pdo[7:2]}];
    f_sum   = {26'd0, f_pdo} + {2'd0, f_datal} + (ddgst ? 34'd4 : 34'd0);
    f_ok    = 1'b0;
    unique case (f_type)
      ddp_pkg::PDU_C2H_DATA:
        f_ok = f_flags[1] == ddgst && f_datal != '0 && f_pdo >= f_tot && f_al && {2'd0, f_plen} == f_sum;
      ddp_pkg::PDU_CAPSULE_RESP, ddp_pkg::PDU_R2T:
        f_ok = f_pdo == 8'd0 && f_plen == {24'd0, f_tot} && !f_flags[1];
      ddp_pkg::PDU_C2H_TERM_REQ:
        f_ok = f_pdo == 8'd0 && f_plen >= 32'd24 && f_plen <= 32'(ddp_pkg::TERM_REQ_MAX_PLEN);
      default: f_ok = 1'b0;
    endcase
    hdr_check = f_ok && f_hlen == 8'd24 && f_flags[0] == hdgst;
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */

  typedef ddp_pkg::region_e region_e;

  // The region that follows `from` once it ends, in PDU order HDR -> HDGST -> PAD -> DATA -> DDGST -> HDR,
  // skipping what the PDU does not have (no digests negotiated, no PAD, no data: other PDUs return to HDR).
  // `from` = RG_HDR means a header that passed its check. `rs` is `rem` saturated at 9 (more than a beat).
  typedef struct packed {
    region_e     rg;
    logic [31:0] rem;
    logic [3:0]  rs;
  } next_region_t;

  function automatic next_region_t next_region(input region_e from, input logic hdgst, input logic ddgst,
                                               input logic [7:0] pad, input logic [3:0] s_pad, input logic c2h,
                                               input logic [31:0] datal, input logic [3:0] s_datal);
    next_region_t n;
    n.rg  = ddp_pkg::RG_HDR;
    n.rem = 32'd24;
    n.rs  = 4'd9;
    if (from == ddp_pkg::RG_HDR && hdgst) begin
      n.rg  = ddp_pkg::RG_HDGST;
      n.rem = 32'd4;
      n.rs  = 4'd4;
    end else if ((from == ddp_pkg::RG_HDR || from == ddp_pkg::RG_HDGST) && pad != 8'd0) begin
      n.rg  = ddp_pkg::RG_PAD;
      n.rem = {24'd0, pad};
      n.rs  = s_pad;
    end else if ((from == ddp_pkg::RG_HDR || from == ddp_pkg::RG_HDGST || from == ddp_pkg::RG_PAD) && c2h) begin
      n.rg  = ddp_pkg::RG_DATA;
      n.rem = datal;
      n.rs  = s_datal;
    end else if (from == ddp_pkg::RG_DATA && ddgst) begin
      n.rg  = ddp_pkg::RG_DDGST;
      n.rem = 32'd4;
      n.rs  = 4'd4;
    end
    next_region = n;
  endfunction

  // ---------------------------------------------------------------------------------------------------------
  // S0: the beat and its frame.

  logic              b0_valid_q, b0_last_q, b0_sof_q;
  logic [DATA_W-1:0] b0_data_q;
  logic [KEEP_W-1:0] b0_keep_q;
  logic [12:0]       b0_beat_q;
  logic              f0_hit_q, f0_ok_q, f0_oversize_q;
  logic [CTX_W-1:0]  f0_ctx_q;
  logic [31:0]       f0_seq_q;
  logic [15:0]       f0_poff_q, f0_plen_q;

  always_ff @(posedge clk) begin
    if (adv) begin
      b0_data_q <= s_data;
      b0_keep_q <= s_keep;
      b0_last_q <= s_last;
      b0_sof_q  <= s_sof;
      if (s_valid) b0_beat_q <= s_sof ? 13'd0 : b0_beat_q + 1'b1;
      if (s_valid && s_sof) begin
        f0_ok_q       <= s_ok;
        f0_hit_q      <= s_ok && lk_hit;
        f0_ctx_q      <= (s_ok && lk_hit) ? lk_idx : '0;
        f0_oversize_q <= s_oversize;
        f0_seq_q      <= s_seq;
        f0_poff_q     <= s_poff;
        f0_plen_q     <= s_plen;
      end
    end
  end

  always_ff @(posedge clk) begin
    if (rst) begin
      b0_valid_q <= 1'b0;
    end else if (adv) begin
      b0_valid_q <= s_valid;
    end
  end

  // ---------------------------------------------------------------------------------------------------------
  // Context state (N_CTX entries).

  region_e           st_rg    [N_CTX];
  logic [31:0]       st_rem   [N_CTX];  // bytes left in the region
  logic [31:0]       st_exp   [N_CTX];  // expected TCP seq
  logic [HDR_BITS-1:0] st_hdr [N_CTX];  // partial header (byte k at bits 8k)
  logic [23:0]       st_dg    [N_CTX];  // partial data digest
  logic              st_c2h   [N_CTX];  // current PDU is a C2HData
  logic [7:0]        st_pad   [N_CTX];  // its PAD length (after HDR / HDGST)
  logic [31:0]       st_datal [N_CTX];  // its data length
  logic [15:0]       st_cid   [N_CTX];  // its cid and datao (a confirm inside it looks its tag up: section 7)
  logic [31:0]       st_datao [N_CTX];
  // Resync (contract section 7).
  logic              st_wc    [N_CTX];  // WAIT_CONFIRM: tracking from a candidate, nothing placed
  logic              st_conf  [N_CTX];  //   the candidate is confirmed: normal tracking from the next PDU boundary
  logic              st_tmo   [N_CTX];  //   the stream is more than RESYNC_TIMEOUT bytes past the candidate
  logic [31:0]       st_cand  [N_CTX];  //   the candidate's seq
  logic [8*WIN-1:0]  st_hist  [N_CTX];  // the last WIN in-order payload bytes (byte WIN-1 the newest)
  logic [4:0]        st_win   [N_CTX];  // SEARCH: how many of them are at or after the scan start

  assign cfg_idx = f0_ctx_q;

  region_e             c_rg;
  logic [31:0]         c_rem, c_exp, c_datal, c_datao;
  logic [15:0]         c_cid;
  logic [HDR_BITS-1:0] c_hdr;
  logic [23:0]         c_dg;
  logic                c_c2h;
  logic [7:0]          c_pad;
  logic                c_wc, c_conf, c_tmo;
  logic [31:0]         c_cand;
  logic [8*WIN-1:0]    c_hist;
  logic [4:0]          c_win;

  always_comb begin
    c_rg    = st_rg[f0_ctx_q];
    c_rem   = st_rem[f0_ctx_q];
    c_exp   = st_exp[f0_ctx_q];
    c_hdr   = st_hdr[f0_ctx_q];
    c_dg    = st_dg[f0_ctx_q];
    c_c2h   = st_c2h[f0_ctx_q];
    c_pad   = st_pad[f0_ctx_q];
    c_datal = st_datal[f0_ctx_q];
    c_cid   = st_cid[f0_ctx_q];
    c_datao = st_datao[f0_ctx_q];
    c_wc    = st_wc[f0_ctx_q];
    c_conf  = st_conf[f0_ctx_q];
    c_tmo   = st_tmo[f0_ctx_q];
    c_cand  = st_cand[f0_ctx_q];
    c_hist  = st_hist[f0_ctx_q];
    c_win   = st_win[f0_ctx_q];
  end

  // RESYNC {ctx, seq}: confirms a context in WAIT_CONFIRM (not yet confirmed) whose candidate is seq. It takes
  // effect before the beat in S1 if that beat is of the same context (conf_eff below).
  logic rs_ok;
  assign rs_ok      = rs_valid && st_wc[rs_idx] && !st_conf[rs_idx] && st_cand[rs_idx] == rs_seq;
  assign rs_confirm = rs_ok;

  // A confirmed context leaves WAIT_CONFIRM at the next PDU boundary; at a boundary (a header not started) at once.
  // Inside a C2HData PDU's PAD, DATA or DDGST it leaves at the first beat of its next frame (no payload there,
  // so the tag lookup port is free): that PDU's remaining data is placed, its digest unverifiable (res0).
  // w0 feeds the payload beats' segment chain; ws (w0 with the resume) only the first beat's rules, which carry
  // no payload, so the resume stays off the chain.
  logic conf_eff, w0, ws, in_c2h, res0;
  always_comb begin
    conf_eff = c_conf || (rs_ok && rs_idx == f0_ctx_q);
    in_c2h   = c_c2h && (c_rg == ddp_pkg::RG_PAD || c_rg == ddp_pkg::RG_DATA || c_rg == ddp_pkg::RG_DDGST);
    w0       = c_wc && !(conf_eff && c_rg == ddp_pkg::RG_HDR && c_rem == 32'd24);
    ws       = w0 && !(conf_eff && in_c2h);
    res0     = b0_valid_q && f0_hit_q && b0_sof_q && c_wc && conf_eff && in_c2h;
  end

  // ---------------------------------------------------------------------------------------------------------
  // S1, first beat of a frame: the sequence rules.

  logic        live;        // the beat in S0 is valid and its frame hits a context
  logic        tracking;    // the context is not in SEARCH (WAIT_CONFIRM included)
  logic [31:0] diff;        // seq - exp
  logic        r1, r2, r34, r4, r5;
  logic        tmo_sof;     // rule 4 while waiting ended at a boundary more than RESYNC_TIMEOUT past the candidate
  logic        sr_in, sr_gap;   // SEARCH: a frame with payload at or after exp (after: the window restarts)
  logic        frame_track_q, crc_base_q;   // of the frame in S0 (set at its first beat)
  logic        frame_track, crc_base;
  region_e     sof_rg;      // state after the first beat's rules
  logic [31:0] sof_rem;
  logic [31:0] sof_exp;
  logic        sof_wc, sof_conf;
  logic [4:0]  sof_win;

  always_comb begin
    live     = b0_valid_q && f0_hit_q;
    tracking = c_rg != ddp_pkg::RG_SEARCH;
    diff     = f0_seq_q - c_exp;
    r1       = tracking && f0_plen_q == '0;
    r2       = tracking && !r1 && diff[31];
    r34      = tracking && !r1 && !diff[31];
    // Rule 4 applies while waiting for a confirm too (the candidate survives); other gaps drop it (r5 && ws).
    r4       = r34 && diff != '0 && c_rg == ddp_pkg::RG_DATA && diff <= c_rem;
    r5       = r34 && diff != '0 && !r4;
    // The gap may end exactly at a PDU boundary (data end, no DDGST): the timeout check of that boundary, which
    // the segment chain never sees. (A confirmed context resumes there lazily, through w0 at the next beat.)
    tmo_sof  = r4 && ws && !conf_eff && !cfg_ddgst && diff == c_rem && (c_tmo || f0_seq_q - c_cand > TMO);
    sr_in    = !tracking && f0_plen_q != '0 && !diff[31];
    sr_gap   = sr_in && diff != '0;
    sof_rg   = c_rg;
    sof_rem  = c_rem;
    sof_exp  = c_exp;
    sof_wc   = ws;
    sof_conf = ws && conf_eff;
    sof_win  = c_win;
    if (r34 || sr_in) sof_exp = f0_seq_q + {16'd0, f0_plen_q};
    if (r4) begin
      sof_rem = c_rem - diff;
      if (sof_rem == '0) begin
        sof_rg  = cfg_ddgst ? ddp_pkg::RG_DDGST : ddp_pkg::RG_HDR;
        sof_rem = cfg_ddgst ? 32'd4 : 32'd24;
      end
    end
    if (r5 || tmo_sof) begin
      sof_rg   = ddp_pkg::RG_SEARCH;
      sof_wc   = 1'b0;
      sof_conf = 1'b0;
    end
    if (r5 || sr_gap || tmo_sof) sof_win = 5'd0;
    // Frames of a context in SEARCH (or entering it) are scanned: they go through the payload path too.
    frame_track = b0_sof_q ? (r34 || sr_in) : frame_track_q;
    crc_base    = b0_sof_q ? ((r1 || (r34 && !r5)) && !ws) : crc_base_q;
  end

  // ---------------------------------------------------------------------------------------------------------
  // S1, payload beats: the header completing in this beat, then the segments.

  logic [15:0]         bstart;
  logic [16:0]         pend;
  logic [3:0]          lo, hi;
  logic                pay;          // the beat has payload lanes of a tracked (or scanned) frame
  logic [DATA_W-1:0]   sh_lo;        // the beat shifted down by lo lanes
  logic [4:0]          hdr_cnt0;     // header bytes held at the start of the beat
  logic [HDR_BITS-1:0] hdr_merged;
  // decoded header
  logic [7:0]  h_type, h_hlen, h_pdo;
  logic [1:0]  h_flags;      // HDGST, DDGST (the other flag bits are not checked)
  logic [31:0] h_plen, h_datao, h_datal;
  logic [15:0] h_cid;
  logic [7:0]  h_hlen_tot;
  logic        h_ok, h_c2h;
  logic [7:0]  h_pad;
  logic        h_aligned;
  logic [33:0] h_sum;

  always_comb begin
    bstart = {b0_beat_q[12:0], 3'b000};
    pend   = {1'b0, f0_poff_q} + {1'b0, f0_plen_q};
    if (f0_poff_q <= bstart)                lo = 4'd0;
    else if (f0_poff_q - bstart >= 16'd8)   lo = 4'd8;
    else                                    lo = 4'(f0_poff_q - bstart);
    if (pend <= {1'b0, bstart})             hi = 4'd0;
    else if (pend - {1'b0, bstart} >= 17'd8) hi = 4'd8;
    else                                    hi = 4'(pend - {1'b0, bstart});
    pay = live && frame_track && !b0_sof_q && lo < hi;

    sh_lo = b0_data_q >> {lo[2:0], 3'b000};
    if (lo[3]) sh_lo = '0;
    hdr_cnt0 = 5'(6'd24 - 6'(c_rem));   // meaningful in HDR
    for (int k = 0; k < ddp_pkg::HDR_LEN; k++) begin
      hdr_merged[8*k +: 8] = c_hdr[8*k +: 8];
      for (int s = 0; s < KEEP_W; s++) begin
        if (5'(k) == hdr_cnt0 + 5'(s)) hdr_merged[8*k +: 8] = sh_lo[8*s +: 8];
      end
    end

    h_type  = hdr_merged[7:0];
    h_flags = hdr_merged[9:8];
    h_hlen  = hdr_merged[23:16];
    h_pdo   = hdr_merged[31:24];
    h_plen  = hdr_merged[63:32];
    h_cid   = hdr_merged[79:64];
    h_datao = hdr_merged[127:96];
    h_datal = hdr_merged[159:128];
    h_hlen_tot = cfg_hdgst ? 8'd28 : 8'd24;
    h_aligned = h_pdo[1:0] == 2'b00 && ALIGNED[{cfg_cpda, h_pdo[7:2]}];  // pdo % ((cpda + 1) * 4) == 0
    h_sum   = {26'd0, h_pdo} + {2'd0, h_datal} + (cfg_ddgst ? 34'd4 : 34'd0);
    h_c2h   = h_type == ddp_pkg::PDU_C2H_DATA;
    h_ok    = 1'b0;
    unique case (h_type)
      ddp_pkg::PDU_C2H_DATA:
        h_ok = h_flags[1] == cfg_ddgst && h_datal != '0 && h_pdo >= h_hlen_tot && h_aligned
               && {2'd0, h_plen} == h_sum;
      ddp_pkg::PDU_CAPSULE_RESP, ddp_pkg::PDU_R2T:
        h_ok = h_pdo == 8'd0 && h_plen == {24'd0, h_hlen_tot} && !h_flags[1];
      ddp_pkg::PDU_C2H_TERM_REQ:
        h_ok = h_pdo == 8'd0 && h_plen >= 32'd24 && h_plen <= 32'(ddp_pkg::TERM_REQ_MAX_PLEN);
      default: h_ok = 1'b0;
    endcase
    h_ok = h_ok && h_hlen == 8'd24 && h_flags[0] == cfg_hdgst;
    if (h_c2h)                            h_pad = h_pdo - h_hlen_tot;
    else if (h_plen > {24'd0, h_hlen_tot}) h_pad = h_plen[7:0] - h_hlen_tot;
    else                                  h_pad = 8'd0;
  end

  // ---------------------------------------------------------------------------------------------------------
  // S1, resync scan (contract section 7): 8 header checkers, one per lane of the beat, each over the 24 bytes
  // ending at its lane: cw = {payload lanes of the beat (shifted to lane 0), the context's window of the last
  // WIN bytes}, candidate i = cw bytes i .. i + 23 (it ends at payload lane i). Independent of the segment chain:
  // a scan can only start at the beginning of the beat (SEARCH) or right after a header that fails in this beat,
  // which is always the beat's first piece, so the scan start (scan_e, a byte index in cw) is known up front.

  localparam int CW_BITS = 8 * WIN + DATA_W;

  logic [3:0]         n_pay;         // payload lanes in the beat
  logic [31:0]        pos_lo;        // seq of payload lane lo
  logic [CW_BITS-1:0] cw;
  logic [KEEP_W-1:0]  cv;            // candidate i passes the header check and ends in this beat
  logic               scan0, fail0;  // the beat starts in SEARCH / its first piece is a header that fails
  logic [4:0]         scan_e;        // first eligible candidate start (index in cw)
  logic [KEEP_W-1:0]  cm;
  logic               cand_found;
  logic [2:0]         cand_i;
  logic [HDR_BITS-1:0] cd_hdr;
  logic               cd_c2h;
  logic [7:0]         cd_pad;
  logic [31:0]        cd_plen, cd_datal, cd_seq;
  logic [3:0]         s_cdpad, s_cddatal;
  // timeout: D = pos_lo - cand; a boundary k lanes after lo is more than TMO past the candidate iff D + k > TMO
  logic [31:0]        td;
  logic               td_over, td_near;
  logic [2:0]         td_thr;

  always_comb begin
    n_pay  = hi - lo;
    pos_lo = f0_seq_q + {16'd0, bstart + {12'd0, lo} - f0_poff_q};
    cw     = {sh_lo, c_hist};
    for (int i = 0; i < KEEP_W; i++) begin
      cv[i] = hdr_check(cw[8*i +: HDR_BITS], cfg_hdgst, cfg_ddgst, cfg_cpda) && 4'(i) < n_pay;
    end
    scan0  = c_rg == ddp_pkg::RG_SEARCH;
    fail0  = c_rg == ddp_pkg::RG_HDR && c_rem <= {28'd0, n_pay} && !h_ok;
    scan_e = scan0 ? 5'(5'd23 - c_win) : c_rem[4:0];
    // Not gated by h_ok (off the header check's path): the chain takes the candidate only in SEARCH, i.e. at the
    // start of the beat or right after the header failed.
    for (int i = 0; i < KEEP_W; i++) cm[i] = cv[i] && (scan0 || (c_rg == ddp_pkg::RG_HDR && c_rem <= {28'd0, n_pay})) && 5'(i) >= scan_e;
    cand_found = cm != '0;
    cand_i     = 3'd0;
    for (int i = KEEP_W - 1; i >= 0; i--) begin
      if (cm[i]) cand_i = 3'(i);
    end
    cd_hdr   = HDR_BITS'(cw >> {cand_i, 3'b000});
    cd_c2h   = cd_hdr[7:0] == ddp_pkg::PDU_C2H_DATA;
    cd_plen  = cd_hdr[63:32];
    cd_datal = cd_hdr[159:128];
    if (cd_c2h)                           cd_pad = cd_hdr[31:24] - h_hlen_tot;
    else if (cd_plen > {24'd0, h_hlen_tot}) cd_pad = cd_plen[7:0] - h_hlen_tot;
    else                                  cd_pad = 8'd0;
    s_cdpad   = (cd_pad > 8'd8) ? 4'd9 : cd_pad[3:0];
    s_cddatal = (cd_datal > 32'd8) ? 4'd9 : cd_datal[3:0];
    cd_seq    = pos_lo + {29'd0, cand_i} - 32'd23;
    td        = pos_lo - c_cand;
    td_over   = td > TMO;
    td_near   = td > TMO - 32'd8;
    td_thr    = 3'(TMO - td);
  end

  // Segments.
  region_e     rg;
  logic [31:0] rem;
  next_region_t nx;
  logic [3:0]  a;            // first lane of the current segment
  logic        stop;
  logic        p_c2h;
  logic [7:0]  p_pad;
  logic [31:0] p_datal;
  logic [3:0]  rem_sat, left, n_here;
  logic [3:0]  rs, ps_pad, ps_datal;   // saturated copies (9: more than a beat) of rem, p_pad, p_datal
  logic [3:0]  s_crem, s_cpad, s_cdatal, s_hpad, s_hdatal;
  logic        ends;
  logic [31:0] fin_base;     // the region still open at the end of the beat: its remaining length before it
  logic [3:0]  fin_used;     //   and the lanes it used in this beat
  logic        hdr_done, hdr_fail;
  logic        hs_valid;     // a header starts in this beat at lane hs_lane
  logic [3:0]  hs_lane;
  logic        d_valid, d_cont;
  logic [3:0]  d_lo, d_cnt;
  logic [31:0] d_koff, d_rem;
  logic        g_present, g_done;
  logic [3:0]  g_lane;       // first digest lane in this beat
  logic [2:0]  g_off;        // digest bytes held before this beat
  logic [DATA_W-1:0] sh_g;
  logic [31:0] g_merged;
  region_e     end_rg;
  logic [31:0] end_rem;
  // resync
  logic        w, cf;        // waiting for a confirm / confirmed (at the current piece)
  logic        rr;           // a candidate was found in this beat
  logic        miss, tmo_p;  // a candidate was dropped (failed header or gap / timeout)
  logic [5:0]  e_fin;        // SEARCH at the end of the beat: scan start (index in cw)
  logic [3:0]  k_b;          // boundary: lanes after lo
  logic        tmo_here;
  logic        end_tmo;
  logic [5:0]  win_end;
  logic [8*WIN-1:0] hist_end;

  always_comb begin
    rg       = c_rg;
    rem      = c_rem;
    nx       = '0;
    p_c2h    = c_c2h;
    p_pad    = c_pad;
    p_datal  = c_datal;
    // Saturated lengths, computed once: the segment chain then works on 4-bit values only.
    s_crem   = (c_rem > 32'd8) ? 4'd9 : c_rem[3:0];
    s_cpad   = (c_pad > 8'd8) ? 4'd9 : c_pad[3:0];
    s_cdatal = (c_datal > 32'd8) ? 4'd9 : c_datal[3:0];
    s_hpad   = (h_pad > 8'd8) ? 4'd9 : h_pad[3:0];
    s_hdatal = (h_datal > 32'd8) ? 4'd9 : h_datal[3:0];
    rs       = s_crem;
    ps_pad   = s_cpad;
    ps_datal = s_cdatal;
    a        = lo;
    stop     = !pay;
    fin_base = c_rem;
    fin_used = 4'd0;
    hdr_done = 1'b0;
    hdr_fail = 1'b0;
    hs_valid = 1'b0;
    hs_lane  = 4'd0;
    d_valid  = 1'b0;
    d_cont   = 1'b0;
    d_lo     = 4'd0;
    d_cnt    = 4'd0;
    d_rem    = '0;
    g_present = 1'b0;
    g_done   = 1'b0;
    g_lane   = 4'd0;
    g_off    = 3'd0;
    rem_sat  = 4'd0;
    left     = 4'd0;
    n_here   = 4'd0;
    ends     = 1'b0;
    w        = w0;
    cf       = conf_eff;
    rr       = 1'b0;
    miss     = 1'b0;
    tmo_p    = 1'b0;
    e_fin    = {1'b0, scan_e};
    k_b      = 4'd0;
    tmo_here = 1'b0;
    for (int j = 0; j < SEGS; j++) begin
      if (!stop && a < hi) begin
        if (rg == ddp_pkg::RG_SEARCH) begin
          // The scan: the first eligible candidate (at most one per beat: the next header is 24 bytes on).
          if (cand_found) begin
            rr       = 1'b1;
            w        = 1'b1;
            cf       = 1'b0;
            a        = lo + {1'b0, cand_i} + 4'd1;
            p_c2h    = cd_c2h;
            p_pad    = cd_pad;
            p_datal  = cd_datal;
            ps_pad   = s_cdpad;
            ps_datal = s_cddatal;
            nx  = next_region(ddp_pkg::RG_HDR, cfg_hdgst, cfg_ddgst, cd_pad, s_cdpad, cd_c2h, cd_datal, s_cddatal);
            rg  = nx.rg;
            rem = nx.rem;
            rs  = nx.rs;
            if (rg == ddp_pkg::RG_HDR && a < hi) begin
              hs_valid = 1'b1;
              hs_lane  = a;
            end
            fin_base = rem;
            fin_used = 4'd0;
          end else begin
            stop = 1'b1;
          end
        end else begin
          rem_sat = rs;  // 9: more than the beat holds
          left    = hi - a;
          ends    = rem_sat <= left;   // the region ends in this beat
          n_here  = ends ? rem_sat : left;
          unique case (rg)
            ddp_pkg::RG_DATA: begin
              if (!w) begin
                d_valid = 1'b1;
                d_lo    = a;
                d_cnt   = n_here;
                d_rem   = rem;
                d_cont  = j == 0 && f0_poff_q < bstart;
              end
            end
            ddp_pkg::RG_DDGST: begin
              if (!w) begin
                g_present = 1'b1;
                g_lane    = a;
                g_off     = 3'(3'd4 - rem[2:0]);
                g_done    = ends;
              end
            end
            default: ;
          endcase
          if (ends) begin
            a = a + n_here;
            unique case (rg)
              ddp_pkg::RG_HDR: begin
                if (h_ok) begin
                  hdr_done = 1'b1;
                  p_c2h    = h_c2h;
                  p_pad    = h_pad;
                  p_datal  = h_datal;
                  ps_pad   = s_hpad;
                  ps_datal = s_hdatal;
                  nx  = next_region(ddp_pkg::RG_HDR, cfg_hdgst, cfg_ddgst, h_pad, s_hpad, h_c2h, h_datal, s_hdatal);
                  rg  = nx.rg;
                  rem = nx.rem;
                  rs  = nx.rs;
                end else begin
                  // A failed check: SEARCH, scanning from the header's second byte (this beat: scan_e).
                  hdr_fail = 1'b1;
                  miss     = w;
                  w        = 1'b0;
                  cf       = 1'b0;
                  rg       = ddp_pkg::RG_SEARCH;
                end
              end
              default: begin  // HDGST, PAD, DATA, DDGST: `from` constant per region keeps the logic shallow
                unique case (rg)
                  ddp_pkg::RG_HDGST: nx = next_region(ddp_pkg::RG_HDGST, cfg_hdgst, cfg_ddgst, p_pad, ps_pad, p_c2h, p_datal, ps_datal);
                  ddp_pkg::RG_PAD:   nx = next_region(ddp_pkg::RG_PAD, cfg_hdgst, cfg_ddgst, p_pad, ps_pad, p_c2h, p_datal, ps_datal);
                  ddp_pkg::RG_DATA:  nx = next_region(ddp_pkg::RG_DATA, cfg_hdgst, cfg_ddgst, p_pad, ps_pad, p_c2h, p_datal, ps_datal);
                  default:           nx = next_region(ddp_pkg::RG_DDGST, cfg_hdgst, cfg_ddgst, p_pad, ps_pad, p_c2h, p_datal, ps_datal);
                endcase
                rg  = nx.rg;
                rem = nx.rem;
                rs  = nx.rs;
              end
            endcase
            // A PDU boundary while waiting: a confirmed context resumes here; an unconfirmed candidate more than
            // RESYNC_TIMEOUT bytes behind is dropped and the scan restarts here.
            if (rg == ddp_pkg::RG_HDR && w) begin
              k_b      = a - lo;
              tmo_here = !rr && (c_tmo || td_over || (td_near && k_b > {1'b0, td_thr}));
              if (cf) begin
                w  = 1'b0;
                cf = 1'b0;
              end else if (tmo_here) begin
                tmo_p = 1'b1;
                w     = 1'b0;
                rg    = ddp_pkg::RG_SEARCH;
                e_fin = 6'd23 + {2'd0, k_b};
                stop  = 1'b1;
              end
            end
            if (rg == ddp_pkg::RG_HDR && !stop && a < hi) begin
              hs_valid = 1'b1;
              hs_lane  = a;
            end
            fin_base = rem;
            fin_used = 4'd0;
          end else begin
            fin_base = rem;
            fin_used = n_here;
            stop     = 1'b1;
          end
        end
      end
    end
    end_rg  = rg;
    d_koff  = p_datal - d_rem;  // (no header completes after data in the same beat)
    end_rem = fin_base - {28'd0, fin_used};
    // Resync state at the end of the beat.
    end_tmo = w && !rr && !cf && (c_tmo || td_over || (td_near && n_pay > {1'b0, td_thr}));
    hist_end = cw[8*n_pay +: 8*WIN];
    if (e_fin <= {2'd0, n_pay}) win_end = 6'd23;
    else                        win_end = 6'd23 + {2'd0, n_pay} - e_fin;

    // Data digest bytes: merged with the ones held.
    sh_g = g_lane[3] ? '0 : b0_data_q >> {g_lane[2:0], 3'b000};
    for (int k = 0; k < 4; k++) begin
      g_merged[8*k +: 8] = (k < 3) ? c_dg[8*(k % 3) +: 8] : 8'd0;
      for (int s = 0; s < 4; s++) begin
        if (3'(k) == g_off + 3'(s)) g_merged[8*k +: 8] = sh_g[8*s +: 8];
      end
    end
  end

  // New partial header: a header that started in this beat, or the one continued from earlier beats.
  logic [HDR_BITS-1:0] hdr_next;
  logic [DATA_W-1:0]   sh_h;
  always_comb begin
    sh_h = hs_lane[3] ? '0 : b0_data_q >> {hs_lane[2:0], 3'b000};
    if (hs_valid) hdr_next = {{(HDR_BITS-DATA_W){1'b0}}, sh_h};
    else          hdr_next = hdr_merged;
  end

  // ---------------------------------------------------------------------------------------------------------
  // State and output registers.

  always_ff @(posedge clk) begin
    // A confirm; a beat of the same context in this cycle has taken it into account (conf_eff) and wins.
    if (rs_ok) st_conf[rs_idx] <= 1'b1;
    if (adv && live && b0_sof_q) begin
      st_rg[f0_ctx_q]   <= sof_rg;
      st_rem[f0_ctx_q]  <= sof_rem;
      st_exp[f0_ctx_q]  <= sof_exp;
      st_wc[f0_ctx_q]   <= sof_wc;
      st_conf[f0_ctx_q] <= sof_conf;
      st_win[f0_ctx_q]  <= sof_win;
    end
    if (adv && pay) begin
      st_rg[f0_ctx_q]    <= end_rg;
      st_rem[f0_ctx_q]   <= end_rem;
      st_hdr[f0_ctx_q]   <= hdr_next;
      st_dg[f0_ctx_q]    <= g_merged[23:0];
      st_c2h[f0_ctx_q]   <= p_c2h;
      st_pad[f0_ctx_q]   <= p_pad;
      st_datal[f0_ctx_q] <= p_datal;
      // The last header of the beat (at most one passes or is a candidate); only a C2HData's are ever used.
      if (hdr_done) begin
        st_cid[f0_ctx_q]   <= h_cid;
        st_datao[f0_ctx_q] <= h_datao;
      end else if (rr) begin
        st_cid[f0_ctx_q]   <= cd_hdr[79:64];
        st_datao[f0_ctx_q] <= cd_hdr[127:96];
      end
      st_wc[f0_ctx_q]    <= w;
      st_conf[f0_ctx_q]  <= w && cf;
      st_tmo[f0_ctx_q]   <= end_tmo;
      st_hist[f0_ctx_q]  <= hist_end;
      st_win[f0_ctx_q]   <= win_end[4:0];
      if (rr) st_cand[f0_ctx_q] <= cd_seq;
    end
    // CTX_ADD (never for a context with frames in flight; see the contract) wins.
    if (init_valid) begin
      st_rg[init_idx]   <= ddp_pkg::RG_HDR;
      st_rem[init_idx]  <= 32'd24;
      st_exp[init_idx]  <= init_seq;
      st_wc[init_idx]   <= 1'b0;
      st_conf[init_idx] <= 1'b0;
      st_tmo[init_idx]  <= 1'b0;
      st_win[init_idx]  <= 5'd0;
    end
  end

  always_ff @(posedge clk) begin
    if (adv) begin
      if (b0_valid_q && b0_sof_q) begin
        frame_track_q <= live && (r34 || sr_in);
        crc_base_q    <= live && (r1 || (r34 && !r5)) && !ws;
      end
      m_data      <= b0_data_q;
      m_keep      <= b0_keep_q;
      m_last      <= b0_last_q;
      m_sof       <= b0_sof_q;
      m_beat      <= b0_beat_q;
      m_hit       <= f0_hit_q;
      m_ctx       <= f0_ctx_q;
      m_crc_base  <= live && crc_base && cfg_ddgst;
      m_crc_kill  <= pay && hdr_fail;
      // While waiting, ddp_place holds no PDU of the context. A resume (res0: a first beat, no payload, so no
      // header passes in it) is a header done with a gap: ddp_place looks the tag up, crc_valid = 0.
      m_gap       <= (live && b0_sof_q && r4 && !ws) || res0;
      m_hdr_done  <= (pay && hdr_done && !w0) || res0;
      m_hdr_c2h   <= h_c2h || res0;
      m_hdr_cid   <= res0 ? c_cid : h_cid;
      m_hdr_datao <= res0 ? c_datao : h_datao;
      m_hdr_datal <= res0 ? c_datal : h_datal;
      m_d_valid   <= pay && d_valid;
      m_d_lo      <= d_lo;
      m_d_cnt     <= d_cnt;
      m_d_koff    <= d_koff;
      m_d_cont    <= d_cont;
      m_g_present <= pay && g_present;
      m_g_done    <= pay && g_done;
      m_g_value   <= g_merged;
      m_st_drop     <= (live && b0_sof_q && r5 && !ws) || (pay && hdr_fail && !miss);
      m_st_search   <= (live && b0_sof_q && r5 && !ws) || (pay && hdr_fail && !miss);
      m_st_ooo      <= live && b0_sof_q && r34 && diff != '0;
      m_st_retx     <= live && b0_sof_q && r2;
      m_st_pass     <= b0_valid_q && b0_sof_q && !f0_ok_q;
      m_st_oversize <= b0_valid_q && b0_sof_q && f0_oversize_q;
      m_rr          <= pay && rr;
      m_rr_seq      <= cd_seq;
      m_st_miss     <= (live && b0_sof_q && r5 && ws) || (pay && miss);
      m_st_tmo      <= (live && b0_sof_q && tmo_sof) || (pay && tmo_p);
    end
  end

  always_ff @(posedge clk) begin
    if (rst) m_valid <= 1'b0;
    else if (adv) m_valid <= b0_valid_q;
  end

  // Candidate header fields the scan does not need (cid, datao, flags other than the digests).
  logic unused_ok;
  assign unused_ok = ^{cd_hdr[HDR_BITS-1:160], cd_hdr[95:80], cd_hdr[23:8], win_end[5]};

`ifndef SYNTHESIS
  initial begin
    assert (RESYNC_TIMEOUT >= 32) else $fatal(1, "ddp_tracker: RESYNC_TIMEOUT must be at least 32");
  end
  // At most one header completes per beat, and the data offset never passes the PDU's data length.
  data_in_pdu: assert property (@(posedge clk) disable iff (rst) pay && d_valid |-> {1'b0, d_koff} + 33'(d_cnt) <= {1'b0, p_datal})
    else $error("ddp_tracker: data lanes beyond the PDU's data");
  all_lanes_cut: assert property (@(posedge clk) disable iff (rst) pay |-> stop || a >= hi)
    else $error("ddp_tracker: more region pieces in a beat than SEGS");
  payload_not_in_first_beat: assert property (@(posedge clk) disable iff (rst) live && b0_sof_q |-> lo >= hi)
    else $error("ddp_tracker: payload in a frame's first beat");
  // A candidate comes only from a scan at the start of the beat or right after a header that failed in it.
  one_candidate: assert property (@(posedge clk) disable iff (rst) pay && rr |-> scan0 || fail0)
    else $error("ddp_tracker: candidate without a scan");
`endif

endmodule
