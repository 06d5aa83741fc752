// A worker lcore: rx burst -> classify -> tx burst, run to completion, with its own counters,
// punt ring and inject ring. Nothing here locks, allocates or makes a syscall per packet.
#pragma once

#include <rte_ring.h>

#include <atomic>
#include <vector>

#include "ipv4/fib.h"
#include "lb/lb_worker.h"
#include "lcore/io_stats.h"
#include "lcore/mailbox.h"
#include "lcore/messages.h"
#include "lcore/snapshot.h"

namespace vsgate {

struct RxQueueRef {
  uint16_t port;
  uint16_t queue;
};

struct Worker {
  unsigned index = 0;  // also the tx queue this worker owns on every port
  unsigned lcore_id = 0;
  std::vector<RxQueueRef> rx_queues;
  rte_ring* punt_ring = nullptr;    // to the main lcore
  rte_ring* inject_ring = nullptr;  // from the main lcore
  rte_mempool* pool = nullptr;      // where packets a module creates come from (EmitContext)
  // Packets other workers hand over (Verdict::redirect): multi-producer, this worker consumes.
  rte_ring* redirect_in = nullptr;
  // Every worker's redirect_in, by worker index (this worker's own included).
  std::vector<rte_ring*> redirect_to;
  const Snapshot<Fib>* fib = nullptr;
  const Snapshot<LbSnapshot>* services = nullptr;
  LbWorker* lb = nullptr;
  Mailbox<ToWorker>* inbox = nullptr;  // from the main lcore; the way back is the LbWorker's
  QsbrDomain* qsbr = nullptr;
  const std::atomic<bool>* running = nullptr;
  unsigned idle_sleep_us = 0;
  // Debug: the worker stops looping (no counters, no quiescent state) until this TSC value,
  // to prove that the systemd watchdog notices a stuck worker.
  std::atomic<uint64_t> stall_until_tsc{0};
  WorkerStats stats;
};

// rte_eal_remote_launch entry point; arg is a Worker*. Loops over worker_turn()
// (lcore/worker_turn.h) until `running` is false, sleeping when idle.
int worker_main(void* arg);

}  // namespace vsgate
