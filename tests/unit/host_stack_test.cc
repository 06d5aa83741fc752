#include "kni/mirror/host_stack.h"

#include <gtest/gtest.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <map>
#include <string>

namespace vsgate {
namespace {

IpAddr ip(const char* text) { return *IpAddr::parse(text); }
IpPrefix pfx(const char* text) { return *IpPrefix::parse(text); }
MacAddr mac(const char* text) { return *MacAddr::parse(text); }

constexpr int kIf0 = 10;  // dpdk0.kni, port 0
constexpr int kIf1 = 11;  // dpdk1.kni, port 1
constexpr int kEth0 = 2;  // management interface, not tracked

NeighEvent neigh(int ifindex, const char* addr, const char* lladdr, uint16_t state = NUD_REACHABLE,
                 bool deleted = false) {
  NeighEvent ev;
  ev.deleted = deleted;
  ev.ifindex = ifindex;
  ev.ip = ip(addr);
  if (lladdr) ev.mac = mac(lladdr);
  ev.state = state;
  return ev;
}

AddrEvent addr(int ifindex, const char* prefix, bool deleted = false) {
  return AddrEvent{deleted, ifindex, pfx(prefix)};
}

RouteEvent route(const char* dst, std::optional<int> oif, const char* gateway = nullptr,
                 bool deleted = false, uint32_t priority = 0) {
  RouteEvent ev;
  ev.deleted = deleted;
  ev.dst = pfx(dst);
  if (gateway) ev.gateway = ip(gateway);
  ev.oif = oif;
  ev.table = RT_TABLE_MAIN;
  ev.priority = priority;
  ev.type = RTN_UNICAST;
  ev.protocol = gateway ? RTPROT_STATIC : RTPROT_KERNEL;
  ev.scope = gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  return ev;
}

HostRoute host_route(const char* dst, const char* gateway, uint16_t port, int ifindex,
                     uint32_t priority = 0) {
  return HostRoute{pfx(dst), gateway ? ip(gateway) : IpAddr{}, port, ifindex, priority};
}

class HostStackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mirror.track(kIf0, 0, "dpdk0.kni");
    mirror.track(kIf1, 1, "dpdk1.kni");
  }
  // apply() and check that generation() moved exactly when the mirror says it changed.
  bool apply(const HostEvent& ev) {
    uint64_t before = mirror.generation();
    bool changed = mirror.apply(ev);
    EXPECT_EQ(mirror.generation(), before + (changed ? 1 : 0));
    return changed;
  }

  HostStackMirror mirror;
};

// --- neighbours ---

TEST_F(HostStackTest, NeighbourAddUpdateDelete) {
  EXPECT_EQ(mirror.generation(), 0u);
  EXPECT_TRUE(apply(neigh(kIf0, "10.0.0.2", "52:54:00:00:00:02")));
  EXPECT_FALSE(apply(neigh(kIf0, "10.0.0.2", "52:54:00:00:00:02", NUD_STALE)));  // same MAC
  ASSERT_EQ(mirror.neighbours().size(), 1u);
  EXPECT_EQ(mirror.neighbours()[0],
            (HostNeighbour{ip("10.0.0.2"), mac("52:54:00:00:00:02"), 0, kIf0}));

  EXPECT_TRUE(apply(neigh(kIf0, "10.0.0.2", "52:54:00:00:00:99")));  // MAC moved
  EXPECT_EQ(mirror.neighbours()[0].mac, mac("52:54:00:00:00:99"));

  EXPECT_TRUE(apply(neigh(kIf0, "10.0.0.2", "52:54:00:00:00:99", NUD_STALE, true)));
  EXPECT_TRUE(mirror.neighbours().empty());
  EXPECT_FALSE(apply(neigh(kIf0, "10.0.0.2", nullptr, NUD_NONE, true)));  // unknown: no-op
  EXPECT_EQ(mirror.generation(), 3u);
}

