#include "netif/port.h"

#include <rte_bus_pci.h>
#include <rte_dev.h>
#include <rte_errno.h>

#include <cstring>

#include "common/log.h"

namespace vsgate {
namespace {

std::string err(const std::string& what, int rc) {
  return what + ": " + rte_strerror(rc < 0 ? -rc : rc);
}

}  // namespace

Result<uint16_t> probe_device(const std::string& spec, bool pci, std::string* dev_name) {
  std::string bus = pci ? "pci" : "vdev";
  std::string name = spec, args;
  if (auto comma = spec.find(','); comma != std::string::npos) {
    name = spec.substr(0, comma);
    args = spec.substr(comma + 1);
  }
  int rc = rte_eal_hotplug_add(bus.c_str(), name.c_str(), args.c_str());
  if (rc != 0 && rc != -EEXIST) return make_error(err("probing " + spec, rc));
  uint16_t port;
  // A PCI device's ethdev name is its address in canonical form.
  if (rte_eth_dev_get_port_by_name(name.c_str(), &port) != 0)
    return make_error("probing " + spec + ": no ethdev port appeared for " + name);
  *dev_name = name;
  return port;
}

Status configure_port(uint16_t port, uint16_t rxq, uint16_t txq, uint16_t rx_desc, uint16_t tx_desc,
                      uint16_t mtu, rte_mempool* pool) {
  rte_eth_dev_info info{};
  int rc = rte_eth_dev_info_get(port, &info);
  if (rc != 0) return make_error(err("rte_eth_dev_info_get", rc));
  if (rxq > info.max_rx_queues || txq > info.max_tx_queues)
    return make_error("device supports at most " + std::to_string(info.max_rx_queues) + " rx / " +
                      std::to_string(info.max_tx_queues) + " tx queues, asked for " +
                      std::to_string(rxq) + " / " + std::to_string(txq));
  rte_eth_conf conf{};
  if (rxq > 1) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf =
        (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
  }
  // The NIC checks IPv4 header checksums where it can: classify() trusts
  // RTE_MBUF_F_RX_IP_CKSUM_GOOD and sums the header in software for any other flag, so ports
  // without the offload work as before. TCP/UDP checksums are not verified (they are updated
  // incrementally, so a bad one stays bad), so their offloads would buy nothing.
  conf.rxmode.offloads = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM & info.rx_offload_capa;
  rc = rte_eth_dev_configure(port, rxq, txq, &conf);
  if (rc != 0) return make_error(err("rte_eth_dev_configure", rc));
  uint16_t nrx = rx_desc, ntx = tx_desc;
  rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx);
  if (rc != 0) return make_error(err("rte_eth_dev_adjust_nb_rx_tx_desc", rc));
  const int socket = rte_eth_dev_socket_id(port);
  for (uint16_t q = 0; q < rxq; ++q) {
    rc = rte_eth_rx_queue_setup(port, q, nrx, socket, nullptr, pool);
    if (rc != 0) return make_error(err("rx queue " + std::to_string(q) + " setup", rc));
  }
  for (uint16_t q = 0; q < txq; ++q) {
    rc = rte_eth_tx_queue_setup(port, q, ntx, socket, nullptr);
    if (rc != 0) return make_error(err("tx queue " + std::to_string(q) + " setup", rc));
  }
  uint16_t cur = 0;
  if (rte_eth_dev_get_mtu(port, &cur) == 0 && cur != mtu) {
    rc = rte_eth_dev_set_mtu(port, mtu);
    if (rc != 0) return make_error(err("setting MTU " + std::to_string(mtu), rc));
  }
  return Ok{};
}

Result<std::unique_ptr<EthPort>> EthPort::open(const PortConfig& cfg, unsigned tx_queues,
                                               rte_mempool* pool) {
  std::string dev_name;
  auto id = probe_device(cfg.device, cfg.is_pci(), &dev_name);
  if (!id) return make_error("port " + cfg.name + ": " + id.message());
  std::unique_ptr<EthPort> p(new EthPort(cfg, *id, dev_name, true));
  p->rx_queues_ = cfg.rx_queues;
  p->tx_queues_ = static_cast<uint16_t>(tx_queues);
  auto st = configure_port(p->id_, p->rx_queues_, p->tx_queues_, cfg.rx_descriptors,
                           cfg.tx_descriptors, cfg.mtu, pool);
  if (!st) return make_error("port " + cfg.name + " (" + cfg.device + "): " + st.message());
  return p;
}

