// Table-driven packet tests of the worker's classifier: input frame -> verdict (+ drop reason,
// output port and rewritten frame for forwarded packets).
#include "ipv4/classify.h"

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <optional>
#include <random>

#include "packet_builder.h"

namespace vsgate {
namespace {

using test::Bytes;
using test::PacketBuilder;

constexpr const char* kPort0Mac = "02:00:00:00:00:10";
constexpr const char* kPort1Mac = "02:00:00:00:00:11";
constexpr const char* kClientMac = "02:00:00:00:00:02";
constexpr const char* kServerMac = "02:00:00:00:01:02";
constexpr const char* kRouterMac = "02:00:00:00:01:fe";

using test::ether;

// The lab: port 0 = 10.0.0.1/24 (clients), port 1 = 10.0.1.1/24 (servers), and a gateway
// 10.0.1.254 on port 1 for 192.168.0.0/16. Port 1 has a 1400-byte MTU to exercise the MTU check.
FibInput lab_fib_input() {
  FibInput in;
  in.addresses = {{*Ipv4Prefix::parse("10.0.0.1/24"), 0}, {*Ipv4Prefix::parse("10.0.1.1/24"), 1}};
  in.routes = {{*Ipv4Prefix::parse("10.0.0.0/24"), {}, 0},
               {*Ipv4Prefix::parse("10.0.1.0/24"), {}, 1},
               {*Ipv4Prefix::parse("192.168.0.0/16"), test::ip("10.0.1.254"), 1}};
  in.neighbours = {{test::ip("10.0.0.2"), test::mac(kClientMac), 0},
                   {test::ip("10.0.1.2"), test::mac(kServerMac), 1},
                   {test::ip("10.0.1.254"), test::mac(kRouterMac), 1}};
  in.ports[0] = {true, ether(kPort0Mac), 1500};
  in.ports[1] = {true, ether(kPort1Mac), 1400};
  return in;
}

class ClassifyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pool_ = rte_pktmbuf_pool_create("classify_test", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool_, nullptr);
    auto fib = Fib::build(lab_fib_input(), nullptr);
    ASSERT_TRUE(fib.ok()) << fib.message();
    fib_ = std::move(fib.value()).release();
  }
  static void TearDownTestSuite() {
    delete fib_;
    rte_mempool_free(pool_);
  }

  rte_mbuf* mbuf(const Bytes& frame) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    EXPECT_NE(m, nullptr);
    char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
    EXPECT_NE(p, nullptr);
    if (!frame.empty()) std::memcpy(p, frame.data(), frame.size());
    return m;
  }
  static Bytes bytes(rte_mbuf* m) {
    auto* p = rte_pktmbuf_mtod(m, uint8_t*);
    return Bytes(p, p + rte_pktmbuf_data_len(m));
  }

  static inline rte_mempool* pool_ = nullptr;
  static inline const Fib* fib_ = nullptr;
  NextHops hops_;  // the worker's next-hop cache
};

// A client's echo request to `dst` with `ttl`, as it arrives on port 0.
PacketBuilder from_client(const char* dst, uint8_t ttl = 64, const char* src = "10.0.0.2",
                          size_t icmp_data = 56) {
  PacketBuilder b;
  b.eth(kPort0Mac, kClientMac, RTE_ETHER_TYPE_IPV4)
      .ipv4(src, dst, ttl, IPPROTO_ICMP, static_cast<uint16_t>(8 + icmp_data))
      .icmp_echo(7, 1, icmp_data);
  return b;
}

// What the data plane must send: new MACs, TTL - 1, checksum as a full recomputation gives.
Bytes forwarded(PacketBuilder b, const char* dst_mac, const char* src_mac) {
  Bytes out = b.build();
  auto* eth = reinterpret_cast<rte_ether_hdr*>(out.data());
  eth->dst_addr = ether(dst_mac);
  eth->src_addr = ether(src_mac);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
  ip->time_to_live--;
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  return out;
}

struct Case {
  Case(std::string n, Bytes in, Verdict v, DropId r = kNoDrop, uint16_t port = 0,
       std::optional<Bytes> out = std::nullopt)
      : name(std::move(n)),
        input(std::move(in)),
        verdict(v),
        reason(r),
        out_port(port),
        output(std::move(out)) {}
  std::string name;
  Bytes input;
  Verdict verdict;
  DropId reason = kNoDrop;
  uint16_t out_port = 0;
  std::optional<Bytes> output;  // forwarded frame
};

