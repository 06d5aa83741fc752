// Host state -> workers (docs/ARCHITECTURE.md): the host-stack mirror of the exception-path
// interfaces (rtnetlink events and dumps, /proc/net/arp every arp_resync_ms) and, whenever it
// changed, a new forwarding snapshot (routes, neighbours, own addresses, port MAC/MTU)
// published to the workers; old ones are freed once no worker can see them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "ipv4/fib.h"
#include "kni/exception_path.h"
#include "kni/mirror/host_stack.h"
#include "kni/mirror/netlink.h"
#include "lcore/snapshot.h"
#include "netif/port.h"

namespace vsgate {

// What a forwarding snapshot is built from: the mirror's routes, neighbours and addresses, and
// the ports' MAC and MTU (a port's first address is its own source address).
FibInput fib_input(const HostStackMirror& mirror,
                   const std::vector<std::unique_ptr<EthPort>>& ports);

class FibPublisher {
 public:
  FibPublisher(const GlobalConfig& global, Snapshot<Fib>& fib,
               const std::vector<std::unique_ptr<EthPort>>& ports)
      : global_(global), fib_(fib), ports_(ports) {}

  // Tracks every kernel interface of the exception path and loads the mirror from the kernel.
  Status start(const ExceptionPath& path);
  // Every loop turn: mirror events, the periodic ARP resync, a rebuild if something changed,
  // reclamation of old snapshots.
  void poll(uint64_t now_us);
  // Builds and publishes a snapshot if the mirror changed since the last one.
  void rebuild();

  const HostStackMirror& mirror() const { return mirror_; }

 private:
  void poll_host_stack(uint64_t now_us);

  const GlobalConfig& global_;
  Snapshot<Fib>& fib_;
  const std::vector<std::unique_ptr<EthPort>>& ports_;
  HostStackMirror mirror_;
  std::optional<RtnlSocket> rtnl_;
  bool dirty_ = true;
  uint64_t next_arp_resync_us_ = 0;
  uint64_t generation_ = 0;
};

}  // namespace vsgate
