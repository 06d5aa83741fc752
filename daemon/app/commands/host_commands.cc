#include "app/commands/host_commands.h"

#include "app/clock.h"
#include "app/commands/command_module.h"

namespace vsgate {

Json fib_table_json(const FibTableStatus& t, uint64_t now_mono_us) {
  return Json{{"state", t.ok ? "ok" : "stale"},
              {"installed", t.installed},
              {"wanted", t.wanted},
              {"stale_since_us", t.stale_since_us},
              {"failed_builds", t.failed_builds},
              {"reason", t.reason},
              {"retry_in_ms", t.ok || t.retry_at_us <= now_mono_us
                                  ? uint64_t{0}
                                  : (t.retry_at_us - now_mono_us + 999) / 1000}};
}

namespace {

using Context = HostCommandContext;

Result<Json> neigh_show(const Context& c, const Json&) {
  Json out = Json::array();
  for (const auto& n : c.mirror.neighbours())
    out.push_back({{"ip", n.ip.str()},
                   {"mac", n.mac.str()},
                   {"port", c.naming.port(n.port_id)},
                   {"kni", c.naming.kni(n.port_id)}});
  Json result{{"neighbours", out}};
  if (c.fib) result["fib"] = fib_table_json(c.fib->neighbours, monotonic_us());
  return result;
}

Result<Json> route_show(const Context& c, const Json&) {
  Json out = Json::array();
  for (const auto& r : c.mirror.routes())
    out.push_back({{"prefix", r.dst.str()},
                   {"gateway", r.gateway.is_zero() ? "" : r.gateway.str()},
                   {"port", c.naming.port(r.port_id)},
                   {"kni", c.naming.kni(r.port_id)}});
  Json result{{"routes", out}};
  if (c.fib) result["fib"] = fib_table_json(c.fib->routes, monotonic_us());
  return result;
}

Result<Json> addr_show(const Context& c, const Json&) {
  Json out = Json::array();
  for (const auto& a : c.mirror.addresses())
    out.push_back({{"address", a.prefix.str()},
                   {"port", c.naming.port(a.port_id)},
                   {"kni", c.naming.kni(a.port_id)}});
  return Json{{"addresses", out}};
}

constexpr Command<Context> kCommands[] = {
    {"neigh.show", neigh_show},
    {"route.show", route_show},
    {"addr.show", addr_show},
};

}  // namespace

void register_host_commands(CommandTable& table, const HostCommandContext& context) {
  add_commands(table, context, kCommands);
}

}  // namespace vsgate
