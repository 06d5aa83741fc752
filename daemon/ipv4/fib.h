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
  bool operator==(const FibNeighbour&) const = default;
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

// How big the tables of one snapshot may get. Each table is sized from its input (with headroom);
// these hard caps bound the memory one build may take (docs/ARCHITECTURE.md, "Host state ->
// workers"): rules are 8 bytes each, a tbl8 group 1 KiB (tbl24 is a fixed 64 MiB per route
// table), a neighbour about 64 bytes with its hash slot. Past a cap a build fails and the
// previous table stays in use. Tests pass smaller caps to provoke exactly that.
struct FibLimits {
  static constexpr uint32_t kMaxRoutes = 1u << 20;      // 1,048,576 prefixes (a full table)
  static constexpr uint32_t kMaxTbl8Groups = 1u << 16;  // 65,536 /24s with longer prefixes
  static constexpr uint32_t kMaxNeighbours = 1u << 18;  // 262,144 neighbours
  uint32_t max_routes = kMaxRoutes;
  uint32_t max_tbl8_groups = kMaxTbl8Groups;
  uint32_t max_neighbours = kMaxNeighbours;
};

// Routes: rte_lpm costs 64 MiB (tbl24) per table, so neighbour-only changes share the route
// table of the previous snapshot instead of rebuilding it. `max_rules` and `number_tbl8s` are
// sized from the routes (one tbl8 group per /24 that holds a longer prefix), with headroom.
class RouteTable {
 public:
  static Result<std::shared_ptr<const RouteTable>> build(const std::vector<FibRoute>& routes,
                                                         const FibLimits& limits = {});
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

// Neighbours: an rte_hash with extendable buckets (every key up to the sized capacity fits,
// whatever the collisions) and a random hash seed per table, sized from the input. Built apart
// from the routes, so that a route table that cannot be built does not hold neighbours back
// (and the other way round); route-only changes share the neighbour table.
class NeighbourTable {
 public:
  static Result<std::shared_ptr<const NeighbourTable>> build(
      const std::vector<FibNeighbour>& neighbours, const FibLimits& limits = {});
  ~NeighbourTable();
  NeighbourTable(const NeighbourTable&) = delete;
  NeighbourTable& operator=(const NeighbourTable&) = delete;

  const rte_ether_addr* lookup(uint32_t ip_be) const {
    void* data;
    if (rte_hash_lookup_data(hash_, &ip_be, &data) < 0) return nullptr;
    return &macs_[reinterpret_cast<uintptr_t>(data)];
  }
  const std::vector<FibNeighbour>& neighbours() const { return neighbours_; }

 private:
  NeighbourTable() = default;
  rte_hash* hash_ = nullptr;
  std::vector<rte_ether_addr> macs_;
  std::vector<FibNeighbour> neighbours_;
};

class Fib {
 public:
  // Reuses `routes` and `neighbours` when given (a change elsewhere), else builds them from `in`.
  static Result<std::unique_ptr<const Fib>> build(
      const FibInput& in, std::shared_ptr<const RouteTable> routes,
      std::shared_ptr<const NeighbourTable> neighbours = nullptr, const FibLimits& limits = {});
  // A snapshot of tables already built (both non-null) and `in`'s addresses and ports; cannot
  // fail. The route or neighbour table need not match `in` (a stale one is kept when a build
  // failed: FibBuilder).
  static std::unique_ptr<const Fib> assemble(const FibInput& in,
                                             std::shared_ptr<const RouteTable> routes,
                                             std::shared_ptr<const NeighbourTable> neighbours);
  ~Fib() = default;
  Fib(const Fib&) = delete;
  Fib& operator=(const Fib&) = delete;

  // Fast path. All lookups take and return network byte order.
  bool is_local(uint32_t dst_be) const {
    return std::binary_search(local_be_.begin(), local_be_.end(), dst_be);
  }
  const NextHop* route(uint32_t dst_be) const { return routes_->lookup(dst_be); }
  const rte_ether_addr* neighbour(uint32_t ip_be) const { return neighbours_->lookup(ip_be); }
  const FibPort& port(uint16_t id) const { return ports_[id]; }
  // Unique per built Fib, never 0: what a worker's cache of resolved next hops is valid for.
  uint64_t generation() const { return generation_; }

  const std::shared_ptr<const RouteTable>& route_table() const { return routes_; }
  const std::shared_ptr<const NeighbourTable>& neighbour_table() const { return neighbours_; }

 private:
  Fib() = default;
  std::shared_ptr<const RouteTable> routes_;
  std::shared_ptr<const NeighbourTable> neighbours_;
  std::vector<uint32_t> local_be_;  // own addresses and directed broadcasts, sorted
  std::array<FibPort, kMaxPorts> ports_{};
  uint64_t generation_ = 0;
};

}  // namespace vsgate
