// neigh.show, route.show and addr.show through the real dispatch, over a HostStackMirror fed
// with the events rtnetlink would send.
#include "app/commands/host_commands.h"

#include <gtest/gtest.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "app/dispatch.h"

namespace vsgate {
namespace {

using test::dispatch;

constexpr int kIf0 = 10, kIf1 = 11;

class HostCommandsTest : public ::testing::Test {
 protected:
  HostCommandsTest() {
    mirror.track(kIf0, 0, "dpdk0.kni");
    mirror.track(kIf1, 1, "dpdk1.kni");
    register_host_commands(table, {mirror,
                                   {[](uint16_t id) {
                                      return id == 0 ? "dpdk0" : id == 1 ? "dpdk1" : "?";
                                    },
                                    [](uint16_t id) { return id == 0 ? "dpdk0.kni" : ""; }}});
  }

  HostStackMirror mirror;
  CommandTable table;
};

TEST_F(HostCommandsTest, EmptyMirrorGivesEmptyTables) {
  EXPECT_EQ(dispatch(table, "neigh.show").result, (Json{{"neighbours", Json::array()}}));
  EXPECT_EQ(dispatch(table, "route.show").result, (Json{{"routes", Json::array()}}));
  EXPECT_EQ(dispatch(table, "addr.show").result, (Json{{"addresses", Json::array()}}));
}

TEST_F(HostCommandsTest, TablesNameTheirPortsAndInterfaces) {
  NeighEvent n;
  n.ifindex = kIf0;
  n.ip = *IpAddr::parse("10.0.0.2");
  n.mac = *MacAddr::parse("aa:bb:cc:dd:ee:ff");
  n.state = NUD_REACHABLE;
  ASSERT_TRUE(mirror.apply(n));
  ASSERT_TRUE(mirror.apply(AddrEvent{false, kIf1, *IpPrefix::parse("10.0.1.1/24")}));
  RouteEvent connected;
  connected.dst = *IpPrefix::parse("10.0.1.0/24");
  connected.oif = kIf1;
  connected.table = RT_TABLE_MAIN;
  connected.type = RTN_UNICAST;
  connected.protocol = RTPROT_KERNEL;
  connected.scope = RT_SCOPE_LINK;
  ASSERT_TRUE(mirror.apply(connected));
  RouteEvent via = connected;
  via.dst = *IpPrefix::parse("192.168.0.0/16");
  via.gateway = *IpAddr::parse("10.0.1.254");
  via.protocol = RTPROT_STATIC;
  via.scope = RT_SCOPE_UNIVERSE;
  ASSERT_TRUE(mirror.apply(via));

  auto r = dispatch(table, "neigh.show");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result["neighbours"], (Json::array({{{"ip", "10.0.0.2"},
                                                   {"mac", "aa:bb:cc:dd:ee:ff"},
                                                   {"port", "dpdk0"},
                                                   {"kni", "dpdk0.kni"}}})));
  r = dispatch(table, "addr.show");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result["addresses"],
            (Json::array({{{"address", "10.0.1.1/24"}, {"port", "dpdk1"}, {"kni", ""}}})));
  r = dispatch(table, "route.show");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(
      r.result["routes"],
      (Json::array({{{"prefix", "10.0.1.0/24"}, {"gateway", ""}, {"port", "dpdk1"}, {"kni", ""}},
                    {{"prefix", "192.168.0.0/16"},
                     {"gateway", "10.0.1.254"},
                     {"port", "dpdk1"},
                     {"kni", ""}}})));
}

TEST_F(HostCommandsTest, ArgumentsAreIgnoredButMustBeAnObject) {
  EXPECT_TRUE(dispatch(table, "route.show", {{"anything", 1}}).ok);
  EXPECT_EQ(table.dispatch(R"({"cmd":"route.show","args":[1]})"),
            R"({"ok":false,"error":"malformed request: 'args' must be an object, got array"})");
}

}  // namespace
}  // namespace vsgate
