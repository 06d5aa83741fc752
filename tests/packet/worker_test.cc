// The real worker body (worker_turn, lcore/worker_turn.h) on the lab's ring ports, driven by
// fixture tables in the style of Katran's PacketAttributes: each row is an input frame and its
// port, the expected verdict, the expected output frame and port, and the expected change of
// every counter (worker, load balancer, real servers). A row runs as one loop turn; the rows of
// a table run in order through one worker, so a SYN creates the connection its reply finds.
#include <gtest/gtest.h>
#include <rte_arp.h>

#include <optional>
#include <vector>

#include "worker_harness.h"

namespace vsgate {
namespace {

using test::Bytes;
using test::Counts;
using test::PacketBuilder;
using test::WorkerHarness;
using namespace test::lab;

struct Row {
  const char* name;
  uint16_t in_port;
  Bytes in;
  Verdict verdict;
  std::optional<Bytes> out;  // forward: the frame transmitted
  uint16_t out_port = 0;
  Counts counts;  // expected deltas besides rx_packets (always 1)
};

const Counts kFwd{{"forwarded", 1}, {"tx_packets", 1}};
const Counts kPunt{{"punted", 1}};
template <DropReasonEnum E>
Counts dropped(E r) {
  return {{"drop." + std::string(drop_name(r)), 1}};
}

class WorkerTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(world_.error, "");
    auto fib = make_fib();
    ASSERT_TRUE(fib.ok()) << fib.message();
    h_ = std::make_unique<WorkerHarness>(world_, std::move(fib.value()));
    ASSERT_EQ(h_->error, "");
  }
  void TearDown() override { h_.reset(); }

  void run(const std::vector<Row>& table) {
    for (const Row& r : table) {
      SCOPED_TRACE(r.name);
      const Counts before = h_->counters();
      ASSERT_TRUE(h_->receive(r.in_port, r.in));
      EXPECT_EQ(h_->turn(), 1u);
      const std::vector<Bytes> tx0 = h_->transmitted(0), tx1 = h_->transmitted(1);
      const std::vector<Bytes> punted = h_->punted();
      switch (r.verdict) {
        case Verdict::forward:
          ASSERT_TRUE(r.out.has_value());
          EXPECT_EQ(r.out_port == 0 ? tx0 : tx1, std::vector<Bytes>{*r.out});
          EXPECT_TRUE((r.out_port == 0 ? tx1 : tx0).empty());
          EXPECT_TRUE(punted.empty());
          break;
        case Verdict::punt:  // to the host as it arrived
          EXPECT_EQ(punted, std::vector<Bytes>{r.in});
          EXPECT_TRUE(tx0.empty() && tx1.empty());
          break;
        default:
          EXPECT_TRUE(tx0.empty() && tx1.empty() && punted.empty());
          break;
      }
      EXPECT_EQ(WorkerHarness::delta(before, h_->counters()),
                (r.counts + Counts{{"rx_packets", 1}}));
      // Every mbuf went back to the pool: transmitted (and drained), punted or freed.
      EXPECT_EQ(rte_mempool_in_use_count(h_->pool()), 0u);
    }
  }

  LbWorld world_;
  std::unique_ptr<WorkerHarness> h_;
};

Bytes c2v(const char* vip, uint16_t sport, uint16_t dport, uint8_t flags) {
  return tcp_frame(kPort0Mac, kClientMac, kClient, sport, vip, dport, flags);
}

TEST_F(WorkerTableTest, FullNat) {
  const Counts rs_in{{"rs.10.0.1.2:8080.inpkts", 1}}, rs_out{{"rs.10.0.1.2:8080.outpkts", 1}};
  const Counts created{{"lb.created", 1},
                       {"lb.conns", 1},
                       {"rs.10.0.1.2:8080.conns", 1},
                       {"rs.10.0.1.2:8080.live", 1}};
  run({
      {"SYN: source the local address and first port, destination the real server", 0,
       c2v(kVipFullNat, 40000, 80, kSyn), Verdict::forward,
       tcp_frame(kRs2Mac, kPort1Mac, kLaddr, 1024, "10.0.1.2", 8080, kSyn), 1,
       kFwd + rs_in + created + Counts{{"rs.10.0.1.2:8080.inactive", 1}}},
      {"SYN+ACK from the real server back to the client, from the VIP", 1,
       tcp_frame(kPort1Mac, kRs2Mac, "10.0.1.2", 8080, kLaddr, 1024, kSyn | kAck), Verdict::forward,
       tcp_frame(kClientMac, kPort0Mac, kVipFullNat, 80, kClient, 40000, kSyn | kAck), 0,
       kFwd + rs_out},
      {"ACK: ESTABLISHED, an active connection", 0, c2v(kVipFullNat, 40000, 80, kAck),
       Verdict::forward, tcp_frame(kRs2Mac, kPort1Mac, kLaddr, 1024, "10.0.1.2", 8080, kAck), 1,
       kFwd + rs_in + Counts{{"rs.10.0.1.2:8080.active", 1}, {"rs.10.0.1.2:8080.inactive", -1}}},
      {"a second client gets the next local port", 0, c2v(kVipFullNat, 40001, 80, kSyn),
       Verdict::forward, tcp_frame(kRs2Mac, kPort1Mac, kLaddr, 1025, "10.0.1.2", 8080, kSyn), 1,
       kFwd + rs_in + created + Counts{{"rs.10.0.1.2:8080.inactive", 1}}},
      {"UDP FULLNAT", 0, udp_frame(kPort0Mac, kClientMac, kClient, 5000, kVipFullNat, 53),
       Verdict::forward, udp_frame(kRs2Mac, kPort1Mac, kLaddr, 1026, "10.0.1.2", 53), 1,
       kFwd + Counts{{"lb.created", 1},
                     {"lb.conns", 1},
                     {"rs.10.0.1.2:53.conns", 1},
                     {"rs.10.0.1.2:53.inpkts", 1},
                     {"rs.10.0.1.2:53.inactive", 1},
                     {"rs.10.0.1.2:53.live", 1}}},
  });
}

