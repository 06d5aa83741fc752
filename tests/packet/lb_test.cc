// Table-driven packet tests of the load balancer on one worker: each step is an input frame on a
// port, the expected verdict and drop reason, and for forwarded packets the exact output frame,
// built independently with full checksums (so the incremental updates are checked too).
#include <gtest/gtest.h>
#include <rte_arp.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <optional>

#include "app/drop_reasons.h"
#include "ipv4/classify.h"
#include "lab_topology.h"
#include "lb/lb_hook.h"
#include "lb/lb_worker.h"
#include "lb/registry.h"
#include "lb_specs.h"
#include "packet_builder.h"

namespace vsgate {
namespace {

using test::Bytes;
using test::PacketBuilder;

using test::lab::kAck;
using test::lab::kClientMac;
using test::lab::kPort0Mac;
using test::lab::kPort1Mac;
using test::lab::kRs2Mac;
using test::lab::kRs3Mac;
using test::lab::kRs4Mac;
using test::lab::kRs5Mac;
using test::lab::kSyn;

using test::ether;

using test::real;
using test::svc;

// The lab topology (tests/packet/lab_topology.h): client 10.0.0.2 on port 0; real servers
// 10.0.1.2..5 on port 1; local address 10.0.1.1; its services.
class LbPacketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pool_ = rte_pktmbuf_pool_create(("lbt" + std::to_string(seq_++)).c_str(), 255, 0, 0,
                                    RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool_, nullptr);
    ASSERT_EQ(world_.error, "");
    auto fib = test::lab::make_fib();
    ASSERT_TRUE(fib.ok()) << fib.message();
    fib_ = std::move(fib.value());
  }
  void TearDown() override { rte_mempool_free(pool_); }

  struct Out {
    Decision d;
    Bytes frame;
  };
  Out run(const Bytes& frame, uint16_t port) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    EXPECT_NE(m, nullptr);
    char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
    if (!frame.empty()) std::memcpy(p, frame.data(), frame.size());
    m->port = port;
    LbHook ctx{worker_.get(), snap_.get(), now_};
    Out o{classify(m, *fib_, hops_, ctx), {}};
    auto* b = rte_pktmbuf_mtod(m, uint8_t*);
    o.frame.assign(b, b + rte_pktmbuf_data_len(m));
    rte_pktmbuf_free(m);
    return o;
  }
  void expect_forward(const Bytes& in, uint16_t in_port, const Bytes& out, uint16_t out_port) {
    Out o = run(in, in_port);
    ASSERT_EQ(static_cast<int>(o.d.verdict), static_cast<int>(Verdict::forward));
    EXPECT_EQ(o.d.out_port, out_port);
    EXPECT_EQ(o.frame, out);
  }
  template <DropReasonEnum E>
  void expect_drop(const Bytes& in, uint16_t in_port, E r) {
    Out o = run(in, in_port);
    ASSERT_EQ(static_cast<int>(o.d.verdict), static_cast<int>(Verdict::drop));
    EXPECT_EQ(drop_reason_name(o.d.reason), drop_name(r));
  }
  const RealServer& rs(const char* vip, uint16_t port) {
    return *reg_->find(svc(Proto::tcp, vip, port))->reals.front();
  }

  static inline int seq_ = 0;
  rte_mempool* pool_ = nullptr;
  std::unique_ptr<const Fib> fib_;
  test::lab::LbWorld world_;
  Mailbox<ToMain>* const to_main_ = world_.to_main.get();
  LbRegistry* const reg_ = world_.reg.get();
  std::unique_ptr<const LbSnapshot>& snap_ = world_.snap;
  std::unique_ptr<LbWorker>& worker_ = world_.worker;
  NextHops& hops_ = world_.hops;
  uint32_t now_ = 1000;
};

// A TCP segment; ports and flags as given, 10 bytes of payload for non-SYN segments.
Bytes tcp(const char* dmac, const char* smac, const char* src, uint16_t sport, const char* dst,
          uint16_t dport, uint8_t flags, uint8_t ttl = 64) {
  return test::lab::tcp_frame(dmac, smac, src, sport, dst, dport, flags, ttl);
}