TEST_F(HostStackTest, UnusableStatesRemoveTheEntry) {
  EXPECT_TRUE(apply(neigh(kIf0, "10.0.0.2", "52:54:00:00:00:02")));
  EXPECT_TRUE(apply(neigh(kIf0, "10.0.0.2", "52:54:00:00:00:02", NUD_FAILED)));
  EXPECT_TRUE(mirror.neighbours().empty());
  EXPECT_FALSE(apply(neigh(kIf0, "10.0.0.3", nullptr, NUD_INCOMPLETE)));
  EXPECT_FALSE(apply(neigh(kIf0, "10.0.0.3", "52:54:00:00:00:03", NUD_NONE)));
  EXPECT_FALSE(apply(neigh(kIf0, "10.0.0.3", "00:00:00:00:00:00", NUD_REACHABLE)));
  EXPECT_FALSE(apply(neigh(kIf0, "10.0.0.3", nullptr, NUD_REACHABLE)));
  EXPECT_TRUE(mirror.neighbours().empty());
  for (uint16_t s : {NUD_DELAY, NUD_PROBE, NUD_PERMANENT, NUD_NOARP}) {
    EXPECT_TRUE(apply(neigh(kIf0, "10.0.0.3", "52:54:00:00:00:03", s))) << s;
    EXPECT_TRUE(apply(neigh(kIf0, "10.0.0.3", nullptr, NUD_INCOMPLETE))) << s;
  }
}

TEST_F(HostStackTest, NeighboursOfUntrackedInterfacesIgnored) {
  EXPECT_FALSE(apply(neigh(kEth0, "192.0.2.1", "02:fc:00:00:00:05")));
  EXPECT_TRUE(mirror.neighbours().empty());
  EXPECT_TRUE(apply(neigh(kIf0, "10.0.0.2", "52:54:00:00:00:02")));
  // A deletion on another interface does not remove what this one learnt.
  EXPECT_FALSE(apply(neigh(kEth0, "10.0.0.2", "52:54:00:00:00:02", NUD_STALE, true)));
  EXPECT_FALSE(apply(neigh(kIf1, "10.0.0.2", nullptr, NUD_FAILED)));
  EXPECT_EQ(mirror.neighbours().size(), 1u);
  EXPECT_EQ(mirror.generation(), 1u);
}

TEST_F(HostStackTest, NeighboursCarryTheirPort) {
  EXPECT_TRUE(apply(neigh(kIf1, "10.1.0.2", "52:54:00:00:01:02")));
  EXPECT_TRUE(apply(neigh(kIf0, "10.0.0.2", "52:54:00:00:00:02")));
  auto n = mirror.neighbours();
  ASSERT_EQ(n.size(), 2u);
  EXPECT_EQ(n[0].ip, ip("10.0.0.2"));  // sorted by address
  EXPECT_EQ(n[0].port_id, 0);
  EXPECT_EQ(n[1].port_id, 1);
  EXPECT_EQ(n[1].ifindex, kIf1);
}

// --- addresses ---

TEST_F(HostStackTest, Addresses) {
  EXPECT_TRUE(apply(addr(kIf0, "10.0.0.1/24")));
  EXPECT_FALSE(apply(addr(kIf0, "10.0.0.1/24")));
  EXPECT_TRUE(apply(addr(kIf1, "10.1.0.1/24")));
  EXPECT_TRUE(apply(addr(kIf0, "10.0.5.1/16")));
  EXPECT_FALSE(apply(addr(kEth0, "192.0.2.10/24")));
  auto a = mirror.addresses();
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0], (HostAddress{pfx("10.0.0.1/24"), 0, kIf0}));
  EXPECT_EQ(a[1], (HostAddress{pfx("10.0.5.1/16"), 0, kIf0}));
  EXPECT_EQ(a[2], (HostAddress{pfx("10.1.0.1/24"), 1, kIf1}));
  EXPECT_TRUE(apply(addr(kIf0, "10.0.0.1/24", true)));
  EXPECT_FALSE(apply(addr(kIf0, "10.0.0.1/24", true)));
  EXPECT_FALSE(apply(addr(kIf0, "10.0.5.1/24", true)));  // other prefix length: another address
  EXPECT_EQ(mirror.addresses().size(), 2u);
}

// --- routes ---

