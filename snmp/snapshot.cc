#include "snapshot.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace vsgate::snmp {
namespace {

// Reads fields out of the daemon's replies without exceptions: the first problem is kept and
// every later read returns a default.
class Fields {
 public:
  const Json* member(const Json& o, const char* key, const char* what) {
    if (!error_.empty()) return nullptr;
    if (!o.is_object()) return fail(std::string(what) + ": not an object");
    auto it = o.find(key);
    if (it == o.end()) return fail(std::string(what) + ": no '" + key + "'");
    return &*it;
  }
  uint64_t u64(const Json& o, const char* key, const char* what) {
    const Json* v = member(o, key, what);
    if (!v) return 0;
    if (v->is_number_integer() && !v->is_number_unsigned()) {
      // A gauge that is transiently below zero (active/inactive) reads as 0.
      const int64_t i = v->get<int64_t>();
      return i < 0 ? 0 : static_cast<uint64_t>(i);
    }
    if (!v->is_number_unsigned()) {
      fail(std::string(what) + ": '" + key + "' is not an unsigned integer");
      return 0;
    }
    return v->get<uint64_t>();
  }
  uint32_t u32(const Json& o, const char* key, const char* what) {
    const uint64_t v = u64(o, key, what);
    if (v > UINT32_MAX) fail(std::string(what) + ": '" + key + "' is out of range");
    return static_cast<uint32_t>(v);
  }
  std::string str(const Json& o, const char* key, const char* what) {
    const Json* v = member(o, key, what);
    if (!v) return {};
    if (!v->is_string()) {
      fail(std::string(what) + ": '" + key + "' is not a string");
      return {};
    }
    return v->get<std::string>();
  }
  bool boolean(const Json& o, const char* key, const char* what) {
    const Json* v = member(o, key, what);
    if (!v) return false;
    if (!v->is_boolean()) {
      fail(std::string(what) + ": '" + key + "' is not a boolean");
      return false;
    }
    return v->get<bool>();
  }
  const Json& array(const Json& o, const char* key, const char* what) {
    static const Json kEmpty = Json::array();
    const Json* v = member(o, key, what);
    if (!v) return kEmpty;
    if (!v->is_array()) {
      fail(std::string(what) + ": '" + key + "' is not an array");
      return kEmpty;
    }
    return *v;
  }
  // An IPv4 or IPv6 address, as the daemon prints it.
  IpAddr ip(const Json& o, const char* key, const char* what) {
    const std::string s = str(o, key, what);
    if (!error_.empty()) return {};
    auto a = IpAddr::parse(s);
    if (!a) {
      fail(std::string(what) + ": '" + key + "' is not an IP address: " + s);
      return {};
    }
    return *a;
  }
  std::array<uint8_t, 6> mac(const Json& o, const char* key, const char* what) {
    std::array<uint8_t, 6> out{};
    const std::string s = str(o, key, what);
    if (!error_.empty()) return out;
    unsigned b[6];
    char extra;
    if (std::sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
                    &b[5], &extra) != 6) {
      fail(std::string(what) + ": '" + key + "' is not a MAC address: " + s);
      return out;
    }
    for (int i = 0; i < 6; ++i) out[i] = static_cast<uint8_t>(b[i]);
    return out;
  }
  Stats stats(const Json& o, const char* what) {
    Stats s;
    const Json* j = member(o, "stats", what);
    if (!j) return s;
    s.conns = u64(*j, "conns", what);
    s.inpkts = u64(*j, "inpkts", what);
    s.outpkts = u64(*j, "outpkts", what);
    s.inbytes = u64(*j, "inbytes", what);
    s.outbytes = u64(*j, "outbytes", what);
    return s;
  }
  Rates rates(const Json& o, const char* what) {
    Rates r;
    const Json* j = member(o, "rates", what);
    if (!j) return r;
    r.cps = u64(*j, "cps", what);
    r.inpps = u64(*j, "inpps", what);
    r.outpps = u64(*j, "outpps", what);
    r.inbps = u64(*j, "inbps", what);
    r.outbps = u64(*j, "outbps", what);
    return r;
  }
  const Json* fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return nullptr;
  }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

}  // namespace

