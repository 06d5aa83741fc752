// The load balancer on a worker lcore: its own connection table, scheduler state and local
// ports; reads services from the published LbSnapshot. Nothing here is shared with another
// worker, so nothing locks.
#pragma once

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "ipv4/fib.h"
#include "lb/core/conn_table.h"
#include "lb/registry.h"
#include "lcore/io_stats.h"
#include "lcore/mailbox.h"
#include "lcore/messages.h"

namespace vsgate {

struct LbVerdict {
  enum Kind : uint8_t { not_mine, forward, drop } kind = not_mine;
  DropReason reason = DropReason::count;
  uint16_t out_port = 0;
};

// A TCP or UDP packet as the connection table keys it, parsed once (ipv4/classify.h stages a
// burst with it).
struct LbFlow {
  ConnTuple tuple;
  uint32_t hash = 0;
  uint8_t tcp_flags = 0;
};

// Parses the flow of a TCP or UDP packet whose IPv4 header is validated: DropReason::count if
// it is complete and sane, else lb_fragment or l4_bad_header (dropped if addressed to a VIP or
// local address). The hash is left to the caller.
inline DropReason parse_flow(const rte_mbuf* m, const rte_ipv4_hdr* ip, LbFlow& f) {
  constexpr uint16_t kFragMask = RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK;
  if (ip->fragment_offset & rte_cpu_to_be_16(kFragMask)) return DropReason::lb_fragment;
  const uint8_t proto = ip->next_proto_id;
  const uint32_t ihl = (ip->version_ihl & 0x0f) * 4u;
  const uint32_t l4_len = rte_be_to_cpu_16(ip->total_length) - ihl;
  const uint32_t l4_in_seg = rte_pktmbuf_data_len(m) - sizeof(rte_ether_hdr) - ihl;
  const auto* l4 = reinterpret_cast<const uint8_t*>(ip) + ihl;
  f.tuple = {ip->src_addr, ip->dst_addr, 0, 0, proto};
  if (proto == IPPROTO_TCP) {
    const auto* tcp = reinterpret_cast<const rte_tcp_hdr*>(l4);
    const uint32_t doff = l4_len >= sizeof(rte_tcp_hdr) ? (tcp->data_off >> 4) * 4u : 0;
    if (l4_len < sizeof(rte_tcp_hdr) || l4_in_seg < sizeof(rte_tcp_hdr) || doff < 20 ||
        doff > l4_len)
      return DropReason::l4_bad_header;
    f.tuple.src_port = tcp->src_port;
    f.tuple.dst_port = tcp->dst_port;
    f.tcp_flags = tcp->tcp_flags;
  } else {
    const auto* udp = reinterpret_cast<const rte_udp_hdr*>(l4);
    const uint32_t ulen = l4_len >= sizeof(rte_udp_hdr) ? rte_be_to_cpu_16(udp->dgram_len) : 0;
    if (l4_len < sizeof(rte_udp_hdr) || l4_in_seg < sizeof(rte_udp_hdr) || ulen < 8 ||
        ulen > l4_len)
      return DropReason::l4_bad_header;
    f.tuple.src_port = udp->src_port;
    f.tuple.dst_port = udp->dst_port;
    f.tcp_flags = 0;
  }
  return DropReason::count;
}

// One connection as `ipvsadm -L -c` lists it, copied by the worker into a buffer of the main
// lcore (lb.conns); the real server is its slot, named by the main lcore.
struct ConnRow {
  ConnKey in, out;
  uint8_t proto;
  bool has_out;
  FwdMode fwd;
  std::string_view state;
  uint32_t expires_ticks;
  uint32_t real_server;
};

class LbWorker {
 public:
  // Connection slots a listing step visits per loop turn: at 1M connections a step takes
  // well under 100 us even with the table out of cache (docs/PERFORMANCE.md).
  static constexpr size_t kListSlotsPerTurn = 1024;
  // Mailbox messages applied per loop turn.
  static constexpr unsigned kMessagesPerTurn = 8;

  // `to_main` (this worker's mailbox to the main lcore) takes neighbour requests and listing
  // answers. `counters` and `laddr_slots` are the registry's (LbRegistry::counters(),
  // laddr_slots()): both outlive the worker, and their slots stay valid while a connection
  // names them.
  LbWorker(unsigned worker, unsigned workers, size_t conn_capacity, Mailbox<ToMain>* to_main,
           RealServerCounterTable& counters,
           const std::array<LocalAddress*, kMaxLocalAddresses>* laddr_slots);

  // `ip` is a validated IPv4 header inside `m` (header checksum checked, lengths sane).
  LbVerdict process(rte_mbuf* m, rte_ipv4_hdr* ip, const LbSnapshot& lb, const Fib& fib,
                    uint32_t now_ticks);

  // process() in stages over a burst (ipv4/classify.h). stage() takes a packet process() would
  // hand to process_flow(): TCP or UDP, unfragmented, sane L4 header. It parses and hashes the
  // flow and prefetches its index slot; false for any other packet (process() decides it).
  // prefetch_conn() prefetches the connection entry; process_flow() decides. The first two
  // only read, so a burst decided in order gives exactly what process() gives packet by packet.
  [[gnu::always_inline]] bool stage(const rte_mbuf* m, const rte_ipv4_hdr* ip, LbFlow& f) const {
    if (ip->next_proto_id != IPPROTO_TCP && ip->next_proto_id != IPPROTO_UDP) return false;
    if (parse_flow(m, ip, f) != DropReason::count) return false;
    f.hash = conns_.hash(f.tuple);
    conns_.prefetch(f.hash);
    return true;
  }
  void prefetch_conn(const LbFlow& f) const { conns_.prefetch_entry(f.hash); }
  LbVerdict process_flow(rte_mbuf* m, rte_ipv4_hdr* ip, const LbFlow& f, const LbSnapshot& lb,
                         const Fib& fib, uint32_t now_ticks);
  // ARP request for a VIP or local address: turned into the reply in place. True if handled.
  bool answer_arp(rte_mbuf* m, const LbSnapshot& lb, const Fib& fib);
  // Incremental expiry; call once per loop turn.
  void sweep(uint32_t now_ticks, size_t budget) { conns_.sweep(now_ticks, budget); }
  void set_timeouts(const Timeouts& t) { conns_.set_timeouts(t); }

