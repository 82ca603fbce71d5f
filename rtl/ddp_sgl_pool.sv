// ddp_sgl_pool: the page lists (SGLs) of the registered read buffers, one per tag slot, from a shared chunk pool.
//
// Why (issue 10): a tag's buffer may be 128 pages of 4 KiB (a 512 KiB read); giving every slot room for that
// would cost SLOTS x MAX_SGL PFNs. Buffers are page-granular like NVMe PRPs (every entry but the first starts on
// a page boundary, every entry but the last ends on one), so an SGL is a list of page frame numbers (PFNs), and
// page i of a buffer is simply entry i: the datapath finds any page in O(1). The PFNs live in chunks of CHUNK
// pages taken from a pool that all slots share; a slot's row of the chunk map names its chunks in page order.
//
// Storage (inferred RAM, nothing is swept at reset):
//
//   chunk map  SLOTS rows x CPS chunk pointers (CPS = MAX_SGL / CHUNK), pointer j in bits [j*CHUNK_W +: CHUNK_W];
//              written whole at COMMIT; read by the lookup (port B) and by FREE (port A, which also writes).
//   pool       N_CHUNKS x CHUNK PFNs in two banks by page parity: page p of chunk c is word
//              c * CHUNK/2 + p/2 of bank p % 2. Pages i and i+1 always differ in parity, so one cycle reads both.
//
//                 chunk map row of slot s         bank 0 (even pages)       bank 1 (odd pages)
//              +--------+--------+--------+      +-------+-------+         +-------+-------+
//              | c[0]=7 | c[1]=2 |  ...   |      | p0 p2 | p4 p6 | chunk 7 | p1 p3 | p5 p7 | chunk 7
//              +--------+--------+--------+      | p8 .. |       | chunk 2 | p9 .. |       | chunk 2
//                                                (CHUNK = 8: 4 words per chunk and bank)
//   free list  a bump pointer over chunks never used since reset, plus a FIFO in RAM of freed chunks (the FIFO
//              is used first). Reset only zeroes the pointers: free_chunks = N_CHUNKS.
//
// Command side (one operation at a time; w_ready is high when idle; clk only, adv does not matter):
//   w_op 0 BEGIN          opens a build: 0 pages, w_full cleared (w_slot is ignored: the slot is given at
//                         COMMIT). 1 cycle.
//        1 PAGE(w_pfn)    appends page i = pages so far. At i % CHUNK == 0 a chunk is allocated (free FIFO first,
//                         else the bump pointer); if none is free, w_full is set and stays set until the next
//                         BEGIN, and this and every later PAGE of the build are ignored. 1 cycle.
//        2 COMMIT(w_slot) writes the build's chunk-map row as the row of slot w_slot: lookups whose chunk-map read
//                         (first advance) is at a later edge see the SGL; any lookup presented once w_done is high
//                         does. Closes the build.
//        3 ABORT          returns the build's chunks (ceil(pages / CHUNK)) to the free list. Closes the build.
//        4 FREE(w_slot, w_npages)  returns ceil(w_npages / CHUNK) chunks of the slot's committed row. The user
//                         frees a slot only when no lookup of it is in flight. May come while a build is open.
//   COMMIT, ABORT and FREE end with a one-cycle w_done (w_ready low meanwhile): COMMIT and an operation with no
//   chunk to return take 2 cycles, ABORT 2 + chunks, FREE 2 + chunks (one chunk returned per cycle).
//   free_chunks counts the free chunks after every edge. Usage errors (PAGE / COMMIT / ABORT without BEGIN,
//   BEGIN over an open build, a page beyond MAX_SGL, COMMIT after w_full, FREE of more than MAX_SGL pages, a
//   chunk returned twice, an unknown op) fail an assertion; what the RTL then does is unspecified.
//
// Lookup (datapath), LAT = 3 advances (edges with adv = 1), one lookup per advance:
//   1 the chunk-map row of p_slot is read; the bank words of pages i and i+1 are computed from p_page
//   2 both banks are read (page i+1 may lie in the next chunk: bank 0 then reads chunk c[i / CHUNK + 1])
//   3 the bank outputs are swapped into page order: p_out_valid, p_pfn0 = PFN of page i, p_pfn1 = PFN of page
//     i + 1 (whatever when i + 1 >= the SGL's pages). Outputs and stages hold while adv is 0.
//
// Parameters:
//   SLOTS      tag slots (chunk-map rows), a power of two >= 2
//   MAX_SGL    pages per SGL, a multiple of CHUNK
//   CHUNK      pages per chunk, a power of two >= 2 (the two parity banks split every chunk)
//   N_CHUNKS   chunks in the pool, >= 2
//   PFN_W      page frame number width
//   SLOT_W, PAGE_W, NPAGES_W, FREE_W   widths of a slot, a page index, a page count, a chunk count (derived)
// Ports:
//   clk, rst, adv                              clock; synchronous active-high reset; the lookup advances
//   w_valid, w_ready, w_op, w_slot, w_pfn, w_npages   an operation (valid / ready); w_slot counts for COMMIT
//                                              and FREE only
//   w_full, w_done, free_chunks                the build ran out of chunks; an operation finished; free chunks
//   p_valid, p_slot, p_page                    a lookup of page p_page of slot p_slot's SGL
//   p_out_valid, p_pfn0, p_pfn1                its answer, LAT advances later

