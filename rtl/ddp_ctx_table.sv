// ddp_ctx_table: the offloaded connections (N_CTX contexts), exact 5-tuple match.
//
// Each entry holds the 5-tuple as seen on received frames (IPv6 flag, source / destination address and port),
// the negotiated digests and cpda, and a valid bit. The tracking state of each context (region, counters,
// partial header, expected sequence number) lives in ddp_tracker, which reads and writes it every beat; this
// table only says which context a frame belongs to and how that context was negotiated.
//
//   lookup (combinational, N_CTX comparators): lk_* -> lk_hit, lk_idx (lowest matching entry; at most one
//   matches because CTX_ADD refuses a 5-tuple that is already offloaded)
//   dup check for CTX_ADD (combinational): wr_* tuple -> wr_tuple_exists (any valid entry has this 5-tuple)
//   read port (combinational): rd_idx -> rd_valid, rd_hdgst, rd_ddgst, rd_cpda
//   writes: wr_add (entry wr_idx becomes valid with the wr_* fields), wr_del (entry wr_idx becomes invalid)
//
// For IPv4 only bits 31:0 of the addresses count: the upper bits are stored as 0 and frames' IPv4 addresses
// come from the parser with upper bits 0.
//
// Parameters:
//   N_CTX    number of contexts
//   IDX_W    width of a context index (derived)
// Ports:
//   clk, rst                                  clock, synchronous active-high reset (clears the valid bits)
//   lk_ipv6, lk_src_ip, lk_dst_ip, lk_src_port, lk_dst_port     5-tuple of a frame
//   lk_hit, lk_idx                            a valid entry matches; its index
//   wr_add, wr_del, wr_idx                    add (fields below) or delete entry wr_idx at the clock edge
//   wr_ipv6, wr_src_ip, wr_dst_ip, wr_src_port, wr_dst_port, wr_hdgst, wr_ddgst, wr_cpda   the new entry
//   wr_tuple_exists                           a valid entry already has the wr_* 5-tuple
//   rd_idx, rd_valid, rd_hdgst, rd_ddgst, rd_cpda               one entry's negotiation
//   valid[N_CTX-1:0]                          every entry's valid bit

module ddp_ctx_table #(
  // number of contexts
  parameter int N_CTX = 8,
  // context index width
  parameter int IDX_W = (N_CTX > 1) ? $clog2(N_CTX) : 1
) (
  input  logic             clk,
  input  logic             rst,

  input  logic             lk_ipv6,
  input  logic [127:0]     lk_src_ip,
  input  logic [127:0]     lk_dst_ip,
  input  logic [15:0]      lk_src_port,
  input  logic [15:0]      lk_dst_port,
  output logic             lk_hit,
  output logic [IDX_W-1:0] lk_idx,

  input  logic             wr_add,
  input  logic             wr_del,
  input  logic [IDX_W-1:0] wr_idx,
  input  logic             wr_ipv6,
  input  logic [127:0]     wr_src_ip,
  input  logic [127:0]     wr_dst_ip,
  input  logic [15:0]      wr_src_port,
  input  logic [15:0]      wr_dst_port,
  input  logic             wr_hdgst,
  input  logic             wr_ddgst,
  input  logic [4:0]       wr_cpda,
  output logic             wr_tuple_exists,

  input  logic [IDX_W-1:0] rd_idx,
  output logic             rd_valid,
  output logic             rd_hdgst,
  output logic             rd_ddgst,
  output logic [4:0]       rd_cpda,

  output logic [N_CTX-1:0] valid
);

  // 5-tuple key: {ipv6, src_ip, dst_ip, src_port, dst_port}.
  localparam int KEY_W = 1 + 128 + 128 + 16 + 16;

  logic [N_CTX-1:0] valid_q;
  logic [KEY_W-1:0] key_q   [N_CTX];
  logic             hdgst_q [N_CTX];
  logic             ddgst_q [N_CTX];
  logic [4:0]       cpda_q  [N_CTX];

  logic [KEY_W-1:0] lk_key, wr_key;

  // IPv4 addresses keep only bits 31:0.
  function automatic logic [KEY_W-1:0] make_key(input logic ipv6, input logic [127:0] src, input logic [127:0] dst,
                                               input logic [15:0] sport, input logic [15:0] dport);
    logic [127:0] mask;
    mask = ipv6 ? {128{1'b1}} : {96'd0, 32'hFFFFFFFF};
    make_key = {ipv6, src & mask, dst & mask, sport, dport};
  endfunction

  always_comb begin
    lk_key = make_key(lk_ipv6, lk_src_ip, lk_dst_ip, lk_src_port, lk_dst_port);
    wr_key = make_key(wr_ipv6, wr_src_ip, wr_dst_ip, wr_src_port, wr_dst_port);
    lk_hit = 1'b0;
    lk_idx = '0;
    wr_tuple_exists = 1'b0;
    for (int i = N_CTX - 1; i >= 0; i--) begin
      if (valid_q[i] && key_q[i] == lk_key) begin
        lk_hit = 1'b1;
        lk_idx = IDX_W'(i);
      end
      if (valid_q[i] && key_q[i] == wr_key) wr_tuple_exists = 1'b1;
    end
  end

  assign valid    = valid_q;
  assign rd_valid = valid_q[rd_idx];
  assign rd_hdgst = hdgst_q[rd_idx];
  assign rd_ddgst = ddgst_q[rd_idx];
  assign rd_cpda  = cpda_q[rd_idx];

  always_ff @(posedge clk) begin
    if (wr_add) begin
      key_q[wr_idx]   <= wr_key;
      hdgst_q[wr_idx] <= wr_hdgst;
      ddgst_q[wr_idx] <= wr_ddgst;
      cpda_q[wr_idx]  <= wr_cpda;
    end
  end

  always_ff @(posedge clk) begin
    if (rst) begin
      valid_q <= '0;
    end else begin
      if (wr_add) valid_q[wr_idx] <= 1'b1;
      else if (wr_del) valid_q[wr_idx] <= 1'b0;
    end
  end

`ifndef SYNTHESIS
  // Never two valid entries with the same 5-tuple (the datapath relies on a unique match).
  add_unique: assert property (@(posedge clk) disable iff (rst) wr_add |-> !wr_tuple_exists && !valid_q[wr_idx])
    else $error("ddp_ctx_table: CTX_ADD over a used entry or a duplicate 5-tuple");
`endif

endmodule
