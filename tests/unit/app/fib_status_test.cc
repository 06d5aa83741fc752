// The forwarding tables' state where operators see it: route.show / neigh.show (`fib`), status
// (`fib`, for vsgate-snmp) and the words of the STATUS= line.
#include <gtest/gtest.h>

#include "app/clock.h"
#include "app/commands/daemon_commands.h"
#include "app/commands/host_commands.h"
#include "app/dispatch.h"
#include "app/systemd_status.h"

namespace vsgate {
namespace {

using test::dispatch;

FibStatus stale_routes() {
  FibStatus s;
  s.routes.ok = false;
  s.routes.installed = 4096;
  s.routes.wanted = 5000;
  s.routes.stale_since_us = 1'700'000'000'000'000;
  s.routes.failed_builds = 3;
  s.routes.reason = "too many routes: 5000 (max 4096)";
  s.routes.retry_at_us = monotonic_us() + 8'000'000;
  s.neighbours.installed = 3;
  s.neighbours.wanted = 3;
  s.published = 7;
  return s;
}

TEST(FibStatus, RouteAndNeighShowCarryTheTableState) {
  HostStackMirror mirror;
  const FibStatus fib = stale_routes();
  CommandTable table;
  register_host_commands(
      table,
      {mirror, {[](uint16_t) { return "dpdk0"; }, [](uint16_t) { return "dpdk0.kni"; }}, &fib});
  auto r = dispatch(table, "route.show");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result["routes"], Json::array());
  const Json& routes = r.result["fib"];
  EXPECT_EQ(routes["state"], "stale");
  EXPECT_EQ(routes["installed"], 4096);
  EXPECT_EQ(routes["wanted"], 5000);
  EXPECT_EQ(routes["stale_since_us"], 1'700'000'000'000'000u);
  EXPECT_EQ(routes["failed_builds"], 3);
  EXPECT_EQ(routes["reason"], "too many routes: 5000 (max 4096)");
  EXPECT_GT(routes["retry_in_ms"].get<uint64_t>(), 7000u);
  EXPECT_LE(routes["retry_in_ms"].get<uint64_t>(), 8000u);
  r = dispatch(table, "neigh.show");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result["fib"], (Json{{"state", "ok"},
                                   {"installed", 3},
                                   {"wanted", 3},
                                   {"stale_since_us", 0},
                                   {"failed_builds", 0},
                                   {"reason", ""},
                                   {"retry_in_ms", 0}}));
}

TEST(FibStatus, StatusCarriesBothTables) {
  NeighbourResolver resolver;
  LbControl lb(
      1, resolver, [] {}, 0);
  const FibStatus fib = stale_routes();
  CommandTable table;
  register_daemon_commands(table, {{}, lb, &fib});
  auto r = dispatch(table, "status");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result["fib"]["routes"]["state"], "stale");
  EXPECT_EQ(r.result["fib"]["neighbours"]["state"], "ok");
  EXPECT_EQ(r.result["fib"]["neighbours"]["installed"], 3);
  EXPECT_EQ(r.result["fib"]["published"], 7);
}

TEST(FibStatus, SystemdStatusWords) {
  FibStatus fib;
  fib.routes.installed = fib.routes.wanted = 5600;
  fib.neighbours.installed = fib.neighbours.wanted = 2;
  EXPECT_EQ(fib_status_words(fib, 0), "routes 5600, neighbours 2");
  fib = stale_routes();
  EXPECT_EQ(fib_status_words(fib, fib.routes.stale_since_us + 42'500'000),
            "routes STALE 42 s (4096 of 5000 kept: too many routes: 5000 (max 4096)), "
            "neighbours 3");
  fib.routes.reason = std::string(200, 'x');
  const std::string words = fib_status_words(fib, 0);
  EXPECT_LT(words.size(), 150u) << "a long reason is cut short: " << words;
  EXPECT_NE(words.find("...)"), std::string::npos);
}

}  // namespace
}  // namespace vsgate
