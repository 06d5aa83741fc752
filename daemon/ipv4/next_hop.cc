#include "ipv4/next_hop.h"

namespace vsgate {

const NextHops::Hop* NextHops::resolve_slow(uint32_t dst_be, const Fib& fib, uint32_t* resolve) {
  if (resolve) *resolve = 0;
  const NextHop* nh = fib.route(dst_be);
  if (!nh || !fib.port(nh->port_id).present) return nullptr;
  const uint32_t neighbour = nh->gateway_be ? nh->gateway_be : dst_be;
  const rte_ether_addr* mac = fib.neighbour(neighbour);
  if (!mac) {
    if (resolve) *resolve = neighbour;
    return nullptr;
  }
  const FibPort& out = fib.port(nh->port_id);
  Hop& h = hops_[index(dst_be)];
  h = {*mac, out.mac, dst_be, nh->port_id, out.mtu, true};
  return &h;
}

}  // namespace vsgate
