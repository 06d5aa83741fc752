// The forwarding snapshot (rte_lpm routes, rte_hash neighbours, own addresses) and its RCU-style
// publication: what the host stack mirror hands over is what the workers look up.
#include "ipv4/fib.h"

#include <gtest/gtest.h>

#include "ipv4/fib_builder.h"
#include "lcore/snapshot.h"
#include "packet_builder.h"

namespace vsgate {
namespace {

using test::ip;
using test::mac;

Ipv4Prefix pfx(const char* s) { return *Ipv4Prefix::parse(s); }

FibInput input() {
  FibInput in;
  in.addresses = {{pfx("10.0.0.1/24"), 0}, {pfx("10.0.1.1/30"), 1}, {pfx("10.9.9.9/32"), 1}};
  in.routes = {{pfx("10.0.0.0/24"), {}, 0},
               {pfx("10.0.0.128/25"), ip("10.0.0.254"), 1},
               {pfx("0.0.0.0/0"), ip("10.0.1.2"), 1}};
  in.neighbours = {{ip("10.0.0.2"), mac("02:00:00:00:00:02"), 0}};
  in.ports[0].present = in.ports[1].present = true;
  return in;
}

TEST(Fib, LongestPrefixMatchAndDefaultRoute) {
  auto fib = Fib::build(input(), nullptr);
  ASSERT_TRUE(fib.ok()) << fib.message();
  const Fib& f = *fib.value();
  const NextHop* nh = f.route(ip("10.0.0.5").be);
  ASSERT_NE(nh, nullptr);
  EXPECT_EQ(nh->port_id, 0);
  EXPECT_EQ(nh->gateway_be, 0u);
  nh = f.route(ip("10.0.0.200").be);
  ASSERT_NE(nh, nullptr);
  EXPECT_EQ(nh->port_id, 1);
  EXPECT_EQ(nh->gateway_be, ip("10.0.0.254").be);
  nh = f.route(ip("8.8.8.8").be);
  ASSERT_NE(nh, nullptr);
  EXPECT_EQ(nh->gateway_be, ip("10.0.1.2").be);
}

TEST(Fib, NoRouteWithoutDefault) {
  FibInput in = input();
  in.routes.pop_back();
  auto fib = Fib::build(in, nullptr);
  ASSERT_TRUE(fib.ok());
  EXPECT_EQ(fib.value()->route(ip("8.8.8.8").be), nullptr);
}

TEST(Fib, OwnAddressesAndDirectedBroadcasts) {
  auto fib = Fib::build(input(), nullptr);
  ASSERT_TRUE(fib.ok());
  const Fib& f = *fib.value();
  EXPECT_TRUE(f.is_local(ip("10.0.0.1").be));
  EXPECT_TRUE(f.is_local(ip("10.0.0.255").be));
  EXPECT_TRUE(f.is_local(ip("10.0.1.3").be));  // broadcast of the /30
  EXPECT_TRUE(f.is_local(ip("10.9.9.9").be));
  EXPECT_FALSE(f.is_local(ip("10.0.0.2").be));
  EXPECT_FALSE(f.is_local(ip("10.9.9.255").be));  // a /32 has no broadcast
}

TEST(Fib, Neighbours) {
  auto fib = Fib::build(input(), nullptr);
  ASSERT_TRUE(fib.ok());
  const rte_ether_addr* m = fib.value()->neighbour(ip("10.0.0.2").be);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->addr_bytes[5], 0x02);
  EXPECT_EQ(fib.value()->neighbour(ip("10.0.0.3").be), nullptr);
}

TEST(Fib, NeighbourOnlyChangeSharesTheRouteTable) {
  auto first = Fib::build(input(), nullptr);
  ASSERT_TRUE(first.ok());
  FibInput in = input();
  in.neighbours.push_back({ip("10.0.0.3"), mac("02:00:00:00:00:03"), 0});
  auto second = Fib::build(in, first.value()->route_table());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second.value()->route_table().get(), first.value()->route_table().get());
  EXPECT_NE(second.value()->neighbour(ip("10.0.0.3").be), nullptr);
  EXPECT_EQ(first.value()->neighbour(ip("10.0.0.3").be), nullptr) << "snapshots are immutable";
}

