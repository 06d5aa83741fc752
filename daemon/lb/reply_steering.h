// Which worker receives the reply of a FULLNAT connection (real server -> local address:port).
//
// A FULLNAT reply comes back on the local address's port, and the NIC's RSS picks its rx queue
// from (real server, local address, real port, local port). The worker that created the
// connection must get that reply, because connection tables are per worker and lock-free. Instead
// of flow-director rules (which DPVS needs for multi-core FULLNAT), the worker chooses a local
// port whose reply the NIC's own Toeplitz hash sends to one of its queues.
//
// The Toeplitz hash is linear over XOR: hash(rip, laddr, rport, lport) =
// hash(rip, laddr, rport, 0) ^ hash(0, 0, 0, lport). Only the low bits pick the redirection
// table entry, so each local port falls in one "class" (the low bits of its own contribution), and
// for a given real server a worker may take ports of exactly the classes c for which
// reta[(base ^ c) & mask] is one of its queues. Pools keep their free ports per class.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "lb/types.h"

namespace vsgate {

class ReplySteering {
 public:
  enum class Kind : uint8_t {
    single,       // every reply reaches one worker (one rx queue, or one worker)
    toeplitz,     // the NIC's RSS key and redirection table are known
    port_modulo,  // RSS unknown: worker w owns ports with port % workers == w (needs flow rules)
  };

  // Every reply reaches `worker`.
  static std::shared_ptr<const ReplySteering> single(unsigned worker, unsigned workers);
  // The NIC's RSS: `key` as rte_eth_dev_rss_hash_conf_get reports it (at least 16 bytes),
  // `reta` the rx queue of each redirection-table entry (a power of two entries, at most 512),
  // `queue_worker` the worker polling each rx queue (-1: none). `l4_tcp`/`l4_udp`: whether the
  // NIC hashes the ports of that protocol (else only the addresses).
  static Result<std::shared_ptr<const ReplySteering>> toeplitz(std::span<const uint8_t> key,
                                                               std::span<const uint16_t> reta,
                                                               std::span<const int> queue_worker,
                                                               unsigned workers, bool l4_tcp,
                                                               bool l4_udp);
  static std::shared_ptr<const ReplySteering> port_modulo(unsigned workers);

  Kind kind() const { return kind_; }
  unsigned workers() const { return workers_; }
  // Number of port classes (a power of two; 1 for single).
  unsigned classes() const { return mask_ + 1; }
  unsigned class_of(uint16_t port_host) const { return class_of_port_[port_host]; }
  // Redirection-table entries whose queue belongs to `worker` (for port_modulo: its class).
  const std::vector<uint16_t>& owned_entries(unsigned worker) const { return owned_[worker]; }
  // The entry of a reply, before the local port's own contribution (XOR the port's class).
  // Addresses and ports in network byte order.
  uint32_t base(Proto proto, uint32_t rip_be, uint32_t laddr_be, uint16_t rport_be) const;
  // Whether the local port enters the hash for this protocol.
  bool port_hashed(Proto proto) const {
    return kind_ != Kind::toeplitz || (proto == Proto::tcp ? l4_tcp_ : l4_udp_);
  }
  // The worker the reply (rip:rport -> laddr:lport) reaches; -1 if no worker polls that queue.
  int worker_for(Proto proto, uint32_t rip_be, uint32_t laddr_be, uint16_t rport_be,
                 uint16_t lport_be) const;
  // One line for the log: how replies are steered.
  std::string describe() const;

  ReplySteering(Kind kind, unsigned workers, unsigned mask);

 private:
  Kind kind_;
  unsigned workers_;
  unsigned mask_;
  bool l4_tcp_ = true, l4_udp_ = true;
  std::vector<uint8_t> key_;
  std::vector<int16_t> entry_worker_;         // redirection-table entry -> worker (-1: none)
  std::vector<std::vector<uint16_t>> owned_;  // per worker
  std::vector<uint16_t> class_of_port_;       // 65536 entries, by host-order port
};

}  // namespace vsgate
