// LogLimiter: a line that would repeat every loop turn is logged once, then at most once per
// interval with the number left out.
#include "common/log_limiter.h"

#include <gtest/gtest.h>

namespace vsgate {
namespace {

TEST(LogLimiter, FirstLineThenOncePerIntervalWithTheCountLeftOut) {
  LogLimiter limiter(1000);
  uint64_t suppressed = 99;
  ASSERT_TRUE(limiter.allow(5000, suppressed));
  EXPECT_EQ(suppressed, 0u);
  for (uint64_t t = 5001; t < 6000; t += 10) EXPECT_FALSE(limiter.allow(t, suppressed)) << t;
  EXPECT_EQ(limiter.pending_suppressed(), 100u);
  ASSERT_TRUE(limiter.allow(6000, suppressed));
  EXPECT_EQ(suppressed, 100u);
  EXPECT_FALSE(limiter.allow(6001, suppressed));
  limiter.reset();  // the condition ended: the next line is logged at once, with the count
  ASSERT_TRUE(limiter.allow(6002, suppressed));
  EXPECT_EQ(suppressed, 1u);
}

TEST(LogLimiter, DefaultsToOnceAMinute) {
  LogLimiter limiter;
  uint64_t suppressed = 0;
  EXPECT_TRUE(limiter.allow(0, suppressed));
  EXPECT_FALSE(limiter.allow(59'999'999, suppressed));
  EXPECT_TRUE(limiter.allow(60'000'000, suppressed));
  EXPECT_EQ(suppressed, 1u);
}

TEST(LogLimiter, SuppressedNote) {
  EXPECT_EQ(suppressed_note(0), "");
  EXPECT_EQ(suppressed_note(7), " (7 similar messages suppressed)");
}

}  // namespace
}  // namespace vsgate
