// The per-packet descriptor: each frame is parsed once, in the first stage of a burst, and
// every later stage (the pre-routing hook, routing) reads this instead of the headers again.
#pragma once

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <cstring>

#include "common/flow.h"
#include "ipv4/csum.h"
#include "ipv4/drop_reasons.h"

namespace vsgate {

enum class PacketClass : uint8_t {
  invalid,  // dropped under PacketMeta::reason
  arp,
  other,  // an ethertype the data plane does not handle: the host's
  ipv4,   // a valid IPv4 packet that is not a complete TCP/UDP flow (see l4_error)
  flow,   // a valid, unfragmented IPv4 TCP or UDP packet with a sane L4 header
};

// Left uninitialised on purpose (a burst's 32 are on the stack): parse_packet() sets what its
// class needs.
struct PacketMeta {
  PacketClass cls;
  uint8_t tcp_flags;  // flow, TCP
  // invalid: why. ipv4: for TCP/UDP, what is wrong with L4 (a fragment, a bad header), else
  // Ipv4Drop::count; the load balancer drops such packets if they are addressed to it.
  Ipv4Drop reason;
  rte_ipv4_hdr* ip;  // ipv4 and flow: the checked header, after the Ethernet header
  ConnTuple flow;    // flow
  uint32_t hash;     // flow: set by the pre-routing hook's stage()
};

// Software check of an IPv4 header checksum: true if the header sums to 0xffff. The usual
// 20-byte header is summed as five 32-bit words, which is far shorter than rte_raw_cksum().
inline bool ipv4_header_sum_ok(const rte_ipv4_hdr* ip, uint32_t ihl) {
  if (ihl != sizeof(rte_ipv4_hdr)) return rte_raw_cksum(ip, ihl) == 0xffff;
  uint32_t w[5];
  std::memcpy(w, ip, sizeof w);
  uint64_t sum = uint64_t{w[0]} + w[1] + w[2] + w[3] + w[4];
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffffffffu) + (sum >> 32);
  return csum_fold(static_cast<uint32_t>(sum)) == 0xffff;
}

// The checks of an IPv4 header before anything else reads the packet. `l3_len` is what the
// first segment holds after the Ethernet header (headers must be there); the total length is
// checked against the whole packet. Ipv4Drop::count: valid.
[[gnu::always_inline]] inline Ipv4Drop ipv4_check(const rte_mbuf* m, const rte_ipv4_hdr* ip,
                                                  uint32_t l3_len) {
  if (l3_len < sizeof(rte_ipv4_hdr)) return Ipv4Drop::truncated;
  const uint32_t ihl = (ip->version_ihl & 0x0f) * 4u;
  // Version 4 without options, nearly every packet, in one compare.
  if (ip->version_ihl != RTE_IPV4_VHL_DEF) [[unlikely]] {
    if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(rte_ipv4_hdr)) return Ipv4Drop::bad_header;
    if (l3_len < ihl) return Ipv4Drop::truncated;
  }
  const uint32_t total = rte_be_to_cpu_16(ip->total_length);
  if (total < ihl) return Ipv4Drop::bad_header;
  if (total > m->pkt_len - sizeof(rte_ether_hdr)) return Ipv4Drop::truncated;
  // Trusted when the port checked it (RX offload, netif/port.cc), summed here otherwise.
  if ((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) != RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
      !ipv4_header_sum_ok(ip, ihl))
    return Ipv4Drop::bad_checksum;
  return Ipv4Drop::count;
}

// The flow of a TCP or UDP packet whose IPv4 header is checked: Ipv4Drop::count if it is
// complete and sane, else fragment or l4_bad_header.
inline Ipv4Drop parse_flow(const rte_mbuf* m, const rte_ipv4_hdr* ip, PacketMeta& p) {
  constexpr uint16_t kFragMask = RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK;
  if (ip->fragment_offset & rte_cpu_to_be_16(kFragMask)) return Ipv4Drop::fragment;
  const uint8_t proto = ip->next_proto_id;
  const uint32_t ihl = (ip->version_ihl & 0x0f) * 4u;
  const uint32_t l4_len = rte_be_to_cpu_16(ip->total_length) - ihl;
  const uint32_t l4_in_seg = rte_pktmbuf_data_len(m) - sizeof(rte_ether_hdr) - ihl;
  const auto* l4 = reinterpret_cast<const uint8_t*>(ip) + ihl;
  p.flow = {ip->src_addr, ip->dst_addr, 0, 0, proto};
  if (proto == IPPROTO_TCP) {
    const auto* tcp = reinterpret_cast<const rte_tcp_hdr*>(l4);
    const uint32_t doff = l4_len >= sizeof(rte_tcp_hdr) ? (tcp->data_off >> 4) * 4u : 0;
    if (l4_len < sizeof(rte_tcp_hdr) || l4_in_seg < sizeof(rte_tcp_hdr) || doff < 20 ||
        doff > l4_len)
      return Ipv4Drop::l4_bad_header;
    p.flow.src_port = tcp->src_port;
    p.flow.dst_port = tcp->dst_port;
    p.tcp_flags = tcp->tcp_flags;
  } else {
    const auto* udp = reinterpret_cast<const rte_udp_hdr*>(l4);
    const uint32_t ulen = l4_len >= sizeof(rte_udp_hdr) ? rte_be_to_cpu_16(udp->dgram_len) : 0;
    if (l4_len < sizeof(rte_udp_hdr) || l4_in_seg < sizeof(rte_udp_hdr) || ulen < 8 ||
        ulen > l4_len)
      return Ipv4Drop::l4_bad_header;
    p.flow.src_port = udp->src_port;
    p.flow.dst_port = udp->dst_port;
    p.tcp_flags = 0;
  }
  return Ipv4Drop::count;
}

// Ethernet, the IPv4 header checks and, for TCP and UDP, the flow.
[[gnu::always_inline]] inline void parse_packet(const rte_mbuf* m, PacketMeta& p) {
  const uint32_t len = rte_pktmbuf_data_len(m);
  p.ip = nullptr;
  if (len < sizeof(rte_ether_hdr)) [[unlikely]] {
    p.cls = PacketClass::invalid;
    p.reason = Ipv4Drop::runt;
    return;
  }
  p.reason = Ipv4Drop::count;
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) [[unlikely]] {
    p.cls = eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP) ? PacketClass::arp
                                                                    : PacketClass::other;
    return;
  }
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  if (const Ipv4Drop bad = ipv4_check(m, ip, len - static_cast<uint32_t>(sizeof(rte_ether_hdr)));
      bad != Ipv4Drop::count) [[unlikely]] {
    p.cls = PacketClass::invalid;
    p.reason = bad;
    return;
  }
  p.ip = ip;
  if (ip->next_proto_id != IPPROTO_TCP && ip->next_proto_id != IPPROTO_UDP) {
    p.cls = PacketClass::ipv4;
    return;
  }
  p.reason = parse_flow(m, ip, p);
  p.cls = p.reason == Ipv4Drop::count ? PacketClass::flow : PacketClass::ipv4;
}

}  // namespace vsgate
