// vsgate-bench: cycles (rdtsc) and instructions (callgrind) per packet of a worker's burst loop,
// run in process on prebuilt mbufs: no PMD, no I/O, EAL with --no-huge --no-pci.
//
// Scenarios (docs/PERFORMANCE.md has the method and the figures):
//   baseline   L2 MAC swap in the worker's loop shape (burst of 32, prefetch, verdict, tx stub);
//   est-small  FULLNAT, ACKs of random established connections, small table (1k);
//   est-large  the same with a large table (1M);
//   new        FULLNAT SYNs of new clients: lookup miss, scheduler, local port, insert, rewrite.
// After est-large: the connection listing (lb.conns) as the worker serves it, one bounded step
// per loop turn, each step timed, with the table warm and with the caches flushed before it.
// Each burst is decided by classify_burst(), as the worker does.
// Before each burst, every mbuf is restored from a 64-byte template whose client address, port
// and checksums are patched for the packet's connection (what the NIC would have written); the
// baseline pays for the same restore, so the ratio compares like with like.
//
// Every measured packet must be forwarded: verdicts are counted and any other outcome fails the
// run (exit 1), so a broken data path cannot look fast.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_tcp.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define VSGATE_HAVE_CALLGRIND 1
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#define RUNNING_ON_VALGRIND 0
#define VSGATE_HAVE_CALLGRIND 0
#endif

#include "app/drop_reasons.h"
#include "ipv4/classify.h"
#include "ipv4/csum.h"
#include "lb/lb_hook.h"
#include "lb/lb_worker.h"
#include "lb/registry.h"
#include "packet_builder.h"

