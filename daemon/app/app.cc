#include "app/app.h"

#include <unistd.h>

#include "app/clock.h"
#include "app/commands/daemon_commands.h"
#include "app/commands/debug_commands.h"
#include "app/commands/host_commands.h"
#include "app/commands/lb_commands.h"
#include "app/commands/lcore_commands.h"
#include "app/commands/port_commands.h"
#include "common/log.h"

namespace vsgate {

App::App(Config config)
    : config_(std::move(config)),
      started_mono_us_(monotonic_us()),
      started_unix_us_(unix_time_us()),
      lb_(
          config_.global.workers, resolver_,
          [this] {
            if (lb_publisher_) lb_publisher_->publish(lb_.registry());
          },
          started_unix_us_),
      dataplane_(config_),
      status_(dataplane_) {}

App::~App() { dataplane_.stop_workers(); }

Status App::start(const std::vector<std::string>& eal_extra) {
  if (auto st = dataplane_.init_eal(eal_extra); !st) return st;
  if (auto st = dataplane_.create_mempool(); !st) return st;
  if (auto st = dataplane_.open_ports(); !st) return st;
  if (auto st = dataplane_.create_workers(lb_.registry()); !st) return st;
  exception_path_ =
      std::make_unique<ExceptionPathIo>(dataplane_.punt_rings(), dataplane_.inject_rings());
  if (auto st = exception_path_->create_interfaces(dataplane_.ports(), dataplane_.pool(),
                                                   DataPlane::kKniDescriptors);
      !st)
    return st;
  fib_ = std::make_unique<FibPublisher>(config_.global, dataplane_.fib(), dataplane_.ports());
  if (auto st = fib_->start(exception_path_->path()); !st) return st;
  status_.watch_fib(&fib_->status());
  lb_publisher_ = std::make_unique<LbPublisher>(dataplane_.services(), dataplane_.qsbr(),
                                                dataplane_.to_workers());
  conn_listing_ = std::make_unique<ConnListing>(dataplane_.to_workers());
  worker_messages_ =
      std::make_unique<WorkerMessages>(dataplane_.from_workers(), resolver_, *conn_listing_);
  if (auto st = start_control(); !st) return st;
  fib_->rebuild();
  if (auto st = dataplane_.start_ports(); !st) return st;
  // Local addresses need the ports' reply steering (RSS as configured, known once started).
  dataplane_.configure_reply_steering(lb_.registry());
  std::vector<LbPort> ports;
  for (const auto& p : dataplane_.ports()) ports.push_back({p->name(), p->id()});
  lb_.set_ports(std::move(ports));
  if (auto st = lb_.apply_config(config_.services); !st) return st;
  lb_publisher_->publish(lb_.registry());
  lb_publisher_->send_timeouts(lb_.registry().timeouts());
  dataplane_.launch_workers();
  dataplane_.note_links();
  status_.ready();
  status_.report(monotonic_us());
  VSG_LOG(info, "vsgated %s ready: %zu port(s), %zu worker(s), control socket %s", VSGATE_VERSION,
          dataplane_.ports().size(), dataplane_.workers().size(),
          config_.global.control_socket.c_str());
  return Ok{};
}

Status App::start_control() {
  ControlServerOptions opts;
  opts.path = config_.global.control_socket;
  auto srv = ControlServer::listen(opts);
  if (!srv) return make_error("global.control_socket: " + srv.message());
  control_ = std::move(srv.value());
  register_commands();
  return Ok{};
}

void App::register_commands() {
  CommandTable& table = control_->commands();
  const PortNaming naming{[this](uint16_t port_id) { return dataplane_.port_name(port_id); },
                          [this](uint16_t port_id) {
                            const KniInterface* k = exception_path_->path().kni_of(port_id);
                            return k ? k->ifname() : std::string();
                          }};
  register_daemon_commands(table, {{started_unix_us_, started_mono_us_, dataplane_.workers().size(),
                                    dataplane_.ports().size()},
                                   lb_,
                                   &fib_->status()});
  register_port_commands(
      table, {dataplane_.ports(), dataplane_.links(), exception_path_->path(), fib_->mirror()});
  register_lcore_commands(table,
                          {dataplane_.workers(), lb_.registry(), exception_path_->path(), naming});
  register_host_commands(table, {fib_->mirror(), naming, &fib_->status()});
  register_lb_commands(table, {lb_, *conn_listing_});
  register_debug_commands(table, config_.global, {dataplane_.workers(), *exception_path_});
}

void App::run(const std::atomic<bool>& stop_requested) {
  unsigned idle_turns = 0;
  while (!stop_requested.load(std::memory_order_relaxed)) {
    const uint64_t now = monotonic_us();
    const unsigned work = exception_path_->poll(now);
    control_->poll(0);
    fib_->poll(now);
    // The load balancer: publication, what the workers asked, neighbours, lb.conns, upkeep.
    lb_publisher_->poll(lb_.registry());
    worker_messages_->poll();
    resolver_.poll(now);
    conn_listing_->poll(now, dataplane_.services().get(), *control_);
    lb_.housekeeping(now, lb_publisher_->safe_generation());
    status_.report(now);
    status_.feed_watchdog(now);
    if (work) {
      idle_turns = 0;
    } else if (config_.global.idle_sleep_us && ++idle_turns > 64) {
      usleep(config_.global.idle_sleep_us);
    }
  }
  VSG_LOG(info, "stopping");
  status_.stopping();
}

}  // namespace vsgate