std::vector<Case> cases() {
  std::vector<Case> c;
  c.push_back({"runt frame", Bytes(10, 0xff), Verdict::drop, drop_id(Ipv4Drop::runt)});
  c.push_back({"empty frame", Bytes{}, Verdict::drop, drop_id(Ipv4Drop::runt)});
  c.push_back({"arp request for our address goes to the host",
               PacketBuilder()
                   .eth("ff:ff:ff:ff:ff:ff", kClientMac, RTE_ETHER_TYPE_ARP)
                   .arp_request(kClientMac, "10.0.0.2", "10.0.0.1")
                   .pad_to(60)
                   .build(),
               Verdict::punt});
  c.push_back({"ipv6 goes to the host",
               PacketBuilder().eth(kPort0Mac, kClientMac, RTE_ETHER_TYPE_IPV6).pad_to(74).build(),
               Verdict::punt});
  c.push_back({"vlan-tagged goes to the host",
               PacketBuilder()
                   .eth(kPort0Mac, kClientMac, RTE_ETHER_TYPE_VLAN)
                   .vlan(100, RTE_ETHER_TYPE_IPV4)
                   .pad_to(64)
                   .build(),
               Verdict::punt});
  c.push_back({"unknown ethertype goes to the host",
               PacketBuilder().eth(kPort0Mac, kClientMac, 0x88cc).pad_to(60).build(),
               Verdict::punt});
  c.push_back({"ping to our own address", from_client("10.0.0.1").build(), Verdict::punt});
  c.push_back(
      {"ping to our address on the other port", from_client("10.0.1.1").build(), Verdict::punt});
  c.push_back({"directed broadcast", from_client("10.0.0.255").build(), Verdict::punt});
  c.push_back({"limited broadcast", from_client("255.255.255.255").build(), Verdict::punt});
  c.push_back({"multicast", from_client("224.0.0.5").build(), Verdict::punt});
  c.push_back({"transit to a connected neighbour", from_client("10.0.1.2").build(),
               Verdict::forward, kNoDrop, 1,
               forwarded(from_client("10.0.1.2"), kServerMac, kPort1Mac)});
  c.push_back({"transit through a gateway", from_client("192.168.7.9").build(), Verdict::forward,
               kNoDrop, 1, forwarded(from_client("192.168.7.9"), kRouterMac, kPort1Mac)});
  c.push_back({"transit with ttl 2 still forwarded", from_client("10.0.1.2", 2).build(),
               Verdict::forward, kNoDrop, 1,
               forwarded(from_client("10.0.1.2", 2), kServerMac, kPort1Mac)});
  c.push_back(
      {"ttl 1 expires here: host answers", from_client("10.0.1.2", 1).build(), Verdict::punt});
  c.push_back({"ttl 0", from_client("10.0.1.2", 0).build(), Verdict::punt});
  c.push_back({"no route: host decides", from_client("172.16.0.1").build(), Verdict::punt});
  c.push_back(
      {"no neighbour yet: host resolves ARP", from_client("10.0.1.3").build(), Verdict::punt});
  c.push_back({"bigger than the out port's MTU: host fragments or says frag-needed",
               from_client("10.0.1.2", 64, "10.0.0.2", 1400).build(), Verdict::punt});
  {
    // Ethernet minimum-size padding must not travel on: output is trimmed to the IP length.
    PacketBuilder in = from_client("10.0.1.2", 64, "10.0.0.2", 4);
    Bytes expect = forwarded(in, kServerMac, kPort1Mac);
    c.push_back(
        {"ethernet padding trimmed", in.pad_to(60).build(), Verdict::forward, kNoDrop, 1, expect});
  }
  {
    PacketBuilder in;
    in.eth(kPort0Mac, kClientMac, RTE_ETHER_TYPE_IPV4)
        .ipv4("10.0.0.2", "10.0.1.2", 64, IPPROTO_ICMP, 16, Bytes{0x94, 0x04, 0x00, 0x00})
        .icmp_echo(1, 1, 8);
    c.push_back({"transit with ip options", in.build(), Verdict::forward, kNoDrop, 1,
                 forwarded(in, kServerMac, kPort1Mac)});
  }
  c.push_back({"ipv4 header cut short", from_client("10.0.1.2").truncate(14 + 12).build(),
               Verdict::drop, drop_id(Ipv4Drop::truncated)});
  c.push_back({"ipv4 total length beyond the frame",
               from_client("10.0.1.2").truncate(14 + 20 + 10).build(), Verdict::drop,
               drop_id(Ipv4Drop::truncated)});
  {
    PacketBuilder b = from_client("10.0.1.2");
    b.ip_hdr()->version_ihl = 0x44;
    b.fix_ipv4_checksum();
    c.push_back({"ihl below 5", b.build(), Verdict::drop, drop_id(Ipv4Drop::bad_header)});
  }
  {
    PacketBuilder b = from_client("10.0.1.2");
    b.ip_hdr()->version_ihl = 0x65;
    b.fix_ipv4_checksum();
    c.push_back({"version 6 in an ipv4 ethertype", b.build(), Verdict::drop,
                 drop_id(Ipv4Drop::bad_header)});
  }
  {
    PacketBuilder b = from_client("10.0.1.2");
    b.ip_hdr()->version_ihl = 0x4f;  // 60-byte header in a frame that has 20 + 64
    c.push_back({"options longer than the frame", b.truncate(14 + 40).build(), Verdict::drop,
                 drop_id(Ipv4Drop::truncated)});
  }
  {
    PacketBuilder b = from_client("10.0.1.2");
    b.ip_hdr()->total_length = rte_cpu_to_be_16(12);
    b.fix_ipv4_checksum();
    c.push_back({"total length below header length", b.build(), Verdict::drop,
                 drop_id(Ipv4Drop::bad_header)});
  }
  {
    PacketBuilder b = from_client("10.0.1.2");
    b.ip_hdr()->hdr_checksum ^= 0x0101;
    c.push_back({"bad header checksum", b.build(), Verdict::drop, drop_id(Ipv4Drop::bad_checksum)});
  }
  {
    PacketBuilder b = from_client("10.0.0.1");
    b.ip_hdr()->hdr_checksum ^= 0x0101;
    c.push_back({"bad checksum to our own address is dropped, not punted", b.build(), Verdict::drop,
                 drop_id(Ipv4Drop::bad_checksum)});
  }
  return c;
}

