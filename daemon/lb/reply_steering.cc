#include "lb/reply_steering.h"

#include <arpa/inet.h>
#include <rte_thash.h>

#include <bit>

namespace vsgate {
namespace {

constexpr unsigned kMaxRetaSize = 512;
constexpr size_t kMinKeyBytes = 16;  // 12 bytes of IPv4+ports input need 12 + 4 key bytes

uint32_t toeplitz_hash(const std::vector<uint8_t>& key, uint32_t src_host, uint32_t dst_host,
                       uint32_t ports_host, bool with_ports) {
  // rte_softrss takes the tuple in CPU order, ports packed as (sport << 16) | dport.
  uint32_t tuple[3] = {src_host, dst_host, ports_host};
  return rte_softrss(tuple, with_ports ? 3 : 2, key.data());
}

}  // namespace

ReplySteering::ReplySteering(Kind kind, unsigned workers, unsigned mask)
    : kind_(kind), workers_(workers), mask_(mask), owned_(workers), class_of_port_(65536, 0) {}

std::shared_ptr<const ReplySteering> ReplySteering::single(unsigned worker, unsigned workers) {
  auto s = std::make_shared<ReplySteering>(Kind::single, workers, 0);
  s->entry_worker_ = {static_cast<int16_t>(worker)};
  s->owned_[worker] = {0};
  return s;
}

std::shared_ptr<const ReplySteering> ReplySteering::port_modulo(unsigned workers) {
  // Classes = the next power of two >= workers; class of a port = port % workers (< classes).
  const unsigned classes = std::bit_ceil(std::max(workers, 1u));
  auto s = std::make_shared<ReplySteering>(Kind::port_modulo, workers, classes - 1);
  s->entry_worker_.assign(classes, -1);
  for (unsigned w = 0; w < workers; ++w) {
    s->entry_worker_[w] = static_cast<int16_t>(w);
    s->owned_[w] = {static_cast<uint16_t>(w)};
  }
  for (uint32_t p = 0; p < 65536; ++p) s->class_of_port_[p] = static_cast<uint16_t>(p % workers);
  return s;
}

Result<std::shared_ptr<const ReplySteering>> ReplySteering::toeplitz(
    std::span<const uint8_t> key, std::span<const uint16_t> reta, std::span<const int> queue_worker,
    unsigned workers, bool l4_tcp, bool l4_udp) {
  if (key.size() < kMinKeyBytes)
    return make_error("RSS key of " + std::to_string(key.size()) + " bytes (need at least 16)");
  if (reta.empty() || reta.size() > kMaxRetaSize || !std::has_single_bit(reta.size()))
    return make_error("RSS redirection table of " + std::to_string(reta.size()) +
                      " entries (need a power of two up to 512)");
  auto s = std::make_shared<ReplySteering>(Kind::toeplitz, workers,
                                           static_cast<unsigned>(reta.size() - 1));
  s->l4_tcp_ = l4_tcp;
  s->l4_udp_ = l4_udp;
  // rte_softrss reads the key as 32-bit words and one word past the input: pad to whole words.
  s->key_.assign(key.begin(), key.end());
  s->key_.resize((key.size() + 3) / 4 * 4 + 4, 0);
  s->entry_worker_.resize(reta.size());
  for (size_t e = 0; e < reta.size(); ++e) {
    const int w = reta[e] < queue_worker.size() ? queue_worker[reta[e]] : -1;
    if (w >= static_cast<int>(workers)) return make_error("rx queue polled by an unknown worker");
    s->entry_worker_[e] = static_cast<int16_t>(w);
    if (w >= 0) s->owned_[static_cast<unsigned>(w)].push_back(static_cast<uint16_t>(e));
  }
  for (uint32_t p = 0; p < 65536; ++p)
    s->class_of_port_[p] = static_cast<uint16_t>(toeplitz_hash(s->key_, 0, 0, p, true) & s->mask_);
  return std::shared_ptr<const ReplySteering>(std::move(s));
}

uint32_t ReplySteering::base(Proto proto, uint32_t rip_be, uint32_t laddr_be,
                             uint16_t rport_be) const {
  if (kind_ != Kind::toeplitz) return 0;
  const bool ports = port_hashed(proto);
  return toeplitz_hash(key_, ntohl(rip_be), ntohl(laddr_be),
                       ports ? uint32_t{ntohs(rport_be)} << 16 : 0, ports) &
         mask_;
}

int ReplySteering::worker_for(Proto proto, uint32_t rip_be, uint32_t laddr_be, uint16_t rport_be,
                              uint16_t lport_be) const {
  unsigned entry = base(proto, rip_be, laddr_be, rport_be);
  if (port_hashed(proto)) entry ^= class_of(ntohs(lport_be));
  return entry_worker_[entry & mask_];
}

std::string ReplySteering::describe() const {
  switch (kind_) {
    case Kind::single:
      return "all replies reach worker " + std::to_string(entry_worker_[0]);
    case Kind::toeplitz: {
      std::string s = "RSS-aware local ports (Toeplitz, " + std::to_string(mask_ + 1) +
                      "-entry redirection table; entries per worker:";
      for (const auto& o : owned_) s += " " + std::to_string(o.size());
      return s + ")";
    }
    case Kind::port_modulo:
      return "RSS unknown: local ports split by port % " + std::to_string(workers_) +
             " (replies reach the right worker only if the port's queues are steered by local "
             "port)";
  }
  return "";
}

}  // namespace vsgate
