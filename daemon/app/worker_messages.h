// What the workers tell the main lcore through their mailboxes (lcore/messages.h, ToMain):
// neighbour requests go to the NeighbourResolver, listing answers to the ConnListing.
#pragma once

#include <vector>

#include "app/conn_listing.h"
#include "app/neighbour_resolver.h"
#include "lcore/mailbox.h"
#include "lcore/messages.h"

namespace vsgate {

class WorkerMessages {
 public:
  // `from_workers`: each worker's mailbox to the main lcore, index = worker index.
  WorkerMessages(std::vector<Mailbox<ToMain>*> from_workers, NeighbourResolver& resolver,
                 ConnListing& listing)
      : from_workers_(std::move(from_workers)), resolver_(resolver), listing_(listing) {}

  // Every loop turn: a bounded number of messages per worker.
  void poll();

 private:
  std::vector<Mailbox<ToMain>*> from_workers_;
  NeighbourResolver& resolver_;
  ConnListing& listing_;
};

}  // namespace vsgate