TEST_F(ClassifyTest, Fixtures) {
  for (const Case& tc : cases()) {
    SCOPED_TRACE(tc.name);
    rte_mbuf* m = mbuf(tc.input);
    const Decision d = classify(m, *fib_, hops_);
    EXPECT_EQ(static_cast<int>(d.verdict), static_cast<int>(tc.verdict));
    if (tc.verdict == Verdict::drop) {
      EXPECT_EQ(static_cast<int>(d.reason), static_cast<int>(tc.reason));
    }
    if (tc.verdict == Verdict::forward) {
      EXPECT_EQ(d.out_port, tc.out_port);
      ASSERT_TRUE(tc.output.has_value());
      EXPECT_EQ(bytes(m), *tc.output);
      EXPECT_EQ(m->pkt_len, tc.output->size());
    } else if (tc.verdict == Verdict::punt) {
      EXPECT_EQ(bytes(m), tc.input) << "punted packets reach the host unmodified";
    }
    rte_pktmbuf_free(m);
  }
}

TEST_F(ClassifyTest, RxChecksumGoodFlagSkipsSoftwareCheck) {
  PacketBuilder b = from_client("10.0.1.2");
  b.ip_hdr()->hdr_checksum ^= 0x0101;
  rte_mbuf* m = mbuf(b.build());
  m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;  // the NIC vouched for it
  EXPECT_EQ(static_cast<int>(classify(m, *fib_, hops_).verdict),
            static_cast<int>(Verdict::forward));
  rte_pktmbuf_free(m);
}

// The incremental TTL/checksum update must equal a full recomputation for every header,
// including the 0x0000/0xffff corner that the RFC 1141 form gets wrong.
TEST(Ipv4DecrementTtl, MatchesFullRecomputation) {
  std::mt19937 rng(12345);
  int corner = 0;
  for (int i = 0; i < 200000; ++i) {
    rte_ipv4_hdr h{};
    auto* w = reinterpret_cast<uint8_t*>(&h);
    for (size_t k = 0; k < sizeof h; ++k) w[k] = static_cast<uint8_t>(rng());
    h.version_ihl = 0x45;
    h.time_to_live = static_cast<uint8_t>(2 + rng() % 254);
    h.hdr_checksum = 0;
    h.hdr_checksum = rte_ipv4_cksum(&h);
    corner += h.hdr_checksum == 0;
    ipv4_decrement_ttl(&h);
    const uint16_t got = h.hdr_checksum;
    h.hdr_checksum = 0;
    ASSERT_EQ(got, rte_ipv4_cksum(&h)) << "iteration " << i;
  }
  // Build the corner explicitly: a header whose checksum after the decrement is 0.
  rte_ipv4_hdr h{};
  h.version_ihl = 0x45;
  h.time_to_live = 65;
  h.next_proto_id = IPPROTO_UDP;
  for (uint32_t id = 0; id < 65536; ++id) {
    h.packet_id = rte_cpu_to_be_16(static_cast<uint16_t>(id));
    h.time_to_live = 65;
    h.hdr_checksum = 0;
    h.hdr_checksum = rte_ipv4_cksum(&h);
    rte_ipv4_hdr after = h;
    after.time_to_live = 64;
    after.hdr_checksum = 0;
    if (rte_ipv4_cksum(&after) != 0) continue;
    ipv4_decrement_ttl(&h);
    EXPECT_EQ(h.hdr_checksum, 0) << "RFC 1624 eqn. 3 must give 0x0000, not 0xffff";
    ++corner;
    break;
  }
  EXPECT_GT(corner, 0);
}

}  // namespace
}  // namespace vsgate
