#include "ipv4/fib.h"

#include <rte_errno.h>
#include <rte_lcore.h>

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

constexpr uint32_t kMaxRoutes = 4096;
constexpr uint32_t kTbl8Groups = 512;

}  // namespace

Result<std::shared_ptr<const RouteTable>> RouteTable::build(const std::vector<FibRoute>& routes) {
  if (routes.size() > kMaxRoutes)
    return make_error("too many routes: " + std::to_string(routes.size()) + " (max " +
                      std::to_string(kMaxRoutes) + ")");
  std::shared_ptr<RouteTable> t(new RouteTable());
  rte_lpm_config cfg{};
  cfg.max_rules = kMaxRoutes;
  cfg.number_tbl8s = kTbl8Groups;
  const auto name = unique_name("rt");
  t->lpm_ = rte_lpm_create(name.c_str(), static_cast<int>(rte_socket_id()), &cfg);
  if (!t->lpm_) return make_error(std::string("rte_lpm_create: ") + rte_strerror(rte_errno));
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

Result<std::unique_ptr<const Fib>> Fib::build(const FibInput& in,
                                              std::shared_ptr<const RouteTable> routes) {
  static std::atomic<uint64_t> generations{0};
  std::unique_ptr<Fib> f(new Fib());
  f->generation_ = generations.fetch_add(1) + 1;
  if (routes) {
    f->routes_ = std::move(routes);
  } else {
    auto rt = RouteTable::build(in.routes);
    if (!rt) return rt.error();
    f->routes_ = std::move(rt.value());
  }

  const auto name = unique_name("nb");
  rte_hash_parameters hp{};
  hp.name = name.c_str();
  hp.entries = std::max<uint32_t>(64, static_cast<uint32_t>(in.neighbours.size() * 2));
  hp.key_len = sizeof(uint32_t);
  hp.socket_id = static_cast<int>(rte_socket_id());
  f->neigh_ = rte_hash_create(&hp);
  if (!f->neigh_) return make_error(std::string("rte_hash_create: ") + rte_strerror(rte_errno));
  f->neigh_macs_.reserve(in.neighbours.size());
  for (const auto& n : in.neighbours) {
    rte_ether_addr mac;
    std::memcpy(mac.addr_bytes, n.mac.bytes.data(), RTE_ETHER_ADDR_LEN);
    const uintptr_t idx = f->neigh_macs_.size();
    f->neigh_macs_.push_back(mac);
    int rc = rte_hash_add_key_data(f->neigh_, &n.ip.be, reinterpret_cast<void*>(idx));
    if (rc != 0)
      return make_error("rte_hash_add_key_data " + n.ip.str() + ": " + rte_strerror(-rc));
  }

  for (const auto& a : in.addresses) {
    f->local_be_.push_back(a.prefix.addr.be);
    if (a.prefix.len < 31)  // directed broadcast of the connected subnet is for us too
      f->local_be_.push_back(Ipv4Addr::from_host(a.prefix.addr.host() | ~a.prefix.mask_host()).be);
  }
  std::sort(f->local_be_.begin(), f->local_be_.end());
  f->ports_ = in.ports;
  return std::unique_ptr<const Fib>(std::move(f));
}

Fib::~Fib() { rte_hash_free(neigh_); }

}  // namespace vsgate