TEST(Fib, ManyNeighboursAndRoutes) {
  FibInput in = input();
  for (uint32_t i = 0; i < 3000; ++i) {
    MacAddr m = mac("02:00:00:00:00:00");
    m.bytes[4] = static_cast<uint8_t>(i >> 8);
    m.bytes[5] = static_cast<uint8_t>(i);
    in.neighbours.push_back({Ipv4Addr::from_host(0x0a640000 + i), m, 0});
  }
  for (uint32_t i = 0; i < 1000; ++i)
    in.routes.push_back({Ipv4Prefix{Ipv4Addr::from_host(0xac100000 + (i << 8)), 24}, {}, 1});
  auto fib = Fib::build(in, nullptr);
  ASSERT_TRUE(fib.ok()) << fib.message();
  for (uint32_t i = 0; i < 3000; ++i) {
    const rte_ether_addr* m = fib.value()->neighbour(rte_cpu_to_be_32(0x0a640000 + i));
    ASSERT_NE(m, nullptr) << i;
    EXPECT_EQ(m->addr_bytes[5], static_cast<uint8_t>(i));
  }
  EXPECT_NE(fib.value()->route(ip("172.16.200.1").be), nullptr);
}

// Past the hard cap (FibLimits::kMaxRoutes; it was 4,096 before the tables were sized from
// their input, and 5,000 routes now build: FiveThousandRoutesOfMixedLengthsAndHostRoutes).
TEST(Fib, TooManyRoutesIsAnErrorNotACrash) {
  FibInput in = input();
  for (uint32_t i = 0; i < FibLimits::kMaxRoutes + 1; ++i)
    in.routes.push_back({Ipv4Prefix{Ipv4Addr::from_host(0x01000000 + (i << 8)), 24}, {}, 1});
  auto fib = Fib::build(in, nullptr);
  ASSERT_FALSE(fib.ok());
  EXPECT_NE(fib.message().find("too many routes"), std::string::npos);
}

// Routes of every length beyond the old fixed 4,096: /16s, /24s, /25../30s (each in its own
// /24, so each needs a tbl8 group) and 600 host routes inside the /24s, as `ip -batch` would add
// them. Every prefix finds its own next hop (the gateway says which route it is), the host
// routes win over their /24, and the addresses a longer prefix does not cover have no route.
TEST(Fib, FiveThousandRoutesOfMixedLengthsAndHostRoutes) {
  FibInput in;
  in.ports[0].present = in.ports[1].present = true;
  struct Probe {
    uint32_t addr;       // host order
    uint32_t route = 0;  // index into in.routes, ~0u = no route
  };
  std::vector<Probe> probes;
  auto add = [&](uint32_t net, uint8_t len, uint32_t probe) {
    const auto idx = static_cast<uint32_t>(in.routes.size());
    in.routes.push_back({Ipv4Prefix{Ipv4Addr::from_host(net), len},
                         Ipv4Addr::from_host(0x0b000000 + idx), static_cast<uint16_t>(idx % 2)});
    probes.push_back({probe, idx});
  };
  for (uint32_t i = 0; i < 1000; ++i)
    add(0x14000000 + (i << 16), 16, 0x14000000 + (i << 16) + 0x0303);
  for (uint32_t i = 0; i < 2600; ++i) add(0xac100000 + (i << 8), 24, 0xac100000 + (i << 8) + 1);
  for (uint32_t i = 0; i < 1400; ++i) {
    const uint32_t net = 0x64400000 + (i << 8);  // 100.64.i.0
    const auto len = static_cast<uint8_t>(25 + i % 6);
    add(net, len, net + 1);
    probes.push_back({net + (1u << (32 - len)), ~0u});  // just past the prefix: no route
  }
  for (uint32_t i = 0; i < 600; ++i) add(0xac100000 + (i << 8) + 5, 32, 0xac100000 + (i << 8) + 5);
  ASSERT_EQ(in.routes.size(), 5600u);

  auto fib = Fib::build(in, nullptr);
  ASSERT_TRUE(fib.ok()) << fib.message();
  EXPECT_EQ(fib.value()->route_table()->routes().size(), 5600u);
  for (const Probe& p : probes) {
    const NextHop* nh = fib.value()->route(rte_cpu_to_be_32(p.addr));
    if (p.route == ~0u) {
      EXPECT_EQ(nh, nullptr) << Ipv4Addr::from_host(p.addr).str();
      continue;
    }
    ASSERT_NE(nh, nullptr) << Ipv4Addr::from_host(p.addr).str();
    EXPECT_EQ(nh->gateway_be, in.routes[p.route].gateway.be)
        << Ipv4Addr::from_host(p.addr).str() << " should take " << in.routes[p.route].prefix.str();
  }
  // 172.16.0.6 is in the /24 beside the host route 172.16.0.5/32.
  const NextHop* nh = fib.value()->route(ip("172.16.0.6").be);
  ASSERT_NE(nh, nullptr);
  EXPECT_EQ(nh->gateway_be, in.routes[1000].gateway.be);
}

