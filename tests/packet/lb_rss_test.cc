// FULLNAT with two workers on a NIC with Toeplitz RSS: each worker's SYNs leave with local ports
// whose replies the NIC hashes back to that worker, and the reply is forwarded by that worker.
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include <array>
#include <set>

#include "ipv4/classify.h"
#include "lab_topology.h"
#include "lb/lb_hook.h"

namespace vsgate {
namespace {

using test::Bytes;
using test::PacketBuilder;

constexpr std::array<uint8_t, 40> kRssKey = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};
// Shared topology (lab_topology.h), with the real server at 10.0.1.77, not .2: a real server
// address close to the local address could hide swapped arguments (hash(a, b) and hash(b, a)
// can agree on the bits that pick the entry).
using test::lab::kClientMac;
using test::lab::kPort0Mac;
using test::lab::kPort1Mac;
constexpr const char* kRsMac = "02:00:00:00:01:77";

using test::ether;

Bytes tcp(const char* dmac, const char* smac, uint32_t src_be, uint16_t sport, uint32_t dst_be,
          uint16_t dport, uint8_t flags) {
  const std::string src = Ipv4Addr{src_be}.str(), dst = Ipv4Addr{dst_be}.str();
  return PacketBuilder()
      .eth(dmac, smac, RTE_ETHER_TYPE_IPV4)
      .ipv4(src.c_str(), dst.c_str(), 64, IPPROTO_TCP, 20)
      .tcp(sport, dport, flags, 0)
      .build();
}

TEST(LbRss, EachWorkersRepliesComeBackToIt) {
  rte_mempool* pool = rte_pktmbuf_pool_create("lbrss", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  ASSERT_NE(pool, nullptr);
  test::lab::FibOptions fo;
  fo.extra_neighbours = {{test::ip("10.0.1.77"), test::mac(kRsMac), 1}};
  auto fib = test::lab::make_fib(fo);
  ASSERT_TRUE(fib.ok()) << fib.message();
  // The registry of two workers; this world's LbWorker is worker 0.
  test::lab::LbWorldOptions wo;
  wo.workers = 2;
  wo.lab_services = false;
  test::lab::LbWorld world(wo);
  ASSERT_EQ(world.error, "");

  // Port 1 (the local address's port): 128 entries over two queues, queue q polled by worker q,
  // in an irregular order so that a hash over the wrong tuple cannot land right by symmetry.
  std::vector<uint16_t> reta(128);
  uint32_t lcg = 12345;
  for (auto& q : reta) q = static_cast<uint16_t>(((lcg = lcg * 1103515245u + 12345u) >> 16) & 1);
  std::vector<int> queue_worker = {0, 1};
  auto steering = ReplySteering::toeplitz(kRssKey, reta, queue_worker, 2, true, true);
  ASSERT_TRUE(steering.ok()) << steering.message();
  LbRegistry& reg = *world.reg;
  reg.set_reply_steering(1, *steering);
  const ServiceKey k = test::svc(Proto::tcp, "10.0.0.100", 80);
  ASSERT_TRUE(reg.add_service({k, SchedulerKind::rr, 0}).ok());
  ASSERT_TRUE(reg.add_real(k, test::real("10.0.1.77", 8080, FwdMode::fullnat)).ok());
  ASSERT_TRUE(reg.add_laddr(k, test::addr(test::lab::kLaddr), "dpdk1", 1).ok());
  ASSERT_TRUE(world.publish().ok());
  const auto& snap = world.snap;
  std::array<LbWorker*, 2> workers{world.worker.get()};
  LbWorker second(1, 2, 1024, world.to_main.get(), reg.counters(), reg.laddr_slots());
  second.set_timeouts(snap->timeouts);
  workers[1] = &second;

  std::array<NextHops, 2> hops;
  auto run = [&](unsigned w, const Bytes& frame, uint16_t port, Bytes* out) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    EXPECT_NE(m, nullptr);
    std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size())), frame.data(),
                frame.size());
    m->port = port;
    LbHook ctx{workers[w], snap.get(), 1000};
    const Decision d = classify(m, **fib, hops[w], ctx);
    auto* b = rte_pktmbuf_mtod(m, uint8_t*);
    if (out) out->assign(b, b + rte_pktmbuf_data_len(m));
    rte_pktmbuf_free(m);
    return d;
  };

  const uint32_t client = test::ip("10.0.0.2").be, vip = test::ip("10.0.0.100").be;
  const uint32_t laddr = test::ip("10.0.1.1").be, rip = test::ip("10.0.1.77").be;
  std::set<uint16_t> lports[2];
  for (uint16_t i = 0; i < 200; ++i) {
    const unsigned w = i % 2;  // RSS of the client side spreads clients over both workers
    const uint16_t cport = static_cast<uint16_t>(40000 + i);
    Bytes syn_out;
    Decision d =
        run(w, tcp(kPort0Mac, kClientMac, client, cport, vip, 80, RTE_TCP_SYN_FLAG), 0, &syn_out);
    ASSERT_EQ(static_cast<int>(d.verdict), static_cast<int>(Verdict::forward)) << i;
    ASSERT_EQ(d.out_port, 1);
    // The forwarded SYN: laddr:lport -> rip:8080. Read the local port it chose.
    constexpr size_t kTcpOff = sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr);
    const auto* th = reinterpret_cast<const rte_tcp_hdr*>(syn_out.data() + kTcpOff);
    const uint16_t lport = th->src_port;
    EXPECT_EQ(th->dst_port, L4Port::from_host(8080).be);
    EXPECT_EQ((*steering)->worker_for(Proto::tcp, rip, laddr, L4Port::from_host(8080).be, lport),
              static_cast<int>(w))
        << "reply of client port " << cport << " would reach the other worker";
    EXPECT_TRUE(lports[w].insert(lport).second);
    // The NIC delivers the SYN+ACK to that worker, which translates it back to the client.
    Bytes reply_out;
    const uint16_t lport_host = rte_be_to_cpu_16(lport);
    d = run(
        w,
        tcp(kPort1Mac, kRsMac, rip, 8080, laddr, lport_host, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG),
        1, &reply_out);
    ASSERT_EQ(static_cast<int>(d.verdict), static_cast<int>(Verdict::forward)) << i;
    EXPECT_EQ(d.out_port, 0);
    EXPECT_EQ(reply_out, tcp(kClientMac, kPort0Mac, vip, 80, client, cport,
                             RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG));
  }
  EXPECT_EQ(workers[0]->conns().size(), 100u);
  EXPECT_EQ(workers[1]->conns().size(), 100u);
  rte_mempool_free(pool);
}

}  // namespace
}  // namespace vsgate
