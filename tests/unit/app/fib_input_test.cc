// fib_input(): the forwarding table is IPv4 only, so it takes the mirror's IPv4 entries and skips
// the IPv6 ones the mirror may hold.
#include <gtest/gtest.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "app/fib_publisher.h"

namespace vsgate {
namespace {

constexpr int kIf0 = 10;

RouteEvent connected_route(const char* dst) {
  RouteEvent ev;
  ev.dst = *IpPrefix::parse(dst);
  ev.oif = kIf0;
  ev.table = RT_TABLE_MAIN;
  ev.type = RTN_UNICAST;
  return ev;
}

TEST(FibInput, TakesIpv4EntriesAndSkipsIpv6) {
  HostStackMirror mirror;
  mirror.track(kIf0, 0, "dpdk0.kni");
  for (const char* a : {"10.0.0.2", "2001:db8::2"}) {
    NeighEvent n;
    n.ifindex = kIf0;
    n.ip = *IpAddr::parse(a);
    n.mac = *MacAddr::parse("52:54:00:00:00:02");
    n.state = NUD_REACHABLE;
    ASSERT_TRUE(mirror.apply(n)) << a;
  }
  ASSERT_TRUE(mirror.apply(AddrEvent{false, kIf0, *IpPrefix::parse("2001:db8::1/64")}));
  ASSERT_TRUE(mirror.apply(AddrEvent{false, kIf0, *IpPrefix::parse("10.0.0.1/24")}));
  ASSERT_TRUE(mirror.apply(connected_route("10.0.0.0/24")));
  ASSERT_TRUE(mirror.apply(connected_route("2001:db8::/64")));
  ASSERT_EQ(mirror.neighbours().size(), 2u);
  ASSERT_EQ(mirror.addresses().size(), 2u);
  ASSERT_EQ(mirror.routes().size(), 2u);

  const FibInput in = fib_input(mirror, {});
  ASSERT_EQ(in.neighbours.size(), 1u);
  EXPECT_EQ(in.neighbours[0].ip, *Ipv4Addr::parse("10.0.0.2"));
  EXPECT_EQ(in.neighbours[0].port_id, 0);
  ASSERT_EQ(in.addresses.size(), 1u);
  EXPECT_EQ(in.addresses[0].prefix, *Ipv4Prefix::parse("10.0.0.1/24"));
  EXPECT_EQ(in.routes, (std::vector<FibRoute>{{*Ipv4Prefix::parse("10.0.0.0/24"), Ipv4Addr{}, 0}}));
  EXPECT_EQ(in.ports[0].addr_be, Ipv4Addr::parse("10.0.0.1")->be);
}

}  // namespace
}  // namespace vsgate
