// Per-lcore io counters in the style of DPDK's load_balancer example. Each block has exactly one
// writer (its lcore) and is read by the main lcore, which sums across lcores; relaxed atomics keep
// that race-free without a locked instruction on the fast path.
#pragma once

#include <array>
#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace vsgate {

class Counter {
 public:
  void add(uint64_t n) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void inc() { add(1); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// Drop reasons. lcore/ counts drops without knowing why modules drop: each module that drops
// packets declares its own reasons (an enum, documented there) and specialises DropReasonSet
// for it with the names users see and the id of its first reason. An id indexes the worker's
// drop counters; drop_id() is a constant offset, so counting a drop is one increment, as for
// any other counter. The sets follow one another (ipv4/drop_reasons.h, then lb/drop_reasons.h,
// each starting where the one it includes ends), and the control plane assembles their names
// in id order for output (app/drop_reasons.h).
enum class DropId : uint8_t {};
inline constexpr size_t kMaxDropReasons = 32;  // the counters per worker, over all modules
inline constexpr DropId kNoDrop{0xff};         // in a Decision whose verdict is not drop
static_assert(kMaxDropReasons <= static_cast<size_t>(kNoDrop));

// Specialised by the module that owns E, next to E:
//   template <> struct DropReasonSet<E> {
//     static constexpr size_t first = ...;  // the id of E's first reason
//     static constexpr std::array<std::string_view, size_t(E::count)> names{...};
//   };
// E's reasons are 0 .. count-1, the ids first .. first+count-1.
template <class E>
struct DropReasonSet;

template <class E>
concept DropReasonEnum = std::is_enum_v<E> && requires {
  { DropReasonSet<E>::first } -> std::convertible_to<size_t>;
  { DropReasonSet<E>::names.size() } -> std::convertible_to<size_t>;
};

// One past E's last id: where the next module's set starts.
template <DropReasonEnum E>
inline constexpr size_t kDropReasonsEnd = DropReasonSet<E>::first + DropReasonSet<E>::names.size();

// A set is sound if it has a name per reason and fits the counters.
template <DropReasonEnum E>
consteval bool drop_reason_set_fits() {
  return DropReasonSet<E>::names.size() == static_cast<size_t>(E::count) &&
         kDropReasonsEnd<E> <= kMaxDropReasons;
}

template <DropReasonEnum E>
constexpr DropId drop_id(E r) {
  static_assert(drop_reason_set_fits<E>(), "a name per reason, ids below kMaxDropReasons");
  return static_cast<DropId>(DropReasonSet<E>::first + static_cast<size_t>(r));
}

template <DropReasonEnum E>
constexpr std::string_view drop_name(E r) {
  return DropReasonSet<E>::names[static_cast<size_t>(r)];
}

// The names of the given sets in id order, for output: the sets must follow one another from
// id 0, without a gap or an overlap, and each name must be unique and not empty (else this is
// not a constant expression and the build fails).
template <DropReasonEnum... Es>
consteval auto drop_reason_names() {
  std::array<std::string_view, (DropReasonSet<Es>::names.size() + ...)> out{};
  size_t next = 0;
  auto append = [&](size_t first, const auto& names) {
    if (first != next) throw "drop reason sets must follow one another from id 0";
    for (std::string_view n : names) {
      if (n.empty()) throw "a drop reason without a name";
      for (size_t i = 0; i < next; ++i)
        if (out[i] == n) throw "two drop reasons with one name";
      out[next++] = n;
    }
  };
  (append(DropReasonSet<Es>::first, DropReasonSet<Es>::names), ...);
  if (next > kMaxDropReasons) throw "drop reasons exceed kMaxDropReasons";
  return out;
}

inline constexpr unsigned kMaxRxQueuesPerWorker = 16;

struct alignas(64) WorkerStats {
  Counter rx_iterations;  // loop turns; also the worker's heartbeat for the watchdog
  Counter rx_packets;
  Counter rx_bursts;  // non-empty bursts, for the average burst size
  Counter tx_packets;
  Counter tx_drops;        // tx queue full: freed
  Counter punted;          // handed to the exception path
  Counter punt_drops;      // punt ring full
  Counter injected;        // from the exception path, sent on a port
  Counter inject_drops;    // from the exception path, tx queue full
  Counter forwarded;       // transit IPv4 forwarded by the data plane
  Counter emitted;         // packets a module created and sent (EmitContext)
  Counter emit_no_mbuf;    // a module could not create a packet: the mempool was empty
  Counter redirected;      // handed to the worker that owns the flow (Verdict::redirect)
  Counter redirect_drops;  // that worker's redirect ring was full, or a redirect bounced
  Counter redirect_in;     // received from other workers and decided here
  std::array<Counter, kMaxRxQueuesPerWorker> rx_queue_packets;
  std::array<Counter, kMaxDropReasons> dropped;  // by DropId

  void drop(DropId id) { dropped[static_cast<size_t>(id)].inc(); }
  template <DropReasonEnum E>
  void drop(E r) {
    drop(drop_id(r));
  }
  uint64_t dropped_total() const {
    uint64_t t = 0;
    for (const auto& c : dropped) t += c.get();
    return t;
  }
};

// The sum over all workers, read while they keep counting: each field is a consistent 64-bit
// value, the set as a whole is a snapshot taken over a few nanoseconds.
struct WorkerTotals {
  uint64_t rx_iterations = 0, rx_packets = 0, rx_bursts = 0, tx_packets = 0, tx_drops = 0,
           punted = 0, punt_drops = 0, injected = 0, inject_drops = 0, forwarded = 0, emitted = 0,
           emit_no_mbuf = 0, redirected = 0, redirect_drops = 0, redirect_in = 0;
  std::array<uint64_t, kMaxDropReasons> dropped{};  // by DropId
  uint64_t dropped_total() const {
    uint64_t t = 0;
    for (auto d : dropped) t += d;
    return t;
  }
};

template <class Range>  // of const WorkerStats* (or anything dereferencing to one)
WorkerTotals sum_worker_stats(const Range& workers) {
  WorkerTotals t;
  for (const auto& w : workers) {
    const WorkerStats& s = *w;
    t.rx_iterations += s.rx_iterations.get();
    t.rx_packets += s.rx_packets.get();
    t.rx_bursts += s.rx_bursts.get();
    t.tx_packets += s.tx_packets.get();
    t.tx_drops += s.tx_drops.get();
    t.punted += s.punted.get();
    t.punt_drops += s.punt_drops.get();
    t.injected += s.injected.get();
    t.inject_drops += s.inject_drops.get();
    t.forwarded += s.forwarded.get();
    t.emitted += s.emitted.get();
    t.emit_no_mbuf += s.emit_no_mbuf.get();
    t.redirected += s.redirected.get();
    t.redirect_drops += s.redirect_drops.get();
    t.redirect_in += s.redirect_in.get();
    for (size_t r = 0; r < t.dropped.size(); ++r) t.dropped[r] += s.dropped[r].get();
  }
  return t;
}

// Exception-path counters, written by the main lcore only.
struct alignas(64) ExceptionPathStats {
  Counter to_host;
  Counter to_host_drops;
  Counter from_host;
  Counter from_host_drops;
};

}  // namespace vsgate
