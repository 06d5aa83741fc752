// The messages of the per-worker mailboxes (lcore/mailbox.h), one type per direction. A message
// is a kind and the fields of that kind: plain data, copied through the ring, dispatched with a
// switch. docs/ARCHITECTURE.md ("Mailboxes") lists who sends what.
#pragma once

#include <cstdint>

#include "lb/core/conn_table.h"

namespace vsgate {

struct ConnRow;  // lb/lb_worker.h

// Main lcore -> one worker (SPSC).
struct ToWorker {
  enum class Kind : uint32_t {
    set_timeouts,  // generation, timeouts: applied once per generation, in order
    list_conns,    // request, rows, capacity: copy connections into rows, a bounded step a turn
  };
  Kind kind{};
  uint64_t generation = 0;
  Timeouts timeouts;
  uint64_t request = 0;
  ConnRow* rows = nullptr;  // owned by the main lcore until the worker answers list_done
  uint32_t capacity = 0;

  static ToWorker set_timeouts_msg(uint64_t generation, const Timeouts& t) {
    ToWorker m;
    m.kind = Kind::set_timeouts;
    m.generation = generation;
    m.timeouts = t;
    return m;
  }
  static ToWorker list_conns_msg(uint64_t request, ConnRow* rows, uint32_t capacity) {
    ToWorker m;
    m.kind = Kind::list_conns;
    m.request = request;
    m.rows = rows;
    m.capacity = capacity;
    return m;
  }
};

// One worker -> main lcore (SPSC).
struct ToMain {
  enum class Kind : uint32_t {
    neighbour_request,  // ip_be: make the host resolve it (no route entry has its MAC)
    list_done,          // request, rows: that many rows are written; the buffer is main's again
  };
  Kind kind{};
  uint32_t ip_be = 0;
  uint64_t request = 0;
  uint32_t rows = 0;

  static ToMain neighbour_request_msg(uint32_t ip_be) {
    ToMain m;
    m.kind = Kind::neighbour_request;
    m.ip_be = ip_be;
    return m;
  }
  static ToMain list_done_msg(uint64_t request, uint32_t rows) {
    ToMain m;
    m.kind = Kind::list_done;
    m.request = request;
    m.rows = rows;
    return m;
  }
};

}  // namespace vsgate
