// A typed mailbox between lcores: an rte_ring of fixed-size messages (copied in and out, no
// pointers to free), created for one producer/consumer discipline and used only that way. A
// full mailbox is a counted failure, never a wait: the sender retries or drops, as it decides.
#pragma once

#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

#include "common/result.h"

namespace vsgate {

enum class RingDiscipline {
  spsc,  // one producer lcore, one consumer lcore (the cheap, lock-free-without-CAS case)
  mpsc,  // several producer lcores, one consumer
};

template <class Msg>
class Mailbox {
  static_assert(std::is_trivially_copyable_v<Msg>, "messages are copied as bytes");
  static_assert(sizeof(Msg) % 4 == 0, "rte_ring element sizes are multiples of 4");

 public:
  // `capacity` is rounded up to a power of two; `name` must be unique among rings.
  static Result<std::unique_ptr<Mailbox>> create(const std::string& name, unsigned capacity,
                                                 RingDiscipline d, int socket = SOCKET_ID_ANY) {
    const unsigned flags =
        d == RingDiscipline::spsc ? RING_F_SP_ENQ | RING_F_SC_DEQ : RING_F_SC_DEQ;
    rte_ring* r =
        rte_ring_create_elem(name.c_str(), sizeof(Msg), capacity, socket, flags | RING_F_EXACT_SZ);
    if (!r) return make_error("mailbox " + name + ": " + rte_strerror(rte_errno));
    return std::unique_ptr<Mailbox>(new Mailbox(r, d));
  }
  ~Mailbox() { rte_ring_free(ring_); }
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // Producer side. False (and counted) when the mailbox is full.
  bool send(const Msg& m) {
    const int rc = discipline_ == RingDiscipline::spsc
                       ? rte_ring_sp_enqueue_elem(ring_, const_cast<Msg*>(&m), sizeof(Msg))
                       : rte_ring_mp_enqueue_elem(ring_, const_cast<Msg*>(&m), sizeof(Msg));
    if (rc == 0) [[likely]]
      return true;
    full_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  // Consumer side: up to `max` messages, in the order sent.
  unsigned receive(Msg* out, unsigned max) {
    return rte_ring_sc_dequeue_burst_elem(ring_, out, sizeof(Msg), max, nullptr);
  }

  uint64_t full() const { return full_.load(std::memory_order_relaxed); }
  unsigned capacity() const { return rte_ring_get_capacity(ring_); }

 private:
  Mailbox(rte_ring* r, RingDiscipline d) : ring_(r), discipline_(d) {}
  rte_ring* ring_;
  RingDiscipline discipline_;
  std::atomic<uint64_t> full_{0};  // sends refused; several producers may count (mpsc)
};

}  // namespace vsgate