uint64_t Snapshot::total_conns() const {
  uint64_t n = 0;
  for (const auto& s : services) n += s.stats.conns;
  return n;
}

uint64_t Snapshot::current_conns() const {
  uint64_t n = 0;
  for (const auto& s : services)
    for (const auto& r : s.reals) n += r.active + r.inactive;
  return n;
}

Result<Snapshot> parse_snapshot(const DaemonReplies& r) {
  Fields f;
  Snapshot s;
  s.reachable = true;
  s.version = f.str(r.status, "version", "status");
  s.uptime_ms = f.u64(r.status, "uptime_ms", "status");
  s.workers = f.u32(r.status, "workers", "status");
  s.started_us = f.u64(r.status, "started_us", "status");
  s.stats_reset_us = f.u64(r.status, "stats_reset_us", "status");

  // port.show and port.stats both list every port; joined on the port id.
  std::map<uint32_t, PortRow> ports;
  for (const Json& p : f.array(r.port_show, "ports", "port.show")) {
    const uint32_t id = f.u32(p, "id", "port.show");
    if (id > 65535) f.fail("port.show: port id out of range");
    PortRow& row = ports[id];
    row.index = id + 1;
    row.name = f.str(p, "name", "port.show");
    row.driver = f.str(p, "driver", "port.show");
    row.mac = f.mac(p, "mac", "port.show");
    row.link_up = f.boolean(p, "link_up", "port.show");
    row.speed_mbps = f.u32(p, "speed_mbps", "port.show");
  }
  for (const Json& p : f.array(r.port_stats, "ports", "port.stats")) {
    auto it = ports.find(f.u32(p, "id", "port.stats"));
    if (it == ports.end()) continue;  // appeared in between: not in port.show
    PortRow& row = it->second;
    row.ipackets = f.u64(p, "ipackets", "port.stats");
    row.opackets = f.u64(p, "opackets", "port.stats");
    row.ibytes = f.u64(p, "ibytes", "port.stats");
    row.obytes = f.u64(p, "obytes", "port.stats");
    row.imissed = f.u64(p, "imissed", "port.stats");
    row.ierrors = f.u64(p, "ierrors", "port.stats");
    row.oerrors = f.u64(p, "oerrors", "port.stats");
    row.rx_nombuf = f.u64(p, "rx_nombuf", "port.stats");
  }
  for (auto& [id, row] : ports) s.ports.push_back(std::move(row));

  for (const Json& l : f.array(r.lcore_stats, "lcores", "lcore.stats")) {
    LcoreRow row;
    const uint32_t worker = f.u32(l, "worker", "lcore.stats");
    if (worker >= 1024) f.fail("lcore.stats: worker number out of range");
    row.index = worker + 1;
    row.lcore = f.u32(l, "lcore", "lcore.stats");
    row.rx_iterations = f.u64(l, "rx_iterations", "lcore.stats");
    row.rx_packets = f.u64(l, "rx_packets", "lcore.stats");
    row.tx_packets = f.u64(l, "tx_packets", "lcore.stats");
    row.tx_drops = f.u64(l, "tx_drops", "lcore.stats");
    row.punted = f.u64(l, "punted", "lcore.stats");
    row.punt_drops = f.u64(l, "punt_drops", "lcore.stats");
    row.injected = f.u64(l, "injected", "lcore.stats");
    row.inject_drops = f.u64(l, "inject_drops", "lcore.stats");
    row.forwarded = f.u64(l, "forwarded", "lcore.stats");
    row.dropped = f.u64(l, "dropped_total", "lcore.stats");
    s.lcores.push_back(row);
  }
  std::sort(s.lcores.begin(), s.lcores.end(),
            [](const LcoreRow& a, const LcoreRow& b) { return a.index < b.index; });

  for (const Json& j : f.array(r.lb_list, "services", "lb.list")) {
    ServiceRow svc;
    const std::string proto = f.str(j, "proto", "lb.list");
    if (proto == "udp")
      svc.proto = Protocol::udp;
    else if (proto != "tcp" && f.error().empty())
      f.fail("lb.list: unknown proto '" + proto + "'");
    svc.addr = f.ip(j, "vip", "lb.list");
    const uint32_t port = f.u32(j, "port", "lb.list");
    if (port > 65535) f.fail("lb.list: port out of range");
    svc.port = static_cast<uint16_t>(port);
    svc.scheduler = f.str(j, "scheduler", "lb.list");
    svc.persistence = f.u32(j, "persistence", "lb.list");
    svc.stats = f.stats(j, "lb.list");
    svc.rates = f.rates(j, "lb.list");
    for (const Json& rj : f.array(j, "reals", "lb.list")) {
      RealRow rr;
      rr.addr = f.ip(rj, "rip", "lb.list real");
      const uint32_t rport = f.u32(rj, "rport", "lb.list real");
      if (rport > 65535) f.fail("lb.list real: rport out of range");
      rr.port = static_cast<uint16_t>(rport);
      const std::string fwd = f.str(rj, "fwd", "lb.list real");
      if (fwd == "fullnat")
        rr.fwd = Fwd::fullnat;
      else if (fwd == "nat")
        rr.fwd = Fwd::nat;
      else if (fwd == "dr")
        rr.fwd = Fwd::dr;
      else if (fwd == "tunnel")
        rr.fwd = Fwd::tunnel;
      else if (f.error().empty())
        f.fail("lb.list real: unknown fwd '" + fwd + "'");
      rr.weight = f.u32(rj, "weight", "lb.list real");
      rr.upper = f.u32(rj, "upper", "lb.list real");
      rr.lower = f.u32(rj, "lower", "lb.list real");
      rr.active = f.u64(rj, "active", "lb.list real");
      rr.inactive = f.u64(rj, "inactive", "lb.list real");
      rr.stats = f.stats(rj, "lb.list real");
      rr.rates = f.rates(rj, "lb.list real");
      svc.reals.push_back(rr);
    }
    s.services.push_back(std::move(svc));
  }
  if (!f.error().empty()) return make_error("unexpected reply from vsgated: " + f.error());
  return s;
}

