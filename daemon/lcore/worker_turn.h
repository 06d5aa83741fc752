// One turn of a worker's loop (lcore/worker.cc: worker_main loops over it): rx a burst from
// each of the worker's queues, decide it (classify_burst with the load balancer at the
// pre-routing hook), transmit, punt, drop or leave consumed packets, send what the host stack
// injects, expire connections, serve the mailbox, report a quiescent state. The packet tests
// (tests/packet/worker_harness.h) run the same turns on ring ports with the real counters.
//
// The decision is a template parameter (`Decide`), bound at build time like the hook itself:
// the daemon uses StandardDecide; a test may wrap the hook to produce verdicts nothing else
// produces yet (Verdict::consumed). Nothing here adds a per-packet cost to the loop it was
// factored out of.
#pragma once

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "ipv4/classify.h"
#include "ipv4/emit.h"
#include "lb/lb_hook.h"
#include "lcore/worker.h"

namespace vsgate {

inline constexpr uint16_t kWorkerBurst = kTxBurst;

// What a worker keeps from one loop turn to the next (its own, never shared).
struct WorkerTurnState {
  TxBuffers tx;
  NextHops hops;
  // The ports a decision can name, all started before the worker: flushed every loop turn
  // (not all kMaxPorts slots).
  std::vector<uint16_t> tx_ports;
  // Connection ages are kept in 1/16 s ticks (lb/core/conn_table.h).
  uint64_t tsc_per_tick = 1;
  // Tests: when non-zero, the clock of every turn (in ticks) instead of the TSC.
  uint32_t fixed_now_ticks = 0;

