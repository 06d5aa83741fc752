// The load balancer on a worker lcore: its own connection table, scheduler state and local
// ports; reads services from the published LbSnapshot. Nothing here is shared with another
// worker, so nothing locks.
#pragma once

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "ipv4/fib.h"
#include "ipv4/next_hop.h"
#include "ipv4/packet.h"
#include "ipv4/verdict.h"
#include "lb/core/conn_table.h"
#include "lb/core/sweep_pacer.h"
#include "lb/drop_reasons.h"
#include "lb/registry.h"
#include "lb/xmit.h"
#include "lcore/io_stats.h"
#include "lcore/mailbox.h"
#include "lcore/messages.h"

namespace vsgate {

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

  // The load balancer's pre-routing hook (lb/lb_hook.h): a parsed IPv4 packet (class ipv4 or
  // flow) is forwarded or dropped here, or passed on to routing (Verdict::pass).
  [[gnu::always_inline]] Decision pre_routing(rte_mbuf* m, const PacketMeta& p,
                                              const LbSnapshot& lb, const Fib& fib, NextHops& hops,
                                              uint32_t now_ticks) {
    if (p.cls == PacketClass::flow) [[likely]]
      return process_flow(m, p, lb, fib, hops, now_ticks);
    return pre_routing_ipv4(m, p, lb, fib, hops, now_ticks);
  }
  // Stages of a burst (ipv4/classify.h), for a packet of class flow: stage() hashes the flow
  // and prefetches its index slot, prefetch_conn() the connection entry. Both only read.
  [[gnu::always_inline]] void stage(PacketMeta& p) const {
    p.hash = conns_.hash(p.flow);
    conns_.prefetch(p.hash);
  }
  void prefetch_conn(const PacketMeta& p) const { conns_.prefetch_entry(p.hash); }
  // Incremental expiry, once per loop turn: the whole table once per kSweepPeriodTicks, at most
  // kSweepMaxPerTurn entries a turn (lb/core/sweep_pacer.h).
  void sweep(uint32_t now_ticks) {
    if (const uint32_t n = sweep_pacer_.due(now_ticks, conns_.capacity()))
      conns_.sweep(now_ticks, n);
  }
  // A sweep of exactly `budget` entries (tests, the benchmark's model of the paced sweep).
  void sweep(uint32_t now_ticks, size_t budget) { conns_.sweep(now_ticks, budget); }
  static constexpr uint32_t kSweepPeriodTicks = kTicksPerSecond;
  static constexpr uint32_t kSweepMaxPerTurn = 256;
  // ICMP errors about connections translated per worker: a token bucket refilled with
  // kIcmpErrorsPerTick a tick (1/16 s: about 1,000 a second), holding at most kIcmpErrorBurst.
  static constexpr uint32_t kIcmpErrorsPerTick = 64;
  static constexpr uint32_t kIcmpErrorBurst = 256;
  // Persistence templates are keyed under the protocol number with the top bit set, so no
  // packet's flow can match one, a client port of 0 included (flows are TCP or UDP only).
  static constexpr uint8_t template_proto(uint8_t proto) { return proto | 0x80; }
  static constexpr uint8_t flow_proto(uint8_t stored) { return stored & 0x7f; }
  void set_timeouts(const Timeouts& t) { conns_.set_timeouts(t); }

  // The worker's control step, once per loop turn: applies at most kMessagesPerTurn messages
  // from `inbox` and advances a listing in progress by one bounded step. True while a
  // listing is in progress (work to do: the loop should not idle).
  bool serve_control(Mailbox<ToWorker>& inbox, uint32_t now_ticks);
  // The last timeouts generation applied (0: none yet).
  uint64_t timeouts_generation() const { return timeouts_generation_; }

