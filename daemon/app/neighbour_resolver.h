// Neighbour resolution on the main lcore: next hops the workers found no MAC for, and real
// servers when they are added, are made known to the host stack, which resolves them (ARP on
// the kni interface); the host-stack mirror then brings the MAC to the workers.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

namespace vsgate {

class NeighbourResolver {
 public:
  NeighbourResolver() = default;
  ~NeighbourResolver();
  NeighbourResolver(const NeighbourResolver&) = delete;
  NeighbourResolver& operator=(const NeighbourResolver&) = delete;

  // Queues an address (network order) for the next poll().
  void request(uint32_t ip_be) { queue_.push_back(ip_be); }
  // Sends the host one empty UDP datagram (discard port) per queued address, at most one per
  // address and second, which makes it resolve the address; empties the queue.
  void poll(uint64_t now_us);
  // Addresses queued since the last poll().
  const std::vector<uint32_t>& queued() const { return queue_; }

 private:
  std::vector<uint32_t> queue_;
  std::map<uint32_t, uint64_t> requested_us_;  // ip -> when we last asked the host
  int fd_ = -1;
};

}  // namespace vsgate
