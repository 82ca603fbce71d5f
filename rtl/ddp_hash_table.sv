// ddp_hash_table: a 2-choice set-associative hash table in RAM (key -> value), for the flow and tag tables.
//
// Why: the block must hold thousands of connections and tens of thousands of outstanding reads (issue 10); flop
// tables with a comparator per entry grow logic linearly. Here an entry costs RAM bits only, a lookup reads two
// rows and compares 2 * WAYS slots whatever the size, and every path between registers stays within a few LUT6
// levels (issue 11). Placement is d-left style without displacement (docs/offload-contract.md section 8): key K
// lives in row A = hash[ROW_W-1:0] of bank 0 or row B = hash[16 +: ROW_W] of bank 1, hash = ddp_hash(K) (CRC32C,
// src/contract/hash.ts keyHash / bucketRows), in the lowest FREE way of row A, else of row B. Nothing moves.
//
// Storage: 2 banks x ROWS rows x WAYS slots; one RAM word is a whole row, way w in bits [w*SLOT_BITS +: SLOT_BITS].
// A slot:
//
//   +----------+-----------+-------------+-------------+
//   | live [1] | gen [7:0] | key [KEY_W] | val [VAL_W] |   (val in the low bits)
//   +----------+-----------+-------------+-------------+
//   live: 0 FREE, 1 VALID. gen counts the times the slot was freed (DELETE, SCAN; mod 256): software holding a
//   slot id and its gen can tell a reused slot from the one it knew. A slot id is {bank, row, way} (SLOT_W bits).
//
// Each bank is held in RAMs with one read and one write port: a copy per reader (the lookup, the slot read when
// HAS_RD, the command port), all written together, so the datapath never waits for the command port. A write is
// one slot of one row (a write enable per slot, like byte enables; the sweep writes every slot of its row).
//
// Timing. `adv` moves the datapath pipelines (lookup, slot read): their stages, RAM read enables and outputs
// change only at an edge with adv = 1 ("an advance"), one stage per advance.
//   lookup, LK_LAT = 3 advances: 1 the key is registered; 2 ddp_hash of it addresses row A of bank 0 and row B of
//     bank 1 (the RAM read); 3 the 2 * WAYS slots are compared, the VALID one holding the key (at most one) is
//     selected into lk_*. The RAM read sees every write made at an earlier edge.
//   slot read, RD_LAT = 2 advances: 1 the slot's row is read (seeing writes at earlier edges); 2 the way is
//     selected into rd_*.
//   command port: one operation at a time. c_ready is high only when the port is idle: no operation running and
//     no response waiting (r_valid low; c_ready is a register output, it does not depend on r_ready). Responses
//     are valid / ready: r_valid and r_* hold while r_valid && !r_ready, and a response is taken at an edge with
//     r_valid && r_ready. Every RAM write of an operation happens at or before the edge at which the response
//     that reports it first becomes valid, so a lookup or slot read whose RAM read (lookup: second advance; slot
//     read: first advance) is at a later edge sees it; in particular any lookup presented in a cycle in which
//     that response is valid, or later. INSERT / DELETE / PROBE: r_valid rises at the 4th edge after the
//     accepting one; c_ready rises at the edge that takes the response (with r_ready high: one cycle after r_valid
//     rose, so the next operation is accepted 6 edges after the previous one at best). SCAN reads one row per
//     cycle and never moves past a response not taken (it stalls): with r_ready held high its r_last response
//     comes 2 * ROWS + 2 edges after the accepting one, plus at most one per slot it frees; each cycle of
//     back-pressure delays it.
//   Outputs other than lk_out_valid / rd_out_valid / r_valid mean nothing while those are 0.
// Reset: rst (synchronous) starts a sweep that writes every row FREE / gen 0 / key 0 / val 0 in every copy, one
// row per cycle (ROWS cycles), and drops any operation or response. `init` is high meanwhile: c_ready is low and
// lookups whose RAM read falls in the sweep miss; slot reads then return what the RAM holds. RAM contents are
// not reset otherwise.
//
// Operations (c_op): r_slot / r_gen are the slot the operation found or changed and its gen after it; r_key /
// r_val the key and value it holds (INSERT: after it; DELETE, SCAN: the ones it held); all 0 when there is none
// (FULL, NOT_FOUND, SCAN's last response). r_last is 1 on an operation's last response.
//   0 INSERT(c_key, c_val): a VALID slot with the key in row A or B -> EXISTS (that slot, unchanged); else the
//     lowest FREE way of row A, else of row B, becomes VALID {c_key, c_val}, its gen kept -> OK; else FULL.
//   1 DELETE(c_key): the VALID slot with the key becomes FREE at once and its gen increments -> OK (r_gen the new
//     gen, r_key / r_val what it held); else NOT_FOUND.
//   2 PROBE(c_key): INSERT's decision, nothing written: a VALID slot with the key -> EXISTS (that slot, its gen,
//     key, val); else the slot INSERT would take now (lowest FREE way of row A, else of row B) -> OK with that
//     slot and its current gen, r_key = c_key, r_val = 0; else FULL. A PROBE followed by an INSERT of the same key
//     with no other operation between them gives the same slot (and status, EXISTS / OK / FULL).
//   3 SCAN(c_key as pattern, c_mask): every VALID slot with (key & c_mask) == (c_key & c_mask) becomes FREE at
//     once and its gen increments; one OK response each (r_last 0; r_gen the new gen, r_key / r_val what it held),
//     bank 0 rows 0 .. ROWS-1 then bank 1, ways in order; then OK with r_last 1 (r_slot / gen / key / val 0).
//   4..7: answered NOT_FOUND, nothing changes (an assertion flags them).
//
// Parameters:
//   KEY_W    key width in bits, a multiple of 8 (the hash takes whole bytes)
//   VAL_W    value width in bits
//   ROWS     rows per bank, a power of two, 2 .. 65536 (the hash gives 16 bits per bank)
//   WAYS     slots per row, a power of two >= 2
//   HAS_RD   1: the slot-read port; 0: no slot-read RAM copies (rd_* outputs are 0)
//   ROW_W, WAY_W   row and way index widths (derived)
//   SLOT_W   slot id width, {bank, row, way} (derived)
//   GEN_W    generation counter width (8)
// Ports:
//   clk, rst                   clock, synchronous active-high reset (starts the sweep)
//   init                       the sweep runs
//   adv                        the lookup and slot-read pipelines advance at this edge
//   lk_valid, lk_key           a lookup
//   lk_out_valid, lk_hit, lk_slot, lk_gen, lk_val      its answer, LK_LAT advances later (slot, gen, val 0 on a miss)
//   rd_valid, rd_slot          a slot read
//   rd_out_valid, rd_live, rd_gen, rd_key, rd_val      the slot as stored, RD_LAT advances later
//   c_valid, c_ready, c_op, c_key, c_val, c_mask       an operation (valid / ready)
//   c_slot                     unused (no operation takes a slot id)
//   r_valid, r_ready, r_status, r_slot, r_gen, r_key, r_val, r_last  a response (valid / ready): status 0 OK,
//                              1 EXISTS, 2 FULL, 3 NOT_FOUND

