// lb.conns: one listing round over every worker at a time; requests arriving meanwhile join
// it. Each worker copies its connections into its own buffer of ours, a bounded step per loop
// turn (LbWorker::serve_control); the buffer is ours again once it answers (list_done). The
// reply waits for every worker, at most 5 s: a stuck worker's connections are left out, and
// the reply says so. Meanwhile the control socket serves other clients.
#pragma once

#include <cstdint>
#include <vector>

#include "common/result.h"
#include "ctrl/control_server.h"
#include "lb/lb_snapshot.h"
#include "lb/lb_worker.h"
#include "lcore/mailbox.h"
#include "lcore/messages.h"

namespace vsgate {

class ConnListing {
 public:
  // Rows per worker (as many as before the listing was incremental), and how long the reply
  // waits for the workers.
  static constexpr size_t kMaxRows = 100000;
  static constexpr uint64_t kDeadlineUs = 5000000;

  // `to_workers`: each worker's mailbox from the main lcore, index = worker index.
  explicit ConnListing(std::vector<Mailbox<ToWorker>*> to_workers);

  // A request (its deferred control token): starts a round, or joins the one in progress.
  void request(uint64_t token, uint64_t now_us);
  // A worker's list_done.
  void on_list_done(unsigned worker, uint64_t request, uint32_t rows);
  // Every loop turn: hands each worker its buffer (retrying a full mailbox), and once every
  // worker answered, or at the deadline, completes every waiting request on `server`.
  // `snapshot`: the current LbSnapshot, which names the real servers of the rows.
  void poll(uint64_t now_us, const LbSnapshot* snapshot, ControlServer& server);
  // Requests waiting for the current round.
  size_t waiting() const { return waiting_.size(); }

 private:
  Json rows_json(const LbSnapshot* snapshot, unsigned* missing) const;

  struct WorkerListing {
    enum class State { idle, to_send, busy } state = State::idle;
    uint64_t request = 0;
    std::vector<ConnRow> rows;
    uint32_t filled = 0;
    bool answered = false;  // in the current round
  };
  std::vector<Mailbox<ToWorker>*> to_workers_;
  std::vector<WorkerListing> listings_;
  std::vector<uint64_t> waiting_;  // control tokens waiting for the current round
  uint64_t deadline_us_ = 0;
  uint64_t next_request_ = 0;
};

}  // namespace vsgate