namespace vsgate::bench {
namespace {

constexpr unsigned kBurst = 32;
constexpr size_t kFrameLen = 64;  // every frame: 14 Ethernet + 20 IPv4 + 20 TCP + 10 (payload/pad)
constexpr uint32_t kClientBase = 0x0a800001;  // 10.128.0.1: client k = base + k / 16384
constexpr uint16_t kClientPortBase = 1024;    //              port 1024 + k % 16384
constexpr uint32_t kClientPortsPerIp = 16384;
constexpr uint32_t kNow = 1000;  // frozen clock: nothing expires while we measure
// Far enough ahead that every connection has outlived any timeout (at most one year).
constexpr uint32_t kExpireAll = kNow + (1u << 30);

constexpr const char* kPort0Mac = "02:00:00:00:00:10";
constexpr const char* kPort1Mac = "02:00:00:00:00:11";
constexpr uint16_t kLabPorts = 2;                        // the lab's two ports, 0 and 1
constexpr const char* kRouterMac = "02:00:00:00:00:02";  // the clients' gateway on port 0

[[noreturn]] void die(const char* fmt, const std::string& what) {
  std::fprintf(stderr, "vsgate-bench: FAIL: ");
  std::fprintf(stderr, fmt, what.c_str());
  std::fprintf(stderr, "\n");
  std::exit(1);
}

void check(bool ok, const std::string& what) {
  if (!ok) die("%s", what);
}

rte_ether_addr ether(const MacAddr& m) {
  rte_ether_addr a;
  std::memcpy(a.addr_bytes, m.bytes.data(), 6);
  return a;
}

std::string real_mac(uint32_t i) {
  char b[32];
  std::snprintf(b, sizeof b, "02:00:00:00:01:%02x", static_cast<unsigned>(i & 0xff));
  return b;
}
Ipv4Addr real_ip(uint32_t i) { return Ipv4Addr::from_host(0x0a000100u + 10 + i); }  // 10.0.1.10+
Ipv4Addr laddr_ip(uint32_t i) { return Ipv4Addr::from_host(0x0a000200u + 1 + i); }  // 10.0.2.1+
constexpr uint16_t kVipPort = 80, kRealPort = 8080;

struct Options {
  std::string scenario = "all";
  unsigned runs = 5;
  uint64_t packets = uint64_t{1} << 22;  // per timed run, baseline and established
  uint32_t small_conns = 1024;
  uint32_t large_conns = uint32_t{1} << 20;
  uint32_t new_conns = uint32_t{1} << 20;  // SYNs per timed run of `new`
  uint32_t new_capacity = 0;               // 0: new_conns
  uint32_t laddrs = 40;
  uint32_t reals = 8;
  uint32_t mbufs = 1024;  // in rotation, a multiple of the burst
  uint64_t callgrind = 0;
  // The expiry sweep is paced by time in the worker (lb/core/sweep_pacer.h): the whole table
  // once per LbWorker::kSweepPeriodTicks. The benchmark has no real clock to pace it by (under
  // callgrind time runs ~50 times slower), so it charges the sweep at a modelled packet rate:
  // capacity / (period x sweep_pps) entries per packet, spread evenly over the loop turns.
  uint64_t sweep_pps = 4'000'000;
  int64_t sweep = -1;     // >= 0: exactly this many entries per loop turn instead (0: none)
  bool unstaged = false;  // est-*: decide packets one by one, without staging (a what-if)
  bool what_if = false;   // timed mode: also est-large unstaged
  bool smoke = false;
  bool ip_cksum_good = false;  // mbufs flagged as by a port with RX IPv4 checksum offload
};

// --- frames ---

// A 64-byte frame from the client side; restore() writes it into an mbuf for client k.
struct Template {
  alignas(64) uint8_t bytes[kFrameLen];
  uint32_t src_be;  // as in the template (client 0)
  uint16_t sport_be;
  uint16_t ip_check, l4_check;
};

Template make_template(uint8_t flags) {
  const bool syn = flags & RTE_TCP_SYN_FLAG;
  const size_t payload = syn ? 0 : 10;  // SYNs carry no data: padded to 64 bytes instead
  const Ipv4Addr client = Ipv4Addr::from_host(kClientBase);
  const std::string src = client.str();
  test::Bytes f =
      test::PacketBuilder()
          .eth(kPort0Mac, kRouterMac, RTE_ETHER_TYPE_IPV4)
          .ipv4(src.c_str(), "10.0.0.100", 64, IPPROTO_TCP, static_cast<uint16_t>(20 + payload))
          .tcp(kClientPortBase, kVipPort, flags, payload)
          .pad_to(kFrameLen)
          .build();
  check(f.size() == kFrameLen, "template size");
  Template t{};
  std::memcpy(t.bytes, f.data(), kFrameLen);
  const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(t.bytes + sizeof(rte_ether_hdr));
  const auto* tcp = reinterpret_cast<const rte_tcp_hdr*>(ip + 1);
  t.src_be = ip->src_addr;
  t.sport_be = tcp->src_port;
  t.ip_check = ip->hdr_checksum;
  t.l4_check = tcp->cksum;
  return t;
}

inline uint32_t client_ip_be(uint32_t k) {
  return rte_cpu_to_be_32(kClientBase + k / kClientPortsPerIp);
}
inline uint16_t client_port_be(uint32_t k) {
  return rte_cpu_to_be_16(static_cast<uint16_t>(kClientPortBase + k % kClientPortsPerIp));
}

// The stand-in for the NIC writing a received frame: 64-byte copy, then the client's address
// and port with incrementally updated checksums. Paid by every scenario, baseline included.
inline void restore(rte_mbuf* m, const Template& t, uint32_t k) {
  auto* d = rte_pktmbuf_mtod(m, uint8_t*);
  std::memcpy(d, t.bytes, kFrameLen);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(d + sizeof(rte_ether_hdr));
  auto* tcp = reinterpret_cast<rte_tcp_hdr*>(ip + 1);
  const uint32_t src = client_ip_be(k);
  const uint16_t sport = client_port_be(k);
  ip->src_addr = src;
  ip->hdr_checksum = csum_replace4(t.ip_check, t.src_be, src);
  tcp->src_port = sport;
  tcp->cksum = csum_replace2(csum_replace4(t.l4_check, t.src_be, src), t.sport_be, sport);
}

// --- the loop ---

struct Tally {
  uint64_t verdicts[6] = {};  // by Verdict
  uint64_t drops[kDropReasonNames.size()] = {};
  uint64_t forwarded() const { return verdicts[static_cast<size_t>(Verdict::forward)]; }
  std::string describe() const {
    std::string s = "forward " + std::to_string(verdicts[0]) + ", punt " +
                    std::to_string(verdicts[1]) + ", drop " + std::to_string(verdicts[2]);
    for (size_t r = 0; r < kDropReasonNames.size(); ++r)
      if (drops[r])
        s += " [" + std::string(kDropReasonNames[r]) + " " + std::to_string(drops[r]) + "]";
    return s;
  }
};

// What the worker does with a verdict, minus the PMD: a tx array per port, "flushed" when full
// and at the end of the burst; punts and drops counted.
struct TxStub {
  rte_mbuf* pkts[kMaxPorts][kBurst];
  uint16_t len[kMaxPorts] = {};
  uint64_t flushed = 0;
  void flush(uint16_t p) {
    if (len[p] == 0) return;
    flushed += len[p];
    len[p] = 0;
  }
};

// The worker's burst loop (lcore/worker.cc) with rx replaced by restore() and tx by TxStub.
// `next(m)` restores mbuf m for the next packet, `decide(pkts, n, decisions)` decides the
// burst (classify_burst() as the worker), `end_turn()` runs once per loop turn (sweep, dump
// service). Exactly `packets` packets, the last burst possibly short.
template <class Next, class Decide, class EndTurn>
void run_loop(rte_mbuf* const* ring, uint32_t ring_len, uint64_t packets, Next&& next,
              Decide&& decide, EndTurn&& end_turn, Tally& tally, TxStub& tx) {
  uint32_t slot = 0;
  Decision decisions[kBurst];
  while (packets) {
    const unsigned n = packets < kBurst ? static_cast<unsigned>(packets) : kBurst;
    packets -= n;
    rte_mbuf* const* pkts = ring + slot;
    slot = slot + kBurst >= ring_len ? 0 : slot + kBurst;
    for (unsigned i = 0; i < n; ++i) next(pkts[i]);
    decide(pkts, n, decisions);
    for (unsigned i = 0; i < n; ++i) {
      rte_mbuf* m = pkts[i];
      const Decision d = decisions[i];
      ++tally.verdicts[static_cast<size_t>(d.verdict)];
      switch (d.verdict) {
        case Verdict::forward:
          tx.pkts[d.out_port][tx.len[d.out_port]++] = m;
          if (tx.len[d.out_port] == kBurst) tx.flush(d.out_port);
          break;
        case Verdict::punt:
        case Verdict::consumed:
        case Verdict::redirect:
        case Verdict::pass:
          break;
        case Verdict::drop:
          ++tally.drops[static_cast<size_t>(d.reason)];
          break;
      }
    }
    for (uint16_t p = 0; p < kLabPorts; ++p) tx.flush(p);  // the worker flushes its ports only
    end_turn();
  }
}

// The baseline's decision, with the prefetch of the next packet the worker used to do.
inline void mac_swap(rte_mbuf* const* pkts, unsigned n, Decision* out) {
  for (unsigned i = 0; i < n; ++i) {
    if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
    auto* eth = rte_pktmbuf_mtod(pkts[i], rte_ether_hdr*);
    const rte_ether_addr t = eth->dst_addr;
    eth->dst_addr = eth->src_addr;
    eth->src_addr = t;
    out[i] = {Verdict::forward, kNoDrop, pkts[i]->port};
  }
}

// --- the load balancer under test ---

class Lab {
 public:
  explicit Lab(const Options& o) : opt_(o) {
    pool_ = rte_pktmbuf_pool_create("bench_pool", o.mbufs + 64, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                    static_cast<int>(rte_socket_id()));
    check(pool_ != nullptr, "mbuf pool");
    auto to_main = Mailbox<ToMain>::create("bench_to_main", 1024, RingDiscipline::spsc);
    check(to_main.ok(), "mailbox to main");
    to_main_ = std::move(to_main.value());
    auto to_worker = Mailbox<ToWorker>::create("bench_to_worker", 64, RingDiscipline::spsc);
    check(to_worker.ok(), "mailbox to the worker");
    to_worker_ = std::move(to_worker.value());
    for (uint32_t i = 0; i < o.mbufs; ++i) {
      rte_mbuf* m = rte_pktmbuf_alloc(pool_);
      check(m != nullptr, "mbuf alloc");
      check(rte_pktmbuf_append(m, kFrameLen) != nullptr, "mbuf append");
      m->port = 0;
      // restore() leaves ol_flags alone and classify() does not change them.
      m->ol_flags = o.ip_cksum_good ? RTE_MBUF_F_RX_IP_CKSUM_GOOD : 0;
      mbufs_.push_back(m);
    }

    FibInput in;
    in.addresses = {{*Ipv4Prefix::parse("10.0.0.1/24"), 0}, {*Ipv4Prefix::parse("10.0.1.1/24"), 1}};
    in.routes = {{*Ipv4Prefix::parse("10.0.0.0/24"), {}, 0},
                 {*Ipv4Prefix::parse("10.0.1.0/24"), {}, 1},
                 {*Ipv4Prefix::parse("10.128.0.0/9"), test::ip("10.0.0.2"), 0}};
    in.neighbours = {{test::ip("10.0.0.2"), test::mac(kRouterMac), 0}};
    for (uint32_t i = 0; i < o.reals; ++i)
      in.neighbours.push_back({real_ip(i), test::mac(real_mac(i).c_str()), 1});
    in.ports[0] = {true, ether(test::mac(kPort0Mac)), 1500, test::ip("10.0.0.1").be};
    in.ports[1] = {true, ether(test::mac(kPort1Mac)), 1500, test::ip("10.0.1.1").be};
    auto fib = Fib::build(in, nullptr);
    if (!fib.ok()) die("fib: %s", fib.message());
    fib_ = std::move(fib.value());

    reg_ = std::make_unique<LbRegistry>(1);
    const ServiceKey svc{Proto::tcp, IpAddr::from_v4(test::ip("10.0.0.100")),
                         L4Port::from_host(kVipPort)};
    auto ok = [](const Status& s, const char* what) {
      if (!s.ok()) die("%s", what + (": " + s.message()));
    };
    ok(reg_->add_service({svc, SchedulerKind::rr, 0}), "add_service");
    for (uint32_t i = 0; i < o.reals; ++i)
      ok(reg_->add_real(svc, {{IpAddr::from_v4(real_ip(i)), L4Port::from_host(kRealPort)},
                              FwdMode::fullnat,
                              1,
                              0,
                              0}),
         "add_real");
    for (uint32_t i = 0; i < o.laddrs; ++i)
      ok(reg_->add_laddr(svc, IpAddr::from_v4(laddr_ip(i)), "dpdk1", 1), "add_laddr");
    auto snap = reg_->snapshot();
    if (!snap.ok()) die("snapshot: %s", snap.message());
    snap_ = std::move(snap.value());
    for (const auto& la : reg_->find(svc)->laddrs) laddrs_.push_back(la.get());

    ack_ = make_template(RTE_TCP_ACK_FLAG);
    syn_ = make_template(RTE_TCP_SYN_FLAG);
  }
  ~Lab() {
    for (rte_mbuf* m : mbufs_) rte_pktmbuf_free(m);
    rte_mempool_free(pool_);
  }
  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;

