// classify_burst() decides a burst in stages (parse and hash all, prefetch all, then decide
// each): its results must be exactly those of deciding the packets one at a time without
// stages (LbWorker::process(), the reference). Two identical
// load balancers get the same random traffic (handshakes, replies, resets, port reuse, ICMP
// errors, ARP, malformed and transit packets, expiry, a table and a port range that run out,
// a FIB change), one packet by packet and one in bursts; every verdict, output frame, counter
// and neighbour request must agree. Plus the worker's next-hop cache across FIB changes.
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ipv4/classify.h"
#include "lab_topology.h"
#include "lb/drop_reasons.h"
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
using test::lab::kFin;
using test::lab::kPort0Mac;
using test::lab::kPort1Mac;
using test::lab::kPsh;
using test::lab::kRst;
using test::lab::kSyn;
constexpr const char* kRsMac = test::lab::kRs2Mac;

using test::real;
using test::svc;

// The lab topology (tests/packet/lab_topology.h); rs2 (10.0.1.2) has MAC `rs2_mac`, or no
// neighbour entry.
std::unique_ptr<const Fib> make_fib(const char* rs2_mac, bool rs2_known = true) {
  test::lab::FibOptions o;
  o.rs2_mac = rs2_mac;
  o.rs2_known = rs2_known;
  auto fib = test::lab::make_fib(o);
  EXPECT_TRUE(fib.ok()) << fib.message();
  return fib.ok() ? std::move(fib.value()) : nullptr;
}

// One load balancer over the lab's services, with 16 local ports (they run out), a second
// FULLNAT real server for the web service and a NAT service whose real server (10.0.1.9) has
// no neighbour.
struct World : test::lab::LbWorld {
  explicit World(size_t capacity)
      : LbWorld({.conn_capacity = capacity,
                 .lport_first = 1024,
                 .lport_last = 1039,
                 .to_main_size = 1024}) {
    auto ok = [](const Status& s) { EXPECT_TRUE(s.ok()) << s.message(); };
    EXPECT_EQ(error, "");
    if (!error.empty()) return;
    ok(reg->add_real(svc(Proto::tcp, "10.0.0.100", 80), real("10.0.1.3", 8080, FwdMode::fullnat)));
    ok(reg->add_service({svc(Proto::tcp, "10.0.0.104", 80), SchedulerKind::rr, 0}));
    ok(reg->add_real(svc(Proto::tcp, "10.0.0.104", 80), real("10.0.1.9", 80, FwdMode::nat)));
    ok(publish());
  }
};

struct Result {
  Decision d;
  Bytes frame;
};

class BurstTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pool_ = rte_pktmbuf_pool_create(("bt" + std::to_string(seq_++)).c_str(), 255, 0, 0,
                                    RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool_, nullptr);
  }
  void TearDown() override { rte_mempool_free(pool_); }

  struct Input {
    Bytes frame;
    uint16_t port;
  };
  // Decides `in` with the given worker: as one burst, or one packet at a time unstaged.
  std::vector<Result> decide(const std::vector<Input>& in, World& w, const Fib& fib, uint32_t now,
                             bool burst) {
    std::vector<rte_mbuf*> pkts;
    for (const Input& i : in) {
      rte_mbuf* m = rte_pktmbuf_alloc(pool_);
      EXPECT_NE(m, nullptr);
      char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(i.frame.size()));
      std::memcpy(p, i.frame.data(), i.frame.size());
      m->port = i.port;
      pkts.push_back(m);
    }
    const LbHook ctx{w.worker.get(), w.snap.get(), now};
    std::vector<Decision> d(in.size());
    if (burst) {
      classify_burst(pkts.data(), static_cast<unsigned>(pkts.size()), fib, w.hops, ctx, d.data());
    } else {
      // The reference: every packet on its own, without the stages.
      for (size_t i = 0; i < pkts.size(); ++i)
        d[i] = detail::classify_one(pkts[i], fib, w.hops, ctx);
    }
    std::vector<Result> out;
    for (size_t i = 0; i < pkts.size(); ++i) {
      auto* b = rte_pktmbuf_mtod(pkts[i], uint8_t*);
      out.push_back({d[i], Bytes(b, b + rte_pktmbuf_data_len(pkts[i]))});
      rte_pktmbuf_free(pkts[i]);
    }
    return out;
  }

  static inline int seq_ = 0;
  rte_mempool* pool_ = nullptr;
};

