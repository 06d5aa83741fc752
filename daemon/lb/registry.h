// The load balancer's configuration as the control plane holds it (services, real servers,
// local addresses, timeouts) and the slots that tie it to the workers' state. Runs on the main
// lcore only; workers see changes through published LbSnapshots (lb/lb_snapshot.h), counters
// through the RealServerCounterTable.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "lb/core/conn_table.h"
#include "lb/core/scheduler.h"
#include "lb/lb_snapshot.h"
#include "lb/model.h"  // ServiceSpec, RealServerSpec, the limits
#include "lb/real_server_counters.h"
#include "lb/reply_steering.h"
#include "lb/types.h"
#include "lcore/io_stats.h"

namespace vsgate {

// IPVS-style rate estimator: 2 s samples, smoothed with weight 1/4.
struct RateEstimator {
  StatsValues last;
  double cps = 0, inpps = 0, outpps = 0, inbps = 0, outbps = 0;
  bool primed = false;
  void sample(const StatsValues& now, double seconds);
};

// A real server as the main lcore keeps it; workers see a RealServerView copy in the snapshot
// and count in the RealServerCounterTable under `slot`.
struct RealServer {
  RealServerKey key;
  FwdMode fwd = FwdMode::fullnat;
  uint32_t weight = 1;
  uint32_t upper = 0, lower = 0;
  uint32_t slot = 0;
  StatsValues zero;  // subtracted on read: the counters at -Z or when the slot was taken
  RateEstimator rate;
};

// Local-port pool of one local address, for one worker. Only that worker allocates and frees.
// Free ports are kept per steering class (lb/reply_steering.h), so that the worker hands out
// only ports whose replies the NIC brings back to itself.
class LocalPortPool {
 public:
  LocalPortPool(std::shared_ptr<const ReplySteering> steering, unsigned worker, uint16_t first,
                uint16_t last);
  // A port (network byte order) for a connection to rip:rport from laddr; 0 = none left whose
  // reply reaches this worker.
  uint16_t get(Proto proto, uint32_t rip_be, uint32_t laddr_be, uint16_t rport_be);
  void put(uint16_t port_be);
  size_t free() const { return free_; }
  size_t size() const { return ports_.size(); }
  const ReplySteering& steering() const { return *steering_; }

 private:
  uint16_t take(unsigned cls) { return ports_[--top_[cls]]; }

  std::shared_ptr<const ReplySteering> steering_;
  unsigned worker_;
  std::vector<uint16_t> ports_;              // network order, grouped by class
  std::vector<uint32_t> begin_, end_, top_;  // per class: [begin, top) are free
  size_t free_ = 0;
  uint32_t cursor_ = 0;  // rotates over the classes so that they drain evenly
};

struct LocalAddress {
  Ipv4Addr ip;
  std::string port_name;
  uint16_t port_id = 0;
  uint32_t slot = 0;
  std::vector<std::unique_ptr<LocalPortPool>> pools;  // per worker
  std::vector<Gauge> used;                            // per worker: ports in use (single writer)
};

struct Service {
  ServiceKey key;
  SchedulerKind scheduler = SchedulerKind::rr;
  uint32_t persistence_s = 0;
  uint32_t id = 0;  // slot for per-worker scheduler state
  std::vector<std::shared_ptr<RealServer>> reals;
  std::vector<std::shared_ptr<LocalAddress>> laddrs;
  RateEstimator rate;
  StatsValues zero_removed;  // stats of removed real servers still count for the service
  // The scheduler table of the last snapshot; rebuilt only after a change of this service.
  std::shared_ptr<const SchedulerTable> sched;
  uint64_t sched_version = 0;
};

// Takes the control side's keys and specs (lb/types.h, lb/model.h) and refuses what the
// model's rules refuse (IPv6 included); it is where they become the workers' compact IPv4 keys
// (to_ipv4: LocalAddress::ip, the LbSnapshot views, scheduler identities).
class LbRegistry {
 public:
  LbRegistry(unsigned workers, uint16_t lport_first = 1024, uint16_t lport_last = 32767);