module ddp_hash_table #(
  // key width in bits, a multiple of 8
  parameter int KEY_W = 32,
  // value width in bits
  parameter int VAL_W = 64,
  // rows per bank: a power of two, 2 .. 65536
  parameter int ROWS = 2048,
  // slots per row: a power of two, >= 2
  parameter int WAYS = 4,
  // 1: slot-read port with its own RAM copies; 0: none
  parameter int HAS_RD = 1,
  // row index width
  parameter int ROW_W = $clog2(ROWS),
  // way index width
  parameter int WAY_W = $clog2(WAYS),
  // slot id width: {bank, row, way}
  parameter int SLOT_W = 1 + ROW_W + WAY_W,
  // generation counter width
  parameter int GEN_W = 8
) (
  input  logic              clk,
  input  logic              rst,
  output logic              init,
  input  logic              adv,

  input  logic              lk_valid,
  input  logic [KEY_W-1:0]  lk_key,
  output logic              lk_out_valid,
  output logic              lk_hit,
  output logic [SLOT_W-1:0] lk_slot,
  output logic [GEN_W-1:0]  lk_gen,
  output logic [VAL_W-1:0]  lk_val,

  input  logic              rd_valid,
  input  logic [SLOT_W-1:0] rd_slot,
  output logic              rd_out_valid,
  output logic              rd_live,
  output logic [GEN_W-1:0]  rd_gen,
  output logic [KEY_W-1:0]  rd_key,
  output logic [VAL_W-1:0]  rd_val,

  input  logic              c_valid,
  output logic              c_ready,
  input  logic [2:0]        c_op,
  input  logic [KEY_W-1:0]  c_key,
  input  logic [VAL_W-1:0]  c_val,
  /* verilator lint_off UNUSEDSIGNAL */
  input  logic [SLOT_W-1:0] c_slot,
  /* verilator lint_on UNUSEDSIGNAL */
  input  logic [KEY_W-1:0]  c_mask,
  output logic              r_valid,
  input  logic              r_ready,
  output logic [1:0]        r_status,
  output logic [SLOT_W-1:0] r_slot,
  output logic [GEN_W-1:0]  r_gen,
  output logic [KEY_W-1:0]  r_key,
  output logic [VAL_W-1:0]  r_val,
  output logic              r_last
);

  localparam logic [2:0] OP_INSERT = 3'd0, OP_DELETE = 3'd1, OP_PROBE = 3'd2, OP_SCAN = 3'd3;
  localparam logic [1:0] R_OK = 2'd0, R_EXISTS = 2'd1, R_FULL = 2'd2, R_NOT_FOUND = 2'd3;

  typedef struct packed {
    logic             live;
    logic [GEN_W-1:0] gen;
    logic [KEY_W-1:0] key;
    logic [VAL_W-1:0] val;
  } slot_t;

  localparam int SLOT_BITS = 1 + GEN_W + KEY_W + VAL_W;
  // Where a slot's key, gen and live bit are inside it.
  localparam int KEY_LSB   = VAL_W;
  localparam int GEN_LSB   = VAL_W + KEY_W;
  localparam int LIVE_BIT  = VAL_W + KEY_W + GEN_W;
  localparam int ROW_BITS  = WAYS * SLOT_BITS;
  // Both candidate rows side by side (bank 0 low): slot i = bank i / WAYS, way i % WAYS.
  localparam int PAIR = 2 * WAYS;
  // Width of an index into a row pair: {bank, way}.
  localparam int IDX_W = WAY_W + 1;

  // Slots of a row pair (bank 0 row low) that are VALID with (key & mask) == (pattern & mask).
  function automatic logic [PAIR-1:0] valid_matches(input logic [2*ROW_BITS-1:0] rows, input logic [KEY_W-1:0] pattern,
                                                    input logic [KEY_W-1:0] mask);
    for (int i = 0; i < PAIR; i++) begin
      valid_matches[i] = rows[i*SLOT_BITS + LIVE_BIT]
                         && ((rows[i*SLOT_BITS + KEY_LSB +: KEY_W] ^ pattern) & mask) == '0;
    end
  endfunction

  // Slot `sel` of a row pair, for a one-hot (or zero: all-zero slot) `sel`: an AND-OR select.
  function automatic slot_t pick(input logic [2*ROW_BITS-1:0] rows, input logic [PAIR-1:0] sel);
    pick = '0;
    for (int i = 0; i < PAIR; i++) pick = pick | ({SLOT_BITS{sel[i]}} & rows[i*SLOT_BITS +: SLOT_BITS]);
  endfunction

  // Index of the set bit of a one-hot (or zero) vector.
  function automatic logic [IDX_W-1:0] encode(input logic [PAIR-1:0] onehot);
    encode = '0;
    for (int i = 0; i < PAIR; i++) encode = encode | ({IDX_W{onehot[i]}} & IDX_W'(i));
  endfunction

  // The lowest set bit of v, alone.
  function automatic logic [PAIR-1:0] lowest(input logic [PAIR-1:0] v);
    lowest = v & (~v + PAIR'(1));
  endfunction

  // ---------------------------------------------------------------------------------------------------------
  // RAM copies. One write port per bank, shared by its copies: a slot (or, in the sweep, every slot) of one row.
  // One read port per copy.

  logic [1:0]            wr_en;     // per bank
  logic [WAYS-1:0]       wr_ways;   // the slots of the row written
  logic [ROW_W-1:0]      wr_row;
  slot_t                 wr_slot;
  logic                  lk_re, cmd_re;
  logic [2*ROW_W-1:0]    lk_addr, cmd_addr;
  logic [2*ROW_BITS-1:0] lk_q, cmd_q;

  for (genvar b = 0; b < 2; b++) begin : g_bank
    logic [ROW_BITS-1:0] ram_lk  [ROWS];
    logic [ROW_BITS-1:0] ram_cmd [ROWS];

    always_ff @(posedge clk) begin
      for (int w = 0; w < WAYS; w++) begin
        if (wr_en[b] && wr_ways[w]) begin
          ram_lk[wr_row][w*SLOT_BITS +: SLOT_BITS]  <= wr_slot;
          ram_cmd[wr_row][w*SLOT_BITS +: SLOT_BITS] <= wr_slot;
        end
      end
    end
    always_ff @(posedge clk) if (lk_re) lk_q[b*ROW_BITS +: ROW_BITS] <= ram_lk[lk_addr[b*ROW_W +: ROW_W]];
    always_ff @(posedge clk) if (cmd_re) cmd_q[b*ROW_BITS +: ROW_BITS] <= ram_cmd[cmd_addr[b*ROW_W +: ROW_W]];
  end

  // ---------------------------------------------------------------------------------------------------------
  // Lookup pipeline. The hash sits between stage 1's key register and the RAM address, so lk_key goes straight
  // into a register.

  logic             l1_valid_q, l2_valid_q, l2_init_q;
  logic [KEY_W-1:0] l1_key_q, l2_key_q;
  logic [ROW_W-1:0] l2_row_a_q, l2_row_b_q;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [31:0]      l1_hash;   // only the row bits count
  slot_t            lk_found;  // its live bit and key are known: VALID, the key looked up
  /* verilator lint_on UNUSEDSIGNAL */
  logic [PAIR-1:0]  lk_match;
  logic [IDX_W-1:0] lk_idx;

  ddp_hash #(.KEY_W(KEY_W)) u_lk_hash (.clk, .key(l1_key_q), .hash(l1_hash));

  assign lk_addr = {l1_hash[16 +: ROW_W], l1_hash[0 +: ROW_W]};
  assign lk_re   = adv && l1_valid_q;

  // Here and below, wide logic is computed under the condition that needs it: no cost in gates (the results
  // are used only then), and Verilator skips it otherwise, which is most of its time per cycle.
  always_comb begin
    lk_match = '0;
    lk_found = '0;
    lk_idx   = '0;
    // Rows read during the sweep may hold anything: no match.
    if (l2_valid_q && !l2_init_q) begin
      lk_match = valid_matches(lk_q, l2_key_q, '1);
      lk_found = pick(lk_q, lk_match);
      lk_idx   = encode(lk_match);
    end
  end

  always_ff @(posedge clk) begin
    if (rst) begin
      l1_valid_q   <= 1'b0;
      l2_valid_q   <= 1'b0;
      lk_out_valid <= 1'b0;
    end else if (adv) begin
      l1_valid_q   <= lk_valid;
      l2_valid_q   <= l1_valid_q;
      lk_out_valid <= l2_valid_q;
    end
  end

  always_ff @(posedge clk) begin
    if (adv) begin
      l1_key_q   <= lk_key;
      l2_key_q   <= l1_key_q;
      l2_row_a_q <= l1_hash[0 +: ROW_W];
      l2_row_b_q <= l1_hash[16 +: ROW_W];
      l2_init_q  <= init;
      lk_hit     <= |lk_match;
      lk_slot    <= (|lk_match) ? {lk_idx[WAY_W], lk_idx[WAY_W] ? l2_row_b_q : l2_row_a_q, lk_idx[WAY_W-1:0]} : '0;
      lk_gen     <= lk_found.gen;
      lk_val     <= lk_found.val;
    end
  end

  // ---------------------------------------------------------------------------------------------------------
  // Slot-read pipeline: the RAM address comes straight from rd_slot.

  if (HAS_RD != 0) begin : g_rd
    logic [2*ROW_BITS-1:0] rd_q;
    logic                  rd1_valid_q;
    logic [IDX_W-1:0]      rd1_idx_q;   // {bank, way}
    slot_t                 rd_found;

    for (genvar b = 0; b < 2; b++) begin : g_bank
      logic [ROW_BITS-1:0] ram_rd [ROWS];

      always_ff @(posedge clk) begin
        for (int w = 0; w < WAYS; w++) begin
          if (wr_en[b] && wr_ways[w]) ram_rd[wr_row][w*SLOT_BITS +: SLOT_BITS] <= wr_slot;
        end
      end
      always_ff @(posedge clk) begin
        if (adv && rd_valid && rd_slot[SLOT_W-1] == 1'(b)) rd_q[b*ROW_BITS +: ROW_BITS] <= ram_rd[rd_slot[WAY_W +: ROW_W]];
      end
    end

    always_comb begin
      rd_found = '0;
      if (rd1_valid_q) rd_found = pick(rd_q, PAIR'(1) << rd1_idx_q);
    end

    always_ff @(posedge clk) begin
      if (rst) begin
        rd1_valid_q  <= 1'b0;
        rd_out_valid <= 1'b0;
      end else if (adv) begin
        rd1_valid_q  <= rd_valid;
        rd_out_valid <= rd1_valid_q;
      end
    end

    always_ff @(posedge clk) begin
      if (adv) begin
        rd1_idx_q <= {rd_slot[SLOT_W-1], rd_slot[WAY_W-1:0]};
        rd_live   <= rd_found.live;
        rd_gen    <= rd_found.gen;
        rd_key    <= rd_found.key;
        rd_val    <= rd_found.val;
      end
    end
  end else begin : g_no_rd
    assign rd_out_valid = 1'b0;
    assign rd_live      = 1'b0;
    assign rd_gen       = '0;
    assign rd_key       = '0;
    assign rd_val       = '0;
    /* verilator lint_off UNUSEDSIGNAL */
    logic rd_unused;
    assign rd_unused = ^{rd_valid, rd_slot};
    /* verilator lint_on UNUSEDSIGNAL */
  end

  // ---------------------------------------------------------------------------------------------------------
  // Command port: INIT (the sweep) -> IDLE -> READ (rows read) -> CMP (matches and free slots) -> SEL (status,
  // slot) -> WRITE (the slot written, the response) -> IDLE; or IDLE -> SCAN -> IDLE.

  typedef enum logic [2:0] { F_INIT, F_IDLE, F_READ, F_CMP, F_SEL, F_WRITE, F_SCAN } fsm_e;

  fsm_e               fsm_q, fsm_d;
  logic [ROW_W-1:0]   sweep_q;

  logic [2:0]         op_q;
  logic [KEY_W-1:0]   key_q;
  logic [KEY_W-1:0]   mask_q;        // SCAN's mask; all ones for the others (an exact match)
  logic [VAL_W-1:0]   val_q;
  logic [2*ROW_W-1:0] op_row_q;      // the rows read, per bank (bank 0 low)
  logic [PAIR-1:0]    hit_q, free_q;
  logic [PAIR-1:0]    sel_q;         // the slot the operation found or changes (one-hot), 0 if none
  logic [1:0]         status_q;
  logic               write_q;

  /* verilator lint_off UNUSEDSIGNAL */
  logic [31:0]        op_hash;  // only the row bits count
  /* verilator lint_on UNUSEDSIGNAL */
  logic [2*ROW_W-1:0] op_addr;
  logic [PAIR-1:0]    cmd_match;     // matching VALID slots of the row pair the command side read
  logic [PAIR-1:0]    sel_d;
  logic [1:0]         status_d;
  logic               write_d;
  slot_t              op_old, op_new;
  logic               probe_ok;      // a PROBE that found a FREE slot
  logic [IDX_W-1:0]   op_idx;

  ddp_hash #(.KEY_W(KEY_W)) u_op_hash (.clk, .key(key_q), .hash(op_hash));

  // Every operation but SCAN reads its key's rows A and B.
  assign op_addr   = {op_hash[16 +: ROW_W], op_hash[0 +: ROW_W]};
  always_comb begin
    cmd_match = '0;
    if (fsm_q == F_CMP || (fsm_q == F_SCAN && sc1_valid_q)) cmd_match = valid_matches(cmd_q, key_q, mask_q);
  end

  // SEL: what the operation does.
  always_comb begin
    sel_d       = '0;
    status_d    = R_NOT_FOUND;
    write_d     = 1'b0;
    unique case (op_q)
      // PROBE decides as INSERT does and writes nothing.
      OP_INSERT, OP_PROBE: begin
        if (|hit_q) begin
          sel_d    = hit_q;
          status_d = R_EXISTS;
        end else if (|free_q) begin
          sel_d    = lowest(free_q);
          status_d = R_OK;
          write_d  = op_q == OP_INSERT;
        end else begin
          status_d = R_FULL;
        end
      end
      OP_DELETE: begin
        if (|hit_q) begin
          sel_d    = hit_q;
          status_d = R_OK;
          write_d  = 1'b1;
        end
      end
      default: ;
    endcase
  end

  // WRITE: the slot after the operation.
  always_comb begin
    op_old = '0;
    op_idx = '0;
    if (fsm_q == F_WRITE) begin
      op_old = pick(cmd_q, sel_q);
      op_idx = encode(sel_q);
    end
    op_new   = op_old;
    probe_ok = op_q == OP_PROBE && status_q == R_OK;
    if (write_q) begin
      // INSERT: VALID with the new key and value; DELETE: FREE, gen + 1, key and value kept.
      op_new.live = op_q == OP_INSERT;
      if (op_q == OP_INSERT) begin
        op_new.key = key_q;
        op_new.val = val_q;
      end else begin
        op_new.gen = op_old.gen + GEN_W'(1);
      end
    end
  end

  // ---------------------------------------------------------------------------------------------------------
  // SCAN: a pipeline over the 2 * ROWS rows, {bank, row} counting up. sc_ptr_q is the next row to read; stage 1
  // (sc1) is a row read (in cmd_q), stage 2 (sc2) a row compared, with its matching VALID slots in sc2_match_q.
  // Stage 2 frees one match per cycle (its row is held with every gen already incremented, so the write and the
  // response take the slot as it is); the pipeline moves on in the cycle it frees its last one (or has none).
  // While a response waits (r_valid && !r_ready: sc_hold) nothing moves, reads nor writes.

  logic [ROW_W:0]      sc_ptr_q, sc1_ptr_q, sc2_ptr_q;   // {bank, row}
  logic                sc_issue_q, sc1_valid_q;
  logic [WAYS-1:0]     sc2_match_q;
  logic [ROW_BITS-1:0] sc2_row_q;
  logic                sc_hold, sc_adv, sc_emit, sc_done;
  logic [WAYS-1:0]     sc1_match, sc_pick;
  slot_t               sc_slot;
  logic [WAY_W-1:0]    sc_way;

  always_comb begin
    sc1_match = !sc1_valid_q ? '0 : sc1_ptr_q[ROW_W] ? cmd_match[WAYS +: WAYS] : cmd_match[0 +: WAYS];
    sc_hold   = r_valid && !r_ready;
    sc_pick   = sc2_match_q & (~sc2_match_q + WAYS'(1));
    sc_emit   = !sc_hold && sc2_match_q != '0;
    sc_adv    = !sc_hold && (sc2_match_q & ~sc_pick) == '0;
    sc_done   = !sc_hold && !sc_issue_q && !sc1_valid_q && sc2_match_q == '0;
    sc_slot   = '0;
    sc_way    = '0;
    if (sc_emit) begin
      for (int w = 0; w < WAYS; w++) begin
        sc_slot = sc_slot | ({SLOT_BITS{sc_pick[w]}} & sc2_row_q[w*SLOT_BITS +: SLOT_BITS]);
        sc_way  = sc_way | ({WAY_W{sc_pick[w]}} & WAY_W'(w));
      end
    end
  end

  // ---------------------------------------------------------------------------------------------------------
  // RAM ports of the command side.

  assign cmd_addr = fsm_q == F_SCAN ? {2{sc_ptr_q[ROW_W-1:0]}} : op_addr;
  assign cmd_re   = fsm_q == F_READ || (fsm_q == F_SCAN && sc_adv && sc_issue_q);

  always_comb begin
    wr_en   = '0;
    wr_ways = '0;
    wr_row  = '0;
    wr_slot = '0;
    unique case (fsm_q)
      F_INIT: begin
        wr_en   = 2'b11;
        wr_ways = '1;
        wr_row  = sweep_q;
      end
      F_WRITE: begin
        wr_en   = {write_q && op_idx[WAY_W], write_q && !op_idx[WAY_W]};
        wr_ways = WAYS'(1) << op_idx[WAY_W-1:0];
        wr_row  = op_idx[WAY_W] ? op_row_q[ROW_W +: ROW_W] : op_row_q[0 +: ROW_W];
        wr_slot = op_new;
      end
      F_SCAN: begin
        wr_en         = {sc_emit && sc2_ptr_q[ROW_W], sc_emit && !sc2_ptr_q[ROW_W]};
        wr_ways       = sc_pick;
        wr_row        = sc2_ptr_q[ROW_W-1:0];
        wr_slot       = sc_slot;
        wr_slot.live  = 1'b0;
      end
      default: ;
    endcase
  end

  // ---------------------------------------------------------------------------------------------------------
  // Control.

  assign init    = fsm_q == F_INIT;
  assign c_ready = fsm_q == F_IDLE && !r_valid;

  always_comb begin
    fsm_d = fsm_q;
    unique case (fsm_q)
      F_INIT:  if (sweep_q == ROW_W'(ROWS - 1)) fsm_d = F_IDLE;
      F_IDLE:  if (c_valid && !r_valid) fsm_d = c_op == OP_SCAN ? F_SCAN : F_READ;
      F_READ:  fsm_d = F_CMP;
      F_CMP:   fsm_d = F_SEL;
      F_SEL:   fsm_d = F_WRITE;
      F_WRITE: fsm_d = F_IDLE;
      F_SCAN:  if (sc_done) fsm_d = F_IDLE;
      default: fsm_d = F_IDLE;
    endcase
  end

  always_ff @(posedge clk) begin
    if (rst) begin
      fsm_q       <= F_INIT;
      sweep_q     <= '0;
      r_valid     <= 1'b0;
      sc_issue_q  <= 1'b0;
      sc1_valid_q <= 1'b0;
      sc2_match_q <= '0;
    end else begin
      fsm_q   <= fsm_d;
      // A response is held until taken; WRITE and SCAN make one only when none is held.
      if (!(r_valid && !r_ready)) r_valid <= fsm_q == F_WRITE || (fsm_q == F_SCAN && (sc_emit || sc_done));
      if (fsm_q == F_INIT) sweep_q <= sweep_q + 1'b1;
      if (c_valid && c_ready) begin
        sc_issue_q  <= 1'b1;
        sc1_valid_q <= 1'b0;
        sc2_match_q <= '0;
      end else if (fsm_q == F_SCAN) begin
        if (sc_adv) begin
          sc_issue_q  <= sc_issue_q && sc_ptr_q != '1;
          sc1_valid_q <= sc_issue_q;
          sc2_match_q <= sc1_match;
        end else if (sc_emit) begin
          sc2_match_q <= sc2_match_q & ~sc_pick;
        end
      end
    end
  end

  always_ff @(posedge clk) begin
    if (c_valid && c_ready) begin
      op_q     <= c_op;
      key_q    <= c_key;
      mask_q   <= c_op == OP_SCAN ? c_mask : '1;
      val_q    <= c_val;
      sc_ptr_q <= '0;
    end
    if (fsm_q == F_READ) op_row_q <= op_addr;
    if (fsm_q == F_CMP) begin
      hit_q <= cmd_match;
      for (int i = 0; i < PAIR; i++) free_q[i] <= !cmd_q[i*SLOT_BITS + LIVE_BIT];
    end
    if (fsm_q == F_SEL) begin
      sel_q       <= sel_d;
      status_q    <= status_d;
      write_q     <= write_d;
    end
    if (fsm_q == F_SCAN && sc_adv) begin
      if (sc_issue_q) sc_ptr_q <= sc_ptr_q + 1'b1;
      sc1_ptr_q <= sc_ptr_q;
      sc2_ptr_q <= sc1_ptr_q;
      sc2_row_q <= sc1_ptr_q[ROW_W] ? cmd_q[ROW_BITS +: ROW_BITS] : cmd_q[0 +: ROW_BITS];
      // Every slot's gen as it will be once freed (only the matching ones are written).
      for (int w = 0; w < WAYS; w++) begin
        sc2_row_q[w*SLOT_BITS + GEN_LSB +: GEN_W] <= GEN_W'((sc1_ptr_q[ROW_W] ? cmd_q[ROW_BITS + w*SLOT_BITS + GEN_LSB +: GEN_W]
                                                                              : cmd_q[w*SLOT_BITS + GEN_LSB +: GEN_W]) + 1'b1);
      end
    end
    // Responses (r_valid above says which cycles hold one).
    if (fsm_q == F_WRITE) begin
      r_status <= status_q;
      // wr_row is the selected slot's row whether or not it is written (PROBE).
      r_slot   <= sel_q == '0 ? '0 : {op_idx[WAY_W], wr_row, op_idx[WAY_W-1:0]};
      r_gen    <= op_new.gen;
      // PROBE's OK: the key it would insert, no value.
      r_key    <= probe_ok ? key_q : op_new.key;
      r_val    <= probe_ok ? '0 : op_new.val;
      r_last   <= 1'b1;
    end else if (fsm_q == F_SCAN && !sc_hold) begin
      r_status <= R_OK;
      r_slot   <= sc_emit ? {sc2_ptr_q, sc_way} : '0;
      r_gen    <= sc_slot.gen;
      r_key    <= sc_slot.key;
      r_val    <= sc_slot.val;
      r_last   <= !sc_emit;
    end
  end

`ifndef SYNTHESIS
  initial begin
    params_ok: assert (KEY_W % 8 == 0 && ROWS >= 2 && ROWS <= 65536 && (ROWS & (ROWS - 1)) == 0
                       && WAYS >= 2 && (WAYS & (WAYS - 1)) == 0)
      else $fatal(1, "ddp_hash_table: KEY_W %0d ROWS %0d WAYS %0d out of range", KEY_W, ROWS, WAYS);
  end

  // A key is VALID in at most one slot: the AND-OR selects of the lookup and of INSERT / DELETE rely on it.
  lookup_unique: assert property (@(posedge clk) disable iff (rst) adv && l2_valid_q |-> $countones(lk_match) <= 1)
    else $error("ddp_hash_table: key 0x%0h VALID in several slots", l2_key_q);
  op_unique: assert property (@(posedge clk) disable iff (rst) fsm_q == F_SEL |-> $countones(hit_q) <= 1)
    else $error("ddp_hash_table: key 0x%0h VALID in several slots", key_q);
  // INSERT takes a FREE slot only.
  insert_free: assert property (@(posedge clk) disable iff (rst)
                                fsm_q == F_WRITE && write_q && op_q == OP_INSERT |-> !op_old.live)
    else $error("ddp_hash_table: INSERT over a VALID slot");
  op_known: assert property (@(posedge clk) disable iff (rst) c_valid && c_ready |-> c_op <= OP_SCAN)
    else $error("ddp_hash_table: unknown operation %0d", c_op);
`endif

endmodule
