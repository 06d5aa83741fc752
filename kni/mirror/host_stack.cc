#include "kni/mirror/host_stack.h"

#include <linux/rtnetlink.h>

#include <algorithm>
#include <type_traits>

namespace vsgate {

void HostStackMirror::track(int ifindex, uint16_t port_id, std::string ifname) {
  auto it = tracked_.find(ifindex);
  if (it == tracked_.end()) {
    tracked_.emplace(ifindex, Interface{port_id, std::move(ifname)});
    return;
  }
  it->second.ifname = std::move(ifname);
  if (it->second.port_id == port_id) return;
  // Re-tracked under another port: what we know stays true, only the port it maps to changes.
  it->second.port_id = port_id;
  bool changed = false;
  for (auto& [ip, n] : neighbours_) {
    if (n.ifindex != ifindex) continue;
    n.port_id = port_id;
    changed = true;
  }
  for (auto& [key, port] : addresses_) {
    if (key.first != ifindex) continue;
    port = port_id;
    changed = true;
  }
  for (auto& [key, r] : routes_) {
    if (r.ifindex != ifindex) continue;
    r.port_id = port_id;
    changed = true;
  }
  bump(changed);
}

void HostStackMirror::untrack(int ifindex) {
  if (tracked_.erase(ifindex) == 0) return;
  size_t removed =
      std::erase_if(neighbours_, [&](const auto& e) { return e.second.ifindex == ifindex; });
  removed += std::erase_if(addresses_, [&](const auto& e) { return e.first.first == ifindex; });
  removed += std::erase_if(routes_, [&](const auto& e) { return e.second.ifindex == ifindex; });
  bump(removed > 0);
}

std::optional<int> HostStackMirror::tracked_ifindex(std::string_view ifname) const {
  for (const auto& [ifindex, iface] : tracked_)
    if (iface.ifname == ifname) return ifindex;
  return std::nullopt;
}

bool HostStackMirror::apply(const HostEvent& event) {
  return bump(std::visit(
      [this](const auto& ev) {
        using T = std::decay_t<decltype(ev)>;
        if constexpr (std::is_same_v<T, NeighEvent>)
          return apply_neigh(ev);
        else if constexpr (std::is_same_v<T, AddrEvent>)
          return apply_addr(ev);
        else
          return apply_route(ev);
      },
      event));
}

bool HostStackMirror::apply_neigh(const NeighEvent& ev) {
  auto iface = tracked_.find(ev.ifindex);
  if (iface == tracked_.end()) return false;
  auto it = neighbours_.find(ev.ip);
  if (ev.deleted || !ev.usable() || !ev.mac || ev.mac->is_zero()) {
    // Keyed by IP: an entry learnt on another interface is not this event's to remove.
    if (it == neighbours_.end() || it->second.ifindex != ev.ifindex) return false;
    neighbours_.erase(it);
    return true;
  }
  NeighValue value{*ev.mac, iface->second.port_id, ev.ifindex};
  if (it != neighbours_.end() && it->second == value) return false;
  neighbours_[ev.ip] = value;
  return true;
}

bool HostStackMirror::apply_addr(const AddrEvent& ev) {
  auto iface = tracked_.find(ev.ifindex);
  if (iface == tracked_.end()) return false;
  AddrKey key{ev.ifindex, ev.prefix};
  if (ev.deleted) return addresses_.erase(key) > 0;
  auto [it, inserted] = addresses_.try_emplace(key, iface->second.port_id);
  if (inserted) return true;
  if (it->second == iface->second.port_id) return false;
  it->second = iface->second.port_id;
  return true;
}

std::optional<int> HostStackMirror::route_ifindex(const RouteEvent& ev) const {
  // RTA_GATEWAY has the route's family; anything else (RTA_VIA, RFC 5549) is left to the host.
  if (ev.gateway && ev.gateway->family != ev.dst.addr.family) return std::nullopt;
  if (ev.oif) {
    if (tracked(*ev.oif)) return *ev.oif;
    return std::nullopt;
  }
  if (!ev.gateway || ev.gateway->is_zero()) return std::nullopt;
  // A host prefix (/32, /128) holds no gateway; contains() is false across families.
  for (const auto& [key, port] : addresses_)
    if (size_t{key.second.len} < key.second.addr.size() * 8 && key.second.contains(*ev.gateway))
      return key.first;
  return std::nullopt;
}

bool HostStackMirror::apply_route(const RouteEvent& ev) {
  if (ev.table != RT_TABLE_MAIN) return false;
  RouteKey key{ev.dst.network(), ev.priority};
  std::optional<int> ifindex;
  if (!ev.deleted && ev.type == RTN_UNICAST) ifindex = route_ifindex(ev);
  if (!ifindex) {
    // A deletion, or a route the data plane cannot use that may have replaced one it could.
    return routes_.erase(key) > 0;
  }
  auto iface = tracked_.find(*ifindex);  // route_ifindex() only returns tracked interfaces
  if (iface == tracked_.end()) return false;
  IpAddr no_gateway;  // the zero address of dst's family: directly connected
  no_gateway.family = ev.dst.addr.family;
  RouteValue value{ev.gateway.value_or(no_gateway), iface->second.port_id, *ifindex};
  auto it = routes_.find(key);
  if (it != routes_.end() && it->second == value) return false;
  routes_[key] = value;
  return true;
}

bool HostStackMirror::resync_neighbours(
    const std::vector<ProcArpEntry>& entries,
    const std::function<std::optional<int>(const std::string&)>& ifindex_of) {
  std::map<IpAddr, NeighValue> want;
  for (const auto& e : entries) {
    if (!(e.flags & kArpFlagComplete) || e.mac.is_zero()) continue;
    std::optional<int> ifindex = ifindex_of ? ifindex_of(e.device) : tracked_ifindex(e.device);
    if (!ifindex) continue;
    auto iface = tracked_.find(*ifindex);
    if (iface == tracked_.end()) continue;
    want[e.ip] = NeighValue{e.mac, iface->second.port_id, *ifindex};
  }
  if (want == neighbours_) return false;
  neighbours_ = std::move(want);
  return bump(true);
}

bool HostStackMirror::resync_neighbours(const std::vector<ProcArpEntry>& entries) {
  return resync_neighbours(entries, nullptr);
}

bool HostStackMirror::reset_from_dump(const std::vector<HostEvent>& dump) {
  HostStackMirror fresh;
  fresh.tracked_ = tracked_;
  // Addresses first: a route without an oif is placed through the prefix holding its gateway.
  for (const auto& ev : dump)
    if (const auto* a = std::get_if<AddrEvent>(&ev); a && !a->deleted) fresh.apply_addr(*a);
  for (const auto& ev : dump)
    if (const auto* n = std::get_if<NeighEvent>(&ev); n && !n->deleted) fresh.apply_neigh(*n);
  for (const auto& ev : dump)
    if (const auto* r = std::get_if<RouteEvent>(&ev); r && !r->deleted) fresh.apply_route(*r);
  if (fresh.neighbours_ == neighbours_ && fresh.addresses_ == addresses_ &&
      fresh.routes_ == routes_)
    return false;
  neighbours_ = std::move(fresh.neighbours_);
  addresses_ = std::move(fresh.addresses_);
  routes_ = std::move(fresh.routes_);
  return bump(true);
}

std::vector<HostNeighbour> HostStackMirror::neighbours() const {
  std::vector<HostNeighbour> out;
  out.reserve(neighbours_.size());
  for (const auto& [ip, n] : neighbours_) out.push_back({ip, n.mac, n.port_id, n.ifindex});
  return out;  // map order is IP order, the first member
}

std::vector<HostAddress> HostStackMirror::addresses() const {
  std::vector<HostAddress> out;
  out.reserve(addresses_.size());
  for (const auto& [key, port] : addresses_) out.push_back({key.second, port, key.first});
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<HostRoute> HostStackMirror::routes() const {
  std::vector<HostRoute> out;
  // Keys sort by dst, then metric: the first entry of each dst is the one the kernel uses.
  for (const auto& [key, r] : routes_) {
    if (!out.empty() && out.back().dst == key.dst) continue;
    out.push_back({key.dst, r.gateway, r.port_id, r.ifindex, key.priority});
  }
  return out;
}

Status resync_from_kernel(RtnlSocket& events, HostStackMirror& mirror) {
  auto apply = [&mirror](const HostEvent& ev) { mirror.apply(ev); };
  events.drain(apply);
  events.clear_resync();
  std::vector<HostEvent> dump;
  Status st = RtnlSocket::dump_all([&dump](const HostEvent& ev) { dump.push_back(ev); });
  if (!st) {
    events.request_resync();
    return st;
  }
  mirror.reset_from_dump(dump);
  events.drain(apply);
  return Ok{};
}

}  // namespace vsgate