  std::unique_ptr<LbWorker> make_worker(size_t capacity) {
    auto w = std::make_unique<LbWorker>(0, 1, capacity, to_main_.get(), reg_->counters(),
                                        reg_->laddr_slots());
    w->set_timeouts(snap_->timeouts);
    return w;
  }

  Mailbox<ToMain>& to_main() { return *to_main_; }
  Mailbox<ToWorker>& to_worker() { return *to_worker_; }
  rte_mbuf* const* ring() const { return mbufs_.data(); }
  uint32_t ring_len() const { return static_cast<uint32_t>(mbufs_.size()); }
  const Fib& fib() const { return *fib_; }
  const LbSnapshot& services() const { return *snap_; }
  NextHops& hops() { return hops_; }
  const Template& ack() const { return ack_; }
  const Template& syn() const { return syn_; }
  const std::vector<LocalAddress*>& laddrs() const { return laddrs_; }
  size_t lports_total() const {
    size_t n = 0;
    for (const LocalAddress* la : laddrs_) n += la->pools[0]->size();
    return n;
  }
  size_t lports_free() const {
    size_t n = 0;
    for (const LocalAddress* la : laddrs_) n += la->pools[0]->free();
    return n;
  }

  // Full check of a forwarded client packet: the FULLNAT rewrite towards a real server, with
  // valid checksums (so the incremental updates are right) and the frame length unchanged.
  std::string wrong_output(rte_mbuf* m, const Decision& d, uint8_t flags) const {
    if (d.verdict != Verdict::forward) return "not forwarded";
    if (d.out_port != 1) return "out port " + std::to_string(d.out_port);
    if (rte_pktmbuf_data_len(m) != kFrameLen) return "frame length changed";
    auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(eth + 1);
    auto* tcp = reinterpret_cast<rte_tcp_hdr*>(ip + 1);
    if (rte_raw_cksum(ip, sizeof *ip) != 0xffff) return "bad IPv4 header checksum";
    const uint16_t l4_check = tcp->cksum;
    tcp->cksum = 0;
    const uint16_t want = rte_ipv4_udptcp_cksum(ip, tcp);
    tcp->cksum = l4_check;
    if (l4_check != want) return "bad TCP checksum";
    if (tcp->tcp_flags != flags) return "TCP flags changed";
    const uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
    const uint32_t r = dst - real_ip(0).host();
    if (r >= opt_.reals) return "destination is not a real server";
    if (tcp->dst_port != L4Port::from_host(kRealPort).be) return "destination port";
    const uint32_t l = rte_be_to_cpu_32(ip->src_addr) - laddr_ip(0).host();
    if (l >= opt_.laddrs) return "source is not a local address";
    const uint16_t lport = rte_be_to_cpu_16(tcp->src_port);
    if (lport < 1024 || lport > 32767) return "local port out of range";
    const rte_ether_addr rs_mac = ether(test::mac(real_mac(r).c_str()));
    if (!rte_is_same_ether_addr(&eth->dst_addr, &rs_mac) ||
        !rte_is_same_ether_addr(&eth->src_addr, &fib_->port(1).mac))
      return "Ethernet addresses";
    return {};
  }

