// TCP connection states and transitions as IPVS tracks them (net/netfilter/ipvs/ip_vs_proto_tcp.c).
// The load balancer sees only one side of each host's stack, so this is not RFC 793: it is the
// IPVS table, reproduced so that ActiveConn/InActConn and expiry behave as LVS operators know.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vsgate {

// Values are the IPVS numbering (IP_VS_TCP_S_*), so dumps compare directly with the kernel.
enum class TcpState : uint8_t {
  none = 0,
  established,
  syn_sent,
  syn_recv,
  fin_wait,
  time_wait,
  close,
  close_wait,
  last_ack,
  listen,
  synack,
};
inline constexpr size_t kTcpStateCount = 11;

// What a segment means to the state machine. IPVS looks at one flag with priority
// RST > SYN > FIN > ACK, so a server's SYN+ACK is the `syn` event (in the output direction).
// `none` (no SYN/FIN/ACK/RST at all) sends the connection to CLOSE, as IPVS does.
enum class TcpEvent : uint8_t { syn = 0, fin, ack, rst, none };

// Which of the three IPVS tables applies:
//   input       client -> real server, when replies pass through us (NAT, FULLNAT);
//   output      real server -> client (replies);
//   input_only  client -> real server while no reply has been seen (DR, TUNNEL).
enum class TcpDir : uint8_t { input = 0, output, input_only };

// TCP header flag bits (byte 13 of the header).
inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpAck = 0x10;

TcpEvent tcp_event(uint8_t tcp_flags);
TcpState tcp_next_state(TcpState state, TcpDir dir, TcpEvent event);

// ipvsadm counts ESTABLISHED connections as ActiveConn and every other state as InActConn.
constexpr bool tcp_state_is_active(TcpState s) { return s == TcpState::established; }

// Names as /proc/net/ip_vs_conn and `ipvsadm -L -c` print them ("ESTABLISHED", "SYN_RECV", ...).
std::string_view tcp_state_name(TcpState s);

// IPVS default timeout of a state, in seconds (ESTABLISHED 900, SYN_RECV 60, CLOSE 10, ...).
uint32_t tcp_default_timeout_s(TcpState s);

// Result of feeding one segment to a connection: the caller moves one connection between its
// real server's ActiveConn and InActConn counters when active_delta is +1 (inactive -> active)
// or -1 (active -> inactive).
struct TcpStateChange {
  TcpState from = TcpState::none;
  TcpState to = TcpState::none;
  int8_t active_delta = 0;
};

}  // namespace vsgate
