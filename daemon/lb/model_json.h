// The lb.* control commands' arguments (docs/CONTROL_PROTOCOL.md) as LbModel specs: syntax and
// types only (present, a string, an address, fits its field); whether the values are allowed is
// LbModel's to say (lb/model.h). DPDK-free.
#pragma once

#include <cstdint>
#include <optional>

#include "common/result.h"
#include "ctrl/protocol.h"
#include "lb/model.h"

namespace vsgate {

// {"proto", "vip", "port"}: a ServiceId.
Result<ServiceKey> service_key_from_json(const Json& args);
// {"rip", "rport"} within the service (rport defaults to the service's port).
Result<RealServerKey> real_key_from_json(const Json& args, const ServiceKey& svc);
// An optional unsigned argument of at most `max`.
Result<std::optional<uint32_t>> u32_from_json(const Json& args, const char* key,
                                              uint64_t max = UINT32_MAX);
// lb.service.add / lb.service.edit: ServiceId + scheduler, persistence.
Result<ServiceSpec> service_spec_from_json(const Json& args);
// lb.real.add / lb.real.edit: rip, rport, fwd, weight, upper, lower.
Result<RealServerSpec> real_spec_from_json(const Json& args, const ServiceKey& svc);
// lb.laddr.add: laddr, port_name.
Result<LocalAddressSpec> laddr_spec_from_json(const Json& args);

// A parsed lb.* change command, as one value: what the table test (and a replay) applies.
struct TimeoutsSpec {
  uint32_t tcp_s = 0, tcpfin_s = 0, udp_s = 0;
};
Result<TimeoutsSpec> timeouts_from_json(const Json& args);

// Applies one lb.* change command (lb.service.add/edit/del, lb.clear, lb.real.add/edit/del,
// lb.laddr.add/del, lb.timeouts.set) to a model, as vsgated does before changing the data
// plane. `why` receives a refusal of the model's rules.
Status apply_json_command(LbModel& model, const std::string& cmd, const Json& args,
                          Origin origin = Origin::control, Refusal* why = nullptr);

}  // namespace vsgate
