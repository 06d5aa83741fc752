#include "app/lb_control.h"

#include <algorithm>

#include "app/clock.h"
#include "common/log.h"

namespace vsgate {

LbControl::LbControl(unsigned workers, NeighbourResolver& resolver, std::function<void()> on_change,
                     uint64_t start_unix_us)
    : registry_(workers),
      resolver_(resolver),
      on_change_(std::move(on_change)),
      stats_reset_unix_us_(start_unix_us) {}

void LbControl::set_ports(std::vector<LbPort> ports) {
  ports_ = std::move(ports);
  std::vector<std::string> names;
  for (const auto& p : ports_) names.push_back(p.name);
  model_.set_port_names(std::move(names));
}

std::optional<uint16_t> LbControl::port_id(const std::string& name) const {
  for (const auto& p : ports_)
    if (p.name == name) return p.id;
  return std::nullopt;
}

Status LbControl::apply_config(const std::vector<ServiceConfig>& services) {
  for (const auto& sc : services) {
    const std::string where = "service." + sc.name + ": ";
    const ServiceSpec spec{sc.key, sc.scheduler, sc.persistence_s};
    if (auto st = model_.add_service(spec, Origin::file, "service." + sc.name); !st)
      return make_error(where + st.message());
    if (auto st = registry_.add_service(spec); !st) return make_error(where + st.message());
    for (const auto& la : sc.local_addresses) {
      const auto id = port_id(la.port_name);
      if (!id) return make_error(where + "no such port: " + la.port_name);
      if (auto st = model_.add_laddr(sc.key, {la.ip, la.port_name}, Origin::file); !st)
        return make_error(where + st.message());
      if (auto st = registry_.add_laddr(sc.key, la.ip, la.port_name, *id); !st)
        return make_error(where + st.message());
    }
    for (const auto& rc : sc.real_servers) {
      const RealServerSpec r{rc.key, rc.fwd, rc.weight, rc.upper, rc.lower};
      if (auto st = model_.add_real(sc.key, r, Origin::file); !st)
        return make_error(where + st.message());
      if (auto st = registry_.add_real(sc.key, r); !st) return make_error(where + st.message());
      resolver_.request(rc.key.ip.v4().be);  // accepted: IPv4
    }
    VSG_LOG(info, "service %s: %s %s:%u, %zu real server(s)", sc.name.c_str(),
            std::string(proto_name(sc.key.proto)).c_str(), sc.key.vip.str().c_str(),
            sc.key.port.host(), sc.real_servers.size());
  }
  return Ok{};
}

Status LbControl::add_service(const ServiceSpec& s) {
  if (auto st = model_.add_service(s, Origin::control); !st) return st;
  if (auto st = registry_.add_service(s); !st) {
    (void)model_.del_service(s.key);
    return st;
  }
  on_change_();
  return Ok{};
}

Status LbControl::edit_service(const ServiceSpec& s) {
  if (auto st = model_.edit_service(s); !st) return st;
  if (auto st = registry_.edit_service(s); !st) return st;
  on_change_();
  return Ok{};
}

Status LbControl::del_service(const ServiceKey& k) {
  if (auto st = model_.del_service(k); !st) return st;
  if (auto st = registry_.del_service(k); !st) return st;
  on_change_();
  return Ok{};
}

void LbControl::clear() {
  model_.clear();
  registry_.clear();
  on_change_();
}

Status LbControl::add_real(const ServiceKey& svc, const RealServerSpec& r) {
  if (auto st = model_.add_real(svc, r, Origin::control); !st) return st;
  if (auto st = registry_.add_real(svc, r); !st) {
    (void)model_.del_real(svc, r.key);
    return st;
  }
  on_change_();
  // Resolve it now, so the first connection does not wait for ARP.
  resolver_.request(r.key.ip.v4().be);  // accepted: IPv4
  return Ok{};
}

Status LbControl::edit_real(const ServiceKey& svc, const RealServerSpec& r) {
  if (auto st = model_.edit_real(svc, r); !st) return st;
  if (auto st = registry_.edit_real(svc, r); !st) return st;
  on_change_();
  return Ok{};
}

Status LbControl::del_real(const ServiceKey& svc, const RealServerKey& r) {
  if (auto st = model_.del_real(svc, r); !st) return st;
  if (auto st = registry_.del_real(svc, r); !st) return st;
  on_change_();
  return Ok{};
}

Status LbControl::add_laddr(const ServiceKey& svc, const LocalAddressSpec& l) {
  if (auto st = model_.add_laddr(svc, l, Origin::control); !st) return st;
  const auto id = port_id(l.port_name);
  if (!id) {
    (void)model_.del_laddr(svc, l.ip);
    return make_error("no such port: " + l.port_name);
  }
  if (auto st = registry_.add_laddr(svc, l.ip, l.port_name, *id); !st) {
    (void)model_.del_laddr(svc, l.ip);
    return st;
  }
  on_change_();
  return Ok{};
}

Status LbControl::del_laddr(const ServiceKey& svc, const IpAddr& ip) {
  if (auto st = model_.del_laddr(svc, ip); !st) return st;
  if (auto st = registry_.del_laddr(svc, ip); !st) return st;
  on_change_();
  return Ok{};
}

Status LbControl::set_timeouts(uint32_t tcp_s, uint32_t tcpfin_s, uint32_t udp_s) {
  if (auto st = model_.set_timeouts(tcp_s, tcpfin_s, udp_s); !st) return st;
  registry_.set_timeouts(tcp_s, tcpfin_s, udp_s);
  on_change_();
  return Ok{};
}

Status LbControl::zero(const std::optional<ServiceKey>& svc) {
  if (auto st = registry_.zero(svc); !st) return st;
  stats_reset_unix_us_ = std::max(unix_time_us(), stats_reset_unix_us_ + 1);
  return Ok{};
}

void LbControl::housekeeping(uint64_t now, uint64_t safe_generation) {
  if (now >= next_housekeeping_us_) {
    next_housekeeping_us_ = now + 200000;
    registry_.update_overload();
    registry_.release_removed(safe_generation);
  }
  if (now >= next_estimate_us_) {
    const double secs = last_estimate_us_ ? (now - last_estimate_us_) / 1e6 : 0;
    registry_.estimate(secs);
    last_estimate_us_ = now;
    next_estimate_us_ = now + 2000000;
  }
}

}  // namespace vsgate
