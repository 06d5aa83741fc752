#include "lb/core/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <random>
#include <vector>

namespace vsgate {
namespace {

constexpr SchedulerKind kAllKinds[] = {SchedulerKind::rr,  SchedulerKind::wrr, SchedulerKind::lc,
                                       SchedulerKind::wlc, SchedulerKind::sh,  SchedulerKind::mh};

// Dests with the given weights and identities (base + i):80, base 10.0.0.1 by default.
std::vector<SchedDest> dests_with(std::vector<uint32_t> weights, uint32_t base = 0x0a000001) {
  std::vector<SchedDest> d;
  for (size_t i = 0; i < weights.size(); ++i) {
    Ipv4RealServerKey rs{Ipv4Addr::from_host(base + uint32_t(i)), L4Port::from_host(80)};
    d.push_back(SchedDest{weights[i], 0, 0, sched_identity(rs)});
  }
  return d;
}

SchedulerTable must_build(SchedulerKind kind, const std::vector<SchedDest>& dests,
                          const SchedOptions& options = {}) {
  auto t = SchedulerTable::build(kind, dests, options);
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.message());
  return t.ok() ? std::move(t).value() : SchedulerTable{};
}

std::vector<int> picks(const SchedulerTable& t, SchedState& s, std::span<const DestLoad> load,
                       int count) {
  std::vector<int> out;
  for (int i = 0; i < count; ++i) out.push_back(pick(t, s, load, 0, 0));
  return out;
}

bool is_prime(uint32_t n) {
  if (n < 2) return false;
  for (uint32_t d = 2; uint64_t{d} * d <= n; ++d)
    if (n % d == 0) return false;
  return true;
}

std::vector<uint32_t> random_sources(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint32_t> v(count);
  for (auto& ip : v) ip = rng();
  return v;
}

// --- rr -----------------------------------------------------------------------------------------

TEST(Rr, CyclesInIndexOrder) {
  auto t = must_build(SchedulerKind::rr, dests_with({1, 1, 1}));
  SchedState s;
  EXPECT_EQ(picks(t, s, {}, 7), (std::vector<int>{0, 1, 2, 0, 1, 2, 0}));
}

TEST(Rr, SkipsWeightZeroAndOverloaded) {
  auto t = must_build(SchedulerKind::rr, dests_with({1, 0, 5, 1}));
  std::vector<DestLoad> load(4);
  load[2].overloaded = true;
  SchedState s;
  EXPECT_EQ(picks(t, s, load, 5), (std::vector<int>{0, 3, 0, 3, 0}));
  load[2].overloaded = false;
  EXPECT_EQ(picks(t, s, load, 4), (std::vector<int>{2, 3, 0, 2}));
}

TEST(Rr, StaleStateFromALargerTableIsClamped) {
  auto t = must_build(SchedulerKind::rr, dests_with({1, 1}));
  SchedState s{.rr_next = 100, .wrr_pos = 100};
  EXPECT_EQ(picks(t, s, {}, 3), (std::vector<int>{0, 1, 0}));
}

// --- wrr ----------------------------------------------------------------------------------------

TEST(Wrr, FollowsTheIpvsSequence) {
  // IPVS: passes with cw = max .. 1, each listing the dests whose weight >= cw.
  auto t = must_build(SchedulerKind::wrr, dests_with({3, 1, 2}));
  SchedState s;
  EXPECT_EQ(picks(t, s, {}, 12), (std::vector<int>{0, 0, 2, 0, 1, 2, 0, 0, 2, 0, 1, 2}));

  auto t2 = must_build(SchedulerKind::wrr, dests_with({3, 1}));
  SchedState s2;
  EXPECT_EQ(picks(t2, s2, {}, 8), (std::vector<int>{0, 0, 0, 1, 0, 0, 0, 1}));

  // Weights are reduced by their gcd: 40:20 is 2:1.
  auto t3 = must_build(SchedulerKind::wrr, dests_with({40, 0, 20}));
  EXPECT_EQ(t3.table().size(), 3u);
  SchedState s3;
  EXPECT_EQ(picks(t3, s3, {}, 6), (std::vector<int>{0, 0, 2, 0, 0, 2}));
}

TEST(Wrr, SkipsUnavailableEntriesKeepingTheOthersOrder) {
  auto t = must_build(SchedulerKind::wrr, dests_with({3, 1, 2}));
  std::vector<DestLoad> load(3);
  load[2].overloaded = true;
  SchedState s;
  EXPECT_EQ(picks(t, s, load, 8), (std::vector<int>{0, 0, 0, 1, 0, 0, 0, 1}));
  load[0].overloaded = load[1].overloaded = true;
  EXPECT_EQ(pick(t, s, load, 0, 0), -1);
}

TEST(Wrr, ExactProportionsPerCycle) {
  std::vector<uint32_t> w = {5, 3, 7, 1, 0, 4};  // cycle of 20
  auto t = must_build(SchedulerKind::wrr, dests_with(w));
  ASSERT_EQ(t.table().size(), 20u);
  SchedState s;
  std::vector<int> count(w.size());
  for (int i = 0; i < 100000; ++i) ++count[pick(t, s, {}, 0, 0)];
  for (size_t i = 0; i < w.size(); ++i) EXPECT_EQ(count[i], 5000 * int(w[i])) << i;
  // And within any one cycle too, not just in the long run.
  std::vector<int> cycle(w.size());
  for (int i = 0; i < 20; ++i) ++cycle[pick(t, s, {}, 0, 0)];
  for (size_t i = 0; i < w.size(); ++i) EXPECT_EQ(cycle[i], int(w[i])) << i;
}

TEST(Wrr, HugeWeightsAreScaledToABoundedSequence) {
  std::vector<uint32_t> w = {1000000, 999999, 1, 4000000000u};
  auto t = must_build(SchedulerKind::wrr, dests_with(w));
  EXPECT_LE(t.table().size(), SchedulerTable::kWrrMaxSequence + w.size());
  std::vector<double> share(w.size());
  for (auto i : t.table()) share[i] += 1.0 / double(t.table().size());
  double sum = 0;
  for (auto x : w) sum += x;
  EXPECT_GE(share[2], 1.0 / double(t.table().size()) - 1e-12);  // never dropped to 0
  for (size_t i = 0; i < w.size(); ++i)
    if (i != 2) {
      EXPECT_NEAR(share[i], w[i] / sum, 1e-3) << i;
    }
}

// --- lc / wlc -----------------------------------------------------------------------------------

TEST(Lc, PicksTheLeastActiveTimes256PlusInactive) {
  auto t = must_build(SchedulerKind::lc, dests_with({1, 1, 1, 1}));
  SchedState s;
  std::vector<DestLoad> load = {{3, 0, false}, {1, 0, false}, {0, 300, false}, {2, 0, false}};
  EXPECT_EQ(pick(t, s, load, 0, 0), 1);  // 256 < 300 < 512 < 768
  load[1].inactive = 45;                 // 301 > 300
  EXPECT_EQ(pick(t, s, load, 0, 0), 2);
  load[2].inactive = 301;  // tie 301 = 301: lowest index
  EXPECT_EQ(pick(t, s, load, 0, 0), 1);
  load[1].overloaded = true;
  EXPECT_EQ(pick(t, s, load, 0, 0), 2);
}

TEST(Lc, IgnoresWeightButSkipsWeightZero) {
  auto t = must_build(SchedulerKind::lc, dests_with({0, 100, 1}));
  SchedState s;
  std::vector<DestLoad> load = {{0, 0, false}, {5, 0, false}, {5, 0, false}};
  EXPECT_EQ(pick(t, s, load, 0, 0), 1);  // dest 0 idle but quiesced; 1 and 2 tie
}

TEST(Wlc, PicksTheLeastOverheadPerWeight) {
  auto t = must_build(SchedulerKind::wlc, dests_with({1, 2, 3}));
  SchedState s;
  std::vector<DestLoad> load = {{2, 0, false}, {2, 0, false}, {3, 0, false}};
  EXPECT_EQ(pick(t, s, load, 0, 0), 1);  // 512/1, 512/2 = 256, 768/3 = 256: tie -> index 1
  load = {{1, 0, false}, {2, 0, false}, {3, 0, false}};
  EXPECT_EQ(pick(t, s, load, 0, 0), 0);  // all 256: lowest index
  load = {{1, 0, false}, {2, 1, false}, {3, 0, false}};
  EXPECT_EQ(pick(t, s, load, 0, 0), 0);
  load = {{1, 1, false}, {2, 1, false}, {3, 1, false}};
  EXPECT_EQ(pick(t, s, load, 0, 0), 2);  // 257/1 > 513/2 > 769/3
  load[2].overloaded = true;
  EXPECT_EQ(pick(t, s, load, 0, 0), 1);
}

TEST(Wlc, SkipsWeightZeroAndDoesNotOverflow) {
  auto t = must_build(SchedulerKind::wlc, dests_with({0, 1, 0xffffffffu}));
  SchedState s;
  std::vector<DestLoad> load = {
      {0, 0, false}, {0xffffffffu, 0xffffffffu, false}, {0xffffffffu, 0xffffffffu, false}};
  EXPECT_EQ(pick(t, s, load, 0, 0), 2);
  load[1] = {0, 1, false};
  EXPECT_EQ(pick(t, s, load, 0, 0), 1);  // 1/1 < (2^40)/(2^32)
}

TEST(LcWlc, MissingLoadEntriesCountAsIdle) {
  // A dest added after the worker sized its load array is new, hence idle.
  for (auto kind : {SchedulerKind::lc, SchedulerKind::wlc}) {
    auto t = must_build(kind, dests_with({1, 1, 1}));
    SchedState s;
    std::vector<DestLoad> load = {{1, 0, false}, {1, 0, false}};
    EXPECT_EQ(pick(t, s, load, 0, 0), 2);
  }
}

// --- sh -----------------------------------------------------------------------------------------

TEST(Sh, SameSourceSameDestAndWeightShares) {
  std::vector<uint32_t> w = {1, 2, 3, 4};
  auto t = must_build(SchedulerKind::sh, dests_with(w));
  EXPECT_GE(t.table().size(), 256u);
  EXPECT_EQ(std::popcount(t.table().size()), 1);
  SchedState s;
  auto srcs = random_sources(100000, 1);
  std::vector<int> count(w.size());
  for (uint32_t ip : srcs) {
    int d = pick(t, s, {}, ip, 1234);
    ASSERT_GE(d, 0);
    EXPECT_EQ(pick(t, s, {}, ip, 4321), d);  // port not hashed by default
    ++count[d];
  }
  for (size_t i = 0; i < w.size(); ++i) {
    double share = count[i] / double(srcs.size()), want = w[i] / 10.0;
    std::cout << "sh weights 1:2:3:4 dest " << i << " share " << share << " (weight share " << want
              << ")\n";
    EXPECT_NEAR(share, want, want * 0.05) << i;
  }
}

TEST(Sh, FallsBackToTheNextAvailableBucket) {
  auto t = must_build(SchedulerKind::sh, dests_with({1, 1, 1, 1}));
  SchedState s;
  std::vector<DestLoad> load(4);
  auto tab = t.table();
  for (uint32_t ip : random_sources(1000, 2)) {
    int d = pick(t, s, load, ip, 0);
    load[d].overloaded = true;
    int f = pick(t, s, load, ip, 0);
    ASSERT_GE(f, 0);
    EXPECT_NE(f, d);
    EXPECT_EQ(pick(t, s, load, ip, 0), f);  // stable while d is out
    // It is the first other dest after ip's bucket in the ring.
    size_t b = sched_flow_hash(ip, 0, false) & (tab.size() - 1);
    while (tab[b] == d) b = (b + 1) % tab.size();
    EXPECT_EQ(f, tab[b]);
    load[d].overloaded = false;
    EXPECT_EQ(pick(t, s, load, ip, 0), d);  // and comes back
  }
  auto strict = must_build(SchedulerKind::sh, dests_with({1, 1}), {.fallback = false});
  int d = pick(strict, s, {}, 42, 0);
  std::vector<DestLoad> out(2);
  out[d].overloaded = true;
  EXPECT_EQ(pick(strict, s, out, 42, 0), -1);
}

TEST(Sh, HashPortSpreadsOneSourceOverDests) {
  auto t = must_build(SchedulerKind::sh, dests_with({1, 1, 1, 1}), {.hash_port = true});
  SchedState s;
  std::vector<int> count(4);
  for (uint16_t port = 1024; port < 2048; ++port) ++count[pick(t, s, {}, 0x0100000a, port)];
  for (int c : count) EXPECT_GT(c, 150);
}

// --- mh -----------------------------------------------------------------------------------------

std::vector<uint64_t> slot_identities(const SchedulerTable& t) {
  std::vector<uint64_t> ids;
  for (auto i : t.table()) ids.push_back(t.dests()[i].identity);
  return ids;
}

double changed_fraction(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  size_t changed = 0;
  for (size_t i = 0; i < a.size(); ++i) changed += a[i] != b[i];
  return changed / double(a.size());
}

double flows_moved(const SchedulerTable& a, const SchedulerTable& b,
                   const std::vector<uint32_t>& srcs) {
  SchedState s;
  size_t moved = 0;
  for (uint32_t ip : srcs)
    moved += a.dests()[pick(a, s, {}, ip, 0)].identity != b.dests()[pick(b, s, {}, ip, 0)].identity;
  return moved / double(srcs.size());
}

TEST(Mh, TableIsPrimeFullAndFair) {
  auto t = must_build(SchedulerKind::mh, dests_with(std::vector<uint32_t>(10, 1)));
  ASSERT_EQ(t.table().size(), 65537u);
  EXPECT_TRUE(is_prime(uint32_t(t.table().size())));
  std::vector<int> slots(10);
  for (auto i : t.table()) {
    ASSERT_LT(i, 10);
    ++slots[i];
  }
  for (int c : slots) EXPECT_NEAR(c / 65537.0, 0.1, 0.1 * 0.02);
  std::vector<int> flows(10);
  SchedState s;
  for (uint32_t ip : random_sources(100000, 3)) ++flows[pick(t, s, {}, ip, 0)];
  for (int c : flows) EXPECT_NEAR(c / 100000.0, 0.1, 0.1 * 0.05);
  std::cout << "mh N=10 equal weights: slots per dest min "
            << *std::min_element(slots.begin(), slots.end()) << " max "
            << *std::max_element(slots.begin(), slots.end()) << " (ideal 6553.7)\n";
}

TEST(Mh, WeightedShares) {
  std::vector<uint32_t> w = {1, 2, 3, 4, 0};
  auto t = must_build(SchedulerKind::mh, dests_with(w));
  std::vector<int> slots(w.size());
  for (auto i : t.table()) ++slots[i];
  for (size_t i = 0; i < w.size(); ++i) {
    double share = slots[i] / double(t.table().size()), want = w[i] / 10.0;
    std::cout << "mh weights 1:2:3:4:0 dest " << i << " slot share " << share << " (weight share "
              << want << ")\n";
    EXPECT_NEAR(share, want, want * 0.02) << i;
  }
  std::vector<int> flows(w.size());
  SchedState s;
  for (uint32_t ip : random_sources(100000, 4)) ++flows[pick(t, s, {}, ip, 0)];
  for (size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(flows[i] / 1e5, w[i] / 10.0, w[i] * 0.005);
}

TEST(Mh, RebuildWithTheSameDestsGivesTheSameTable) {
  auto d = dests_with({1, 3, 1, 2, 5});
  auto a = must_build(SchedulerKind::mh, d);
  auto b = must_build(SchedulerKind::mh, d);
  EXPECT_TRUE(std::equal(a.table().begin(), a.table().end(), b.table().begin(), b.table().end()));
  // Thresholds are not part of the table.
  d[1].upper_threshold = 7;
  auto c = must_build(SchedulerKind::mh, d);
  EXPECT_TRUE(std::equal(a.table().begin(), a.table().end(), c.table().begin(), c.table().end()));
}

struct Disruption {
  double slots, flows;
};

// Fraction of table slots and of 100k random flows whose real server changed between two builds.
Disruption disruption(const std::vector<SchedDest>& before, const std::vector<SchedDest>& after,
                      const SchedOptions& options = {}) {
  auto a = must_build(SchedulerKind::mh, before, options);
  auto b = must_build(SchedulerKind::mh, after, options);
  return {changed_fraction(slot_identities(a), slot_identities(b)),
          flows_moved(a, b, random_sources(100000, 5))};
}

// Several address plans, so that the figures do not hinge on one lucky set of permutations.
constexpr uint32_t kBases[] = {0x0a000001, 0x0a010a01, 0xac100501, 0xc0a8010a, 0x64400001};

TEST(Mh, AddingADestMovesAboutOneInNPlusOne) {
  constexpr int kN = 10;
  double worst = 0;
  for (uint32_t base : kBases) {
    auto d = disruption(dests_with(std::vector<uint32_t>(kN, 1), base),
                        dests_with(std::vector<uint32_t>(kN + 1, 1), base));
    std::cout << "mh add 1 dest to N=" << kN << " M=65537 (base " << std::hex << base << std::dec
              << "): slots changed " << d.slots << ", flows moved " << d.flows
              << " (ideal 1/(N+1) = " << 1.0 / (kN + 1) << ")\n";
    EXPECT_LT(d.slots, 1.5 / (kN + 1));
    EXPECT_LT(d.flows, 1.5 / (kN + 1));
    EXPECT_GE(d.slots, 1.0 / (kN + 1) * 0.95);  // the newcomer gets its share
    worst = std::max(worst, d.slots);
  }
  std::cout << "mh add 1 dest to N=" << kN << ": worst slots changed " << worst << " = "
            << worst * (kN + 1) << " x ideal\n";
}

// Maglev's excess disruption grows with N/M: the default M keeps it moderate at N=100, a larger
// pinned M brings it back toward the ideal.
TEST(Mh, LargerTablesDisruptLessAtLargerN) {
  constexpr int kN = 100;
  for (uint32_t m : {0u, 655373u}) {
    auto d = disruption(dests_with(std::vector<uint32_t>(kN, 1)),
                        dests_with(std::vector<uint32_t>(kN + 1, 1)), {.mh_table_size = m});
    std::cout << "mh add 1 dest to N=" << kN << " M=" << (m ? m : 65537) << ": slots changed "
              << d.slots << " = " << d.slots * (kN + 1) << " x ideal, flows moved " << d.flows
              << "\n";
    EXPECT_LT(d.slots, (m ? 1.3 : 2.0) / (kN + 1));
  }
}

TEST(Mh, AutomaticSizeDoesNotChangeWithEveryDestAboveSixHundred) {
  auto a = must_build(SchedulerKind::mh, dests_with(std::vector<uint32_t>(1000, 1)));
  auto b = must_build(SchedulerKind::mh, dests_with(std::vector<uint32_t>(1001, 1)));
  ASSERT_EQ(a.table().size(), b.table().size());
  double slots = changed_fraction(slot_identities(a), slot_identities(b));
  std::cout << "mh add 1 dest to N=1000 M=" << a.table().size() << ": slots changed " << slots
            << " = " << slots * 1001 << " x ideal\n";
  EXPECT_LT(slots, 0.01);
}

TEST(Mh, RemovingADestMovesItsFlowsAndLittleElse) {
  constexpr int kN = 10;
  for (uint32_t base : kBases) {
    for (int gone : {0, 3, 9}) {
      auto all = dests_with(std::vector<uint32_t>(kN, 1), base);
      auto fewer = all;
      fewer.erase(fewer.begin() + gone);  // indexes shift; identities do not
      auto d = disruption(all, fewer);
      std::cout << "mh remove dest " << gone << " of N=" << kN << " (base " << std::hex << base
                << std::dec << "): slots changed " << d.slots << ", flows moved " << d.flows
                << " (ideal 1/N = " << 1.0 / kN << ")\n";
      EXPECT_LE(d.slots, 1.0 / kN + 0.02);
      EXPECT_LE(d.flows, 1.0 / kN + 0.02);
    }
  }
  // Quiescing (weight 0) instead of removing gives the same table as without the dest.
  auto all = dests_with(std::vector<uint32_t>(kN, 1));
  auto fewer = all;
  fewer.erase(fewer.begin() + 3);
  auto quiesced = all;
  quiesced[3].weight = 0;
  EXPECT_EQ(slot_identities(must_build(SchedulerKind::mh, quiesced)),
            slot_identities(must_build(SchedulerKind::mh, fewer)));
}

TEST(Mh, DoublingOneWeightMovesLittleMoreThanTheShareItGains) {
  constexpr int kN = 10;
  auto before = dests_with(std::vector<uint32_t>(kN, 1));
  auto after = before;
  after[4].weight = 2;
  auto d = disruption(before, after);
  double ideal = 2.0 / (kN + 1) - 1.0 / kN;  // share gained by dest 4
  std::cout << "mh weight 1 -> 2 for one of N=" << kN << ": slots changed " << d.slots
            << ", flows moved " << d.flows << " (ideal " << ideal << ")\n";
  EXPECT_LT(d.slots, 2 * ideal);
}

TEST(Mh, FallsBackToTheNextAvailableEntry) {
  auto t = must_build(SchedulerKind::mh, dests_with({1, 1, 1, 1, 1}));
  auto tab = t.table();
  SchedState s;
  std::vector<DestLoad> load(5);
  std::vector<int> spread(5);
  for (uint32_t ip : random_sources(5000, 7)) {
    int d = pick(t, s, load, ip, 0);
    load[d].overloaded = true;
    int f = pick(t, s, load, ip, 0);
    ASSERT_GE(f, 0);
    size_t at = (uint64_t{sched_flow_hash(ip, 0, false)} * tab.size()) >> 32;
    while (tab[at] == d) at = (at + 1) % tab.size();
    EXPECT_EQ(f, tab[at]);
    if (d == 0) ++spread[f];
    load[d].overloaded = false;
  }
  // A failed dest's flows spread over the others instead of landing on one neighbour.
  for (int i = 1; i < 5; ++i) EXPECT_GT(spread[i], 100) << i;
}

TEST(Mh, PortFlagAndTableSizeOption) {
  auto t = must_build(SchedulerKind::mh, dests_with({1, 1, 1}),
                      {.hash_port = true, .mh_table_size = 251});
  EXPECT_EQ(t.table().size(), 251u);
  SchedState s;
  std::vector<int> count(3);
  for (uint16_t port = 1; port <= 3000; ++port) ++count[pick(t, s, {}, 0x0100000a, port)];
  for (int c : count) EXPECT_GT(c, 800);

  EXPECT_FALSE(SchedulerTable::build(SchedulerKind::mh, dests_with({1}), {.mh_table_size = 250}));
  EXPECT_FALSE(
      SchedulerTable::build(SchedulerKind::mh, dests_with({1, 1, 1}), {.mh_table_size = 3}));
  EXPECT_FALSE(SchedulerTable::build(SchedulerKind::mh, dests_with({1}),
                                     {.mh_table_size = (1u << 24) + 43}));
}

TEST(Mh, LargeServiceUsesAHundredSlotsPerDest) {
  auto t = must_build(SchedulerKind::mh, dests_with(std::vector<uint32_t>(1000, 1)));
  EXPECT_EQ(t.table().size(), 131071u);  // the ladder step above 100 * 1000
  EXPECT_TRUE(is_prime(uint32_t(t.table().size())));
  std::vector<int> slots(1000);
  for (auto i : t.table()) ++slots[i];
  EXPECT_GT(*std::min_element(slots.begin(), slots.end()), 90);
}

TEST(Mh, RejectsDuplicateIdentities) {
  auto d = dests_with({1, 1});
  d[1].identity = d[0].identity;
  auto t = SchedulerTable::build(SchedulerKind::mh, d);
  ASSERT_FALSE(t);
  EXPECT_NE(t.message().find("identity"), std::string::npos);
  d[1].weight = 0;  // a quiesced duplicate takes no slot
  EXPECT_TRUE(SchedulerTable::build(SchedulerKind::mh, d));
}

// --- all kinds ----------------------------------------------------------------------------------

TEST(AllKinds, EmptyOrAllWeightZeroPicksNothing) {
  for (auto kind : kAllKinds) {
    for (auto weights : {std::vector<uint32_t>{}, std::vector<uint32_t>{0, 0, 0}}) {
      auto t = SchedulerTable::build(kind, dests_with(weights));
      ASSERT_TRUE(t) << scheduler_name(kind);
      SchedState s;
      std::vector<DestLoad> load(weights.size());
      for (uint32_t ip : random_sources(50, 8)) EXPECT_EQ(pick(*t, s, load, ip, 80), -1);
    }
  }
  SchedState s;
  EXPECT_EQ(pick(SchedulerTable{}, s, {}, 1, 2), -1);
}

TEST(AllKinds, AllOverloadedPicksNothingAndRecovers) {
  for (auto kind : kAllKinds) {
    auto t = must_build(kind, dests_with({1, 2, 3}));
    SchedState s;
    std::vector<DestLoad> load(3, DestLoad{0, 0, true});
    EXPECT_EQ(pick(t, s, load, 7, 7), -1) << scheduler_name(kind);
    load[1].overloaded = false;
    for (uint32_t ip : random_sources(20, 9)) EXPECT_EQ(pick(t, s, load, ip, 7), 1);
  }
}

TEST(AllKinds, RejectsMoreDestsThanIndexesFit) {
  std::vector<SchedDest> many(SchedulerTable::kMaxDests + 1, SchedDest{1, 0, 0, 0});
  EXPECT_FALSE(SchedulerTable::build(SchedulerKind::rr, many));
}

TEST(AllKinds, InitialStateSpreadsWorkers) {
  auto rr = must_build(SchedulerKind::rr, dests_with({1, 1, 1, 1}));
  EXPECT_EQ(initial_sched_state(rr, 0, 2).rr_next, 0u);
  EXPECT_EQ(initial_sched_state(rr, 1, 2).rr_next, 2u);
  auto wrr = must_build(SchedulerKind::wrr, dests_with({3, 1, 2}));
  EXPECT_EQ(initial_sched_state(wrr, 1, 2).wrr_pos, 3u);
  EXPECT_EQ(initial_sched_state(wrr, 5, 0).wrr_pos, 0u);
}

// --- thresholds ---------------------------------------------------------------------------------

TEST(Thresholds, UpperSetsLowerClears) {
  EXPECT_FALSE(update_overload(false, 9, 10, 5));
  EXPECT_TRUE(update_overload(false, 10, 10, 5));  // >= upper
  EXPECT_TRUE(update_overload(true, 9, 10, 5));    // hysteresis: stays until below lower
  EXPECT_TRUE(update_overload(true, 5, 10, 5));
  EXPECT_FALSE(update_overload(true, 4, 10, 5));
  EXPECT_FALSE(update_overload(false, 9, 10, 5));
}

TEST(Thresholds, LowerDefaultsToThreeQuartersOfUpper) {
  EXPECT_TRUE(update_overload(false, 100, 100, 0));
  EXPECT_TRUE(update_overload(true, 75, 100, 0));
  EXPECT_FALSE(update_overload(true, 74, 100, 0));
  EXPECT_TRUE(update_overload(true, 3, 4, 0));  // 3*4 = 12 is not < 4*3
  EXPECT_FALSE(update_overload(true, 2, 4, 0));
  EXPECT_FALSE(update_overload(false, 0xffffffffu, 0, 0));  // no thresholds: never
  EXPECT_FALSE(update_overload(true, 0xffffffffu, 0, 0));   // and a stale flag clears
  EXPECT_TRUE(update_overload(true, 0xffffffffu, 0xffffffffu, 0));
  EXPECT_TRUE(update_overload(true, 0xc0000000u, 0xffffffffu, 0));  // no 32-bit overflow
}

TEST(Thresholds, EditingTheUpperThreshold) {
  EXPECT_FALSE(overload_after_threshold_change(true, 10, 0));
  EXPECT_FALSE(overload_after_threshold_change(true, 10, 20));
  EXPECT_TRUE(overload_after_threshold_change(true, 10, 10));
  EXPECT_TRUE(overload_after_threshold_change(true, 10, 5));
  EXPECT_FALSE(overload_after_threshold_change(false, 10, 5));
}

TEST(Thresholds, ThresholdsReachTheCallerThroughTheTable) {
  auto d = dests_with({1});
  d[0].upper_threshold = 8;
  d[0].lower_threshold = 2;
  auto t = must_build(SchedulerKind::wlc, d);
  EXPECT_EQ(t.dests()[0].upper_threshold, 8u);
  EXPECT_EQ(t.dests()[0].lower_threshold, 2u);
}

}  // namespace
}  // namespace vsgate
