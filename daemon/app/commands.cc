// Control-socket commands of vsgated (schemas in docs/CONTROL_PROTOCOL.md).
#include <rte_cycles.h>
#include <rte_version.h>
#include <unistd.h>

#include <chrono>

#include "app/app.h"
#include "lb/lb_worker.h"

namespace vsgate {
namespace {

std::string mac_str(const rte_ether_addr& a) {
  MacAddr m;
  std::copy(std::begin(a.addr_bytes), std::end(a.addr_bytes), m.bytes.begin());
  return m.str();
}

}  // namespace

void App::register_commands() {
  auto& c = control_->commands();

  c.add("version", [](const Json&) -> Result<Json> {
    return Json{{"version", VSGATE_VERSION}, {"dpdk", rte_version()}};
  });

  // What a monitoring client (vsgate-snmp) needs besides the tables: who is running, since
  // when, and since when the counters count (a restart or lb.zero changes stats_reset_us).
  c.add("status", [this](const Json&) -> Result<Json> {
    const auto mono_us =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::steady_clock::now().time_since_epoch())
                                  .count());
    return Json{{"version", VSGATE_VERSION},
                {"dpdk", rte_version()},
                {"pid", static_cast<int64_t>(getpid())},
                {"started_us", started_unix_us_},
                {"uptime_ms", (mono_us - start_us_) / 1000},
                {"stats_reset_us", stats_reset_unix_us_},
                {"workers", workers_.size()},
                {"ports", ports_.size()}};
  });

  c.add("port.show", [this](const Json&) -> Result<Json> {
    Json ports = Json::array();
    for (size_t i = 0; i < ports_.size(); ++i) {
      const auto& p = *ports_[i];
      const KniInterface* kni = exception_path_->kni_of(p.id());
      const LinkState& l = links_[i];
      int ifindex = 0;
      if (kni)
        if (auto idx = mirror_.tracked_ifindex(kni->ifname())) ifindex = *idx;
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
  });

  c.add("port.stats", [this](const Json& args) -> Result<Json> {
    auto name = optional_string_arg(args, "name");
    if (!name) return name.error();
    Json out = Json::array();
    for (const auto& p : ports_) {
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
  });

  c.add("lcore.stats", [this](const Json&) -> Result<Json> {
    Json lcores = Json::array();
    for (const auto& wp : workers_) {
      const Worker& w = *wp;
      const WorkerStats& s = w.stats;
      Json queues = Json::array();
      for (size_t q = 0; q < w.rx_queues.size(); ++q)
        queues.push_back({{"port", port_name(w.rx_queues[q].port)},
                          {"queue", w.rx_queues[q].queue},
                          {"packets", s.rx_queue_packets[q].get()}});
      Json dropped = Json::object();
      for (size_t r = 0; r < kDropReasonNames.size(); ++r)
        dropped[std::string(kDropReasonNames[r])] = s.dropped[r].get();
      const uint64_t rx = s.rx_packets.get(), bursts = s.rx_bursts.get();
      // Load balancer of this worker: connection table occupancy and local-port pools. Read
      // from single-writer counters and constant sizes only, never from the worker's tables.
      Json lb = Json::object();
      if (const LbWorker* l = w.lb) {
        int64_t used = 0;
        uint64_t size = 0;
        for (const LocalAddress* la : *lb_->laddr_slots())
          if (la) {
            used += la->used[w.index].get();
            size += la->pools[w.index]->size();
          }
        lb = {{"conns", l->counters.conns.get()},
              {"conn_capacity", l->conns().capacity()},
              {"conns_created", l->counters.created.get()},
              {"lport_used", used},
              {"lport_free", static_cast<int64_t>(size) - used},
              {"lport_misses", s.dropped[static_cast<size_t>(DropReason::lb_no_local_port)].get()},
              {"icmp_translated", l->counters.icmp_translated.get()},
              {"frag_needed_sent", l->counters.frag_needed_sent.get()}};
      }
      lcores.push_back({{"lcore", w.lcore_id},
                        {"worker", w.index},
                        {"rx_iterations", s.rx_iterations.get()},
                        {"rx_packets", rx},
                        {"rx_bursts", bursts},
                        {"avg_rx_burst", bursts ? static_cast<double>(rx) / bursts : 0.0},
                        {"rx_queues", queues},
                        {"tx_packets", s.tx_packets.get()},
                        {"tx_drops", s.tx_drops.get()},
                        {"punted", s.punted.get()},
                        {"punt_drops", s.punt_drops.get()},
                        {"injected", s.injected.get()},
                        {"inject_drops", s.inject_drops.get()},
                        {"forwarded", s.forwarded.get()},
                        {"dropped", dropped},
                        {"dropped_total", s.dropped_total()},
                        {"lb", lb}});
    }
    std::vector<const WorkerStats*> all;
    for (const auto& w : workers_) all.push_back(&w->stats);
    const WorkerTotals t = sum_worker_stats(all);
    Json total_dropped = Json::object();
    for (size_t r = 0; r < kDropReasonNames.size(); ++r)
      total_dropped[std::string(kDropReasonNames[r])] = t.dropped[r];
    Json total{
        {"rx_iterations", t.rx_iterations},
        {"rx_packets", t.rx_packets},
        {"rx_bursts", t.rx_bursts},
        {"avg_rx_burst", t.rx_bursts ? static_cast<double>(t.rx_packets) / t.rx_bursts : 0.0},
        {"tx_packets", t.tx_packets},
        {"tx_drops", t.tx_drops},
        {"punted", t.punted},
        {"punt_drops", t.punt_drops},
        {"injected", t.injected},
        {"inject_drops", t.inject_drops},
        {"forwarded", t.forwarded},
        {"dropped", total_dropped},
        {"dropped_total", t.dropped_total()}};
    const ExceptionPathStats& e = exception_path_->stats();
    return Json{{"lcores", lcores},
                {"total", total},
                {"exception_path",
                 {{"to_host", e.to_host.get()},
                  {"to_host_drops", e.to_host_drops.get()},
                  {"from_host", e.from_host.get()},
                  {"from_host_drops", e.from_host_drops.get()}}}};
  });

  c.add("neigh.show", [this](const Json&) -> Result<Json> {
    Json out = Json::array();
    for (const auto& n : mirror_.neighbours())
      out.push_back({{"ip", n.ip.str()},
                     {"mac", n.mac.str()},
                     {"port", port_name(n.port_id)},
                     {"kni", kni_name(n.port_id)}});
    return Json{{"neighbours", out}};
  });

  c.add("route.show", [this](const Json&) -> Result<Json> {
    Json out = Json::array();
    for (const auto& r : mirror_.routes())
      out.push_back({{"prefix", r.dst.str()},
                     {"gateway", r.gateway.is_zero() ? "" : r.gateway.str()},
                     {"port", port_name(r.port_id)},
                     {"kni", kni_name(r.port_id)}});
    return Json{{"routes", out}};
  });

  c.add("addr.show", [this](const Json&) -> Result<Json> {
    Json out = Json::array();
    for (const auto& a : mirror_.addresses())
      out.push_back({{"address", a.prefix.str()},
                     {"port", port_name(a.port_id)},
                     {"kni", kni_name(a.port_id)}});
    return Json{{"addresses", out}};
  });

  // The debug.* commands exist only with [global] debug_commands = yes.
  if (!config_.global.debug_commands) return;

  // Debug: make a worker stop looping for a while, to test that the systemd watchdog fires.
  c.add("debug.stall_worker", [this](const Json& args) -> Result<Json> {
    auto worker = optional_uint_arg(args, "worker");
    if (!worker) return worker.error();
    auto seconds = optional_uint_arg(args, "seconds");
    if (!seconds) return seconds.error();
    const uint64_t idx = worker.value().value_or(0);
    const uint64_t secs = seconds.value().value_or(10);
    if (idx >= workers_.size()) return make_error("no such worker: " + std::to_string(idx));
    if (secs == 0 || secs > 3600) return make_error("seconds must be 1..3600");
    workers_[idx]->stall_until_tsc.store(rte_get_tsc_cycles() + secs * rte_get_tsc_hz());
    return Json{{"worker", idx}, {"seconds", secs}};
  });

  // Debug: stop moving exception-path packets for a while, as if the host stack stopped
  // reading: punt rings fill up, drops are counted, workers keep forwarding.
  c.add("debug.pause_exception_path", [this](const Json& args) -> Result<Json> {
    auto seconds = optional_uint_arg(args, "seconds");
    if (!seconds) return seconds.error();
    const uint64_t secs = seconds.value().value_or(5);
    if (secs == 0 || secs > 3600) return make_error("seconds must be 1..3600");
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now().time_since_epoch());
    exception_path_paused_until_us_ = static_cast<uint64_t>(now.count()) + secs * 1000000;
    return Json{{"seconds", secs}};
  });
}

}  // namespace vsgate
