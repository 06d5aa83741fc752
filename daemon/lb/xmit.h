// Packet rewrites of the forwarding modes, on a validated IPv4 packet whose TCP/UDP header is in
// the first segment; IP and L4 checksums are updated incrementally (ipv4/csum.h).
#pragma once

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <cstring>

#include "ipv4/csum.h"

namespace vsgate {

// Rewrites source and destination address/port (network order) of an IPv4 TCP or UDP packet;
// `l4` points at its TCP/UDP header.
[[gnu::always_inline]] inline void rewrite_tuple(rte_ipv4_hdr* ip, void* l4, uint32_t src,
                                                 uint16_t sport, uint32_t dst, uint16_t dport) {
  // The addresses are in the IPv4 header and in the pseudo-header of the L4 checksum: one
  // change for both. The ports are adjacent at the start of both TCP and UDP headers.
  const uint64_t addrs = csum_delta4(ip->src_addr, src) + csum_delta4(ip->dst_addr, dst);
  const uint16_t new_ports[2] = {sport, dport};
  uint32_t ports_from, ports_to;
  std::memcpy(&ports_from, l4, sizeof ports_from);
  std::memcpy(&ports_to, new_ports, sizeof ports_to);
  const uint64_t l4_delta = addrs + csum_delta4(ports_from, ports_to);
  if (ip->next_proto_id == IPPROTO_TCP) {
    auto* t = static_cast<rte_tcp_hdr*>(l4);
    t->cksum = csum_apply(t->cksum, l4_delta);
  } else {
    auto* u = static_cast<rte_udp_hdr*>(l4);
    if (u->dgram_cksum) {  // 0 = the sender computed none
      u->dgram_cksum = csum_apply(u->dgram_cksum, l4_delta);
      if (u->dgram_cksum == 0) u->dgram_cksum = 0xffff;  // 0 would mean "no checksum"
    }
  }
  std::memcpy(l4, &ports_to, sizeof ports_to);
  ip->hdr_checksum = csum_apply(ip->hdr_checksum, addrs);
  ip->src_addr = src;
  ip->dst_addr = dst;
}

// IPIP: prepends an outer IPv4 header behind the Ethernet header. nullptr without headroom.
inline rte_ipv4_hdr* encap_ipip(rte_mbuf* m, uint32_t src, uint32_t dst) {
  auto* inner = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, sizeof(rte_ether_hdr));
  const uint8_t tos = inner->type_of_service;
  const uint16_t df = inner->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
  const uint16_t inner_len = rte_be_to_cpu_16(inner->total_length);
  // Ethernet padding must not end up inside the tunnel.
  const uint32_t frame = sizeof(rte_ether_hdr) + inner_len;
  if (m->nb_segs == 1 && m->pkt_len > frame)
    rte_pktmbuf_trim(m, static_cast<uint16_t>(m->pkt_len - frame));
  char* start = rte_pktmbuf_prepend(m, sizeof(rte_ipv4_hdr));
  if (!start) return nullptr;
  std::memmove(start, start + sizeof(rte_ipv4_hdr), sizeof(rte_ether_hdr));
  auto* outer = reinterpret_cast<rte_ipv4_hdr*>(start + sizeof(rte_ether_hdr));
  outer->version_ihl = RTE_IPV4_VHL_DEF;
  outer->type_of_service = tos;
  outer->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(inner_len + sizeof(rte_ipv4_hdr)));
  outer->packet_id = 0;
  outer->fragment_offset = df;
  outer->time_to_live = 64;
  outer->next_proto_id = IPPROTO_IPIP;
  outer->src_addr = src;
  outer->dst_addr = dst;
  outer->hdr_checksum = 0;
  outer->hdr_checksum = rte_ipv4_cksum(outer);
  return outer;
}

}  // namespace vsgate
