// The one test topology of the packet tests and vsgate-bench (no gtest here, the bench links
// it too):
//
//   client 10.0.0.2 (and 10.0.0.3), MAC kClientMac       real servers 10.0.1.2..5, MACs
//        |                                                 kRs2Mac..kRs5Mac (10.0.1.9: none)
//   port 0: 10.0.0.1/24, kPort0Mac     [vsgate]     port 1: 10.0.1.1/24, kPort1Mac
//                                                    local address 10.0.1.1 ("dpdk1")
//
// Services (add_lab_services), each with its real servers on port 1:
//   tcp 10.0.0.100:80  rr  -> 10.0.1.2:8080 FULLNAT (local address 10.0.1.1)
//   tcp 10.0.0.101:80  rr  -> 10.0.1.3:80   NAT
//   tcp 10.0.0.102:80  rr  -> 10.0.1.4:80   DR
//   tcp 10.0.0.103:80  rr  -> 10.0.1.5:80   TUNNEL
//   udp 10.0.0.100:53  rr  -> 10.0.1.2:53   FULLNAT (local address 10.0.1.1)
// LbWorld holds the load balancer of one worker over it: registry, snapshot, LbWorker and its
// mailboxes. tests/packet/worker_harness.h runs the real worker turn over the same world.
#pragma once

#include <rte_tcp.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "ipv4/fib.h"
#include "ipv4/next_hop.h"
#include "lb/lb_worker.h"
#include "lb/registry.h"
#include "lb_specs.h"
#include "lcore/mailbox.h"
#include "lcore/messages.h"
#include "packet_builder.h"

namespace vsgate::test::lab {

constexpr const char* kPort0Mac = "02:00:00:00:00:10";
constexpr const char* kPort1Mac = "02:00:00:00:00:11";
constexpr const char* kClientMac = "02:00:00:00:00:02";
constexpr const char* kRs2Mac = "02:00:00:00:01:02";
constexpr const char* kRs3Mac = "02:00:00:00:01:03";
constexpr const char* kRs4Mac = "02:00:00:00:01:04";
constexpr const char* kRs5Mac = "02:00:00:00:01:05";
constexpr const char* kClient = "10.0.0.2";
constexpr const char* kClient2 = "10.0.0.3";
constexpr const char* kPort0Addr = "10.0.0.1";
constexpr const char* kLaddr = "10.0.1.1";  // also port 1's own address
constexpr const char* kVipFullNat = "10.0.0.100";
constexpr const char* kVipNat = "10.0.0.101";
constexpr const char* kVipDr = "10.0.0.102";
constexpr const char* kVipTunnel = "10.0.0.103";
constexpr uint8_t kSyn = RTE_TCP_SYN_FLAG, kAck = RTE_TCP_ACK_FLAG, kFin = RTE_TCP_FIN_FLAG,
                  kRst = RTE_TCP_RST_FLAG, kPsh = RTE_TCP_PSH_FLAG;

// A unique name for an rte_ring or mempool of this process.
inline std::string unique_name(const char* prefix) {
  static std::atomic<unsigned> seq{0};
  return prefix + std::to_string(seq.fetch_add(1));
}

struct FibOptions {
  const char* rs2_mac = kRs2Mac;  // rs2 moved to another MAC
  bool rs2_known = true;          // rs2's neighbour entry present
  std::vector<FibNeighbour> extra_neighbours;
  std::vector<FibRoute> extra_routes;
};

inline FibInput fib_input(const FibOptions& o = {}) {
  FibInput in;
  in.addresses = {{*Ipv4Prefix::parse("10.0.0.1/24"), 0}, {*Ipv4Prefix::parse("10.0.1.1/24"), 1}};
  in.routes = {{*Ipv4Prefix::parse("10.0.0.0/24"), {}, 0},
               {*Ipv4Prefix::parse("10.0.1.0/24"), {}, 1}};
  in.neighbours = {{ip(kClient), mac(kClientMac), 0},
                   {ip(kClient2), mac(kClientMac), 0},
                   {ip("10.0.1.3"), mac(kRs3Mac), 1},
                   {ip("10.0.1.4"), mac(kRs4Mac), 1},
                   {ip("10.0.1.5"), mac(kRs5Mac), 1}};
  if (o.rs2_known) in.neighbours.push_back({ip("10.0.1.2"), mac(o.rs2_mac), 1});
  in.neighbours.insert(in.neighbours.end(), o.extra_neighbours.begin(), o.extra_neighbours.end());
  in.routes.insert(in.routes.end(), o.extra_routes.begin(), o.extra_routes.end());
  in.ports[0] = {true, ether(kPort0Mac), 1500, ip(kPort0Addr).be};
  in.ports[1] = {true, ether(kPort1Mac), 1500, ip(kLaddr).be};
  return in;
}

inline Result<std::unique_ptr<const Fib>> make_fib(const FibOptions& o = {}) {
  return Fib::build(fib_input(o), nullptr);
}

// The services of the topology (header comment), in this order.
inline Status add_lab_services(LbRegistry& reg) {
  const ServiceKey web = svc(Proto::tcp, kVipFullNat, 80), dns = svc(Proto::udp, kVipFullNat, 53);
  for (const Status& s : {
           reg.add_service({web, SchedulerKind::rr, 0}),
           reg.add_real(web, real("10.0.1.2", 8080, FwdMode::fullnat)),
           reg.add_laddr(web, addr(kLaddr), "dpdk1", 1),
           reg.add_service({svc(Proto::tcp, kVipNat, 80), SchedulerKind::rr, 0}),
           reg.add_real(svc(Proto::tcp, kVipNat, 80), real("10.0.1.3", 80, FwdMode::nat)),
           reg.add_service({svc(Proto::tcp, kVipDr, 80), SchedulerKind::rr, 0}),
           reg.add_real(svc(Proto::tcp, kVipDr, 80), real("10.0.1.4", 80, FwdMode::dr)),
           reg.add_service({svc(Proto::tcp, kVipTunnel, 80), SchedulerKind::rr, 0}),
           reg.add_real(svc(Proto::tcp, kVipTunnel, 80), real("10.0.1.5", 80, FwdMode::tunnel)),
           reg.add_service({dns, SchedulerKind::rr, 0}),
           reg.add_real(dns, real("10.0.1.2", 53, FwdMode::fullnat)),
           reg.add_laddr(dns, addr(kLaddr), "dpdk1", 1),
       })
    if (!s.ok()) return s;
  return Ok{};
}

struct LbWorldOptions {
  unsigned workers = 1;  // of the registry
  unsigned worker = 0;   // the index of this world's LbWorker
  size_t conn_capacity = 1024;
  uint16_t lport_first = 1024, lport_last = 32767;
  bool lab_services = true;    // add_lab_services(); otherwise the registry starts empty
  unsigned to_main_size = 64;  // mailbox capacities
  unsigned to_worker_size = 64;
};

// The load balancer of one worker: its mailboxes, the registry (main lcore's), the current
// snapshot and the LbWorker with the snapshot's timeouts. `error` says what failed, if anything.
struct LbWorld {
  explicit LbWorld(const LbWorldOptions& o = {}) {
    auto tm = Mailbox<ToMain>::create(unique_name("lw_main"), o.to_main_size, RingDiscipline::spsc);
    auto tw =
        Mailbox<ToWorker>::create(unique_name("lw_work"), o.to_worker_size, RingDiscipline::spsc);
    if (!tm.ok() || !tw.ok()) {
      error = "mailboxes: " + (tm.ok() ? tw.message() : tm.message());
      return;
    }
    to_main = std::move(tm.value());
    to_worker = std::move(tw.value());
    reg = std::make_unique<LbRegistry>(o.workers, o.lport_first, o.lport_last);
    if (o.lab_services) {
      if (Status s = add_lab_services(*reg); !s.ok()) {
        error = "services: " + s.message();
        return;
      }
    }
    if (Status s = publish(); !s.ok()) {
      error = "snapshot: " + s.message();
      return;
    }
    worker = std::make_unique<LbWorker>(o.worker, o.workers, o.conn_capacity, to_main.get(),
                                        reg->counters(), reg->laddr_slots());
    worker->set_timeouts(snap->timeouts);
  }
  ~LbWorld() {
    worker.reset();  // gives its connections' counts back to the registry's table
    to_main.reset();
  }
  LbWorld(const LbWorld&) = delete;
  LbWorld& operator=(const LbWorld&) = delete;

