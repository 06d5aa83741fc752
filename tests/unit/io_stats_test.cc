// Per-lcore counters: single writer, summed by a reader on another thread.
#include "lcore/io_stats.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "ipv4/drop_reasons.h"

namespace vsgate {
namespace {

TEST(IoStats, CountersAreCacheLineAligned) {
  EXPECT_EQ(alignof(WorkerStats), 64u);
  EXPECT_EQ(sizeof(WorkerStats) % 64, 0u);
  EXPECT_EQ(alignof(ExceptionPathStats), 64u);
}

TEST(IoStats, SumOverWorkers) {
  auto a = std::make_unique<WorkerStats>(), b = std::make_unique<WorkerStats>();
  a->rx_packets.add(10);
  a->rx_bursts.add(4);
  b->rx_packets.add(5);
  b->rx_bursts.add(1);
  a->forwarded.add(7);
  b->punted.add(3);
  b->punt_drops.inc();
  a->drop(Ipv4Drop::runt);
  b->drop(Ipv4Drop::runt);
  b->drop(Ipv4Drop::bad_checksum);
  std::vector<const WorkerStats*> all{a.get(), b.get()};
  const WorkerTotals t = sum_worker_stats(all);
  EXPECT_EQ(t.rx_packets, 15u);
  EXPECT_EQ(t.rx_bursts, 5u);
  EXPECT_EQ(t.forwarded, 7u);
  EXPECT_EQ(t.punted, 3u);
  EXPECT_EQ(t.punt_drops, 1u);
  EXPECT_EQ(t.dropped[static_cast<size_t>(drop_id(Ipv4Drop::runt))], 2u);
  EXPECT_EQ(t.dropped_total(), 3u);
  EXPECT_EQ(a->dropped_total(), 1u);
}

TEST(IoStats, EmptySetSumsToZero) {
  std::vector<const WorkerStats*> none;
  EXPECT_EQ(sum_worker_stats(none).rx_packets, 0u);
}

// Writers count on their own threads while the reader sums: every sum is monotonic and the
// final one is exact (no lost updates, no torn values).
TEST(IoStats, ConcurrentWritersAndReader) {
  constexpr int kWorkers = 3;
  constexpr uint64_t kPerWorker = 200000;
  std::vector<std::unique_ptr<WorkerStats>> stats;
  std::vector<const WorkerStats*> view;
  for (int i = 0; i < kWorkers; ++i) {
    stats.push_back(std::make_unique<WorkerStats>());
    view.push_back(stats.back().get());
  }
  std::atomic<int> done{0};
  std::vector<std::thread> writers;
  for (int i = 0; i < kWorkers; ++i)
    writers.emplace_back([&, i] {
      for (uint64_t n = 0; n < kPerWorker; ++n) {
        stats[i]->rx_packets.inc();
        stats[i]->tx_packets.add(2);
      }
      done.fetch_add(1);
    });
  uint64_t last = 0;
  while (done.load() < kWorkers) {
    const WorkerTotals t = sum_worker_stats(view);
    ASSERT_GE(t.rx_packets, last);
    last = t.rx_packets;
  }
  for (auto& w : writers) w.join();
  const WorkerTotals t = sum_worker_stats(view);
  EXPECT_EQ(t.rx_packets, kWorkers * kPerWorker);
  EXPECT_EQ(t.tx_packets, 2 * kWorkers * kPerWorker);
}

}  // namespace
}  // namespace vsgate