TEST_F(WorkerTableTest, NatDrAndTunnel) {
  const Bytes tun_in = c2v(kVipTunnel, 40000, 80, kSyn);
  // Tunnel: Ethernet to rs5, outer IPv4 10.0.1.1 -> 10.0.1.5 proto 4, then the inner packet
  // exactly as the client sent it.
  const Bytes inner(tun_in.begin() + 14, tun_in.end());
  PacketBuilder tun_out;
  tun_out.eth(kRs5Mac, kPort1Mac, RTE_ETHER_TYPE_IPV4)
      .ipv4(kLaddr, "10.0.1.5", 64, IPPROTO_IPIP, static_cast<uint16_t>(inner.size()));
  tun_out.ip_hdr()->packet_id = 0;
  tun_out.fix_ipv4_checksum();
  tun_out.raw(inner);
  auto created = [](const std::string& rs) {
    return Counts{{"lb.created", 1},           {"lb.conns", 1},
                  {"rs." + rs + ".conns", 1},  {"rs." + rs + ".live", 1},
                  {"rs." + rs + ".inpkts", 1}, {"rs." + rs + ".inactive", 1}};
  };
  run({
      {"NAT SYN: destination the real server", 0, c2v(kVipNat, 40000, 80, kSyn), Verdict::forward,
       tcp_frame(kRs3Mac, kPort1Mac, kClient, 40000, "10.0.1.3", 80, kSyn), 1,
       kFwd + created("10.0.1.3:80")},
      {"NAT SYN+ACK: source the VIP again", 1,
       tcp_frame(kPort1Mac, kRs3Mac, "10.0.1.3", 80, kClient, 40000, kSyn | kAck), Verdict::forward,
       tcp_frame(kClientMac, kPort0Mac, kVipNat, 80, kClient, 40000, kSyn | kAck), 0,
       kFwd + Counts{{"rs.10.0.1.3:80.outpkts", 1}}},
      {"DR SYN: MACs only", 0, c2v(kVipDr, 40000, 80, kSyn), Verdict::forward,
       tcp_frame(kRs4Mac, kPort1Mac, kClient, 40000, kVipDr, 80, kSyn), 1,
       kFwd + created("10.0.1.4:80")},
      {"DR ACK follows the connection (ESTABLISHED: the client side is all we see)", 0,
       c2v(kVipDr, 40000, 80, kAck), Verdict::forward,
       tcp_frame(kRs4Mac, kPort1Mac, kClient, 40000, kVipDr, 80, kAck), 1,
       kFwd + Counts{{"rs.10.0.1.4:80.inpkts", 1},
                     {"rs.10.0.1.4:80.active", 1},
                     {"rs.10.0.1.4:80.inactive", -1}}},
      {"TUNNEL SYN: IPIP to the real server", 0, tun_in, Verdict::forward, tun_out.build(), 1,
       kFwd + created("10.0.1.5:80")},
  });
}

// An ICMP error message: type/code/4-byte rest, quoting `quote` (an IP packet's first bytes).
Bytes icmp_error_frame(const char* dmac, const char* smac, const char* src, const char* dst,
                       uint8_t type, uint8_t code, const Bytes& quote) {
  Bytes msg{type, code, 0, 0, 0, 0, 0, 0};
  msg.insert(msg.end(), quote.begin(), quote.end());
  const uint16_t sum = static_cast<uint16_t>(~rte_raw_cksum(msg.data(), msg.size()));
  std::memcpy(&msg[2], &sum, 2);
  return PacketBuilder()
      .eth(dmac, smac, RTE_ETHER_TYPE_IPV4)
      .ipv4(src, dst, 64, IPPROTO_ICMP, static_cast<uint16_t>(msg.size()))
      .raw(msg)
      .build();
}

