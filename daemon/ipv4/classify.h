// The per-packet decision of a worker: forward in the data plane, hand to the host stack (punt),
// or drop. Inline and allocation-free; rewrites forwarded packets in place.
#pragma once

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <algorithm>
#include <cstring>

#include "ipv4/csum.h"
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
// checked against the whole packet. DropReason::count: valid.
inline DropReason ipv4_check(const rte_mbuf* m, const rte_ipv4_hdr* ip, uint32_t l3_len) {
  if (l3_len < sizeof(rte_ipv4_hdr)) return DropReason::ipv4_truncated;
  const uint32_t ihl = (ip->version_ihl & 0x0f) * 4u;
  if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(rte_ipv4_hdr)) return DropReason::ipv4_bad_header;
  if (l3_len < ihl) return DropReason::ipv4_truncated;
  const uint32_t total = rte_be_to_cpu_16(ip->total_length);
  if (total < ihl) return DropReason::ipv4_bad_header;
  if (total > m->pkt_len - sizeof(rte_ether_hdr)) return DropReason::ipv4_truncated;
  // Trusted when the port checked it (RX offload, netif/port.cc), summed here otherwise.
  if ((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) != RTE_MBUF_F_RX_IP_CKSUM_GOOD &&
      !ipv4_header_sum_ok(ip, ihl))
    return DropReason::ipv4_bad_checksum;
  return DropReason::count;
}

// A valid IPv4 packet that no connection or service took: the host's, or routed on.
inline Decision route_ipv4(rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib) {
  const uint32_t dst = ip->dst_addr;
  // Ours, broadcast or multicast: the host stack (ICMP, management, routing protocols).
  if (fib.is_local(dst) || dst == 0xffffffffu || RTE_IS_IPV4_MCAST(rte_be_to_cpu_32(dst)))
    return punt();
  // TTL expiring here: the host answers with ICMP time exceeded.
  if (ip->time_to_live <= 1) return punt();
  const NextHop* nh = fib.route(dst);
  if (!nh) return punt();
  const FibPort& out = fib.port(nh->port_id);
  const uint32_t total = rte_be_to_cpu_16(ip->total_length);
  if (!out.present || total > out.mtu) return punt();  // the host fragments or says frag-needed
  const rte_ether_addr* mac = fib.neighbour(nh->gateway_be ? nh->gateway_be : dst);
  if (!mac) return punt();  // the host resolves ARP and forwards; we learn the neighbour after

  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  eth->dst_addr = *mac;
  eth->src_addr = out.mac;
  ipv4_decrement_ttl(ip);
  // Trim Ethernet padding so the next link does not carry it on.
  const uint32_t frame = sizeof(rte_ether_hdr) + total;
  if (m->pkt_len > frame && m->nb_segs == 1) {
    m->pkt_len = frame;
    m->data_len = static_cast<uint16_t>(frame);
  }
  return {Verdict::forward, DropReason::count, nh->port_id};
}

namespace detail {

// `ip` follows the Ethernet header; `l3_len` is what the first segment holds after it.
inline Decision classify_ipv4(rte_mbuf* m, rte_ipv4_hdr* ip, uint32_t l3_len, const Fib& fib,
                              const LbContext* lb) {
  if (const DropReason bad = ipv4_check(m, ip, l3_len); bad != DropReason::count) return drop(bad);
  // Connections and virtual services come before "is it ours": FULLNAT replies are addressed
  // to a local address the host may share.
  if (lb && lb->services) {
    const LbVerdict v = lb->worker->process(m, ip, *lb->services, fib, lb->now_ticks);
    if (v.kind == LbVerdict::forward) return {Verdict::forward, DropReason::count, v.out_port};
    if (v.kind == LbVerdict::drop) return drop(v.reason);
  }
  return route_ipv4(m, ip, fib);
}

// One packet from start to end, without staging.
inline Decision classify_one(rte_mbuf* m, const Fib& fib, const LbContext* lb) {
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

// A packet of a burst between the stages: ip is set if it is a TCP/UDP flow that
// LbWorker::stage() took; any other packet is decided by classify_one() in the last stage.
struct Staged {
  rte_ipv4_hdr* ip;
  LbFlow flow;
};

inline constexpr unsigned kStageBurst = 32;
inline constexpr unsigned kPrefetchAhead = 3;  // packets whose data is prefetched in stage 1

inline void classify_staged(rte_mbuf* const* pkts, unsigned n, const Fib& fib, const LbContext& lb,
                            Decision* out) {
  Staged st[kStageBurst];
  LbWorker& w = *lb.worker;
  // Stage 1: Ethernet and IPv4 checks, flow parse and hash; prefetch of the index slot.
  for (unsigned i = 0; i < n && i < kPrefetchAhead; ++i)
    rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  for (unsigned i = 0; i < n; ++i) {
    if (i + kPrefetchAhead < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kPrefetchAhead], void*));
    rte_mbuf* m = pkts[i];
    st[i].ip = nullptr;
    const uint32_t len = rte_pktmbuf_data_len(m);
    auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
    if (len < sizeof(rte_ether_hdr) || eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
      continue;
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
    if (ipv4_check(m, ip, len - static_cast<uint32_t>(sizeof(rte_ether_hdr))) ==
            DropReason::count &&
        w.stage(m, ip, st[i].flow))
      st[i].ip = ip;
  }
  // Stage 2: the index slots are (being) fetched; read them and prefetch the entries.
  for (unsigned i = 0; i < n; ++i)
    if (st[i].ip) w.prefetch_conn(st[i].flow);
  // Stage 3: every decision, in packet order.
  for (unsigned i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    if (!st[i].ip) {
      out[i] = classify_one(m, fib, &lb);
      continue;
    }
    const LbVerdict v = w.process_flow(m, st[i].ip, st[i].flow, *lb.services, fib, lb.now_ticks);
    if (v.kind == LbVerdict::forward)
      out[i] = {Verdict::forward, DropReason::count, v.out_port};
    else if (v.kind == LbVerdict::drop)
      out[i] = drop(v.reason);
    else
      out[i] = route_ipv4(m, st[i].ip, fib);
  }
}

}  // namespace detail

// Decides a burst of packets (any number; out[i] for pkts[i]). With a load balancer, in stages
// over each 32 packets, so that the cache misses of their connections overlap instead of
// coming one after another (docs/PERFORMANCE.md): 1. check and parse every packet, hash its
// flow, prefetch its index slot; 2. read every slot, prefetch the connection entry; 3. decide
// each packet in order. Stages 1 and 2 only read, and a packet's headers are not changed
// before its own decision, so the result is exactly that of deciding the packets one by one
// (a SYN creates the connection that a later packet of the same burst finds).
inline void classify_burst(rte_mbuf* const* pkts, unsigned n, const Fib& fib, const LbContext* lb,
                           Decision* out) {
  if (!lb || !lb->services) {
    for (unsigned i = 0; i < n; ++i) {
      if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
      out[i] = detail::classify_one(pkts[i], fib, lb);
    }
    return;
  }
  for (unsigned i = 0; i < n; i += detail::kStageBurst)
    detail::classify_staged(pkts + i, std::min(n - i, detail::kStageBurst), fib, *lb, out + i);
}

// One packet: the same stages as a burst, so that tests of single packets cover them.
inline Decision classify(rte_mbuf* m, const Fib& fib, const LbContext* lb = nullptr) {
  Decision d;
  classify_burst(&m, 1, fib, lb, &d);
  return d;
}

}  // namespace vsgate