Bytes tcp(const std::string& src, uint16_t sport, const std::string& dst, uint16_t dport,
          uint8_t flags, const char* dmac, const char* smac, uint8_t ttl = 64) {
  const size_t payload = (flags & kSyn) ? 0 : 10;
  return PacketBuilder()
      .eth(dmac, smac, RTE_ETHER_TYPE_IPV4)
      .ipv4(src.c_str(), dst.c_str(), ttl, IPPROTO_TCP, static_cast<uint16_t>(20 + payload))
      .tcp(sport, dport, flags, payload)
      .build();
}

// A forwarded TCP/UDP packet towards a real server, to answer later.
struct Sent {
  std::string src, dst;
  uint16_t sport, dport;
  uint8_t proto;
  Bytes frame;
};

TEST_F(BurstTest, BurstsDecideExactlyAsPacketByPacket) {
  auto fib = make_fib(kRsMac);
  auto fib2 = make_fib("02:00:00:00:01:22");  // rs2 moved to another MAC
  ASSERT_TRUE(fib && fib2);
  World one(48), many(48);  // small table: it fills up too
  std::mt19937 rng(12345);
  std::vector<Sent> sent;
  uint32_t now = 1000;
  const char* clients[] = {"10.0.0.2", "10.0.0.3"};
  const char* dests[] = {"10.0.0.100", "10.0.0.100", "10.0.0.101", "10.0.0.102",
                         "10.0.0.103", "10.0.0.104", "10.0.0.1",   "10.0.1.50"};
  const uint8_t flag_sets[] = {kSyn, kSyn, kAck, kAck | kPsh, kFin | kAck, kRst, kSyn | kAck, 0};
  size_t forwarded = 0, dropped = 0, punted = 0;
  for (int burst = 0; burst < 600; ++burst) {
    const Fib& f = burst < 300 ? *fib : *fib2;
    std::vector<Input> in;
    const unsigned n = 1 + rng() % 32;
    for (unsigned i = 0; i < n; ++i) {
      const std::string client = clients[rng() % 2];
      const auto sport = static_cast<uint16_t>(40000 + rng() % 6);
      const uint8_t flags = flag_sets[rng() % std::size(flag_sets)];
      const unsigned kind = rng() % 20;
      if (kind < 9) {  // client -> VIP (or the host, or transit), some to a port without service
        const uint16_t dport = rng() % 10 ? 80 : 81;
        in.push_back({tcp(client, sport, dests[rng() % std::size(dests)], dport, flags, kPort0Mac,
                          kClientMac),
                      0});
      } else if (kind < 13 && !sent.empty()) {  // a real server answers
        const Sent& s = sent[rng() % sent.size()];
        if (s.proto == IPPROTO_TCP) {
          in.push_back({tcp(s.dst, s.dport, s.src, s.sport, flags, kPort1Mac, kRsMac), 1});
        } else {
          in.push_back({PacketBuilder()
                            .eth(kPort1Mac, kRsMac, RTE_ETHER_TYPE_IPV4)
                            .ipv4(s.dst.c_str(), s.src.c_str(), 64, IPPROTO_UDP, 8 + 12)
                            .udp(s.dport, s.sport, 12, rng() % 2)
                            .build(),
                        1});
        }
      } else if (kind < 14) {  // UDP to the DNS service, with and without a checksum
        in.push_back({PacketBuilder()
                          .eth(kPort0Mac, kClientMac, RTE_ETHER_TYPE_IPV4)
                          .ipv4(client.c_str(), "10.0.0.100", 64, IPPROTO_UDP, 8 + 12)
                          .udp(sport, 53, 12, rng() % 2)
                          .build(),
                      0});
      } else if (kind < 15 && !sent.empty()) {  // ICMP error about something we sent
        const Sent& s = sent[rng() % sent.size()];
        Bytes msg(8 + 20 + 8, 0);  // port unreachable, quoting the IPv4 header + 8 bytes
        msg[0] = 3;
        msg[1] = 3;
        std::memcpy(&msg[8], s.frame.data() + 14, 20 + 8);
        const uint16_t sum = static_cast<uint16_t>(~rte_raw_cksum(msg.data(), msg.size()));
        std::memcpy(&msg[2], &sum, 2);
        in.push_back({PacketBuilder()
                          .eth(kPort1Mac, kRsMac, RTE_ETHER_TYPE_IPV4)
                          .ipv4(s.dst.c_str(), s.src.c_str(), 64, IPPROTO_ICMP,
                                static_cast<uint16_t>(msg.size()))
                          .raw(msg)
                          .build(),
                      1});
      } else if (kind < 16) {  // ARP for a VIP, on the right port or not
        in.push_back({PacketBuilder()
                          .eth("ff:ff:ff:ff:ff:ff", kClientMac, RTE_ETHER_TYPE_ARP)
                          .arp_request(kClientMac, client.c_str(), "10.0.0.100")
                          .build(),
                      static_cast<uint16_t>(rng() % 2)});
      } else {  // malformed or odd
        Bytes b =
            tcp(client, sport, "10.0.0.100", 80, flags, kPort0Mac, kClientMac, rng() % 4 ? 64 : 1);
        auto* ip = reinterpret_cast<rte_ipv4_hdr*>(b.data() + 14);
        switch (rng() % 7) {
          case 0:  // bad header checksum
            ip->hdr_checksum ^= 0x40;
            break;
          case 1:  // first fragment
            ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
            ip->hdr_checksum = 0;
            ip->hdr_checksum = rte_ipv4_cksum(ip);
            break;
          case 2:  // TCP data offset of 16 bytes
            b[14 + 20 + 12] = 0x40;
            break;
          case 3:  // IP total length beyond the frame
            ip->total_length = rte_cpu_to_be_16(200);
            ip->hdr_checksum = 0;
            ip->hdr_checksum = rte_ipv4_cksum(ip);
            break;
          case 4:
            b.resize(30);  // truncated inside the IPv4 header
            break;
          case 5:
            b.resize(10);  // runt
            break;
          default:
            b[12] = 0x86, b[13] = 0xdd;  // IPv6 ethertype
            break;
        }
        in.push_back({b, 0});
      }
    }
    const std::vector<Result> a = decide(in, one, f, now, false);
    const std::vector<Result> b = decide(in, many, f, now, true);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      const std::string at = "burst " + std::to_string(burst) + " packet " + std::to_string(i);
      ASSERT_EQ(static_cast<int>(a[i].d.verdict), static_cast<int>(b[i].d.verdict)) << at;
      if (a[i].d.verdict == Verdict::drop) {
        ASSERT_EQ(a[i].d.reason, b[i].d.reason) << at;
        ++dropped;
      } else if (a[i].d.verdict == Verdict::forward) {
        ASSERT_EQ(a[i].d.out_port, b[i].d.out_port) << at;
        ++forwarded;
      } else {
        ++punted;
      }
      ASSERT_EQ(a[i].frame, b[i].frame) << at;
      // Remember TCP/UDP forwarded to a real server (not tunnelled) for replies.
      const Bytes& fr = a[i].frame;
      if (a[i].d.verdict == Verdict::forward && a[i].d.out_port == 1 && fr.size() >= 14 + 28) {
        const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(fr.data() + 14);
        if (ip->next_proto_id == IPPROTO_TCP || ip->next_proto_id == IPPROTO_UDP) {
          uint16_t ports[2];
          std::memcpy(ports, fr.data() + 14 + 20, 4);
          sent.push_back({Ipv4Addr{ip->src_addr}.str(), Ipv4Addr{ip->dst_addr}.str(),
                          rte_be_to_cpu_16(ports[0]), rte_be_to_cpu_16(ports[1]), ip->next_proto_id,
                          fr});
          if (sent.size() > 64) sent.erase(sent.begin());
        }
      }
    }
    // Time passes now and then (CLOSE expires after 10 s, SYN_RECV after 60 s).
    if (rng() % 8 == 0) now += ticks_from_seconds(11);
    one.worker->sweep(now, 8);
    many.worker->sweep(now, 8);
    ASSERT_EQ(one.worker->conns().size(), many.worker->conns().size()) << "burst " << burst;
  }
  EXPECT_EQ(one.worker->counters.created.get(), many.worker->counters.created.get());
  EXPECT_EQ(one.worker->counters.conns.get(), many.worker->counters.conns.get());
  for (const auto& s : one.reg->services()) {
    const Service* t = many.reg->find(s->key);
    ASSERT_NE(t, nullptr);
    for (size_t r = 0; r < s->reals.size(); ++r) {
      const StatsValues x = one.reg->stats(*s->reals[r]), y = many.reg->stats(*t->reals[r]);
      EXPECT_EQ(x.conns, y.conns);
      EXPECT_EQ(x.inpkts, y.inpkts);
      EXPECT_EQ(x.outpkts, y.outpkts);
      EXPECT_EQ(x.inbytes, y.inbytes);
      EXPECT_EQ(x.outbytes, y.outbytes);
      EXPECT_EQ(one.reg->active(*s->reals[r]), many.reg->active(*t->reals[r]));
      EXPECT_EQ(one.reg->inactive(*s->reals[r]), many.reg->inactive(*t->reals[r]));
    }
  }
  EXPECT_EQ(one.drain_requests(), many.drain_requests());
  // The traffic must have exercised every outcome, or the comparison proves little.
  EXPECT_GT(forwarded, 1000u);
  EXPECT_GT(dropped, 500u);
  EXPECT_GT(punted, 300u);
  EXPECT_GT(one.worker->counters.created.get(), 200u);
}

