// ddp_delay: fixed-latency delay FIFO that pairs each frame with its parser verdict.
//
// Why (docs/offload-uarch.md section 1): the verdict of a frame (checksums, flow) is known only after its last
// beat, but the stages after this one must know it from the frame's first beat on. Delaying every beat by a
// fixed LATENCY >= the longest frame in beats (plus a margin) makes the verdict arrive before its frame leaves.
//
//   s_axis ──► beat memory (DEPTH beats) ──► m_axis  + m_meta_* (the frame's verdict, held for every beat)
//   s_verdict ──► verdict FIFO (VERDICTS) ──┘
//
// Rules:
//   - A beat leaves exactly LATENCY cycles after it was accepted (m_axis transfer cycle minus s_axis transfer
//     cycle) when m_axis_tready is high and its frame's verdict is there; it never leaves earlier.
//   - A frame's first beat waits at the head until the frame's verdict is in the verdict FIFO. Exception: a
//     frame longer than MAX_BEATS beats does not wait: once its first beat is due and more than MAX_BEATS of its
//     beats have entered, it passes with m_meta_missing = 1 if its verdict is not there, and its verdict, when
//     it comes, is dropped. With MAX_BEATS <= LATENCY - 2 such a frame is known oversize before its first beat
//     is due, so every frame keeps the exact latency and the input is never throttled while m_axis is ready
//     (bug B1: the head used to wait until the memory was full). Safety net for MAX_BEATS > LATENCY - 2: when
//     the memory is full and holds no complete frame, the head frame passes the same way. Verdicts pair with
//     frames by order: the k-th verdict belongs to the k-th frame.
//   - Oversize marks: every frame pushes one bit into a small FIFO, 1 at its (MAX_BEATS + 1)-th beat or 0 at its
//     last beat if it is not longer; the bit is popped with the frame's first beat, so the head frame's bit is
//     there before the frame could be oversize-passed. (A frame passed by the safety net before its bit came
//     has the bit dropped when it comes.)
//   - Back-pressure on m_axis stalls the head and the memory fills; s_axis_tready drops only when the memory
//     is full, or when VERDICTS - 2 frames are open (entered, verdict not yet used or dropped) and the next
//     input beat would open another. VERDICTS = DEPTH / 8 + 8 covers minimum-size (60-byte) frames at line rate.
//   - s_verdict_ready is low only when the verdict FIFO (VERDICTS + 1 with its head) is full. It cannot fill
//     when verdicts come after their frames' last beats, as from ddp_parser: every waiting verdict belongs
//     to an open frame or to one of the at most 2 frames still in the parser's output register slice.
//
// When is a beat due: a 1-bit ring of LATENCY-3 entries, indexed by time, remembers in which cycles a beat was
// accepted; reading it back LATENCY-3 cycles later counts the beats in memory that have become due (no time
// stamps in the beat memory, so no wrap-around however long a beat waits).
//
// Parameters:
//   DATA_W     tdata width in bits, a multiple of 8
//   KEEP_W     tkeep width (derived)
//   DEPTH      beat memory in beats (1160: 9216-byte frames at 8 bytes per beat plus margin)
//   LATENCY    cycles from s_axis to m_axis, 4 .. DEPTH + 1 (so that full rate never fills the memory)
//   VERDICT_W  width of the verdict bus (its fields do not matter here)
//   VERDICTS   verdict FIFO entries; VERDICTS - 2 = most frames open at once
//   MAX_BEATS  longest frame in beats that waits for its verdict (ddp_top: MAX_FRAME / KEEP_W rounded up)
// Ports:
//   clk, rst                                  clock, synchronous active-high reset
//   s_axis_t{data,keep,valid,ready,last}      beats in (from ddp_parser)
//   s_verdict_{valid,ready,data}              one verdict per frame, in frame order
//   m_axis_t{data,keep,valid,ready,last}      beats out
//   m_meta_verdict[VERDICT_W-1:0]             the frame's verdict, valid with every beat of the frame
//                                             (whatever value when m_meta_missing)
//   m_meta_missing                            1: the frame left without its verdict (longer than the memory)
//   m_meta_sof                                1: this beat is its frame's first
//   m_meta_valid                              strobe: a first beat is transferred this cycle (for monitors)

