// The real worker body (lcore/worker_turn.h) on real ethdevs, for the packet tests.
//
// RingPorts: the lab's two ports as DPDK net_ring ethdevs (rte_eth_from_rings), created once
// per process as ports 0 and 1: a frame enqueued on a port's rx ring is what the port
// receives, and what the worker transmits on tx queue q lands on that queue's ring. So
// rte_eth_rx_burst/tx_burst, the punt ring and every counter are the ones the daemon uses.
//
// WorkerHarness: one Worker over an LbWorld (tests/packet/lab_topology.h) with its own FIB and
// service snapshots, QSBR domain, punt and inject rings and mempool; receive() frames, turn()
// the worker, then read what it transmitted and punted, and its counters (counters(): every
// worker, load-balancer and real-server counter by name).
#pragma once

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/drop_reasons.h"
#include "lab_topology.h"
#include "lcore/snapshot.h"
#include "lcore/worker.h"
#include "lcore/worker_turn.h"

namespace vsgate::test {

class RingPorts {
 public:
  static constexpr unsigned kPorts = 2;
  static constexpr unsigned kTxQueues = 2;  // one per worker, as the daemon sets up ports
  static constexpr unsigned kRingSize = 1024;

  // The process's two ring ports; ports 0 and 1 (no test creates another ethdev first).
  // Null if they could not be created (the reason is in `error`).
  static RingPorts* get(std::string* error) {
    static RingPorts* ports = nullptr;
    static std::string failed;
    if (!ports && failed.empty()) {
      auto p = std::unique_ptr<RingPorts>(new RingPorts);
      failed = p->create();
      if (failed.empty()) ports = p.release();
    }
    if (error) *error = failed;
    return ports;
  }

  rte_ring* rx(uint16_t port) const { return rx_[port]; }
  rte_ring* tx(uint16_t port, unsigned queue) const { return tx_[port][queue]; }

