// ARP in the data plane: requests for addresses the data plane owns (the load balancer's VIPs
// and local addresses) are answered here, exactly once; everything else goes to the host stack,
// which answers for its own addresses and learns neighbours from what it sees.
#pragma once

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "ipv4/fib.h"

namespace vsgate {

// Turns an ARP request for an address `answers_for(target_be)` claims into the reply, in place,
// to go out of the port it came in on. Only on the port where the address is reachable, and
// never for the host's own addresses. False (frame untouched) otherwise.
template <class AnswersFor>
bool answer_arp(rte_mbuf* m, const Fib& fib, AnswersFor&& answers_for) {
  if (rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr)) return false;
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
  if (arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) ||
      arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
      arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
    return false;
  const uint32_t target = arp->arp_data.arp_tip;
  if (fib.is_local(target) || !answers_for(target)) return false;
  const NextHop* nh = fib.route(target);
  if (!nh || nh->port_id != m->port) return false;
  const rte_ether_addr our = fib.port(m->port).mac;
  arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
  arp->arp_data.arp_tha = arp->arp_data.arp_sha;
  arp->arp_data.arp_tip = arp->arp_data.arp_sip;
  arp->arp_data.arp_sha = our;
  arp->arp_data.arp_sip = target;
  eth->dst_addr = eth->src_addr;
  eth->src_addr = our;
  return true;
}

}  // namespace vsgate
