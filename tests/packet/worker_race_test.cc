// Concurrency proof of the worker and the main lcore, built with ThreadSanitizer in CI
// (-DVSGATE_TSAN=ON, ctest label tsan; tests/README.md). Two threads for a bounded time:
//
// - the worker thread runs the real worker body (worker_turn on the lab's ring ports) over
//   synthetic flows: SYNs, ACKs, FINs, resets, UDP, replies of real servers, its clock running
//   fast so that connections expire all the time;
// - the control thread does what the main lcore does (daemon/app/lb_control.cc): random lb.*
//   changes (services, real servers, local addresses, timeouts), publishes snapshots, reclaims
//   them, releases removed real servers with the generation every worker has passed
//   (publish_services / poll_lb), sends timeouts generations and runs connection listings
//   (list_conns / list_done) through the mailboxes, and drains neighbour requests.
//
// Afterwards: every real-server slot's `live` count equals the table entries naming it, and
// once everything has expired the table is empty and every count is back to zero. Under TSan
// any data race makes the process exit non-zero (TSAN_OPTIONS in tests/packet/CMakeLists.txt).
// VSGATE_RACE_SECONDS sets the duration (default 2).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "worker_harness.h"

namespace vsgate {
namespace {

using test::Bytes;
using test::PacketBuilder;
using test::real;
using test::svc;
using test::WorkerHarness;
using namespace test::lab;

double run_seconds() {
  const char* s = std::getenv("VSGATE_RACE_SECONDS");
  return s ? std::atof(s) : 2.0;
}

const char* const kVips[] = {"10.0.0.100", "10.0.0.101", "10.0.0.102",
                             "10.0.0.103", "10.0.0.110", "10.0.0.111"};
const uint16_t kVipPorts[] = {80, 8080};
const char* const kReals[] = {"10.0.1.2", "10.0.1.3", "10.0.1.4", "10.0.1.5", "10.0.1.9"};
const char* const kLaddrs[] = {"10.0.1.1", "10.0.1.100"};

// What the worker thread does and counts.
struct WorkerSide {
  uint64_t turns = 0, received = 0;
};

// The worker thread: synthetic flows through the real worker turn until `stop`.
void worker_thread(WorkerHarness& h, const std::atomic<bool>& stop, WorkerSide& out) {
  std::mt19937 rng(42);
  struct Sent {
    std::string src, dst;
    uint16_t sport, dport;
    bool tcp;
  };
  std::deque<Sent> sent;
  uint32_t now = h.now();
  while (!stop.load(std::memory_order_relaxed)) {
    const unsigned n = 1 + rng() % 32;
    for (unsigned i = 0; i < n; ++i) {
      const char* client = rng() % 2 ? kClient : kClient2;
      const auto sport = static_cast<uint16_t>(20000 + rng() % 512);
      const unsigned kind = rng() % 20;
      Bytes f;
      uint16_t port = 0;
      if (kind < 12) {
        static const uint8_t flags[] = {kSyn, kSyn, kSyn, kAck, kAck | kPsh, kFin | kAck, kRst};
        f = tcp_frame(kPort0Mac, kClientMac, client, sport, kVips[rng() % std::size(kVips)],
                      kVipPorts[rng() % 2], flags[rng() % std::size(flags)]);
      } else if (kind < 14) {
        f = udp_frame(kPort0Mac, kClientMac, client, sport, kVipFullNat, 53, rng() % 2);
      } else if (!sent.empty()) {  // a real server answers what we sent it
        const Sent& s = sent[rng() % sent.size()];
        port = 1;
        f = s.tcp ? tcp_frame(kPort1Mac, kRs2Mac, s.dst.c_str(), s.dport, s.src.c_str(), s.sport,
                              rng() % 3 ? kAck : kSyn | kAck)
                  : udp_frame(kPort1Mac, kRs2Mac, s.dst.c_str(), s.dport, s.src.c_str(), s.sport);
      } else {
        continue;
      }
      if (h.receive(port, f)) ++out.received;
    }
    h.turn();
    for (const Bytes& fr : h.transmitted(1)) {
      if (fr.size() < 14 + 28) continue;
      const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(fr.data() + 14);
      if (ip->next_proto_id != IPPROTO_TCP && ip->next_proto_id != IPPROTO_UDP) continue;
      uint16_t ports[2];
      std::memcpy(ports, fr.data() + 14 + 20, 4);
      sent.push_back({Ipv4Addr{ip->src_addr}.str(), Ipv4Addr{ip->dst_addr}.str(),
                      rte_be_to_cpu_16(ports[0]), rte_be_to_cpu_16(ports[1]),
                      ip->next_proto_id == IPPROTO_TCP});
      if (sent.size() > 64) sent.pop_front();
    }
    h.transmitted(0);
    h.punted();
    if (++out.turns % 8 == 0) h.set_now(++now);  // 2 simulated seconds per 256 turns
  }
}

// The main lcore's side, as daemon/app/lb_control.cc does it.
class Control {
 public:
  Control(LbWorld& world, WorkerHarness& h) : world_(world), h_(h), rows_(4096) {}

