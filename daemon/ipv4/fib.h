// The forwarding state the workers read: own addresses, routes (rte_lpm) and neighbours
// (rte_hash), mirrored from the host stack. A Fib is immutable once published; the main lcore
// builds a new one on every change and swaps it in (see lcore/snapshot.h).
#pragma once

#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_lpm.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/net_types.h"
#include "common/result.h"

namespace vsgate {

inline constexpr uint16_t kMaxPorts = 32;

struct FibRoute {
  Ipv4Prefix prefix;
  Ipv4Addr gateway;  // zero = connected
  uint16_t port_id = 0;
  bool operator==(const FibRoute&) const = default;
};
struct FibNeighbour {
  Ipv4Addr ip;
  MacAddr mac;
  uint16_t port_id = 0;
};
struct FibAddress {
  Ipv4Prefix prefix;  // the interface address with its prefix length
  uint16_t port_id = 0;
};
// What the data plane knows about each of its ports (static for the life of the daemon).
struct FibPort {
  bool present = false;
  rte_ether_addr mac{};
  uint16_t mtu = 1500;
  uint32_t addr_be = 0;  // first own address on the port (source of IPIP tunnels), 0 = none
};

struct FibInput {
  std::vector<FibRoute> routes;
  std::vector<FibNeighbour> neighbours;
  std::vector<FibAddress> addresses;
  std::array<FibPort, kMaxPorts> ports{};
};

struct NextHop {
  uint32_t gateway_be = 0;  // zero = connected: the destination itself is the neighbour
  uint16_t port_id = 0;
};

// Routes: rte_lpm costs 64 MiB (tbl24) per table, so neighbour-only changes share the route
// table of the previous snapshot instead of rebuilding it.
class RouteTable {
 public:
  static Result<std::shared_ptr<const RouteTable>> build(const std::vector<FibRoute>& routes);
  ~RouteTable();
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  const NextHop* lookup(uint32_t dst_be) const {
    uint32_t idx;
    if (rte_lpm_lookup(lpm_, rte_be_to_cpu_32(dst_be), &idx) != 0)
      return has_default_ ? &default_hop_ : nullptr;
    return &next_hops_[idx];
  }
  const std::vector<FibRoute>& routes() const { return routes_; }

 private:
  RouteTable() = default;
  rte_lpm* lpm_ = nullptr;
  std::vector<NextHop> next_hops_;
  // rte_lpm takes depths 1..32: the default route lives beside it.
  bool has_default_ = false;
  NextHop default_hop_;
  std::vector<FibRoute> routes_;
};

class Fib {
 public:
  // Reuses `routes` when given (neighbour/address-only change), else builds a route table.
  static Result<std::unique_ptr<const Fib>> build(const FibInput& in,
                                                  std::shared_ptr<const RouteTable> routes);
  ~Fib();
  Fib(const Fib&) = delete;
  Fib& operator=(const Fib&) = delete;

  // Fast path. All lookups take and return network byte order.
  bool is_local(uint32_t dst_be) const {
    return std::binary_search(local_be_.begin(), local_be_.end(), dst_be);
  }
  const NextHop* route(uint32_t dst_be) const { return routes_->lookup(dst_be); }
  const rte_ether_addr* neighbour(uint32_t ip_be) const {
    void* data;
    if (rte_hash_lookup_data(neigh_, &ip_be, &data) < 0) return nullptr;
    return &neigh_macs_[reinterpret_cast<uintptr_t>(data)];
  }
  const FibPort& port(uint16_t id) const { return ports_[id]; }
  // Unique per built Fib, never 0: what a worker's cache of resolved next hops is valid for.
  uint64_t generation() const { return generation_; }

  const std::shared_ptr<const RouteTable>& route_table() const { return routes_; }

 private:
  Fib() = default;
  std::shared_ptr<const RouteTable> routes_;
  rte_hash* neigh_ = nullptr;
  std::vector<rte_ether_addr> neigh_macs_;
  std::vector<uint32_t> local_be_;  // own addresses and directed broadcasts, sorted
  std::array<FibPort, kMaxPorts> ports_{};
  uint64_t generation_ = 0;
};

}  // namespace vsgate
