// The load balancer's desired configuration (services, real servers, local addresses,
// timeouts) and every rule it must obey, in one place. The INI loader (config/config.cc), the
// lb.* control commands (lb/model_json.h) and vsgatectl's ipvsadm parser only translate their
// syntax into the spec types below; this module decides what is accepted, so `vsgated --check`
// and the control socket accept and refuse the same things (docs/CONFIG.md, "Rules").
// DPDK-free: LbRegistry (lb/registry.h) builds the data plane's state from what this accepts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "lb/core/conn_table.h"  // kMaxTimeoutS (header-only, DPDK-free)
#include "lb/types.h"

namespace vsgate {

// Limits.
inline constexpr uint32_t kMaxRealServers = 65536;  // slots; a conn refers to its real by slot
// Real servers of one service, quiesced ones (weight 0) included: every scheduler picks among
// them on the worker without a per-service buffer, but rr, lc and wlc walk them per new
// connection and sh/mh/wrr rebuild tables of up to 16 N / 128 N / 65536 + N entries on the main
// lcore after each change (docs/SCHEDULERS.md, "Limits"). Checked by check_real_count().
inline constexpr uint32_t kMaxRealServersPerService = 4096;
inline constexpr uint32_t kMaxLocalAddresses = 1024;
inline constexpr uint32_t kMaxServices = 4096;
inline constexpr uint32_t kMaxWeight = 65535;
inline constexpr uint32_t kMaxPersistenceS = 31536000;  // one year

// Where an object came from: the configuration file or a control command (a reload replaces
// the first kind and keeps the second).
enum class Origin : uint8_t { file, control };
std::string_view origin_name(Origin o);  // "file" / "control"

// What lb.service.add/-A, lb.real.add/-a and lb.laddr.add/--add-laddr carry. For an edit the
// unset fields keep their values; for an add they take the defaults (wlc, no persistence,
// fullnat, weight 1, no thresholds).
struct ServiceSpec {
  ServiceKey key;
  std::optional<SchedulerKind> scheduler;
  std::optional<uint32_t> persistence_s;
};
struct RealServerSpec {
  RealServerKey key;
  std::optional<FwdMode> fwd;
  std::optional<uint32_t> weight, upper, lower;
};
struct LocalAddressSpec {
  IpAddr ip;
  std::string port_name;
};

// Why a spec was refused: the field it is about, the value as the model prints it, and what is
// wrong, phrased to follow the value ("'lower=101' is above upper=100 (...)"). The INI loader
// prints the value as written in the file instead.
enum class Field : uint8_t {
  service,  // the service as a whole (exists / does not exist / limits)
  vip,
  port,
  persistence,
  real,  // the real server's address (and port)
  weight,
  upper,
  lower,
  laddr,
  port_name,
  timeout,
};
struct Refusal {
  Field field = Field::service;
  std::string value;  // "" for the ipvsadm-worded ones ("Service already exists")
  std::string what;
  std::string message() const { return value.empty() ? what : "'" + value + "' " + what; }
};

// An address a service may use as VIP, local address or real server: not 0.0.0.0/8 ("this
// network"), 127.0.0.0/8 (loopback), 224.0.0.0/4 (multicast) or 240.0.0.0/4 (reserved and the
// limited broadcast).
bool service_unicast(Ipv4Addr a);
inline constexpr const char* kNotUnicast =
    "is not a unicast address a service can use (not 0.0.0.0/8, 127.0.0.0/8, multicast or "
    "240.0.0.0/4)";
// The vocabulary holds IPv6 (lb/types.h), the data plane forwards IPv4 only: this rule, here
// only, refuses IPv6 VIPs, real servers and local addresses, whoever asks (the config file,
// lb.* commands, vsgatectl's ipvsadm syntax).
inline constexpr const char* kIpv6NotSupported =
    "is an IPv6 address: IPv6 services are not supported yet (the data plane forwards IPv4 "
    "only)";
// Why `a` cannot be a VIP, real server or local address (kIpv6NotSupported, kNotUnicast), or
// nullptr when it can.
const char* service_address_refusal(const IpAddr& a);

// Per-object rules, without the rest of the model: every refusal, in field order. A real server
// is checked complete (its fields merged with the defaults or, for an edit, its current values).
// A real server or local address of the other address family than its service's VIP is
// refused as such.
std::vector<Refusal> check_service_spec(const ServiceSpec& s);
std::vector<Refusal> check_real_spec(const ServiceKey& svc, const RealServerSpec& complete);
std::vector<Refusal> check_laddr_spec(const ServiceKey& svc, const LocalAddressSpec& l);
std::vector<Refusal> check_timeouts(uint32_t tcp_s, uint32_t tcpfin_s, uint32_t udp_s);
// The per-service limit, for a service that has `reals_now` real servers and gets `adding`:
// the refusal of the (kMaxRealServersPerService + 1)-th, the same from LbModel and LbRegistry.
std::optional<Refusal> check_real_count(const RealServerKey& adding, size_t reals_now);
// The first refusal as a Status (Ok when there is none).
Status first_refusal(const std::vector<Refusal>& refusals);

struct ModelReal {
  RealServerKey key;
  FwdMode fwd = FwdMode::fullnat;
  uint32_t weight = 1, upper = 0, lower = 0;
  Origin origin = Origin::control;
  RealServerSpec spec() const { return {key, fwd, weight, upper, lower}; }
};
struct ModelLaddr {
  IpAddr ip;
  std::string port_name;
  Origin origin = Origin::control;
};
struct ModelService {
  ServiceKey key;
  std::string name;  // "service.NAME" for one from the file, "" otherwise
  SchedulerKind scheduler = SchedulerKind::wlc;
  uint32_t persistence_s = 0;
  Origin origin = Origin::control;
  std::vector<ModelReal> reals;
  std::vector<ModelLaddr> laddrs;
};

// Something valid but probably not what was meant (`vsgated --check` prints it, the daemon logs
// it): e.g. FULLNAT real servers of a service that has no local address yet.
struct ModelWarning {
  ServiceKey service;
  std::optional<RealServerKey> real;
  std::string message;
};

class LbModel {
 public:
  // The ports local addresses may name (vsgated's [port.NAME]s). Before this is called any
  // name is accepted.
  void set_port_names(std::vector<std::string> names);