// The worker remembers resolved next hops; a new FIB (here: the real server's MAC changed,
// then its neighbour entry gone) must take effect at the next packet.
TEST_F(BurstTest, NextHopCacheFollowsTheFib) {
  auto fib = make_fib(kRsMac);
  auto moved = make_fib("02:00:00:00:01:22");
  auto gone = make_fib(kRsMac, false);
  ASSERT_TRUE(fib && moved && gone);
  World w(64);
  auto out_mac = [](const Result& r) {
    const auto* eth = reinterpret_cast<const rte_ether_hdr*>(r.frame.data());
    char b[RTE_ETHER_ADDR_FMT_SIZE];
    rte_ether_format_addr(b, sizeof b, &eth->dst_addr);
    return std::string(b);
  };
  const Input syn{tcp("10.0.0.2", 40000, "10.0.0.100", 80, kSyn, kPort0Mac, kClientMac), 0};
  const Input ack{tcp("10.0.0.2", 40000, "10.0.0.100", 80, kAck, kPort0Mac, kClientMac), 0};
  auto r = decide({syn, ack}, w, *fib, 1000, true);
  ASSERT_EQ(static_cast<int>(r[1].d.verdict), static_cast<int>(Verdict::forward));
  EXPECT_EQ(out_mac(r[0]), "02:00:00:00:01:02");
  EXPECT_EQ(out_mac(r[1]), "02:00:00:00:01:02");
  r = decide({ack}, w, *moved, 1000, true);
  ASSERT_EQ(static_cast<int>(r[0].d.verdict), static_cast<int>(Verdict::forward));
  EXPECT_EQ(out_mac(r[0]), "02:00:00:00:01:22");
  r = decide({ack}, w, *gone, 1000, true);
  ASSERT_EQ(static_cast<int>(r[0].d.verdict), static_cast<int>(Verdict::drop));
  EXPECT_EQ(r[0].d.reason, drop_id(LbDrop::no_neighbour));
  r = decide({ack}, w, *fib, 1000, false);
  EXPECT_EQ(out_mac(r[0]), "02:00:00:00:01:02");
}

}  // namespace
}  // namespace vsgate
