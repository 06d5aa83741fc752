// DPDK ethdev ports: probe (PCI or vdev), configure, start, stop, close; link state and stats.
#pragma once

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/config.h"

namespace vsgate {

struct PortStats {
  uint64_t ipackets = 0, opackets = 0, ibytes = 0, obytes = 0, imissed = 0, ierrors = 0,
           oerrors = 0, rx_nombuf = 0;
  std::vector<std::pair<std::string, uint64_t>> xstats;
  double nic_drop_ratio() const {
    const uint64_t seen = imissed + ipackets;
    return seen ? static_cast<double>(imissed) / static_cast<double>(seen) : 0.0;
  }
};

struct LinkState {
  bool up = false;
  uint32_t speed_mbps = 0;
  bool full_duplex = false;
};

// The NIC's receive-side scaling as configured: what decides the rx queue of a packet.
struct RssInfo {
  std::vector<uint8_t> key;
  std::vector<uint16_t> reta;  // rx queue of each redirection-table entry
  uint64_t rss_hf = 0;
};

// Owns one ethdev port from probe to close (RAII). Not movable: workers keep its id.
class EthPort {
 public:
  // Probes the device (vdev spec or PCI address) and returns the port, configured but not started.
  static Result<std::unique_ptr<EthPort>> open(const PortConfig& cfg, unsigned tx_queues,
                                               rte_mempool* pool);
  ~EthPort();
  EthPort(const EthPort&) = delete;
  EthPort& operator=(const EthPort&) = delete;

  Status start();
  void stop();

  uint16_t id() const { return id_; }
  const PortConfig& config() const { return cfg_; }
  const std::string& name() const { return cfg_.name; }
  std::string driver() const;
  rte_ether_addr mac() const;
  uint16_t rx_queues() const { return rx_queues_; }
  uint16_t tx_queues() const { return tx_queues_; }

  LinkState link() const;  // non-blocking
  // Key and redirection table as the driver reports them; an error if it cannot.
  Result<RssInfo> rss_info() const;
  PortStats stats() const;
  void reset_stats();

 private:
  EthPort(const PortConfig& cfg, uint16_t id, std::string dev_name, bool hotplugged);
  PortConfig cfg_;
  uint16_t id_;
  std::string dev_name_;  // rte_device name, for hot-unplug
  bool hotplugged_;
  bool started_ = false;
  uint16_t rx_queues_ = 0;
  uint16_t tx_queues_ = 0;
};

// Probe a device and find its ethdev port. `spec` is a PCI address or "driverN,k=v,...".
Result<uint16_t> probe_device(const std::string& spec, bool pci, std::string* dev_name);
// Configure queues of an already probed port and set its MTU.
Status configure_port(uint16_t port, uint16_t rxq, uint16_t txq, uint16_t rx_desc, uint16_t tx_desc,
                      uint16_t mtu, rte_mempool* pool);

}  // namespace vsgate
