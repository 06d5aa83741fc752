// What the workers read of the load balancer's configuration: an immutable snapshot, built by
// the registry on the main lcore and published with one atomic swap (lcore/snapshot.h).
// Configuration is held by value: an edit publishes a new snapshot and never writes into one a
// worker may be reading. Runtime state reached from here belongs elsewhere: real-server
// counters in the RealServerCounterTable (by slot), local-port pools in the LocalAddress
// (each worker allocates from its own pool only).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "lb/core/conn_table.h"
#include "lb/core/scheduler.h"
#include "lb/types.h"

namespace vsgate {

struct LocalAddress;

// One real server as the workers see it.
struct RealServerView {
  Ipv4RealServerKey key;
  FwdMode fwd = FwdMode::fullnat;
  uint32_t weight = 0;
  bool present = false;  // false: the slot holds no real server
};

struct ServiceView {
  Ipv4ServiceKey key;
  uint32_t id = 0;                              // slot of the service's per-worker scheduler state
  uint64_t sched_version = 0;                   // changes whenever `sched` is rebuilt
  uint32_t persistence_ticks = 0;               // 0: no persistence
  std::shared_ptr<const SchedulerTable> sched;  // shared by snapshots until the service changes
  std::vector<uint32_t> reals;                  // real-server slots; index = scheduler dest index
  std::vector<LocalAddress*> laddrs;  // FULLNAT source addresses (their pools are workers')
};

struct LbSnapshot {
  std::vector<ServiceView> services;  // sorted by key
  std::vector<uint32_t> vips;         // sorted, network order: drop what no service takes
  std::vector<uint32_t> laddrs;       // sorted, network order
  // By slot: every real server a connection may name, including removed ones whose
  // connections are still alive.
  std::vector<RealServerView> reals;
  Timeouts timeouts;

  const ServiceView* find(uint8_t proto, uint32_t vip_be, uint16_t port_be) const;
  bool is_vip(uint32_t ip_be) const;
  bool is_laddr(uint32_t ip_be) const;
  const RealServerView* real(uint32_t slot) const {
    return slot < reals.size() && reals[slot].present ? &reals[slot] : nullptr;
  }
};

}  // namespace vsgate
