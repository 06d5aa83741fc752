#include "ipv4/icmp.h"

#include <rte_ether.h>

#include <cstring>

namespace vsgate {

bool make_frag_needed(rte_mbuf* m, rte_ipv4_hdr* ip, uint16_t mtu, uint32_t src_be) {
  constexpr uint32_t kIcmpHdr = 8;
  const uint32_t ihl = (ip->version_ihl & 0x0f) * 4u;
  const uint32_t quote = ihl + 8;  // RFC 792: the header and 64 bits of the datagram
  const uint32_t ip_len = sizeof(rte_ipv4_hdr) + kIcmpHdr + quote;
  if (!(ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG)) || m->nb_segs != 1 ||
      rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr) + ip_len)
    return false;
  const uint32_t dst_be = ip->src_addr;
  auto* l3 = reinterpret_cast<uint8_t*>(ip);
  std::memmove(l3 + sizeof(rte_ipv4_hdr) + kIcmpHdr, l3, quote);
  uint8_t* icmp = l3 + sizeof(rte_ipv4_hdr);
  icmp[0] = 3;  // destination unreachable
  icmp[1] = 4;  // fragmentation needed and DF set
  icmp[2] = icmp[3] = icmp[4] = icmp[5] = 0;
  const uint16_t mtu_be = rte_cpu_to_be_16(mtu);
  std::memcpy(icmp + 6, &mtu_be, 2);
  const uint16_t sum = static_cast<uint16_t>(~rte_raw_cksum(icmp, kIcmpHdr + quote));
  std::memcpy(icmp + 2, &sum, 2);
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->type_of_service = 0xc0;  // internetwork control, as hosts send ICMP errors
  ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(ip_len));
  ip->packet_id = 0;
  ip->fragment_offset = 0;
  ip->time_to_live = 64;
  ip->next_proto_id = IPPROTO_ICMP;
  ip->src_addr = src_be;
  ip->dst_addr = dst_be;
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  rte_pktmbuf_trim(m,
                   static_cast<uint16_t>(rte_pktmbuf_data_len(m) - sizeof(rte_ether_hdr) - ip_len));
  return true;
}

}  // namespace vsgate
