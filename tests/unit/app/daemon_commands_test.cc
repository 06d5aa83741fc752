// version and status through the real dispatch; status follows the LbControl's counter resets.
#include "app/commands/daemon_commands.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "app/clock.h"
#include "app/commands/lb_commands.h"
#include "app/dispatch.h"

namespace vsgate {
namespace {

using test::dispatch;

TEST(DaemonCommands, VersionNamesVsgateAndDpdk) {
  NeighbourResolver resolver;
  LbControl lb(
      1, resolver, [] {}, 0);
  CommandTable table;
  register_daemon_commands(table, {{}, lb});
  auto r = dispatch(table, "version");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result["version"], VSGATE_VERSION);
  EXPECT_EQ(r.result["dpdk"].get<std::string>().rfind("DPDK ", 0), 0u) << r.line;
}

TEST(DaemonCommands, StatusSaysWhoRunsSinceWhenAndSinceWhenCountersCount) {
  NeighbourResolver resolver;
  const uint64_t start_unix = unix_time_us() - 5000000;
  LbControl lb(
      2, resolver, [] {}, start_unix);
  ConnListing listing({});
  CommandTable table;
  register_daemon_commands(table, {{start_unix, monotonic_us() - 3000000, 2, 3}, lb});
  register_lb_commands(table, {lb, listing});

  auto r = dispatch(table, "status");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result["version"], VSGATE_VERSION);
  EXPECT_EQ(r.result["pid"], static_cast<int64_t>(getpid()));
  EXPECT_EQ(r.result["started_us"], start_unix);
  EXPECT_GE(r.result["uptime_ms"].get<uint64_t>(), 3000u);
  EXPECT_LT(r.result["uptime_ms"].get<uint64_t>(), 60000u);
  EXPECT_EQ(r.result["stats_reset_us"], start_unix) << "counters count from the start";
  EXPECT_EQ(r.result["workers"], 2);
  EXPECT_EQ(r.result["ports"], 3);

  ASSERT_TRUE(dispatch(table, "lb.zero").ok);
  const uint64_t reset = dispatch(table, "status").result["stats_reset_us"].get<uint64_t>();
  EXPECT_GT(reset, start_unix) << "lb.zero is a counter discontinuity";
  EXPECT_EQ(reset, lb.stats_reset_unix_us());
}

}  // namespace
}  // namespace vsgate