  void random_change(std::mt19937& rng) {
    LbRegistry& reg = *world_.reg;
    const ServiceKey k =
        rng() % 8 == 0 ? svc(Proto::udp, kVipFullNat, 53)
                       : svc(Proto::tcp, kVips[rng() % std::size(kVips)], kVipPorts[rng() % 2]);
    const auto sched = static_cast<SchedulerKind>(rng() % 6);
    const uint32_t persistence = rng() % 4 == 0 ? 30 : 0;
    RealServerSpec r = real(kReals[rng() % std::size(kReals)], rng() % 2 ? 80 : 8080,
                            static_cast<FwdMode>(rng() % 4));
    r.weight = rng() % 4;
    const IpAddr laddr = test::addr(kLaddrs[rng() % 2]);
    Status st = Ok{};
    switch (rng() % 10) {
      case 0:
        st = reg.add_service({k, sched, persistence});
        break;
      case 1:
        st = reg.edit_service({k, sched, persistence});
        break;
      case 2:
        st = reg.del_service(k);
        break;
      case 3:
      case 4:
        st = reg.add_real(k, r);
        break;
      case 5:
        st = reg.edit_real(k, r);
        break;
      case 6:
        st = reg.del_real(k, r.key);
        break;
      case 7:
        st = reg.add_laddr(k, laddr, "dpdk1", 1);
        break;
      case 8:
        st = reg.del_laddr(k, laddr);
        break;
      case 9:
        reg.set_timeouts(1 + rng() % 5, 1 + rng() % 3, 1 + rng() % 3);
        break;
    }
    ++changes_;
    if (st.ok()) ++accepted_;
  }

  // One turn of the main lcore's load-balancer duties (App::poll_lb).
  void poll() {
    LbRegistry& reg = *world_.reg;
    // publish_services()
    if (reg.generation() != published_) {
      h_.publish();
      published_ = reg.generation();
      publications_.push_back({published_, h_.qsbr().start()});
      ++published_count_;
    }
    h_.reclaim();
    while (!publications_.empty() && h_.qsbr().passed(publications_.front().token)) {
      safe_ = publications_.front().generation;
      publications_.pop_front();
    }
    reg.release_removed(safe_);
    // send_timeouts()
    if (timeouts_generation_ == 0 || reg.timeouts() != timeouts_sent_) {
      timeouts_sent_ = reg.timeouts();
      ++timeouts_generation_;
    }
    if (timeouts_delivered_ != timeouts_generation_ &&
        world_.to_worker->send(ToWorker::set_timeouts_msg(timeouts_generation_, timeouts_sent_)))
      timeouts_delivered_ = timeouts_generation_;
    // poll_workers(): neighbour requests and listing answers.
    ToMain msgs[32];
    const unsigned n = world_.to_main->receive(msgs, 32);
    for (unsigned i = 0; i < n; ++i) {
      if (msgs[i].kind == ToMain::Kind::neighbour_request) {
        ++neighbour_requests_;
      } else if (listing_ && msgs[i].request == request_) {
        check_rows(msgs[i].rows);
        listing_ = false;
        ++listings_;
      }
    }
    // poll_listing(): a new round once the last one is answered.
    if (!listing_ && !finishing_ &&
        world_.to_worker->send(ToWorker::list_conns_msg(++request_, rows_.data(),
                                                        static_cast<uint32_t>(rows_.size()))))
      listing_ = true;
  }

  // No new listing round; idle() once the worker has given the buffer back.
  void finish() { finishing_ = true; }
  bool idle() const { return !listing_; }

  uint64_t changes_ = 0, accepted_ = 0, published_count_ = 0, listings_ = 0, rows_seen_ = 0,
           neighbour_requests_ = 0;
  uint64_t safe_ = 0;

