#include "lb/model_json.h"

#include <string>

namespace vsgate {

Result<ServiceKey> service_key_from_json(const Json& args) {
  auto proto = required_string_arg(args, "proto");
  if (!proto) return proto.error();
  auto vip = required_string_arg(args, "vip");
  if (!vip) return vip.error();
  auto port = optional_uint_arg(args, "port");
  if (!port) return port.error();
  ServiceKey k;
  if (*proto == "tcp")
    k.proto = Proto::tcp;
  else if (*proto == "udp")
    k.proto = Proto::udp;
  else
    return make_error("proto must be tcp or udp, not '" + *proto + "'");
  auto ip = IpAddr::parse(*vip);
  if (!ip) return make_error("illegal virtual server address '" + *vip + "'");
  // 0 is a port the model refuses (for a service to add); absent is a malformed ServiceId.
  if (!port.value() || *port.value() > 65535) return make_error("port must be 1..65535");
  k.vip = *ip;
  k.port = L4Port::from_host(static_cast<uint16_t>(*port.value()));
  return k;
}

Result<RealServerKey> real_key_from_json(const Json& args, const ServiceKey& svc) {
  auto rip = required_string_arg(args, "rip");
  if (!rip) return rip.error();
  auto rport = optional_uint_arg(args, "rport");
  if (!rport) return rport.error();
  auto ip = IpAddr::parse(*rip);
  if (!ip) return make_error("illegal real server address '" + *rip + "'");
  RealServerKey k{*ip, svc.port};
  if (rport.value()) {
    if (*rport.value() > 65535) return make_error("rport must be 1..65535");
    k.port = L4Port::from_host(static_cast<uint16_t>(*rport.value()));
  }
  return k;
}

Result<std::optional<uint32_t>> u32_from_json(const Json& args, const char* key, uint64_t max) {
  auto v = optional_uint_arg(args, key);
  if (!v) return v.error();
  if (!v.value()) return std::optional<uint32_t>{};
  if (*v.value() > max)
    return make_error(std::string(key) + " out of range (0.." + std::to_string(max) + ")");
  return std::optional<uint32_t>{static_cast<uint32_t>(*v.value())};
}

Result<ServiceSpec> service_spec_from_json(const Json& a) {
  auto k = service_key_from_json(a);
  if (!k) return k.error();
  ServiceSpec s{k.value(), {}, {}};
  if (auto sched = optional_string_arg(a, "scheduler"); !sched) {
    return sched.error();
  } else if (sched.value()) {
    auto kind = parse_scheduler(*sched.value());
    if (!kind) return make_error("unknown scheduler '" + *sched.value() + "'");
    s.scheduler = kind;
  }
  auto p = u32_from_json(a, "persistence");
  if (!p) return p.error();
  s.persistence_s = p.value();
  return s;
}

Result<RealServerSpec> real_spec_from_json(const Json& a, const ServiceKey& k) {
  auto rk = real_key_from_json(a, k);
  if (!rk) return rk.error();
  RealServerSpec r{rk.value(), {}, {}, {}, {}};
  if (auto fwd = optional_string_arg(a, "fwd"); !fwd) {
    return fwd.error();
  } else if (fwd.value()) {
    auto m = parse_fwd_mode(*fwd.value());
    if (!m) return make_error("fwd must be fullnat, nat, dr or tunnel");
    r.fwd = m;
  }
  auto w = u32_from_json(a, "weight");
  if (!w) return w.error();
  auto up = u32_from_json(a, "upper");
  if (!up) return up.error();
  auto lo = u32_from_json(a, "lower");
  if (!lo) return lo.error();
  r.weight = w.value();
  r.upper = up.value();
  r.lower = lo.value();
  return r;
}

Result<LocalAddressSpec> laddr_spec_from_json(const Json& a) {
  auto la = required_string_arg(a, "laddr");
  if (!la) return la.error();
  auto pn = required_string_arg(a, "port_name");
  if (!pn) return pn.error();
  auto ip = IpAddr::parse(*la);
  if (!ip) return make_error("illegal local address '" + *la + "'");
  return LocalAddressSpec{*ip, *pn};
}

Result<TimeoutsSpec> timeouts_from_json(const Json& a) {
  TimeoutsSpec t;
  const std::pair<const char*, uint32_t*> fields[] = {
      {"tcp", &t.tcp_s}, {"tcpfin", &t.tcpfin_s}, {"udp", &t.udp_s}};
  for (const auto& [key, out] : fields) {
    auto v = u32_from_json(a, key);
    if (!v) return v.error();
    *out = v.value().value_or(0);
  }
  return t;
}

Status apply_json_command(LbModel& m, const std::string& cmd, const Json& a, Origin origin,
                          Refusal* why) {
  if (cmd == "lb.clear") {
    m.clear();
    return Ok{};
  }
  if (cmd == "lb.timeouts.set") {
    auto t = timeouts_from_json(a);
    if (!t) return t.error();
    return m.set_timeouts(t->tcp_s, t->tcpfin_s, t->udp_s);
  }
  if (cmd == "lb.service.add" || cmd == "lb.service.edit") {
    auto s = service_spec_from_json(a);
    if (!s) return s.error();
    return cmd == "lb.service.add" ? m.add_service(s.value(), origin, {}, why)
                                   : m.edit_service(s.value(), why);
  }
  auto k = service_key_from_json(a);
  if (!k) return k.error();
  if (cmd == "lb.service.del") return m.del_service(k.value());
  if (cmd == "lb.real.add" || cmd == "lb.real.edit") {
    auto r = real_spec_from_json(a, k.value());
    if (!r) return r.error();
    return cmd == "lb.real.add" ? m.add_real(k.value(), r.value(), origin, why)
                                : m.edit_real(k.value(), r.value(), why);
  }
  if (cmd == "lb.real.del") {
    auto rk = real_key_from_json(a, k.value());
    if (!rk) return rk.error();
    return m.del_real(k.value(), rk.value());
  }
  if (cmd == "lb.laddr.add") {
    auto l = laddr_spec_from_json(a);
    if (!l) return l.error();
    return m.add_laddr(k.value(), l.value(), origin, why);
  }
  if (cmd == "lb.laddr.del") {
    auto l = required_string_arg(a, "laddr");
    if (!l) return l.error();
    auto ip = IpAddr::parse(*l);
    if (!ip) return make_error("illegal local address '" + *l + "'");
    return m.del_laddr(k.value(), *ip);
  }
  return make_error("not an lb change command: " + cmd);
}

}  // namespace vsgate
