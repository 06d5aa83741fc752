#include "app/dataplane.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <filesystem>

#include "common/log.h"
#include "eal/eal_args.h"
#include "eal/eal_log.h"

namespace vsgate {
namespace {

// As the only (primary) process of its file prefix, vsgated removes the EAL runtime directory
// (/var/run/dpdk/PREFIX: config, memseg lists, mp socket) that rte_eal_cleanup leaves behind.
void remove_runtime_dir(const std::string& dir) {
  if (dir.empty()) return;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (!e.is_directory(ec)) std::filesystem::remove(e.path(), ec);
  std::filesystem::remove(dir, ec);
}

constexpr unsigned kMbufCache = 256;
constexpr unsigned kInjectRingSize = 1024;
constexpr unsigned kRedirectRingSize = 1024;
constexpr unsigned kMailboxSize = 256;

}  // namespace

DataPlane::~DataPlane() {
  stop_workers();
  services_.reset();
  lb_workers_.clear();
  to_workers_.clear();
  from_workers_.clear();
  ports_.clear();  // stops and closes the ports
  fib_.reset();
  qsbr_.reset();
  for (rte_ring* r : rings_) rte_ring_free(r);
  workers_.clear();
  if (pool_) rte_mempool_free(pool_);
  if (eal_ready_) {
    const std::string runtime_dir = rte_eal_get_runtime_dir();
    rte_eal_cleanup();
    remove_runtime_dir(runtime_dir);
  }
}

Status DataPlane::init_eal(const std::vector<std::string>& eal_extra) {
  auto args = build_eal_args(config_, eal_extra, allowed_cpus());
  std::string line;
  for (const auto& a : args) line += " " + a;
  VSG_LOG(info, "EAL arguments:%s", line.c_str());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  redirect_dpdk_log();
  if (rte_eal_init(static_cast<int>(args.size()), argv.data()) < 0)
    return make_error(std::string("rte_eal_init failed: ") + rte_strerror(rte_errno));
  eal_ready_ = true;
  if (rte_lcore_count() < config_.global.workers + 1)
    return make_error("EAL gave " + std::to_string(rte_lcore_count()) + " lcores, need " +
                      std::to_string(config_.global.workers + 1) + " (1 main + global.workers)");
  if (config_.ports.size() > kMaxPorts)
    return make_error("too many ports: " + std::to_string(config_.ports.size()));
  return Ok{};
}

Status DataPlane::create_mempool() {
  // Every descriptor may hold an mbuf, plus what sits in rings, tx buffers and lcore caches.
  const unsigned workers = config_.global.workers;
  uint64_t n = 0;
  for (const auto& p : config_.ports) {
    n += uint64_t{p.rx_queues} * p.rx_descriptors +
         uint64_t{std::max<unsigned>(p.tx_queues, workers)} * p.tx_descriptors;
    if (!p.kni.empty()) n += 2 * kKniDescriptors;
  }
  n += uint64_t{workers} * (config_.global.punt_ring_size + kInjectRingSize + kRedirectRingSize +
                            (config_.ports.size() + 2) * 32);
  n += uint64_t{rte_lcore_count()} * kMbufCache * 2;
  n = std::max<uint64_t>(n, 8191);
  pool_ = rte_pktmbuf_pool_create("vsg_mbuf", static_cast<unsigned>(n), kMbufCache, 0,
                                  RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(rte_socket_id()));
  if (!pool_)
    return make_error("creating a pool of " + std::to_string(n) +
                      " mbufs failed: " + rte_strerror(rte_errno) + " (raise [eal] -m?)");
  VSG_LOG(info, "mbuf pool: %lu mbufs", static_cast<unsigned long>(n));
  return Ok{};
}

Status DataPlane::open_ports() {
  for (const auto& pc : config_.ports) {
    if (pc.tx_queues < config_.global.workers)
      return make_error("port." + pc.name + ".tx_queues: " + std::to_string(pc.tx_queues) +
                        " is fewer than global.workers (" + std::to_string(config_.global.workers) +
                        "): every worker needs its own tx queue on every port");
    auto p = EthPort::open(pc, pc.tx_queues, pool_);
    if (!p) return p.error();
    if (p.value()->id() >= kMaxPorts) return make_error("port " + pc.name + ": port id too high");
    ports_.push_back(std::move(p.value()));
  }
  return Ok{};
}

Status DataPlane::create_workers(LbRegistry& lb) {
  auto q = QsbrDomain::create(config_.global.workers);
  if (!q) return q.error();
  qsbr_ = std::move(q.value());
  fib_ = std::make_unique<Snapshot<Fib>>(*qsbr_);
  services_ = std::make_unique<Snapshot<LbSnapshot>>(*qsbr_);
  unsigned lcore = rte_get_next_lcore(-1, 1, 0);
  for (unsigned i = 0; i < config_.global.workers; ++i) {
    auto w = std::make_unique<Worker>();
    w->index = i;
    w->lcore_id = lcore;
    lcore = rte_get_next_lcore(lcore, 1, 0);
    const auto pname = "vsg_punt" + std::to_string(i);
    const auto iname = "vsg_inject" + std::to_string(i);
    w->punt_ring =
        rte_ring_create(pname.c_str(), config_.global.punt_ring_size,
                        static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (w->punt_ring) rings_.push_back(w->punt_ring);
    w->inject_ring =
        rte_ring_create(iname.c_str(), kInjectRingSize, static_cast<int>(rte_socket_id()),
                        RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (w->inject_ring) rings_.push_back(w->inject_ring);
    w->pool = pool_;
    // Any worker may hand this one a packet; only this one takes them.
    w->redirect_in = rte_ring_create(("vsg_redir" + std::to_string(i)).c_str(), kRedirectRingSize,
                                     static_cast<int>(rte_socket_id()), RING_F_SC_DEQ);
    if (w->redirect_in) rings_.push_back(w->redirect_in);
    if (!w->redirect_in)
      return make_error(std::string("rte_ring_create: ") + rte_strerror(rte_errno));
    if (!w->punt_ring || !w->inject_ring)
      return make_error(std::string("rte_ring_create: ") + rte_strerror(rte_errno));
    const auto socket = static_cast<int>(rte_socket_id());
    auto to = Mailbox<ToWorker>::create("vsg_tow" + std::to_string(i), kMailboxSize,
                                        RingDiscipline::spsc, socket);
    if (!to) return to.error();
    auto from = Mailbox<ToMain>::create("vsg_frw" + std::to_string(i), kMailboxSize,
                                        RingDiscipline::spsc, socket);
    if (!from) return from.error();
    to_workers_.push_back(std::move(to.value()));
    from_workers_.push_back(std::move(from.value()));
    lb_workers_.push_back(
        std::make_unique<LbWorker>(i, config_.global.workers, config_.global.connections,
                                   from_workers_.back().get(), lb.counters(), lb.laddr_slots()));
    w->lb = lb_workers_.back().get();
    w->inbox = to_workers_.back().get();
    w->services = services_.get();
    w->fib = fib_.get();
    w->qsbr = qsbr_.get();
    w->running = &running_;
    w->idle_sleep_us = config_.global.idle_sleep_us;
    workers_.push_back(std::move(w));
  }
  for (auto& w : workers_)
    for (const auto& peer : workers_) w->redirect_to.push_back(peer->redirect_in);
  // Spread every rx queue of every port over the workers, round-robin.
  unsigned next = 0;
  for (const auto& p : ports_)
    for (uint16_t q = 0; q < p->rx_queues(); ++q) {
      auto& w = *workers_[next++ % workers_.size()];
      if (w.rx_queues.size() >= kMaxRxQueuesPerWorker)
        return make_error("too many rx queues per worker (max " +
                          std::to_string(kMaxRxQueuesPerWorker) + ")");
      w.rx_queues.push_back({p->id(), q});
    }
  return Ok{};
}

Status DataPlane::start_ports() {
  for (auto& p : ports_)
    if (auto st = p->start(); !st) return st;
  return Ok{};
}

void DataPlane::configure_reply_steering(LbRegistry& lb) {
  const unsigned nw = static_cast<unsigned>(workers_.size());
  for (const auto& p : ports_) {
    std::vector<int> queue_worker(p->rx_queues(), -1);
    for (unsigned w = 0; w < nw; ++w)
      for (const RxQueueRef& rq : workers_[w]->rx_queues)
        if (rq.port == p->id()) queue_worker[rq.queue] = static_cast<int>(w);
    std::shared_ptr<const ReplySteering> steering;
    if (nw == 1 || p->rx_queues() == 1) {
      steering = ReplySteering::single(static_cast<unsigned>(std::max(queue_worker[0], 0)), nw);
    } else if (auto rss = p->rss_info(); !rss) {
      VSG_LOG(warning, "port %s: RSS unreadable (%s)", p->name().c_str(), rss.message().c_str());
    } else if (auto t = ReplySteering::toeplitz(rss->key, rss->reta, queue_worker, nw,
                                                (rss->rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_TCP) != 0,
                                                (rss->rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_UDP) != 0);
               !t) {
      VSG_LOG(warning, "port %s: RSS unusable (%s)", p->name().c_str(), t.message().c_str());
    } else {
      steering = *t;
    }
    if (!steering) steering = ReplySteering::port_modulo(nw);
    VSG_LOG(info, "port %s: FULLNAT replies: %s", p->name().c_str(), steering->describe().c_str());
    lb.set_reply_steering(p->id(), std::move(steering));
  }
}

void DataPlane::launch_workers() {
  running_.store(true);
  for (auto& w : workers_) {
    int rc = rte_eal_remote_launch(worker_main, w.get(), w->lcore_id);
    if (rc != 0) {
      VSG_LOG(error, "launching worker %u on lcore %u: %s", w->index, w->lcore_id,
              rte_strerror(-rc));
      continue;
    }
    VSG_LOG(info, "worker %u on lcore %u polls %zu rx queue(s)", w->index, w->lcore_id,
            w->rx_queues.size());
  }
  workers_launched_ = true;
}

void DataPlane::stop_workers() {
  if (!workers_launched_) return;
  running_.store(false);
  rte_eal_mp_wait_lcore();
  workers_launched_ = false;
}

void DataPlane::note_links() {
  for (const auto& p : ports_) {
    links_.push_back(p->link());
    VSG_LOG(info, "port %s (%s, %s) up=%d speed=%u Mbps", p->name().c_str(), p->driver().c_str(),
            p->config().device.c_str(), links_.back().up, links_.back().speed_mbps);
  }
}

unsigned DataPlane::refresh_links() {
  unsigned up = 0;
  for (size_t i = 0; i < ports_.size(); ++i) {
    LinkState l = ports_[i]->link();
    if (l.up != links_[i].up)
      log_message(l.up ? LogLevel::info : LogLevel::warning, "port %s link %s",
                  ports_[i]->name().c_str(), l.up ? "up" : "down");
    links_[i] = l;
    up += l.up;
  }
  return up;
}

std::vector<Mailbox<ToWorker>*> DataPlane::to_workers() const {
  std::vector<Mailbox<ToWorker>*> out;
  for (const auto& m : to_workers_) out.push_back(m.get());
  return out;
}

std::vector<Mailbox<ToMain>*> DataPlane::from_workers() const {
  std::vector<Mailbox<ToMain>*> out;
  for (const auto& m : from_workers_) out.push_back(m.get());
  return out;
}

std::vector<rte_ring*> DataPlane::punt_rings() const {
  std::vector<rte_ring*> out;
  for (const auto& w : workers_) out.push_back(w->punt_ring);
  return out;
}

std::vector<rte_ring*> DataPlane::inject_rings() const {
  std::vector<rte_ring*> out;
  for (const auto& w : workers_) out.push_back(w->inject_ring);
  return out;
}

std::string DataPlane::port_name(uint16_t port_id) const {
  for (const auto& p : ports_)
    if (p->id() == port_id) return p->name();
  return std::to_string(port_id);
}

std::optional<uint16_t> DataPlane::port_id(std::string_view name) const {
  for (const auto& p : ports_)
    if (p->name() == name) return p->id();
  return std::nullopt;
}

}  // namespace vsgate
