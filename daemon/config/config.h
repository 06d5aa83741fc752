// vsgate.conf: the INI configuration of vsgated (and later vsgate-snmp), loaded with iniparser
// and validated completely, so that --check can report every error at once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "common/net_types.h"
#include "common/result.h"
#include "lb/types.h"

namespace vsgate {

enum class KniBackend { tap, virtio_user };

struct PortConfig {
  std::string name;    // from the section name "port.NAME"
  std::string device;  // PCI address (0000:03:00.0) or DPDK vdev spec (net_af_xdp0,iface=veth0)
  uint16_t rx_queues = 1;
  uint16_t tx_queues = 1;
  uint16_t rx_descriptors = 1024;
  uint16_t tx_descriptors = 1024;
  uint16_t mtu = 1500;
  std::string kni;  // kernel interface of the exception path; empty = none
  KniBackend kni_backend = KniBackend::tap;
  std::vector<Ipv4Prefix> addresses;  // assigned to the kni interface at start

  bool is_pci() const;  // device looks like a PCI address (DDDD:BB:DD.F)
};

struct GlobalConfig {
  LogLevel log_level = LogLevel::info;
  std::string control_socket = "/run/vsgate/control.sock";
  unsigned workers = 1;
  // Sleep this long when a loop found nothing to do for a while; 0 = pure polling (production).
  unsigned idle_sleep_us = 0;
  unsigned punt_ring_size = 1024;   // per worker, power of two: worker -> exception path
  unsigned arp_resync_ms = 1000;    // re-read /proc/net/arp this often
  unsigned connections = 1u << 20;  // connection-table capacity per worker
  // The debug.* control commands (tests of failure handling) exist only when this is set.
  bool debug_commands = false;
};

struct EalConfig {
  std::vector<std::string> args;  // [eal] args split on whitespace
};

// A FULLNAT source address of a service: "ADDR@PORTNAME" in local_addresses.
struct LocalAddressConfig {
  IpAddr ip;
  std::string port_name;  // a PortConfig::name, spelled as in its [port.NAME] header
};

// One "real_server ADDR[:PORT] = [fwd] [weight=N] [upper=N] [lower=N]" key.
struct RealServerConfig {
  RealServerKey key;  // port defaults to the service's
  FwdMode fwd = FwdMode::fullnat;
  uint32_t weight = 1;  // 0..65535; 0 = no new connections (quiesced)
  uint32_t upper = 0;   // connection thresholds as ipvsadm -x / -y; 0 = none
  uint32_t lower = 0;   // <= upper
};

// One [service.NAME] section: a virtual service as lb.service.add + lb.laddr.add + lb.real.add
// would build it.
struct ServiceConfig {
  std::string name;  // from the section name "service.NAME", original case
  ServiceKey key;    // protocol, vip, port
  SchedulerKind scheduler = SchedulerKind::wlc;     // the ipvsadm default
  uint32_t persistence_s = 0;                       // 0 = none
  std::vector<LocalAddressConfig> local_addresses;  // in file order
  std::vector<RealServerConfig> real_servers;       // in file order
};

// [snmp]: settings of vsgate-snmp, the AgentX subagent; vsgated validates and ignores them.
struct SnmpConfig {
  std::string agentx_socket = "/var/agentx/master";  // a Unix socket path or tcp:HOST:PORT
  std::string control_socket;                        // "" = [global] control_socket
  unsigned cache_seconds = 1;                        // one daemon snapshot per this many seconds
  LogLevel log_level = LogLevel::info;
  bool log_level_set = false;  // log_level was given (else the subagent keeps its default)
};

struct Config {
  std::string path;
  GlobalConfig global;
  EalConfig eal;
  SnmpConfig snmp;
  std::vector<PortConfig> ports;        // in file order
  std::vector<ServiceConfig> services;  // in file order; keys unique
};

// Loads and validates. Never throws; a missing/unreadable file is one error. Every message names
// the file, "section.key" and the offending value, e.g.
// "/etc/vsgate/vsgate.conf: global.workers: '0' is out of range (1..64)".
struct ConfigLoadResult {
  Config config;
  std::vector<std::string> errors;  // empty = valid
  // Valid but probably not meant (lb/model.h, LbModel::check()), same format as the errors:
  // vsgated --check prints them and still says OK.
  std::vector<std::string> warnings;
  bool ok() const { return errors.empty(); }
};
ConfigLoadResult load_config(const std::string& path);

// An AgentX master address vsgate-snmp accepts: an absolute Unix socket path or tcp:HOST:PORT.
bool valid_agentx_socket(std::string_view s);

}  // namespace vsgate
