// vsgated as a whole: EAL, ports, workers, exception path, host-stack mirror, control socket.
// Everything here runs on the main lcore except worker_main().
#pragma once

#include <rte_mempool.h>
#include <rte_ring.h>

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/systemd_notify.h"
#include "common/result.h"
#include "config/config.h"
#include "ctrl/control_server.h"
#include "ipv4/fib.h"
#include "kni/exception_path.h"
#include "kni/mirror/host_stack.h"
#include "kni/mirror/netlink.h"
#include "lb/lb_worker.h"
#include "lb/registry.h"
#include "lcore/snapshot.h"
#include "lcore/worker.h"
#include "netif/port.h"

namespace vsgate {

class App {
 public:
  explicit App(Config config);
  ~App();

  // Brings everything up; on error, what was created is torn down by the destructor.
  Status start(const std::vector<std::string>& eal_extra);
  // Main-lcore loop until stop is requested (SIGTERM/SIGINT).
  void run(const std::atomic<bool>& stop_requested);

 private:
  Status init_eal(const std::vector<std::string>& eal_extra);
  Status create_mempool();
  Status open_ports();
  Status create_workers();
  Status create_exception_path();
  void configure_reply_steering();
  Status start_mirror();
  Status start_control();
  void register_commands();
  void launch_workers();
  void stop_workers();

  void poll_host_stack(uint64_t now_us);
  void register_lb_commands();
  Status apply_configured_services();
  void publish_services();
  void poll_lb(uint64_t now_us);
  void resolve_neighbours(uint64_t now_us);
  void send_timeouts();
  void poll_workers();
  void poll_listing(uint64_t now_us);
  Json conns_json(unsigned* missing) const;
  void rebuild_fib();
  void update_status(uint64_t now_us);
  uint16_t port_index(uint16_t port_id) const;
  static uint64_t unix_now_us();
  void note_stats_reset();
  std::string port_name(uint16_t port_id) const;
  std::string kni_name(uint16_t port_id) const;

  Config config_;
  bool eal_ready_ = false;
  rte_mempool* pool_ = nullptr;
  std::vector<std::unique_ptr<EthPort>> ports_;
  std::vector<LinkState> links_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<rte_ring*> rings_;
  std::unique_ptr<QsbrDomain> qsbr_;
  std::unique_ptr<Snapshot<Fib>> fib_;
  LbModel lb_model_;  // what was asked for, with its origin; lb_ is built from what it accepts
  std::unique_ptr<LbRegistry> lb_;
  std::unique_ptr<Snapshot<LbSnapshot>> services_;
  std::vector<std::unique_ptr<LbWorker>> lb_workers_;
  // Per worker: its mailboxes (lcore/messages.h), index = worker index.
  std::vector<std::unique_ptr<Mailbox<ToWorker>>> to_workers_;
  std::vector<std::unique_ptr<Mailbox<ToMain>>> from_workers_;
  std::vector<uint32_t> resolve_queue_;  // addresses to make the host resolve (network order)
  // Timeouts reach the workers as numbered generations (the latest sent, per worker).
  uint64_t timeouts_generation_ = 0;
  Timeouts timeouts_sent_;
  std::vector<uint64_t> timeouts_delivered_;
  // lb.conns: one listing round over every worker at a time; requests arriving meanwhile
  // join it. A worker lists into its own buffer, which is ours again once it answers.
  struct WorkerListing {
    enum class State { idle, to_send, busy } state = State::idle;
    uint64_t request = 0;
    std::vector<ConnRow> rows;
    uint32_t filled = 0;
    bool answered = false;  // in the current round
  };
  std::vector<WorkerListing> listings_;
  std::vector<uint64_t> conns_waiting_;  // control tokens waiting for the current round
  uint64_t conns_deadline_us_ = 0;
  uint64_t next_listing_request_ = 0;
  uint64_t published_lb_generation_ = UINT64_MAX;
  struct Publication {
    uint64_t generation;
    uint64_t token;
  };
  std::deque<Publication> lb_publications_;  // to learn which generations every worker passed
  uint64_t lb_safe_generation_ = 0;
  uint64_t next_estimate_us_ = 0, last_estimate_us_ = 0, next_lb_housekeeping_us_ = 0;
  std::map<uint32_t, uint64_t> neigh_requested_us_;  // ip -> when we last asked the host
  int resolve_fd_ = -1;
  std::unique_ptr<ExceptionPath> exception_path_;
  HostStackMirror mirror_;
  std::optional<RtnlSocket> rtnl_;
  bool fib_dirty_ = true;
  uint64_t next_arp_resync_us_ = 0;
  uint64_t fib_generation_ = 0;
  std::unique_ptr<ControlServer> control_;
  std::atomic<bool> running_{false};
  bool workers_launched_ = false;
  SystemdNotifier systemd_;
  uint64_t next_status_us_ = 0;
  uint64_t exception_path_paused_until_us_ = 0;  // debug: simulate a host that stopped reading
  uint64_t start_us_ = 0;
  // Wall-clock time (Unix µs) of the start and of the last counter reset (lb.zero): clients
  // (vsgate-snmp) tell a counter discontinuity from these two.
  uint64_t started_unix_us_ = 0;
  uint64_t stats_reset_unix_us_ = 0;
};

}  // namespace vsgate
