// Why the load balancer drops a packet: its drop reasons (lcore/io_stats.h). It also drops,
// under IPv4's reasons, TCP/UDP packets addressed to it whose flow cannot be read
// (Ipv4Drop::l4_bad_header, Ipv4Drop::fragment).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "ipv4/drop_reasons.h"
#include "lcore/io_stats.h"

namespace vsgate {

enum class LbDrop : uint8_t {
  vip_no_service,     // to a VIP (not also an address of the host) without a service on that
                      // protocol and port
  tcp_no_conn,        // TCP to a service, without a connection and not a bare SYN: nothing
                      // to put it in, and it cannot start one
  no_dest,            // no real server available (all weight 0 or overloaded), or the real
                      // server of the connection is gone
  conn_table_full,    // a new connection, but the worker's connection table is full
  no_local_port,      // FULLNAT: the service's local addresses have no port left on this worker
  no_neighbour,       // after rewriting, no route or no MAC for the next hop yet (resolution is
                      // requested, the connection stays, the sender retransmits); TUNNEL: also
                      // when the egress port has no address to encapsulate from
  too_big,            // TUNNEL: the encapsulated packet would exceed the egress MTU and the client
                      // cannot be told to send less (no DF: we do not fragment)
  src_port_zero,      // TCP/UDP from source port 0 to a VIP or local address: no stack sends it,
                      // and it is the client port of persistence templates
  icmp_bad_checksum,  // an ICMP error about one of our connections whose ICMP checksum is wrong
  icmp_fragment,      // an ICMP message to a VIP or local address in an IP fragment: the quoted
                      // header cannot be trusted to be complete
  icmp_rate_limited,  // an ICMP error about one of our connections beyond the worker's budget
                      // (LbWorker::kIcmpErrorsPerTick, kIcmpErrorBurst)
  count
};

template <>
struct DropReasonSet<LbDrop> {
  static constexpr size_t first = kDropReasonsEnd<Ipv4Drop>;  // after IPv4's
  static constexpr std::array<std::string_view, static_cast<size_t>(LbDrop::count)> names{
      "lb_vip_no_service",    "lb_tcp_no_conn",   "lb_no_dest",          "lb_conn_table_full",
      "lb_no_local_port",     "lb_no_neighbour",  "lb_too_big",          "lb_src_port_zero",
      "lb_icmp_bad_checksum", "lb_icmp_fragment", "lb_icmp_rate_limited"};
};
static_assert(drop_reason_set_fits<LbDrop>());

}  // namespace vsgate
