#include "lb/real_server_counters.h"

#include <algorithm>

namespace vsgate {

StatsValues& StatsValues::operator+=(const StatsValues& o) {
  conns += o.conns;
  inpkts += o.inpkts;
  outpkts += o.outpkts;
  inbytes += o.inbytes;
  outbytes += o.outbytes;
  return *this;
}

StatsValues StatsValues::operator-(const StatsValues& o) const {
  return {conns - o.conns, inpkts - o.inpkts, outpkts - o.outpkts, inbytes - o.inbytes,
          outbytes - o.outbytes};
}

RealServerCounterTable::RealServerCounterTable(unsigned workers) : workers_(workers) {}

RealServerCounterTable::~RealServerCounterTable() {
  for (auto& c : chunks_) delete c.load(std::memory_order_relaxed);
}

void RealServerCounterTable::ensure(uint32_t slot) {
  auto& c = chunks_[slot / kChunk];
  if (c.load(std::memory_order_relaxed)) return;
  auto* chunk = new Chunk;
  chunk->counters = std::make_unique<RealServerCounters[]>(size_t{workers_} * kChunk);
  c.store(chunk, std::memory_order_release);
}

StatsValues RealServerCounterTable::stats(uint32_t slot) const {
  StatsValues s;
  const RealServerCounters* base = &at(0, slot);
  for (unsigned w = 0; w < workers_; ++w) {
    const RealServerCounters& c = base[w * kChunk];
    s.conns += c.conns.get();
    s.inpkts += c.inpkts.get();
    s.outpkts += c.outpkts.get();
    s.inbytes += c.inbytes.get();
    s.outbytes += c.outbytes.get();
  }
  return s;
}

// One block per worker, kChunk blocks apart.
int64_t RealServerCounterTable::active(uint32_t slot) const {
  int64_t n = 0;
  const RealServerCounters* base = &at(0, slot);
  for (unsigned w = 0; w < workers_; ++w) n += base[w * kChunk].active.get();
  return std::max<int64_t>(n, 0);
}

int64_t RealServerCounterTable::inactive(uint32_t slot) const {
  int64_t n = 0;
  const RealServerCounters* base = &at(0, slot);
  for (unsigned w = 0; w < workers_; ++w) n += base[w * kChunk].inactive.get();
  return std::max<int64_t>(n, 0);
}

int64_t RealServerCounterTable::live(uint32_t slot) const {
  int64_t n = 0;
  const RealServerCounters* base = &at(0, slot);
  for (unsigned w = 0; w < workers_; ++w) n += base[w * kChunk].live.get();
  return n;
}

void RealServerCounterTable::load(uint32_t slot, uint32_t& active, uint32_t& inactive) const {
  int64_t a = 0, i = 0;
  const RealServerCounters* base = &at(0, slot);
  for (unsigned w = 0; w < workers_; ++w) {
    a += base[w * kChunk].active.get();
    i += base[w * kChunk].inactive.get();
  }
  active = static_cast<uint32_t>(std::max<int64_t>(a, 0));
  inactive = static_cast<uint32_t>(std::max<int64_t>(i, 0));
}

}  // namespace vsgate