TEST_F(WorkerTableTest, IcmpErrors) {
  const Bytes sent = udp_frame(kPort0Mac, kClientMac, kClient, 5000, kVipFullNat, 53);
  const Bytes fwd = udp_frame(kRs2Mac, kPort1Mac, kLaddr, 1024, "10.0.1.2", 53);
  auto first28 = [](const Bytes& f) { return Bytes(f.begin() + 14, f.begin() + 14 + 28); };
  // The client sees the error from the VIP, quoting its datagram as it sent it, except the
  // UDP checksum, which is the one of the datagram the real server received.
  Bytes quoted = sent;
  std::memcpy(&quoted[14 + 20 + 6], &fwd[14 + 20 + 6], 2);
  const Bytes stray = udp_frame(kPort0Mac, kClientMac, kLaddr, 999, "10.0.1.2", 53);
  run({
      {"UDP to the DNS service", 0, sent, Verdict::forward, fwd, 1,
       kFwd + Counts{{"lb.created", 1},
                     {"lb.conns", 1},
                     {"rs.10.0.1.2:53.conns", 1},
                     {"rs.10.0.1.2:53.inpkts", 1},
                     {"rs.10.0.1.2:53.inactive", 1},
                     {"rs.10.0.1.2:53.live", 1}}},
      {"port unreachable from the real server, translated back to the client", 1,
       icmp_error_frame(kPort1Mac, kRs2Mac, "10.0.1.2", kLaddr, 3, 3, first28(fwd)),
       Verdict::forward,
       icmp_error_frame(kClientMac, kPort0Mac, kVipFullNat, kClient, 3, 3, first28(quoted)), 0,
       kFwd + Counts{{"lb.icmp_translated", 1}, {"rs.10.0.1.2:53.outpkts", 1}}},
      {"an error about something we never sent is the host's", 1,
       icmp_error_frame(kPort1Mac, kRs2Mac, "10.0.1.2", kLaddr, 3, 3, first28(stray)),
       Verdict::punt, std::nullopt, 0, kPunt},
      {"an error about a connection with a wrong ICMP checksum: dropped", 1,
       [&] {
         Bytes b = icmp_error_frame(kPort1Mac, kRs2Mac, "10.0.1.2", kLaddr, 3, 3, first28(fwd));
         b[14 + 20 + 2] ^= 0x01;
         return b;
       }(),
       Verdict::drop, std::nullopt, 0, dropped(LbDrop::icmp_bad_checksum)},
      {"an ICMP error in a fragment to the local address: dropped, not read", 1,
       [&] {
         Bytes b = icmp_error_frame(kPort1Mac, kRs2Mac, "10.0.1.2", kLaddr, 3, 3, first28(fwd));
         auto* ip = reinterpret_cast<rte_ipv4_hdr*>(b.data() + 14);
         ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
         ip->hdr_checksum = 0;
         ip->hdr_checksum = rte_ipv4_cksum(ip);
         return b;
       }(),
       Verdict::drop, std::nullopt, 0, dropped(LbDrop::icmp_fragment)},
  });
}

// Forged ICMP errors cannot keep an idle connection alive (they never refresh it), and a worker
// translates at most its budget of them: kIcmpErrorBurst at once, kIcmpErrorsPerTick a tick.
TEST_F(WorkerTableTest, IcmpErrorsNeitherRefreshNorFlood) {
  const Bytes sent = udp_frame(kPort0Mac, kClientMac, kClient, 5001, kVipFullNat, 53);
  const Bytes fwd = udp_frame(kRs2Mac, kPort1Mac, kLaddr, 1024, "10.0.1.2", 53);
  const Bytes err = icmp_error_frame(kPort1Mac, kRs2Mac, "10.0.1.2", kLaddr, 3, 3,
                                     Bytes(fwd.begin() + 14, fwd.begin() + 14 + 28));
  ASSERT_TRUE(h_->receive(0, sent));
  EXPECT_EQ(h_->turn(), 1u);
  ASSERT_EQ(h_->transmitted(1).size(), 1u);
  const uint32_t start = h_->now();

  // A burst of errors in one tick: the budget's worth are translated, the rest dropped.
  const Counts before = h_->counters();
  const uint32_t n = LbWorker::kIcmpErrorBurst + 44;
  for (uint32_t sent_n = 0; sent_n < n;) {
    const uint32_t k = std::min<uint32_t>(32, n - sent_n);
    for (uint32_t i = 0; i < k; ++i) ASSERT_TRUE(h_->receive(1, err));
    h_->turn();
    sent_n += k;
  }
  EXPECT_EQ(h_->transmitted(0).size(), LbWorker::kIcmpErrorBurst);
  Counts d = WorkerHarness::delta(before, h_->counters());
  EXPECT_EQ(d["lb.icmp_translated"], LbWorker::kIcmpErrorBurst);
  EXPECT_EQ(d["drop.lb_icmp_rate_limited"], 44);
  // One tick later the bucket holds one tick's worth again.
  h_->set_now(start + 1);
  for (uint32_t i = 0; i < LbWorker::kIcmpErrorsPerTick + 1; ++i) {
    ASSERT_TRUE(h_->receive(1, err));
    if (i % 32 == 31) h_->turn();
  }
  h_->turn();
  EXPECT_EQ(h_->transmitted(0).size(), LbWorker::kIcmpErrorsPerTick);
  EXPECT_EQ(rte_mempool_in_use_count(h_->pool()), 0u);

  // Errors every tick until past the UDP timeout (300 s): the connection still expires on time.
  const uint32_t timeout = ticks_from_seconds(300);
  for (uint32_t t = start + 16; t < start + timeout; t += 16) {
    h_->set_now(t);
    ASSERT_TRUE(h_->receive(1, err));
    h_->turn();
  }
  (void)h_->transmitted(0);
  h_->set_now(start + timeout + 2 * kTicksPerSecond);
  for (int i = 0; i < 8; ++i) h_->turn();  // the sweep owes the whole table after that jump
  EXPECT_EQ(h_->counters()["lb.conns"], 0) << "the errors kept the connection alive";
}

