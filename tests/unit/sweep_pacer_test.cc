// The expiry sweep's pace (lb/core/sweep_pacer.h): the whole table once per period of the
// connection clock, in bounded steps, whatever the rate of loop turns.
#include "lb/core/sweep_pacer.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace vsgate {
namespace {

TEST(SweepPacer, FirstCallStartsTheClockAndTheSameTickOwesNothing) {
  SweepPacer p(16, 256);
  EXPECT_EQ(p.due(100, 1024), 0u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(p.due(100, 1024), 0u);  // many turns, one tick
}

TEST(SweepPacer, EachTickOwesCapacityOverPeriod) {
  SweepPacer p(16, 256);
  p.due(0, 1024);
  EXPECT_EQ(p.due(1, 1024), 64u);
  EXPECT_EQ(p.due(1, 1024), 0u);
  EXPECT_EQ(p.due(3, 1024), 128u);
}

// Over one period, tick by tick, exactly the whole table is owed: the remainder of
// capacity / period carries from tick to tick.
TEST(SweepPacer, OnePeriodCoversTheWholeTableExactly) {
  for (const size_t cap : {size_t{1000}, size_t{1024}, size_t{7}, size_t{1} << 20}) {
    SCOPED_TRACE(cap);
    SweepPacer p(16, UINT32_MAX);
    p.due(0, cap);
    uint64_t total = 0;
    for (uint32_t t = 1; t <= 16; ++t) total += p.due(t, cap);
    EXPECT_EQ(total, cap);
  }
}

TEST(SweepPacer, AtMostMaxPerTurnTheRestWaitsForLaterTurns) {
  SweepPacer p(16, 100);
  p.due(0, 1024);
  uint64_t total = 0;
  unsigned turns = 0;
  for (uint32_t n; (n = p.due(16, 1024)) != 0; ++turns) {
    EXPECT_LE(n, 100u);
    total += n;
  }
  EXPECT_EQ(total, 1024u);
  EXPECT_EQ(turns, 11u);  // 10 x 100 + 24
}

// After a long stall (or a huge jump of the clock) one table is owed, not many.
TEST(SweepPacer, NeverOwesMoreThanOneTable) {
  SweepPacer p(16, UINT32_MAX);
  p.due(0, 1024);
  EXPECT_EQ(p.due(100000, 1024), 1024u);
  EXPECT_EQ(p.due(100000, 1024), 0u);
  EXPECT_EQ(p.owed(), 0u);
}

TEST(SweepPacer, AClockSampleGoingBackwardsAddsNothing) {
  SweepPacer p(16, UINT32_MAX);
  p.due(50, 1024);
  EXPECT_EQ(p.due(40, 1024), 0u);
  EXPECT_EQ(p.due(51, 1024), 64u);  // measured from 50, not from 40
}

TEST(SweepPacer, TheTickCounterWraps) {
  SweepPacer p(16, UINT32_MAX);
  p.due(UINT32_MAX - 1, 1024);
  EXPECT_EQ(p.due(0, 1024), 128u);  // two ticks across the wrap
}

}  // namespace
}  // namespace vsgate
