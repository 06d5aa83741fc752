#include "app/neighbour_resolver.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/net_types.h"

namespace vsgate {

NeighbourResolver::~NeighbourResolver() {
  if (fd_ >= 0) close(fd_);
}

// A datagram to the discard port triggers ARP on the kni interface of the route.
void NeighbourResolver::poll(uint64_t now) {
  for (const uint32_t ip : queue_) {
    uint64_t& last = requested_us_[ip];
    if (last && now - last < 1000000) continue;
    last = now;
    if (fd_ < 0) fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(9);
    sa.sin_addr.s_addr = ip;
    if (fd_ >= 0) (void)sendto(fd_, "", 0, 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    VSG_LOG(debug, "asked the host to resolve %s", Ipv4Addr{ip}.str().c_str());
  }
  queue_.clear();
  if (requested_us_.size() > 4096) requested_us_.clear();
}

}  // namespace vsgate