// A client port of 0 is no client's: dropped and counted, whatever it is sent to; on a
// persistence service it can no longer match the template (client, VIP, port 0) as if it were a
// connection, which rewrote it to 0.0.0.0:0 and moved the template's state and the gauges.
TEST_F(WorkerTableTest, SourcePortZeroIsDroppedAndNeverMatchesATemplate) {
  ASSERT_TRUE(
      world_.reg->edit_service({test::svc(Proto::tcp, kVipFullNat, 80), SchedulerKind::rr, 300})
          .ok());
  h_->publish();
  run({
      {"SYN on the persistent service: a connection and its template", 0,
       c2v(kVipFullNat, 40000, 80, kSyn), Verdict::forward,
       tcp_frame(kRs2Mac, kPort1Mac, kLaddr, 1024, "10.0.1.2", 8080, kSyn), 1,
       kFwd + Counts{{"lb.created", 1},
                     {"lb.conns", 2},
                     {"rs.10.0.1.2:8080.conns", 1},
                     {"rs.10.0.1.2:8080.inpkts", 1},
                     {"rs.10.0.1.2:8080.inactive", 1},
                     {"rs.10.0.1.2:8080.live", 2}}},
      {"ACK from client port 0: dropped, the template untouched", 0, c2v(kVipFullNat, 0, 80, kAck),
       Verdict::drop, std::nullopt, 0, dropped(LbDrop::src_port_zero)},
      {"SYN from client port 0: dropped", 0, c2v(kVipFullNat, 0, 80, kSyn), Verdict::drop,
       std::nullopt, 0, dropped(LbDrop::src_port_zero)},
      {"FIN+RST from client port 0: dropped", 0, c2v(kVipFullNat, 0, 80, kFin | kRst),
       Verdict::drop, std::nullopt, 0, dropped(LbDrop::src_port_zero)},
      {"UDP from port 0: dropped", 0, udp_frame(kPort0Mac, kClientMac, kClient, 0, kVipFullNat, 53),
       Verdict::drop, std::nullopt, 0, dropped(LbDrop::src_port_zero)},
      {"to the local address from port 0: dropped", 1,
       tcp_frame(kPort1Mac, kRs2Mac, "10.0.1.2", 0, kLaddr, 1024, kAck), Verdict::drop,
       std::nullopt, 0, dropped(LbDrop::src_port_zero)},
      {"the client's next connection still goes by the template", 0,
       c2v(kVipFullNat, 40001, 80, kSyn), Verdict::forward,
       tcp_frame(kRs2Mac, kPort1Mac, kLaddr, 1025, "10.0.1.2", 8080, kSyn), 1,
       kFwd + Counts{{"lb.created", 1},
                     {"lb.conns", 1},
                     {"rs.10.0.1.2:8080.conns", 1},
                     {"rs.10.0.1.2:8080.inpkts", 1},
                     {"rs.10.0.1.2:8080.inactive", 1},
                     {"rs.10.0.1.2:8080.live", 1}}},
  });
}