TEST_F(HostStackTest, ConnectedAndGatewayRoutes) {
  EXPECT_TRUE(apply(route("10.0.0.0/24", kIf0)));
  EXPECT_TRUE(apply(route("10.20.0.0/16", kIf0, "10.0.0.254")));
  EXPECT_TRUE(apply(route("0.0.0.0/0", kIf1, "10.1.0.254")));
  EXPECT_FALSE(apply(route("10.20.0.0/16", kIf0, "10.0.0.254")));
  auto r = mirror.routes();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0], host_route("0.0.0.0/0", "10.1.0.254", 1, kIf1));
  EXPECT_EQ(r[1], host_route("10.0.0.0/24", nullptr, 0, kIf0));
  EXPECT_EQ(r[2], host_route("10.20.0.0/16", "10.0.0.254", 0, kIf0));
  EXPECT_TRUE(apply(route("10.20.0.0/16", kIf0, "10.0.0.253")));  // replace: new gateway
  EXPECT_EQ(mirror.routes()[2].gateway, ip("10.0.0.253"));
  EXPECT_TRUE(apply(route("10.20.0.0/16", kIf0, "10.0.0.253", true)));
  EXPECT_FALSE(apply(route("10.20.0.0/16", kIf0, "10.0.0.253", true)));
  EXPECT_EQ(mirror.routes().size(), 2u);
}

TEST_F(HostStackTest, RoutesFilteredByTableTypeAndInterface) {
  RouteEvent other_table = route("10.30.0.0/16", kIf0, "10.0.0.254");
  other_table.table = 100;
  EXPECT_FALSE(apply(other_table));
  RouteEvent local = route("10.0.0.1/32", kIf0);
  local.table = RT_TABLE_LOCAL;
  local.type = RTN_LOCAL;
  EXPECT_FALSE(apply(local));
  RouteEvent blackhole = route("10.40.0.0/16", std::nullopt);
  blackhole.type = RTN_BLACKHOLE;
  EXPECT_FALSE(apply(blackhole));
  EXPECT_FALSE(apply(route("192.0.2.0/24", kEth0)));
  EXPECT_FALSE(apply(route("198.51.100.0/24", kEth0, "192.0.2.1")));
  EXPECT_TRUE(mirror.routes().empty());
  EXPECT_EQ(mirror.generation(), 0u);
}

TEST_F(HostStackTest, ReplacementByUnusableRouteRemovesIt) {
  EXPECT_TRUE(apply(route("10.20.0.0/16", kIf0, "10.0.0.254")));
  // "ip route replace 10.20.0.0/16 via 192.0.2.1 dev eth0" arrives as RTM_NEWROUTE only.
  EXPECT_TRUE(apply(route("10.20.0.0/16", kEth0, "192.0.2.1")));
  EXPECT_TRUE(mirror.routes().empty());
  EXPECT_TRUE(apply(route("10.20.0.0/16", kIf0, "10.0.0.254")));
  RouteEvent blackhole = route("10.20.0.0/16", std::nullopt);
  blackhole.type = RTN_BLACKHOLE;
  EXPECT_TRUE(apply(blackhole));
  EXPECT_TRUE(mirror.routes().empty());
}

TEST_F(HostStackTest, RouteKeyIsTheNormalizedNetwork) {
  EXPECT_TRUE(apply(route("10.20.3.4/16", kIf0, "10.0.0.254")));
  ASSERT_EQ(mirror.routes().size(), 1u);
  EXPECT_EQ(mirror.routes()[0].dst, pfx("10.20.0.0/16"));
  EXPECT_TRUE(apply(route("10.20.0.0/16", kIf0, "10.0.0.254", true)));
  EXPECT_TRUE(mirror.routes().empty());
}

TEST_F(HostStackTest, LowestMetricWins) {
  EXPECT_TRUE(apply(route("10.20.0.0/16", kIf1, "10.1.0.254", false, 200)));
  EXPECT_TRUE(apply(route("10.20.0.0/16", kIf0, "10.0.0.254", false, 100)));
  ASSERT_EQ(mirror.routes().size(), 1u);
  EXPECT_EQ(mirror.routes()[0], host_route("10.20.0.0/16", "10.0.0.254", 0, kIf0, 100));
  EXPECT_TRUE(apply(route("10.20.0.0/16", kIf0, "10.0.0.254", true, 100)));
  ASSERT_EQ(mirror.routes().size(), 1u);
  EXPECT_EQ(mirror.routes()[0], host_route("10.20.0.0/16", "10.1.0.254", 1, kIf1, 200));
}