// The tbl8 groups are sized from the /24 blocks that need one; a cap below that is a clean error.
TEST(Fib, Tbl8GroupsAreSizedFromTheInputAndCapped) {
  std::vector<FibRoute> routes;
  for (uint32_t i = 0; i < 3000; ++i)
    routes.push_back({Ipv4Prefix{Ipv4Addr::from_host(0x64400000 + (i << 8) + 128), 25}, {}, 0});
  auto ok = RouteTable::build(routes);
  ASSERT_TRUE(ok.ok()) << ok.message();
  EXPECT_NE(ok.value()->lookup(ip("100.75.183.200").be), nullptr);  // block 2999
  EXPECT_EQ(ok.value()->lookup(ip("100.75.183.100").be), nullptr);
  FibLimits small;
  small.max_tbl8_groups = 2999;
  auto capped = RouteTable::build(routes, small);
  ASSERT_FALSE(capped.ok());
  EXPECT_NE(capped.message().find("tbl8"), std::string::npos) << capped.message();
}

// Neighbours in a hash with extendable buckets and a random seed: every one of many, in two
// tables built from the same input, is found (whatever the seed), and a cap is a clean error.
TEST(Fib, NeighbourTableTakesEveryEntryAndHasACap) {
  std::vector<FibNeighbour> neighbours;
  for (uint32_t i = 0; i < 5000; ++i) {
    MacAddr m = mac("02:00:00:00:00:00");
    m.bytes[4] = static_cast<uint8_t>(i >> 8);
    m.bytes[5] = static_cast<uint8_t>(i);
    neighbours.push_back({Ipv4Addr::from_host(0x0a000000 + i * 4096), m, 0});
  }
  for (int round = 0; round < 2; ++round) {
    auto t = NeighbourTable::build(neighbours);
    ASSERT_TRUE(t.ok()) << t.message();
    for (const auto& n : neighbours) {
      const rte_ether_addr* m = t.value()->lookup(n.ip.be);
      ASSERT_NE(m, nullptr) << n.ip.str();
      EXPECT_EQ(m->addr_bytes[5], n.mac.bytes[5]);
    }
  }
  FibLimits small;
  small.max_neighbours = 4999;
  auto capped = NeighbourTable::build(neighbours, small);
  ASSERT_FALSE(capped.ok());
  EXPECT_NE(capped.message().find("too many neighbours"), std::string::npos);
}