TEST_F(WorkerTableTest, DropsAndMalformedFrames) {
  PacketBuilder frag;
  frag.eth(kPort0Mac, kClientMac, RTE_ETHER_TYPE_IPV4)
      .ipv4(kClient, kVipFullNat, 64, IPPROTO_TCP, 20)
      .tcp(40000, 80, kSyn);
  frag.ip_hdr()->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
  frag.fix_ipv4_checksum();
  Bytes bad_csum = c2v(kVipFullNat, 40000, 80, kSyn);
  bad_csum[14 + 10] ^= 0x40;
  Bytes doff = c2v(kVipFullNat, 40000, 80, kSyn);
  doff[14 + 20 + 12] = 4 << 4;
  Bytes truncated = c2v(kVipFullNat, 40000, 80, kSyn);
  truncated.resize(30);
  run({
      {"no service on that port", 0, c2v(kVipFullNat, 40000, 81, kSyn), Verdict::drop, std::nullopt,
       0, dropped(LbDrop::vip_no_service)},
      {"TCP without SYN and without a connection", 0, c2v(kVipFullNat, 40000, 80, kAck),
       Verdict::drop, std::nullopt, 0, dropped(LbDrop::tcp_no_conn)},
      {"fragment to a VIP", 0, frag.build(), Verdict::drop, std::nullopt, 0,
       dropped(Ipv4Drop::fragment)},
      {"TCP data offset below 5", 0, doff, Verdict::drop, std::nullopt, 0,
       dropped(Ipv4Drop::l4_bad_header)},
      {"bad IPv4 header checksum", 0, bad_csum, Verdict::drop, std::nullopt, 0,
       dropped(Ipv4Drop::bad_checksum)},
      {"truncated inside the IPv4 header", 0, truncated, Verdict::drop, std::nullopt, 0,
       dropped(Ipv4Drop::truncated)},
      {"runt", 0, Bytes(10, 0xee), Verdict::drop, std::nullopt, 0, dropped(Ipv4Drop::runt)},
      {"TCP to the host's own address: the host's", 0, c2v(kPort0Addr, 40000, 22, kSyn),
       Verdict::punt, std::nullopt, 0, kPunt},
      {"IPv6: the host's", 0,
       [] {
         Bytes b = c2v(kVipFullNat, 40000, 80, kSyn);
         b[12] = 0x86, b[13] = 0xdd;
         return b;
       }(),
       Verdict::punt, std::nullopt, 0, kPunt},
  });
}

TEST_F(WorkerTableTest, ArpForAVip) {
  const Bytes req = PacketBuilder()
                        .eth("ff:ff:ff:ff:ff:ff", kClientMac, RTE_ETHER_TYPE_ARP)
                        .arp_request(kClientMac, kClient, kVipFullNat)
                        .build();
  Bytes reply = req;
  auto* eth = reinterpret_cast<rte_ether_hdr*>(reply.data());
  auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
  eth->dst_addr = test::ether(kClientMac);
  eth->src_addr = test::ether(kPort0Mac);
  arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
  arp->arp_data.arp_sha = test::ether(kPort0Mac);
  arp->arp_data.arp_sip = test::ip(kVipFullNat).be;
  arp->arp_data.arp_tha = test::ether(kClientMac);
  arp->arp_data.arp_tip = test::ip(kClient).be;
  run({
      {"ARP for a VIP on its port: answered there", 0, req, Verdict::forward, reply, 0, kFwd},
      {"ARP for a VIP on the other port: the host's", 1, req, Verdict::punt, std::nullopt, 0,
       kPunt},
      {"ARP for the host's own address: the host's", 0,
       PacketBuilder()
           .eth("ff:ff:ff:ff:ff:ff", kClientMac, RTE_ETHER_TYPE_ARP)
           .arp_request(kClientMac, kClient, kPort0Addr)
           .build(),
       Verdict::punt, std::nullopt, 0, kPunt},
  });
}

// Connections expire in the sweep of a later turn: the table and the counts go back to zero.
TEST_F(WorkerTableTest, ExpiryInTheTurnGivesBackCounts) {
  run({{"SYN", 0, c2v(kVipFullNat, 40000, 80, kSyn), Verdict::forward,
        tcp_frame(kRs2Mac, kPort1Mac, kLaddr, 1024, "10.0.1.2", 8080, kSyn), 1,
        kFwd + Counts{{"lb.created", 1},
                      {"lb.conns", 1},
                      {"rs.10.0.1.2:8080.conns", 1},
                      {"rs.10.0.1.2:8080.inpkts", 1},
                      {"rs.10.0.1.2:8080.inactive", 1},
                      {"rs.10.0.1.2:8080.live", 1}}}});
  const Counts before = h_->counters();
  h_->set_now(h_->now() + ticks_from_seconds(61));  // SYN_RECV times out after 60 s
  // A jump of the clock beyond a sweep period owes the whole 1,024-slot table, 256 slots a turn
  // (lb/core/sweep_pacer.h): four turns. Sixteen leave room.
  for (int i = 0; i < 16; ++i) EXPECT_EQ(h_->turn(), 0u);
  EXPECT_EQ(
      WorkerHarness::delta(before, h_->counters()),
      (Counts{{"lb.conns", -1}, {"rs.10.0.1.2:8080.inactive", -1}, {"rs.10.0.1.2:8080.live", -1}}));
}

