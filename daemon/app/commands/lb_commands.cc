#include "app/commands/lb_commands.h"

#include "app/clock.h"
#include "app/commands/command_module.h"
#include "app/commands/lb_json.h"
#include "lb/model_json.h"

namespace vsgate {
namespace {

using Context = LbCommandContext;

// The arguments' syntax: lb/model_json.h; the rules: lb/model.h (LbControl applies them).
Result<std::optional<ServiceKey>> optional_service_key(const Json& a) {
  if (!a.contains("vip")) return std::optional<ServiceKey>();
  auto k = service_key_from_json(a);
  if (!k) return k.error();
  return std::optional<ServiceKey>(k.value());
}

Json laddrs_json(const Service& s) {
  Json out = Json::array();
  for (const auto& l : s.laddrs) {
    int64_t used = 0;
    for (const auto& g : l->used) used += g.get();
    out.push_back({{"laddr", l->ip.str()}, {"port_name", l->port_name}, {"conns", used}});
  }
  return out;
}

Json timeouts_json(const Timeouts& t) {
  return {{"tcp", t.tcp_s()}, {"tcpfin", t.tcpfin_s()}, {"udp", t.udp_s()}};
}

// -A and -E take the same fields; -E changes only those given.
Result<Json> service_add(const Context& c, const Json& a) {
  auto s = service_spec_from_json(a);
  if (!s) return s.error();
  if (auto st = c.lb.add_service(s.value()); !st) return st.error();
  return Json::object();
}

Result<Json> service_edit(const Context& c, const Json& a) {
  auto s = service_spec_from_json(a);
  if (!s) return s.error();
  if (auto st = c.lb.edit_service(s.value()); !st) return st.error();
  return Json::object();
}

Result<Json> service_del(const Context& c, const Json& a) {
  auto k = service_key_from_json(a);
  if (!k) return k.error();
  if (auto st = c.lb.del_service(k.value()); !st) return st.error();
  return Json::object();
}

Result<Json> clear(const Context& c, const Json&) {
  c.lb.clear();
  return Json::object();
}

Result<Json> real_add(const Context& c, const Json& a) {
  auto k = service_key_from_json(a);
  if (!k) return k.error();
  auto r = real_spec_from_json(a, k.value());
  if (!r) return r.error();
  if (auto st = c.lb.add_real(k.value(), r.value()); !st) return st.error();
  return Json::object();
}

Result<Json> real_edit(const Context& c, const Json& a) {
  auto k = service_key_from_json(a);
  if (!k) return k.error();
  auto r = real_spec_from_json(a, k.value());
  if (!r) return r.error();
  if (auto st = c.lb.edit_real(k.value(), r.value()); !st) return st.error();
  return Json::object();
}

Result<Json> real_del(const Context& c, const Json& a) {
  auto k = service_key_from_json(a);
  if (!k) return k.error();
  auto rk = real_key_from_json(a, k.value());
  if (!rk) return rk.error();
  if (auto st = c.lb.del_real(k.value(), rk.value()); !st) return st.error();
  return Json::object();
}

Result<Json> list(const Context& c, const Json& a) {
  const LbRegistry& reg = c.lb.registry();
  auto only = optional_service_key(a);
  if (!only) return only.error();
  if (*only && !reg.find(**only)) return make_error("No such service");
  Json services = Json::array();
  for (const auto& s : reg.services()) {
    if (*only && s->key != **only) continue;
    StatsValues total = s->zero_removed;
    Json reals = Json::array();
    for (const auto& r : s->reals) {
      const StatsValues v = reg.stats(*r);
      total += v;
      reals.push_back({{"rip", r->key.ip.str()},
                       {"rport", r->key.port.host()},
                       {"fwd", std::string(fwd_mode_word(r->fwd))},
                       {"weight", r->weight},
                       {"upper", r->upper},
                       {"lower", r->lower},
                       {"active", reg.active(*r)},
                       {"inactive", reg.inactive(*r)},
                       {"stats", stats_json(v)},
                       {"rates", rates_json(r->rate)}});
    }
    services.push_back({{"proto", s->key.proto == Proto::tcp ? "tcp" : "udp"},
                        {"vip", s->key.vip.str()},
                        {"port", s->key.port.host()},
                        {"scheduler", scheduler_name(s->scheduler)},
                        {"persistence", s->persistence_s},
                        {"stats", stats_json(total)},
                        {"rates", rates_json(s->rate)},
                        {"laddrs", laddrs_json(*s)},
                        {"reals", reals}});
  }
  return Json{{"services", services}, {"timeouts", timeouts_json(reg.timeouts())}};
}

Result<Json> zero(const Context& c, const Json& a) {
  auto only = optional_service_key(a);
  if (!only) return only.error();
  if (auto st = c.lb.zero(*only); !st) return st.error();
  return Json::object();
}

Result<Json> timeouts_set(const Context& c, const Json& a) {
  auto ts = timeouts_from_json(a);
  if (!ts) return ts.error();
  if (auto st = c.lb.set_timeouts(ts->tcp_s, ts->tcpfin_s, ts->udp_s); !st) return st.error();
  return timeouts_json(c.lb.registry().timeouts());
}

Result<Json> laddr_add(const Context& c, const Json& a) {
  auto k = service_key_from_json(a);
  if (!k) return k.error();
  auto la = laddr_spec_from_json(a);
  if (!la) return la.error();
  if (auto st = c.lb.add_laddr(k.value(), la.value()); !st) return st.error();
  return Json::object();
}

Result<Json> laddr_del(const Context& c, const Json& a) {
  auto k = service_key_from_json(a);
  if (!k) return k.error();
  auto la = required_string_arg(a, "laddr");
  if (!la) return la.error();
  auto ip = IpAddr::parse(*la);
  if (!ip) return make_error("illegal local address '" + *la + "'");
  if (auto st = c.lb.del_laddr(k.value(), *ip); !st) return st.error();
  return Json::object();
}

Result<Json> laddr_get(const Context& c, const Json& a) {
  auto k = service_key_from_json(a);
  if (!k) return k.error();
  const Service* s = c.lb.registry().find(k.value());
  if (!s) return make_error("No such service");
  return Json{{"laddrs", laddrs_json(*s)}};
}

constexpr Command<Context> kCommands[] = {
    {"lb.service.add", service_add},
    {"lb.service.edit", service_edit},
    {"lb.service.del", service_del},
    {"lb.clear", clear},
    {"lb.real.add", real_add},
    {"lb.real.edit", real_edit},
    {"lb.real.del", real_del},
    {"lb.list", list},
    {"lb.zero", zero},
    {"lb.timeouts.set", timeouts_set},
    {"lb.laddr.add", laddr_add},
    {"lb.laddr.del", laddr_del},
    {"lb.laddr.get", laddr_get},
};

// The workers copy their connections a bounded step per loop turn (ConnListing::poll collects
// them); the reply waits for all of them. Completed from the main loop, after this request is
// marked deferred: a completion from in here would find no one waiting.
Result<std::optional<Json>> conns(const Context& c, const Json&, uint64_t token) {
  if (token == 0) return std::optional<Json>();  // needs the socket
  c.listing.request(token, monotonic_us());
  return std::optional<Json>();
}

}  // namespace

void register_lb_commands(CommandTable& table, const LbCommandContext& context) {
  add_commands(table, context, kCommands);
  table.add_deferrable("lb.conns", [context](const Json& args, uint64_t token) {
    return conns(context, args, token);
  });
}

}  // namespace vsgate
