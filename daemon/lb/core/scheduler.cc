#include "lb/core/scheduler.h"

#include <algorithm>
#include <bit>
#include <functional>
#include <numeric>
#include <string>

namespace vsgate {
namespace {

using sched_detail::fmix64;

// Fixed seeds: every worker and every rebuild must hash alike.
constexpr uint64_t kMhOffsetSeed = 0x243f6a8885a308d3ULL;
constexpr uint64_t kMhSkipSeed = 0x13198a2e03707344ULL;

bool is_prime(uint32_t n) {
  if (n < 2) return false;
  if (n % 2 == 0) return n == 2;
  for (uint32_t d = 3; uint64_t{d} * d <= n; d += 2)
    if (n % d == 0) return false;
  return true;
}

// Automatic Maglev sizes: 65537, then the largest prime below each power of two. M comes from
// this short ladder instead of "the next prime >= 100 N" because any change of M remaps nearly
// every flow: with the latter, every add or remove above 655 dests would reshuffle the service.
constexpr uint32_t kMhLadder[] = {65537,   131071,  262139,  524287,  1048573,
                                  2097143, 4194301, 8388593, 16777213};

uint32_t auto_mh_size(size_t dests) {
  for (uint32_t m : kMhLadder)
    if (m >= 100 * dests) return m;
  return kMhLadder[std::size(kMhLadder) - 1];
}

// gcd of the positive weights; 0 when there is none.
uint32_t weight_gcd(std::span<const SchedDest> dests) {
  uint32_t g = 0;
  for (const auto& d : dests)
    if (d.weight) g = std::gcd(g, d.weight);
  return g;
}

// IPVS wrr: passes with a current weight cw going down from the max weight to 1 (weights
// divided by their gcd); each pass lists, in index order, the dests whose weight is >= cw.
// {3,1,2} gives a a c a b c. The set only changes at distinct weight values, so the passes in
// between are copies; that keeps the build O(N * distinct weights + sequence length).
std::vector<SchedulerTable::Index> build_wrr(std::span<const SchedDest> dests) {
  std::vector<SchedulerTable::Index> seq;
  uint32_t g = weight_gcd(dests);
  if (g == 0) return seq;
  std::vector<uint32_t> r(dests.size());
  uint64_t total = 0;
  for (size_t i = 0; i < dests.size(); ++i) total += r[i] = dests[i].weight / g;
  if (total > SchedulerTable::kWrrMaxSequence) {
    // Huge weights: scale them down by s (rounding up, so nobody drops to 0) to keep the
    // sequence small; proportions stay within 1/r' of the configured ones.
    uint64_t s = (total + SchedulerTable::kWrrMaxSequence - 1) / SchedulerTable::kWrrMaxSequence;
    uint32_t g2 = 0;
    for (auto& w : r) {
      w = static_cast<uint32_t>((w + s - 1) / s);
      g2 = std::gcd(g2, w);
    }
    total = 0;
    for (auto& w : r) total += w /= g2;
  }
  seq.reserve(total);
  std::vector<uint32_t> levels;
  for (uint32_t w : r)
    if (w) levels.push_back(w);
  std::sort(levels.begin(), levels.end(), std::greater<>());
  levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
  levels.push_back(0);
  std::vector<SchedulerTable::Index> pass;
  for (size_t k = 0; k + 1 < levels.size(); ++k) {
    pass.clear();
    for (size_t i = 0; i < r.size(); ++i)
      if (r[i] >= levels[k]) pass.push_back(static_cast<SchedulerTable::Index>(i));
    for (uint32_t cw = levels[k]; cw > levels[k + 1]; --cw)
      seq.insert(seq.end(), pass.begin(), pass.end());
  }
  return seq;
}

// IPVS sh lays the dests out in runs of `weight` buckets, cycling until the table is full, which
// skews the shares when the cycle does not divide the table. Here each dest first gets an exact
// quota (at least one bucket, the rest by largest remainder), then the runs cycle as in IPVS.
std::vector<SchedulerTable::Index> build_sh(std::span<const SchedDest> dests) {
  std::vector<SchedulerTable::Index> buckets;
  uint32_t g = weight_gcd(dests);
  if (g == 0) return buckets;
  const uint32_t size =
      std::max(SchedulerTable::kShMinBuckets, std::bit_ceil(uint32_t(16 * dests.size())));
  uint64_t wsum = 0;
  uint32_t positive = 0;
  for (const auto& d : dests) {
    wsum += d.weight;
    positive += d.weight != 0;
  }
  const uint64_t spread = size - positive;
  std::vector<uint32_t> quota(dests.size(), 0);
  std::vector<std::pair<uint64_t, uint32_t>> rem;  // (remainder, index)
  uint64_t given = positive;
  for (uint32_t i = 0; i < dests.size(); ++i) {
    if (!dests[i].weight) continue;
    unsigned __int128 share = static_cast<unsigned __int128>(spread) * dests[i].weight;
    quota[i] = 1 + static_cast<uint32_t>(share / wsum);
    given += quota[i] - 1;
    rem.emplace_back(static_cast<uint64_t>(share % wsum), i);
  }
  std::stable_sort(rem.begin(), rem.end(), [](auto& a, auto& b) { return a.first > b.first; });
  for (size_t k = 0; given < size; ++k, ++given) ++quota[rem[k].second];

  // The cycles visit only the dests with a weight (those with none have no quota): with 4092
  // of 4096 quiesced, ~6,500 cycles of 4 instead of 4096 dests.
  std::vector<uint32_t> weighted;
  weighted.reserve(positive);
  for (uint32_t i = 0; i < dests.size(); ++i)
    if (dests[i].weight) weighted.push_back(i);
  buckets.reserve(size);
  while (buckets.size() < size) {
    for (uint32_t i : weighted) {
      uint32_t run = std::min(dests[i].weight / g, quota[i]);
      buckets.insert(buckets.end(), run, static_cast<SchedulerTable::Index>(i));
      quota[i] -= run;
    }
  }
  return buckets;
}

// Maglev (Eisenbud et al., NSDI 2016, section 3.4): each dest walks its own permutation of the
// M slots, offset = h1(id) mod M, skip = h2(id) mod (M-1) + 1 (M prime, so every skip visits
// every slot), and the dests take turns claiming their next free slot until the table is full.
//
// Weights decide whose turn it is: the next claim goes to the dest with the earliest virtual
// finish time (claims + 1) / weight, ties to the lowest index, so at any moment each dest holds
// its weight share of the claimed slots, within one slot. With equal weights this is exactly the
// paper's round robin. (IPVS mh instead gives each dest `turns` consecutive claims per round with
// the weights shifted down to 8 bits; once the sum of the turns nears M, the table fills before
// the last dests of the first round get a slot: with 65535 dests of weights 1..65535, ~45000
// got none.)
std::vector<SchedulerTable::Index> build_mh(std::span<const SchedDest> dests, uint32_t m) {
  std::vector<SchedulerTable::Index> table;
  struct Walker {
    uint32_t pos, skip;
    uint32_t weight;
    uint32_t claims;
    SchedulerTable::Index index;
  };
  std::vector<Walker> walkers;
  bool equal = true;
  for (size_t i = 0; i < dests.size(); ++i) {
    if (!dests[i].weight) continue;
    uint64_t id = dests[i].identity;
    walkers.push_back({static_cast<uint32_t>(fmix64(id ^ kMhOffsetSeed) % m),
                       static_cast<uint32_t>(fmix64(id ^ kMhSkipSeed) % (m - 1) + 1),
                       dests[i].weight, 0, static_cast<SchedulerTable::Index>(i)});
    equal = equal && dests[i].weight == walkers.front().weight;
  }
  if (walkers.empty()) return table;
  table.assign(m, SchedulerTable::kNoDest);
  auto claim = [&](Walker& w) {
    while (table[w.pos] != SchedulerTable::kNoDest)
      w.pos = w.pos + w.skip < m ? w.pos + w.skip : w.pos + w.skip - m;
    table[w.pos] = w.index;
    ++w.claims;
  };
  uint32_t filled = 0;
  if (equal) {  // the heap below would produce this same order, only slower
    for (;;)
      for (auto& w : walkers) {
        claim(w);
        if (++filled == m) return table;
      }
  }
  // Min-heap on (claims + 1) / weight, compared by cross-multiplication: claims < 2^24 and
  // weight < 2^32, so the products fit in 64 bits.
  auto later = [&](uint32_t a, uint32_t b) {
    const Walker& x = walkers[a];
    const Walker& y = walkers[b];
    uint64_t tx = (uint64_t{x.claims} + 1) * y.weight;
    uint64_t ty = (uint64_t{y.claims} + 1) * x.weight;
    return tx != ty ? tx > ty : x.index > y.index;
  };
  std::vector<uint32_t> heap(walkers.size());
  for (uint32_t i = 0; i < heap.size(); ++i) heap[i] = i;
  std::make_heap(heap.begin(), heap.end(), later);
  for (;;) {
    std::pop_heap(heap.begin(), heap.end(), later);
    claim(walkers[heap.back()]);
    if (++filled == m) return table;
    std::push_heap(heap.begin(), heap.end(), later);
  }
}

}  // namespace

Result<SchedulerTable> SchedulerTable::build(SchedulerKind kind, std::span<const SchedDest> dests,
                                             const SchedOptions& options) {
  if (dests.size() > kMaxDests)
    return make_error("too many real servers for one service (max " + std::to_string(kMaxDests) +
                      ")");
  SchedulerTable t;
  t.kind_ = kind;
  t.options_ = options;
  t.dests_.assign(dests.begin(), dests.end());
  switch (kind) {
    case SchedulerKind::rr:
    case SchedulerKind::lc:
    case SchedulerKind::wlc:
      break;
    case SchedulerKind::wrr:
      t.table_ = build_wrr(dests);
      break;
    case SchedulerKind::sh:
      t.table_ = build_sh(dests);
      break;
    case SchedulerKind::mh: {
      uint32_t m = options.mh_table_size;
      if (m == 0) {
        m = auto_mh_size(dests.size());
      } else if (!is_prime(m) || m <= dests.size() || m > kMhMaxSize) {
        return make_error("mh table size " + std::to_string(m) +
                          " must be a prime above the number of real servers and at most " +
                          std::to_string(kMhMaxSize));
      }
      std::vector<uint64_t> ids;
      for (const auto& d : dests)
        if (d.weight) ids.push_back(d.identity);
      std::sort(ids.begin(), ids.end());
      if (std::adjacent_find(ids.begin(), ids.end()) != ids.end())
        return make_error("mh: two real servers with the same identity");
      t.options_.mh_table_size = m;
      t.table_ = build_mh(dests, m);
      break;
    }
  }
  return t;
}

uint32_t sched_flow_hash(uint32_t src_ip_be, uint16_t src_port_be, bool with_port) {
  return sched_detail::flow_hash(src_ip_be, src_port_be, with_port);
}

int pick(const SchedulerTable& table, SchedState& state, std::span<const DestLoad> load,
         uint32_t src_ip_be, uint16_t src_port_be) {
  return pick(table, state, DestLoadSpan{load}, src_ip_be, src_port_be);
}

SchedState initial_sched_state(const SchedulerTable& table, unsigned worker, unsigned workers) {
  SchedState s;
  if (workers == 0) return s;
  worker %= workers;
  const uint64_t n = table.dests().size();
  const uint64_t len = table.table().size();
  s.rr_next = static_cast<uint32_t>(n * worker / workers);
  if (table.kind() == SchedulerKind::wrr) s.wrr_pos = static_cast<uint32_t>(len * worker / workers);
  return s;
}

bool update_overload(bool was, uint32_t total, uint32_t upper, uint32_t lower) {
  if (upper != 0 && total >= upper) return true;
  if (!was) return false;
  if (lower != 0) return total >= lower;
  if (upper != 0) return uint64_t{total} * 4 >= uint64_t{upper} * 3;
  return false;
}

bool overload_after_threshold_change(bool was, uint32_t old_upper, uint32_t new_upper) {
  if (new_upper == 0 || new_upper > old_upper) return false;
  return was;
}

}  // namespace vsgate
