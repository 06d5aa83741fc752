// A service with as many real servers as a service may have (kMaxRealServersPerService, 4096),
// through one worker, for every scheduler: new connections go only to the few with a weight
// when the others are quiesced (weight 0), and spread over all of them when all have one.
// Before, a worker scheduled among at most 256 real servers and dropped every new connection
// of a larger service (lb_no_dest).
//
// The lab topology (lab_topology.h): the real servers are 10.0.1.2..5 (known neighbours on
// port 1), each on 1,024 ports; NAT, so a forwarded SYN names its real server (address, port).
#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <cstring>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "app/drop_reasons.h"
#include "ipv4/classify.h"
#include "lab_topology.h"
#include "lb/lb_hook.h"
#include "lb/model.h"

namespace vsgate {
namespace {

using test::Bytes;
using test::lab::kClientMac;
using test::lab::kPort0Mac;
using test::lab::kSyn;

constexpr const char* kVip = "10.0.0.120";
constexpr uint32_t kReals = kMaxRealServersPerService;

// Real server i: 10.0.1.(2 + i % 4):(10000 + i).
std::string rip(uint32_t i) { return "10.0.1." + std::to_string(2 + i % 4); }
uint16_t rport(uint32_t i) { return static_cast<uint16_t>(10000 + i); }

using Endpoint4 = std::pair<uint32_t, uint16_t>;  // address, port (network order)
Endpoint4 endpoint_of(uint32_t i) {
  return {test::ip(rip(i).c_str()).be, rte_cpu_to_be_16(rport(i))};
}

class LbManyRealsTest : public ::testing::TestWithParam<SchedulerKind> {
 protected:
  void SetUp() override {
    pool_ = rte_pktmbuf_pool_create(test::lab::unique_name("lbmany").c_str(), 255, 0, 0,
                                    RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool_, nullptr);
    ASSERT_EQ(world_.error, "");
    auto fib = test::lab::make_fib();
    ASSERT_TRUE(fib.ok()) << fib.message();
    fib_ = std::move(fib.value());
  }
  void TearDown() override { rte_mempool_free(pool_); }

  // The service with kReals NAT real servers; weight(i) of each.
  template <class Weight>
  void add_service(SchedulerKind kind, Weight weight) {
    const ServiceKey k = test::svc(Proto::tcp, kVip, 80);
    ASSERT_TRUE(world_.reg->add_service({k, kind, 0}).ok());
    for (uint32_t i = 0; i < kReals; ++i) {
      RealServerSpec r = test::real(rip(i).c_str(), rport(i), FwdMode::nat);
      r.weight = weight(i);
      ASSERT_TRUE(world_.reg->add_real(k, r).ok()) << i;
    }
    // One more is refused, with the model's message (lb/model.h).
    const Status st = world_.reg->add_real(k, test::real("10.0.1.2", 9999, FwdMode::nat));
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("a service has at most 4096 real servers"), std::string::npos)
        << st.message();
    ASSERT_EQ(world_.reg->find(k)->reals.size(), kReals);
    ASSERT_TRUE(world_.publish().ok());
  }