 private:
  Options opt_;
  rte_mempool* pool_ = nullptr;
  std::unique_ptr<Mailbox<ToMain>> to_main_;
  std::unique_ptr<Mailbox<ToWorker>> to_worker_;
  std::vector<rte_mbuf*> mbufs_;
  std::unique_ptr<const Fib> fib_;
  std::unique_ptr<LbRegistry> reg_;
  std::unique_ptr<const LbSnapshot> snap_;
  NextHops hops_;  // the worker's, as in its loop
  std::vector<LocalAddress*> laddrs_;
  Template ack_, syn_;
};

// --- scenarios ---

std::vector<uint32_t> permutation(uint32_t n, uint64_t seed) {
  std::vector<uint32_t> v(n);
  std::iota(v.begin(), v.end(), 0u);
  std::shuffle(v.begin(), v.end(), std::mt19937_64(seed));
  return v;
}

// Walks a permutation of connection indices cyclically: the clients of the next packets.
class Order {
 public:
  explicit Order(std::vector<uint32_t> v) : v_(std::move(v)) {}
  uint32_t next() {
    const uint32_t k = v_[pos_];
    pos_ = pos_ + 1 == v_.size() ? 0 : pos_ + 1;
    return k;
  }
  size_t size() const { return v_.size(); }

 private:
  std::vector<uint32_t> v_;
  size_t pos_ = 0;
};

struct Run {
  uint64_t cycles = 0;
  Tally tally;
};

void expect_all_forwarded(const Tally& t, uint64_t packets, const std::string& what) {
  if (t.forwarded() != packets)
    die("%s", what + ": " + std::to_string(packets - t.forwarded()) + " of " +
                  std::to_string(packets) + " packets not forwarded (" + t.describe() + ")");
}

class Bench {
 public:
  Bench(Lab& lab, const Options& o) : lab_(lab), sweep_(o.sweep), sweep_pps_(o.sweep_pps) {}

  // Baseline: MAC swap on ACK frames of clients in `order`.
  Run baseline(Order& order, uint64_t packets, bool callgrind = false) {
    Run r;
    TxStub tx;
    const Template& t = lab_.ack();
    auto next = [&](rte_mbuf* m) { restore(m, t, order.next()); };
    auto end_turn = [] {};
    if (callgrind) CALLGRIND_START_INSTRUMENTATION;
    const uint64_t t0 = rte_rdtsc_precise();
    run_loop(lab_.ring(), lab_.ring_len(), packets, next, mac_swap, end_turn, r.tally, tx);
    r.cycles = rte_rdtsc_precise() - t0;
    if (callgrind) CALLGRIND_STOP_INSTRUMENTATION;
    expect_all_forwarded(r.tally, packets, "baseline");
    return r;
  }

  // Packets of clients from `next_client()` with template `t` through classify_burst() of
  // worker `w`, as the worker's loop. `unstaged` is a what-if, not the daemon's path: each
  // packet is decided on its own, without the stages that overlap the cache misses of a burst.
  template <bool kVerify, class NextClient>
  Run lb(LbWorker& w, const Template& t, NextClient&& next_client, uint64_t packets,
         const char* what, bool callgrind = false, bool unstaged = false) {
    Run r;
    TxStub tx;
    const LbHook ctx{&w, &lab_.services(), kNow};
    NextHops& hops = lab_.hops();
    const Fib& fib = lab_.fib();
    const uint8_t flags = t.bytes[sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + 13];
    auto next = [&](rte_mbuf* m) { restore(m, t, next_client()); };
    auto decide = [&](rte_mbuf* const* pkts, unsigned n, Decision* out) {
      if (unstaged) {
        for (unsigned i = 0; i < n; ++i) {
          if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
          out[i] = detail::classify_one(pkts[i], fib, hops, ctx);
        }
      } else if constexpr (!kVerify) {
        classify_burst(pkts, n, fib, hops, ctx, out);
      } else {
        uint32_t clients[kBurst];
        for (unsigned i = 0; i < n; ++i) {
          auto* ip = rte_pktmbuf_mtod_offset(pkts[i], rte_ipv4_hdr*, sizeof(rte_ether_hdr));
          auto* tcp = reinterpret_cast<rte_tcp_hdr*>(ip + 1);
          clients[i] = (rte_be_to_cpu_32(ip->src_addr) - kClientBase) * kClientPortsPerIp +
                       (rte_be_to_cpu_16(tcp->src_port) - kClientPortBase);
        }
        classify_burst(pkts, n, fib, hops, ctx, out);
        for (unsigned i = 0; i < n; ++i) {
          const Decision& d = out[i];
          if (d.verdict != Verdict::forward) continue;  // counted, and fails the run
          const std::string err = lab_.wrong_output(pkts[i], d, flags);
          if (!err.empty()) die("%s", std::string(what) + ": " + err);
          // The connection's identity on the real-server side: a SYN records it, every later
          // packet of the client must get exactly the same (so lookups find the right entry).
          auto* ip = rte_pktmbuf_mtod_offset(pkts[i], rte_ipv4_hdr*, sizeof(rte_ether_hdr));
          auto* tcp = reinterpret_cast<rte_tcp_hdr*>(ip + 1);
          const uint64_t id = uint64_t{ip->src_addr} << 32 | uint64_t{tcp->src_port} << 16 |
                              (rte_be_to_cpu_32(ip->dst_addr) & 0xffff);
          const uint32_t k = clients[i];
          if (k >= identity_.size()) die("%s", std::string(what) + ": client index out of range");
          if (flags & RTE_TCP_SYN_FLAG)
            identity_[k] = id;
          else if (identity_[k] != id)
            die("%s", std::string(what) + ": packet of client " + std::to_string(k) +
                          " rewritten for another connection");
        }
      }
    };
    // Entries of the paced sweep owed per turn of kBurst packets, in units of 1/(period x pps).
    const uint64_t per_period = sweep_pps_ * LbWorker::kSweepPeriodTicks / kTicksPerSecond;
    uint64_t owed = 0;
    auto end_turn = [&] {
      if (sweep_ >= 0) {
        if (sweep_) w.sweep(kNow, static_cast<size_t>(sweep_));
      } else if (per_period) {
        owed += uint64_t{kBurst} * w.conns().capacity();
        if (owed >= per_period) {
          w.sweep(kNow, owed / per_period);
          owed %= per_period;
        }
      }
      w.serve_control(lab_.to_worker(), kNow);
    };
    if (callgrind) CALLGRIND_START_INSTRUMENTATION;
    const uint64_t t0 = rte_rdtsc_precise();
    run_loop(lab_.ring(), lab_.ring_len(), packets, next, decide, end_turn, r.tally, tx);
    r.cycles = rte_rdtsc_precise() - t0;
    if (callgrind) CALLGRIND_STOP_INSTRUMENTATION;
    expect_all_forwarded(r.tally, packets, what);
    return r;
  }

