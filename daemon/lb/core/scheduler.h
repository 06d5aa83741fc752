// Schedulers: pick a real server for a new connection (rr, wrr, lc, wlc, sh, mh).
//
// Split in two so the worker fast path stays free of locks, allocation, syscalls and virtual
// calls: the control lcore builds an immutable SchedulerTable whenever a service's real servers
// or weights change (it is published with the rest of the service snapshot), and each worker
// keeps one small SchedState per service and calls pick() per new connection. Rules, tie-breaks
// and the Maglev construction are described in docs/SCHEDULERS.md.
#pragma once

#include <concepts>
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

// What pick() reads about dest i, from wherever the caller keeps it (a worker reads its
// counters by real-server slot, so a new connection costs nothing per configured dest that the
// scheduler does not look at):
//   bool overloaded(uint32_t i) const;   // load[i].overloaded
//   uint64_t overhead(uint32_t i) const; // IPVS ip_vs_dest_conn_overhead: active * 256 + inactive
//                                        // (asked by lc and wlc only, of available dests only)
template <class L>
concept DestLoads = requires(const L& l, uint32_t i) {
  { l.overloaded(i) } -> std::convertible_to<bool>;
  { l.overhead(i) } -> std::convertible_to<uint64_t>;
};

// DestLoads over a span indexed like the dests. A dest without an entry (the span shorter than
// the table, e.g. just added) counts as idle.
struct DestLoadSpan {
  std::span<const DestLoad> load;
  bool overloaded(uint32_t i) const { return i < load.size() && load[i].overloaded; }
  uint64_t overhead(uint32_t i) const {
    return i < load.size() ? (uint64_t{load[i].active} << 8) + load[i].inactive : 0;
  }
};

// Picks the dest index for a new connection from src_ip:src_port (network byte order), or -1
// when no dest is available. Unavailable = weight 0 or overloaded.
template <DestLoads L>
int pick(const SchedulerTable& table, SchedState& state, const L& load, uint32_t src_ip_be,
         uint16_t src_port_be);
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

// ---- pick(), inline so that the worker's DestLoads calls are too.

namespace sched_detail {
// murmur3 finalizer: full avalanche, a handful of cycles, no tables.
constexpr uint64_t fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}
// Fixed seed: every worker and every rebuild must hash alike.
constexpr uint64_t kFlowSeed = 0x9e3779b97f4a7c15ULL;
inline uint32_t flow_hash(uint32_t ip_be, uint16_t port_be, bool with_port) {
  uint64_t key = (uint64_t{with_port ? port_be : uint16_t{0}} << 32) | ip_be;
  return static_cast<uint32_t>(fmix64(key ^ kFlowSeed) >> 32);
}
}  // namespace sched_detail

template <DestLoads L>
int pick(const SchedulerTable& table, SchedState& state, const L& load, uint32_t src_ip_be,
         uint16_t src_port_be) {
  const auto dests = table.dests();
  const auto tab = table.table();
  const uint32_t n = static_cast<uint32_t>(dests.size());
  auto available = [&](uint32_t i) { return dests[i].weight != 0 && !load.overloaded(i); };
  auto any_available = [&] {
    for (uint32_t i = 0; i < n; ++i)
      if (available(i)) return true;
    return false;
  };
  // Walks a table ring from `at` to the first available entry. The O(N) check first keeps an
  // all-unavailable service from scanning the whole table on every new connection.
  auto scan = [&](uint32_t at, uint32_t& next) -> int {
    const uint32_t size = static_cast<uint32_t>(tab.size());
    if (available(tab[at])) {
      next = at + 1 == size ? 0 : at + 1;
      return tab[at];
    }
    if (!any_available()) return -1;
    for (uint32_t k = 1; k < size; ++k) {
      uint32_t p = at + k < size ? at + k : at + k - size;
      if (available(tab[p])) {
        next = p + 1 == size ? 0 : p + 1;
        return tab[p];
      }
    }
    return -1;
  };

  switch (table.kind()) {
    case SchedulerKind::rr: {
      uint32_t start = state.rr_next < n ? state.rr_next : 0;
      for (uint32_t k = 0; k < n; ++k) {
        uint32_t i = start + k < n ? start + k : start + k - n;
        if (available(i)) {
          state.rr_next = i + 1 == n ? 0 : i + 1;
          return static_cast<int>(i);
        }
      }
      return -1;
    }
    case SchedulerKind::wrr: {
      if (tab.empty()) return -1;
      uint32_t at = state.wrr_pos < tab.size() ? state.wrr_pos : 0;
      return scan(at, state.wrr_pos);
    }
    case SchedulerKind::lc: {
      int least = -1;
      uint64_t loh = 0;
      for (uint32_t i = 0; i < n; ++i) {
        if (!available(i)) continue;
        uint64_t doh = load.overhead(i);
        if (least < 0 || doh < loh) {
          least = static_cast<int>(i);
          loh = doh;
        }
      }
      return least;
    }
    case SchedulerKind::wlc: {
      // loh/lw > doh/dw without dividing; 128 bits because overhead (40 bits) * weight (32 bits)
      // overflows 64. Strict > keeps the lowest index on ties.
      int least = -1;
      uint64_t loh = 0;
      uint32_t lw = 0;
      for (uint32_t i = 0; i < n; ++i) {
        if (!available(i)) continue;
        uint64_t doh = load.overhead(i);
        if (least < 0 || static_cast<unsigned __int128>(loh) * dests[i].weight >
                             static_cast<unsigned __int128>(doh) * lw) {
          least = static_cast<int>(i);
          loh = doh;
          lw = dests[i].weight;
        }
      }
      return least;
    }
    case SchedulerKind::sh:
    case SchedulerKind::mh: {
      if (tab.empty()) return -1;
      const uint32_t h = sched_detail::flow_hash(src_ip_be, src_port_be, table.options().hash_port);
      // sh: power-of-two buckets, mask; mh: prime M, multiply-shift range reduction (no divide).
      const uint32_t at = table.kind() == SchedulerKind::sh
                              ? h & static_cast<uint32_t>(tab.size() - 1)
                              : static_cast<uint32_t>((uint64_t{h} * tab.size()) >> 32);
      if (!table.options().fallback) return available(tab[at]) ? tab[at] : -1;
      uint32_t unused = 0;
      return scan(at, unused);
    }
  }
  return -1;
}

}  // namespace vsgate
