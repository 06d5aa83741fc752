// The per-packet decision of a worker: forward in the data plane, hand to the host stack (punt),
// or drop. Inline and allocation-free; rewrites forwarded packets in place.
#pragma once

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "ipv4/fib.h"
#include "lb/lb_worker.h"
#include "lcore/io_stats.h"

namespace vsgate {

enum class Verdict : uint8_t { forward, punt, drop };

// The worker's load balancer and the services it sees during this loop turn.
struct LbContext {
  LbWorker* worker = nullptr;
  const LbSnapshot* services = nullptr;
  uint32_t now_ticks = 0;
};

struct Decision {
  Verdict verdict;
  DropReason reason;  // valid when verdict == drop
  uint16_t out_port;  // valid when verdict == forward
};

inline Decision punt() { return {Verdict::punt, DropReason::count, 0}; }
inline Decision drop(DropReason r) { return {Verdict::drop, r, 0}; }

// TTL decrement with the header checksum updated incrementally (RFC 1624, eqn. 3:
// HC' = ~(~HC + ~m + m'), m being the 16-bit word holding TTL and protocol). Eqn. 3 gives exactly
// what a full recomputation gives; the older RFC 1141 form can yield 0xffff instead of 0.
inline void ipv4_decrement_ttl(rte_ipv4_hdr* ip) {
  const uint32_t old_word = (uint32_t{ip->time_to_live} << 8) | ip->next_proto_id;
  ip->time_to_live--;
  const uint32_t new_word = (uint32_t{ip->time_to_live} << 8) | ip->next_proto_id;
  uint32_t sum = (~rte_be_to_cpu_16(ip->hdr_checksum) & 0xffffu) + (~old_word & 0xffffu) + new_word;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  ip->hdr_checksum = rte_cpu_to_be_16(static_cast<uint16_t>(~sum));
}

// `l3_len` is what the first segment holds after the Ethernet header (headers must be there);
// the total length is checked against the whole packet.
inline Decision classify_ipv4(rte_mbuf* m, rte_ipv4_hdr* ip, uint32_t l3_len, const Fib& fib,
                              const LbContext* lb) {
  if (l3_len < sizeof(rte_ipv4_hdr)) return drop(DropReason::ipv4_truncated);
  const uint32_t ihl = (ip->version_ihl & 0x0f) * 4u;
  if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(rte_ipv4_hdr))
    return drop(DropReason::ipv4_bad_header);
  if (l3_len < ihl) return drop(DropReason::ipv4_truncated);
  const uint32_t total = rte_be_to_cpu_16(ip->total_length);
  if (total < ihl) return drop(DropReason::ipv4_bad_header);
  const uint32_t l2_len =
      static_cast<uint32_t>(reinterpret_cast<uint8_t*>(ip) - rte_pktmbuf_mtod(m, uint8_t*));
  if (total > m->pkt_len - l2_len) return drop(DropReason::ipv4_truncated);
  if ((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) != RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
      rte_raw_cksum(ip, ihl) != 0xffff)
    return drop(DropReason::ipv4_bad_checksum);

  // Connections and virtual services come before "is it ours": FULLNAT replies are addressed
  // to a local address the host may share.
  if (lb && lb->services) {
    const LbVerdict v = lb->worker->process(m, ip, *lb->services, fib, lb->now_ticks);
    if (v.kind == LbVerdict::forward) return {Verdict::forward, DropReason::count, v.out_port};
    if (v.kind == LbVerdict::drop) return drop(v.reason);
  }

  const uint32_t dst = ip->dst_addr;
  // Ours, broadcast or multicast: the host stack (ICMP, management, routing protocols).
  if (fib.is_local(dst) || dst == 0xffffffffu || RTE_IS_IPV4_MCAST(rte_be_to_cpu_32(dst)))
    return punt();
  // TTL expiring here: the host answers with ICMP time exceeded.
  if (ip->time_to_live <= 1) return punt();
  const NextHop* nh = fib.route(dst);
  if (!nh) return punt();
  const FibPort& out = fib.port(nh->port_id);
  if (!out.present || total > out.mtu) return punt();  // the host fragments or says frag-needed
  const rte_ether_addr* mac = fib.neighbour(nh->gateway_be ? nh->gateway_be : dst);
  if (!mac) return punt();  // the host resolves ARP and forwards; we learn the neighbour after

  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  eth->dst_addr = *mac;
  eth->src_addr = out.mac;
  ipv4_decrement_ttl(ip);
  // Trim Ethernet padding so the next link does not carry it on.
  const uint32_t frame = l2_len + total;
  if (m->pkt_len > frame && m->nb_segs == 1) {
    m->pkt_len = frame;
    m->data_len = static_cast<uint16_t>(frame);
  }
  return {Verdict::forward, DropReason::count, nh->port_id};
}

inline Decision classify(rte_mbuf* m, const Fib& fib, const LbContext* lb = nullptr) {
  const uint32_t len = rte_pktmbuf_data_len(m);
  if (len < sizeof(rte_ether_hdr)) return drop(DropReason::runt);
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  // ARP goes to the host (it answers for its addresses and learns neighbours); VLAN, IPv6 and
  // every other ethertype the data plane does not handle go there as well.
  if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
    // ARP for a VIP or local address is answered here, exactly once (the host does not own it).
    if (lb && lb->services && eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP) &&
        lb->worker->answer_arp(m, *lb->services, fib))
      return {Verdict::forward, DropReason::count, m->port};
    return punt();
  }
  return classify_ipv4(m, reinterpret_cast<rte_ipv4_hdr*>(eth + 1),
                       len - static_cast<uint32_t>(sizeof(rte_ether_hdr)), fib, lb);
}

}  // namespace vsgate
