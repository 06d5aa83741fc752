#include "lcore/worker.h"

#include <rte_cycles.h>

#include "lcore/worker_turn.h"

namespace vsgate {
namespace {

// Empty loop turns before the worker starts sleeping idle_sleep_us per turn.
constexpr unsigned kIdleTurnsBeforeSleep = 256;

void stall_if_asked(Worker& w) {
  const uint64_t until = w.stall_until_tsc.load(std::memory_order_relaxed);
  if (__builtin_expect(until == 0, 1)) return;
  while (rte_get_tsc_cycles() < until && w.running->load(std::memory_order_relaxed))
    rte_delay_us_sleep(1000);
  w.stall_until_tsc.store(0, std::memory_order_relaxed);
}

}  // namespace

int worker_main(void* arg) {
  Worker& w = *static_cast<Worker*>(arg);
  WorkerTurnState state(w);
  unsigned idle_turns = 0;

  w.qsbr->online(w.index);
  while (w.running->load(std::memory_order_relaxed)) {
    stall_if_asked(w);
    if (worker_turn(w, state)) {
      idle_turns = 0;
    } else if (w.idle_sleep_us && ++idle_turns > kIdleTurnsBeforeSleep) {
      rte_delay_us_sleep(w.idle_sleep_us);
    }
  }
  w.qsbr->offline(w.index);
  return 0;
}

}  // namespace vsgate