  // Every ethdev present now is a port the worker may transmit on.
  explicit WorkerTurnState(Worker& w) {
    tx.queue = static_cast<uint16_t>(w.index);
    tx.sent = &w.stats.tx_packets;
    tx.dropped = &w.stats.tx_drops;
    uint16_t port_id;
    RTE_ETH_FOREACH_DEV(port_id) if (port_id < kMaxPorts) tx_ports.push_back(port_id);
    tsc_per_tick = std::max<uint64_t>(rte_get_tsc_hz() / kTicksPerSecond, 1);
  }
  uint32_t now_ticks() const {
    return fixed_now_ticks ? fixed_now_ticks
                           : static_cast<uint32_t>(rte_get_tsc_cycles() / tsc_per_tick);
  }
};

// The daemon's decision: the load balancer at the pre-routing hook when it has anything to
// balance (`lb` non-null), plain routing otherwise. `emit` is for hooks that create packets.
struct StandardDecide {
  [[gnu::always_inline]] void operator()(rte_mbuf** pkts, unsigned n, const Fib& fib,
                                         NextHops& hops, const LbHook* lb, EmitContext& emit,
                                         Decision* out) const {
    (void)emit;  // nothing the load balancer does today creates packets
    if (lb) {
      classify_burst(pkts, n, fib, hops, *lb, out);
    } else {
      const NoHook none;
      classify_burst(pkts, n, fib, hops, none, out);
    }
  }
};

namespace detail {

// Hands a packet to the worker that owns its flow (multi-producer ring, never waits). A packet
// that was handed over once is not handed on again: two workers that disagree about an owner
// would otherwise pass it back and forth.
inline void redirect(Worker& w, rte_mbuf* m, uint16_t to, bool from_peer) {
  if (from_peer || to >= w.redirect_to.size() || rte_ring_mp_enqueue(w.redirect_to[to], m) != 0)
      [[unlikely]] {
    w.stats.redirect_drops.inc();
    rte_pktmbuf_free(m);
    return;
  }
  w.stats.redirected.inc();
}

inline void punt_burst(Worker& w, rte_mbuf** pkts, unsigned n) {
  if (n == 0) return;
  const unsigned q =
      rte_ring_enqueue_burst(w.punt_ring, reinterpret_cast<void**>(pkts), n, nullptr);
  w.stats.punted.add(q);
  if (q < n) {
    w.stats.punt_drops.add(n - q);
    rte_pktmbuf_free_bulk(pkts + q, n - q);
  }
}

// Packets the host stack sends out of a port; m->port names the port.
inline unsigned inject(Worker& w) {
  rte_mbuf* pkts[kWorkerBurst];
  const unsigned n =
      rte_ring_dequeue_burst(w.inject_ring, reinterpret_cast<void**>(pkts), kWorkerBurst, nullptr);
  unsigned i = 0;
  while (i < n) {
    unsigned j = i + 1;
    while (j < n && pkts[j]->port == pkts[i]->port) ++j;
    const uint16_t cnt = static_cast<uint16_t>(j - i);
    const uint16_t sent =
        rte_eth_tx_burst(pkts[i]->port, static_cast<uint16_t>(w.index), pkts + i, cnt);
    w.stats.injected.add(sent);
    w.stats.tx_packets.add(sent);
    if (sent < cnt) {
      w.stats.inject_drops.add(cnt - sent);
      rte_pktmbuf_free_bulk(pkts + i + sent, cnt - sent);
    }
    i = j;
  }
  return n;
}

}  // namespace detail

// One loop turn; returns the work done (packets received and injected, plus one while a
// connection listing is in progress). The caller has put the worker online in its QSBR domain.
template <class Decide = StandardDecide>
unsigned worker_turn(Worker& w, WorkerTurnState& s, const Decide& decide = {}) {
  rte_mbuf* pkts[kWorkerBurst];
  rte_mbuf* punts[kWorkerBurst];
  Decision decisions[kWorkerBurst];
  w.stats.rx_iterations.inc();
  const Fib* fib = w.fib->get();  // valid until quiescent() below
  // The load balancer decides at the pre-routing hook when it has anything to balance.
  const LbHook lb{w.lb, w.lb ? w.services->get() : nullptr, s.now_ticks()};
  const bool balancing = w.lb && LbHook::balances(lb.services);
  EmitContext emit(w.pool, s.tx, w.stats.emitted, w.stats.emit_no_mbuf);
  unsigned work = 0;

  // Decides and disposes of one burst; `from_peer`: handed over by another worker.
  auto handle = [&](rte_mbuf** burst, uint16_t n, bool from_peer) {
    unsigned np = 0;
    if (!fib) {
      std::fill_n(decisions, n, punt());
    } else {
      decide(burst, n, *fib, s.hops, balancing ? &lb : nullptr, emit, decisions);
    }
    for (uint16_t i = 0; i < n; ++i) {
      rte_mbuf* m = burst[i];
      const Decision d = decisions[i];
      switch (d.verdict) {
        case Verdict::forward:
          w.stats.forwarded.inc();
          s.tx.add(m, d.out_port);
          break;
        case Verdict::punt:
        case Verdict::pass:  // never the result of a whole decision; the host would decide
          punts[np++] = m;
          break;
        case Verdict::drop:
          w.stats.drop(d.reason);
          rte_pktmbuf_free(m);
          break;
        case Verdict::consumed:  // a module kept or freed it
          break;
        case Verdict::redirect:
          detail::redirect(w, m, d.out_port, from_peer);
          break;
      }
    }
    detail::punt_burst(w, punts, np);
  };

  for (unsigned qi = 0; qi < w.rx_queues.size(); ++qi) {
    const RxQueueRef rq = w.rx_queues[qi];
    const uint16_t n = rte_eth_rx_burst(rq.port, rq.queue, pkts, kWorkerBurst);
    if (n == 0) continue;
    work += n;
    w.stats.rx_packets.add(n);
    w.stats.rx_bursts.inc();
    w.stats.rx_queue_packets[qi].add(n);
    for (uint16_t i = 0; i < n; ++i) pkts[i]->port = rq.port;
    handle(pkts, n, false);
  }
  // Packets other workers received for flows this one owns (m->port set by the receiver).
  if (w.redirect_in) {
    const auto n = static_cast<uint16_t>(rte_ring_sc_dequeue_burst(
        w.redirect_in, reinterpret_cast<void**>(pkts), kWorkerBurst, nullptr));
    if (n) {
      work += n;
      w.stats.redirect_in.add(n);
      handle(pkts, n, true);
    }
  }
  for (const uint16_t p : s.tx_ports) s.tx.flush(p);
  work += detail::inject(w);
  if (w.lb) {
    w.lb->sweep(lb.now_ticks);
    // The one place a worker hears from the main lcore; a listing in progress keeps it busy.
    if (w.lb->serve_control(*w.inbox, lb.now_ticks)) ++work;
  }
  w.qsbr->quiescent(w.index);
  return work;
}

}  // namespace vsgate
