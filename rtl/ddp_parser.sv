// ddp_parser: Ethernet / 802.1Q / IPv4 / IPv6 / TCP header parser and checksum checker.
//
// The frame passes through unchanged (one register stage, ddp_axis_skid) while the parser watches the beats
// accepted on s_axis. Two cycles after a frame's last beat is accepted, one verdict for that frame appears on
// m_verdict_*: whether it is a complete, well-formed TCP segment whose IPv4 header checksum (if IPv4) and TCP
// checksum are good, and the fields later stages need. Every frame gets exactly one verdict, whatever it holds.
//
// How: every header field sits at a frame byte offset known a few beats before the field arrives, because
// each offset depends only on bytes of earlier beats (the VLAN tag is the one exception, decided inside beat 1).
//   L3 = 14, or 18 with an 802.1Q tag                   (ethertype at bytes 12..13, beat 1)
//   L4 = L3 + 4*IHL (IPv4) or L3 + 40 (IPv6)            (IHL at byte L3, beat 1 or 2)
//   E  = L3 + total length (IPv4) or L4 + payload length (IPv6), the end of the IP datagram (beat 2)
// So the parser captures the bytes it needs into small windows (Ethernet type, IP header, TCP header) and adds
// the 16-bit words of each beat into two one's-complement sums: the IPv4 header [L3, L4), and the TCP sum =
// the addresses of the pseudo-header + the segment [L4, E). E comes from the IP header, not from the frame:
// frames shorter than 60 bytes carry Ethernet padding after the datagram. Protocol, length and TCP length
// words of the pseudo-header are added at the end. All offsets are even, so words never straddle lanes.
//
// Ethernet II with an optional 802.1Q tag (no FCS):
//   Field                     Length
//   Destination MAC           6 octets
//   Source MAC                6 octets
//  [TPID 0x8100               2 octets]  optional 802.1Q tag
//  [TCI (PCP, DEI, VID)       2 octets]
//   Ethertype                 2 octets   0x0800 IPv4, 0x86DD IPv6
//
// IPv4 header (RFC 791), at L3:
//   Field                     Length
//   Version (4), IHL          1 octet    IHL in 32-bit words, 5..15 (options skipped)
//   DSCP, ECN                 1 octet
//   Total length              2 octets   header + payload, bytes
//   Identification            2 octets
//   Flags (-, DF, MF),        2 octets   MF set or fragment offset != 0: a fragment
//     fragment offset
//   Time to live              1 octet
//   Protocol                  1 octet    6 = TCP
//   Header checksum           2 octets
//   Source address            4 octets
//   Destination address       4 octets
//   Options                   4*IHL - 20 octets
//
// IPv6 header (RFC 8200), at L3 (extension headers are not followed: next header must be TCP):
//   Field                     Length
//   Version (6), traffic      4 octets
//     class, flow label
//   Payload length            2 octets
//   Next header               1 octet    6 = TCP
//   Hop limit                 1 octet
//   Source address            16 octets
//   Destination address       16 octets
//
// TCP header (RFC 9293), at L4:
//   Field                     Length
//   Source port               2 octets
//   Destination port          2 octets
//   Sequence number           4 octets
//   Acknowledgment number     4 octets
//   Data offset, reserved     1 octet    data offset in 32-bit words, 5..15 (options skipped)
//   Flags (CWR..FIN)          1 octet
//   Window                    2 octets
//   Checksum                  2 octets   over pseudo-header + header + payload
//   Urgent pointer            2 octets
//   Options                   4*offset - 20 octets
//
// Verdict reasons, first failing check wins (the order matters for the golden model):
//   1 NOT_IP      ethertype not IPv4/IPv6, or the version nibble disagrees with it
//   2 TRUNCATED   the frame ends inside the Ethernet or IP header, or before the datagram's end E
//   3 BAD_LENGTH  IPv4 IHL < 5 or total length < header; segment < 20 bytes, data offset < 5 or past E
//   4 IP_CSUM     IPv4 header checksum wrong
//   5 FRAGMENT    IPv4 MF flag or fragment offset != 0
//   6 IPV6_EXT    IPv6 next header is an extension header
//   7 NOT_TCP     IP protocol / next header is not TCP
//   8 TCP_CSUM    TCP checksum wrong
//   9 OVERSIZE    frame longer than MAX_FRAME bytes (checked first)
// The order of the checks: OVERSIZE, TRUNCATED (Ethernet), NOT_IP (ethertype), TRUNCATED (fixed IP header),
// NOT_IP (version); IPv4: BAD_LENGTH, TRUNCATED (options), IP_CSUM, FRAGMENT, NOT_TCP; IPv6: IPV6_EXT,
// NOT_TCP; then TRUNCATED (datagram), BAD_LENGTH (TCP), TCP_CSUM.
//
// Parameters:
//   DATA_W     tdata width in bits (64 only for now)
//   KEEP_W     tkeep width (derived)
//   MAX_FRAME  longest frame in bytes that can be offloaded; longer ones get OVERSIZE
// Ports:
//   clk, rst                                    clock, synchronous active-high reset
//   s_axis_t{data,keep,valid,ready,last}        frames in (Ethernet, no FCS; tkeep contiguous from lane 0)
//   m_axis_t{data,keep,valid,ready,last}        the same frames, one cycle later, unchanged
//   m_verdict_valid / m_verdict_ready           one verdict per frame, 2 cycles after its last beat is accepted
//                                               (never stalled: m_verdict_ready must be 1 when valid)
//   m_verdict_ok                                1: a complete TCP segment, checksums good, not a fragment
//   m_verdict_reason[3:0]                       0 when ok, else the first failing check (table above)
//   m_verdict_ipv6                              1: IPv6
//   m_verdict_src_ip[127:0], m_verdict_dst_ip   addresses, IPv4 in bits 31:0 (upper bits 0)
//   m_verdict_src_port[15:0], m_verdict_dst_port
//   m_verdict_seq[31:0], m_verdict_tcp_flags[7:0]  (CWR ECE URG ACK PSH RST SYN FIN)
//   m_verdict_payload_off[15:0]                 frame byte offset of the first TCP payload byte
//   m_verdict_payload_len[15:0]                 TCP payload bytes (from the IP length, padding excluded)
//   m_verdict_frame_len[15:0]                   frame length in bytes (any value > MAX_FRAME when oversize)
// Fields other than ok, reason and frame_len are meaningful only when ok = 1.

