// ddp_hash: the contract's table hash, CRC32C of a key's bytes (combinational).
//
// hash = CRC32C (Castagnoli, reflected polynomial 0x82F63B78, init 0xFFFFFFFF, final xor 0xFFFFFFFF: the standard
// crc32c, the same CRC as the data digest) of the KEY_W / 8 bytes of `key` in little-endian order: byte i is
// key[8*i +: 8], byte 0 first. The hashed tables (docs/offload-contract.md section 8) take a key's two candidate
// rows from it: row A = hash[ROW_W-1:0] (bank 0), row B = hash[16 +: ROW_W] (bank 1). The software side is
// src/contract/hash.ts (keyHash, bucketRows); test/rtl/ddp_hash.test.ts holds both to an independent library.
//
// Why a CRC: the tables already need CRC32C hardware knowledge, it mixes every key bit into every hash bit, and
// for a fixed length it is affine over GF(2): each hash bit is the XOR of a fixed subset of key bits, inverted
// or not. Both the subsets and the inversions are computed at elaboration from the polynomial (a bit-serial CRC
// run symbolically over the key bits and a constant 1 standing for the init value), so the logic is 32 XOR
// trees of at most KEY_W inputs each: ceil(log6(KEY_W)) LUT6 levels (4 at KEY_W = 296).
//
// Parameters:
//   KEY_W    key width in bits, a multiple of 8 (callers pad keys to whole bytes)
// Ports:
//   clk      unused by the logic: the co-simulation harness needs a clock to drive a top
//   key      the key, byte i in key[8*i +: 8]
//   hash     its CRC32C

module ddp_hash #(
  // key width in bits, a multiple of 8
  parameter int KEY_W = 32
) (
  /* verilator lint_off UNUSEDSIGNAL */
  input  logic             clk,
  /* verilator lint_on UNUSEDSIGNAL */
  input  logic [KEY_W-1:0] key,
  output logic [31:0]      hash
);

  localparam logic [31:0] POLY = 32'h82F63B78;
  // Inputs of the matrix: {key, 1}; bit 0 is the constant that carries the init value.
  localparam int IN_W = KEY_W + 1;

  // Row i (bits [i*IN_W +: IN_W]) selects the inputs whose XOR is bit i of the CRC register after the key.
  function automatic logic [32*IN_W-1:0] key_matrix();
    logic [32*IN_W-1:0] rows;
    logic [IN_W-1:0]    feedback;
    for (int k = 0; k < 32; k++) rows[k*IN_W +: IN_W] = IN_W'(1);  // init 0xFFFFFFFF: every bit is the constant
    for (int j = 0; j < KEY_W; j++) begin
      feedback = rows[IN_W-1:0];
      feedback[1 + j] = ~feedback[1 + j];
      rows = rows >> IN_W;  // register >> 1
      for (int k = 0; k < 32; k++) begin
        if (POLY[k]) rows[k*IN_W +: IN_W] = rows[k*IN_W +: IN_W] ^ feedback;
      end
    end
    key_matrix = rows;
  endfunction

  localparam logic [32*IN_W-1:0] MATRIX = key_matrix();

  always_comb begin
    // The constant input's column on its own (not a {key, 1} concatenation: that costs Verilator a shift of the
    // key per bit); the final xor 0xFFFFFFFF is the inversion.
    for (int i = 0; i < 32; i++) hash[i] = ~(^(MATRIX[i*IN_W + 1 +: KEY_W] & key) ^ MATRIX[i*IN_W]);
  end

`ifndef SYNTHESIS
  initial begin
    key_bytes: assert (KEY_W % 8 == 0 && KEY_W > 0) else $fatal(1, "ddp_hash: KEY_W %0d is not a whole number of bytes", KEY_W);
  end
`endif

endmodule