  Status add_service(const ServiceSpec& s);
  Status edit_service(const ServiceSpec& s);
  Status del_service(const ServiceKey& k);
  void clear();
  Status add_real(const ServiceKey& svc, const RealServerSpec& r);
  Status edit_real(const ServiceKey& svc, const RealServerSpec& r);
  Status del_real(const ServiceKey& svc, const RealServerKey& r);
  Status add_laddr(const ServiceKey& svc, const IpAddr& ip, const std::string& port_name,
                   uint16_t port_id);
  // How replies of FULLNAT connections through a port reach the workers; set before local
  // addresses of that port are added. Without it: one worker takes every reply, or for several
  // workers the port space is split (port % workers).
  void set_reply_steering(uint16_t port_id, std::shared_ptr<const ReplySteering> steering);
  Status del_laddr(const ServiceKey& svc, const IpAddr& ip);
  Status zero(const std::optional<ServiceKey>& svc);
  void set_timeouts(uint32_t tcp_s, uint32_t tcpfin_s, uint32_t udp_s);
  const Timeouts& timeouts() const { return timeouts_; }

  const std::vector<std::shared_ptr<Service>>& services() const { return services_; }
  const Service* find(const ServiceKey& k) const;
  unsigned workers() const { return workers_; }
  // Counters of every real-server slot; give it to the workers (LbWorker).
  RealServerCounterTable& counters() { return *counters_; }
  const RealServerCounterTable& counters() const { return *counters_; }
  // Local addresses by slot; an entry, once set, stays for the life of the registry.
  const std::array<LocalAddress*, kMaxLocalAddresses>* laddr_slots() const {
    return laddr_slots_.get();
  }
  // Real-server statistics since start or -Z, and connections by state (summed over workers).
  StatsValues stats(const RealServer& r) const { return counters_->stats(r.slot) - r.zero; }
  int64_t active(const RealServer& r) const { return counters_->active(r.slot); }
  int64_t inactive(const RealServer& r) const { return counters_->inactive(r.slot); }

  // A new snapshot for the workers (after any change). Rebuilds the scheduler tables of the
  // services that changed since the last one.
  Result<std::unique_ptr<const LbSnapshot>> snapshot();
  uint64_t generation() const { return generation_; }

  // Main lcore, every 2 s: rates; and a few times a second: overload flags, release of the
  // slots of removed real servers that no table entry names any more (call with `safe` = the
  // newest generation every worker has passed a quiescent state since it was published: no
  // worker can still create an entry naming a real server removed before it).
  void estimate(double seconds);
  void update_overload();
  void release_removed(uint64_t safe_generation);

 private:
  Result<uint32_t> alloc_real_slot();
  void retire(std::shared_ptr<RealServer> r);
  Service* find_mut(const ServiceKey& k);
  void changed(Service& s) {  // its scheduler table must be rebuilt
    s.sched.reset();
    ++generation_;
  }

  unsigned workers_;
  uint16_t lport_first_, lport_last_;
  std::vector<std::shared_ptr<const ReplySteering>> steering_;  // by port id
  std::shared_ptr<const ReplySteering> default_steering_;
  std::vector<std::shared_ptr<Service>> services_;
  std::unique_ptr<RealServerCounterTable> counters_;
  std::vector<bool> real_slot_used_;  // by slot: held by a real server, present or retired
  std::unique_ptr<std::array<LocalAddress*, kMaxLocalAddresses>> laddr_slots_;
  std::vector<uint32_t> free_real_slots_, free_service_ids_;
  uint32_t next_service_id_ = 0;
  uint64_t next_sched_version_ = 1;
  struct Retired {
    std::shared_ptr<RealServer> real;
    uint64_t generation;
  };
  std::vector<Retired> retired_;
  std::vector<std::shared_ptr<LocalAddress>> retired_laddrs_;
  Timeouts timeouts_ = Timeouts::ipvs_defaults();
  uint64_t generation_ = 0;
};

}  // namespace vsgate
