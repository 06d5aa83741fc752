// vsgate.conf (daemon/config/config.h load_config, with the LB model's rules of
// daemon/lb/model.h behind [service.NAME]). Any text is either accepted or refused, and every
// error and warning is a non-empty line. Loading the same text twice gives the same errors,
// warnings and configuration. An accepted configuration is well-formed (unique port names,
// unique service keys, at least one worker, lower <= upper, weights within 0..65535) and
// applies, as vsgated applies it at start, to a fresh LbControl (the LB model and registry)
// without a refusal: what --check accepts, the daemon starts with.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <set>
#include <string>
#include <tuple>

#include "app/lb_control.h"
#include "app/neighbour_resolver.h"
#include "common/log.h"
#include "config/config.h"
#include "fuzz_check.h"

namespace vsgate {
namespace {

// A summary of everything the loader keeps, for comparing two loads.
std::string describe(const Config& c) {
  std::string s = std::to_string(int(c.global.log_level)) + c.global.control_socket + "|" +
                  std::to_string(c.global.workers) + "|" + std::to_string(c.global.idle_sleep_us) +
                  "|" + std::to_string(c.global.punt_ring_size) + "|" +
                  std::to_string(c.global.arp_resync_ms) + "|" +
                  std::to_string(c.global.connections) + "|" +
                  std::to_string(c.global.debug_commands) + "|" + c.snmp.agentx_socket + "|" +
                  c.snmp.control_socket + "|" + std::to_string(c.snmp.cache_seconds) + "\n";
  for (const auto& a : c.eal.args) s += "eal " + a + "\n";
  for (const auto& p : c.ports) {
    s += "port " + p.name + " " + p.device + " " + std::to_string(p.rx_queues) + " " +
         std::to_string(p.tx_queues) + " " + std::to_string(p.mtu) + " " + p.kni + " " +
         std::to_string(int(p.kni_backend));
    for (const auto& a : p.addresses) s += " " + a.str();
    s += "\n";
  }
  for (const auto& v : c.services) {
    s += "service " + v.name + " " + std::to_string(int(v.key.proto)) + " " + v.key.vip.str() +
         ":" + std::to_string(v.key.port.host()) + " " + std::to_string(int(v.scheduler)) + " " +
         std::to_string(v.persistence_s);
    for (const auto& l : v.local_addresses) s += " laddr " + l.ip.str() + "@" + l.port_name;
    for (const auto& r : v.real_servers)
      s += " real " + r.key.ip.str() + ":" + std::to_string(r.key.port.host()) + " " +
           std::to_string(int(r.fwd)) + " " + std::to_string(r.weight) + " " +
           std::to_string(r.upper) + " " + std::to_string(r.lower);
    s += "\n";
  }
  return s;
}

void run(const uint8_t* data, size_t size) {
  static const int fd = [] {
    set_log_level(LogLevel::error);
    return memfd_create("vsgate-fuzz.conf", 0);
  }();
  FUZZ_CHECK(fd >= 0, "memfd_create failed");
  FUZZ_CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, data, size, 0) == ssize_t(size), "write");
  const std::string path = "/proc/self/fd/" + std::to_string(fd);

  const ConfigLoadResult a = load_config(path);
  const ConfigLoadResult b = load_config(path);
  for (const auto& e : a.errors)
    FUZZ_CHECK(!e.empty() && e.find('\n') == std::string::npos, "error '%s'", e.c_str());
  for (const auto& w : a.warnings)
    FUZZ_CHECK(!w.empty() && w.find('\n') == std::string::npos, "warning '%s'", w.c_str());
  FUZZ_CHECK(a.errors == b.errors && a.warnings == b.warnings, "two loads disagree");
  if (!a.ok()) return;
  FUZZ_CHECK(describe(a.config) == describe(b.config), "two loads disagree:\n%s---\n%s",
             describe(a.config).c_str(), describe(b.config).c_str());

  const Config& c = a.config;
  FUZZ_CHECK(c.global.workers >= 1, "no worker");
  std::set<std::string> port_names;
  std::vector<LbPort> ports;
  for (const auto& p : c.ports) {
    FUZZ_CHECK(!p.name.empty() && port_names.insert(p.name).second, "port name '%s'",
               p.name.c_str());
    ports.push_back({p.name, uint16_t(ports.size())});
  }
  std::set<ServiceKey> keys;
  for (const auto& s : c.services) {
    FUZZ_CHECK(keys.insert(s.key).second, "service %s twice", s.name.c_str());
    for (const auto& r : s.real_servers)
      FUZZ_CHECK(r.weight <= 65535 && (r.upper == 0 || r.lower <= r.upper),
                 "real server weight %u upper %u lower %u", r.weight, r.upper, r.lower);
  }
  NeighbourResolver resolver;
  LbControl lb(
      c.global.workers, resolver, [] {}, 0);
  lb.set_ports(ports);
  const Status st = lb.apply_config(c.services);
  FUZZ_CHECK(st.ok(), "an accepted config does not apply: %s", st.message().c_str());
}

}  // namespace
}  // namespace vsgate

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vsgate::run(data, size);
  return 0;
}
