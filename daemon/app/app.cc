#include "app/app.h"

#include <net/if.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "common/log.h"
#include "eal/eal_args.h"
#include "eal/eal_log.h"
#include "kni/iface_config.h"
#include "kni/mirror/proc_arp.h"

namespace vsgate {
namespace {

uint64_t now_us() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

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
constexpr unsigned kKniDescriptors = 512;
constexpr unsigned kInjectRingSize = 1024;
constexpr unsigned kMailboxSize = 256;

}  // namespace

App::App(Config config) : config_(std::move(config)) {}

App::~App() {
  stop_workers();
  if (resolve_fd_ >= 0) close(resolve_fd_);
  services_.reset();
  lb_workers_.clear();
  to_workers_.clear();
  from_workers_.clear();
  control_.reset();
  if (exception_path_) exception_path_->drain();
  exception_path_.reset();  // removes the kni interfaces
  ports_.clear();           // stops and closes the ports
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

uint64_t App::unix_now_us() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// Strictly increasing, so two resets within one clock tick (or a clock step back) still differ.
void App::note_stats_reset() {
  stats_reset_unix_us_ = std::max(unix_now_us(), stats_reset_unix_us_ + 1);
}

Status App::start(const std::vector<std::string>& eal_extra) {
  start_us_ = now_us();
  started_unix_us_ = unix_now_us();
  stats_reset_unix_us_ = started_unix_us_;
  if (auto st = init_eal(eal_extra); !st) return st;
  for (auto step : {&App::create_mempool, &App::open_ports, &App::create_workers,
                    &App::create_exception_path, &App::start_mirror, &App::start_control}) {
    if (auto st = (this->*step)(); !st) return st;
  }
  rebuild_fib();
  for (auto& p : ports_)
    if (auto st = p->start(); !st) return st;
  // Local addresses need the ports' reply steering (RSS as configured, known once started).
  configure_reply_steering();
  if (auto st = apply_configured_services(); !st) return st;
  publish_services();
  send_timeouts();
  launch_workers();
  for (const auto& p : ports_) {
    links_.push_back(p->link());
    VSG_LOG(info, "port %s (%s, %s) up=%d speed=%u Mbps", p->name().c_str(), p->driver().c_str(),
            p->config().device.c_str(), links_.back().up, links_.back().speed_mbps);
  }
  systemd_.ready();
  update_status(now_us());
  VSG_LOG(info, "vsgated %s ready: %zu port(s), %zu worker(s), control socket %s", VSGATE_VERSION,
          ports_.size(), workers_.size(), config_.global.control_socket.c_str());
  return Ok{};
}

Status App::init_eal(const std::vector<std::string>& eal_extra) {
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

Status App::create_mempool() {
  // Every descriptor may hold an mbuf, plus what sits in rings, tx buffers and lcore caches.
  const unsigned workers = config_.global.workers;
  uint64_t n = 0;
  for (const auto& p : config_.ports) {
    n += uint64_t{p.rx_queues} * p.rx_descriptors +
         uint64_t{std::max<unsigned>(p.tx_queues, workers)} * p.tx_descriptors;
    if (!p.kni.empty()) n += 2 * kKniDescriptors;
  }
  n += uint64_t{workers} *
       (config_.global.punt_ring_size + kInjectRingSize + (config_.ports.size() + 2) * 32);
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

Status App::open_ports() {
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

Status App::create_workers() {
  auto q = QsbrDomain::create(config_.global.workers);
  if (!q) return q.error();
  qsbr_ = std::move(q.value());
  fib_ = std::make_unique<Snapshot<Fib>>(*qsbr_);
  lb_ = std::make_unique<LbRegistry>(config_.global.workers);
  services_ = std::make_unique<Snapshot<LbSnapshot>>(*qsbr_);
  std::vector<rte_ring*> punt, inject;
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
    if (!w->punt_ring || !w->inject_ring)
      return make_error(std::string("rte_ring_create: ") + rte_strerror(rte_errno));
    punt.push_back(w->punt_ring);
    inject.push_back(w->inject_ring);
    const auto socket = static_cast<int>(rte_socket_id());
    auto to = Mailbox<ToWorker>::create("vsg_tow" + std::to_string(i), kMailboxSize,
                                        RingDiscipline::spsc, socket);
    if (!to) return to.error();
    auto from = Mailbox<ToMain>::create("vsg_frw" + std::to_string(i), kMailboxSize,
                                        RingDiscipline::spsc, socket);
    if (!from) return from.error();
    to_workers_.push_back(std::move(to.value()));
    from_workers_.push_back(std::move(from.value()));
    lb_workers_.push_back(std::make_unique<LbWorker>(
        i, config_.global.workers, config_.global.connections, from_workers_.back().get(),
        lb_->counters(), lb_->laddr_slots()));
    w->lb = lb_workers_.back().get();
    w->inbox = to_workers_.back().get();
    w->services = services_.get();
    w->fib = fib_.get();
    w->qsbr = qsbr_.get();
    w->running = &running_;
    w->idle_sleep_us = config_.global.idle_sleep_us;
    workers_.push_back(std::move(w));
  }
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
  exception_path_ = std::make_unique<ExceptionPath>(std::move(punt), std::move(inject));
  timeouts_delivered_.assign(workers_.size(), 0);
  listings_.resize(workers_.size());
  return Ok{};
}

void App::configure_reply_steering() {
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
    lb_->set_reply_steering(p->id(), std::move(steering));
  }
}

Status App::create_exception_path() {
  for (const auto& p : ports_) {
    const auto& pc = p->config();
    if (pc.kni.empty()) continue;
    auto backend = make_exception_path_backend(pc.kni_backend);
    if (!backend) return make_error("port." + pc.name + ".kni_backend: " + backend.message());
    KniSpec spec;
    spec.ifname = pc.kni;
    spec.mac = p->mac();
    spec.mtu = pc.mtu;
    spec.data_port = p->id();
    spec.descriptors = kKniDescriptors;
    spec.pool = pool_;
    auto kni = KniInterface::create(*backend.value(), spec);
    if (!kni) return make_error("port." + pc.name + ".kni: " + kni.message());
    exception_path_->attach(std::move(kni.value()));
    // The host must not answer with IPv6 on our behalf before the data plane supports it.
    (void)set_ipv6_disabled(pc.kni, true);
    if (auto st = set_up(pc.kni); !st)
      return make_error("port." + pc.name + ".kni: " + st.message());
    for (const auto& a : pc.addresses)
      if (auto st = add_ipv4_address(pc.kni, a); !st)
        return make_error("port." + pc.name + ".addresses: " + st.message());
    VSG_LOG(info, "exception path %s (%s) for port %s", pc.kni.c_str(),
            exception_path_->kni_of(p->id())->backend().c_str(), pc.name.c_str());
  }
  return Ok{};
}

Status App::start_mirror() {
  for (const auto& kni : exception_path_->interfaces()) {
    auto idx = interface_index(kni->ifname());
    if (!idx) return make_error("kni " + kni->ifname() + ": " + idx.message());
    mirror_.track(idx.value(), kni->data_port(), kni->ifname());
  }
  auto sock = RtnlSocket::open();
  if (!sock) return make_error("rtnetlink: " + sock.message());
  rtnl_.emplace(std::move(sock.value()));
  if (auto st = resync_from_kernel(*rtnl_, mirror_); !st)
    return make_error("rtnetlink dump: " + st.message());
  if (auto arp = read_proc_arp(); arp) mirror_.resync_neighbours(arp.value());
  next_arp_resync_us_ = now_us() + config_.global.arp_resync_ms * 1000ull;
  fib_dirty_ = true;
  return Ok{};
}

void App::poll_host_stack(uint64_t now) {
  if (!rtnl_) return;
  const uint64_t before = mirror_.generation();
  rtnl_->drain([this](const HostEvent& ev) { mirror_.apply(ev); });
  if (rtnl_->resync_needed()) {
    VSG_LOG(warning, "rtnetlink events were lost; resynchronizing from a dump");
    if (auto st = resync_from_kernel(*rtnl_, mirror_); !st)
      VSG_LOG(error, "rtnetlink resync: %s", st.message().c_str());
  }
  if (now >= next_arp_resync_us_) {
    next_arp_resync_us_ = now + config_.global.arp_resync_ms * 1000ull;
    if (auto arp = read_proc_arp(); arp) mirror_.resync_neighbours(arp.value());
  }
  if (mirror_.generation() != before) fib_dirty_ = true;
}

void App::rebuild_fib() {
  if (!fib_dirty_) return;
  fib_dirty_ = false;
  FibInput in;
  for (const auto& r : mirror_.routes()) in.routes.push_back({r.dst, r.gateway, r.port_id});
  for (const auto& n : mirror_.neighbours()) in.neighbours.push_back({n.ip, n.mac, n.port_id});
  for (const auto& a : mirror_.addresses()) in.addresses.push_back({a.prefix, a.port_id});
  for (const auto& p : ports_) {
    auto& fp = in.ports[p->id()];
    fp.present = true;
    fp.mac = p->mac();
    fp.mtu = p->config().mtu;
  }
  for (const auto& a : in.addresses)
    if (a.port_id < kMaxPorts && !in.ports[a.port_id].addr_be)
      in.ports[a.port_id].addr_be = a.prefix.addr.be;
  // Neighbour-only changes keep the route table (rte_lpm is 64 MiB; rebuilding it is not free).
  std::shared_ptr<const RouteTable> routes;
  if (const Fib* cur = fib_->get(); cur && cur->route_table()->routes() == in.routes)
    routes = cur->route_table();
  auto fib = Fib::build(in, std::move(routes));
  if (!fib) {
    VSG_LOG(error, "forwarding table rebuild failed, keeping the previous one: %s",
            fib.message().c_str());
    fib_dirty_ = true;
    return;
  }
  fib_->publish(std::move(fib.value()));
  ++fib_generation_;
  VSG_LOG(debug, "forwarding table %lu: %zu routes, %zu neighbours, %zu addresses",
          static_cast<unsigned long>(fib_generation_), in.routes.size(), in.neighbours.size(),
          in.addresses.size());
}

void App::launch_workers() {
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

void App::stop_workers() {
  if (!workers_launched_) return;
  running_.store(false);
  rte_eal_mp_wait_lcore();
  workers_launched_ = false;
}

void App::update_status(uint64_t now) {
  if (now < next_status_us_) return;
  next_status_us_ = now + 1000000;
  unsigned up = 0;
  for (size_t i = 0; i < ports_.size(); ++i) {
    LinkState l = ports_[i]->link();
    if (l.up != links_[i].up)
      log_message(l.up ? LogLevel::info : LogLevel::warning, "port %s link %s",
                  ports_[i]->name().c_str(), l.up ? "up" : "down");
    links_[i] = l;
    up += l.up;
  }
  std::vector<const WorkerStats*> stats;
  for (const auto& w : workers_) stats.push_back(&w->stats);
  const WorkerTotals t = sum_worker_stats(stats);
  const uint64_t dropped = t.dropped_total() + t.tx_drops + t.punt_drops + t.inject_drops;
  systemd_.status("ports " + std::to_string(up) + "/" + std::to_string(ports_.size()) +
                  " up, workers " + std::to_string(workers_.size()) + ", rx " +
                  std::to_string(t.rx_packets) + " tx " + std::to_string(t.tx_packets) + " fwd " +
                  std::to_string(t.forwarded) + " punt " + std::to_string(t.punted) + " drop " +
                  std::to_string(dropped) + " pkts");
}

void App::run(const std::atomic<bool>& stop_requested) {
  std::vector<uint64_t> loops(workers_.size());
  unsigned idle_turns = 0;
  while (!stop_requested.load(std::memory_order_relaxed)) {
    const uint64_t now = now_us();
    unsigned work = now >= exception_path_paused_until_us_ ? exception_path_->poll() : 0;
    control_->poll(0);
    poll_host_stack(now);
    rebuild_fib();
    fib_->reclaim();
    poll_lb(now);
    update_status(now);
    for (size_t i = 0; i < workers_.size(); ++i) loops[i] = workers_[i]->stats.rx_iterations.get();
    systemd_.watchdog_tick(now, loops);
    if (work) {
      idle_turns = 0;
    } else if (config_.global.idle_sleep_us && ++idle_turns > 64) {
      usleep(config_.global.idle_sleep_us);
    }
  }
  VSG_LOG(info, "stopping");
  systemd_.stopping();
}

uint16_t App::port_index(uint16_t port_id) const {
  for (uint16_t i = 0; i < ports_.size(); ++i)
    if (ports_[i]->id() == port_id) return i;
  return UINT16_MAX;
}

std::string App::port_name(uint16_t port_id) const {
  const uint16_t i = port_index(port_id);
  return i == UINT16_MAX ? std::to_string(port_id) : ports_[i]->name();
}

std::string App::kni_name(uint16_t port_id) const {
  const KniInterface* k = exception_path_ ? exception_path_->kni_of(port_id) : nullptr;
  return k ? k->ifname() : "";
}

Status App::start_control() {
  ControlServerOptions opts;
  opts.path = config_.global.control_socket;
  auto srv = ControlServer::listen(opts);
  if (!srv) return make_error("global.control_socket: " + srv.message());
  control_ = std::move(srv.value());
  register_commands();
  register_lb_commands();
  return Ok{};
}

}  // namespace vsgate