TEST_F(LbPacketTest, FullNatBothDirections) {
  // SYN: source becomes the local address and the first local port, destination the real server.
  expect_forward(tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.100", 80, kSyn), 0,
                 tcp(kRs2Mac, kPort1Mac, "10.0.1.1", 1024, "10.0.1.2", 8080, kSyn), 1);
  // SYN+ACK from the real server to the local address goes back to the client, from the VIP.
  expect_forward(tcp(kPort1Mac, kRs2Mac, "10.0.1.2", 8080, "10.0.1.1", 1024, kSyn | kAck), 1,
                 tcp(kClientMac, kPort0Mac, "10.0.0.100", 80, "10.0.0.2", 40000, kSyn | kAck), 0);
  expect_forward(tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.100", 80, kAck), 0,
                 tcp(kRs2Mac, kPort1Mac, "10.0.1.1", 1024, "10.0.1.2", 8080, kAck), 1);
  const RealServer& r = rs("10.0.0.100", 80);
  EXPECT_EQ(reg_->stats(r).conns, 1u);
  EXPECT_EQ(reg_->stats(r).inpkts, 2u);
  EXPECT_EQ(reg_->stats(r).outpkts, 1u);
  EXPECT_EQ(reg_->active(r), 1) << "ESTABLISHED counts as ActiveConn";
  EXPECT_EQ(reg_->inactive(r), 0);
  // A second client gets the next local port.
  expect_forward(tcp(kPort0Mac, kClientMac, "10.0.0.2", 40001, "10.0.0.100", 80, kSyn), 0,
                 tcp(kRs2Mac, kPort1Mac, "10.0.1.1", 1025, "10.0.1.2", 8080, kSyn), 1);
  EXPECT_EQ(reg_->inactive(r), 1);
  EXPECT_EQ(worker_->conns().size(), 2u);
}

TEST_F(LbPacketTest, NatBothDirections) {
  expect_forward(tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.101", 80, kSyn), 0,
                 tcp(kRs3Mac, kPort1Mac, "10.0.0.2", 40000, "10.0.1.3", 80, kSyn), 1);
  expect_forward(tcp(kPort1Mac, kRs3Mac, "10.0.1.3", 80, "10.0.0.2", 40000, kSyn | kAck), 1,
                 tcp(kClientMac, kPort0Mac, "10.0.0.101", 80, "10.0.0.2", 40000, kSyn | kAck), 0);
}

TEST_F(LbPacketTest, DirectRoutingRewritesMacsOnly) {
  expect_forward(tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.102", 80, kSyn), 0,
                 tcp(kRs4Mac, kPort1Mac, "10.0.0.2", 40000, "10.0.0.102", 80, kSyn), 1);
  // Later segments of the connection follow it; replies do not pass through us.
  expect_forward(tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.102", 80, kAck), 0,
                 tcp(kRs4Mac, kPort1Mac, "10.0.0.2", 40000, "10.0.0.102", 80, kAck), 1);
}

TEST_F(LbPacketTest, TunnelEncapsulatesInIpip) {
  const Bytes in = tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.103", 80, kSyn);
  // Expected: Ethernet to rs5, outer IPv4 10.0.1.1 -> 10.0.1.5 proto 4, then the inner packet
  // exactly as the client sent it.
  Bytes inner(in.begin() + 14, in.end());
  PacketBuilder b;
  b.eth(kRs5Mac, kPort1Mac, RTE_ETHER_TYPE_IPV4)
      .ipv4("10.0.1.1", "10.0.1.5", 64, IPPROTO_IPIP, static_cast<uint16_t>(inner.size()));
  b.ip_hdr()->packet_id = 0;
  b.fix_ipv4_checksum();
  b.raw(inner);
  expect_forward(in, 0, b.build(), 1);
}

