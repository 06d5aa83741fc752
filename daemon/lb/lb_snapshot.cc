#include "lb/lb_snapshot.h"

#include <algorithm>

namespace vsgate {

const ServiceView* LbSnapshot::find(uint8_t proto, uint32_t vip_be, uint16_t port_be) const {
  Ipv4ServiceKey k{static_cast<Proto>(proto), Ipv4Addr{vip_be}, L4Port{port_be}};
  auto it =
      std::lower_bound(services.begin(), services.end(), k,
                       [](const ServiceView& v, const Ipv4ServiceKey& key) { return v.key < key; });
  return it != services.end() && it->key == k ? &*it : nullptr;
}

bool LbSnapshot::is_vip(uint32_t ip_be) const {
  return std::binary_search(vips.begin(), vips.end(), ip_be);
}
bool LbSnapshot::is_laddr(uint32_t ip_be) const {
  return std::binary_search(laddrs.begin(), laddrs.end(), ip_be);
}

}  // namespace vsgate
