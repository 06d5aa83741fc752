// RSS-aware local ports: every port a worker hands out must bring the reply back to that worker
// under the NIC's Toeplitz hash, and the workers together must use the whole port space.
#include "lb/reply_steering.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "lb/registry.h"

namespace vsgate {
namespace {

// The key of Microsoft's RSS verification suite (also the default of many NICs).
constexpr std::array<uint8_t, 40> kMsKey = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

uint32_t ip(const char* s) {
  in_addr a{};
  EXPECT_EQ(inet_pton(AF_INET, s, &a), 1);
  return a.s_addr;
}
uint16_t port(uint16_t p) { return htons(p); }

// A 512-entry table that sends only entry `hot` to queue 1 (worker 1), the rest to worker 0:
// worker_for tells which entry the hash selected.
std::shared_ptr<const ReplySteering> probe(unsigned hot) {
  std::vector<uint16_t> reta(512, 0);
  reta[hot] = 1;
  std::vector<int> qw = {0, 1};
  auto s = ReplySteering::toeplitz(kMsKey, reta, qw, 2, true, false);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.message());
  return *s;
}

TEST(ReplySteering, MatchesTheMicrosoftVerificationVectors) {
  // Source 66.9.149.187:2794 -> destination 161.142.100.80:1766: TCP hash 0x51ccc178, IPv4-only
  // hash 0x323e8fc2. The reply's source is the real server, its destination the local address.
  const uint32_t rip = ip("66.9.149.187"), laddr = ip("161.142.100.80");
  auto tcp = probe(0x51ccc178 & 511);
  EXPECT_EQ(tcp->worker_for(Proto::tcp, rip, laddr, port(2794), port(1766)), 1);
  EXPECT_EQ(tcp->worker_for(Proto::tcp, rip, laddr, port(2794), port(1767)), 0);
  // UDP is hashed on the addresses only in this steering (l4_udp = false).
  auto l3 = probe(0x323e8fc2 & 511);
  EXPECT_EQ(l3->worker_for(Proto::udp, rip, laddr, port(2794), port(1766)), 1);
  EXPECT_EQ(l3->worker_for(Proto::udp, rip, laddr, port(1), port(2)), 1);
  // Second vector: 199.92.111.2:14230 -> 65.69.140.83:4739, TCP 0xc626b0ea.
  auto tcp2 = probe(0xc626b0ea & 511);
  EXPECT_EQ(
      tcp2->worker_for(Proto::tcp, ip("199.92.111.2"), ip("65.69.140.83"), port(14230), port(4739)),
      1);
}

TEST(ReplySteering, RejectsWhatCannotBeAHashSetup) {
  std::vector<uint16_t> reta(128, 0);
  std::vector<int> qw = {0};
  EXPECT_FALSE(ReplySteering::toeplitz(std::span(kMsKey).first(8), reta, qw, 1, true, true).ok());
  std::vector<uint16_t> odd(100, 0);
  EXPECT_FALSE(ReplySteering::toeplitz(kMsKey, odd, qw, 1, true, true).ok());
  std::vector<uint16_t> none;
  EXPECT_FALSE(ReplySteering::toeplitz(kMsKey, none, qw, 1, true, true).ok());
  std::vector<int> bad_worker = {5};
  EXPECT_FALSE(ReplySteering::toeplitz(kMsKey, reta, bad_worker, 2, true, true).ok());
}

struct Rs {
  uint32_t ip;
  uint16_t port;
};

// Four workers, a 128-entry table spread round-robin over four queues, as most NICs default.
class RssPools : public ::testing::Test {
 protected:
  static constexpr unsigned kWorkers = 4;
  static constexpr uint16_t kFirst = 1024, kLast = 32767;
  void SetUp() override {
    std::vector<uint16_t> reta(128);
    for (size_t e = 0; e < reta.size(); ++e) reta[e] = static_cast<uint16_t>(e % 4);
    std::vector<int> qw = {0, 1, 2, 3};
    auto s = ReplySteering::toeplitz(kMsKey, reta, qw, kWorkers, true, true);
    ASSERT_TRUE(s.ok()) << s.message();
    steering_ = *s;
    for (unsigned w = 0; w < kWorkers; ++w)
      pools_.push_back(std::make_unique<LocalPortPool>(steering_, w, kFirst, kLast));
  }
  std::shared_ptr<const ReplySteering> steering_;
  std::vector<std::unique_ptr<LocalPortPool>> pools_;
  const uint32_t laddr_ = ip("10.0.1.1");
};

TEST_F(RssPools, EveryPortBringsTheReplyBackToItsWorker) {
  std::mt19937 rng(7);
  std::set<std::tuple<uint32_t, uint16_t, uint16_t>> used;  // (rip, rport, lport)
  for (int i = 0; i < 20000; ++i) {
    const Rs rs{htonl(0x0a000100u + rng() % 64), port(static_cast<uint16_t>(8000 + rng() % 4))};
    const unsigned w = rng() % kWorkers;
    const Proto proto = i % 3 == 0 ? Proto::udp : Proto::tcp;
    const uint16_t lp = pools_[w]->get(proto, rs.ip, laddr_, rs.port);
    ASSERT_NE(lp, 0) << "pool of worker " << w << " ran dry after " << i;
    ASSERT_EQ(steering_->worker_for(proto, rs.ip, laddr_, rs.port, lp), static_cast<int>(w));
    const uint16_t host = ntohs(lp);
    ASSERT_GE(host, kFirst);
    ASSERT_LE(host, kLast);
    // Within a worker a port is out once; across workers the same port serves different real
    // servers. Either way no two live connections share a reply tuple.
    EXPECT_TRUE(used.insert({rs.ip, rs.port, lp}).second);
  }
}

TEST_F(RssPools, WorkersTogetherUseTheWholePortSpaceForOneRealServer) {
  const Rs rs{ip("10.0.1.11"), port(8080)};
  const size_t total = kLast - kFirst + 1;
  std::map<unsigned, std::vector<uint16_t>> got;
  std::set<uint16_t> all;
  for (unsigned w = 0; w < kWorkers; ++w) {
    while (uint16_t lp = pools_[w]->get(Proto::tcp, rs.ip, laddr_, rs.port)) {
      EXPECT_EQ(steering_->worker_for(Proto::tcp, rs.ip, laddr_, rs.port, lp), static_cast<int>(w));
      EXPECT_TRUE(all.insert(lp).second) << "port " << ntohs(lp) << " handed out twice";
      got[w].push_back(lp);
    }
    // A balanced table: each worker gets about a quarter of the ports.
    EXPECT_GT(got[w].size(), total / kWorkers * 8 / 10) << "worker " << w;
    EXPECT_LT(got[w].size(), total / kWorkers * 12 / 10) << "worker " << w;
  }
  EXPECT_EQ(all.size(), total);
  // What is left in each pool serves other real servers; giving everything back restores it.
  for (unsigned w = 0; w < kWorkers; ++w) {
    EXPECT_EQ(pools_[w]->free(), total - got[w].size());
    for (uint16_t lp : got[w]) pools_[w]->put(lp);
    EXPECT_EQ(pools_[w]->free(), total);
    pools_[w]->put(got[w].empty() ? port(kFirst) : got[w][0]);  // a double put is ignored
    EXPECT_EQ(pools_[w]->free(), total);
  }
}

TEST(ReplySteeringPools, QueuesNoWorkerPollsAreNeverChosen) {
  // Queue 1 is in the table but polled by nobody: its entries must never be picked.
  std::vector<uint16_t> reta(64);
  for (size_t e = 0; e < reta.size(); ++e) reta[e] = static_cast<uint16_t>(e % 2);
  std::vector<int> qw = {0, -1};
  auto s = ReplySteering::toeplitz(kMsKey, reta, qw, 1, true, true);
  ASSERT_TRUE(s.ok());
  LocalPortPool pool(*s, 0, 1024, 2047);
  size_t n = 0;
  while (uint16_t lp = pool.get(Proto::tcp, ip("10.0.1.12"), ip("10.0.1.1"), port(80))) {
    EXPECT_EQ((*s)->worker_for(Proto::tcp, ip("10.0.1.12"), ip("10.0.1.1"), port(80), lp), 0);
    ++n;
  }
  EXPECT_GT(n, 400u);
  EXPECT_LT(n, 624u);
}

TEST(ReplySteeringPools, AddressOnlyHashGivesAllPortsOrNone) {
  std::vector<uint16_t> reta(128);
  for (size_t e = 0; e < reta.size(); ++e) reta[e] = static_cast<uint16_t>(e % 2);
  std::vector<int> qw = {0, 1};
  auto s = ReplySteering::toeplitz(kMsKey, reta, qw, 2, true, /*l4_udp=*/false);
  ASSERT_TRUE(s.ok());
  LocalPortPool p0(*s, 0, 1024, 1279), p1(*s, 1, 1024, 1279);
  const uint32_t rip = ip("10.0.1.13"), la = ip("10.0.1.1");
  const int owner = (*s)->worker_for(Proto::udp, rip, la, port(53), port(1024));
  ASSERT_TRUE(owner == 0 || owner == 1);
  LocalPortPool& mine = owner == 0 ? p0 : p1;
  LocalPortPool& other = owner == 0 ? p1 : p0;
  EXPECT_EQ(other.get(Proto::udp, rip, la, port(53)), 0);
  size_t n = 0;
  while (mine.get(Proto::udp, rip, la, port(53))) ++n;
  EXPECT_EQ(n, 256u);
}

TEST(ReplySteeringPools, SingleWorkerAndPortModulo) {
  LocalPortPool one(ReplySteering::single(0, 1), 0, 1024, 1033);
  EXPECT_EQ(one.size(), 10u);
  EXPECT_EQ(ntohs(one.get(Proto::tcp, ip("10.0.1.11"), ip("10.0.1.1"), port(80))), 1024);
  // Without known RSS, two workers split the port space by parity and never overlap.
  auto mod = ReplySteering::port_modulo(2);
  LocalPortPool a(mod, 0, 1024, 1033), b(mod, 1, 1024, 1033);
  EXPECT_EQ(a.size(), 5u);
  EXPECT_EQ(b.size(), 5u);
  std::set<uint16_t> seen;
  while (uint16_t lp = a.get(Proto::tcp, ip("10.0.1.11"), ip("10.0.1.1"), port(80))) {
    EXPECT_EQ(ntohs(lp) % 2, 0);
    seen.insert(lp);
  }
  while (uint16_t lp = b.get(Proto::tcp, ip("10.0.1.11"), ip("10.0.1.1"), port(80))) {
    EXPECT_EQ(ntohs(lp) % 2, 1);
    seen.insert(lp);
  }
  EXPECT_EQ(seen.size(), 10u);
}

TEST(ReplySteeringPools, RegistryUsesThePortsSteering) {
  std::vector<uint16_t> reta(128);
  for (size_t e = 0; e < reta.size(); ++e) reta[e] = static_cast<uint16_t>(e % 2);
  std::vector<int> qw = {1, 0};  // queue 0 polled by worker 1, queue 1 by worker 0
  auto s = ReplySteering::toeplitz(kMsKey, reta, qw, 2, true, true);
  ASSERT_TRUE(s.ok());
  LbRegistry reg(2);
  reg.set_reply_steering(3, *s);
  ServiceSpec spec;
  spec.key = {Proto::tcp, IpAddr::from_v4(Ipv4Addr{ip("10.0.0.100")}), L4Port{port(80)}};
  ASSERT_TRUE(reg.add_service(spec).ok());
  ASSERT_TRUE(reg.add_laddr(spec.key, IpAddr::from_v4(Ipv4Addr{ip("10.0.1.1")}), "dpdk1", 3).ok());
  ASSERT_TRUE(reg.add_laddr(spec.key, IpAddr::from_v4(Ipv4Addr{ip("10.0.1.2")}), "dpdk0", 0).ok());
  const auto& las = reg.find(spec.key)->laddrs;
  EXPECT_EQ(las[0]->pools[1]->steering().kind(), ReplySteering::Kind::toeplitz);
  const uint16_t lp =
      las[0]->pools[1]->get(Proto::tcp, ip("10.0.1.11"), ip("10.0.1.1"), port(8080));
  ASSERT_NE(lp, 0);
  EXPECT_EQ((*s)->worker_for(Proto::tcp, ip("10.0.1.11"), ip("10.0.1.1"), port(8080), lp), 1);
  // A port without a known steering falls back to splitting the port space.
  EXPECT_EQ(las[1]->pools[0]->steering().kind(), ReplySteering::Kind::port_modulo);
}

}  // namespace
}  // namespace vsgate