TEST_F(HostStackTest, GatewayWithoutOifPlacedThroughConnectedPrefix) {
  EXPECT_FALSE(apply(route("10.50.0.0/16", std::nullopt, "10.1.0.254")));  // no address yet
  EXPECT_TRUE(apply(addr(kIf1, "10.1.0.1/24")));
  EXPECT_TRUE(apply(route("10.50.0.0/16", std::nullopt, "10.1.0.254")));
  EXPECT_FALSE(apply(route("10.60.0.0/16", std::nullopt, "192.0.2.1")));
  ASSERT_EQ(mirror.routes().size(), 1u);
  EXPECT_EQ(mirror.routes()[0], host_route("10.50.0.0/16", "10.1.0.254", 1, kIf1));
}

// --- families ---

// The decoder produces IPv4 only for now, but the mirror holds either family: IPv6 entries given
// to it directly are stored, and every list sorts IPv4 before IPv6.
TEST_F(HostStackTest, HoldsAndOrdersIpv6Entries) {
  EXPECT_TRUE(apply(neigh(kIf0, "2001:db8::2", "52:54:00:00:00:62")));
  EXPECT_TRUE(apply(neigh(kIf0, "10.0.0.2", "52:54:00:00:00:02")));
  EXPECT_TRUE(apply(neigh(kIf0, "2001:db8::1:2", "52:54:00:00:00:63")));
  auto n = mirror.neighbours();
  ASSERT_EQ(n.size(), 3u);
  EXPECT_EQ(n[0].ip, ip("10.0.0.2"));
  EXPECT_EQ(n[1], (HostNeighbour{ip("2001:db8::2"), mac("52:54:00:00:00:62"), 0, kIf0}));
  EXPECT_EQ(n[2].ip, ip("2001:db8::1:2"));
  EXPECT_EQ(n[1].ip.str(), "2001:db8::2");
  EXPECT_TRUE(apply(neigh(kIf0, "2001:db8::1:2", nullptr, NUD_FAILED)));
  EXPECT_EQ(mirror.neighbours().size(), 2u);

  EXPECT_TRUE(apply(addr(kIf1, "2001:db8:1::1/64")));
  EXPECT_TRUE(apply(addr(kIf1, "10.0.1.1/24")));
  EXPECT_EQ(mirror.addresses(), (std::vector<HostAddress>{{pfx("10.0.1.1/24"), 1, kIf1},
                                                          {pfx("2001:db8:1::1/64"), 1, kIf1}}));

  // A connected IPv6 route has the IPv6 zero address as gateway; a gateway route without oif is
  // placed through the IPv6 prefix holding its gateway. A gateway of the other family is not
  // the mirror's to place.
  EXPECT_TRUE(apply(route("2001:db8:1::/64", kIf1)));
  EXPECT_TRUE(apply(route("2001:db8:2::/48", std::nullopt, "2001:db8:1::fe")));
  EXPECT_TRUE(apply(route("10.20.0.0/16", std::nullopt, "10.0.1.254")));
  EXPECT_FALSE(apply(route("2001:db8:3::/48", std::nullopt, "10.0.1.253")));
  EXPECT_FALSE(apply(route("10.30.0.0/16", std::nullopt, "2001:db8:1::fd")));
  EXPECT_FALSE(apply(route("10.40.0.0/16", kIf1, "2001:db8:1::fd")));
  EXPECT_TRUE(apply(route("2001:db8:4::1/48", kIf0)));  // normalized to its network
  IpAddr v6_connected;
  v6_connected.family = AddrFamily::ipv6;
  EXPECT_EQ(mirror.routes(),
            (std::vector<HostRoute>{host_route("10.20.0.0/16", "10.0.1.254", 1, kIf1),
                                    {pfx("2001:db8:1::/64"), v6_connected, 1, kIf1, 0},
                                    host_route("2001:db8:2::/48", "2001:db8:1::fe", 1, kIf1),
                                    {pfx("2001:db8:4::/48"), v6_connected, 0, kIf0, 0}}));
  EXPECT_TRUE(apply(route("2001:db8:4::/48", kIf0, nullptr, true)));
  EXPECT_EQ(mirror.routes().size(), 3u);
}

// --- tracking ---

