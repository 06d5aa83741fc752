// The exception path on the main lcore (docs/ARCHITECTURE.md, kni/): a kernel interface per
// port that names one (same MAC and MTU, IPv6 off, up, with the configured addresses), and the
// packets moved every loop turn between them and the workers' punt and inject rings. The
// move can be paused (debug.pause_exception_path), as if the host stopped reading.
#pragma once

#include <rte_mempool.h>
#include <rte_ring.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "common/result.h"
#include "kni/exception_path.h"
#include "netif/port.h"

namespace vsgate {

class ExceptionPathIo {
 public:
  // One punt ring (worker -> host) and one inject ring (host -> worker) per worker.
  ExceptionPathIo(std::vector<rte_ring*> punt_rings, std::vector<rte_ring*> inject_rings);
  // Frees what is still queued, then removes the kernel interfaces (the workers have stopped).
  ~ExceptionPathIo();
  ExceptionPathIo(const ExceptionPathIo&) = delete;
  ExceptionPathIo& operator=(const ExceptionPathIo&) = delete;

  // The kernel interface of every port with `kni` set, `descriptors` each, mbufs from `pool`.
  Status create_interfaces(const std::vector<std::unique_ptr<EthPort>>& ports, rte_mempool* pool,
                           uint16_t descriptors);
  // Every loop turn: packets moved (0 = idle, or paused).
  unsigned poll(uint64_t now_us) { return now_us >= paused_until_us_ ? path_.poll() : 0; }
  // Moves nothing until then (monotonic µs).
  void pause_until(uint64_t mono_us) { paused_until_us_ = mono_us; }
  uint64_t paused_until() const { return paused_until_us_; }

  const ExceptionPath& path() const { return path_; }

 private:
  ExceptionPath path_;
  uint64_t paused_until_us_ = 0;
};

}  // namespace vsgate
