#include "kni/mirror/proc_arp.h"

#include <gtest/gtest.h>

#include <string>

namespace vsgate {
namespace {

const std::string kDataDir = std::string(VSGATE_TEST_DATA_DIR) + "/proc_arp/";

std::vector<ProcArpEntry> parse_fixture(const std::string& name) {
  auto r = read_proc_arp(kDataDir + name);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.message());
  return r.ok() ? r.value() : std::vector<ProcArpEntry>{};
}

ProcArpEntry entry(const char* ip, const char* mac, unsigned flags, const char* dev) {
  return ProcArpEntry{*IpAddr::parse(ip), *MacAddr::parse(mac), flags, dev};
}

TEST(ProcArp, TypicalKeepsOnlyCompleteEntries) {
  auto entries = parse_fixture("typical.txt");
  std::vector<ProcArpEntry> want = {
      entry("10.0.0.254", "52:54:00:aa:bb:01", 0x2, "dpdk0.kni"),
      entry("10.0.0.20", "52:54:00:aa:bb:14", 0x2, "dpdk0.kni"),
      entry("10.0.0.30", "02:00:00:00:00:1e", 0x6, "dpdk0.kni"),
      entry("10.1.0.1", "52:54:00:cc:dd:01", 0x2, "dpdk1.kni"),
      entry("192.0.2.1", "02:fc:00:00:00:05", 0x2, "eth0"),
      entry("172.17.0.2", "02:42:ac:11:00:02", 0x2, "docker0"),
  };
  EXPECT_EQ(entries, want);
}

TEST(ProcArp, EmptyAndHeaderOnly) {
  EXPECT_TRUE(parse_fixture("empty.txt").empty());
  EXPECT_TRUE(parse_fixture("header_only.txt").empty());
  EXPECT_TRUE(parse_proc_arp("").empty());
  EXPECT_TRUE(parse_proc_arp("\n\n\n").empty());
}

TEST(ProcArp, GarbageLinesAreSkipped) {
  auto entries = parse_fixture("garbage.txt");
  std::vector<ProcArpEntry> want = {
      entry("10.0.0.1", "52:54:00:aa:bb:01", 0x2, "dpdk0.kni"),
      entry("10.0.0.9", "52:54:00:aa:bb:09", 0x2, "dpdk0.kni"),
      entry("10.0.0.10", "52:54:00:aa:bb:0a", 0x2, "dpdk0.kni"),
  };
  EXPECT_EQ(entries, want);
}

TEST(ProcArp, HostileInputDoesNotCrash) {
  using namespace std::string_literals;
  EXPECT_TRUE(parse_proc_arp("10.0.0.1\0 0x1 0x2 52:54:00:aa:bb:01 * eth0\n"s).empty());
  EXPECT_TRUE(parse_proc_arp("0x").empty());
  EXPECT_TRUE(parse_proc_arp("10.0.0.1 0x1 0x 52:54:00:aa:bb:01 * eth0").empty());
  EXPECT_TRUE(parse_proc_arp("10.0.0.1 0x1 0xffffffffffffffff 52:54:00:aa:bb:01 * eth0").empty());
  EXPECT_TRUE(parse_proc_arp(std::string(100000, 'x')).empty());
  EXPECT_TRUE(parse_proc_arp(std::string(100000, ' ')).empty());
  // Every prefix of a valid line: either nothing or the one entry, never a crash.
  std::string line = "10.0.0.1         0x1         0x2         52:54:00:aa:bb:01     *        eth0";
  for (size_t n = 0; n <= line.size(); ++n) EXPECT_LE(parse_proc_arp(line.substr(0, n)).size(), 1u);
}

TEST(ProcArp, CompleteFlagAndZeroMacAreBothRequired) {
  EXPECT_TRUE(parse_proc_arp("10.0.0.1 0x1 0x4 52:54:00:aa:bb:01 * eth0").empty());
  EXPECT_TRUE(parse_proc_arp("10.0.0.1 0x1 0x2 00:00:00:00:00:00 * eth0").empty());
  EXPECT_EQ(parse_proc_arp("10.0.0.1 0x1 0x6 52:54:00:aa:bb:01 * eth0").size(), 1u);
}

TEST(ProcArp, MissingFileIsAnErrorNamingThePath) {
  auto r = read_proc_arp(kDataDir + "does-not-exist");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("does-not-exist"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("No such file"), std::string::npos) << r.message();
}

TEST(ProcArp, ReadsTheRealFile) {
  auto r = read_proc_arp();
  if (!r.ok()) GTEST_SKIP() << r.message();
  for (const auto& e : *r) {
    EXPECT_TRUE(e.flags & kArpFlagComplete);
    EXPECT_FALSE(e.mac.is_zero());
    EXPECT_FALSE(e.device.empty());
  }
}

}  // namespace
}  // namespace vsgate