TEST_F(HostStackTest, UntrackForgetsEverythingOfTheInterface) {
  EXPECT_TRUE(apply(neigh(kIf0, "10.0.0.2", "52:54:00:00:00:02")));
  EXPECT_TRUE(apply(neigh(kIf1, "10.1.0.2", "52:54:00:00:01:02")));
  EXPECT_TRUE(apply(addr(kIf0, "10.0.0.1/24")));
  EXPECT_TRUE(apply(route("10.0.0.0/24", kIf0)));
  EXPECT_TRUE(apply(route("10.1.0.0/24", kIf1)));
  uint64_t gen = mirror.generation();
  mirror.untrack(kIf0);
  EXPECT_EQ(mirror.generation(), gen + 1);
  EXPECT_FALSE(mirror.tracked(kIf0));
  EXPECT_EQ(mirror.neighbours().size(), 1u);
  EXPECT_TRUE(mirror.addresses().empty());
  EXPECT_EQ(mirror.routes().size(), 1u);
  mirror.untrack(kIf0);  // again: nothing to do
  EXPECT_EQ(mirror.generation(), gen + 1);
  EXPECT_FALSE(apply(neigh(kIf0, "10.0.0.2", "52:54:00:00:00:02")));
}

TEST_F(HostStackTest, RetrackUnderAnotherPortMovesEntries) {
  EXPECT_TRUE(apply(neigh(kIf0, "10.0.0.2", "52:54:00:00:00:02")));
  EXPECT_TRUE(apply(addr(kIf0, "10.0.0.1/24")));
  EXPECT_TRUE(apply(route("10.0.0.0/24", kIf0)));
  uint64_t gen = mirror.generation();
  mirror.track(kIf0, 0, "dpdk0.kni");
  EXPECT_EQ(mirror.generation(), gen);
  mirror.track(kIf0, 5, "dpdk5.kni");
  EXPECT_EQ(mirror.generation(), gen + 1);
  EXPECT_EQ(mirror.neighbours()[0].port_id, 5);
  EXPECT_EQ(mirror.addresses()[0].port_id, 5);
  EXPECT_EQ(mirror.routes()[0].port_id, 5);
  EXPECT_EQ(mirror.tracked_ifindex("dpdk5.kni"), kIf0);
  EXPECT_FALSE(mirror.tracked_ifindex("dpdk0.kni"));
}

// --- resync from /proc/net/arp ---

class ResyncTest : public HostStackTest {
 protected:
  std::function<std::optional<int>(const std::string&)> ifindex_of =
      [](const std::string& name) -> std::optional<int> {
    static const std::map<std::string, int> kNames = {
        {"dpdk0.kni", kIf0}, {"dpdk1.kni", kIf1}, {"eth0", kEth0}};
    auto it = kNames.find(name);
    if (it == kNames.end()) return std::nullopt;
    return it->second;
  };
  static ProcArpEntry arp(const char* a, const char* m, const char* dev, unsigned flags = 0x2) {
    return ProcArpEntry{ip(a), mac(m), flags, dev};
  }
};

TEST_F(ResyncTest, AddsUpdatesAndRemoves) {
  EXPECT_TRUE(apply(neigh(kIf0, "10.0.0.2", "52:54:00:00:00:02")));  // MAC will change
  EXPECT_TRUE(apply(neigh(kIf0, "10.0.0.3", "52:54:00:00:00:03")));  // will be gone
  EXPECT_TRUE(apply(neigh(kIf1, "10.1.0.2", "52:54:00:00:01:02")));  // unchanged
  std::vector<ProcArpEntry> entries = {
      arp("10.0.0.2", "52:54:00:00:00:22", "dpdk0.kni"),
      arp("10.1.0.2", "52:54:00:00:01:02", "dpdk1.kni"),
      arp("10.0.0.4", "52:54:00:00:00:04", "dpdk0.kni", 0x6),
      arp("192.0.2.1", "02:fc:00:00:00:05", "eth0"),           // untracked
      arp("172.17.0.2", "02:42:ac:11:00:02", "docker0"),       // unknown device
      arp("10.0.0.5", "00:00:00:00:00:00", "dpdk0.kni"),       // zero MAC
      arp("10.0.0.6", "52:54:00:00:00:06", "dpdk0.kni", 0x0),  // not complete
  };
  uint64_t gen = mirror.generation();
  EXPECT_TRUE(mirror.resync_neighbours(entries, ifindex_of));
  EXPECT_EQ(mirror.generation(), gen + 1);
  std::vector<HostNeighbour> want = {
      {ip("10.0.0.2"), mac("52:54:00:00:00:22"), 0, kIf0},
      {ip("10.0.0.4"), mac("52:54:00:00:00:04"), 0, kIf0},
      {ip("10.1.0.2"), mac("52:54:00:00:01:02"), 1, kIf1},
  };
  EXPECT_EQ(mirror.neighbours(), want);
  // Same table again: nothing changes, the generation stays.
  EXPECT_FALSE(mirror.resync_neighbours(entries, ifindex_of));
  EXPECT_EQ(mirror.generation(), gen + 1);
  // Through the names given to track().
  EXPECT_FALSE(mirror.resync_neighbours(entries));
  EXPECT_TRUE(mirror.resync_neighbours({}));
  EXPECT_TRUE(mirror.neighbours().empty());
  EXPECT_EQ(mirror.generation(), gen + 2);
}