  ConnTable& conns() { return conns_; }
  const ConnTable& conns() const { return conns_; }

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
  // The packet's own fields are in `p`; `ip` is p.ip. Inline (below): the established path
  // is the hot one, and inlined into the burst loop it saves a call and its register saves.
  Decision process_flow(rte_mbuf* m, const PacketMeta& p, const LbSnapshot& lb, const Fib& fib,
                        NextHops& hops, uint32_t now);
  // A flow without a connection: a new one, or not ours.
  Decision process_no_conn(rte_mbuf* m, const PacketMeta& p, const LbSnapshot& lb, const Fib& fib,
                           NextHops& hops, uint32_t now);
  // True if `c` was closing and is now released and erased (a SYN reusing its tuple).
  bool reuse_closing(Conn& c);
  // A valid IPv4 packet that is not a complete TCP/UDP flow: ICMP errors about connections,
  // and what to drop because it is addressed to a VIP or local address.
  Decision pre_routing_ipv4(rte_mbuf* m, const PacketMeta& p, const LbSnapshot& lb, const Fib& fib,
                            NextHops& hops, uint32_t now);
  Decision new_connection(rte_mbuf* m, const PacketMeta& p, const ServiceView& svc,
                          const LbSnapshot& lb, const Fib& fib, NextHops& hops, uint32_t now);
  // `rc` is this worker's counters of the connection's real server `rs`.
  Decision transmit(rte_mbuf* m, rte_ipv4_hdr* ip, Conn& c, Direction dir, const RealServerView& rs,
                    RealServerCounters& rc, const Fib& fib, NextHops& hops);
  Decision transmit_tunnel(rte_mbuf* m, rte_ipv4_hdr* ip, const RealServerView& rs, const Fib& fib,
                           NextHops& hops);
  // Moves the connection between ActiveConn and InActConn of its real server.
  static void count_state_change(RealServerCounters& rc, const TcpStateChange& ch) {
    if (ch.active_delta == 0) return;
    rc.active.add(ch.active_delta);
    rc.inactive.add(-ch.active_delta);
  }
  // The scheduler's view of a service's real servers (DestLoads, lb/core/scheduler.h): dest i
  // is slot slots[i], read from the counters when the scheduler asks, not gathered beforehand.
  struct SlotLoads {
    const RealServerCounterTable& counters;
    const uint32_t* slots;
    bool overloaded(uint32_t i) const { return counters.overloaded(slots[i]); }
    uint64_t overhead(uint32_t i) const {
      uint32_t active, inactive;
      counters.load(slots[i], active, inactive);
      return (uint64_t{active} << 8) + inactive;
    }
  };
  SchedState& sched_state(const ServiceView& svc) {
    if (sched_version_[svc.id] != svc.sched_version) [[unlikely]] {
      sched_[svc.id] = initial_sched_state(*svc.sched, worker_, workers_);
      sched_version_[svc.id] = svc.sched_version;
    }
    return sched_[svc.id];
  }
  // Egress port and MACs toward `dst_be` (ipv4/next_hop.h). A miss drops the rewritten packet
  // and asks the main lcore to have the neighbour resolved.
  [[gnu::always_inline]] Decision to_next_hop(rte_mbuf* m, uint32_t dst_be, const Fib& fib,
                                              NextHops& hops) {
    uint32_t resolve;
    if (const NextHops::Hop* h = hops.find(dst_be, fib, &resolve)) [[likely]] {
      h->write_macs(m);
      return forward_to(h->port);
    }
    return no_neighbour(resolve);
  }
  Decision no_neighbour(uint32_t resolve_be);
  Decision icmp_error(rte_mbuf* m, rte_ipv4_hdr* ip, const LbSnapshot& lb, const Fib& fib,
                      NextHops& hops, uint32_t now);
  Decision icmp_error_to_real(rte_mbuf* m, rte_ipv4_hdr* ip, rte_ipv4_hdr* inner, uint16_t* ports,
                              uint8_t* icmp, uint32_t icmp_len, Conn& c, const RealServerView* rs,
                              const Fib& fib, NextHops& hops);
  static void rewrite_icmp_error(rte_ipv4_hdr* ip, rte_ipv4_hdr* inner, uint16_t* ports,
                                 uint8_t* icmp, uint32_t icmp_len, uint32_t src, uint32_t dst,
                                 uint32_t inner_src, uint16_t inner_sport, uint32_t inner_dst,
                                 uint16_t inner_dport);

