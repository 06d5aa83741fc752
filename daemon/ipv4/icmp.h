// ICMP errors the data plane sends itself.
#pragma once

#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstdint>

namespace vsgate {

// Turns the packet in place into "destination unreachable, fragmentation needed" (RFC 792,
// RFC 1191) with next-hop MTU `mtu`, from `src_be` back to the packet's source, quoting its
// header and first 8 bytes. Only for a single-segment packet with DF set (without DF the
// packet would have to be fragmented instead); false, and the packet untouched, otherwise.
bool make_frag_needed(rte_mbuf* m, rte_ipv4_hdr* ip, uint16_t mtu, uint32_t src_be);

}  // namespace vsgate
