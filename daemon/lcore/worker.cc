#include "lcore/worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>

#include "ipv4/classify.h"
#include "lb/lb_hook.h"

namespace vsgate {
namespace {

constexpr uint16_t kBurst = 32;
// Empty loop turns before the worker starts sleeping idle_sleep_us per turn.
constexpr unsigned kIdleTurnsBeforeSleep = 256;

struct TxBuffers {
  rte_mbuf* pkts[kMaxPorts][kBurst];
  uint16_t len[kMaxPorts] = {};
};

void flush(Worker& w, TxBuffers& tx, uint16_t port) {
  const uint16_t n = tx.len[port];
  if (n == 0) return;
  const uint16_t sent = rte_eth_tx_burst(port, static_cast<uint16_t>(w.index), tx.pkts[port], n);
  w.stats.tx_packets.add(sent);
  if (sent < n) {
    w.stats.tx_drops.add(n - sent);
    rte_pktmbuf_free_bulk(tx.pkts[port] + sent, n - sent);
  }
  tx.len[port] = 0;
}

void punt_burst(Worker& w, rte_mbuf** pkts, unsigned n) {
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
unsigned inject(Worker& w) {
  rte_mbuf* pkts[kBurst];
  const unsigned n =
      rte_ring_dequeue_burst(w.inject_ring, reinterpret_cast<void**>(pkts), kBurst, nullptr);
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

void stall_if_asked(Worker& w) {
  const uint64_t until = w.stall_until_tsc.load(std::memory_order_relaxed);
  if (__builtin_expect(until == 0, 1)) return;
  while (rte_get_tsc_cycles() < until && w.running->load(std::memory_order_relaxed))
    rte_delay_us_sleep(1000);
  w.stall_until_tsc.store(0, std::memory_order_relaxed);
}

}  // namespace

int worker_main(void* arg) {
  Worker& w = *static_cast<Worker*>(arg);
  TxBuffers tx;
  rte_mbuf* pkts[kBurst];
  rte_mbuf* punts[kBurst];
  Decision decisions[kBurst];
  unsigned idle_turns = 0;
  NextHops hops;
  // The ports a decision can name, all started before the workers: flushed every loop turn
  // (not all kMaxPorts slots).
  std::vector<uint16_t> tx_ports;
  uint16_t port_id;
  RTE_ETH_FOREACH_DEV(port_id) if (port_id < kMaxPorts) tx_ports.push_back(port_id);
  // Connection ages are kept in 1/16 s ticks (lb/core/conn_table.h).
  const uint64_t tsc_per_tick = std::max<uint64_t>(rte_get_tsc_hz() / kTicksPerSecond, 1);

  w.qsbr->online(w.index);
  while (w.running->load(std::memory_order_relaxed)) {
    stall_if_asked(w);
    w.stats.rx_iterations.inc();
    const Fib* fib = w.fib->get();  // valid until quiescent() below
    // The load balancer decides at the pre-routing hook when it has anything to balance.
    const LbHook lb{w.lb, w.lb ? w.services->get() : nullptr,
                    static_cast<uint32_t>(rte_get_tsc_cycles() / tsc_per_tick)};
    const bool balancing = w.lb && LbHook::balances(lb.services);
    unsigned work = 0;

    for (unsigned qi = 0; qi < w.rx_queues.size(); ++qi) {
      const RxQueueRef rq = w.rx_queues[qi];
      const uint16_t n = rte_eth_rx_burst(rq.port, rq.queue, pkts, kBurst);
      if (n == 0) continue;
      work += n;
      w.stats.rx_packets.add(n);
      w.stats.rx_bursts.inc();
      w.stats.rx_queue_packets[qi].add(n);
      unsigned np = 0;
      for (uint16_t i = 0; i < n; ++i) pkts[i]->port = rq.port;
      if (!fib) {
        std::fill_n(decisions, n, punt());
      } else if (balancing) {
        classify_burst(pkts, n, *fib, hops, lb, decisions);
      } else {
        const NoHook none;
        classify_burst(pkts, n, *fib, hops, none, decisions);
      }
      for (uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        const Decision d = decisions[i];
        switch (d.verdict) {
          case Verdict::forward:
            w.stats.forwarded.inc();
            tx.pkts[d.out_port][tx.len[d.out_port]++] = m;
            if (tx.len[d.out_port] == kBurst) flush(w, tx, d.out_port);
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
        }
      }
      punt_burst(w, punts, np);
    }
    for (const uint16_t p : tx_ports) flush(w, tx, p);
    work += inject(w);
    if (w.lb) {
      w.lb->sweep(lb.now_ticks, 64);
      // The one place a worker hears from the main lcore; a listing in progress keeps it busy.
      if (w.lb->serve_control(*w.inbox, lb.now_ticks)) ++work;
    }
    w.qsbr->quiescent(w.index);

    if (work) {
      idle_turns = 0;
    } else if (w.idle_sleep_us && ++idle_turns > kIdleTurnsBeforeSleep) {
      rte_delay_us_sleep(w.idle_sleep_us);
    }
  }
  w.qsbr->offline(w.index);
  return 0;
}

}  // namespace vsgate
