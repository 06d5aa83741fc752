// The worker's transmit buffers, and the emit context through which a module sends packets it
// creates itself (a SYN to a real server, a reset, stored ACKs): the worker's mempool for new
// mbufs, and the same per-port buffers the worker's forwarded packets go into, so an emitted
// packet leaves in the worker's own burst on the worker's own tx queue. No lock, no syscall.
#pragma once

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <cstdint>

#include "ipv4/fib.h"
#include "lcore/io_stats.h"

namespace vsgate {

inline constexpr uint16_t kTxBurst = 32;

// Per worker: a burst being gathered for each port, sent on the worker's tx queue.
struct TxBuffers {
  rte_mbuf* pkts[kMaxPorts][kTxBurst];
  uint16_t len[kMaxPorts] = {};
  uint16_t queue = 0;          // the worker's tx queue on every port
  Counter* sent = nullptr;     // packets the port took
  Counter* dropped = nullptr;  // packets it refused (freed)

  [[gnu::always_inline]] void add(rte_mbuf* m, uint16_t port) {
    pkts[port][len[port]++] = m;
    if (len[port] == kTxBurst) flush(port);
  }
  void flush(uint16_t port) {
    const uint16_t n = len[port];
    if (n == 0) return;
    const uint16_t ok = rte_eth_tx_burst(port, queue, pkts[port], n);
    sent->add(ok);
    if (ok < n) {
      dropped->add(n - ok);
      rte_pktmbuf_free_bulk(pkts[port] + ok, n - ok);
    }
    len[port] = 0;
  }
};

class EmitContext {
 public:
  EmitContext(rte_mempool* pool, TxBuffers& tx, Counter& emitted, Counter& alloc_failed)
      : pool_(pool), tx_(tx), emitted_(emitted), alloc_failed_(alloc_failed) {}

  // A new mbuf from the worker's pool; nullptr (counted) when the pool is empty.
  rte_mbuf* alloc() {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (!m) [[unlikely]]
      alloc_failed_.inc();
    return m;
  }
  // Sends a complete frame (Ethernet header written) out of `port`; the mbuf is the worker's
  // from here on.
  void send(rte_mbuf* m, uint16_t port) {
    emitted_.inc();
    tx_.add(m, port);
  }

 private:
  rte_mempool* pool_;
  TxBuffers& tx_;
  Counter& emitted_;
  Counter& alloc_failed_;
};

}  // namespace vsgate
