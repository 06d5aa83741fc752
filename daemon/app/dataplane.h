// The data plane as the main lcore sets it up (RAII, torn down in reverse): the EAL, the mbuf
// pool, the ports, the worker lcores with their punt and inject rings and mailboxes, their
// load balancers, the QSBR domain and the two snapshots they read (forwarding table, services).
#pragma once

#include <rte_mempool.h>
#include <rte_ring.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "ipv4/fib.h"
#include "lb/lb_snapshot.h"
#include "lb/lb_worker.h"
#include "lb/registry.h"
#include "lcore/mailbox.h"
#include "lcore/messages.h"
#include "lcore/snapshot.h"
#include "lcore/worker.h"
#include "netif/port.h"

namespace vsgate {

class DataPlane {
 public:
  // Descriptors of each exception-path interface (counted in the mbuf pool).
  static constexpr unsigned kKniDescriptors = 512;

  explicit DataPlane(const Config& config) : config_(config) {}
  // Stops the workers, then frees everything, the EAL last.
  ~DataPlane();
  DataPlane(const DataPlane&) = delete;
  DataPlane& operator=(const DataPlane&) = delete;

  // Start-up steps, in this order (each may fail; what was created is freed by the destructor).
  Status init_eal(const std::vector<std::string>& eal_extra);
  Status create_mempool();
  Status open_ports();
  // Workers, their rings and mailboxes, and their load balancers, which count into `lb`'s
  // counter table and read its local addresses (both outlive the workers).
  Status create_workers(LbRegistry& lb);
  Status start_ports();
  // How FULLNAT replies reach the workers, per port (RSS as configured, known once started).
  void configure_reply_steering(LbRegistry& lb);
  void launch_workers();
  void stop_workers();
  // The ports' link states: note_links() records them at start and logs each port;
  // refresh_links() logs changes and returns how many ports are up.
  void note_links();
  unsigned refresh_links();

  rte_mempool* pool() const { return pool_; }
  const std::vector<std::unique_ptr<EthPort>>& ports() const { return ports_; }
  const std::vector<LinkState>& links() const { return links_; }  // by port index
  std::vector<std::unique_ptr<Worker>>& workers() { return workers_; }
  const std::vector<std::unique_ptr<Worker>>& workers() const { return workers_; }
  QsbrDomain& qsbr() { return *qsbr_; }
  Snapshot<Fib>& fib() { return *fib_; }
  Snapshot<LbSnapshot>& services() { return *services_; }
  std::vector<Mailbox<ToWorker>*> to_workers() const;
  std::vector<Mailbox<ToMain>*> from_workers() const;
  std::vector<rte_ring*> punt_rings() const;
  std::vector<rte_ring*> inject_rings() const;

  // "[port.NAME]" of a port id (the id as text if it is not ours), and the other way round.
  std::string port_name(uint16_t port_id) const;
  std::optional<uint16_t> port_id(std::string_view name) const;

 private:
  const Config& config_;
  bool eal_ready_ = false;
  rte_mempool* pool_ = nullptr;
  std::vector<std::unique_ptr<EthPort>> ports_;
  std::vector<LinkState> links_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<rte_ring*> rings_;
  std::unique_ptr<QsbrDomain> qsbr_;
  std::unique_ptr<Snapshot<Fib>> fib_;
  std::unique_ptr<Snapshot<LbSnapshot>> services_;
  std::vector<std::unique_ptr<LbWorker>> lb_workers_;
  // Per worker: its mailboxes (lcore/messages.h), index = worker index.
  std::vector<std::unique_ptr<Mailbox<ToWorker>>> to_workers_;
  std::vector<std::unique_ptr<Mailbox<ToMain>>> from_workers_;
  std::atomic<bool> running_{false};
  bool workers_launched_ = false;
};

}  // namespace vsgate
