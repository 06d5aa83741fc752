// Short spellings of virtual-service keys and real-server specs for the load-balancer tests.
#pragma once

#include <cstdint>

#include "lb/registry.h"
#include "packet_builder.h"

namespace vsgate::test {

inline ServiceKey svc(Proto p, const char* vip, uint16_t port) {
  return {p, ip(vip), L4Port::from_host(port)};
}
inline RealServerSpec real(const char* rip, uint16_t port, FwdMode fwd) {
  return {{ip(rip), L4Port::from_host(port)}, fwd, 1, 0, 0};
}

}  // namespace vsgate::test