  // SYNs from clients 0..n-1 (verified), then one ACK per connection in random order (verified),
  // which moves each to ESTABLISHED: the state the established scenarios measure.
  void populate(LbWorker& w, uint32_t n, Order& order) {
    check(n <= lab_.lports_total(), "populate: " + std::to_string(n) +
                                        " connections need more "
                                        "local ports than the " +
                                        std::to_string(lab_.lports_total()) +
                                        " available (--laddrs)");
    uint32_t k = 0;
    reserve(n);
    lb<true>(
        w, lab_.syn(), [&] { return k++; }, n, "populate SYN");
    check(w.conns().size() == n, "populate: table holds " + std::to_string(w.conns().size()) +
                                     " connections, expected " + std::to_string(n));
    lb<true>(
        w, lab_.ack(), [&] { return order.next(); }, n, "populate ACK");
  }

  // Verified SYNs of clients 0..n-1 into an empty table (the new-connection scenario's first,
  // untimed run).
  void verify_new(LbWorker& w, uint32_t n) {
    uint32_t k = 0;
    reserve(n);
    lb<true>(
        w, lab_.syn(), [&] { return k++; }, n, "new (verification run)");
    check(w.conns().size() == n, "new: not every SYN created a connection");
  }

  // A connection listing as the main lcore asks for it (rows for every connection, so that
  // every step copies as many as it visits: the costliest case), served as the worker loop
  // does, one serve_control() per turn. Returns the cycles of each step; with `flush_every`
  // > 0 only every that many-th step is timed, right after the caches were flushed.
  std::vector<uint64_t> list_conns(LbWorker& w, std::vector<ConnRow>& rows, unsigned flush_every) {
    static uint64_t request = 0;
    check(lab_.to_worker().send(
              ToWorker::list_conns_msg(++request, rows.data(), static_cast<uint32_t>(rows.size()))),
          "listing: mailbox full");
    std::vector<uint64_t> steps;
    for (unsigned turn = 0;; ++turn) {
      const bool timed = flush_every == 0 || turn % flush_every == 0;
      if (flush_every && timed) flush_caches();
      const uint64_t t0 = rte_rdtsc_precise();
      w.serve_control(lab_.to_worker(), kNow);
      const uint64_t t1 = rte_rdtsc_precise();
      if (timed) steps.push_back(t1 - t0);
      ToMain m;
      if (lab_.to_main().receive(&m, 1) == 1 && m.kind == ToMain::Kind::list_done) {
        check(m.request == request && m.rows == w.conns().size(),
              "listing: " + std::to_string(m.rows) + " rows of " +
                  std::to_string(w.conns().size()) + " connections");
        return steps;
      }
    }
  }

  // Writes a buffer twice the size of the last-level cache (32 MiB here): what the listing
  // step reads next is out of cache, as in a worker busy with traffic.
  void flush_caches() {
    if (evict_.empty()) evict_.assign(size_t{64} << 20, 0);
    for (size_t i = 0; i < evict_.size(); i += 64) evict_[i] = static_cast<char>(evict_[i] + 1);
  }

  // The verification's own memory, touched now so it is not mistaken for the worker's.
  void reserve(uint32_t n) {
    if (identity_.size() != n) identity_.assign(n, 0);
  }

  // Expires every connection (local ports go back to their pools) and checks that it did.
  void expire_all(LbWorker& w) {
    w.sweep(kExpireAll, w.conns().capacity());
    check(w.conns().size() == 0, "expire_all left connections");
    check(lab_.lports_free() == lab_.lports_total(), "expire_all: local ports not returned");
  }

