#include "eal/eal_args.h"

#include <gtest/gtest.h>

namespace vsgate {
namespace {

Config config(unsigned workers, std::vector<std::string> eal) {
  Config c;
  c.global.workers = workers;
  c.eal.args = std::move(eal);
  return c;
}

TEST(EalArgs, LcoresDerivedFromWorkersWrapAroundCpus) {
  auto a = build_eal_args(config(3, {"--no-pci", "--no-huge"}), {}, {0, 1});
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a[0], "vsgated");
  EXPECT_EQ(a[1], "--no-pci");
  EXPECT_EQ(a[2], "--no-huge");
  EXPECT_EQ(a[3], "--lcores=0@0,1@1,2@0,3@1");
}

TEST(EalArgs, UsesTheAllowedCpusNotZeroToN) {
  auto a = build_eal_args(config(1, {}), {}, {2, 5});
  EXPECT_EQ(a.back(), "--lcores=0@2,1@5");
}

TEST(EalArgs, UserCoreOptionsWin) {
  for (auto opt : std::vector<std::vector<std::string>>{
           {"-l", "0-3"}, {"-l0-3"}, {"-c", "0xf"}, {"--lcores", "0@0"}, {"--lcores=0@0"}}) {
    auto a = build_eal_args(config(2, opt), {}, {0, 1});
    for (const auto& arg : a) EXPECT_FALSE(arg.starts_with("--lcores=0@0,")) << opt[0];
    EXPECT_EQ(a.size(), 1 + opt.size()) << opt[0];
  }
}

TEST(EalArgs, ExtraArgumentsFromTheCommandLineComeAfterTheConfig) {
  auto a = build_eal_args(config(1, {"--no-pci"}), {"--log-level=8", "-l", "0-1"}, {0, 1});
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a[1], "--no-pci");
  EXPECT_EQ(a[2], "--log-level=8");
  EXPECT_EQ(a[4], "0-1");
}

}  // namespace
}  // namespace vsgate
