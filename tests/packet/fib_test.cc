// The forwarding snapshot (rte_lpm routes, rte_hash neighbours, own addresses) and its RCU-style
// publication: what the host stack mirror hands over is what the workers look up.
#include "ipv4/fib.h"

#include <gtest/gtest.h>

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

TEST(Fib, TooManyRoutesIsAnErrorNotACrash) {
  FibInput in = input();
  for (uint32_t i = 0; i < 5000; ++i)
    in.routes.push_back({Ipv4Prefix{Ipv4Addr::from_host(0xac000000 + (i << 8)), 24}, {}, 1});
  auto fib = Fib::build(in, nullptr);
  ASSERT_FALSE(fib.ok());
  EXPECT_NE(fib.message().find("too many routes"), std::string::npos);
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
