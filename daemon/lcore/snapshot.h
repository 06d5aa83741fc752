// RCU-style publication of read-mostly state to the workers. The main lcore swaps in a new
// immutable object with one atomic store; the old one is freed only after every worker has
// reported a quiescent state (rte_rcu_qsbr) since the swap. The main lcore never waits: it polls
// for grace periods, so a stuck worker delays reclamation but never a control operation.
#pragma once

#include <rte_rcu_qsbr.h>

#include <atomic>
#include <deque>
#include <memory>

#include "common/result.h"

namespace vsgate {

class QsbrDomain {
 public:
  static Result<std::unique_ptr<QsbrDomain>> create(unsigned num_readers);
  ~QsbrDomain();
  QsbrDomain(const QsbrDomain&) = delete;
  QsbrDomain& operator=(const QsbrDomain&) = delete;

  // Reader side (workers), called from the reader's own thread.
  void online(unsigned reader) { rte_rcu_qsbr_thread_online(qs_, reader); }
  void offline(unsigned reader) { rte_rcu_qsbr_thread_offline(qs_, reader); }
  void quiescent(unsigned reader) { rte_rcu_qsbr_quiescent(qs_, reader); }

  // Writer side (main lcore).
  uint64_t start() { return rte_rcu_qsbr_start(qs_); }
  bool passed(uint64_t token) { return rte_rcu_qsbr_check(qs_, token, false) == 1; }

 private:
  explicit QsbrDomain(rte_rcu_qsbr* qs, unsigned n);
  rte_rcu_qsbr* qs_;
  unsigned num_readers_;
};

template <class T>
class Snapshot {
 public:
  explicit Snapshot(QsbrDomain& domain) : domain_(domain) {}
  ~Snapshot() {
    delete current_.load();
    // Only reached after the workers stopped, so nothing can still read what is retired.
  }
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  // Workers: valid until the reader's next quiescent state.
  const T* get() const { return current_.load(std::memory_order_acquire); }

  // Main lcore.
  void publish(std::unique_ptr<const T> next) {
    const T* old = current_.exchange(next.release(), std::memory_order_acq_rel);
    if (old) retired_.push_back({domain_.start(), std::unique_ptr<const T>(old)});
  }
  // Frees what no worker can still see. Returns how many objects are still waiting.
  size_t reclaim() {
    while (!retired_.empty() && domain_.passed(retired_.front().token)) retired_.pop_front();
    return retired_.size();
  }

 private:
  struct Retired {
    uint64_t token;
    std::unique_ptr<const T> object;
  };
  QsbrDomain& domain_;
  std::atomic<const T*> current_{nullptr};
  std::deque<Retired> retired_;
};

}  // namespace vsgate
