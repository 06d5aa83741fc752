#include "lb/model.h"

#include <algorithm>

namespace vsgate {
namespace {

std::string endpoint(const IpAddr& ip, L4Port port) { return Endpoint{ip, port}.str(); }

std::string family_word(const IpAddr& a) { return a.is_v4() ? "IPv4" : "IPv6"; }

// Why a real server or local address `a` of the other family than the service's VIP is refused.
std::string other_family(const IpAddr& a, const ServiceKey& svc) {
  return "is an " + family_word(a) + " address, but the service's vip " + svc.vip.str() + " is " +
         family_word(svc.vip) +
         " (a service's real servers and local addresses have its address family)";
}

bool valid_port_name(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-' || c == '.'))
      return false;
  return true;
}

}  // namespace

std::string_view origin_name(Origin o) { return o == Origin::file ? "file" : "control"; }

bool service_unicast(Ipv4Addr a) {
  const uint32_t h = a.host();
  return (h >> 24) != 0 && (h >> 24) != 127 && (h >> 28) < 0xe;
}

const char* service_address_refusal(const IpAddr& a) {
  if (a.is_v6()) return kIpv6NotSupported;
  return service_unicast(a.v4()) ? nullptr : kNotUnicast;
}

std::vector<Refusal> check_service_spec(const ServiceSpec& s) {
  std::vector<Refusal> out;
  if (const char* no = service_address_refusal(s.key.vip))
    out.push_back({Field::vip, s.key.vip.str(), no});
  if (s.key.port.host() == 0) out.push_back({Field::port, "0", "is out of range (1..65535)"});
  if (s.persistence_s && *s.persistence_s > kMaxPersistenceS)
    out.push_back({Field::persistence, std::to_string(*s.persistence_s),
                   "is out of range (0.." + std::to_string(kMaxPersistenceS) + ")"});
  return out;
}

std::optional<Refusal> check_real_count(const RealServerKey& adding, size_t reals_now) {
  if (reals_now < kMaxRealServersPerService) return std::nullopt;
  return Refusal{Field::real, endpoint(adding.ip, adding.port),
                 "would be real server " + std::to_string(reals_now + 1) +
                     " of the service: a service has at most " +
                     std::to_string(kMaxRealServersPerService) +
                     " real servers (quiesced ones, weight 0, count too)"};
}

std::vector<Refusal> check_real_spec(const ServiceKey& svc, const RealServerSpec& r) {
  std::vector<Refusal> out;
  const std::string ep = endpoint(r.key.ip, r.key.port);
  const FwdMode fwd = r.fwd.value_or(FwdMode::fullnat);
  const uint32_t weight = r.weight.value_or(1), upper = r.upper.value_or(0),
                 lower = r.lower.value_or(0);
  if (r.key.ip.family != svc.vip.family)
    out.push_back({Field::real, ep, other_family(r.key.ip, svc)});
  else if (const char* no = service_address_refusal(r.key.ip))
    out.push_back({Field::real, ep, no});
  if (r.key.port.host() == 0) out.push_back({Field::real, ep, "has port 0 (expected 1..65535)"});
  if (weight > kMaxWeight)
    out.push_back({Field::weight, "weight=" + std::to_string(weight),
                   "is out of range (0.." + std::to_string(kMaxWeight) + ")"});
  // IPVS refuses lower > upper (ERANGE), which also means no lower without an upper.
  if (lower > upper) {
    const std::string lo = "lower=" + std::to_string(lower);
    if (upper == 0)
      out.push_back({Field::lower, lo,
                     "is set without an upper threshold (IPVS refuses lower > upper; add upper=N "
                     "with N >= " +
                         std::to_string(lower) + ")"});
    else
      out.push_back({Field::lower, lo,
                     "is above upper=" + std::to_string(upper) +
                         " (IPVS refuses a lower threshold above the upper one)"});
  }
  // DR and TUNNEL do not rewrite the destination port.
  if ((fwd == FwdMode::dr || fwd == FwdMode::tunnel) && svc.port.host() != 0 &&
      r.key.port.host() != 0 && r.key.port != svc.port)
    out.push_back({Field::real, ep,
                   "has port " + std::to_string(r.key.port.host()) + ", but " +
                       std::string(fwd_mode_word(fwd)) +
                       " forwards without changing the destination port: it must be the "
                       "service's (" +
                       std::to_string(svc.port.host()) + ")"});
  return out;
}

std::vector<Refusal> check_laddr_spec(const ServiceKey& svc, const LocalAddressSpec& l) {
  std::vector<Refusal> out;
  if (l.ip.family != svc.vip.family)
    out.push_back({Field::laddr, l.ip.str(), other_family(l.ip, svc)});
  else if (const char* no = service_address_refusal(l.ip))
    out.push_back({Field::laddr, l.ip.str(), no});
  if (!valid_port_name(l.port_name))
    out.push_back({Field::port_name, l.port_name,
                   "is not a port name (1..32 letters, digits, '_', '-' or '.')"});
  return out;
}

std::vector<Refusal> check_timeouts(uint32_t tcp_s, uint32_t tcpfin_s, uint32_t udp_s) {
  std::vector<Refusal> out;
  const std::pair<const char*, uint32_t> values[] = {
      {"tcp", tcp_s}, {"tcpfin", tcpfin_s}, {"udp", udp_s}};
  for (const auto& [name, v] : values)
    if (v > kMaxTimeoutS)
      out.push_back({Field::timeout, std::string(name) + "=" + std::to_string(v),
                     "is out of range (0.." + std::to_string(kMaxTimeoutS) + ")"});
  return out;
}

Status first_refusal(const std::vector<Refusal>& refusals) {
  if (refusals.empty()) return Ok{};
  return make_error(refusals.front().message());
}

std::string LbModel::describe(const ModelService& s) {
  if (!s.name.empty()) return s.name;
  return std::string(proto_name(s.key.proto)) + " " + endpoint(s.key.vip, s.key.port);
}

void LbModel::set_port_names(std::vector<std::string> names) { port_names_ = std::move(names); }

const ModelService* LbModel::find(const ServiceKey& k) const {
  for (const auto& s : services_)
    if (s.key == k) return &s;
  return nullptr;
}

ModelService* LbModel::find_mut(const ServiceKey& k) {
  for (auto& s : services_)
    if (s.key == k) return &s;
  return nullptr;
}

Status LbModel::refuse(Refusal r, Refusal* why) const {
  Status st = make_error(r.message());
  if (why) *why = std::move(r);
  return st;
}

// The first service that uses `ip` in one of the asked roles, as a refusal of that address.
std::optional<Refusal> LbModel::address_in_use(const IpAddr& ip, bool as_vip, bool as_real,
                                               bool as_laddr) const {
  for (const auto& s : services_) {
    if (as_vip && s.key.vip == ip)
      return Refusal{Field::service, "", "is the vip of " + describe(s)};
    if (as_laddr)
      for (const auto& l : s.laddrs)
        if (l.ip == ip) return Refusal{Field::service, "", "is a local address of " + describe(s)};
    if (as_real)
      for (const auto& r : s.reals)
        if (r.key.ip == ip)
          return Refusal{Field::service, "", "is a real server of " + describe(s)};
  }
  return std::nullopt;
}

Status LbModel::add_service(const ServiceSpec& spec, Origin origin, std::string name,
                            Refusal* why) {
  if (find(spec.key)) return refuse({Field::service, "", "Service already exists"}, why);
  if (services_.size() >= kMaxServices)
    return refuse(
        {Field::service, "",
         "Memory allocation problem (at most " + std::to_string(kMaxServices) + " services)"},
        why);
  if (auto r = check_service_spec(spec); !r.empty()) return refuse(r.front(), why);
  if (auto used = address_in_use(spec.key.vip, false, true, true)) {
    const bool laddr = used->what.starts_with("is a local");
    return refuse({Field::vip, spec.key.vip.str(),
                   used->what + (laddr ? " (an address is either a VIP or a local address)"
                                       : " (a real server cannot be the load balancer itself)")},
                  why);
  }
  ModelService s;
  s.key = spec.key;
  s.name = std::move(name);
  s.scheduler = spec.scheduler.value_or(SchedulerKind::wlc);
  s.persistence_s = spec.persistence_s.value_or(0);
  s.origin = origin;
  services_.push_back(std::move(s));
  return Ok{};
}

Status LbModel::edit_service(const ServiceSpec& spec, Refusal* why) {
  ModelService* s = find_mut(spec.key);
  if (!s) return refuse({Field::service, "", "No such service"}, why);
  if (auto r = check_service_spec(spec); !r.empty()) return refuse(r.front(), why);
  if (spec.scheduler) s->scheduler = *spec.scheduler;
  if (spec.persistence_s) s->persistence_s = *spec.persistence_s;
  return Ok{};
}

Status LbModel::del_service(const ServiceKey& k) {
  auto it =
      std::find_if(services_.begin(), services_.end(), [&](const auto& s) { return s.key == k; });
  if (it == services_.end()) return make_error("No such service");
  services_.erase(it);
  return Ok{};
}

void LbModel::clear() { services_.clear(); }

Status LbModel::add_real(const ServiceKey& k, const RealServerSpec& spec, Origin origin,
                         Refusal* why) {
  ModelService* s = find_mut(k);
  if (!s) return refuse({Field::service, "", "Service not defined"}, why);
  for (const auto& r : s->reals)
    if (r.key == spec.key) return refuse({Field::real, "", "Destination already exists"}, why);
  if (auto no = check_real_count(spec.key, s->reals.size())) return refuse(*no, why);
  size_t total = 0;
  for (const auto& o : services_) total += o.reals.size();
  if (total >= kMaxRealServers)
    return refuse({Field::real, "",
                   "Memory allocation problem (at most " + std::to_string(kMaxRealServers) +
                       " real servers)"},
                  why);
  if (auto r = check_real_spec(k, spec); !r.empty()) return refuse(r.front(), why);
  if (auto used = address_in_use(spec.key.ip, true, false, true))
    return refuse({Field::real, endpoint(spec.key.ip, spec.key.port),
                   used->what + " (a real server cannot be the load balancer itself)"},
                  why);
  ModelReal r;
  r.key = spec.key;
  r.fwd = spec.fwd.value_or(FwdMode::fullnat);
  r.weight = spec.weight.value_or(1);
  r.upper = spec.upper.value_or(0);
  r.lower = spec.lower.value_or(0);
  r.origin = origin;
  s->reals.push_back(r);
  return Ok{};
}

Status LbModel::edit_real(const ServiceKey& k, const RealServerSpec& spec, Refusal* why) {
  ModelService* s = find_mut(k);
  if (!s) return refuse({Field::service, "", "Service not defined"}, why);
  for (auto& r : s->reals) {
    if (r.key != spec.key) continue;
    RealServerSpec merged = r.spec();
    if (spec.fwd) merged.fwd = spec.fwd;
    if (spec.weight) merged.weight = spec.weight;
    if (spec.upper) merged.upper = spec.upper;
    if (spec.lower) merged.lower = spec.lower;
    if (auto refusals = check_real_spec(k, merged); !refusals.empty())
      return refuse(refusals.front(), why);
    r.fwd = *merged.fwd;
    r.weight = *merged.weight;
    r.upper = *merged.upper;
    r.lower = *merged.lower;
    return Ok{};
  }
  return refuse({Field::real, "", "No such destination"}, why);
}

Status LbModel::del_real(const ServiceKey& k, const RealServerKey& key) {
  ModelService* s = find_mut(k);
  if (!s) return make_error("Service not defined");
  auto it =
      std::find_if(s->reals.begin(), s->reals.end(), [&](const auto& r) { return r.key == key; });
  if (it == s->reals.end()) return make_error("No such destination");
  s->reals.erase(it);
  return Ok{};
}

Status LbModel::add_laddr(const ServiceKey& k, const LocalAddressSpec& spec, Origin origin,
                          Refusal* why) {
  ModelService* s = find_mut(k);
  if (!s) return refuse({Field::service, "", "Service not defined"}, why);
  for (const auto& l : s->laddrs)
    if (l.ip == spec.ip) return refuse({Field::laddr, "", "Local address already exists"}, why);
  if (auto r = check_laddr_spec(k, spec); !r.empty()) return refuse(r.front(), why);
  if (port_names_ &&
      std::find(port_names_->begin(), port_names_->end(), spec.port_name) == port_names_->end())
    return refuse({Field::port_name, "", "no such port: " + spec.port_name}, why);
  if (auto used = address_in_use(spec.ip, true, false, false))
    return refuse({Field::laddr, spec.ip.str(),
                   used->what + " (an address is either a VIP or a local address)"},
                  why);
  if (auto used = address_in_use(spec.ip, false, true, false))
    return refuse({Field::laddr, spec.ip.str(),
                   used->what + " (a real server cannot be the load balancer itself)"},
                  why);
  // One port pool per local address, shared by every service that uses it (LbRegistry): it
  // lives on one port.
  std::vector<IpAddr> distinct;
  for (const auto& o : services_)
    for (const auto& l : o.laddrs) {
      if (l.ip == spec.ip && l.port_name != spec.port_name)
        return refuse({Field::laddr, spec.ip.str(),
                       "is a local address of " + describe(o) + " on port " + l.port_name +
                           " (a local address has one port pool, on one port: name the same "
                           "port in every service that uses it)"},
                      why);
      if (std::find(distinct.begin(), distinct.end(), l.ip) == distinct.end())
        distinct.push_back(l.ip);
    }
  if (std::find(distinct.begin(), distinct.end(), spec.ip) == distinct.end() &&
      distinct.size() >= kMaxLocalAddresses)
    return refuse({Field::laddr, "",
                   "Memory allocation problem (at most " + std::to_string(kMaxLocalAddresses) +
                       " local addresses)"},
                  why);
  s->laddrs.push_back({spec.ip, spec.port_name, origin});
  return Ok{};
}

Status LbModel::del_laddr(const ServiceKey& k, const IpAddr& ip) {
  ModelService* s = find_mut(k);
  if (!s) return make_error("Service not defined");
  auto it =
      std::find_if(s->laddrs.begin(), s->laddrs.end(), [&](const auto& l) { return l.ip == ip; });
  if (it == s->laddrs.end()) return make_error("No such local address");
  s->laddrs.erase(it);
  return Ok{};
}

Status LbModel::set_timeouts(uint32_t tcp_s, uint32_t tcpfin_s, uint32_t udp_s) {
  if (auto st = first_refusal(check_timeouts(tcp_s, tcpfin_s, udp_s)); !st) return st;
  if (tcp_s) tcp_s_ = tcp_s;
  if (tcpfin_s) tcpfin_s_ = tcpfin_s;
  if (udp_s) udp_s_ = udp_s;
  return Ok{};
}

std::vector<ModelWarning> LbModel::check() const {
  std::vector<ModelWarning> out;
  for (const auto& s : services_) {
    if (!s.laddrs.empty()) continue;
    for (const auto& r : s.reals)
      if (r.fwd == FwdMode::fullnat)
        out.push_back({s.key, r.key,
                       "fullnat real server " + endpoint(r.key.ip, r.key.port) + " of " +
                           describe(s) +
                           " has no local address to take a source address from: its "
                           "connections are dropped until the service has one"});
  }
  return out;
}

}  // namespace vsgate
