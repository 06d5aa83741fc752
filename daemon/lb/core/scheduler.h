// Schedulers: pick a real server for a new connection (rr, wrr, lc, wlc, sh, mh).
//
// Split in two so the worker fast path stays free of locks, allocation, syscalls and virtual
// calls: the control lcore builds an immutable SchedulerTable whenever a service's real servers
// or weights change (it is published with the rest of the service snapshot), and each worker
// keeps one small SchedState per service and calls pick() per new connection. Rules, tie-breaks
// and the Maglev construction are described in docs/SCHEDULERS.md.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "lb/types.h"

namespace vsgate {

// One configured real server, at the same index as in the service (order stable).
struct SchedDest {
  uint32_t weight = 0;           // 0 = quiesced: never picked for new connections
  uint32_t upper_threshold = 0;  // ipvsadm -x; 0 = none (see update_overload)
  uint32_t lower_threshold = 0;  // ipvsadm -y; 0 = 3/4 of upper
  uint64_t identity = 0;  // stable id (sched_identity(ip:port)) so mh tables survive rebuilds
};

// Stable identity of a real server for Maglev: its address and port, in host order.
constexpr uint64_t sched_identity(const Ipv4RealServerKey& rs) {
  return (uint64_t{rs.ip.host()} << 16) | rs.port.host();
}

// ipvsadm --sched-flags equivalents.
struct SchedOptions {
  bool hash_port = false;  // sh/mh: hash source address and port (sh-port, mh-port)
  bool fallback = true;    // sh/mh: an unavailable dest falls through to the next table entry
  // mh: prime M. 0 = automatic: 65537 up to 655 dests, else the smallest of the primes just
  // below 2^17 .. 2^24 that is >= 100 * dests. Changing M remaps almost every flow, so a service
  // expected to cross such a step should pin it.
  uint32_t mh_table_size = 0;
};

// Per worker, per service; the worker owns it, nothing else writes it.
struct SchedState {
  uint32_t rr_next = 0;  // rr: first index to try
  uint32_t wrr_pos = 0;  // wrr: position in the precomputed sequence
};

// Per dest, as seen by the caller (this worker's counters or summed ones).
struct DestLoad {
  uint32_t active = 0;
  uint32_t inactive = 0;
  bool overloaded = false;  // maintained with update_overload()
};

class SchedulerTable {
 public:
  using Index = uint16_t;
  static constexpr Index kNoDest = 0xffff;
  static constexpr size_t kMaxDests = kNoDest;  // indexes 0 .. 65534
  static constexpr uint32_t kWrrMaxSequence = 1u << 16;
  static constexpr uint32_t kShMinBuckets = 4096;
  static constexpr uint32_t kMhMaxSize = 1u << 24;

  // An empty table: pick() returns -1.
  SchedulerTable() = default;

  // Precomputes what the kind needs. Errors: too many dests, mh_table_size not a prime in
  // (dests, kMhMaxSize], duplicate identities for mh. No dests or only weight 0 is fine.
  static Result<SchedulerTable> build(SchedulerKind kind, std::span<const SchedDest> dests,
                                      const SchedOptions& options = {});

  SchedulerKind kind() const { return kind_; }
  const SchedOptions& options() const { return options_; }
  std::span<const SchedDest> dests() const { return dests_; }
  // wrr: one cycle of the weighted sequence; sh: the buckets; mh: the Maglev lookup table
  // (size M). Empty for rr/lc/wlc and when no dest has a positive weight.
  std::span<const Index> table() const { return table_; }

 private:
  SchedulerKind kind_ = SchedulerKind::rr;
  SchedOptions options_;
  std::vector<SchedDest> dests_;
  std::vector<Index> table_;
};

// Picks the dest index for a new connection from src_ip:src_port (network byte order), or -1
// when no dest is available. Unavailable = weight 0 or load[i].overloaded. A dest without a
// DestLoad entry (load shorter than the table, e.g. just added) counts as idle.
int pick(const SchedulerTable& table, SchedState& state, std::span<const DestLoad> load,
         uint32_t src_ip_be, uint16_t src_port_be);

// Start positions spread over the workers, so that they do not all begin with dest 0.
SchedState initial_sched_state(const SchedulerTable& table, unsigned worker, unsigned workers);

// The sh/mh flow hash (murmur3 fmix64 of address and port); exposed for tests and tools.
uint32_t sched_flow_hash(uint32_t src_ip_be, uint16_t src_port_be, bool with_port);

// IPVS overload hysteresis, total = active + inactive connections of the dest. Set when
// upper > 0 and total >= upper; once set, cleared when total < lower (lower > 0), else when
// total < 3/4 upper (upper > 0), else at once (no thresholds). Call after every change of total.
bool update_overload(bool was, uint32_t total, uint32_t upper, uint32_t lower);

// IPVS on editing a dest: a new upper of 0 or a raised upper clears the flag; it is re-evaluated
// by update_overload() on the next connection change.
bool overload_after_threshold_change(bool was, uint32_t old_upper, uint32_t new_upper);

}  // namespace vsgate