 private:
  RingPorts() = default;
  std::string create() {
    for (uint16_t p = 0; p < kPorts; ++p) {
      const std::string n = "lab" + std::to_string(p);
      rx_[p] = rte_ring_create((n + "rx").c_str(), kRingSize, SOCKET_ID_ANY,
                               RING_F_SP_ENQ | RING_F_SC_DEQ);
      for (unsigned q = 0; q < kTxQueues; ++q)
        tx_[p][q] = rte_ring_create((n + "tx" + std::to_string(q)).c_str(), kRingSize,
                                    SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
      for (rte_ring* r : {rx_[p], tx_[p][0], tx_[p][1]})
        if (!r) return "rte_ring_create for " + n + ": " + rte_strerror(rte_errno);
      const int id = rte_eth_from_rings(n.c_str(), &rx_[p], 1, tx_[p].data(), kTxQueues, 0);
      if (id < 0) return "rte_eth_from_rings " + n + ": " + rte_strerror(rte_errno);
      if (id != p) return n + " is port " + std::to_string(id) + ", not " + std::to_string(p);
      // Started like any port: ethdev's fast path is live only after rte_eth_dev_start.
      if (!setup_pool_)
        setup_pool_ = rte_pktmbuf_pool_create("lab_setup", 63, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                              SOCKET_ID_ANY);
      rte_eth_conf conf{};
      if (!setup_pool_ || rte_eth_dev_configure(p, 1, kTxQueues, &conf) != 0 ||
          rte_eth_rx_queue_setup(p, 0, kRingSize, SOCKET_ID_ANY, nullptr, setup_pool_) != 0)
        return "configuring " + n;
      for (uint16_t q = 0; q < kTxQueues; ++q)
        if (rte_eth_tx_queue_setup(p, q, kRingSize, SOCKET_ID_ANY, nullptr) != 0)
          return "tx queue setup " + n;
      if (rte_eth_dev_start(p) != 0) return "rte_eth_dev_start " + n;
    }
    return {};
  }
  rte_mempool* setup_pool_ = nullptr;  // rx queue setup wants one; the ring PMD never uses it
  std::array<rte_ring*, kPorts> rx_{};
  std::array<std::array<rte_ring*, kTxQueues>, kPorts> tx_{};
};

// Every counter a turn can change, by name: worker stats ("forwarded", "drop.<reason>", ...),
// the LbWorker's ("lb.created", "lb.conns", ...), and per real server of the registry
// ("rs.10.0.1.2:8080.inpkts", ".conns", ".outpkts", ".active", ".inactive", ".live").
struct Counts : std::map<std::string, int64_t> {
  using std::map<std::string, int64_t>::map;
};

inline Counts operator+(Counts a, const Counts& b) {
  for (const auto& [k, v] : b) a[k] += v;
  return a;
}

class WorkerHarness {
 public:
  // A worker (index `index`, tx queue `index` on both ports, rx queue 0 of both ports) over
  // `world`'s LbWorker and mailboxes, deciding with `fib` and world.reg's current state.
  WorkerHarness(lab::LbWorld& world, std::unique_ptr<const Fib> fib, unsigned index = 0)
      : world_(world) {
    std::string err;
    ports_ = RingPorts::get(&err);
    if (!ports_) {
      error = err;
      return;
    }
    // Leftovers of an earlier test would be this test's input or output.
    drain_all();
    auto q = QsbrDomain::create(index + 1);
    if (!q.ok()) {
      error = q.message();
      return;
    }
    qsbr_ = std::move(q.value());
    pool_ = rte_pktmbuf_pool_create(lab::unique_name("wh_pool").c_str(), 1023, 0, 0,
                                    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    punt_ = rte_ring_create(lab::unique_name("wh_punt").c_str(), 256, SOCKET_ID_ANY,
                            RING_F_SP_ENQ | RING_F_SC_DEQ);
    inject_ = rte_ring_create(lab::unique_name("wh_inj").c_str(), 256, SOCKET_ID_ANY,
                              RING_F_SP_ENQ | RING_F_SC_DEQ);
    // This worker's redirect ring, and a peer's (worker index + 1) the test reads.
    redirect_in_ =
        rte_ring_create(lab::unique_name("wh_rdi").c_str(), 64, SOCKET_ID_ANY, RING_F_SC_DEQ);
    peer_ = rte_ring_create(lab::unique_name("wh_peer").c_str(), 64, SOCKET_ID_ANY, RING_F_SC_DEQ);
    if (!pool_ || !punt_ || !inject_ || !redirect_in_ || !peer_) {
      error = "mempool or rings";
      return;
    }
    fib_snap_ = std::make_unique<Snapshot<Fib>>(*qsbr_);
    lb_snap_ = std::make_unique<Snapshot<LbSnapshot>>(*qsbr_);
    fib_snap_->publish(std::move(fib));
    publish();
    worker.index = index;
    worker.rx_queues = {{0, 0}, {1, 0}};
    worker.punt_ring = punt_;
    worker.inject_ring = inject_;
    worker.fib = fib_snap_.get();
    worker.services = lb_snap_.get();
    worker.lb = world.worker.get();
    worker.inbox = world.to_worker.get();
    worker.qsbr = qsbr_.get();
    worker.running = &running_;
    worker.pool = pool_;
    worker.redirect_in = redirect_in_;
    worker.redirect_to.assign(index + 2, nullptr);
    worker.redirect_to[index] = redirect_in_;
    worker.redirect_to[index + 1] = peer_;
    state_ = std::make_unique<WorkerTurnState>(worker);
    state_->fixed_now_ticks = 1000;
    qsbr_->online(index);
  }
  ~WorkerHarness() {
    if (qsbr_) qsbr_->offline(worker.index);
    drain_all();
    lb_snap_.reset();
    fib_snap_.reset();
    rte_ring_free(punt_);
    rte_ring_free(inject_);
    rte_ring_free(redirect_in_);
    rte_ring_free(peer_);
    rte_mempool_free(pool_);
  }
  WorkerHarness(const WorkerHarness&) = delete;
  WorkerHarness& operator=(const WorkerHarness&) = delete;

  // The registry's state to the worker, as the main lcore publishes it.
  void publish() {
    auto s = world_.reg->snapshot();
    if (!s.ok()) {
      error = "snapshot: " + s.message();
      return;
    }
    lb_snap_->publish(std::move(s.value()));
  }
  // Frees the snapshots no reader can still see (the main lcore polls this).
  void reclaim() {
    lb_snap_->reclaim();
    fib_snap_->reclaim();
  }
  QsbrDomain& qsbr() { return *qsbr_; }
  void publish_fib(std::unique_ptr<const Fib> fib) {
    fib_snap_->publish(std::move(fib));
    fib_snap_->reclaim();
  }

  // The clock of the next turns, in ticks (lb/core/conn_table.h).
  void set_now(uint32_t ticks) { state_->fixed_now_ticks = ticks; }
  uint32_t now() const { return state_->fixed_now_ticks; }

  // `frame` arrives on `port` (it is received at the next turn).
  bool receive(uint16_t port, const Bytes& frame) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (!m) return false;
    char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
    if (!p) {
      rte_pktmbuf_free(m);
      return false;
    }
    std::memcpy(p, frame.data(), frame.size());
    if (rte_ring_enqueue(ports_->rx(port), m) != 0) {
      rte_pktmbuf_free(m);
      return false;
    }
    return true;
  }
  // The host stack sends `frame` out of `port` (through the inject ring).
  bool inject(uint16_t port, const Bytes& frame) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (!m) return false;
    std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size())), frame.data(),
                frame.size());
    m->port = port;
    if (rte_ring_enqueue(inject_, m) != 0) {
      rte_pktmbuf_free(m);
      return false;
    }
    return true;
  }

  // Another worker hands this one `frame`, received on `port`, for a flow this one owns.
  bool hand_over(uint16_t port, const Bytes& frame) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (!m) return false;
    std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size())), frame.data(),
                frame.size());
    m->port = port;
    if (rte_ring_mp_enqueue(redirect_in_, m) != 0) {
      rte_pktmbuf_free(m);
      return false;
    }
    return true;
  }
  // What the worker handed to its peer (worker index + 1) since the last call, with the port
  // each came in on; freed.
  std::vector<std::pair<uint16_t, Bytes>> handed_to_peer() {
    std::vector<std::pair<uint16_t, Bytes>> out;
    void* obj;
    while (rte_ring_dequeue(peer_, &obj) == 0) {
      auto* m = static_cast<rte_mbuf*>(obj);
      const auto* b = rte_pktmbuf_mtod(m, const uint8_t*);
      out.emplace_back(m->port, Bytes(b, b + rte_pktmbuf_data_len(m)));
      rte_pktmbuf_free(m);
    }
    return out;
  }

  // One loop turn of the real worker body.
  template <class Decide = StandardDecide>
  unsigned turn(const Decide& decide = {}) {
    return worker_turn(worker, *state_, decide);
  }

  // What the worker transmitted on `port` (its own tx queue) since the last call; freed.
  std::vector<Bytes> transmitted(uint16_t port) { return drain(ports_->tx(port, worker.index)); }
  // What it handed to the host stack since the last call; freed.
  std::vector<Bytes> punted() { return drain(punt_); }
  rte_mempool* pool() const { return pool_; }

  Counts counters() const {
    Counts c;
    const WorkerStats& s = worker.stats;
    auto put = [&](const std::string& k, int64_t v) {
      if (v) c[k] = v;
    };
    put("rx_packets", static_cast<int64_t>(s.rx_packets.get()));
    put("tx_packets", static_cast<int64_t>(s.tx_packets.get()));
    put("tx_drops", static_cast<int64_t>(s.tx_drops.get()));
    put("punted", static_cast<int64_t>(s.punted.get()));
    put("punt_drops", static_cast<int64_t>(s.punt_drops.get()));
    put("injected", static_cast<int64_t>(s.injected.get()));
    put("inject_drops", static_cast<int64_t>(s.inject_drops.get()));
    put("forwarded", static_cast<int64_t>(s.forwarded.get()));
    put("emitted", static_cast<int64_t>(s.emitted.get()));
    put("emit_no_mbuf", static_cast<int64_t>(s.emit_no_mbuf.get()));
    put("redirected", static_cast<int64_t>(s.redirected.get()));
    put("redirect_drops", static_cast<int64_t>(s.redirect_drops.get()));
    put("redirect_in", static_cast<int64_t>(s.redirect_in.get()));
    for (size_t r = 0; r < kDropReasonNames.size(); ++r)
      put("drop." + std::string(kDropReasonNames[r]), static_cast<int64_t>(s.dropped[r].get()));
    const LbWorker& lb = *world_.worker;
    put("lb.conns", lb.counters.conns.get());
    put("lb.created", static_cast<int64_t>(lb.counters.created.get()));
    put("lb.icmp_translated", static_cast<int64_t>(lb.counters.icmp_translated.get()));
    put("lb.frag_needed_sent", static_cast<int64_t>(lb.counters.frag_needed_sent.get()));
    for (const auto& svc : world_.reg->services())
      for (const auto& r : svc->reals) {
        const std::string k = "rs." + r->key.ip.str() + ":" + std::to_string(r->key.port.host());
        const StatsValues v = world_.reg->stats(*r);
        put(k + ".conns", static_cast<int64_t>(v.conns));
        put(k + ".inpkts", static_cast<int64_t>(v.inpkts));
        put(k + ".outpkts", static_cast<int64_t>(v.outpkts));
        put(k + ".active", world_.reg->active(*r));
        put(k + ".inactive", world_.reg->inactive(*r));
        put(k + ".live", world_.reg->counters().live(r->slot));
      }
    return c;
  }
  // after - before, without the zeros.
  static Counts delta(const Counts& before, const Counts& after) {
    Counts d = after;
    for (const auto& [k, v] : before) d[k] -= v;
    std::erase_if(d, [](const auto& kv) { return kv.second == 0; });
    return d;
  }

  std::string error;  // non-empty: the harness could not be set up
  Worker worker;

 private:
  static std::vector<Bytes> drain(rte_ring* r) {
    std::vector<Bytes> out;
    void* obj;
    while (rte_ring_dequeue(r, &obj) == 0) {
      auto* m = static_cast<rte_mbuf*>(obj);
      const auto* b = rte_pktmbuf_mtod(m, const uint8_t*);
      out.emplace_back(b, b + rte_pktmbuf_data_len(m));
      rte_pktmbuf_free(m);
    }
    return out;
  }
  void drain_all() {
    for (uint16_t p = 0; p < RingPorts::kPorts; ++p) {
      drain(ports_->rx(p));
      for (unsigned q = 0; q < RingPorts::kTxQueues; ++q) drain(ports_->tx(p, q));
    }
    if (punt_) drain(punt_);
    if (inject_) drain(inject_);
    if (redirect_in_) drain(redirect_in_);
    if (peer_) drain(peer_);
  }

  lab::LbWorld& world_;
  RingPorts* ports_ = nullptr;
  std::unique_ptr<QsbrDomain> qsbr_;
  rte_mempool* pool_ = nullptr;
  rte_ring* redirect_in_ = nullptr;
  rte_ring* peer_ = nullptr;
  rte_ring* punt_ = nullptr;
  rte_ring* inject_ = nullptr;
  std::unique_ptr<Snapshot<Fib>> fib_snap_;
  std::unique_ptr<Snapshot<LbSnapshot>> lb_snap_;
  std::atomic<bool> running_{true};
  std::unique_ptr<WorkerTurnState> state_;
};

}  // namespace vsgate::test
