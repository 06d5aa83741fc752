// The next-hop service of a worker: egress port, MTU and both MACs toward a destination, for
// routed and load-balanced packets alike. Resolved hops are cached per worker, direct-mapped by
// destination, so a route and a neighbour lookup per packet become one compare; the cache is
// valid for one Fib only and emptied when the worker first sees another one.
//
// Miss policy (no route, port absent, or neighbour unknown): the data plane does not resolve
// neighbours itself. A routed packet goes to the host stack unchanged, which forwards it and
// resolves ARP; the neighbour is mirrored back and the flow's next packets stay in the data
// plane. A packet the load balancer has rewritten cannot be handed to the host (it would route
// the rewritten packet by its own tables, or not at all): it is dropped (lb_no_neighbour) and
// the main lcore is asked to make the host resolve the address (NextHop::Miss::resolve).
#pragma once

#include <rte_ether.h>
#include <rte_mbuf.h>

#include <cstring>
#include <vector>

#include "ipv4/fib.h"

namespace vsgate {

class NextHops {
 public:
  struct alignas(32) Hop {
    rte_ether_addr dst_mac, src_mac;  // in Ethernet header order: one 12-byte copy
    uint32_t dst_be;
    uint16_t port;
    uint16_t mtu;
    bool valid;

    void write_macs(rte_mbuf* m) const {
      std::memcpy(rte_pktmbuf_mtod(m, rte_ether_hdr*), &dst_mac, 2 * sizeof(rte_ether_addr));
    }
  };

  // The hop toward `dst_be`, or nullptr on a miss; then `*resolve` (if given) is the address
  // whose neighbour is missing, or 0 when there is no usable route.
  [[gnu::always_inline]] const Hop* find(uint32_t dst_be, const Fib& fib,
                                         uint32_t* resolve = nullptr) {
    if (fib.generation() != fib_generation_) [[unlikely]] {
      for (Hop& h : hops_) h.valid = false;
      fib_generation_ = fib.generation();
    }
    const Hop& h = hops_[index(dst_be)];
    if (h.valid && h.dst_be == dst_be) [[likely]]
      return &h;
    return resolve_slow(dst_be, fib, resolve);
  }

  size_t memory_bytes() const { return hops_.size() * sizeof(Hop); }

 private:
  static constexpr uint32_t kBits = 9;
  static uint32_t index(uint32_t dst_be) { return (dst_be * 0x9e3779b1u) >> (32 - kBits); }
  const Hop* resolve_slow(uint32_t dst_be, const Fib& fib, uint32_t* resolve);

  std::vector<Hop> hops_ = std::vector<Hop>(size_t{1} << kBits);
  uint64_t fib_generation_ = 0;  // Fib::generation() the entries belong to
};

}  // namespace vsgate
