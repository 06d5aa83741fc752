// The per-packet decision of a worker: forward in the data plane, hand to the host stack
// (punt), drop, or leave to a module that consumed the packet. Inline and allocation-free;
// rewrites forwarded packets in place.
//
// A burst is decided in three stages (docs/ARCHITECTURE.md): 1. parse every frame once into a
// PacketMeta (ipv4/packet.h) and let the pre-routing hook stage it (the load balancer hashes
// the flow and prefetches its index slot); 2. let the hook prefetch what it needs next (the
// connection entry); 3. decide each packet in order: ARP, the hook (PRE_ROUTING, as DPVS's
// dp_vs_in), then routing. The hook is a template parameter, bound at build time: ipv4/ knows
// nothing of the load balancer, and nothing is a virtual call. Stages 1 and 2 only read, and a
// packet's headers are not changed before its own decision, so the result is exactly that of
// deciding the packets one by one (a SYN creates the connection a later packet of the burst
// finds).
#pragma once

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <algorithm>

#include "ipv4/arp.h"
#include "ipv4/fib.h"
#include "ipv4/next_hop.h"
#include "ipv4/packet.h"
#include "ipv4/verdict.h"

namespace vsgate {

// A pre-routing hook that takes nothing: plain IPv4 forwarding. A hook provides the same five
// members; see lb/lb_hook.h.
struct NoHook {
  void stage(PacketMeta&) const {}
  void prefetch(const PacketMeta&) const {}
  Decision pre_routing(rte_mbuf*, const PacketMeta&, const Fib&, NextHops&) const { return pass(); }
  bool answers_arp_for(uint32_t) const { return false; }
};

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

// A valid IPv4 packet that no hook took: the host's, or routed on.
inline Decision route_ipv4(rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, NextHops& hops) {
  const uint32_t dst = ip->dst_addr;
  // Ours, broadcast or multicast: the host stack (ICMP, management, routing protocols).
  if (fib.is_local(dst) || dst == 0xffffffffu || RTE_IS_IPV4_MCAST(rte_be_to_cpu_32(dst)))
    return punt();
  // TTL expiring here: the host answers with ICMP time exceeded.
  if (ip->time_to_live <= 1) return punt();
  // No route or neighbour: the host forwards it and resolves ARP (ipv4/next_hop.h).
  const NextHops::Hop* h = hops.find(dst, fib);
  if (!h) return punt();
  const uint32_t total = rte_be_to_cpu_16(ip->total_length);
  if (total > h->mtu) return punt();  // the host fragments or says frag-needed
  h->write_macs(m);
  ipv4_decrement_ttl(ip);
  // Trim Ethernet padding so the next link does not carry it on.
  const uint32_t frame = sizeof(rte_ether_hdr) + total;
  if (m->pkt_len > frame && m->nb_segs == 1) {
    m->pkt_len = frame;
    m->data_len = static_cast<uint16_t>(frame);
  }
  return forward_to(h->port);
}

namespace detail {

inline constexpr unsigned kStageBurst = 32;
inline constexpr unsigned kPrefetchAhead = 3;  // packets whose data is prefetched in stage 1

// Stage 3 of one packet.
template <class Hook>
[[gnu::always_inline]] inline Decision decide(rte_mbuf* m, const PacketMeta& p, const Fib& fib,
                                              NextHops& hops, Hook& hook) {
  switch (p.cls) {
    case PacketClass::flow:
    case PacketClass::ipv4: {
      // The hook comes before "is it ours": FULLNAT replies are addressed to a local address
      // the host may share.
      const Decision d = hook.pre_routing(m, p, fib, hops);
      if (d.verdict != Verdict::pass) return d;
      return route_ipv4(m, p.ip, fib, hops);
    }
    case PacketClass::arp:
      // Answered here for what the hook owns; the host answers for its addresses and learns
      // neighbours from every other ARP frame.
      if (answer_arp(m, fib, [&](uint32_t ip) { return hook.answers_arp_for(ip); }))
        return forward_to(m->port);
      return punt();
    case PacketClass::other:  // VLAN, IPv6, LLDP, ...: the host's
      return punt();
    case PacketClass::invalid:
      break;
  }
  return drop(p.reason);
}

// One packet from start to end, without staging: the reference the stages must agree with.
template <class Hook>
inline Decision classify_one(rte_mbuf* m, const Fib& fib, NextHops& hops, Hook& hook) {
  PacketMeta p;
  parse_packet(m, p);
  if (p.cls == PacketClass::flow) hook.stage(p);
  return decide(m, p, fib, hops, hook);
}

template <class Hook>
inline void classify_staged(rte_mbuf* const* pkts, unsigned n, const Fib& fib, NextHops& hops,
                            Hook& hook, Decision* out) {
  PacketMeta meta[kStageBurst];
  for (unsigned i = 0; i < n && i < kPrefetchAhead; ++i)
    rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  for (unsigned i = 0; i < n; ++i) {
    if (i + kPrefetchAhead < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kPrefetchAhead], void*));
    parse_packet(pkts[i], meta[i]);
    if (meta[i].cls == PacketClass::flow) hook.stage(meta[i]);
  }
  for (unsigned i = 0; i < n; ++i)
    if (meta[i].cls == PacketClass::flow) hook.prefetch(meta[i]);
  for (unsigned i = 0; i < n; ++i) out[i] = decide(pkts[i], meta[i], fib, hops, hook);
}

}  // namespace detail

// Decides a burst of packets (any number; out[i] for pkts[i]), in stages over each 32.
template <class Hook = NoHook>
inline void classify_burst(rte_mbuf* const* pkts, unsigned n, const Fib& fib, NextHops& hops,
                           Hook& hook, Decision* out) {
  for (unsigned i = 0; i < n; i += detail::kStageBurst)
    detail::classify_staged(pkts + i, std::min(n - i, detail::kStageBurst), fib, hops, hook,
                            out + i);
}

// One packet: the same stages as a burst, so that tests of single packets cover them.
template <class Hook>
inline Decision classify(rte_mbuf* m, const Fib& fib, NextHops& hops, Hook& hook) {
  Decision d;
  classify_burst(&m, 1, fib, hops, hook, &d);
  return d;
}
inline Decision classify(rte_mbuf* m, const Fib& fib, NextHops& hops) {
  const NoHook none;
  return classify(m, fib, hops, none);
}

}  // namespace vsgate