 private:
  void check_rows(uint32_t rows) {
    EXPECT_LE(rows, rows_.size());
    for (uint32_t i = 0; i < rows && i < rows_.size(); ++i) {
      const ConnRow& r = rows_[i];
      EXPECT_TRUE(r.proto == IPPROTO_TCP || r.proto == IPPROTO_UDP);
      EXPECT_FALSE(r.state.empty());
      EXPECT_LT(r.real_server, kMaxRealServers);
    }
    rows_seen_ += rows;
  }

  struct Publication {
    uint64_t generation, token;
  };
  LbWorld& world_;
  WorkerHarness& h_;
  std::vector<ConnRow> rows_;
  uint64_t published_ = UINT64_MAX;
  std::deque<Publication> publications_;
  uint64_t timeouts_generation_ = 0, timeouts_delivered_ = 0;
  Timeouts timeouts_sent_;
  bool listing_ = false, finishing_ = false;
  uint64_t request_ = 0;
};

TEST(WorkerRace, ControlChangesWhileTheWorkerForwards) {
  LbWorld world(LbWorldOptions{.conn_capacity = 4096});
  ASSERT_EQ(world.error, "");
  auto fib = make_fib();
  ASSERT_TRUE(fib.ok()) << fib.message();
  WorkerHarness h(world, std::move(fib.value()));
  ASSERT_EQ(h.error, "");
  Control control(world, h);

  std::atomic<bool> stop{false};
  WorkerSide side;
  std::thread worker([&] { worker_thread(h, stop, side); });
  std::mt19937 rng(7);
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(run_seconds());
  while (std::chrono::steady_clock::now() < end) {
    for (int i = 0; i < 4; ++i) control.random_change(rng);
    control.poll();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  // The last listing round completes while the worker still turns.
  control.finish();
  for (int i = 0; i < 20000 && !control.idle(); ++i) {
    control.poll();
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  stop = true;
  worker.join();
  EXPECT_TRUE(control.idle()) << "the worker never answered the last listing";

  std::printf(
      "worker: %lu turns, %lu frames; control: %lu changes (%lu accepted), %lu "
      "snapshots, %lu listings (%lu rows), %lu neighbour requests; table %zu\n",
      static_cast<unsigned long>(side.turns), static_cast<unsigned long>(side.received),
      static_cast<unsigned long>(control.changes_), static_cast<unsigned long>(control.accepted_),
      static_cast<unsigned long>(control.published_count_),
      static_cast<unsigned long>(control.listings_), static_cast<unsigned long>(control.rows_seen_),
      static_cast<unsigned long>(control.neighbour_requests_), world.worker->conns().size());
  EXPECT_GT(side.turns, 100u);
  EXPECT_GT(control.published_count_, 10u);
  EXPECT_GT(control.listings_, 2u);

  // Every slot's live count is the number of table entries naming it (connections and
  // persistence templates alike).
  auto check_live = [&](const char* when) {
    std::map<uint32_t, int64_t> entries;
    world.worker->conns().for_each([&](const Conn& c) { ++entries[c.real_server]; });
    for (uint32_t slot = 0; slot < kMaxRealServers; ++slot) {
      if (!world.reg->counters().has(slot)) continue;
      const auto it = entries.find(slot);
      EXPECT_EQ(world.reg->counters().live(slot), it == entries.end() ? 0 : it->second)
          << when << ": slot " << slot;
    }
    EXPECT_EQ(world.worker->counters.conns.get(),
              static_cast<int64_t>(world.worker->conns().size()));
  };
  check_live("after the run");
  // Everything expires (the worker is stopped: this thread turns it now).
  h.set_now(h.now() + ticks_from_seconds(3600));
  for (int i = 0; i < 4096 / 64 + 1; ++i) h.turn();
  EXPECT_EQ(world.worker->conns().size(), 0u);
  check_live("after expiry");
  for (const auto& s : world.reg->services())
    for (const auto& r : s->reals) {
      EXPECT_EQ(world.reg->active(*r), 0);
      EXPECT_EQ(world.reg->inactive(*r), 0);
    }
  for (const LocalAddress* la : *world.reg->laddr_slots())
    if (la) {
      EXPECT_EQ(la->used[0].get(), 0) << la->ip.str();
      EXPECT_EQ(la->pools[0]->free(), la->pools[0]->size()) << la->ip.str();
    }
  // With nothing alive, every removed real server's slot can be released.
  control.poll();
  world.reg->release_removed(world.reg->generation());
}

}  // namespace
}  // namespace vsgate
