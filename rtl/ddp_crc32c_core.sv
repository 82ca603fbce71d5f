// ddp_crc32c_core: combinational CRC32C update over the first COUNT bytes of a DATA_W-bit word.
//
// CRC32C (Castagnoli), reflected polynomial 0x82F63B78 (normal form 0x1EDC6F41), bytes least significant
// bit first. This module works on the raw CRC register: the caller starts a message with 32'hFFFFFFFF and
// inverts the register after the last byte (final xor 32'hFFFFFFFF) to get the CRC value.
//
// Byte i of the word is data[8*i +: 8]; bytes 0 .. count-1 are consumed in lane order, lanes at and above
// `count` are ignored (masked here, callers need not zero them). Any datapath that can shift its bytes down
// to lane 0 can reuse this core (e.g. the PDU data of one C2HData PDU inside a beat).
//
// How: with the unused lanes zeroed, one fixed XOR matrix gives the register after all KEEP_W bytes, which
// equals the wanted register advanced by (KEEP_W - count) zero bytes. Advancing by zero bytes is an
// invertible 32x32 linear map, so a small table of inverse maps indexed by (KEEP_W - count) undoes it. This
// costs one wide matrix plus one 32x32 matrix selected by count, instead of one wide matrix per count.
// Both matrices are constants computed at elaboration from the polynomial (bit-serial, symbolically).
//
// Parameters:
//   DATA_W   word width in bits, a multiple of 8 (64, 128, 256, 512 ...)
//   KEEP_W   bytes per word (derived)
//   COUNT_W  width of `count` (derived): holds 0 .. KEEP_W
// Ports:
//   clk      simulation only: samples the assertion that count <= KEEP_W (the logic has no state; the
//            co-simulation harness also needs a clock to drive a top)
//   crc_in   register before this word
//   data     the bytes, first byte in lane 0
//   count    number of bytes to consume, 0 .. KEEP_W (0: crc_out = crc_in)
//   crc_out  register after the bytes

module ddp_crc32c_core #(
  // word width in bits, a multiple of 8
  parameter int DATA_W = 64,
  // bytes per word
  parameter int KEEP_W = DATA_W / 8,
  // width of the byte count (0 .. KEEP_W)
  parameter int COUNT_W = $clog2(KEEP_W + 1)
) (
  input  logic               clk,
  input  logic [31:0]        crc_in,
  input  logic [DATA_W-1:0]  data,
  input  logic [COUNT_W-1:0] count,
  output logic [31:0]        crc_out
);

  localparam logic [31:0] POLY = 32'h82F63B78;
  // Inputs of the wide matrix: {data, crc_in}, crc_in in the low 32 bits.
  localparam int IN_W = DATA_W + 32;

  // Row i (bits [i*IN_W +: IN_W]) selects the inputs whose XOR is register bit i after all KEEP_W bytes.
  // Each register bit is tracked as a mask over the inputs while the bit-serial CRC runs over the data bits.
  function automatic logic [32*IN_W-1:0] advance_matrix();
    logic [32*IN_W-1:0] rows;
    logic [IN_W-1:0]    feedback;
    for (int k = 0; k < 32; k++) rows[k*IN_W +: IN_W] = IN_W'(1) << k;  // identity
    for (int j = 0; j < DATA_W; j++) begin
      feedback = rows[IN_W-1:0];
      feedback[32 + j] = ~feedback[32 + j];
      rows = rows >> IN_W;  // register >> 1
      for (int k = 0; k < 32; k++) begin
        if (POLY[k]) rows[k*IN_W +: IN_W] = rows[k*IN_W +: IN_W] ^ feedback;
      end
    end
    advance_matrix = rows;
  endfunction

  // Entry z (bits [z*1024 +: 1024]) is the 32x32 matrix that undoes z zero bytes: its row i (32 bits at
  // z*1024 + i*32) selects the bits of the advanced register whose XOR is bit i before the zero bytes.
  // One zero bit maps s to s' = (s >> 1) ^ (s[0] ? POLY : 0); POLY[31] = 1 and (s >> 1)[31] = 0, so
  // s[0] = s'[31] and s = ((s' ^ (s'[31] ? POLY : 0)) << 1) | s'[31].
  function automatic logic [(KEEP_W+1)*1024-1:0] unadvance_table();
    logic [(KEEP_W+1)*1024-1:0] table_bits;
    logic [1023:0]              rows;
    logic [31:0]                top;
    for (int k = 0; k < 32; k++) rows[k*32 +: 32] = 32'(1) << k;  // identity
    table_bits[1023:0] = rows;
    for (int z = 1; z <= KEEP_W; z++) begin
      for (int b = 0; b < 8; b++) begin
        top = rows[31*32 +: 32];
        for (int k = 0; k < 32; k++) begin
          if (POLY[k]) rows[k*32 +: 32] = rows[k*32 +: 32] ^ top;
        end
        rows = {rows[991:0], top};  // register << 1, bit 0 = old bit 31
      end
      table_bits[z*1024 +: 1024] = rows;
    end
    unadvance_table = table_bits;
  endfunction

  localparam logic [32*IN_W-1:0]             ADVANCE   = advance_matrix();
  localparam logic [(KEEP_W+1)*1024-1:0]     UNADVANCE = unadvance_table();

  logic [DATA_W-1:0]  data_used;   // lanes >= count zeroed
  logic [IN_W-1:0]    inputs;
  logic [31:0]        advanced;    // register after KEEP_W bytes, the unused ones as zeros
  logic [COUNT_W-1:0] zero_bytes;  // KEEP_W - count
  logic [1023:0]      undo;

  always_comb begin
    for (int i = 0; i < KEEP_W; i++) begin
      data_used[i*8 +: 8] = data[i*8 +: 8] & {8{COUNT_W'(i) < count}};
    end
    inputs = {data_used, crc_in};
    for (int i = 0; i < 32; i++) advanced[i] = ^(ADVANCE[i*IN_W +: IN_W] & inputs);

    // An AND-OR select of constant matrices: a variable part-select or an if chain makes wide shifters or
    // mux trees that Yosys takes minutes to optimise away.
    zero_bytes = COUNT_W'(KEEP_W) - count;
    undo = '0;
    for (int z = 0; z <= KEEP_W; z++) begin
      undo = undo | ({1024{zero_bytes == COUNT_W'(z)}} & UNADVANCE[z*1024 +: 1024]);
    end
    for (int i = 0; i < 32; i++) crc_out[i] = ^(undo[i*32 +: 32] & advanced);
  end

`ifndef SYNTHESIS
  count_in_range: assert property (@(posedge clk) count <= COUNT_W'(KEEP_W))
    else $error("count %0d exceeds KEEP_W %0d", count, KEEP_W);
`endif

endmodule