TEST_F(LbPacketTest, UdpFullNatKeepsAbsentChecksumAbsent) {
  auto udp = [](const char* dmac, const char* smac, const char* src, uint16_t sport,
                const char* dst, uint16_t dport, bool csum) {
    return PacketBuilder()
        .eth(dmac, smac, RTE_ETHER_TYPE_IPV4)
        .ipv4(src, dst, 64, IPPROTO_UDP, 8 + 12)
        .udp(sport, dport, 12, csum)
        .build();
  };
  expect_forward(udp(kPort0Mac, kClientMac, "10.0.0.2", 5000, "10.0.0.100", 53, true), 0,
                 udp(kRs2Mac, kPort1Mac, "10.0.1.1", 1024, "10.0.1.2", 53, true), 1);
  expect_forward(udp(kPort0Mac, kClientMac, "10.0.0.2", 5001, "10.0.0.100", 53, false), 0,
                 udp(kRs2Mac, kPort1Mac, "10.0.1.1", 1025, "10.0.1.2", 53, false), 1);
  expect_forward(udp(kPort1Mac, kRs2Mac, "10.0.1.2", 53, "10.0.1.1", 1024, true), 1,
                 udp(kClientMac, kPort0Mac, "10.0.0.100", 53, "10.0.0.2", 5000, true), 0);
}

TEST_F(LbPacketTest, DropsAreCountedByReason) {
  expect_drop(tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.100", 81, kSyn), 0,
              LbDrop::vip_no_service);
  expect_drop(tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.100", 80, kAck), 0,
              LbDrop::tcp_no_conn);
  {
    PacketBuilder b;
    b.eth(kPort0Mac, kClientMac, RTE_ETHER_TYPE_IPV4)
        .ipv4("10.0.0.2", "10.0.0.100", 64, IPPROTO_TCP, 20)
        .tcp(40000, 80, kSyn);
    b.ip_hdr()->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
    b.fix_ipv4_checksum();
    expect_drop(b.build(), 0, Ipv4Drop::fragment);
  }
  {
    // The IP length covers only 10 bytes of the TCP header.
    PacketBuilder b;
    b.eth(kPort0Mac, kClientMac, RTE_ETHER_TYPE_IPV4)
        .ipv4("10.0.0.2", "10.0.0.100", 64, IPPROTO_TCP, 10)
        .raw(Bytes(10, 0));
    expect_drop(b.build(), 0, Ipv4Drop::l4_bad_header);
  }
  for (uint8_t doff : {uint8_t{4}, uint8_t{15}}) {
    Bytes f = tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.100", 80, kSyn);
    f[14 + 20 + 12] = static_cast<uint8_t>(doff << 4);  // data offset below 5 / beyond the packet
    expect_drop(f, 0, Ipv4Drop::l4_bad_header);
  }
  {
    Bytes f = PacketBuilder()
                  .eth(kPort0Mac, kClientMac, RTE_ETHER_TYPE_IPV4)
                  .ipv4("10.0.0.2", "10.0.0.100", 64, IPPROTO_UDP, 8)
                  .udp(5000, 53, 0)
                  .build();
    f[14 + 20 + 4] = 0;  // UDP length 0
    f[14 + 20 + 5] = 0;
    expect_drop(f, 0, Ipv4Drop::l4_bad_header);
  }
  EXPECT_EQ(worker_->conns().size(), 0u) << "no drop creates a connection";
}