TEST_F(ResyncTest, FromTheFixtureFile) {
  auto entries = read_proc_arp(std::string(VSGATE_TEST_DATA_DIR) + "/proc_arp/typical.txt");
  ASSERT_TRUE(entries.ok()) << entries.message();
  EXPECT_TRUE(mirror.resync_neighbours(*entries));
  auto n = mirror.neighbours();
  ASSERT_EQ(n.size(), 4u);  // three on dpdk0.kni, one on dpdk1.kni; eth0/docker0 untracked
  EXPECT_EQ(n[0].ip, ip("10.0.0.20"));
  EXPECT_EQ(n[3], (HostNeighbour{ip("10.1.0.1"), mac("52:54:00:cc:dd:01"), 1, kIf1}));
}

// --- full resync from a dump ---

TEST_F(HostStackTest, ResetFromDumpReplacesEverything) {
  EXPECT_TRUE(apply(neigh(kIf0, "10.0.0.9", "52:54:00:00:00:09")));
  EXPECT_TRUE(apply(addr(kIf0, "10.0.9.1/24")));
  EXPECT_TRUE(apply(route("10.99.0.0/16", kIf0, "10.0.9.254")));
  // Routes before addresses, as a careless caller might order them; deletions are skipped.
  std::vector<HostEvent> dump = {
      route("10.0.0.0/24", kIf0),
      route("10.50.0.0/16", std::nullopt, "10.0.0.254"),
      route("192.0.2.0/24", kEth0),
      route("10.77.0.0/16", kIf0, "10.0.0.254", true),
      neigh(kIf0, "10.0.0.2", "52:54:00:00:00:02"),
      neigh(kIf0, "10.0.0.3", nullptr, NUD_FAILED),
      neigh(kEth0, "192.0.2.1", "02:fc:00:00:00:05"),
      addr(kIf0, "10.0.0.1/24"),
      addr(kEth0, "192.0.2.10/24"),
  };
  uint64_t gen = mirror.generation();
  EXPECT_TRUE(mirror.reset_from_dump(dump));
  EXPECT_EQ(mirror.generation(), gen + 1);
  EXPECT_EQ(mirror.neighbours(),
            (std::vector<HostNeighbour>{{ip("10.0.0.2"), mac("52:54:00:00:00:02"), 0, kIf0}}));
  EXPECT_EQ(mirror.addresses(), (std::vector<HostAddress>{{pfx("10.0.0.1/24"), 0, kIf0}}));
  EXPECT_EQ(mirror.routes(),
            (std::vector<HostRoute>{host_route("10.0.0.0/24", nullptr, 0, kIf0),
                                    host_route("10.50.0.0/16", "10.0.0.254", 0, kIf0)}));
  EXPECT_FALSE(mirror.reset_from_dump(dump));
  EXPECT_EQ(mirror.generation(), gen + 1);
  EXPECT_TRUE(mirror.reset_from_dump({}));
  EXPECT_TRUE(mirror.neighbours().empty());
  EXPECT_TRUE(mirror.addresses().empty());
  EXPECT_TRUE(mirror.routes().empty());
}

}  // namespace
}  // namespace vsgate
