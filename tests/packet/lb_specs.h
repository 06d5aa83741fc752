// Short spellings of virtual-service keys and real-server specs for the load-balancer tests.
#pragma once

#include <cstdint>

#include "lb/registry.h"
#include "packet_builder.h"

namespace vsgate::test {

// An IPv4 address as the registry's interface takes it (lb/types.h).
inline IpAddr addr(const char* a) { return IpAddr::from_v4(ip(a)); }
inline ServiceKey svc(Proto p, const char* vip, uint16_t port) {
  return {p, addr(vip), L4Port::from_host(port)};
}
inline RealServerSpec real(const char* rip, uint16_t port, FwdMode fwd) {
  return {{addr(rip), L4Port::from_host(port)}, fwd, 1, 0, 0};
}

}  // namespace vsgate::test