// The sweep is paced by the clock, not by loop turns: with the clock moving one tick at a time,
// a connection nothing looks up leaves the table no earlier than its timeout and at most one
// sweep period (1 s) after it, and many turns within one tick sweep no more than that tick owes.
TEST_F(WorkerTableTest, SweepLeavesAnExpiredConnectionWithinOnePeriod) {
  run({{"SYN", 0, c2v(kVipFullNat, 40001, 80, kSyn), Verdict::forward,
        tcp_frame(kRs2Mac, kPort1Mac, kLaddr, 1024, "10.0.1.2", 8080, kSyn), 1,
        kFwd + Counts{{"lb.created", 1},
                      {"lb.conns", 1},
                      {"rs.10.0.1.2:8080.conns", 1},
                      {"rs.10.0.1.2:8080.inpkts", 1},
                      {"rs.10.0.1.2:8080.inactive", 1},
                      {"rs.10.0.1.2:8080.live", 1}}}});
  const uint32_t start = h_->now();
  const uint32_t expiry = start + ticks_from_seconds(60);  // SYN_RECV times out after 60 s
  // Up to the timeout, the last 32 ticks one by one, a hundred turns each: the connection stays.
  for (uint32_t t = start + 1; t < expiry;
       t = t + 32 < expiry ? std::min(t + 97, expiry - 32) : t + 1) {
    h_->set_now(t);
    for (int i = 0; i < 100; ++i) h_->turn();
    ASSERT_EQ(h_->counters()["lb.conns"], 1) << "gone " << (expiry - t) << " ticks early";
  }
  uint32_t gone_after = UINT32_MAX;
  for (uint32_t d = 0; d <= 2 * kTicksPerSecond; ++d) {
    h_->set_now(expiry + d);
    for (int i = 0; i < 100; ++i) h_->turn();
    if (h_->counters()["lb.conns"] == 0) {
      gone_after = d;
      break;
    }
  }
  EXPECT_LE(gone_after, kTicksPerSecond) << "ticks after its timeout";
}

// Without any service or local address the worker routes (NoHook): transit is forwarded with
// the TTL decremented, and a packet to a former VIP is just transit.
TEST(WorkerTurn, PlainRoutingWithoutServices) {
  LbWorld world(LbWorldOptions{.lab_services = false});
  ASSERT_EQ(world.error, "");
  auto fib = make_fib();
  ASSERT_TRUE(fib.ok());
  WorkerHarness h(world, std::move(fib.value()));
  ASSERT_EQ(h.error, "");
  ASSERT_TRUE(h.receive(0, tcp_frame(kPort0Mac, kClientMac, kClient, 40000, "10.0.1.3", 80, kSyn)));
  EXPECT_EQ(h.turn(), 1u);
  EXPECT_EQ(h.transmitted(1), std::vector<Bytes>{tcp_frame(kRs3Mac, kPort1Mac, kClient, 40000,
                                                           "10.0.1.3", 80, kSyn, 63)});
  EXPECT_EQ(h.counters(), (Counts{{"rx_packets", 1}, {"forwarded", 1}, {"tx_packets", 1}}));
}

// The host stack's packets go out through the inject ring, on the worker's tx queue.
TEST_F(WorkerTableTest, InjectedPacketsAreSent) {
  const Bytes f = tcp_frame(kClientMac, kPort0Mac, kPort0Addr, 22, kClient, 40000, kAck);
  ASSERT_TRUE(h_->inject(0, f));
  const Counts before = h_->counters();
  EXPECT_EQ(h_->turn(), 1u);
  EXPECT_EQ(h_->transmitted(0), std::vector<Bytes>{f});
  EXPECT_EQ(WorkerHarness::delta(before, h_->counters()),
            (Counts{{"injected", 1}, {"tx_packets", 1}}));
}

// A hook that consumes what it is given to a chosen address (keeps the mbuf, or frees it) and
// passes the rest to the load balancer: Verdict::consumed, which no module produces yet.
struct ConsumingDecide {
  uint32_t dst_be;
  bool free_it;
  std::vector<rte_mbuf*>* kept;

  struct Hook {
    const LbHook* lb;
    const ConsumingDecide* self;
    void stage(PacketMeta& p) const { lb->stage(p); }
    void prefetch(const PacketMeta& p) const { lb->prefetch(p); }
    Decision pre_routing(rte_mbuf* m, const PacketMeta& p, const Fib& fib, NextHops& hops) const {
      if (p.ip->dst_addr == self->dst_be) {
        if (self->free_it)
          rte_pktmbuf_free(m);
        else
          self->kept->push_back(m);
        return consumed();
      }
      return lb->pre_routing(m, p, fib, hops);
    }
    bool answers_arp_for(uint32_t ip) const { return lb->answers_arp_for(ip); }
  };
  void operator()(rte_mbuf** pkts, unsigned n, const Fib& fib, NextHops& hops, const LbHook* lb,
                  EmitContext&, Decision* out) const {
    Hook hook{lb, this};
    classify_burst(pkts, n, fib, hops, hook, out);
  }
};

