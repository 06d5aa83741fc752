// The debug.* commands exist only with [global] debug_commands = yes; through the real
// dispatch they stall a worker and pause the exception path.
#include "app/commands/debug_commands.h"

#include <gtest/gtest.h>

#include "app/clock.h"
#include "app/dispatch.h"

namespace vsgate {
namespace {

using test::dispatch;

class DebugCommandsTest : public ::testing::Test {
 protected:
  DebugCommandsTest() : exception_path({}, {}) {
    for (unsigned i = 0; i < 2; ++i) {
      workers.push_back(std::make_unique<Worker>());
      workers.back()->index = i;
    }
  }
  void enable(bool on) {
    GlobalConfig global;
    global.debug_commands = on;
    register_debug_commands(table, global, {workers, exception_path});
  }

  std::vector<std::unique_ptr<Worker>> workers;
  ExceptionPathIo exception_path;
  CommandTable table;
};

TEST_F(DebugCommandsTest, AbsentByDefault) {
  enable(GlobalConfig{}.debug_commands);
  for (const char* c : {"debug.stall_worker", "debug.pause_exception_path"}) {
    EXPECT_FALSE(table.contains(c)) << c;
    EXPECT_EQ(dispatch(table, c).error, std::string("unknown command '") + c + "'");
  }
  EXPECT_EQ(workers[0]->stall_until_tsc.load(), 0u);
  EXPECT_EQ(exception_path.paused_until(), 0u);
}

TEST_F(DebugCommandsTest, StallWorker) {
  enable(true);
  auto r = dispatch(table, "debug.stall_worker", {{"worker", 1}, {"seconds", 3}});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result, (Json{{"worker", 1}, {"seconds", 3}}));
  EXPECT_EQ(workers[0]->stall_until_tsc.load(), 0u);
  EXPECT_GT(workers[1]->stall_until_tsc.load(), 0u);

  r = dispatch(table, "debug.stall_worker");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result, (Json{{"worker", 0}, {"seconds", 10}})) << "the defaults";
  EXPECT_EQ(dispatch(table, "debug.stall_worker", {{"worker", 2}}).error, "no such worker: 2");
  EXPECT_EQ(dispatch(table, "debug.stall_worker", {{"seconds", 0}}).error,
            "seconds must be 1..3600");
  EXPECT_EQ(dispatch(table, "debug.stall_worker", {{"seconds", 3601}}).error,
            "seconds must be 1..3600");
  EXPECT_FALSE(dispatch(table, "debug.stall_worker", {{"worker", "one"}}).ok);
}

TEST_F(DebugCommandsTest, PauseExceptionPath) {
  enable(true);
  const uint64_t before = monotonic_us();
  auto r = dispatch(table, "debug.pause_exception_path", {{"seconds", 4}});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result, (Json{{"seconds", 4}}));
  EXPECT_GE(exception_path.paused_until(), before + 4000000);
  EXPECT_LE(exception_path.paused_until(), monotonic_us() + 4000000);
  EXPECT_EQ(exception_path.poll(before), 0u) << "paused: nothing moves";

  r = dispatch(table, "debug.pause_exception_path");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result, (Json{{"seconds", 5}})) << "the default";
  EXPECT_EQ(dispatch(table, "debug.pause_exception_path", {{"seconds", 0}}).error,
            "seconds must be 1..3600");
}

}  // namespace
}  // namespace vsgate
