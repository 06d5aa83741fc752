#include "ipv4/fib.h"

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_random.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>

namespace vsgate {
namespace {

// rte_lpm and rte_hash names live in one process-wide namespace: make every table's name unique.
std::string unique_name(const char* kind) {
  static std::atomic<uint64_t> seq{0};
  return std::string("vsg_") + kind + "_" + std::to_string(seq.fetch_add(1));
}

// Headroom over what the input needs: a quarter more, and a floor.
uint32_t with_headroom(size_t n, uint32_t floor) {
  return static_cast<uint32_t>(std::max<size_t>(floor, n + n / 4 + floor));
}

}  // namespace

Result<std::shared_ptr<const RouteTable>> RouteTable::build(const std::vector<FibRoute>& routes,
                                                            const FibLimits& limits) {
  if (routes.size() > limits.max_routes)
    return make_error("too many routes: " + std::to_string(routes.size()) + " (max " +
                      std::to_string(limits.max_routes) + ")");
  // One tbl8 group per /24 that holds a prefix longer than /24.
  std::vector<uint32_t> tbl8_blocks;
  for (const auto& r : routes)
    if (r.prefix.len > 24) tbl8_blocks.push_back(r.prefix.network().host() >> 8);
  std::sort(tbl8_blocks.begin(), tbl8_blocks.end());
  const size_t tbl8_needed = static_cast<size_t>(
      std::unique(tbl8_blocks.begin(), tbl8_blocks.end()) - tbl8_blocks.begin());
  if (tbl8_needed > limits.max_tbl8_groups)
    return make_error("too many /24 blocks with longer prefixes: " + std::to_string(tbl8_needed) +
                      " (max " + std::to_string(limits.max_tbl8_groups) + " tbl8 groups)");
  std::shared_ptr<RouteTable> t(new RouteTable());
  rte_lpm_config cfg{};
  cfg.max_rules = std::min(with_headroom(routes.size(), 64), limits.max_routes + 64);
  cfg.number_tbl8s =
      std::min(with_headroom(tbl8_needed, 16), std::max<uint32_t>(limits.max_tbl8_groups, 16));
  const auto name = unique_name("rt");
  t->lpm_ = rte_lpm_create(name.c_str(), static_cast<int>(rte_socket_id()), &cfg);
  if (!t->lpm_)
    return make_error("rte_lpm_create (" + std::to_string(cfg.max_rules) + " rules, " +
                      std::to_string(cfg.number_tbl8s) +
                      " tbl8 groups): " + rte_strerror(rte_errno));
  t->routes_ = routes;
  t->next_hops_.reserve(routes.size());
  for (const auto& r : routes) {
    if (r.prefix.len == 0) {
      t->has_default_ = true;
      t->default_hop_ = NextHop{r.gateway.be, r.port_id};
      continue;
    }
    const auto idx = static_cast<uint32_t>(t->next_hops_.size());
    t->next_hops_.push_back(NextHop{r.gateway.be, r.port_id});
    int rc = rte_lpm_add(t->lpm_, r.prefix.network().host(), r.prefix.len, idx);
    if (rc != 0) return make_error("rte_lpm_add " + r.prefix.str() + ": " + rte_strerror(-rc));
  }
  return std::shared_ptr<const RouteTable>(std::move(t));
}

RouteTable::~RouteTable() { rte_lpm_free(lpm_); }

Result<std::shared_ptr<const NeighbourTable>> NeighbourTable::build(
    const std::vector<FibNeighbour>& neighbours, const FibLimits& limits) {
  if (neighbours.size() > limits.max_neighbours)
    return make_error("too many neighbours: " + std::to_string(neighbours.size()) + " (max " +
                      std::to_string(limits.max_neighbours) + ")");
  std::shared_ptr<NeighbourTable> t(new NeighbourTable());
  const auto name = unique_name("nb");
  rte_hash_parameters hp{};
  hp.name = name.c_str();
  hp.entries = with_headroom(neighbours.size(), 64);
  hp.key_len = sizeof(uint32_t);
  // A seed nobody on the wire can predict, so chosen addresses cannot pile into one bucket;
  // extendable buckets take whatever collides beyond the cuckoo's two buckets.
  hp.hash_func_init_val = static_cast<uint32_t>(rte_rand());
  hp.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  hp.socket_id = static_cast<int>(rte_socket_id());
  t->hash_ = rte_hash_create(&hp);
  if (!t->hash_)
    return make_error("rte_hash_create (" + std::to_string(hp.entries) +
                      " entries): " + rte_strerror(rte_errno));
  t->neighbours_ = neighbours;
  t->macs_.reserve(neighbours.size());
  for (const auto& n : neighbours) {
    rte_ether_addr mac;
    std::memcpy(mac.addr_bytes, n.mac.bytes.data(), RTE_ETHER_ADDR_LEN);
    const uintptr_t idx = t->macs_.size();
    t->macs_.push_back(mac);
    int rc = rte_hash_add_key_data(t->hash_, &n.ip.be, reinterpret_cast<void*>(idx));
    if (rc != 0)
      return make_error("rte_hash_add_key_data " + n.ip.str() + ": " + rte_strerror(-rc));
  }
  return std::shared_ptr<const NeighbourTable>(std::move(t));
}

NeighbourTable::~NeighbourTable() { rte_hash_free(hash_); }

Result<std::unique_ptr<const Fib>> Fib::build(const FibInput& in,
                                              std::shared_ptr<const RouteTable> routes,
                                              std::shared_ptr<const NeighbourTable> neighbours,
                                              const FibLimits& limits) {
  if (!routes) {
    auto rt = RouteTable::build(in.routes, limits);
    if (!rt) return rt.error();
    routes = std::move(rt.value());
  }
  if (!neighbours) {
    auto nt = NeighbourTable::build(in.neighbours, limits);
    if (!nt) return nt.error();
    neighbours = std::move(nt.value());
  }
  return assemble(in, std::move(routes), std::move(neighbours));
}

std::unique_ptr<const Fib> Fib::assemble(const FibInput& in,
                                         std::shared_ptr<const RouteTable> routes,
                                         std::shared_ptr<const NeighbourTable> neighbours) {
  static std::atomic<uint64_t> generations{0};
  std::unique_ptr<Fib> f(new Fib());
  f->generation_ = generations.fetch_add(1) + 1;
  f->routes_ = std::move(routes);
  f->neighbours_ = std::move(neighbours);
  for (const auto& a : in.addresses) {
    f->local_be_.push_back(a.prefix.addr.be);
    if (a.prefix.len < 31)  // directed broadcast of the connected subnet is for us too
      f->local_be_.push_back(Ipv4Addr::from_host(a.prefix.addr.host() | ~a.prefix.mask_host()).be);
  }
  std::sort(f->local_be_.begin(), f->local_be_.end());
  f->ports_ = in.ports;
  return std::unique_ptr<const Fib>(std::move(f));
}

}  // namespace vsgate