TEST_F(WorkerTableTest, ConsumedPacketsAreNeitherFreedSentNorCounted) {
  std::vector<rte_mbuf*> kept;
  const ConsumingDecide keep{test::ip("10.0.0.200").be, false, &kept};
  const ConsumingDecide free_it{test::ip("10.0.0.200").be, true, &kept};
  const Bytes to_module = c2v("10.0.0.200", 40000, 80, kSyn);
  const Bytes to_vip = c2v(kVipNat, 40000, 80, kSyn);
  Counts before = h_->counters();
  // A burst: one for the module, one for the load balancer, one more for the module.
  ASSERT_TRUE(h_->receive(0, to_module));
  ASSERT_TRUE(h_->receive(0, to_vip));
  ASSERT_TRUE(h_->receive(0, to_module));
  EXPECT_EQ(h_->turn(keep), 3u);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(h_->transmitted(1), std::vector<Bytes>{tcp_frame(kRs3Mac, kPort1Mac, kClient, 40000,
                                                             "10.0.1.3", 80, kSyn)});
  EXPECT_TRUE(h_->transmitted(0).empty());
  EXPECT_TRUE(h_->punted().empty());
  // Only the packet to the VIP is counted as anything but received.
  EXPECT_EQ(WorkerHarness::delta(before, h_->counters()),
            (kFwd + Counts{{"rx_packets", 3},
                           {"lb.created", 1},
                           {"lb.conns", 1},
                           {"rs.10.0.1.3:80.conns", 1},
                           {"rs.10.0.1.3:80.inpkts", 1},
                           {"rs.10.0.1.3:80.inactive", 1},
                           {"rs.10.0.1.3:80.live", 1}}));
  // The module still owns its mbufs, intact: the worker neither freed nor reused them.
  EXPECT_EQ(rte_mempool_in_use_count(h_->pool()), 2u);
  for (rte_mbuf* m : kept) {
    EXPECT_EQ(rte_mbuf_refcnt_read(m), 1);
    const auto* b = rte_pktmbuf_mtod(m, const uint8_t*);
    EXPECT_EQ(Bytes(b, b + rte_pktmbuf_data_len(m)), to_module);
    rte_pktmbuf_free(m);
  }
  // A module that frees what it consumes: the worker must not free it again.
  before = h_->counters();
  ASSERT_TRUE(h_->receive(0, to_module));
  EXPECT_EQ(h_->turn(free_it), 1u);
  EXPECT_EQ(WorkerHarness::delta(before, h_->counters()), (Counts{{"rx_packets", 1}}));
  EXPECT_EQ(rte_mempool_in_use_count(h_->pool()), 0u);
  EXPECT_TRUE(h_->transmitted(0).empty() && h_->transmitted(1).empty() && h_->punted().empty());
}

// A hook that answers what it is given to a chosen address with a packet it creates (through
// the emit context) and frees the original: the emitted packet leaves in the worker's burst.
struct EmittingDecide {
  uint32_t dst_be;
  Bytes reply;
  uint16_t port;

  struct Hook {
    const LbHook* lb;
    const EmittingDecide* self;
    EmitContext* emit;
    void stage(PacketMeta& p) const { lb->stage(p); }
    void prefetch(const PacketMeta& p) const { lb->prefetch(p); }
    Decision pre_routing(rte_mbuf* m, const PacketMeta& p, const Fib& fib, NextHops& hops) const {
      if (p.ip->dst_addr != self->dst_be) return lb->pre_routing(m, p, fib, hops);
      if (rte_mbuf* r = emit->alloc()) {
        std::memcpy(rte_pktmbuf_append(r, static_cast<uint16_t>(self->reply.size())),
                    self->reply.data(), self->reply.size());
        emit->send(r, self->port);
      }
      rte_pktmbuf_free(m);
      return consumed();
    }
    bool answers_arp_for(uint32_t ip) const { return lb->answers_arp_for(ip); }
  };
  void operator()(rte_mbuf** pkts, unsigned n, const Fib& fib, NextHops& hops, const LbHook* lb,
                  EmitContext& emit, Decision* out) const {
    Hook hook{lb, this, &emit};
    classify_burst(pkts, n, fib, hops, hook, out);
  }
};

TEST_F(WorkerTableTest, PacketsAModuleCreatesLeaveInTheWorkersBurst) {
  const Bytes reply = tcp_frame(kRs3Mac, kPort1Mac, kClient, 40000, "10.0.1.3", 80, kSyn);
  const EmittingDecide answer{test::ip("10.0.0.200").be, reply, 1};
  Counts before = h_->counters();
  ASSERT_TRUE(h_->receive(0, c2v("10.0.0.200", 40000, 80, kSyn)));
  EXPECT_EQ(h_->turn(answer), 1u);
  EXPECT_EQ(h_->transmitted(1), std::vector<Bytes>{reply});
  EXPECT_TRUE(h_->transmitted(0).empty() && h_->punted().empty());
  EXPECT_EQ(WorkerHarness::delta(before, h_->counters()),
            (Counts{{"rx_packets", 1}, {"emitted", 1}, {"tx_packets", 1}}));
  EXPECT_EQ(rte_mempool_in_use_count(h_->pool()), 0u) << "the original is freed, the reply sent";

  // With the pool empty the module cannot create its packet: counted, nothing sent, no leak.
  std::vector<rte_mbuf*> all;
  while (rte_mbuf* m = rte_pktmbuf_alloc(h_->pool())) all.push_back(m);
  ASSERT_FALSE(all.empty());
  rte_mbuf* in = all.back();  // the received frame needs one mbuf: give one back for it
  all.pop_back();
  rte_pktmbuf_free(in);
  ASSERT_TRUE(h_->receive(0, c2v("10.0.0.200", 40001, 80, kSyn)));
  before = h_->counters();
  EXPECT_EQ(h_->turn(answer), 1u);
  EXPECT_EQ(WorkerHarness::delta(before, h_->counters()),
            (Counts{{"rx_packets", 1}, {"emit_no_mbuf", 1}}));
  EXPECT_TRUE(h_->transmitted(1).empty());
  for (rte_mbuf* m : all) rte_pktmbuf_free(m);
  EXPECT_EQ(rte_mempool_in_use_count(h_->pool()), 0u);
}