module ddp_delay #(
  // tdata width in bits, a multiple of 8
  parameter int DATA_W = 64,
  // tkeep width: one bit per byte
  parameter int KEEP_W = DATA_W / 8,
  // beat memory size in beats
  parameter int DEPTH = 1160,
  // cycles from s_axis to m_axis for every beat (4 .. DEPTH + 1)
  parameter int LATENCY = DEPTH,
  // verdict bus width in bits
  parameter int VERDICT_W = 64,
  // verdict FIFO entries (+1 head register); at most VERDICTS - 2 frames are in the delay line at once
  parameter int VERDICTS = DEPTH / 8 + 8,
  // frames longer than this many beats never wait for their verdict (<= LATENCY - 2 for an exact latency)
  parameter int MAX_BEATS = DEPTH
) (
  input  logic                 clk,
  input  logic                 rst,

  input  logic [DATA_W-1:0]    s_axis_tdata,
  input  logic [KEEP_W-1:0]    s_axis_tkeep,
  input  logic                 s_axis_tvalid,
  output logic                 s_axis_tready,
  input  logic                 s_axis_tlast,

  input  logic                 s_verdict_valid,
  output logic                 s_verdict_ready,
  input  logic [VERDICT_W-1:0] s_verdict_data,

  output logic [DATA_W-1:0]    m_axis_tdata,
  output logic [KEEP_W-1:0]    m_axis_tkeep,
  output logic                 m_axis_tvalid,
  input  logic                 m_axis_tready,
  output logic                 m_axis_tlast,

  output logic [VERDICT_W-1:0] m_meta_verdict,
  output logic                 m_meta_missing,
  output logic                 m_meta_sof,
  output logic                 m_meta_valid
);

  localparam int BEAT_W = DATA_W + KEEP_W + 1;  // {tlast, tkeep, tdata}
  localparam int PTR_W  = $clog2(DEPTH);
  localparam int CNT_W  = $clog2(DEPTH + 1);
  // Ring of accept events: read back RING + 1 cycles after the write, counted one cycle later, so a beat
  // accepted in cycle t is due (may be read from memory) in cycle t + LATENCY - 1 and leaves in t + LATENCY.
  localparam int RING   = LATENCY - 3;
  localparam int TICK_W = $clog2(RING);
  localparam int VPTR_W = $clog2(VERDICTS);
  localparam int VCNT_W = $clog2(VERDICTS + 1);
  // Most frames open at once: room is left for the verdicts of 2 one-beat frames held upstream.
  localparam int OPEN_MAX = VERDICTS - 2;
  localparam int LEN_W    = $clog2(MAX_BEATS + 2);

  // ---------------------------------------------------------------------------------------------------------
  // Input side.

  logic [BEAT_W-1:0] mem [DEPTH];
  logic [PTR_W-1:0]  wr_ptr_q, rd_ptr_q;
  logic [CNT_W-1:0]  count_q;     // beats in memory
  logic [CNT_W-1:0]  due_q;       // beats in memory that are due
  logic [CNT_W-1:0]  done_q;      // last beats in memory (complete frames; one cycle late on the read side)
  logic              in_sof_q;    // the next input beat starts a frame
  logic [VCNT_W-1:0] open_q;      // frames entered whose verdict is not used or dropped yet
  logic              in_beat;     // a beat is accepted this cycle

  assign s_axis_tready = count_q != CNT_W'(DEPTH) && (!in_sof_q || open_q < VCNT_W'(OPEN_MAX));
  assign in_beat       = s_axis_tvalid && s_axis_tready;

  always_ff @(posedge clk) begin
    if (in_beat) mem[wr_ptr_q] <= {s_axis_tlast, s_axis_tkeep, s_axis_tdata};
  end

  // Accept events, by time.
  logic              ring [RING];
  logic [TICK_W-1:0] tick_q;
  logic              ring_full_q;  // every ring entry was written since reset
  logic              ring_out_q;   // the event read back this cycle
  logic              ring_ok_q;    // ring_out_q was written since reset
  logic              became_due;   // a beat becomes due at this edge

  always_ff @(posedge clk) begin
    ring_out_q   <= ring[tick_q];
    ring[tick_q] <= in_beat;
  end

  always_ff @(posedge clk) begin
    if (rst) begin
      tick_q      <= '0;
      ring_full_q <= 1'b0;
      ring_ok_q   <= 1'b0;
    end else begin
      tick_q      <= (tick_q == TICK_W'(RING - 1)) ? '0 : tick_q + 1'b1;
      ring_full_q <= ring_full_q || tick_q == TICK_W'(RING - 1);
      ring_ok_q   <= ring_full_q;
    end
  end

  assign became_due = ring_out_q && ring_ok_q;

  // ---------------------------------------------------------------------------------------------------------
  // Verdict FIFO: a RAM plus its read register, which is the FIFO head.

  logic [VERDICT_W-1:0] vmem [VERDICTS];
  logic [VPTR_W-1:0]    vwr_ptr_q, vrd_ptr_q;
  logic [VCNT_W-1:0]    vcount_q;      // verdicts in vmem (the head not counted)
  logic [VERDICT_W-1:0] vhead_q;
  logic                 vhead_valid_q;
  logic [VCNT_W-1:0]    skip_q;        // verdicts of frames that left without them, still to drop
  logic                 v_in;          // a verdict is accepted this cycle
  logic                 v_pop;         // the head is used or dropped this cycle
  logic                 v_read;        // vmem is read into the head this cycle
  logic                 verdict_avail; // the head is the verdict of the frame at the memory head

  assign s_verdict_ready = vcount_q != VCNT_W'(VERDICTS);
  assign v_in            = s_verdict_valid && s_verdict_ready;
  assign verdict_avail   = vhead_valid_q && skip_q == '0;

  always_ff @(posedge clk) begin
    if (v_in) vmem[vwr_ptr_q] <= s_verdict_data;
    if (v_read) vhead_q <= vmem[vrd_ptr_q];
  end

  // ---------------------------------------------------------------------------------------------------------
  // Oversize marks: one bit per frame, in frame order (see the header).

  logic              osz_mem [VERDICTS];
  logic [VPTR_W-1:0] owr_ptr_q, ord_ptr_q;
  logic [VCNT_W-1:0] ocount_q;
  logic [LEN_W-1:0]  in_len_q;    // beats of the input frame so far (saturates at MAX_BEATS + 1)
  logic [LEN_W-1:0]  in_len;      // ... including this cycle's beat
  logic              o_push, o_bit, o_pop;
  logic              o_pop_empty;   // a frame leaves before its mark (safety net only)
  logic              o_take;        // the pushed mark is stored
  logic              oskip_q;       // a mark to drop (its frame has left)
  logic              head_oversize;  // the head frame has more than MAX_BEATS beats

  always_comb begin
    in_len = (in_len_q == LEN_W'(MAX_BEATS + 1)) ? in_len_q : in_len_q + 1'b1;
    o_push = in_beat && ((in_len_q == LEN_W'(MAX_BEATS)) || (s_axis_tlast && in_len_q < LEN_W'(MAX_BEATS)));
    o_bit  = in_len_q == LEN_W'(MAX_BEATS);
    head_oversize = ocount_q != '0 && osz_mem[ord_ptr_q];
  end

  always_comb begin
    o_pop_empty = o_pop && ocount_q == '0;
    o_take      = o_push && !oskip_q && !o_pop_empty;
  end

  always_ff @(posedge clk) begin
    if (o_take) osz_mem[owr_ptr_q] <= o_bit;
  end

  // ---------------------------------------------------------------------------------------------------------
  // Output side. The memory's read register is the m_axis output register.

  logic [BEAT_W-1:0]    out_beat_q;
  logic                 out_valid_q;
  logic                 out_sof_q;       // the beat in out_beat_q is a frame's first
  logic                 issued_q;        // a beat was read since reset (out_beat_q holds the latest one)
  logic                 issued_last_q;   // the beat read last cycle
  logic [VERDICT_W-1:0] meta_q;
  logic                 missing_q;
  logic                 head_sof;        // the beat at the memory head starts a frame
  logic                 missing;         // the head frame cannot get its verdict before it leaves
  logic                 issue;           // read the head beat into the output register at this edge

  assign {m_axis_tlast, m_axis_tkeep, m_axis_tdata} = out_beat_q;
  assign m_axis_tvalid  = out_valid_q;
  assign m_meta_verdict = meta_q;
  assign m_meta_missing = missing_q;
  assign m_meta_sof     = out_sof_q;
  assign m_meta_valid   = out_valid_q && out_sof_q && m_axis_tready;

  always_comb begin
    head_sof = !issued_q || out_beat_q[BEAT_W-1];
    missing  = head_sof && !verdict_avail && (head_oversize || (count_q == CNT_W'(DEPTH) && done_q == '0));
    issue    = (!out_valid_q || m_axis_tready) && due_q != '0 && (!head_sof || verdict_avail || missing);
    v_pop    = (issue && head_sof && verdict_avail) || (vhead_valid_q && skip_q != '0);
    v_read   = (!vhead_valid_q || v_pop) && vcount_q != '0;
    o_pop    = issue && head_sof;
  end

  always_ff @(posedge clk) begin
    if (issue) begin
      out_beat_q <= mem[rd_ptr_q];
      out_sof_q  <= head_sof;
    end
    if (issue && head_sof) begin
      meta_q    <= vhead_q;
      missing_q <= !verdict_avail;
    end
  end

  // ---------------------------------------------------------------------------------------------------------
  // Pointers and counters (control state, reset).

  always_ff @(posedge clk) begin
    if (rst) begin
      wr_ptr_q      <= '0;
      rd_ptr_q      <= '0;
      count_q       <= '0;
      due_q         <= '0;
      done_q        <= '0;
      in_sof_q      <= 1'b1;
      open_q        <= '0;
      vwr_ptr_q     <= '0;
      vrd_ptr_q     <= '0;
      vcount_q      <= '0;
      vhead_valid_q <= 1'b0;
      skip_q        <= '0;
      owr_ptr_q     <= '0;
      ord_ptr_q     <= '0;
      ocount_q      <= '0;
      oskip_q       <= 1'b0;
      in_len_q      <= '0;
      out_valid_q   <= 1'b0;
      issued_q      <= 1'b0;
      issued_last_q <= 1'b0;
    end else begin
      if (in_beat) wr_ptr_q <= (wr_ptr_q == PTR_W'(DEPTH - 1)) ? '0 : wr_ptr_q + 1'b1;
      if (issue)   rd_ptr_q <= (rd_ptr_q == PTR_W'(DEPTH - 1)) ? '0 : rd_ptr_q + 1'b1;
      count_q  <= count_q + CNT_W'(in_beat) - CNT_W'(issue);
      due_q    <= due_q + CNT_W'(became_due) - CNT_W'(issue);
      done_q   <= done_q + CNT_W'(in_beat && s_axis_tlast) - CNT_W'(issued_last_q && out_beat_q[BEAT_W-1]);
      if (in_beat) in_sof_q <= s_axis_tlast;
      open_q   <= open_q + VCNT_W'(in_beat && in_sof_q) - VCNT_W'(v_pop);

      if (v_in)   vwr_ptr_q <= (vwr_ptr_q == VPTR_W'(VERDICTS - 1)) ? '0 : vwr_ptr_q + 1'b1;
      if (v_read) vrd_ptr_q <= (vrd_ptr_q == VPTR_W'(VERDICTS - 1)) ? '0 : vrd_ptr_q + 1'b1;
      vcount_q      <= vcount_q + VCNT_W'(v_in) - VCNT_W'(v_read);
      vhead_valid_q <= v_read || (vhead_valid_q && !v_pop);
      skip_q        <= skip_q + VCNT_W'(issue && missing) - VCNT_W'(vhead_valid_q && skip_q != '0);

      if (o_take) owr_ptr_q <= (owr_ptr_q == VPTR_W'(VERDICTS - 1)) ? '0 : owr_ptr_q + 1'b1;
      if (o_pop && ocount_q != '0) ord_ptr_q <= (ord_ptr_q == VPTR_W'(VERDICTS - 1)) ? '0 : ord_ptr_q + 1'b1;
      ocount_q      <= ocount_q + VCNT_W'(o_take) - VCNT_W'(o_pop && ocount_q != '0);
      if (o_pop_empty && !o_push)      oskip_q <= 1'b1;
      else if (o_push && oskip_q)      oskip_q <= o_pop_empty;
      if (in_beat) in_len_q <= s_axis_tlast ? '0 : in_len;
      out_valid_q   <= issue || (out_valid_q && !m_axis_tready);
      issued_q      <= issued_q || issue;
      issued_last_q <= issue;
    end
  end

`ifndef SYNTHESIS
  initial begin
    assert (LATENCY >= 4 && LATENCY <= DEPTH + 1) else $fatal(1, "ddp_delay: LATENCY must be 4 .. DEPTH + 1");
    assert (DATA_W % 8 == 0) else $fatal(1, "ddp_delay: DATA_W must be a multiple of 8");
    assert (VERDICTS >= 3) else $fatal(1, "ddp_delay: VERDICTS must be at least 3");
  end
  no_mem_overflow: assert property (@(posedge clk) disable iff (rst) count_q <= CNT_W'(DEPTH))
    else $error("ddp_delay: beat memory overflow");
  due_within_count: assert property (@(posedge clk) disable iff (rst) due_q <= count_q)
    else $error("ddp_delay: more due beats than beats in memory");
  // Writes only when there is room (s_verdict_ready); ddp_parser's verdicts are never refused (see header).
  no_verdict_overflow: assert property (@(posedge clk) disable iff (rst) vcount_q <= VCNT_W'(VERDICTS))
    else $error("ddp_delay: verdict FIFO overflow");
  // Order: a verdict is used or dropped only for a frame that has entered, and the head never starts a frame
  // while the previous one is incomplete in memory.
  verdict_has_frame: assert property (@(posedge clk) disable iff (rst) v_pop |-> open_q != '0)
    else $error("ddp_delay: verdict used or dropped with no open frame");
  // A frame leaves before its oversize mark only with its verdict (verdicts that come before the frame's last
  // beat: not from ddp_parser) or through the safety net; at most one mark is then pending.
  osz_mark_there: assert property (@(posedge clk) disable iff (rst) o_pop_empty |-> verdict_avail || (count_q == CNT_W'(DEPTH) && done_q == '0))
    else $error("ddp_delay: a frame leaves oversize before its oversize mark");
  one_osz_skip: assert property (@(posedge clk) disable iff (rst) o_pop_empty && !o_push |-> !oskip_q)
    else $error("ddp_delay: two oversize marks to drop");
  no_osz_overflow: assert property (@(posedge clk) disable iff (rst) ocount_q <= VCNT_W'(VERDICTS))
    else $error("ddp_delay: oversize mark FIFO overflow");
  done_within_count: assert property (@(posedge clk) disable iff (rst) done_q <= count_q + CNT_W'(1))
    else $error("ddp_delay: more complete frames than beats");
`endif

endmodule