void RowIndexes::assign(Snapshot& s) {
  if (!s.reachable) return;
  std::map<ServiceKey, ServiceEntry> kept;
  for (auto& svc : s.services) {
    const ServiceKey key{static_cast<int>(svc.proto), svc.addr, svc.port};
    auto it = services_.find(key);
    ServiceEntry entry;
    if (it != services_.end()) {
      entry.index = it->second.index;
      entry.next_real = it->second.next_real;
    } else {
      entry.index = next_service_++;
    }
    svc.index = entry.index;
    for (auto& r : svc.reals) {
      const RealKey rkey{r.addr, r.port};
      uint32_t idx = 0;
      if (it != services_.end()) {
        auto rit = it->second.reals.find(rkey);
        if (rit != it->second.reals.end()) idx = rit->second;
      }
      if (!idx) idx = entry.next_real++;
      r.index = idx;
      entry.reals[rkey] = idx;
    }
    std::sort(svc.reals.begin(), svc.reals.end(),
              [](const RealRow& a, const RealRow& b) { return a.index < b.index; });
    kept[key] = std::move(entry);
  }
  services_ = std::move(kept);
  std::sort(s.services.begin(), s.services.end(),
            [](const ServiceRow& a, const ServiceRow& b) { return a.index < b.index; });
}

void Discontinuity::observe(uint32_t now_ticks) {
  if (now_ticks < last_now_) ticks_ = 0;  // the agent's clock restarted (snmpd restart)
  last_now_ = now_ticks;
}

uint32_t Discontinuity::ticks(uint32_t now_ticks) {
  observe(now_ticks);
  return ticks_;
}

void Discontinuity::update(const Snapshot& s, uint32_t now_ticks) {
  observe(now_ticks);
  if (!s.reachable) {
    was_reachable_ = false;
    return;
  }
  if (!was_reachable_ || s.started_us != started_us_ || s.stats_reset_us != stats_reset_us_)
    ticks_ = now_ticks;
  was_reachable_ = true;
  started_us_ = s.started_us;
  stats_reset_us_ = s.stats_reset_us;
}

}  // namespace vsgate::snmp