// A hook that says another worker owns what it is given to a chosen address (as reply
// steering of last resort will) and passes the rest to the load balancer.
struct RedirectingDecide {
  uint32_t dst_be;
  uint16_t owner;

  struct Hook {
    const LbHook* lb;
    const RedirectingDecide* self;
    void stage(PacketMeta& p) const { lb->stage(p); }
    void prefetch(const PacketMeta& p) const { lb->prefetch(p); }
    Decision pre_routing(rte_mbuf* m, const PacketMeta& p, const Fib& fib, NextHops& hops) const {
      if (p.ip->dst_addr == self->dst_be) return redirect_to(self->owner);
      return lb->pre_routing(m, p, fib, hops);
    }
    bool answers_arp_for(uint32_t ip) const { return lb->answers_arp_for(ip); }
  };
  void operator()(rte_mbuf** pkts, unsigned n, const Fib& fib, NextHops& hops, const LbHook* lb,
                  EmitContext&, Decision* out) const {
    Hook hook{lb, this};
    classify_burst(pkts, n, fib, hops, hook, out);
  }
};

TEST_F(WorkerTableTest, RedirectedPacketsReachTheOwnerUnchangedAndAreDecidedThere) {
  const Bytes foreign = c2v("10.0.0.200", 40000, 80, kSyn);
  const RedirectingDecide to_peer{test::ip("10.0.0.200").be, 1};
  // Received here, owned by worker 1: handed over unchanged with the port it came in on.
  Counts before = h_->counters();
  ASSERT_TRUE(h_->receive(0, foreign));
  ASSERT_TRUE(h_->receive(0, c2v(kVipNat, 40000, 80, kSyn)));
  EXPECT_EQ(h_->turn(to_peer), 2u);
  EXPECT_EQ(h_->handed_to_peer(), (std::vector<std::pair<uint16_t, Bytes>>{{0, foreign}}));
  EXPECT_EQ(h_->transmitted(1).size(), 1u) << "the rest of the burst is decided as usual";
  EXPECT_EQ(WorkerHarness::delta(before, h_->counters()),
            (kFwd + Counts{{"rx_packets", 2},
                           {"redirected", 1},
                           {"lb.created", 1},
                           {"lb.conns", 1},
                           {"rs.10.0.1.3:80.conns", 1},
                           {"rs.10.0.1.3:80.inpkts", 1},
                           {"rs.10.0.1.3:80.inactive", 1},
                           {"rs.10.0.1.3:80.live", 1}}));

  // Handed over by another worker: decided here like a received packet (its port kept).
  before = h_->counters();
  ASSERT_TRUE(h_->hand_over(0, c2v(kVipNat, 40001, 80, kSyn)));
  EXPECT_EQ(h_->turn(), 1u);
  EXPECT_EQ(h_->transmitted(1), std::vector<Bytes>{tcp_frame(kRs3Mac, kPort1Mac, kClient, 40001,
                                                             "10.0.1.3", 80, kSyn)});
  EXPECT_EQ(WorkerHarness::delta(before, h_->counters()),
            (kFwd + Counts{{"redirect_in", 1},
                           {"lb.created", 1},
                           {"lb.conns", 1},
                           {"rs.10.0.1.3:80.conns", 1},
                           {"rs.10.0.1.3:80.inpkts", 1},
                           {"rs.10.0.1.3:80.inactive", 1},
                           {"rs.10.0.1.3:80.live", 1}}));

  // A packet handed over that would be handed on again is dropped: no ping-pong.
  before = h_->counters();
  ASSERT_TRUE(h_->hand_over(0, foreign));
  EXPECT_EQ(h_->turn(to_peer), 1u);
  EXPECT_TRUE(h_->handed_to_peer().empty());
  EXPECT_EQ(WorkerHarness::delta(before, h_->counters()),
            (Counts{{"redirect_in", 1}, {"redirect_drops", 1}}));
  EXPECT_EQ(rte_mempool_in_use_count(h_->pool()), 0u);
}

}  // namespace
}  // namespace vsgate
