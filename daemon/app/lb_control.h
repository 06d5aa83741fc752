// The load balancer's control plane on the main lcore: the model (what was asked for, with its
// origin, lb/model.h) and the registry built from what the model accepts (lb/registry.h), kept
// in step by every change, whoever makes it (the [service.NAME] sections at start, the lb.*
// commands). Also the registry's periodic work (overload flags, release of removed real
// servers, the rate estimator) and the time the counters were last reset. DPDK-free (no EAL):
// publishing to the workers is the caller's (`on_change`, app/lb_publisher.h).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "app/neighbour_resolver.h"
#include "common/result.h"
#include "config/config.h"
#include "lb/model.h"
#include "lb/registry.h"

namespace vsgate {

// A data-plane port as the load balancer names it (local addresses belong to a port).
struct LbPort {
  std::string name;  // [port.NAME]
  uint16_t id = 0;   // ethdev port id
};

class LbControl {
 public:
  // `on_change` runs after every change the workers must see (it publishes a snapshot);
  // `resolver` is asked to resolve each real server added. `start_unix_us`: the counters count
  // from then (stats_reset_unix_us()).
  LbControl(unsigned workers, NeighbourResolver& resolver, std::function<void()> on_change,
            uint64_t start_unix_us);

  // The data-plane ports, for local addresses; before apply_config() and any command.
  void set_ports(std::vector<LbPort> ports);
  // The [service.NAME] sections, applied as the lb.* commands would (the config was validated
  // by the same model, so a refusal here is a bug or a port that failed to come up). Does not
  // call on_change: the caller publishes once after.
  Status apply_config(const std::vector<ServiceConfig>& services);

  // The lb.* changes: refused as the model says, else applied to the registry and published.
  // A refusal changes nothing.
  Status add_service(const ServiceSpec& s);
  Status edit_service(const ServiceSpec& s);
  Status del_service(const ServiceKey& k);
  void clear();
  Status add_real(const ServiceKey& svc, const RealServerSpec& r);
  Status edit_real(const ServiceKey& svc, const RealServerSpec& r);
  Status del_real(const ServiceKey& svc, const RealServerKey& r);
  Status add_laddr(const ServiceKey& svc, const LocalAddressSpec& l);
  Status del_laddr(const ServiceKey& svc, const IpAddr& ip);
  Status set_timeouts(uint32_t tcp_s, uint32_t tcpfin_s, uint32_t udp_s);
  // Counters of one service (or all) start from zero; stats_reset_unix_us() moves on.
  Status zero(const std::optional<ServiceKey>& svc);

  const LbModel& model() const { return model_; }
  LbRegistry& registry() { return registry_; }
  const LbRegistry& registry() const { return registry_; }
  // Wall-clock time the counters last started from zero: the start, then each zero(); strictly
  // increasing, so two resets within one clock tick (or a clock step back) still differ.
  uint64_t stats_reset_unix_us() const { return stats_reset_unix_us_; }

  // Main lcore, every loop turn: overload flags and release of removed real servers five
  // times a second (`safe_generation`: LbPublisher::safe_generation()), rates every 2 s.
  void housekeeping(uint64_t now_us, uint64_t safe_generation);

 private:
  std::optional<uint16_t> port_id(const std::string& name) const;

  LbModel model_;  // what was asked for, with its origin; registry_ is built from what it accepts
  LbRegistry registry_;
  NeighbourResolver& resolver_;
  std::function<void()> on_change_;
  std::vector<LbPort> ports_;
  uint64_t stats_reset_unix_us_;
  uint64_t next_estimate_us_ = 0, last_estimate_us_ = 0, next_housekeeping_us_ = 0;
};

}  // namespace vsgate
