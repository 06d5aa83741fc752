// The load balancer on a worker lcore: its own connection table, scheduler state and local
// ports; reads services from the published LbSnapshot. Nothing here is shared with another
// worker, so nothing locks.
#pragma once

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <atomic>
#include <memory>
#include <string_view>
#include <vector>

#include "ipv4/fib.h"
#include "lb/core/conn_table.h"
#include "lb/registry.h"
#include "lcore/io_stats.h"

namespace vsgate {

struct LbVerdict {
  enum Kind : uint8_t { not_mine, forward, drop } kind = not_mine;
  DropReason reason = DropReason::count;
  uint16_t out_port = 0;
};

class LbWorker {
 public:
  LbWorker(unsigned worker, unsigned workers, size_t conn_capacity, rte_ring* neigh_requests,
           const std::array<RealServer*, kMaxRealServers>* real_slots,
           const std::array<LocalAddress*, kMaxLocalAddresses>* laddr_slots);

  // `ip` is a validated IPv4 header inside `m` (header checksum checked, lengths sane).
  LbVerdict process(rte_mbuf* m, rte_ipv4_hdr* ip, const LbSnapshot& lb, const Fib& fib,
                    uint32_t now_ticks);
  // ARP request for a VIP or local address: turned into the reply in place. True if handled.
  bool answer_arp(rte_mbuf* m, const LbSnapshot& lb, const Fib& fib);
  // Incremental expiry; call once per loop turn.
  void sweep(uint32_t now_ticks, size_t budget) { conns_.sweep(now_ticks, budget); }
  void set_timeouts(const Timeouts& t) { conns_.set_timeouts(t); }

  // Listing connections (ipvsadm -L -c): the table belongs to the worker, so the main lcore
  // posts a request and the worker copies rows at the end of a loop turn.
  struct ConnRow {
    ConnKey in, out;
    uint8_t proto;
    bool has_out;
    FwdMode fwd;
    std::string_view state;
    uint32_t expires_ticks;
    uint32_t real_server;
  };
  struct ConnDump {
    std::atomic<int> state{0};  // 0 idle, 1 requested (main), 2 done (worker)
    std::vector<ConnRow> rows;  // reserved by the main lcore: the worker never allocates
  } dump;
  void serve_dump(uint32_t now_ticks);

  ConnTable& conns() { return conns_; }
  const ConnTable& conns() const { return conns_; }

  // Counters of this worker's connection table, read by the main lcore.
  struct alignas(64) Counters {
    Gauge conns;      // entries in the table
    Counter created;  // connections created
  } counters;

 private:
  static void on_expire(void* ctx, const Conn& c);
  void release(const Conn& c);
  LbVerdict new_connection(rte_mbuf* m, rte_ipv4_hdr* ip, const ConnTuple& t, uint8_t tcp_flags,
                           const ServiceView& svc, const LbSnapshot& lb, const Fib& fib,
                           uint32_t now);
  LbVerdict transmit(rte_mbuf* m, rte_ipv4_hdr* ip, Conn& c, Direction dir, RealServer& rs,
                     const Fib& fib);
  LbVerdict to_next_hop(rte_mbuf* m, uint32_t dst_be, const Fib& fib);
  LbVerdict resolve_next_hop(rte_mbuf* m, uint32_t dst_be, const Fib& fib);
  LbVerdict icmp_error(rte_mbuf* m, rte_ipv4_hdr* ip, const Fib& fib, uint32_t now);

  unsigned worker_, workers_;
  ConnTable conns_;
  std::vector<SchedState> sched_;         // by service id
  std::vector<uint32_t> laddr_rr_;        // by service id: next local address to try
  std::vector<DestLoad> loads_;           // scheduler input, up to 256 real servers
  // Slots stay valid while any connection refers to them (LbRegistry::release_removed).
  const std::array<RealServer*, kMaxRealServers>* real_slots_;
  const std::array<LocalAddress*, kMaxLocalAddresses>* laddr_slots_;
  rte_ring* neigh_requests_;

  // Resolved next hops (egress port and both MACs) by destination address, direct-mapped:
  // a route and a neighbour lookup per packet become one compare. Valid for one Fib only
  // (hops_fib_), emptied when the worker first sees another one.
  struct alignas(32) Hop {
    rte_ether_addr dst_mac, src_mac;  // in Ethernet header order: one 12-byte copy
    uint32_t dst_be;
    uint16_t port;
    bool valid;
  };
  static constexpr uint32_t kHopBits = 9;
  static uint32_t hop_index(uint32_t dst_be) { return (dst_be * 0x9e3779b1u) >> (32 - kHopBits); }
  std::vector<Hop> hops_ = std::vector<Hop>(size_t{1} << kHopBits);
  uint64_t hops_fib_ = 0;  // Fib::generation() the entries belong to
};

}  // namespace vsgate