module ddp_parser #(
  // tdata width in bits (only 64 is handled for now)
  parameter int DATA_W = 64,
  // tkeep width: one bit per byte
  parameter int KEEP_W = DATA_W / 8,
  // longest frame in bytes; longer frames get reason OVERSIZE (at most 65000: offsets are 16 bits)
  parameter int MAX_FRAME = 9216
) (
  input  logic              clk,
  input  logic              rst,

  input  logic [DATA_W-1:0] s_axis_tdata,
  input  logic [KEEP_W-1:0] s_axis_tkeep,
  input  logic              s_axis_tvalid,
  output logic              s_axis_tready,
  input  logic              s_axis_tlast,

  output logic [DATA_W-1:0] m_axis_tdata,
  output logic [KEEP_W-1:0] m_axis_tkeep,
  output logic              m_axis_tvalid,
  input  logic              m_axis_tready,
  output logic              m_axis_tlast,

  output logic              m_verdict_valid,
  input  logic              m_verdict_ready,
  output logic              m_verdict_ok,
  output logic [3:0]        m_verdict_reason,
  output logic              m_verdict_ipv6,
  output logic [127:0]      m_verdict_src_ip,
  output logic [127:0]      m_verdict_dst_ip,
  output logic [15:0]       m_verdict_src_port,
  output logic [15:0]       m_verdict_dst_port,
  output logic [31:0]       m_verdict_seq,
  output logic [7:0]        m_verdict_tcp_flags,
  output logic [15:0]       m_verdict_payload_off,
  output logic [15:0]       m_verdict_payload_len,
  output logic [15:0]       m_verdict_frame_len
);

  localparam int BYTES = DATA_W / 8;
  localparam int WORDS = BYTES / 2;
  // Bytes captured from the IP header (the IPv6 fixed header; an IPv4 header's fixed part is shorter).
  localparam int IP_BYTES = 40;
  // Bytes captured from the TCP header: ports, seq, ack (not kept), data offset, flags.
  localparam int TCP_BYTES = 14;
  // Every IP header starts at or after this frame offset, and every TCP header at or after TCP_MIN.
  localparam int L3_MIN = 14;
  localparam int TCP_MIN = 34;

  typedef enum logic [3:0] {
    R_OK         = 4'd0,
    R_NOT_IP     = 4'd1,
    R_TRUNCATED  = 4'd2,
    R_BAD_LENGTH = 4'd3,
    R_IP_CSUM    = 4'd4,
    R_FRAGMENT   = 4'd5,
    R_IPV6_EXT   = 4'd6,
    R_NOT_TCP    = 4'd7,
    R_TCP_CSUM   = 4'd8,
    R_OVERSIZE   = 4'd9
  } reason_e;

  // ---------------------------------------------------------------------------------------------------------
  // Pass-through: the frame is not touched, the parser only watches the accepted beats.

  logic beat;  // a beat is accepted on s_axis this cycle

  /* verilator lint_off PINCONNECTEMPTY */
  ddp_axis_skid #(.DATA_W(DATA_W), .KEEP_W(KEEP_W), .USER_W(1)) u_skid (
    .clk, .rst,
    .s_axis_tdata, .s_axis_tkeep, .s_axis_tuser(1'b0), .s_axis_tlast, .s_axis_tvalid, .s_axis_tready,
    .m_axis_tdata, .m_axis_tkeep, .m_axis_tuser(), .m_axis_tlast, .m_axis_tvalid, .m_axis_tready
  );
  /* verilator lint_on PINCONNECTEMPTY */

  assign beat = s_axis_tvalid && s_axis_tready;

  // ---------------------------------------------------------------------------------------------------------
  // Per-beat capture and sums.

  logic [15:0] off_q, off_d;            // frame offset of lane 0 of the current beat; stops past MAX_FRAME
  logic [7:0]  lane [BYTES];            // the beat's bytes, 0 where tkeep is clear
  logic [7:0]  eth_q [4], eth_d [4];    // bytes 12, 13 (first ethertype) and 16, 17 (ethertype after a tag)
  logic [7:0]  ip_q [IP_BYTES], ip_d [IP_BYTES];      // IP header bytes L3 .. L3+39
  logic [7:0]  tcp_q [TCP_BYTES], tcp_d [TCP_BYTES];  // TCP header bytes L4 .. L4+13
  logic [20:0] ip_sum_q, ip_sum_d;      // unfolded sum of the IPv4 header words so far
  logic [28:0] tcp_sum_q, tcp_sum_d;    // unfolded sum of pseudo-header addresses + segment words so far
  logic [15:0] l4_q;                    // L4 of the current frame, valid from beat 4 (registered geometry)
  logic [16:0] end_q;                   // E of the current frame, valid from beat 4
  logic [16:0] seg_len_q;               // E - L4: TCP header + payload bytes, valid from beat 5
  logic        vlan_cur;                // the current frame has an 802.1Q tag (valid from beat 1 on)
  logic [15:0] l3_cur;                  // L3 of the current frame (valid from beat 1 on)
  logic [15:0] frame_len;               // bytes up to and including this beat

  // Header geometry decoded from the captured bytes (used for the verdict and, registered, for the sums).
  logic        vlan, is_v4, is_v6;
  logic [15:0] l3, l4, pay_off;
  logic [16:0] ip_end;
  logic [15:0] ip_hdr_len;

  always_comb begin
    vlan       = {eth_q[0], eth_q[1]} == 16'h8100;
    is_v4      = (vlan ? {eth_q[2], eth_q[3]} : {eth_q[0], eth_q[1]}) == 16'h0800;
    is_v6      = (vlan ? {eth_q[2], eth_q[3]} : {eth_q[0], eth_q[1]}) == 16'h86dd;
    l3         = vlan ? 16'd18 : 16'd14;
    ip_hdr_len = is_v6 ? 16'd40 : {10'd0, ip_q[0][3:0], 2'b00};
    l4         = l3 + ip_hdr_len;
    ip_end     = is_v6 ? 17'(l4) + 17'({ip_q[4], ip_q[5]}) : 17'(l3) + 17'({ip_q[2], ip_q[3]});
    pay_off    = l4_q + {10'd0, tcp_q[12][7:4], 2'b00};
  end

  // Per-lane view and per-word classification of the current beat.
  logic [15:0] tcp_gap [TCP_BYTES];  // distance from this beat's lane 0 to TCP header byte j
  logic [15:0] word_off [WORDS];     // frame offset of word w of this beat
  logic        word_ip [WORDS];      // word is in the IPv4 header [L3, L4)
  logic        word_addr [WORDS];    // word is a pseudo-header address (source or destination)
  logic        word_hi [WORDS];      // the word's high byte is in the segment [L4, E)
  logic        word_lo [WORDS];      // the word's low byte is in the segment

  always_comb begin
    for (int l = 0; l < BYTES; l++) lane[l] = s_axis_tkeep[l] ? s_axis_tdata[8*l +: 8] : 8'd0;
    frame_len = off_q + 16'($countones(s_axis_tkeep));
    off_d     = off_q;
    if (beat) off_d = s_axis_tlast ? 16'd0 : (off_q > 16'(MAX_FRAME) ? off_q : off_q + 16'(BYTES));

    // The tag is decided inside beat 1 (bytes 12..13 are lanes 4..5), before bytes 14.. are classified.
    vlan_cur = (off_q == 16'd8) ? {lane[4], lane[5]} == 16'h8100 : vlan;
    l3_cur   = vlan_cur ? 16'd18 : 16'd14;

    for (int j = 0; j < TCP_BYTES; j++) tcp_gap[j] = l4_q + 16'(j) - off_q;

    // A word at offset o is in the IPv4 header when L3 <= o < L4 (before beat 4 every word past L3 is: a
    // header is at least 20 bytes); in the TCP sum when it holds a pseudo-header address or lies in [L4, E)
    // (an odd E leaves the last word's low byte out). l4_q and end_q are valid from beat 4 on.
    for (int w = 0; w < WORDS; w++) begin
      word_off[w]  = off_q | 16'(2 * w);  // off_q is a multiple of BYTES: no adder needed
      word_ip[w]   = word_off[w] >= l3_cur && (off_q < 16'(TCP_MIN / BYTES * BYTES) || word_off[w] < l4_q);
      word_addr[w] = off_q >= 16'd16 && (is_v6 ? (word_off[w] >= l3 + 16'd8 && word_off[w] < l3 + 16'd40)
                                               : (word_off[w] >= l3 + 16'd12 && word_off[w] < l3 + 16'd20));
      word_hi[w]   = off_q >= 16'(TCP_MIN / BYTES * BYTES) && word_off[w] >= l4_q && 17'(word_off[w]) < end_q;
      word_lo[w]   = word_hi[w] && 17'(word_off[w]) + 17'd1 < end_q;
    end
  end

  always_comb begin
    for (int j = 0; j < 4; j++) eth_d[j] = eth_q[j];
    for (int j = 0; j < IP_BYTES; j++) ip_d[j] = ip_q[j];
    for (int j = 0; j < TCP_BYTES; j++) tcp_d[j] = tcp_q[j];
    if (beat) begin
      if (off_q == 16'd8) begin
        eth_d[0] = lane[4];
        eth_d[1] = lane[5];
      end
      if (off_q == 16'd16) begin
        eth_d[2] = lane[0];
        eth_d[3] = lane[1];
      end
      // IP header bytes: L3 is one of two constants, so each byte comes from one of two fixed places.
      for (int j = 0; j < IP_BYTES; j++) begin
        if (j != 1) begin  // DSCP / traffic class: not needed
          if (!vlan_cur && off_q == 16'((L3_MIN + j) / BYTES * BYTES)) ip_d[j] = lane[(L3_MIN + j) % BYTES];
          if (vlan_cur && off_q == 16'((L3_MIN + 4 + j) / BYTES * BYTES))
            ip_d[j] = lane[(L3_MIN + 4 + j) % BYTES];
        end
      end
      // TCP header bytes: L4 is variable, so each byte's lane comes from its distance to this beat.
      for (int j = 0; j < TCP_BYTES; j++)
        if ((j < 8 || j >= 12) && off_q >= 16'(TCP_MIN / BYTES * BYTES) && tcp_gap[j] < 16'(BYTES))
          tcp_d[j] = lane[tcp_gap[j][2:0]];
    end
  end

  // The beat's words are added among themselves first (narrow adders), then once to the running sums.
  logic [17:0] beat_ip_sum, beat_tcp_sum;

  always_comb begin
    beat_ip_sum  = '0;
    beat_tcp_sum = '0;
    for (int w = 0; w < WORDS; w++) begin
      if (word_ip[w]) beat_ip_sum = beat_ip_sum + 18'({lane[2*w], lane[2*w+1]});
      if (word_addr[w] || word_hi[w])
        beat_tcp_sum = beat_tcp_sum + 18'({lane[2*w], (word_addr[w] || word_lo[w]) ? lane[2*w+1] : 8'd0});
    end
    ip_sum_d  = ((off_q == 16'd0) ? 21'd0 : ip_sum_q) + 21'(beat_ip_sum);
    tcp_sum_d = ((off_q == 16'd0) ? 29'd0 : tcp_sum_q) + 29'(beat_tcp_sum);
  end

  always_ff @(posedge clk) begin
    for (int j = 0; j < 4; j++) eth_q[j] <= eth_d[j];
    for (int j = 0; j < IP_BYTES; j++) ip_q[j] <= ip_d[j];
    for (int j = 0; j < TCP_BYTES; j++) tcp_q[j] <= tcp_d[j];
    // Geometry lags the captured bytes by a cycle or two; it is first needed at beat 4, two beats after the
    // last byte it depends on (beat 2), and at the end of frames of 5 beats or more (shorter ones are
    // TRUNCATED by checks that do not use it).
    l4_q      <= l4;
    end_q     <= ip_end;
    seg_len_q <= end_q - 17'(l4_q);
    if (beat) begin
      ip_sum_q  <= ip_sum_d;
      tcp_sum_q <= tcp_sum_d;
    end
    if (rst) off_q <= 16'd0;
    else     off_q <= off_d;
  end

  // ---------------------------------------------------------------------------------------------------------
  // Frame end: the sums including the last beat, then the checks. The captured bytes are still the frame's
  // in the cycle after its last beat (the next frame's first beat captures nothing).

  logic        fin_valid_q;
  logic [20:0] fin_ip_sum_q;
  logic [28:0] fin_tcp_sum_q;
  logic [15:0] fin_len_q;

  always_ff @(posedge clk) begin
    if (beat && s_axis_tlast) begin
      fin_ip_sum_q  <= ip_sum_d;
      fin_tcp_sum_q <= tcp_sum_d;
      fin_len_q     <= frame_len;
    end
    if (rst) fin_valid_q <= 1'b0;
    else     fin_valid_q <= beat && s_axis_tlast;
  end

  // One's-complement fold of an unfolded sum to 16 bits.
  function automatic logic [15:0] fold(input logic [31:0] s);
    logic [16:0] t;
    t = 17'(s[15:0]) + 17'(s[31:16]);
    fold = t[15:0] + 16'(t[16]);
  endfunction

  // IPv6 next-header values that are extension headers (RFC 8200 4, RFC 7045 IANA list).
  function automatic logic is_ext_header(input logic [7:0] nh);
    is_ext_header = nh == 8'd0 || nh == 8'd43 || nh == 8'd44 || nh == 8'd50 || nh == 8'd51 || nh == 8'd60 ||
                    nh == 8'd135 || nh == 8'd139 || nh == 8'd140 || nh == 8'd253 || nh == 8'd254;
  endfunction

  reason_e     reason;
  logic [15:0] tcp_total;  // folded TCP sum with protocol and length
  logic [7:0]  proto;
  logic        fragment;

  always_comb begin
    tcp_total = fold(32'(fin_tcp_sum_q) + 32'(seg_len_q) + 32'd6);
    proto     = is_v6 ? ip_q[6] : ip_q[9];
    fragment  = ip_q[6][5] || {ip_q[6][4:0], ip_q[7]} != 13'd0;

    reason = R_OK;
    if (fin_len_q > 16'(MAX_FRAME))                                   reason = R_OVERSIZE;
    else if (fin_len_q < l3)                                          reason = R_TRUNCATED;
    else if (!is_v4 && !is_v6)                                        reason = R_NOT_IP;
    else if (fin_len_q < l3 + (is_v6 ? 16'd40 : 16'd20))              reason = R_TRUNCATED;
    else if (ip_q[0][7:4] != (is_v6 ? 4'd6 : 4'd4))                   reason = R_NOT_IP;
    else if (is_v4 && (ip_q[0][3:0] < 4'd5 || {ip_q[2], ip_q[3]} < ip_hdr_len)) reason = R_BAD_LENGTH;
    else if (is_v4 && fin_len_q < l4_q)                               reason = R_TRUNCATED;
    else if (is_v4 && fold(32'(fin_ip_sum_q)) != 16'hffff)            reason = R_IP_CSUM;
    else if (is_v4 && fragment)                                       reason = R_FRAGMENT;
    else if (is_v6 && is_ext_header(proto))                           reason = R_IPV6_EXT;
    else if (proto != 8'd6)                                           reason = R_NOT_TCP;
    else if (17'(fin_len_q) < end_q)                                  reason = R_TRUNCATED;
    else if (seg_len_q < 17'd20 || tcp_q[12][7:4] < 4'd5 || 17'(pay_off) > end_q) reason = R_BAD_LENGTH;
    else if (tcp_total != 16'hffff)                                   reason = R_TCP_CSUM;
  end

  // Verdict output register, loaded one cycle after the frame end.
  logic verdict_valid_q;
  assign m_verdict_valid = verdict_valid_q;

  always_ff @(posedge clk) begin
    if (fin_valid_q) begin
      m_verdict_ok          <= reason == R_OK;
      m_verdict_reason      <= reason;
      m_verdict_ipv6        <= is_v6;
      m_verdict_src_ip      <= is_v6 ? {ip_q[8], ip_q[9], ip_q[10], ip_q[11], ip_q[12], ip_q[13], ip_q[14],
                                        ip_q[15], ip_q[16], ip_q[17], ip_q[18], ip_q[19], ip_q[20], ip_q[21],
                                        ip_q[22], ip_q[23]}
                                     : {96'd0, ip_q[12], ip_q[13], ip_q[14], ip_q[15]};
      m_verdict_dst_ip      <= is_v6 ? {ip_q[24], ip_q[25], ip_q[26], ip_q[27], ip_q[28], ip_q[29], ip_q[30],
                                        ip_q[31], ip_q[32], ip_q[33], ip_q[34], ip_q[35], ip_q[36], ip_q[37],
                                        ip_q[38], ip_q[39]}
                                     : {96'd0, ip_q[16], ip_q[17], ip_q[18], ip_q[19]};
      m_verdict_src_port    <= {tcp_q[0], tcp_q[1]};
      m_verdict_dst_port    <= {tcp_q[2], tcp_q[3]};
      m_verdict_seq         <= {tcp_q[4], tcp_q[5], tcp_q[6], tcp_q[7]};
      m_verdict_tcp_flags   <= tcp_q[13];
      m_verdict_payload_off <= pay_off;
      m_verdict_payload_len <= 16'(end_q - 17'(pay_off));
      m_verdict_frame_len   <= fin_len_q;
    end
    if (rst) verdict_valid_q <= 1'b0;
    else     verdict_valid_q <= fin_valid_q || (verdict_valid_q && !m_verdict_ready);
  end

`ifndef SYNTHESIS
  initial begin
    assert (DATA_W == 64) else $fatal(1, "ddp_parser: only DATA_W = 64 is handled");
    assert (MAX_FRAME <= 65000) else $fatal(1, "ddp_parser: MAX_FRAME must fit 16-bit offsets");
  end
  // The consumer never stalls verdicts (ddp_delay sizes its verdict FIFO for that): a new one must not
  // overwrite one still waiting.
  verdict_not_dropped: assert property (@(posedge clk) disable iff (rst)
    !(fin_valid_q && verdict_valid_q && !m_verdict_ready))
    else $error("ddp_parser: verdict dropped (m_verdict_ready low)");
  // tkeep is contiguous from lane 0, and only a last beat may be partial.
  keep_contiguous: assert property (@(posedge clk) disable iff (rst)
    beat |-> ((s_axis_tkeep & (s_axis_tkeep + KEEP_W'(1))) == '0) && (s_axis_tlast || &s_axis_tkeep))
    else $error("ddp_parser: tkeep not contiguous, or a partial beat before tlast");
`endif

endmodule