 private:
  Lab& lab_;
  int64_t sweep_;
  uint64_t sweep_pps_;
  std::vector<uint64_t> identity_;  // by client: real-server side address, port, real server
  std::vector<char> evict_;
};

// --- reporting ---

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Row {
  std::string name;
  uint64_t conns = 0;
  uint64_t packets = 0;
  std::vector<double> cycles;  // per packet, per run
  std::vector<double> base;    // baseline per packet, the run just before
};

void print_rows(const std::vector<Row>& rows) {
  const double hz = static_cast<double>(rte_get_tsc_hz());
  std::printf("\n%-18s %9s %9s %10s %8s %8s %9s %8s %8s %7s\n", "scenario", "conns", "pkts/run",
              "cyc/pkt", "min", "max", "base cyc", "x base", "-base", "Mpps");
  for (const Row& r : rows) {
    std::vector<double> ratio, minus;
    for (size_t i = 0; i < r.cycles.size(); ++i) {
      ratio.push_back(r.base.empty() ? 1.0 : r.cycles[i] / r.base[i]);
      minus.push_back(r.base.empty() ? 0.0 : r.cycles[i] - r.base[i]);
    }
    const double med = median(r.cycles);
    std::printf("%-18s %9" PRIu64 " %9" PRIu64 " %10.1f %8.1f %8.1f %9.1f %8.2f %8.1f %7.2f\n",
                r.name.c_str(), r.conns, r.packets, med,
                *std::min_element(r.cycles.begin(), r.cycles.end()),
                *std::max_element(r.cycles.begin(), r.cycles.end()),
                r.base.empty() ? med : median(r.base), median(ratio), median(minus),
                hz / med / 1e6);
  }
  std::printf(
      "cyc/pkt: median over runs of rdtsc cycles / packets; min/max over runs; base cyc: "
      "the baseline runs interleaved with this scenario; x base: median of per-run ratios; "
      "-base: median of per-run differences\n");
}

size_t resident_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0, rss = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &rss);
  std::fclose(f);
  return n == 2 ? rss * static_cast<size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

void print_memory(const LbWorker& w, const Lab& lab, size_t conns, size_t rss_delta) {
  const ConnTable& t = w.conns();
  const size_t pool_bytes = lab.lports_total() * sizeof(uint16_t);
  const double table = t.bytes_per_connection();
  const double pools = static_cast<double>(pool_bytes) / static_cast<double>(conns);
  std::printf("\nmemory at %zu connections (table capacity %zu):\n", conns, t.capacity());
  std::printf(
      "  ConnTable::bytes_per_connection()   %8.2f B  (%zu B: %zu B entries of 64 B + "
      "index %zu slots x 8 B)\n",
      table, t.allocated_bytes(), t.capacity() * sizeof(Conn), t.index_slots());
  std::printf(
      "  local port pools                    %8.2f B  (%zu addresses, %zu ports x 2 B "
      "= %zu B, preallocated)\n",
      pools, lab.laddrs().size(), lab.lports_total(), pool_bytes);
  std::printf("  total per connection                %8.2f B\n", table + pools);
  std::printf(
      "  fixed per worker (not per conn)     %8zu B  (scheduler state %zu x %zu B, "
      "laddr round robin %zu x 4 B, next-hop cache %zu B)\n",
      sizeof(LbWorker) + kMaxServices * (sizeof(SchedState) + sizeof(uint32_t)) +
          NextHops().memory_bytes(),
      static_cast<size_t>(kMaxServices), sizeof(SchedState), static_cast<size_t>(kMaxServices),
      NextHops().memory_bytes());
  if (rss_delta)
    std::printf(
        "  cross-check: resident set grew by %.2f B per connection while the worker was "
        "created and populated\n",
        static_cast<double>(rss_delta) / static_cast<double>(conns));
}

// The listing's loop-turn steps: how long the longest took (the worker's loop turn grows by
// that much), warm (right after the traffic) and cold (caches flushed before the step). Each
// listing runs 3 times: "max" is the longest step seen, "max of min" the longest of each
// step's best of 3, which leaves out a step that was preempted (2 shared cores here).
void print_listing(Bench& b, LbWorker& w, uint32_t conns, double hz) {
  std::vector<ConnRow> rows(conns);
  auto us = [&](double c) { return c / hz * 1e6; };
  auto report = [&](const char* what, unsigned flush_every) {
    std::vector<uint64_t> best, all;
    for (int run = 0; run < 3; ++run) {
      const std::vector<uint64_t> steps = b.list_conns(w, rows, flush_every);
      if (best.empty()) best = steps;
      for (size_t i = 0; i < steps.size() && i < best.size(); ++i)
        best[i] = std::min(best[i], steps[i]);
      all.insert(all.end(), steps.begin(), steps.end());
    }
    std::sort(all.begin(), all.end());
    const double p99 = static_cast<double>(all[all.size() * 99 / 100]);
    const uint64_t over = static_cast<uint64_t>(
        all.end() - std::upper_bound(all.begin(), all.end(), static_cast<uint64_t>(hz / 1e4)));
    std::printf("  %-5s %6zu steps x 3  median %6.1f us  p99 %6.1f us  max %7.1f us (%" PRIu64
                " over 100 us)  max of min %6.1f us\n",
                what, best.size(), us(median(std::vector<double>(all.begin(), all.end()))), us(p99),
                us(static_cast<double>(all.back())), over,
                us(static_cast<double>(*std::max_element(best.begin(), best.end()))));
  };
  std::printf("\nlisting of %u connections, at most %zu slots per loop turn:\n", conns,
              LbWorker::kListSlotsPerTurn);
  b.list_conns(w, rows, 0);  // the row buffer faulted in, as the daemon's is after a first use
  report("warm", 0);
  report("cold", 8);
}

// --- modes ---

int run_callgrind(Lab& lab, const Options& o) {
  if (!VSGATE_HAVE_CALLGRIND) {
    std::fprintf(stderr, "vsgate-bench: built without valgrind/callgrind.h\n");
    return 2;
  }
  if (!RUNNING_ON_VALGRIND)
    std::fprintf(stderr, "vsgate-bench: warning: --callgrind outside valgrind\n");
  Bench b(lab, o);
  const uint64_t n = o.callgrind;
  const std::string& s = o.scenario;
  if (s == "baseline") {
    Order order(permutation(o.large_conns, 1));
    b.baseline(order, n, true);
  } else if (s == "est-small" || s == "est-large") {
    const uint32_t conns = s == "est-small" ? o.small_conns : o.large_conns;
    auto w = lab.make_worker(conns);
    Order order(permutation(conns, 2));
    b.populate(*w, conns, order);
    b.lb<false>(
        *w, lab.ack(), [&] { return order.next(); }, n, s.c_str(), true, o.unstaged);
  } else if (s == "new") {
    const uint32_t cap = o.new_capacity ? o.new_capacity : o.new_conns;
    check(n <= cap && n <= lab.lports_total(), "--callgrind N exceeds table or local ports");
    auto w = lab.make_worker(cap);
    uint32_t k = 0;
    b.lb<false>(
        *w, lab.syn(), [&] { return k++; }, n, "new", true);
    check(w->conns().size() == n, "new: connection count");
  } else {
    std::fprintf(stderr,
                 "vsgate-bench: --callgrind needs --scenario baseline|est-small|"
                 "est-large|new\n");
    return 2;
  }
  std::printf("callgrind: %s, %" PRIu64 " packets measured, all forwarded\n", s.c_str(), n);
  return 0;
}

std::string sweep_text(const Options& o) {
  if (o.sweep >= 0) return "sweep " + std::to_string(o.sweep) + " per turn (what-if)";
  return "sweep paced at " + std::to_string(o.sweep_pps) + " packets/s";
}

int run_timed(Lab& lab, const Options& o) {
  Bench b(lab, o);
  const double hz = static_cast<double>(rte_get_tsc_hz());
  std::printf(
      "vsgate-bench: TSC %.3f GHz, %u run(s) per scenario (median reported), burst %u, "
      "%u mbufs in rotation, %u real servers, %u local addresses (%zu ports), %s%s%s\n",
      hz / 1e9, o.runs, kBurst, lab.ring_len(), o.reals, o.laddrs, lab.lports_total(),
      sweep_text(o).c_str(), o.ip_cksum_good ? ", RX IPv4 checksum flagged good" : "",
      o.smoke ? ", SMOKE (sizes too small to mean anything)" : "");
  const bool all = o.scenario == "all";
  std::vector<Row> rows;
  std::vector<double> all_base;
  Order base_order(permutation(std::max(o.large_conns, o.small_conns), 1));
  auto base_run = [&](uint64_t packets) {
    const Run r = b.baseline(base_order, packets);
    const double c = static_cast<double>(r.cycles) / static_cast<double>(packets);
    all_base.push_back(c);
    return c;
  };
  b.baseline(base_order, std::min<uint64_t>(o.packets, 1 << 16));  // warm-up

  for (const char* name : {"est-small", "est-large"}) {
    if (!all && o.scenario != name) continue;
    const uint32_t conns = std::string_view(name) == "est-small" ? o.small_conns : o.large_conns;
    b.reserve(conns);
    Order order(permutation(conns, 2));
    const size_t rss0 = resident_bytes();
    auto w = lab.make_worker(conns);
    b.populate(*w, conns, order);
    const size_t rss1 = resident_bytes();
    std::printf("%s: %u connections established, their forwarding verified\n", name, conns);
    std::fflush(stdout);
    const bool large = std::string_view(name) == "est-large";
    for (int unstaged = 0; unstaged <= (large && (o.what_if || o.smoke) ? 1 : 0); ++unstaged) {
      Row row{std::string(name) + (unstaged ? "/unstaged" : ""), conns, o.packets, {}, {}};
      for (unsigned i = 0; i < o.runs; ++i) {
        row.base.push_back(base_run(o.packets));
        const Run r = b.lb<false>(
            *w, lab.ack(), [&] { return order.next(); }, o.packets, name, false, unstaged);
        row.cycles.push_back(static_cast<double>(r.cycles) / static_cast<double>(o.packets));
      }
      rows.push_back(std::move(row));
    }
    check(w->conns().size() == conns, std::string(name) + ": connections lost while measuring");
    if (std::string_view(name) == "est-large") {
      print_memory(*w, lab, conns, rss1 > rss0 ? rss1 - rss0 : 0);
      print_listing(b, *w, conns, hz);
    }
    b.expire_all(*w);  // the local ports go back to the pools the next scenario uses
  }

  if (all || o.scenario == "new") {
    const uint32_t cap = o.new_capacity ? o.new_capacity : o.new_conns;
    check(o.new_conns <= cap, "--new-conns exceeds --new-capacity");
    check(o.new_conns <= lab.lports_total(), "--new-conns exceeds the local ports available");
    auto w = lab.make_worker(cap);
    b.verify_new(*w, o.new_conns);
    b.expire_all(*w);
    uint32_t k = 0;
    auto next_client = [&] { return k++; };
    Row row{"new", cap, o.new_conns, {}, {}};
    for (unsigned i = 0; i < o.runs; ++i) {
      row.base.push_back(base_run(o.new_conns));
      k = 0;
      const uint64_t created = w->counters.created.get();
      const Run r = b.lb<false>(*w, lab.syn(), next_client, o.new_conns, "new");
      check(w->conns().size() == o.new_conns && w->counters.created.get() - created == o.new_conns,
            "new: not every SYN created a connection");
      check(lab.lports_total() - lab.lports_free() == o.new_conns, "new: local ports in use");
      row.cycles.push_back(static_cast<double>(r.cycles) / static_cast<double>(o.new_conns));
      b.expire_all(*w);
    }
    rows.push_back(std::move(row));
  }

  if (all_base.empty())
    for (unsigned i = 0; i < o.runs; ++i) all_base.push_back(base_run(o.packets));
  rows.insert(rows.begin(), Row{"baseline", 0, o.packets, all_base, {}});
  print_rows(rows);
  std::printf("\nOK: every measured packet was forwarded%s\n",
              o.smoke ? " (smoke run; forwarded outputs verified)" : "");
  return 0;
}

void usage() {
  std::printf(
      "usage: vsgate-bench [options]\n"
      "  --scenario S      all (default) | baseline | est-small | est-large | new\n"
      "  --runs N          timed runs per scenario, median reported (default 5)\n"
      "  --packets N       packets per timed run, baseline and established (default 4194304)\n"
      "  --small-conns N   connections of est-small (default 1024)\n"
      "  --large-conns N   connections of est-large (default 1048576)\n"
      "  --new-conns N     SYNs per timed run of new, from an empty table (default 1048576)\n"
      "  --new-capacity N  connection table capacity of new (default: --new-conns)\n"
      "  --laddrs N        local addresses, 31744 ports each (default 40)\n"
      "  --reals N         real servers (default 8)\n"
      "  --mbufs N         mbufs in rotation, multiple of 32 (default 1024)\n"
      "  --callgrind N     run exactly N measured packets of --scenario with callgrind\n"
      "                    instrumentation on around them only (valgrind --instr-atstart=no)\n"
      "  --what-if         also est-large/unstaged: packets decided one by one, without\n"
      "                    the stages of classify_burst() (what staging gains; not the\n"
      "                    daemon's path)\n"
      "  --unstaged        with --callgrind: est-* decided that way\n"
      "  --sweep-pps R     packet rate per worker at which the paced expiry sweep is charged\n"
      "                    (default 4000000: capacity / (1 s x R) entries per packet)\n"
      "  --sweep N         what-if: exactly N entries swept per loop turn instead (64 was the\n"
      "                    worker's fixed budget before the paced sweep; 0: none)\n"
      "  --smoke           tiny sizes, one run, every output verified (the ctest)\n"
      "  --ip-cksum-offload  mbufs carry RTE_MBUF_F_RX_IP_CKSUM_GOOD, as from a port with RX\n"
      "                    IPv4 checksum offload (default: no flag, checked in software)\n");
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto num = [&](auto& out) {
      if (i + 1 >= argc) return false;
      char* end = nullptr;
      const unsigned long long v = std::strtoull(argv[++i], &end, 0);
      if (!end || *end || v == 0) return false;
      out = static_cast<std::remove_reference_t<decltype(out)>>(v);
      return static_cast<unsigned long long>(out) == v;
    };
    bool ok = true;
    if (a == "--scenario" && i + 1 < argc)
      o.scenario = argv[++i];
    else if (a == "--runs")
      ok = num(o.runs);
    else if (a == "--packets")
      ok = num(o.packets);
    else if (a == "--small-conns")
      ok = num(o.small_conns);
    else if (a == "--large-conns")
      ok = num(o.large_conns);
    else if (a == "--new-conns")
      ok = num(o.new_conns);
    else if (a == "--new-capacity")
      ok = num(o.new_capacity);
    else if (a == "--laddrs")
      ok = num(o.laddrs);
    else if (a == "--reals")
      ok = num(o.reals);
    else if (a == "--mbufs")
      ok = num(o.mbufs);
    else if (a == "--callgrind")
      ok = num(o.callgrind);
    else if (a == "--unstaged")
      o.unstaged = true;
    else if (a == "--what-if")
      o.what_if = true;
    else if (a == "--sweep" && i + 1 < argc)
      o.sweep = std::max(0, std::atoi(argv[++i]));
    else if (a == "--sweep-pps" && i + 1 < argc)
      o.sweep_pps = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--ip-cksum-offload")
      o.ip_cksum_good = true;
    else if (a == "--smoke")
      o.smoke = true;
    else if (a == "--help" || a == "-h") {
      usage();
      std::exit(0);
    } else
      ok = false;
    if (!ok) {
      std::fprintf(stderr, "vsgate-bench: bad argument %s\n", argv[i]);
      return false;
    }
  }
  if (o.smoke) {
    o.runs = 1;
    o.packets = 8192;
    o.small_conns = 1024;
    o.large_conns = 4096;
    o.new_conns = 2048;
    o.laddrs = 2;
  }
  static const char* const kScenarios[] = {"all", "baseline", "est-small", "est-large", "new"};
  if (std::find_if(std::begin(kScenarios), std::end(kScenarios),
                   [&](const char* s) { return o.scenario == s; }) == std::end(kScenarios)) {
    std::fprintf(stderr, "vsgate-bench: unknown scenario %s\n", o.scenario.c_str());
    return false;
  }
  if (o.mbufs % kBurst || o.laddrs > 250 || o.reals > 200 || o.large_conns > (1u << 23) ||
      o.small_conns > (1u << 23) || o.new_conns > (1u << 23)) {
    std::fprintf(stderr,
                 "vsgate-bench: --mbufs must be a multiple of 32, --laddrs <= 250, "
                 "--reals <= 200, connections <= 8388608\n");
    return false;
  }
  return true;
}

}  // namespace
}  // namespace vsgate::bench

int main(int argc, char** argv) {
  using namespace vsgate::bench;
  Options o;
  if (!parse(argc, argv, o)) {
    usage();
    return 2;
  }
  const std::string prefix = "--file-prefix=vsgbench" + std::to_string(getpid());
  std::vector<std::string> args{"vsgate-bench", "--no-huge",     "--no-pci", "-m", "512",
                                "--no-shconf",  "--log-level=3", "-l",       "0",  prefix};
  std::vector<char*> eal_argv;
  for (auto& a : args) eal_argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "vsgate-bench: rte_eal_init failed\n");
    return 1;
  }
  int rc;
  {
    Lab lab(o);
    rc = o.callgrind ? run_callgrind(lab, o) : run_timed(lab, o);
  }
  rte_eal_cleanup();
  return rc;
}