TEST_F(LbPacketTest, NotOursGoesOn) {
  // TCP to the host's own address with no connection: the host stack's.
  Out o = run(tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.1", 22, kSyn), 0);
  EXPECT_EQ(static_cast<int>(o.d.verdict), static_cast<int>(Verdict::punt));
}

TEST_F(LbPacketTest, ArpForVipAnsweredOnItsPortOnly) {
  const Bytes req = PacketBuilder()
                        .eth("ff:ff:ff:ff:ff:ff", kClientMac, RTE_ETHER_TYPE_ARP)
                        .arp_request(kClientMac, "10.0.0.2", "10.0.0.100")
                        .build();
  Bytes reply = req;
  auto* eth = reinterpret_cast<rte_ether_hdr*>(reply.data());
  auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
  eth->dst_addr = ether(kClientMac);
  eth->src_addr = ether(kPort0Mac);
  arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
  arp->arp_data.arp_sha = ether(kPort0Mac);
  arp->arp_data.arp_sip = test::ip("10.0.0.100").be;
  arp->arp_data.arp_tha = ether(kClientMac);
  arp->arp_data.arp_tip = test::ip("10.0.0.2").be;
  expect_forward(req, 0, reply, 0);
  // The VIP is not reachable through port 1: no answer there (the host gets the request).
  Out o = run(req, 1);
  EXPECT_EQ(static_cast<int>(o.d.verdict), static_cast<int>(Verdict::punt));
  // ARP for the host's own address is the host's.
  o = run(PacketBuilder()
              .eth("ff:ff:ff:ff:ff:ff", kClientMac, RTE_ETHER_TYPE_ARP)
              .arp_request(kClientMac, "10.0.0.2", "10.0.0.1")
              .build(),
          0);
  EXPECT_EQ(static_cast<int>(o.d.verdict), static_cast<int>(Verdict::punt));
}

TEST_F(LbPacketTest, ExpiryGivesBackCountsAndLocalPorts) {
  expect_forward(tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.100", 80, kSyn), 0,
                 tcp(kRs2Mac, kPort1Mac, "10.0.1.1", 1024, "10.0.1.2", 8080, kSyn), 1);
  const RealServer& r = rs("10.0.0.100", 80);
  EXPECT_EQ(reg_->inactive(r), 1);
  now_ += ticks_from_seconds(61);  // SYN_RECV times out after 60 s
  worker_->sweep(now_, 100000);
  EXPECT_EQ(worker_->conns().size(), 0u);
  EXPECT_EQ(reg_->inactive(r), 0);
  // The port is free again: a new client gets it.
  expect_forward(tcp(kPort0Mac, kClientMac, "10.0.0.2", 40002, "10.0.0.100", 80, kSyn), 0,
                 tcp(kRs2Mac, kPort1Mac, "10.0.1.1", 1024, "10.0.1.2", 8080, kSyn), 1);
}

TEST_F(LbPacketTest, MissingNeighbourIsRequestedAndCounted) {
  ASSERT_TRUE(
      reg_->add_real(svc(Proto::tcp, "10.0.0.101", 80), real("10.0.1.9", 80, FwdMode::nat)).ok());
  ASSERT_TRUE(reg_->del_real(svc(Proto::tcp, "10.0.0.101", 80),
                             {test::addr("10.0.1.3"), L4Port::from_host(80)})
                  .ok());
  auto snap = reg_->snapshot();
  ASSERT_TRUE(snap.ok());
  snap_ = std::move(snap.value());
  expect_drop(tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.101", 80, kSyn), 0,
              LbDrop::no_neighbour);
  ToMain m;
  ASSERT_EQ(to_main_->receive(&m, 1), 1u);
  EXPECT_EQ(m.kind, ToMain::Kind::neighbour_request);
  EXPECT_EQ(m.ip_be, test::ip("10.0.1.9").be);
}

// Port unreachable from the real server about a datagram we sent with FULLNAT reaches the
// client as an error from the VIP, quoting the client's own datagram.
// An ICMP error message: type/code/4-byte rest, quoting the first 28 bytes of an IP packet.
Bytes icmp_error_frame(const char* dmac, const char* smac, const char* src, const char* dst,
                       uint8_t type, uint8_t code, uint16_t mtu, const Bytes& quote) {
  Bytes msg{type, code, 0, 0, 0, 0, static_cast<uint8_t>(mtu >> 8), static_cast<uint8_t>(mtu)};
  msg.insert(msg.end(), quote.begin(), quote.end());
  const uint16_t sum = static_cast<uint16_t>(~rte_raw_cksum(msg.data(), msg.size()));
  std::memcpy(&msg[2], &sum, 2);
  return PacketBuilder()
      .eth(dmac, smac, RTE_ETHER_TYPE_IPV4)
      .ipv4(src, dst, 64, IPPROTO_ICMP, static_cast<uint16_t>(msg.size()))
      .raw(msg)
      .build();
}

TEST_F(LbPacketTest, IcmpErrorTranslatedBackToTheClient) {
  auto udp = [](const char* dmac, const char* smac, const char* src, uint16_t sport,
                const char* dst, uint16_t dport) {
    return PacketBuilder()
        .eth(dmac, smac, RTE_ETHER_TYPE_IPV4)
        .ipv4(src, dst, 64, IPPROTO_UDP, 8 + 12)
        .udp(sport, dport, 12)
        .build();
  };
  const Bytes sent_by_client = udp(kPort0Mac, kClientMac, "10.0.0.2", 5000, "10.0.0.100", 53);
  Out fwd = run(sent_by_client, 0);
  ASSERT_EQ(static_cast<int>(fwd.d.verdict), static_cast<int>(Verdict::forward));
  // Destination unreachable, port unreachable, quoting the frame's first 28 bytes of IP.
  auto icmp_error = [](const char* dmac, const char* smac, const char* src, const char* dst,
                       const Bytes& quoted_frame) {
    return icmp_error_frame(dmac, smac, src, dst, 3, 3, 0,
                            Bytes(quoted_frame.begin() + 14, quoted_frame.begin() + 14 + 28));
  };
  // What the client must see: the error from the VIP, quoting its datagram as it sent it,
  // except the UDP checksum, which is the one of the datagram the real server received.
  Bytes quoted = sent_by_client;
  std::memcpy(&quoted[14 + 20 + 6], &fwd.frame[14 + 20 + 6], 2);
  expect_forward(icmp_error(kPort1Mac, kRs2Mac, "10.0.1.2", "10.0.1.1", fwd.frame), 1,
                 icmp_error(kClientMac, kPort0Mac, "10.0.0.100", "10.0.0.2", quoted), 0);
  // An error about something we never sent is the host's.
  Out o = run(icmp_error(kPort1Mac, kRs2Mac, "10.0.1.2", "10.0.1.1",
                         udp(kPort0Mac, kClientMac, "10.0.1.1", 999, "10.0.1.2", 53)),
              1);
  EXPECT_EQ(static_cast<int>(o.d.verdict), static_cast<int>(Verdict::punt));
}

// The first 28 bytes of a frame's IP packet, with addresses and ports replaced.
Bytes quote_of(const Bytes& frame, const char* src, uint16_t sport, const char* dst,
               uint16_t dport) {
  Bytes q(frame.begin() + 14, frame.begin() + 14 + 28);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(q.data());
  ip->src_addr = test::ip(src).be;
  ip->dst_addr = test::ip(dst).be;
  const uint16_t ports[2] = {rte_cpu_to_be_16(sport), rte_cpu_to_be_16(dport)};
  std::memcpy(q.data() + 20, ports, 4);
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  return q;
}

TEST_F(LbPacketTest, ClientSideIcmpErrorReachesTheRealServerFullNat) {
  expect_forward(tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.100", 80, kSyn), 0,
                 tcp(kRs2Mac, kPort1Mac, "10.0.1.1", 1024, "10.0.1.2", 8080, kSyn), 1);
  Out reply = run(tcp(kPort1Mac, kRs2Mac, "10.0.1.2", 8080, "10.0.1.1", 1024, kSyn | kAck), 1);
  ASSERT_EQ(static_cast<int>(reply.d.verdict), static_cast<int>(Verdict::forward));
  // A router on the client's side cannot forward the SYN+ACK (MTU 1280): it tells the VIP.
  const Bytes err = icmp_error_frame(kPort0Mac, kClientMac, "10.0.0.254", "10.0.0.100", 3, 4, 1280,
                                     quote_of(reply.frame, "10.0.0.100", 80, "10.0.0.2", 40000));
  // The real server gets it from the local address, about the packet it sent (to laddr:lport).
  expect_forward(err, 0,
                 icmp_error_frame(kRs2Mac, kPort1Mac, "10.0.1.1", "10.0.1.2", 3, 4, 1280,
                                  quote_of(reply.frame, "10.0.1.2", 8080, "10.0.1.1", 1024)),
                 1);
  EXPECT_EQ(worker_->counters.icmp_translated.get(), 1u);
  EXPECT_EQ(reg_->stats(rs("10.0.0.100", 80)).inpkts, 2u) << "the SYN and the ICMP error";
  // An error quoting a packet of no connection goes to the host (it may be about its own).
  Out o = run(icmp_error_frame(kPort0Mac, kClientMac, "10.0.0.254", "10.0.0.100", 3, 4, 1280,
                               quote_of(reply.frame, "10.0.0.100", 80, "10.0.0.2", 40001)),
              0);
  EXPECT_NE(static_cast<int>(o.d.verdict), static_cast<int>(Verdict::forward));
}

TEST_F(LbPacketTest, ClientSideIcmpErrorReachesTheRealServerNat) {
  expect_forward(tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.101", 80, kSyn), 0,
                 tcp(kRs3Mac, kPort1Mac, "10.0.0.2", 40000, "10.0.1.3", 80, kSyn), 1);
  Out reply = run(tcp(kPort1Mac, kRs3Mac, "10.0.1.3", 80, "10.0.0.2", 40000, kSyn | kAck), 1);
  ASSERT_EQ(static_cast<int>(reply.d.verdict), static_cast<int>(Verdict::forward));
  // The client's port is closed: port unreachable, from the client, about VIP -> client.
  expect_forward(icmp_error_frame(kPort0Mac, kClientMac, "10.0.0.2", "10.0.0.101", 3, 3, 0,
                                  quote_of(reply.frame, "10.0.0.101", 80, "10.0.0.2", 40000)),
                 0,
                 icmp_error_frame(kRs3Mac, kPort1Mac, "10.0.0.2", "10.0.1.3", 3, 3, 0,
                                  quote_of(reply.frame, "10.0.1.3", 80, "10.0.0.2", 40000)),
                 1);
}

TEST_F(LbPacketTest, TunnelTooBigAnswersFragmentationNeeded) {
  // 1480 bytes of IP do not fit a 1500-byte link once 20 bytes of IPIP are added.
  auto big = [](bool df) {
    PacketBuilder b;
    b.eth(kPort0Mac, kClientMac, RTE_ETHER_TYPE_IPV4)
        .ipv4("10.0.0.2", "10.0.0.103", 64, IPPROTO_TCP, 20 + 1460);
    if (df) b.ip_hdr()->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
    b.fix_ipv4_checksum();
    b.tcp(40000, 80, kSyn, 1460);
    return b.build();
  };
  const Bytes in = big(true);
  Bytes quote(in.begin() + 14, in.begin() + 14 + 28);
  Bytes msg{3, 4, 0, 0, 0, 0, 1480 >> 8, 1480 & 0xff};
  msg.insert(msg.end(), quote.begin(), quote.end());
  const uint16_t sum = static_cast<uint16_t>(~rte_raw_cksum(msg.data(), msg.size()));
  std::memcpy(&msg[2], &sum, 2);
  PacketBuilder want;
  want.eth(kClientMac, kPort0Mac, RTE_ETHER_TYPE_IPV4)
      .ipv4("10.0.0.103", "10.0.0.2", 64, IPPROTO_ICMP, static_cast<uint16_t>(msg.size()));
  want.ip_hdr()->type_of_service = 0xc0;
  want.ip_hdr()->packet_id = 0;
  want.fix_ipv4_checksum();
  want.raw(msg);
  expect_forward(in, 0, want.build(), 0);
  EXPECT_EQ(worker_->counters.frag_needed_sent.get(), 1u);
  // Without DF the packet would need fragmenting, which we do not do: a counted drop (the
  // connection exists already; the DF packet created it).
  expect_drop(big(false), 0, LbDrop::too_big);
}

TEST_F(LbPacketTest, ClientPortReusedAfterCloseIsScheduledAnew) {
  const ServiceKey k = svc(Proto::tcp, "10.0.0.105", 80);
  ASSERT_TRUE(reg_->add_service({k, SchedulerKind::rr, 0}).ok());
  ASSERT_TRUE(reg_->add_real(k, real("10.0.1.2", 80, FwdMode::nat)).ok());
  ASSERT_TRUE(reg_->add_real(k, real("10.0.1.3", 80, FwdMode::nat)).ok());
  auto snap = reg_->snapshot();
  ASSERT_TRUE(snap.ok());
  snap_ = std::move(snap.value());
  auto dst_of = [](const Out& o) {
    return Ipv4Addr{reinterpret_cast<const rte_ipv4_hdr*>(o.frame.data() + 14)->dst_addr}.str();
  };
  const std::string first =
      dst_of(run(tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.105", 80, kSyn), 0));
  // A retransmitted SYN of the same connection stays where it is.
  EXPECT_EQ(dst_of(run(tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.105", 80, kSyn), 0)),
            first);
  // Handshake completes, the client resets the connection (CLOSE), then reuses its port.
  run(tcp(kPort1Mac, kRs2Mac, first.c_str(), 80, "10.0.0.2", 40000, kSyn | kAck), 1);
  run(tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.105", 80, kAck), 0);
  run(tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.105", 80, RTE_TCP_RST_FLAG), 0);
  const std::string second =
      dst_of(run(tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.105", 80, kSyn), 0));
  EXPECT_NE(second, first) << "rr picks the other real server for the new connection";
  EXPECT_EQ(worker_->conns().size(), 1u);
  int64_t inactive = 0;
  for (const auto& r : reg_->find(k)->reals) inactive += reg_->inactive(*r) + reg_->active(*r);
  EXPECT_EQ(inactive, 1) << "the old connection's count was given back";
}

TEST_F(LbPacketTest, ServicesSharingALocalAddressShareItsPorts) {
  const ServiceKey k = svc(Proto::tcp, "10.0.0.106", 80);
  ASSERT_TRUE(reg_->add_service({k, SchedulerKind::rr, 0}).ok());
  ASSERT_TRUE(reg_->add_real(k, real("10.0.1.2", 8080, FwdMode::fullnat)).ok());
  ASSERT_TRUE(reg_->add_laddr(k, test::addr("10.0.1.1"), "dpdk1", 1).ok());
  auto snap = reg_->snapshot();
  ASSERT_TRUE(snap.ok());
  snap_ = std::move(snap.value());
  expect_forward(tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.100", 80, kSyn), 0,
                 tcp(kRs2Mac, kPort1Mac, "10.0.1.1", 1024, "10.0.1.2", 8080, kSyn), 1);
  // Same local address, same real server: the second service must not hand out port 1024.
  expect_forward(tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.106", 80, kSyn), 0,
                 tcp(kRs2Mac, kPort1Mac, "10.0.1.1", 1025, "10.0.1.2", 8080, kSyn), 1);
}

TEST_F(LbPacketTest, PersistenceKeepsAClientOnItsRealServer) {
  const ServiceKey k = svc(Proto::tcp, "10.0.0.104", 80);
  ASSERT_TRUE(reg_->add_service({k, SchedulerKind::rr, 300}).ok());
  ASSERT_TRUE(reg_->add_real(k, real("10.0.1.2", 80, FwdMode::nat)).ok());
  ASSERT_TRUE(reg_->add_real(k, real("10.0.1.3", 80, FwdMode::nat)).ok());
  auto snap = reg_->snapshot();
  ASSERT_TRUE(snap.ok());
  snap_ = std::move(snap.value());
  auto syn_to = [&](const char* client, uint16_t sport) {
    Out o = run(tcp(kPort0Mac, kClientMac, client, sport, "10.0.0.104", 80, kSyn), 0);
    EXPECT_EQ(static_cast<int>(o.d.verdict), static_cast<int>(Verdict::forward));
    return Ipv4Addr{reinterpret_cast<const rte_ipv4_hdr*>(o.frame.data() + 14)->dst_addr}.str();
  };
  const std::string first = syn_to("10.0.0.2", 40000);
  // rr would alternate; the template keeps 10.0.0.2 where it went first.
  for (uint16_t p = 40001; p < 40006; ++p) EXPECT_EQ(syn_to("10.0.0.2", p), first);
  const std::string other = syn_to("10.0.0.3", 40000);
  EXPECT_NE(other, first) << "another client is scheduled (rr moves on)";
  // Every table entry naming a real server counts for it, the templates too: its slot is not
  // reused while a template could still send a client there.
  for (const auto& r : reg_->find(k)->reals)
    EXPECT_EQ(reg_->counters().live(r->slot), r->key.ip.str() == first ? 6 + 1 : 1 + 1)
        << r->key.ip.str();
  // After the template expires (and the connections with it), rr decides again.
  now_ += ticks_from_seconds(301);
  worker_->sweep(now_, 100000);
  EXPECT_EQ(worker_->conns().size(), 0u);
  for (const auto& r : reg_->find(k)->reals) EXPECT_EQ(reg_->counters().live(r->slot), 0);
  EXPECT_EQ(syn_to("10.0.0.2", 41000), first) << "rr continues: A, B, then A again";
}

TEST_F(LbPacketTest, AnEditReachesNewConnectionsAndLeavesExistingOnesAlone) {
  const ServiceKey k = svc(Proto::tcp, "10.0.0.101", 80);
  const Bytes syn = tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.101", 80, kSyn);
  // NAT: the destination becomes the real server.
  expect_forward(syn, 0, tcp(kRs3Mac, kPort1Mac, "10.0.0.2", 40000, "10.0.1.3", 80, kSyn), 1);
  std::unique_ptr<const LbSnapshot> old = std::move(snap_);
  RealServerSpec dr = real("10.0.1.3", 80, FwdMode::dr);
  ASSERT_TRUE(reg_->edit_real(k, dr).ok());
  auto snap = reg_->snapshot();
  ASSERT_TRUE(snap.ok());
  snap_ = std::move(snap.value());
  EXPECT_EQ(old->real(reg_->find(k)->reals.front()->slot)->fwd, FwdMode::nat);
  // The established connection keeps its mode; a new one uses DR (destination unchanged).
  const Bytes ack = tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.101", 80, kAck);
  expect_forward(ack, 0, tcp(kRs3Mac, kPort1Mac, "10.0.0.2", 40000, "10.0.1.3", 80, kAck), 1);
  expect_forward(tcp(kPort0Mac, kClientMac, "10.0.0.2", 40001, "10.0.0.101", 80, kSyn), 0,
                 tcp(kRs3Mac, kPort1Mac, "10.0.0.2", 40001, "10.0.0.101", 80, kSyn), 1);
}

// With several workers, rr starts each worker at its own share of the real servers, so that
// the first connections of every worker do not all go to the first real server.
TEST_F(LbPacketTest, RoundRobinStartsEachWorkerAtItsOwnShare) {
  LbRegistry reg(2);
  const ServiceKey k = svc(Proto::tcp, "10.0.0.110", 80);
  ASSERT_TRUE(reg.add_service({k, SchedulerKind::rr, 0}).ok());
  for (const char* rip : {"10.0.1.2", "10.0.1.3", "10.0.1.4", "10.0.1.5"})
    ASSERT_TRUE(reg.add_real(k, real(rip, 80, FwdMode::dr)).ok());
  auto snap = reg.snapshot();
  ASSERT_TRUE(snap.ok());
  std::vector<std::string> firsts;
  for (unsigned w = 0; w < 2; ++w) {
    LbWorker worker(w, 2, 64, to_main_, reg.counters(), reg.laddr_slots());
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    ASSERT_NE(m, nullptr);
    const Bytes f = tcp(kPort0Mac, kClientMac, "10.0.0.2", 40000, "10.0.0.110", 80, kSyn);
    std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(f.size())), f.data(), f.size());
    m->port = 0;
    LbHook ctx{&worker, snap.value().get(), now_};
    NextHops hops;
    EXPECT_EQ(static_cast<int>(classify(m, *fib_, hops, ctx).verdict),
              static_cast<int>(Verdict::forward));
    MacAddr dst;  // DR: the real server is told by its MAC
    std::memcpy(dst.bytes.data(), rte_pktmbuf_mtod(m, uint8_t*), 6);
    firsts.push_back(dst.str());
    rte_pktmbuf_free(m);
  }
  EXPECT_EQ(firsts, (std::vector<std::string>{kRs2Mac, kRs4Mac}));
}

}  // namespace
}  // namespace vsgate
