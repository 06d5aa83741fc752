// What vsgate-snmp serves: one consistent reading of vsgated (status, ports, lcores, virtual and
// real servers), built from the daemon's control-socket replies (docs/CONTROL_PROTOCOL.md).
// Plain C++ without net-snmp, so the unit tests cover the parsing and the index bookkeeping.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "common/net_types.h"
#include "common/result.h"
#include "ctrl/protocol.h"

namespace vsgate::snmp {

struct PortRow {
  uint32_t index = 0;  // DPDK port id + 1
  std::string name, driver;
  std::array<uint8_t, 6> mac{};
  bool link_up = false;
  uint32_t speed_mbps = 0;
  uint64_t ipackets = 0, opackets = 0, ibytes = 0, obytes = 0, imissed = 0, ierrors = 0,
           oerrors = 0, rx_nombuf = 0;
};

struct LcoreRow {
  uint32_t index = 0;  // worker number + 1
  uint32_t lcore = 0;
  uint64_t rx_iterations = 0, rx_packets = 0, tx_packets = 0, tx_drops = 0, punted = 0,
           punt_drops = 0, injected = 0, inject_drops = 0, forwarded = 0, dropped = 0;
};

struct Stats {
  uint64_t conns = 0, inpkts = 0, outpkts = 0, inbytes = 0, outbytes = 0;
};
struct Rates {
  uint64_t cps = 0, inpps = 0, outpps = 0, inbps = 0, outbps = 0;
};

enum class Fwd { fullnat = 1, nat = 2, dr = 3, tunnel = 4 };  // MIB enumeration values
enum class Protocol { tcp = 1, udp = 2 };

struct RealRow {
  uint32_t index = 0;  // stable within the virtual server (RowIndexes)
  IpAddr addr;         // IPv4 or IPv6
  uint16_t port = 0;
  Fwd fwd = Fwd::fullnat;
  uint32_t weight = 0, upper = 0, lower = 0;
  uint64_t active = 0, inactive = 0;
  Stats stats;
  Rates rates;
};

struct ServiceRow {
  uint32_t index = 0;  // stable (RowIndexes)
  Protocol proto = Protocol::tcp;
  IpAddr addr;  // IPv4 or IPv6
  uint16_t port = 0;
  std::string scheduler;
  uint32_t persistence = 0;
  Stats stats;
  Rates rates;
  std::vector<RealRow> reals;
};

struct Snapshot {
  bool reachable = false;
  std::string error;  // why not reachable
  std::string version;
  uint64_t uptime_ms = 0;
  uint32_t workers = 0;
  uint64_t started_us = 0, stats_reset_us = 0;  // the daemon's counter epoch
  std::vector<PortRow> ports;
  std::vector<LcoreRow> lcores;
  std::vector<ServiceRow> services;  // ordered by index, reals too

  uint64_t total_conns() const;    // sum of the services' stats.conns
  uint64_t current_conns() const;  // sum of active + inactive over all real servers
};

// The replies ("result" objects) a snapshot is made of, in the order they are requested.
struct DaemonReplies {
  Json status, port_show, port_stats, lcore_stats, lb_list;
};
inline constexpr const char* kSnapshotCommands[] = {"status", "port.show", "port.stats",
                                                    "lcore.stats", "lb.list"};

// A reachable snapshot (indexes of services and real servers still 0), or what was wrong.
Result<Snapshot> parse_snapshot(const DaemonReplies& r);

// Gives virtual servers (key proto/vip/port) and their real servers (key rip/rport) indexes that
// stay theirs for as long as they exist: a new one gets the next unused number, one that
// disappears from a reachable snapshot loses its index for good (numbers are not reused).
// Unreachable snapshots change nothing, so a daemon restart keeps the indexes of what comes back.
class RowIndexes {
 public:
  void assign(Snapshot& s);  // sets the indexes and sorts services and reals by them

 private:
  using ServiceKey = std::tuple<int, IpAddr, uint16_t>;
  using RealKey = std::tuple<IpAddr, uint16_t>;
  struct ServiceEntry {
    uint32_t index = 0;
    uint32_t next_real = 1;
    std::map<RealKey, uint32_t> reals;
  };
  std::map<ServiceKey, ServiceEntry> services_;
  uint32_t next_service_ = 1;
};

// vsgateStatsDiscontinuityTime: the agent's sysUpTime (centiseconds) when the counters last had
// a discontinuity: the daemon (re)started or reset its counters (a new started_us or
// stats_reset_us), or became reachable again after it was not. net-snmp keeps a subagent's
// sysUpTime in step with the master's, so it starts again from 0 when snmpd restarts: a
// discontinuity from before that reads 0 (RFC 2579's TimeStamp), never a time in the future.
class Discontinuity {
 public:
  void update(const Snapshot& s, uint32_t now_ticks);
  uint32_t ticks(uint32_t now_ticks);  // the TimeStamp at sysUpTime now_ticks

 private:
  void observe(uint32_t now_ticks);
  bool was_reachable_ = false;
  uint64_t started_us_ = 0, stats_reset_us_ = 0;
  uint32_t ticks_ = 0;
  uint32_t last_now_ = 0;
};

}  // namespace vsgate::snmp