Result<RssInfo> EthPort::rss_info() const {
  rte_eth_dev_info info{};
  int rc = rte_eth_dev_info_get(id_, &info);
  if (rc != 0) return make_error(err("rte_eth_dev_info_get", rc));
  if (info.hash_key_size == 0 || info.reta_size == 0)
    return make_error("the driver reports no RSS key or redirection table");
  RssInfo r;
  r.key.resize(info.hash_key_size);
  rte_eth_rss_conf conf{};
  conf.rss_key = r.key.data();
  conf.rss_key_len = info.hash_key_size;
  rc = rte_eth_dev_rss_hash_conf_get(id_, &conf);
  if (rc != 0) return make_error(err("rte_eth_dev_rss_hash_conf_get", rc));
  r.rss_hf = conf.rss_hf;
  std::vector<rte_eth_rss_reta_entry64> reta((info.reta_size + RTE_ETH_RETA_GROUP_SIZE - 1) /
                                             RTE_ETH_RETA_GROUP_SIZE);
  for (auto& g : reta) g.mask = ~uint64_t{0};
  rc = rte_eth_dev_rss_reta_query(id_, reta.data(), info.reta_size);
  if (rc != 0) return make_error(err("rte_eth_dev_rss_reta_query", rc));
  r.reta.resize(info.reta_size);
  for (uint16_t e = 0; e < info.reta_size; ++e)
    r.reta[e] = reta[e / RTE_ETH_RETA_GROUP_SIZE].reta[e % RTE_ETH_RETA_GROUP_SIZE];
  return r;
}

EthPort::EthPort(const PortConfig& cfg, uint16_t id, std::string dev_name, bool hotplugged)
    : cfg_(cfg), id_(id), dev_name_(std::move(dev_name)), hotplugged_(hotplugged) {}

EthPort::~EthPort() {
  stop();
  rte_eth_dev_close(id_);
  // Closing releases the port; removing the vdev lets a restart within one process reuse names.
  if (hotplugged_ && !cfg_.is_pci()) rte_eal_hotplug_remove("vdev", dev_name_.c_str());
}

Status EthPort::start() {
  int rc = rte_eth_dev_start(id_);
  if (rc != 0) return make_error("port " + cfg_.name + ": " + err("rte_eth_dev_start", rc));
  started_ = true;
  rte_eth_promiscuous_enable(id_);  // VIPs and transit traffic are not addressed to our MAC only
  return Ok{};
}

void EthPort::stop() {
  if (!started_) return;
  rte_eth_dev_stop(id_);
  started_ = false;
}

std::string EthPort::driver() const {
  rte_eth_dev_info info{};
  if (rte_eth_dev_info_get(id_, &info) != 0 || !info.driver_name) return "";
  return info.driver_name;
}

rte_ether_addr EthPort::mac() const {
  rte_ether_addr a{};
  rte_eth_macaddr_get(id_, &a);
  return a;
}

LinkState EthPort::link() const {
  rte_eth_link l{};
  LinkState s;
  if (rte_eth_link_get_nowait(id_, &l) != 0) return s;
  s.up = l.link_status == RTE_ETH_LINK_UP;
  s.speed_mbps = l.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : l.link_speed;
  s.full_duplex = l.link_duplex == RTE_ETH_LINK_FULL_DUPLEX;
  return s;
}

PortStats EthPort::stats() const {
  PortStats s;
  rte_eth_stats st{};
  if (rte_eth_stats_get(id_, &st) == 0) {
    s.ipackets = st.ipackets;
    s.opackets = st.opackets;
    s.ibytes = st.ibytes;
    s.obytes = st.obytes;
    s.imissed = st.imissed;
    s.ierrors = st.ierrors;
    s.oerrors = st.oerrors;
    s.rx_nombuf = st.rx_nombuf;
  }
  int n = rte_eth_xstats_get_names(id_, nullptr, 0);
  if (n > 0) {
    std::vector<rte_eth_xstat_name> names(static_cast<size_t>(n));
    std::vector<rte_eth_xstat> vals(static_cast<size_t>(n));
    if (rte_eth_xstats_get_names(id_, names.data(), static_cast<unsigned>(n)) == n &&
        rte_eth_xstats_get(id_, vals.data(), static_cast<unsigned>(n)) == n) {
      for (const auto& v : vals)
        if (v.id < static_cast<uint64_t>(n)) s.xstats.emplace_back(names[v.id].name, v.value);
    }
  }
  return s;
}

void EthPort::reset_stats() {
  rte_eth_stats_reset(id_);
  rte_eth_xstats_reset(id_);
}

}  // namespace vsgate
