// Host state -> workers (docs/ARCHITECTURE.md): the host-stack mirror of the exception-path
// interfaces (rtnetlink events and dumps, /proc/net/arp every arp_resync_ms) and, whenever it
// changed, a new forwarding snapshot (routes, neighbours, own addresses, port MAC/MTU)
// published to the workers; old ones are freed once no worker can see them. Routes and
// neighbours are built apart (ipv4/fib_builder.h): one that cannot be built keeps its last good
// table, is retried with backoff, and its state is in status().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "common/log_limiter.h"
#include "common/result.h"
#include "config/config.h"
#include "ipv4/fib.h"
#include "ipv4/fib_builder.h"
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
               const std::vector<std::unique_ptr<EthPort>>& ports, const FibLimits& limits = {})
      : global_(global), fib_(fib), ports_(ports), builder_(limits) {}

  // Tracks every kernel interface of the exception path and loads the mirror from the kernel.
  Status start(const ExceptionPath& path);
  // Every loop turn: mirror events, the periodic ARP resync, a rebuild if something changed
  // (or a failed table's retry is due), reclamation of old snapshots.
  void poll(uint64_t now_us);
  // Builds and publishes a snapshot from the mirror if anything in it differs from the current
  // one (a failed table is attempted again only when its retry is due).
  void rebuild();
  void rebuild(uint64_t now_us);

  const HostStackMirror& mirror() const { return mirror_; }
  // Routes and neighbours: ok or stale since when and why, counts (STATUS=, status, route.show).
  const FibStatus& status() const { return builder_.status(); }

 private:
  void poll_host_stack(uint64_t now_us);

  const GlobalConfig& global_;
  Snapshot<Fib>& fib_;
  const std::vector<std::unique_ptr<EthPort>>& ports_;
  HostStackMirror mirror_;
  std::optional<RtnlSocket> rtnl_;
  FibBuilder builder_;
  LogLimiter lost_log_, resync_log_;
  bool dirty_ = true;
  uint64_t next_arp_resync_us_ = 0;
};

}  // namespace vsgate
