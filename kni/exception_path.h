// The exception path ("KNI"): one kernel interface per data-plane port through which everything
// the data plane does not consume reaches the host stack, and through which the host's packets
// leave on the port. rte_kni is gone, so the kernel side is the ethdev of a backend: the TAP PMD
// now, virtio-user over vhost-net later. Both give an ethdev port, so the I/O is the same for
// every backend and only creation differs.
//
// Workers never touch the kernel side: they enqueue punted packets on their own bounded ring
// (full = counted drop) and transmit what the main lcore hands them on their inject ring.
#pragma once

#include <rte_ether.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "lcore/io_stats.h"

namespace vsgate {

struct KniSpec {
  std::string ifname;    // kernel interface name, e.g. dpdk0.kni
  rte_ether_addr mac{};  // same as the data-plane port
  uint16_t mtu = 1500;
  uint16_t data_port = 0;  // the data-plane port it belongs to
  uint16_t descriptors = 512;
  rte_mempool* pool = nullptr;
};

// Creates the device behind a kernel interface. Control path only (virtual dispatch is fine).
class ExceptionPathBackend {
 public:
  virtual ~ExceptionPathBackend() = default;
  virtual const char* name() const = 0;
  // Returns the vdev spec "driverN,k=v,..." that makes the kernel interface.
  virtual Result<std::string> device_spec(const KniSpec& spec, unsigned instance) const = 0;
};

Result<std::unique_ptr<ExceptionPathBackend>> make_exception_path_backend(KniBackend kind);

// One kernel interface and the ethdev port that talks to it (RAII: removing the device removes
// the kernel interface).
class KniInterface {
 public:
  static Result<std::unique_ptr<KniInterface>> create(const ExceptionPathBackend& backend,
                                                      const KniSpec& spec);
  ~KniInterface();
  KniInterface(const KniInterface&) = delete;
  KniInterface& operator=(const KniInterface&) = delete;

  uint16_t port_id() const { return port_id_; }
  uint16_t data_port() const { return data_port_; }
  const std::string& ifname() const { return ifname_; }
  const std::string& backend() const { return backend_; }

 private:
  KniInterface() = default;
  uint16_t port_id_ = 0;
  uint16_t data_port_ = 0;
  std::string ifname_, dev_name_, backend_;
  bool started_ = false;
};

// Main-lcore side of the exception path.
class ExceptionPath {
 public:
  // One punt ring (worker -> host) and one inject ring (host -> worker) per worker.
  ExceptionPath(std::vector<rte_ring*> punt_rings, std::vector<rte_ring*> inject_rings);
  ~ExceptionPath();

  void attach(std::unique_ptr<KniInterface> kni);
  const KniInterface* kni_of(uint16_t data_port) const;
  const std::vector<std::unique_ptr<KniInterface>>& interfaces() const { return knis_; }
  // The worker whose tx queues carry what the host sends out of `data_port`.
  unsigned inject_worker(uint16_t data_port) const {
    return data_port % static_cast<unsigned>(inject_rings_.size());
  }

  // Moves packets both ways, a bounded amount per call so that a flood cannot monopolize the
  // main lcore. Returns the number of packets moved (0 = idle).
  unsigned poll();
  const ExceptionPathStats& stats() const { return stats_; }
  // Frees everything still queued (shutdown, after the workers stopped).
  void drain();

 private:
  static constexpr unsigned kBurst = 32;
  static constexpr unsigned kBurstsPerPoll = 8;
  std::vector<rte_ring*> punt_rings_, inject_rings_;
  std::vector<std::unique_ptr<KniInterface>> knis_;
  std::array<int, 32> kni_by_data_port_;  // index into knis_, -1 = none
  ExceptionPathStats stats_;
};

}  // namespace vsgate
