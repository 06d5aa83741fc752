// Counters and gauges of real servers, apart from their configuration: one block per worker
// (single writer) for every real-server slot. Slots are stable: a connection names its real
// server by slot, and a slot is handed to another real server only once no connection of any
// worker refers to it (LbRegistry::release_removed). The table lives as long as the workers;
// its chunks are allocated by the main lcore before a snapshot naming their slots is published
// and are never freed before the table, so a worker never sees a slot without storage.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "lb/model.h"  // kMaxRealServers
#include "lcore/io_stats.h"

namespace vsgate {

// A counter that goes up and down (connections in a state); single writer.
class Gauge {
 public:
  void add(int64_t d) {
    v_.store(v_.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
  }
  int64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

// One worker's counters of one real server: one cache line.
struct alignas(64) RealServerCounters {
  Counter conns, inpkts, outpkts, inbytes, outbytes;
  Gauge active, inactive;  // connections in ESTABLISHED / in any other state (incl. UDP)
  // Table entries naming this slot (connections and persistence templates): changed once at
  // insert and once at release, so a reader that sums it over the workers never sees a live
  // entry as gone (active/inactive move in two stores and can).
  Gauge live;
};
static_assert(sizeof(RealServerCounters) == 64);

struct StatsValues {
  uint64_t conns = 0, inpkts = 0, outpkts = 0, inbytes = 0, outbytes = 0;
  StatsValues& operator+=(const StatsValues& o);
  StatsValues operator-(const StatsValues& o) const;
};

class RealServerCounterTable {
 public:
  static constexpr uint32_t kChunk = 1024;  // slots per allocation
  static constexpr uint32_t kChunks = kMaxRealServers / kChunk;

  explicit RealServerCounterTable(unsigned workers);
  ~RealServerCounterTable();
  RealServerCounterTable(const RealServerCounterTable&) = delete;
  RealServerCounterTable& operator=(const RealServerCounterTable&) = delete;

  unsigned workers() const { return workers_; }

  // Main lcore: storage for `slot` (idempotent). Call before publishing a snapshot naming it.
  void ensure(uint32_t slot);
  bool has(uint32_t slot) const { return slot < kMaxRealServers && chunk(slot) != nullptr; }

  // A worker's own block (written by that worker only).
  RealServerCounters& at(unsigned worker, uint32_t slot) {
    return chunk(slot)->counters[worker * kChunk + slot % kChunk];
  }
  const RealServerCounters& at(unsigned worker, uint32_t slot) const {
    return chunk(slot)->counters[worker * kChunk + slot % kChunk];
  }

  // IPVS overload flag (ipvsadm -x/-y), written by the main lcore, read by the schedulers.
  bool overloaded(uint32_t slot) const { return overloaded_[slot].load(std::memory_order_relaxed); }
  void set_overloaded(uint32_t slot, bool on) {
    overloaded_[slot].store(on, std::memory_order_relaxed);
  }

  // Sums over the workers (any thread; each value is consistent, the set is not atomic).
  StatsValues stats(uint32_t slot) const;
  int64_t active(uint32_t slot) const;    // clamped at 0
  int64_t inactive(uint32_t slot) const;  // clamped at 0
  int64_t live(uint32_t slot) const;
  // Active and inactive connections in one pass, for the lc/wlc schedulers (clamped at 0).
  void load(uint32_t slot, uint32_t& active, uint32_t& inactive) const;

 private:
  struct Chunk {
    std::unique_ptr<RealServerCounters[]> counters;  // [worker][slot % kChunk]
  };
  Chunk* chunk(uint32_t slot) const {
    return chunks_[slot / kChunk].load(std::memory_order_acquire);
  }

  unsigned workers_;
  std::array<std::atomic<Chunk*>, kChunks> chunks_{};
  std::unique_ptr<std::atomic<bool>[]> overloaded_ =
      std::make_unique<std::atomic<bool>[]>(kMaxRealServers);
};

}  // namespace vsgate
