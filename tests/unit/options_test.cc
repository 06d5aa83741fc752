#include "config/options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vsgate {
namespace {

Result<DaemonOptions> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "vsgated");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);  // like a real argv
  return parse_daemon_options(static_cast<int>(args.size()), argv.data());
}

TEST(DaemonOptions, Defaults) {
  auto r = Parse({});
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->config_path, "/etc/vsgate/vsgate.conf");
  EXPECT_FALSE(r->check);
  EXPECT_FALSE(r->version);
  EXPECT_FALSE(r->help);
  EXPECT_TRUE(r->eal_extra.empty());
}

TEST(DaemonOptions, NoArgvAtAll) {
  auto r = parse_daemon_options(0, nullptr);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->config_path, "/etc/vsgate/vsgate.conf");
}

TEST(DaemonOptions, ConfigSeparateValue) {
  auto r = Parse({"--config", "/tmp/a.conf"});
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->config_path, "/tmp/a.conf");
}

TEST(DaemonOptions, ConfigEqualsValue) {
  auto r = Parse({"--config=/tmp/b.conf"});
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->config_path, "/tmp/b.conf");
}

TEST(DaemonOptions, ConfigShortForm) {
  auto r = Parse({"-c", "/tmp/c.conf"});
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->config_path, "/tmp/c.conf");
}

TEST(DaemonOptions, Check) {
  auto r = Parse({"--check", "--config", "x.conf"});
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_TRUE(r->check);
  EXPECT_EQ(r->config_path, "x.conf");
  EXPECT_FALSE(r->version);
  EXPECT_FALSE(r->help);
}

TEST(DaemonOptions, Version) {
  auto r = Parse({"--version"});
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_TRUE(r->version);
  EXPECT_FALSE(r->check);
}

TEST(DaemonOptions, Help) {
  auto r = Parse({"--help"});
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_TRUE(r->help);
  auto h = Parse({"-h"});
  ASSERT_TRUE(h.ok()) << h.message();
  EXPECT_TRUE(h->help);
}

TEST(DaemonOptions, EalPassthroughIsVerbatim) {
  auto r = Parse({"--config", "a.conf", "--", "--no-pci", "-l", "0-1", "--vdev=net_tap0,iface=t",
                  "--", "--config", "--help", "junk", ""});
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->config_path, "a.conf");
  EXPECT_FALSE(r->help);  // "--help" after "--" belongs to the EAL
  EXPECT_EQ(r->eal_extra,
            (std::vector<std::string>{"--no-pci", "-l", "0-1", "--vdev=net_tap0,iface=t", "--",
                                      "--config", "--help", "junk", ""}));
}

TEST(DaemonOptions, EalPassthroughAlone) {
  auto r = Parse({"--", "--log-level=debug"});
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->config_path, "/etc/vsgate/vsgate.conf");
  EXPECT_EQ(r->eal_extra, (std::vector<std::string>{"--log-level=debug"}));
}

TEST(DaemonOptions, TrailingDoubleDashGivesNoExtra) {
  auto r = Parse({"--check", "--"});
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_TRUE(r->check);
  EXPECT_TRUE(r->eal_extra.empty());
}

TEST(DaemonOptions, UnknownOption) {
  auto r = Parse({"--bogus"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("--bogus"), std::string::npos) << r.message();
}

TEST(DaemonOptions, UnknownShortOption) {
  auto r = Parse({"-x"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("-x"), std::string::npos) << r.message();
}

TEST(DaemonOptions, EalOptionBeforeDoubleDashIsUnknown) {
  auto r = Parse({"--no-pci"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("--no-pci"), std::string::npos) << r.message();
}

TEST(DaemonOptions, AbbreviationsAreNotGuessed) {
  auto r = Parse({"--conf", "a.conf"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("--conf"), std::string::npos) << r.message();
}

TEST(DaemonOptions, MissingValue) {
  auto r = Parse({"--config"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("--config"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("missing"), std::string::npos) << r.message();
}

TEST(DaemonOptions, MissingValueBeforeDoubleDash) {
  auto r = Parse({"--config", "--", "--no-pci"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("--config"), std::string::npos) << r.message();
}

TEST(DaemonOptions, EmptyConfigPath) {
  auto r = Parse({"--config="});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("--config"), std::string::npos) << r.message();
}

TEST(DaemonOptions, ConfigGivenTwice) {
  auto r = Parse({"--config", "a", "--config", "b"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("--config"), std::string::npos) << r.message();
}

TEST(DaemonOptions, SwitchWithValue) {
  auto r = Parse({"--check=yes"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("--check"), std::string::npos) << r.message();
}

TEST(DaemonOptions, PositionalJunk) {
  auto r = Parse({"--check", "junk"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("junk"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("\"--\""), std::string::npos) << r.message();
}

TEST(DaemonOptions, Usage) {
  std::string u = daemon_usage();
  for (const char* word : {"Usage: vsgated", "--config", "PATH", "/etc/vsgate/vsgate.conf",
                           "--check", "--version", "--help", "-- EAL-ARGS", "rte_eal_init"})
    EXPECT_NE(u.find(word), std::string::npos) << word << " missing from:\n" << u;
}

}  // namespace
}  // namespace vsgate
