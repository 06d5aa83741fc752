// Load-balancer state -> workers (docs/ARCHITECTURE.md): publishes a new LbSnapshot after each
// change of the registry, learns which generations every worker has passed (so that removed
// real servers can be released), and delivers the timeouts to every worker's mailbox as
// numbered generations.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "lb/lb_snapshot.h"
#include "lb/registry.h"
#include "lcore/mailbox.h"
#include "lcore/messages.h"
#include "lcore/snapshot.h"

namespace vsgate {

class LbPublisher {
 public:
  // `to_workers`: each worker's mailbox from the main lcore, index = worker index.
  LbPublisher(Snapshot<LbSnapshot>& services, QsbrDomain& qsbr,
              std::vector<Mailbox<ToWorker>*> to_workers);

  // A new snapshot if the registry changed since the last one.
  void publish(LbRegistry& registry);
  // Every loop turn: publish(), free snapshots no worker can see, note the generations every
  // worker has passed, and (re)send the timeouts where they have not arrived.
  void poll(LbRegistry& registry);
  // Timeouts changed (ipvsadm --set, or the first call): a new generation for every worker,
  // sent until each mailbox took it. Workers apply a generation once, so a resend is harmless.
  void send_timeouts(const Timeouts& timeouts);
  // The newest generation every worker has passed a quiescent state since it was published:
  // none can create connections to what it removed.
  uint64_t safe_generation() const { return safe_generation_; }

 private:
  Snapshot<LbSnapshot>& services_;
  QsbrDomain& qsbr_;
  std::vector<Mailbox<ToWorker>*> to_workers_;
  uint64_t published_generation_ = UINT64_MAX;
  struct Publication {
    uint64_t generation;
    uint64_t token;
  };
  std::deque<Publication> publications_;  // to learn which generations every worker passed
  uint64_t safe_generation_ = 0;
  // Timeouts reach the workers as numbered generations (the latest sent, per worker).
  uint64_t timeouts_generation_ = 0;
  Timeouts timeouts_sent_;
  std::vector<uint64_t> timeouts_delivered_;
};

}  // namespace vsgate