  // The worker's control step, once per loop turn: applies at most kMessagesPerTurn messages
  // from `inbox` and advances a listing in progress by one bounded step. True while a
  // listing is in progress (work to do: the loop should not idle).
  bool serve_control(Mailbox<ToWorker>& inbox, uint32_t now_ticks);
  // The last timeouts generation applied (0: none yet).
  uint64_t timeouts_generation() const { return timeouts_generation_; }

  ConnTable& conns() { return conns_; }
  const ConnTable& conns() const { return conns_; }
  size_t next_hop_cache_bytes() const { return hops_.size() * sizeof(Hop); }

  // Counters of this worker's connection table, read by the main lcore.
  struct alignas(64) Counters {
    Gauge conns;               // entries in the table
    Counter created;           // connections created
    Counter icmp_translated;   // ICMP errors about a connection, passed to the other side
    Counter frag_needed_sent;  // "fragmentation needed" sent to clients (tunnel too small)
  } counters;

 private:
  static void on_expire(void* ctx, const Conn& c);
  void release(const Conn& c);
  LbVerdict new_connection(rte_mbuf* m, rte_ipv4_hdr* ip, const ConnTuple& t, uint8_t tcp_flags,
                           const ServiceView& svc, const LbSnapshot& lb, const Fib& fib,
                           uint32_t now);
  LbVerdict transmit(rte_mbuf* m, rte_ipv4_hdr* ip, Conn& c, Direction dir,
                     const RealServerView& rs, const Fib& fib);
  SchedState& sched_state(const ServiceView& svc) {
    if (sched_version_[svc.id] != svc.sched_version) [[unlikely]] {
      sched_[svc.id] = initial_sched_state(*svc.sched, worker_, workers_);
      sched_version_[svc.id] = svc.sched_version;
    }
    return sched_[svc.id];
  }
  // Egress port and MACs towards `dst_be`: from hops_, or resolved (and remembered).
  LbVerdict to_next_hop(rte_mbuf* m, uint32_t dst_be, const Fib& fib) {
    if (fib.generation() != hops_fib_) [[unlikely]] {
      for (Hop& h : hops_) h.valid = false;
      hops_fib_ = fib.generation();
    }
    const Hop& h = hops_[hop_index(dst_be)];
    if (h.valid && h.dst_be == dst_be) [[likely]] {
      std::memcpy(rte_pktmbuf_mtod(m, rte_ether_hdr*), &h.dst_mac, 2 * sizeof(rte_ether_addr));
      return {LbVerdict::forward, DropReason::count, h.port};
    }
    return resolve_next_hop(m, dst_be, fib);
  }
  LbVerdict resolve_next_hop(rte_mbuf* m, uint32_t dst_be, const Fib& fib);
  LbVerdict icmp_error(rte_mbuf* m, rte_ipv4_hdr* ip, const LbSnapshot& lb, const Fib& fib,
                       uint32_t now);
  LbVerdict icmp_error_to_real(rte_mbuf* m, rte_ipv4_hdr* ip, rte_ipv4_hdr* inner, uint16_t* ports,
                               uint8_t* icmp, uint32_t icmp_len, Conn& c, const RealServerView* rs,
                               const Fib& fib);
  static void rewrite_icmp_error(rte_ipv4_hdr* ip, rte_ipv4_hdr* inner, uint16_t* ports,
                                 uint8_t* icmp, uint32_t icmp_len, uint32_t src, uint32_t dst,
                                 uint32_t inner_src, uint16_t inner_sport, uint32_t inner_dst,
                                 uint16_t inner_dport);
  LbVerdict frag_needed(rte_mbuf* m, rte_ipv4_hdr* ip, uint16_t mtu, const Fib& fib);

  unsigned worker_, workers_;
  ConnTable conns_;
  std::vector<SchedState> sched_;        // by service id
  std::vector<uint64_t> sched_version_;  // by service id: ServiceView::sched_version of sched_
  std::vector<uint32_t> laddr_rr_;       // by service id: next local address to try
  std::vector<DestLoad> loads_;          // scheduler input, up to 256 real servers
  RealServerCounterTable& rs_counters_;  // this worker writes its own block of each slot
  const std::array<LocalAddress*, kMaxLocalAddresses>* laddr_slots_;
  Mailbox<ToMain>* to_main_;
  uint64_t timeouts_generation_ = 0;
  // The listing in progress (ToWorker::list_conns), advanced by serve_control().
  struct Listing {
    bool active = false;
    bool walked = false;  // every slot visited or the buffer full; list_done not yet sent
    uint64_t request = 0;
    ConnRow* rows = nullptr;
    uint32_t capacity = 0, filled = 0;
    size_t cursor = 0;
  } listing_;
  void apply(const ToWorker& m);
  void list_step(uint32_t now_ticks);

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