  // A new snapshot of the registry (after a change) into `snap`.
  Status publish() {
    auto s = reg->snapshot();
    if (!s.ok()) return make_error(s.message());
    snap = std::move(s.value());
    return Ok{};
  }
  // Neighbour requests the worker sent, in order.
  std::vector<uint32_t> drain_requests() {
    std::vector<uint32_t> v;
    ToMain m;
    while (to_main->receive(&m, 1) == 1) v.push_back(m.ip_be);
    return v;
  }

  std::string error;
  std::unique_ptr<Mailbox<ToMain>> to_main;
  std::unique_ptr<Mailbox<ToWorker>> to_worker;
  std::unique_ptr<LbRegistry> reg;
  std::unique_ptr<const LbSnapshot> snap;
  std::unique_ptr<LbWorker> worker;
  NextHops hops;  // the worker's, for tests that classify without the worker turn
};

// A TCP segment; 10 bytes of payload unless it is a SYN.
inline Bytes tcp_frame(const char* dmac, const char* smac, const char* src, uint16_t sport,
                       const char* dst, uint16_t dport, uint8_t flags, uint8_t ttl = 64) {
  const size_t payload = (flags & kSyn) ? 0 : 10;
  return PacketBuilder()
      .eth(dmac, smac, RTE_ETHER_TYPE_IPV4)
      .ipv4(src, dst, ttl, IPPROTO_TCP, static_cast<uint16_t>(20 + payload))
      .tcp(sport, dport, flags, payload)
      .build();
}

// A UDP datagram with 12 bytes of payload, with or without a checksum.
inline Bytes udp_frame(const char* dmac, const char* smac, const char* src, uint16_t sport,
                       const char* dst, uint16_t dport, bool csum = true) {
  return PacketBuilder()
      .eth(dmac, smac, RTE_ETHER_TYPE_IPV4)
      .ipv4(src, dst, 64, IPPROTO_UDP, 8 + 12)
      .udp(sport, dport, 12, csum)
      .build();
}

}  // namespace vsgate::test::lab