  // A SYN from client n (10.9.x.y:port, distinct addresses: sh and mh hash the address) to the
  // VIP; the real server it was forwarded to, or nullopt (and a failure) if it was not.
  std::optional<Endpoint4> syn(uint32_t n) {
    const std::string src =
        "10.9." + std::to_string((n >> 8) & 0xff) + "." + std::to_string(n & 0xff);
    const Bytes f = test::lab::tcp_frame(kPort0Mac, kClientMac, src.c_str(),
                                         static_cast<uint16_t>(20000 + n % 40000), kVip, 80, kSyn);
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    EXPECT_NE(m, nullptr);
    if (!m) return std::nullopt;
    std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(f.size())), f.data(), f.size());
    m->port = 0;
    LbHook ctx{world_.worker.get(), world_.snap.get(), 1000};
    const Decision d = classify(m, *fib_, world_.hops, ctx);
    std::optional<Endpoint4> out;
    if (d.verdict == Verdict::forward) {
      const uint8_t* b = rte_pktmbuf_mtod(m, const uint8_t*);
      uint32_t dst;
      uint16_t dport;
      std::memcpy(&dst, b + 14 + 16, 4);
      std::memcpy(&dport, b + 14 + 20 + 2, 2);
      out = Endpoint4{dst, dport};
    } else {
      ADD_FAILURE() << "SYN " << n << ": verdict " << static_cast<int>(d.verdict)
                    << (d.verdict == Verdict::drop ? " " + std::string(drop_reason_name(d.reason))
                                                   : "");
    }
    rte_pktmbuf_free(m);
    return out;
  }

  rte_mempool* pool_ = nullptr;
  std::unique_ptr<const Fib> fib_;
  static test::lab::LbWorldOptions options() {
    test::lab::LbWorldOptions o;
    o.conn_capacity = 16384;
    o.lab_services = false;
    return o;
  }
  test::lab::LbWorld world_{options()};
};

// 4,092 of 4,096 quiesced: every new connection goes to one of the four with a weight, each of
// them gets some, wherever they sit in the service.
TEST_P(LbManyRealsTest, QuiescedRealServersGetNoNewConnections) {
  const std::map<uint32_t, uint32_t> weighted = {{0, 1}, {1500, 2}, {2901, 3}, {kReals - 1, 4}};
  add_service(GetParam(), [&](uint32_t i) {
    auto it = weighted.find(i);
    return it == weighted.end() ? 0u : it->second;
  });
  std::map<Endpoint4, uint32_t> allowed;
  for (const auto& [i, w] : weighted) allowed[endpoint_of(i)] = w;
  std::map<Endpoint4, unsigned> got;
  for (uint32_t n = 0; n < 400; ++n) {
    const auto to = syn(n);
    if (!to) continue;
    EXPECT_TRUE(allowed.count(*to)) << "SYN " << n << " went to a quiesced real server";
    ++got[*to];
  }
  EXPECT_EQ(got.size(), weighted.size()) << "every weighted real server gets connections";
  EXPECT_EQ(world_.worker->counters.created.get(), 400u);
}

// All 4,096 with a weight: connections spread over all of them. rr, wrr (equal weights), lc
// and wlc (every connection still counts while the next one is scheduled) give each real
// server exactly one in 4,096 SYNs; sh and mh hash the client: most real servers get one.
TEST_P(LbManyRealsTest, ConnectionsSpreadOverAllRealServers) {
  add_service(GetParam(), [](uint32_t) { return 1u; });
  std::map<Endpoint4, unsigned> got;
  for (uint32_t n = 0; n < kReals; ++n)
    if (const auto to = syn(n)) ++got[*to];
  std::set<Endpoint4> all;
  for (uint32_t i = 0; i < kReals; ++i) all.insert(endpoint_of(i));
  for (const auto& [e, count] : got) EXPECT_TRUE(all.count(e));
  const SchedulerKind k = GetParam();
  if (k == SchedulerKind::sh || k == SchedulerKind::mh) {
    // 4,096 clients hashed onto 4,096 real servers: about 1 - 1/e of them get one.
    EXPECT_GT(got.size(), kReals / 2);
    for (const auto& [e, count] : got) EXPECT_LE(count, 12u);
  } else {
    EXPECT_EQ(got.size(), kReals);
    for (const auto& [e, count] : got) EXPECT_EQ(count, 1u);
  }
}

INSTANTIATE_TEST_SUITE_P(Schedulers, LbManyRealsTest,
                         ::testing::Values(SchedulerKind::rr, SchedulerKind::wrr, SchedulerKind::lc,
                                           SchedulerKind::wlc, SchedulerKind::sh,
                                           SchedulerKind::mh),
                         [](const auto& info) { return std::string(scheduler_name(info.param)); });

}  // namespace
}  // namespace vsgate
