#include "app/commands/port_commands.h"

#include <algorithm>
#include <iterator>

#include "app/commands/command_module.h"

namespace vsgate {
namespace {

using Context = PortCommandContext;

std::string mac_str(const rte_ether_addr& a) {
  MacAddr m;
  std::copy(std::begin(a.addr_bytes), std::end(a.addr_bytes), m.bytes.begin());
  return m.str();
}

Result<Json> port_show(const Context& c, const Json&) {
  Json ports = Json::array();
  for (size_t i = 0; i < c.ports.size(); ++i) {
    const auto& p = *c.ports[i];
    const KniInterface* kni = c.exception_path.kni_of(p.id());
    const LinkState& l = c.links[i];
    int ifindex = 0;
    if (kni)
      if (auto idx = c.mirror.tracked_ifindex(kni->ifname())) ifindex = *idx;
    ports.push_back({{"id", p.id()},
                     {"name", p.name()},
                     {"device", p.config().device},
                     {"driver", p.driver()},
                     {"mac", mac_str(p.mac())},
                     {"mtu", p.config().mtu},
                     {"link_up", l.up},
                     {"speed_mbps", l.speed_mbps},
                     {"duplex", l.full_duplex ? "full" : "half"},
                     {"rx_queues", p.rx_queues()},
                     {"tx_queues", p.tx_queues()},
                     {"kni", kni ? kni->ifname() : ""},
                     {"kni_backend", kni ? kni->backend() : ""},
                     {"kni_ifindex", ifindex}});
  }
  return Json{{"ports", ports}};
}

Result<Json> port_stats(const Context& c, const Json& args) {
  auto name = optional_string_arg(args, "name");
  if (!name) return name.error();
  Json out = Json::array();
  for (const auto& p : c.ports) {
    if (name.value() && *name.value() != p->name()) continue;
    const PortStats s = p->stats();
    Json x = Json::object();
    for (const auto& [k, v] : s.xstats) x[k] = v;
    out.push_back({{"id", p->id()},
                   {"name", p->name()},
                   {"ipackets", s.ipackets},
                   {"opackets", s.opackets},
                   {"ibytes", s.ibytes},
                   {"obytes", s.obytes},
                   {"imissed", s.imissed},
                   {"ierrors", s.ierrors},
                   {"oerrors", s.oerrors},
                   {"rx_nombuf", s.rx_nombuf},
                   {"nic_drop_ratio", s.nic_drop_ratio()},
                   {"xstats", x}});
  }
  if (name.value() && out.empty()) return make_error("no such port: " + *name.value());
  return Json{{"ports", out}};
}

constexpr Command<Context> kCommands[] = {
    {"port.show", port_show},
    {"port.stats", port_stats},
};

}  // namespace

void register_port_commands(CommandTable& table, const PortCommandContext& context) {
  add_commands(table, context, kCommands);
}

}  // namespace vsgate