  // Each mutator checks every rule first and changes nothing when it refuses; `why` (if given)
  // receives the refusal. Messages are ipvsadm's where it has one.
  Status add_service(const ServiceSpec& s, Origin origin, std::string name = {},
                     Refusal* why = nullptr);
  Status edit_service(const ServiceSpec& s, Refusal* why = nullptr);
  Status del_service(const ServiceKey& k);
  void clear();
  Status add_real(const ServiceKey& svc, const RealServerSpec& r, Origin origin,
                  Refusal* why = nullptr);
  Status edit_real(const ServiceKey& svc, const RealServerSpec& r, Refusal* why = nullptr);
  Status del_real(const ServiceKey& svc, const RealServerKey& r);
  Status add_laddr(const ServiceKey& svc, const LocalAddressSpec& l, Origin origin,
                   Refusal* why = nullptr);
  Status del_laddr(const ServiceKey& svc, const IpAddr& ip);
  // Seconds; 0 keeps the current value (ipvsadm --set).
  Status set_timeouts(uint32_t tcp_s, uint32_t tcpfin_s, uint32_t udp_s);

  // Rules across objects that do not refuse anything: see ModelWarning.
  std::vector<ModelWarning> check() const;

  const std::vector<ModelService>& services() const { return services_; }
  const ModelService* find(const ServiceKey& k) const;
  uint32_t tcp_timeout_s() const { return tcp_s_; }  // 0 = the default
  uint32_t tcpfin_timeout_s() const { return tcpfin_s_; }
  uint32_t udp_timeout_s() const { return udp_s_; }

  // "service.web" for one from the file, "TCP 10.0.0.100:80" otherwise.
  static std::string describe(const ModelService& s);

 private:
  ModelService* find_mut(const ServiceKey& k);
  Status refuse(Refusal r, Refusal* why) const;
  std::optional<Refusal> address_in_use(const IpAddr& ip, bool as_vip, bool as_real,
                                        bool as_laddr) const;

  std::vector<ModelService> services_;
  std::optional<std::vector<std::string>> port_names_;
  uint32_t tcp_s_ = 0, tcpfin_s_ = 0, udp_s_ = 0;
};

}  // namespace vsgate