  unsigned worker_, workers_;
  ConnTable conns_;
  SweepPacer sweep_pacer_{kSweepPeriodTicks, kSweepMaxPerTurn};
  // The ICMP error budget (kIcmpErrorsPerTick); starts full.
  struct TokenBucket {
    uint32_t last = 0;
    uint32_t tokens = kIcmpErrorBurst;
    bool take(uint32_t now) {
      // A clock sample that went backwards (another core's TSC) adds nothing.
      if (const auto elapsed = static_cast<int32_t>(now - last); elapsed > 0) {
        tokens = static_cast<uint32_t>(std::min<uint64_t>(
            kIcmpErrorBurst,
            tokens + uint64_t{static_cast<uint32_t>(elapsed)} * kIcmpErrorsPerTick));
        last = now;
      }
      if (tokens == 0) return false;
      --tokens;
      return true;
    }
  } icmp_budget_;
  std::vector<SchedState> sched_;        // by service id
  std::vector<uint64_t> sched_version_;  // by service id: ServiceView::sched_version of sched_
  std::vector<uint32_t> laddr_rr_;       // by service id: next local address to try
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
};

[[gnu::always_inline]] inline Decision LbWorker::transmit(rte_mbuf* m, rte_ipv4_hdr* ip, Conn& c,
                                                          Direction dir, const RealServerView& rs,
                                                          RealServerCounters& rc, const Fib& fib,
                                                          NextHops& hops) {
  const uint32_t len = rte_be_to_cpu_16(ip->total_length);
  void* l4 = reinterpret_cast<uint8_t*>(ip) + (ip->version_ihl & 0x0f) * 4u;
  const ConnKey& in = c.in();
  if (dir == Direction::out) {
    // Reply from the real server: back to the client, from the VIP.
    rc.outpkts.inc();
    rc.outbytes.add(len);
    rewrite_tuple(ip, l4, in.dst_ip, in.dst_port, in.src_ip, in.src_port);
    return to_next_hop(m, in.src_ip, fib, hops);
  }
  rc.inpkts.inc();
  rc.inbytes.add(len);
  switch (c.fwd) {
    case FwdMode::fullnat: {
      const ConnKey& out = c.out();  // rs -> laddr: we send laddr -> rs
      rewrite_tuple(ip, l4, out.dst_ip, out.dst_port, out.src_ip, out.src_port);
      return to_next_hop(m, out.src_ip, fib, hops);
    }
    case FwdMode::nat:
      rewrite_tuple(ip, l4, ip->src_addr, in.src_port, rs.key.ip.be, rs.key.port.be);
      return to_next_hop(m, rs.key.ip.be, fib, hops);
    case FwdMode::dr:
      return to_next_hop(m, rs.key.ip.be, fib, hops);
    case FwdMode::tunnel:
      return transmit_tunnel(m, ip, rs, fib, hops);
  }
  return drop(LbDrop::no_dest);
}

[[gnu::always_inline]] inline Decision LbWorker::process_flow(rte_mbuf* m, const PacketMeta& p,
                                                              const LbSnapshot& lb, const Fib& fib,
                                                              NextHops& hops, uint32_t now) {
  const uint8_t tcp_flags = p.tcp_flags;
  LookupResult r = conns_.lookup(p.flow, p.hash, now);
  // (tcp_flags is 0 for UDP: the flags decide first, as a bare SYN is rare.)
  if ((tcp_flags & (kTcpSyn | kTcpAck | kTcpRst)) == kTcpSyn && r && r.dir == Direction::in &&
      reuse_closing(*r.conn)) [[unlikely]]
    r = LookupResult{};
  if (!r) return process_no_conn(m, p, lb, fib, hops, now);
  Conn& c = *r.conn;
  const RealServerView* rs = lb.real(c.real_server);
  if (!rs) [[unlikely]]
    return drop(LbDrop::no_dest);
  c.touch(now);
  RealServerCounters& rc = rs_counters_.at(worker_, c.real_server);
  if (p.flow.proto == IPPROTO_TCP) count_state_change(rc, c.on_tcp_packet(r.dir, tcp_flags));
  return transmit(m, p.ip, c, r.dir, *rs, rc, fib, hops);
}

}  // namespace vsgate
