#include "app/commands/lcore_commands.h"

#include "app/commands/command_module.h"
#include "app/drop_reasons.h"

namespace vsgate {
namespace {

using Context = LcoreCommandContext;

// Load balancer of one worker: connection table occupancy and local-port pools. Read from
// single-writer counters and constant sizes only, never from the worker's tables.
Json worker_lb_json(const Context& c, const Worker& w) {
  const LbWorker* l = w.lb;
  if (!l) return Json::object();
  int64_t used = 0;
  uint64_t size = 0;
  for (const LocalAddress* la : *c.lb.laddr_slots())
    if (la) {
      used += la->used[w.index].get();
      size += la->pools[w.index]->size();
    }
  return {
      {"conns", l->counters.conns.get()},
      {"conn_capacity", l->conns().capacity()},
      {"conns_created", l->counters.created.get()},
      {"lport_used", used},
      {"lport_free", static_cast<int64_t>(size) - used},
      {"lport_misses", w.stats.dropped[static_cast<size_t>(drop_id(LbDrop::no_local_port))].get()},
      {"icmp_translated", l->counters.icmp_translated.get()},
      {"frag_needed_sent", l->counters.frag_needed_sent.get()}};
}

Json worker_json(const Context& c, const Worker& w) {
  const WorkerStats& s = w.stats;
  Json queues = Json::array();
  for (size_t q = 0; q < w.rx_queues.size(); ++q)
    queues.push_back({{"port", c.naming.port(w.rx_queues[q].port)},
                      {"queue", w.rx_queues[q].queue},
                      {"packets", s.rx_queue_packets[q].get()}});
  Json dropped = Json::object();
  for (size_t r = 0; r < kDropReasonNames.size(); ++r)
    dropped[std::string(kDropReasonNames[r])] = s.dropped[r].get();
  const uint64_t rx = s.rx_packets.get(), bursts = s.rx_bursts.get();
  return {{"lcore", w.lcore_id},
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
          {"emitted", s.emitted.get()},
          {"emit_no_mbuf", s.emit_no_mbuf.get()},
          {"redirected", s.redirected.get()},
          {"redirect_drops", s.redirect_drops.get()},
          {"redirect_in", s.redirect_in.get()},
          {"dropped", dropped},
          {"dropped_total", s.dropped_total()},
          {"lb", worker_lb_json(c, w)}};
}

Result<Json> lcore_stats(const Context& c, const Json&) {
  Json lcores = Json::array();
  for (const auto& w : c.workers) lcores.push_back(worker_json(c, *w));
  std::vector<const WorkerStats*> all;
  for (const auto& w : c.workers) all.push_back(&w->stats);
  const WorkerTotals t = sum_worker_stats(all);
  Json total_dropped = Json::object();
  for (size_t r = 0; r < kDropReasonNames.size(); ++r)
    total_dropped[std::string(kDropReasonNames[r])] = t.dropped[r];
  Json total{{"rx_iterations", t.rx_iterations},
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
             {"emitted", t.emitted},
             {"emit_no_mbuf", t.emit_no_mbuf},
             {"redirected", t.redirected},
             {"redirect_drops", t.redirect_drops},
             {"redirect_in", t.redirect_in},
             {"dropped", total_dropped},
             {"dropped_total", t.dropped_total()}};
  const ExceptionPathStats& e = c.exception_path.stats();
  return Json{{"lcores", lcores},
              {"total", total},
              {"exception_path",
               {{"to_host", e.to_host.get()},
                {"to_host_drops", e.to_host_drops.get()},
                {"from_host", e.from_host.get()},
                {"from_host_drops", e.from_host_drops.get()}}}};
}

constexpr Command<Context> kCommands[] = {
    {"lcore.stats", lcore_stats},
};

}  // namespace

void register_lcore_commands(CommandTable& table, const LcoreCommandContext& context) {
  add_commands(table, context, kCommands);
}

}  // namespace vsgate
