// The flow vocabulary shared by the packet parser (ipv4/) and the connection table (lb/core/):
// a packet's 5-tuple exactly as it sits in the headers.
#pragma once

#include <cstdint>

namespace vsgate {

// Addresses and ports in network byte order.
struct ConnTuple {
  uint32_t src_ip = 0;
  uint32_t dst_ip = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t proto = 0;  // IPPROTO_TCP / IPPROTO_UDP
  bool operator==(const ConnTuple&) const = default;
};

}  // namespace vsgate