// FibBuilder: routes and neighbours are built apart. A route table that cannot be built (here:
// over a small cap) keeps the last good one in the snapshot while neighbour changes go on being
// published; the failure is retried with backoff, not on every call, and clears once it builds.
TEST(FibBuilder, RouteFailureKeepsPublishingNeighbours) {
  FibLimits limits;
  limits.max_routes = 8;
  FibBuilder builder(limits);
  uint64_t now = 1'000'000'000;
  const uint64_t unix_now = 1'700'000'000'000'000;
  FibInput in = input();
  auto first = builder.next(in, nullptr, true, now, unix_now);
  ASSERT_NE(first, nullptr);
  EXPECT_TRUE(builder.status().routes.ok);
  EXPECT_EQ(builder.status().routes.installed, 3u);
  EXPECT_EQ(builder.status().neighbours.installed, 1u);

  // Ten more routes (over the cap) and a new neighbour, in one change.
  for (uint32_t i = 0; i < 10; ++i)
    in.routes.push_back({Ipv4Prefix{Ipv4Addr::from_host(0xac100000 + (i << 8)), 24}, {}, 1});
  in.neighbours.push_back({ip("10.0.0.3"), mac("02:00:00:00:00:03"), 0});
  now += FibBuilder::kRouteBuildIntervalUs;
  auto second = builder.next(in, first.get(), true, now, unix_now);
  ASSERT_NE(second, nullptr) << "the neighbour change is published";
  EXPECT_NE(second->neighbour(ip("10.0.0.3").be), nullptr);
  EXPECT_EQ(second->route_table(), first->route_table()) << "the last good routes are kept";
  EXPECT_EQ(second->route(ip("172.16.0.1").be)->gateway_be, ip("10.0.1.2").be) << "default";
  const FibTableStatus& routes = builder.status().routes;
  EXPECT_FALSE(routes.ok);
  EXPECT_EQ(routes.installed, 3u);
  EXPECT_EQ(routes.wanted, 13u);
  EXPECT_EQ(routes.stale_since_us, unix_now);
  EXPECT_EQ(routes.failed_builds, 1u);
  EXPECT_NE(routes.reason.find("too many routes"), std::string::npos) << routes.reason;
  EXPECT_TRUE(builder.status().neighbours.ok);
  EXPECT_EQ(builder.status().neighbours.installed, 2u);

  // Another neighbour before the retry is due: published, no new route build attempt.
  in.neighbours.push_back({ip("10.0.0.4"), mac("02:00:00:00:00:04"), 0});
  now += 500'000;
  EXPECT_FALSE(builder.retry_due(now));
  auto third = builder.next(in, second.get(), true, now, unix_now + 500'000);
  ASSERT_NE(third, nullptr);
  EXPECT_NE(third->neighbour(ip("10.0.0.4").be), nullptr);
  EXPECT_EQ(third->route_table(), first->route_table());
  EXPECT_EQ(routes.failed_builds, 1u) << "backing off";
  EXPECT_EQ(routes.stale_since_us, unix_now) << "stale since the first failure";
  EXPECT_EQ(builder.next(in, third.get(), false, now, unix_now), nullptr) << "nothing new";

  // The retry is due after a second, fails again, and the next one waits twice as long.
  now += 500'000;
  EXPECT_TRUE(builder.retry_due(now));
  EXPECT_EQ(builder.next(in, third.get(), false, now, unix_now), nullptr) << "still failing";
  EXPECT_EQ(routes.failed_builds, 2u);
  EXPECT_EQ(routes.retry_at_us, now + 2 * FibBuilder::kRetryMinUs);
  EXPECT_FALSE(builder.retry_due(now + FibBuilder::kRetryMinUs));

  // The host drops routes back under the cap: the retry builds them, the state clears.
  in.routes.resize(8);
  now += 2 * FibBuilder::kRetryMinUs;
  ASSERT_TRUE(builder.retry_due(now));
  auto fourth = builder.next(in, third.get(), true, now, unix_now);
  ASSERT_NE(fourth, nullptr);
  EXPECT_NE(fourth->route_table(), first->route_table());
  EXPECT_EQ(fourth->route(ip("172.16.4.1").be)->gateway_be, 0u) << "a new /24 is in";
  EXPECT_EQ(fourth->neighbour_table(), third->neighbour_table()) << "neighbours unchanged";
  EXPECT_TRUE(routes.ok);
  EXPECT_EQ(routes.installed, 8u);
  EXPECT_EQ(routes.stale_since_us, 0u);
  EXPECT_EQ(routes.failed_builds, 0u);
  EXPECT_TRUE(routes.reason.empty());
  EXPECT_FALSE(builder.retry_due(now + 100'000'000));
  EXPECT_EQ(builder.status().published, 4u);
}

// And the other way round: neighbours over their cap keep the last good ones while a route
// change is published. The very first build failing starts from an empty table.
TEST(FibBuilder, NeighbourFailureKeepsPublishingRoutes) {
  FibLimits limits;
  limits.max_neighbours = 2;
  FibBuilder builder(limits);
  uint64_t now = 5'000'000;
  FibInput in = input();
  for (int i = 3; i < 6; ++i)
    in.neighbours.push_back(
        {Ipv4Addr::from_host(0x0a000000 + static_cast<uint32_t>(i)), mac("02:00:00:00:00:09"), 0});
  auto first = builder.next(in, nullptr, true, now, 1);
  ASSERT_NE(first, nullptr) << "routes are published although no neighbour table builds";
  EXPECT_NE(first->route(ip("10.0.0.5").be), nullptr);
  EXPECT_EQ(first->neighbour(ip("10.0.0.2").be), nullptr) << "an empty neighbour table";
  EXPECT_FALSE(builder.status().neighbours.ok);
  EXPECT_EQ(builder.status().neighbours.installed, 0u);
  EXPECT_EQ(builder.status().neighbours.wanted, 4u);
  EXPECT_TRUE(builder.status().routes.ok);

  in.routes.push_back({pfx("192.168.0.0/16"), ip("10.0.0.254"), 0});
  auto second = builder.next(in, first.get(), true, now + FibBuilder::kRouteBuildIntervalUs, 2);
  ASSERT_NE(second, nullptr);
  ASSERT_NE(second->route(ip("192.168.1.1").be), nullptr);
  EXPECT_EQ(second->route(ip("192.168.1.1").be)->gateway_be, ip("10.0.0.254").be);
  EXPECT_EQ(second->neighbour_table(), first->neighbour_table());
  EXPECT_EQ(builder.status().routes.installed, 4u);

  in.neighbours.resize(2);
  auto third = builder.next(in, second.get(), true, now + FibBuilder::kRetryMinUs, 3);
  ASSERT_NE(third, nullptr);
  EXPECT_NE(third->neighbour(ip("10.0.0.2").be), nullptr);
  EXPECT_TRUE(builder.status().neighbours.ok);
  EXPECT_EQ(third->route_table(), second->route_table());
}

// A burst of route changes is built at most every kRouteBuildIntervalUs (each route table is a
// 64 MiB tbl24); neighbour changes in between are published at once.
TEST(FibBuilder, RouteChangesAreCoalescedNeighboursAreNot) {
  FibBuilder builder;
  uint64_t now = 7'000'000;
  FibInput in = input();
  auto first = builder.next(in, nullptr, true, now, 1);
  ASSERT_NE(first, nullptr);
  in.routes.push_back({pfx("192.168.0.0/16"), ip("10.0.0.254"), 0});
  in.neighbours.push_back({ip("10.0.0.3"), mac("02:00:00:00:00:03"), 0});
  now += FibBuilder::kRouteBuildIntervalUs / 2;
  auto second = builder.next(in, first.get(), true, now, 2);
  ASSERT_NE(second, nullptr) << "the neighbour is published";
  EXPECT_NE(second->neighbour(ip("10.0.0.3").be), nullptr);
  EXPECT_EQ(second->route_table(), first->route_table()) << "the route change waits";
  EXPECT_TRUE(builder.status().routes.ok) << "held, not failed";
  EXPECT_EQ(builder.status().routes.installed, 3u);
  EXPECT_EQ(builder.status().routes.wanted, 4u);
  EXPECT_FALSE(builder.retry_due(now));
  now += FibBuilder::kRouteBuildIntervalUs / 2;
  ASSERT_TRUE(builder.retry_due(now));
  auto third = builder.next(in, second.get(), false, now, 3);
  ASSERT_NE(third, nullptr);
  ASSERT_NE(third->route(ip("192.168.1.1").be), nullptr);
  EXPECT_EQ(third->route(ip("192.168.1.1").be)->gateway_be, ip("10.0.0.254").be);
  EXPECT_EQ(third->neighbour_table(), second->neighbour_table());
  EXPECT_EQ(builder.status().routes.installed, 4u);
  EXPECT_FALSE(builder.retry_due(now + 10'000'000));
}

// Publication: the previous snapshot stays alive while an online reader has not yet passed a
// quiescent state, and is freed (without the writer ever waiting) once it has.
TEST(Snapshot, RetiredObjectFreedOnlyAfterEveryReaderPassedQuiescentState) {
  auto domain = QsbrDomain::create(2);
  ASSERT_TRUE(domain.ok());
  QsbrDomain& d = *domain.value();
  Snapshot<int> snap(d);
  snap.publish(std::make_unique<const int>(1));
  EXPECT_EQ(snap.reclaim(), 0u) << "nothing retired yet";
  d.online(0);
  d.online(1);
  const int* seen = snap.get();
  snap.publish(std::make_unique<const int>(2));
  EXPECT_EQ(*snap.get(), 2);
  EXPECT_EQ(snap.reclaim(), 1u) << "readers may still hold the old one";
  EXPECT_EQ(*seen, 1);
  d.quiescent(0);
  EXPECT_EQ(snap.reclaim(), 1u) << "reader 1 has not passed a quiescent state";
  d.quiescent(1);
  EXPECT_EQ(snap.reclaim(), 0u);
  d.offline(0);
  // An offline reader does not hold back reclamation.
  snap.publish(std::make_unique<const int>(3));
  d.quiescent(1);
  EXPECT_EQ(snap.reclaim(), 0u);
  d.offline(1);
}

}  // namespace
}  // namespace vsgate
