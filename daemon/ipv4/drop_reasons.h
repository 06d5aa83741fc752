// The packets IPv4 parsing finds unusable: its drop reasons (lcore/io_stats.h).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "lcore/io_stats.h"

namespace vsgate {

// Set by parse_packet() (ipv4/packet.h) in PacketMeta::reason. The first four are dropped by
// classify whatever the packet is addressed to: nothing after parsing may read such a frame.
// The last two describe a TCP or UDP packet whose IPv4 header is fine but whose flow cannot be
// read; IPv4 routes such packets, and a pre-routing hook drops them under this reason when they
// are addressed to it (the load balancer: to a VIP or local address).
enum class Ipv4Drop : uint8_t {
  runt,           // frame shorter than an Ethernet header
  truncated,      // frame shorter than the IPv4 header or its total length
  bad_header,     // version != 4, IHL < 5, total length < header length
  bad_checksum,   // header checksum wrong (checked in software unless the port checked it)
  l4_bad_header,  // TCP/UDP: truncated L4 header, bad data offset or datagram length
  fragment,       // an IP fragment (more-fragments or an offset): no 5-tuple to look up. Named
                  // lb_fragment, after the only module that drops it so far (per-worker
                  // connection tables cannot follow fragments)
  count           // parse_packet(): not dropped
};

template <>
struct DropReasonSet<Ipv4Drop> {
  static constexpr size_t first = 0;  // the first set
  static constexpr std::array<std::string_view, static_cast<size_t>(Ipv4Drop::count)> names{
      "runt",          "ipv4_truncated", "ipv4_bad_header", "ipv4_bad_checksum",
      "l4_bad_header", "lb_fragment"};
};
static_assert(drop_reason_set_fits<Ipv4Drop>());

}  // namespace vsgate
