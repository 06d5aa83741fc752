// How replies name a data-plane port id: its [port.NAME], and its exception-path interface.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace vsgate {

struct PortNaming {
  std::function<std::string(uint16_t port_id)> port;  // "dpdk0"; the id as text if not ours
  std::function<std::string(uint16_t port_id)> kni;   // "dpdk0.kni"; "" if it has none
};

}  // namespace vsgate