module ddp_sgl_pool #(
  // tag slots (chunk-map rows), a power of two
  parameter int SLOTS = 16384,
  // pages per SGL, a multiple of CHUNK
  parameter int MAX_SGL = 128,
  // pages per chunk, a power of two >= 2
  parameter int CHUNK = 8,
  // chunks in the pool
  parameter int N_CHUNKS = 2 * SLOTS,
  // page frame number width
  parameter int PFN_W = 52,
  // slot index width
  parameter int SLOT_W = $clog2(SLOTS),
  // page index width (0 .. MAX_SGL - 1)
  parameter int PAGE_W = $clog2(MAX_SGL),
  // page count width (0 .. MAX_SGL)
  parameter int NPAGES_W = $clog2(MAX_SGL + 1),
  // chunk count width (0 .. N_CHUNKS)
  parameter int FREE_W = $clog2(N_CHUNKS + 1)
) (
  input  logic                clk,
  input  logic                rst,
  input  logic                adv,

  input  logic                w_valid,
  output logic                w_ready,
  input  logic [2:0]          w_op,
  input  logic [SLOT_W-1:0]   w_slot,
  input  logic [PFN_W-1:0]    w_pfn,
  input  logic [NPAGES_W-1:0] w_npages,
  output logic                w_full,
  output logic                w_done,
  output logic [FREE_W-1:0]   free_chunks,

  input  logic                p_valid,
  input  logic [SLOT_W-1:0]   p_slot,
  input  logic [PAGE_W-1:0]   p_page,
  output logic                p_out_valid,
  output logic [PFN_W-1:0]    p_pfn0,
  output logic [PFN_W-1:0]    p_pfn1
);

  localparam logic [2:0] OP_BEGIN = 3'd0, OP_PAGE = 3'd1, OP_COMMIT = 3'd2, OP_ABORT = 3'd3, OP_FREE = 3'd4;

  localparam int CPS     = MAX_SGL / CHUNK;                  // chunks per SGL
  localparam int CI_W    = (CPS > 1) ? $clog2(CPS) : 1;      // chunk index in_chunk an SGL
  localparam int CN_W    = $clog2(CPS + 1);                  // chunk count of an SGL
  localparam int CHUNK_W = $clog2(N_CHUNKS);                 // chunk pointer
  localparam int OFF_W   = $clog2(CHUNK);                    // page in_chunk a chunk
  localparam int HALF    = CHUNK / 2;                        // words per chunk in each bank
  localparam int BA_W    = CHUNK_W + OFF_W - 1;              // bank word address: {chunk, page / 2}
  localparam int ROW_W   = CPS * CHUNK_W;                    // chunk-map row

  // Pointer idx of a chunk-map row (a mux tree; whatever for an index past the row: page i + 1 past MAX_SGL).
  function automatic logic [CHUNK_W-1:0] chunk_at(input logic [ROW_W-1:0] row, input logic [CI_W-1:0] idx);
    chunk_at = row[idx*CHUNK_W +: CHUNK_W];
  endfunction

  // Bank word of the page pair `pair` (= page / 2, counted from the SGL's start) inside chunk `chunk`.
  function automatic logic [BA_W-1:0] bank_addr(input logic [CHUNK_W-1:0] chunk, input logic [PAGE_W-1:0] pair);
    logic [PAGE_W-1:0] in_chunk;  // pair within the chunk
    in_chunk  = pair & PAGE_W'(HALF - 1);
    bank_addr = (BA_W'(chunk) << (OFF_W - 1)) | BA_W'(in_chunk);
  endfunction

  // Chunks holding n pages: ceil(n / CHUNK).
  function automatic logic [CN_W-1:0] chunks_of(input logic [NPAGES_W-1:0] n);
    chunks_of = CN_W'(({1'b0, n} + (NPAGES_W + 1)'(CHUNK - 1)) >> OFF_W);
  endfunction

  // ---------------------------------------------------------------------------------------------------------
  // RAMs.

  logic [ROW_W-1:0] cmap  [SLOTS];
  logic [PFN_W-1:0] pool0 [N_CHUNKS * HALF];
  logic [PFN_W-1:0] pool1 [N_CHUNKS * HALF];
  logic [CHUNK_W-1:0] fl_mem [N_CHUNKS];

  // ---------------------------------------------------------------------------------------------------------
  // Lookup pipeline.

  logic               s1_valid_q, s2_valid_q;
  logic               s1_odd_q, s2_odd_q;        // page i is odd: bank 1 holds it, bank 0 holds i + 1
  logic [PAGE_W-1:0]  s1_pair0_q, s1_pair1_q;    // page pair of the even / odd page of {i, i + 1}
  logic [ROW_W-1:0]   cm_b_q;                    // chunk-map row (port B read register)
  logic [PFN_W-1:0]   pool0_q, pool1_q;          // bank read registers
  logic [BA_W-1:0]    rd_addr0, rd_addr1;

  // The even page of {i, i + 1} is i rounded up, the odd one i | 1; a page pair is page / 2.
  always_ff @(posedge clk) begin
    if (adv && p_valid) begin
      cm_b_q     <= cmap[p_slot];
      s1_pair0_q <= (p_page >> 1) + PAGE_W'(p_page[0]);
      s1_pair1_q <= p_page >> 1;
      s1_odd_q   <= p_page[0];
    end
  end

  // Chunk of a page pair: pair / HALF.
  assign rd_addr0 = bank_addr(chunk_at(cm_b_q, CI_W'(s1_pair0_q >> (OFF_W - 1))), s1_pair0_q);
  assign rd_addr1 = bank_addr(chunk_at(cm_b_q, CI_W'(s1_pair1_q >> (OFF_W - 1))), s1_pair1_q);

  always_ff @(posedge clk) begin
    if (adv && s1_valid_q) begin
      pool0_q  <= pool0[rd_addr0];
      pool1_q  <= pool1[rd_addr1];
      s2_odd_q <= s1_odd_q;
    end
  end

  always_ff @(posedge clk) begin
    if (adv && s2_valid_q) begin
      p_pfn0 <= s2_odd_q ? pool1_q : pool0_q;
      p_pfn1 <= s2_odd_q ? pool0_q : pool1_q;
    end
  end

  always_ff @(posedge clk) begin
    if (rst) begin
      s1_valid_q  <= 1'b0;
      s2_valid_q  <= 1'b0;
      p_out_valid <= 1'b0;
    end else if (adv) begin
      s1_valid_q  <= p_valid;
      s2_valid_q  <= s1_valid_q;
      p_out_valid <= s2_valid_q;
    end
  end

  // ---------------------------------------------------------------------------------------------------------
  // Command side: IDLE (BEGIN / PAGE in one cycle) -> [WALK: one chunk to the free FIFO per cycle] -> DONE.

  typedef enum logic [1:0] { S_IDLE, S_WALK, S_DONE } state_e;

  state_e               state_q;
  logic                 open_q;          // a build is open
  logic                 full_q;
  logic [NPAGES_W-1:0]  b_pages_q;       // pages appended to the build
  logic [ROW_W-1:0]     b_row_q;         // the build's chunk-map row
  logic [CHUNK_W-1:0]   b_chunk_q;       // the chunk the next page goes to (unless it starts a chunk)
  logic [ROW_W-1:0]     cm_a_q;          // chunk-map row read by FREE (port A read register)
  logic                 walk_cm_q;       // the walk returns cm_a_q's chunks (FREE), else b_row_q's (ABORT)
  logic [CI_W-1:0]      walk_idx_q;      // next chunk to return
  logic [CN_W-1:0]      walk_left_q;     // chunks still to return
  logic [FREE_W-1:0]    free_q;
  logic [FREE_W-1:0]    bump_q;          // chunks [bump_q, N_CHUNKS) were never used
  logic [FREE_W-1:0]    fl_count_q;      // chunks in the free FIFO
  logic [CHUNK_W-1:0]   fl_wp_q, fl_rp_q;
  logic [CHUNK_W-1:0]   fl_head_q;       // fl_mem[fl_rp_q]: the FIFO's RAM read register

  logic                 accept, op_begin, op_page, op_commit, op_abort, op_free;
  logic                 page_ok;         // a PAGE that may append (open, not full, room left)
  logic                 page_starts;     // ... and its page starts a chunk
  logic                 append, alloc, fl_pop, fl_push;
  logic [CHUNK_W-1:0]   new_chunk, page_chunk, push_chunk;
  logic [CN_W-1:0]      ret_n;           // chunks ABORT / FREE return

  assign w_ready     = state_q == S_IDLE;
  assign w_done      = state_q == S_DONE;
  assign w_full      = full_q;
  assign free_chunks = free_q;

  always_comb begin
    accept      = w_valid && w_ready;
    op_begin    = accept && w_op == OP_BEGIN;
    op_page     = accept && w_op == OP_PAGE;
    op_commit   = accept && w_op == OP_COMMIT;
    op_abort    = accept && w_op == OP_ABORT;
    op_free     = accept && w_op == OP_FREE;
    page_ok     = op_page && open_q && !full_q && b_pages_q != NPAGES_W'(MAX_SGL);
    page_starts = b_pages_q[OFF_W-1:0] == '0;
    alloc       = page_ok && page_starts && free_q != '0;
    append      = page_ok && (!page_starts || free_q != '0);
    fl_pop      = alloc && fl_count_q != '0;
    new_chunk   = fl_count_q != '0 ? fl_head_q : CHUNK_W'(bump_q);
    page_chunk  = page_starts ? new_chunk : b_chunk_q;
    ret_n       = op_free ? chunks_of(w_npages) : chunks_of(b_pages_q);
    fl_push     = state_q == S_WALK;
    push_chunk  = chunk_at(walk_cm_q ? cm_a_q : b_row_q, walk_idx_q);
  end

  // RAM ports of the command side.
  always_ff @(posedge clk) begin
    if (append && !b_pages_q[0]) pool0[bank_addr(page_chunk, PAGE_W'(b_pages_q >> 1))] <= w_pfn;
    if (append && b_pages_q[0])  pool1[bank_addr(page_chunk, PAGE_W'(b_pages_q >> 1))] <= w_pfn;
    if (op_commit && open_q) cmap[w_slot] <= b_row_q;
    if (op_free) cm_a_q <= cmap[w_slot];
    if (fl_push) fl_mem[fl_wp_q] <= push_chunk;
    // The head is read at every edge, one edge after fl_rp_q or the RAM changed. That is in time: two pops are
    // at least CHUNK >= 2 PAGEs apart, and the DONE cycle separates the last push from the next PAGE.
    fl_head_q <= fl_mem[fl_rp_q];
  end

  // Build and walk state (not reset: open_q and state_q say when it means anything).
  always_ff @(posedge clk) begin
    if (op_begin) b_pages_q <= '0;
    if (append) b_pages_q <= b_pages_q + 1'b1;
    if (alloc) begin
      b_chunk_q <= new_chunk;
      for (int j = 0; j < CPS; j++) begin
        if (CI_W'(b_pages_q >> OFF_W) == CI_W'(j)) b_row_q[j*CHUNK_W +: CHUNK_W] <= new_chunk;
      end
    end
    if (op_abort || op_free) begin
      walk_cm_q   <= op_free;
      walk_idx_q  <= '0;
      walk_left_q <= ret_n;
    end else if (fl_push) begin
      walk_idx_q  <= walk_idx_q + 1'b1;
      walk_left_q <= walk_left_q - 1'b1;
    end
  end

  // Control state.
  always_ff @(posedge clk) begin
    if (rst) begin
      state_q    <= S_IDLE;
      open_q     <= 1'b0;
      full_q     <= 1'b0;
      free_q     <= FREE_W'(N_CHUNKS);
      bump_q     <= '0;
      fl_count_q <= '0;
      fl_wp_q    <= '0;
      fl_rp_q    <= '0;
    end else begin
      unique case (state_q)
        S_IDLE: begin
          if (op_commit || ((op_abort || op_free) && ret_n == '0)) state_q <= S_DONE;
          else if (op_abort || op_free)                             state_q <= S_WALK;
        end
        S_WALK:  if (walk_left_q == CN_W'(1)) state_q <= S_DONE;
        S_DONE:  state_q <= S_IDLE;
        default: state_q <= S_IDLE;
      endcase
      if (op_begin) open_q <= 1'b1;
      else if (op_commit || op_abort) open_q <= 1'b0;
      if (op_begin) full_q <= 1'b0;
      else if (page_ok && page_starts && free_q == '0) full_q <= 1'b1;

      // Pushes (WALK) and allocations (IDLE) never meet, so a counter steps by one; choosing between the stepped
      // values, rather than adding the controls in, keeps the accept decision off the carry chain.
      if (fl_push)    free_q <= free_q + 1'b1;
      else if (alloc) free_q <= free_q - 1'b1;
      if (alloc && !fl_pop) bump_q <= bump_q + 1'b1;
      if (fl_push)     fl_count_q <= fl_count_q + 1'b1;
      else if (fl_pop) fl_count_q <= fl_count_q - 1'b1;
      if (fl_push) fl_wp_q <= (fl_wp_q == CHUNK_W'(N_CHUNKS - 1)) ? '0 : fl_wp_q + 1'b1;
      if (fl_pop)  fl_rp_q <= (fl_rp_q == CHUNK_W'(N_CHUNKS - 1)) ? '0 : fl_rp_q + 1'b1;
    end
  end

`ifndef SYNTHESIS
  initial begin
    params_ok: assert (SLOTS >= 2 && (SLOTS & (SLOTS - 1)) == 0 && CHUNK >= 2 && (CHUNK & (CHUNK - 1)) == 0
                       && MAX_SGL >= CHUNK && MAX_SGL % CHUNK == 0 && N_CHUNKS >= 2)
      else $fatal(1, "ddp_sgl_pool: SLOTS %0d MAX_SGL %0d CHUNK %0d N_CHUNKS %0d out of range", SLOTS, MAX_SGL, CHUNK,
                  N_CHUNKS);
  end

  page_with_begin: assert property (@(posedge clk) disable iff (rst) op_page |-> open_q)
    else $error("ddp_sgl_pool: PAGE without BEGIN");
  page_in_range: assert property (@(posedge clk) disable iff (rst) op_page && open_q && !full_q
                                  |-> b_pages_q < NPAGES_W'(MAX_SGL))
    else $error("ddp_sgl_pool: page %0d of the build is beyond MAX_SGL", b_pages_q);
  end_with_begin: assert property (@(posedge clk) disable iff (rst) op_commit || op_abort |-> open_q)
    else $error("ddp_sgl_pool: COMMIT or ABORT without BEGIN");
  commit_not_full: assert property (@(posedge clk) disable iff (rst) op_commit |-> !full_q)
    else $error("ddp_sgl_pool: COMMIT to slot %0d after w_full (ABORT it)", w_slot);
  begin_closed: assert property (@(posedge clk) disable iff (rst) op_begin |-> !open_q)
    else $error("ddp_sgl_pool: BEGIN while a build is open (its chunks would leak)");
  free_in_range: assert property (@(posedge clk) disable iff (rst) op_free |-> w_npages <= NPAGES_W'(MAX_SGL))
    else $error("ddp_sgl_pool: FREE of %0d pages", w_npages);
  op_known: assert property (@(posedge clk) disable iff (rst) accept |-> w_op <= OP_FREE)
    else $error("ddp_sgl_pool: unknown operation %0d", w_op);
  pop_not_empty: assert property (@(posedge clk) disable iff (rst) fl_pop |-> fl_count_q != '0)
    else $error("ddp_sgl_pool: pop of an empty free list");
  bump_in_range: assert property (@(posedge clk) disable iff (rst) alloc && !fl_pop |-> bump_q < FREE_W'(N_CHUNKS))
    else $error("ddp_sgl_pool: bump pointer past the pool");
  no_double_free: assert property (@(posedge clk) disable iff (rst) fl_push |-> free_q < FREE_W'(N_CHUNKS))
    else $error("ddp_sgl_pool: more chunks returned than allocated (a slot freed twice?)");
  lookup_in_range: assert property (@(posedge clk) disable iff (rst) adv && p_valid |-> 32'(p_page) < MAX_SGL)
    else $error("ddp_sgl_pool: lookup of page %0d", p_page);
`endif

endmodule
