#include "kni/exception_path.h"

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <cstdio>

#include "common/log.h"

namespace vsgate {
namespace {

std::string mac_str(const rte_ether_addr& a) {
  char buf[RTE_ETHER_ADDR_FMT_SIZE];
  rte_ether_format_addr(buf, sizeof buf, &a);
  return buf;
}

class TapBackend final : public ExceptionPathBackend {
 public:
  const char* name() const override { return "tap"; }
  Result<std::string> device_spec(const KniSpec& spec, unsigned instance) const override {
    return "net_tap_vsg" + std::to_string(instance) + ",iface=" + spec.ifname +
           ",mac=" + mac_str(spec.mac);
  }
};

// virtio-user over vhost-net: the kernel interface is the tap that vhost-net creates. The vhost
// kernel thread reads the rings by virtual address, so the EAL must run IOVA-as-VA (vfio-pci
// with an IOMMU, or virtual devices only); uio_pci_generic forces IOVA-as-PA.
class VirtioUserBackend final : public ExceptionPathBackend {
 public:
  const char* name() const override { return "virtio-user"; }
  Result<std::string> device_spec(const KniSpec& spec, unsigned instance) const override {
    if (access("/dev/vhost-net", R_OK | W_OK) != 0)
      return make_error("kni_backend virtio-user needs /dev/vhost-net, which this kernel lacks");
    if (rte_eal_iova_mode() != RTE_IOVA_VA)
      return make_error(
          "kni_backend virtio-user needs IOVA as VA, but the EAL runs IOVA as PA "
          "(uio_pci_generic?): bind the ports to vfio-pci or use kni_backend tap");
    return "virtio_user_vsg" + std::to_string(instance) + ",path=/dev/vhost-net,queues=1" +
           ",queue_size=" + std::to_string(spec.descriptors) + ",iface=" + spec.ifname +
           ",mac=" + mac_str(spec.mac);
  }
};

}  // namespace

Result<std::unique_ptr<ExceptionPathBackend>> make_exception_path_backend(KniBackend kind) {
  switch (kind) {
    case KniBackend::tap:
      return std::unique_ptr<ExceptionPathBackend>(new TapBackend());
    case KniBackend::virtio_user:
      return std::unique_ptr<ExceptionPathBackend>(new VirtioUserBackend());
  }
  return make_error("unknown exception path backend");
}

Result<std::unique_ptr<KniInterface>> KniInterface::create(const ExceptionPathBackend& backend,
                                                           const KniSpec& spec) {
  auto dev = backend.device_spec(spec, spec.data_port);
  if (!dev) return make_error(spec.ifname + ": " + dev.message());
  std::unique_ptr<KniInterface> k(new KniInterface());
  k->ifname_ = spec.ifname;
  k->data_port_ = spec.data_port;
  k->backend_ = backend.name();
  const std::string& d = dev.value();
  const auto comma = d.find(',');
  k->dev_name_ = d.substr(0, comma);
  int rc = rte_eal_hotplug_add("vdev", k->dev_name_.c_str(), d.substr(comma + 1).c_str());
  if (rc != 0) {
    k->dev_name_.clear();
    return make_error(spec.ifname + ": creating " + d + ": " + rte_strerror(-rc));
  }
  if (rte_eth_dev_get_port_by_name(k->dev_name_.c_str(), &k->port_id_) != 0)
    return make_error(spec.ifname + ": no ethdev port for " + k->dev_name_);
  rte_eth_conf conf{};
  if ((rc = rte_eth_dev_configure(k->port_id_, 1, 1, &conf)) != 0 ||
      (rc = rte_eth_rx_queue_setup(k->port_id_, 0, spec.descriptors,
                                   rte_eth_dev_socket_id(k->port_id_), nullptr, spec.pool)) != 0 ||
      (rc = rte_eth_tx_queue_setup(k->port_id_, 0, spec.descriptors,
                                   rte_eth_dev_socket_id(k->port_id_), nullptr)) != 0)
    return make_error(spec.ifname + ": configuring " + k->dev_name_ + ": " + rte_strerror(-rc));
  if ((rc = rte_eth_dev_set_mtu(k->port_id_, spec.mtu)) != 0)
    return make_error(spec.ifname + ": MTU " + std::to_string(spec.mtu) + ": " + rte_strerror(-rc));
  if ((rc = rte_eth_dev_start(k->port_id_)) != 0)
    return make_error(spec.ifname + ": starting " + k->dev_name_ + ": " + rte_strerror(-rc));
  k->started_ = true;
  rte_eth_dev_set_link_up(k->port_id_);  // brings the kernel interface up
  return k;
}

KniInterface::~KniInterface() {
  if (dev_name_.empty()) return;
  if (started_) rte_eth_dev_stop(port_id_);
  rte_eth_dev_close(port_id_);
  rte_eal_hotplug_remove("vdev", dev_name_.c_str());
}

ExceptionPath::ExceptionPath(std::vector<rte_ring*> punt_rings, std::vector<rte_ring*> inject_rings)
    : punt_rings_(std::move(punt_rings)), inject_rings_(std::move(inject_rings)) {
  kni_by_data_port_.fill(-1);
}

ExceptionPath::~ExceptionPath() = default;

void ExceptionPath::attach(std::unique_ptr<KniInterface> kni) {
  kni_by_data_port_.at(kni->data_port()) = static_cast<int>(knis_.size());
  knis_.push_back(std::move(kni));
}

const KniInterface* ExceptionPath::kni_of(uint16_t data_port) const {
  if (data_port >= kni_by_data_port_.size() || kni_by_data_port_[data_port] < 0) return nullptr;
  return knis_[static_cast<size_t>(kni_by_data_port_[data_port])].get();
}

unsigned ExceptionPath::poll() {
  rte_mbuf* pkts[kBurst];
  unsigned moved = 0;
  // Worker -> host. Packets carry their ingress data port in m->port.
  for (rte_ring* ring : punt_rings_) {
    for (unsigned b = 0; b < kBurstsPerPoll; ++b) {
      const unsigned n =
          rte_ring_dequeue_burst(ring, reinterpret_cast<void**>(pkts), kBurst, nullptr);
      if (n == 0) break;
      moved += n;
      unsigned i = 0;
      while (i < n) {  // transmit runs of packets that go to the same kni
        unsigned j = i + 1;
        while (j < n && pkts[j]->port == pkts[i]->port) ++j;
        const KniInterface* kni = kni_of(pkts[i]->port);
        unsigned sent = 0;
        if (kni) sent = rte_eth_tx_burst(kni->port_id(), 0, pkts + i, static_cast<uint16_t>(j - i));
        stats_.to_host.add(sent);
        stats_.to_host_drops.add(j - i - sent);
        for (unsigned k = i + sent; k < j; ++k) rte_pktmbuf_free(pkts[k]);
        i = j;
      }
      if (n < kBurst) break;
    }
  }
  // Host -> worker owning the port's tx queue.
  for (const auto& kni : knis_) {
    rte_ring* ring = inject_rings_[inject_worker(kni->data_port())];
    for (unsigned b = 0; b < kBurstsPerPoll; ++b) {
      const uint16_t n = rte_eth_rx_burst(kni->port_id(), 0, pkts, kBurst);
      if (n == 0) break;
      moved += n;
      for (uint16_t k = 0; k < n; ++k) pkts[k]->port = kni->data_port();
      const unsigned q = rte_ring_enqueue_burst(ring, reinterpret_cast<void**>(pkts), n, nullptr);
      stats_.from_host.add(q);
      stats_.from_host_drops.add(n - q);
      for (unsigned k = q; k < n; ++k) rte_pktmbuf_free(pkts[k]);
      if (n < kBurst) break;
    }
  }
  return moved;
}

void ExceptionPath::drain() {
  void* objs[kBurst];
  for (auto* rings : {&punt_rings_, &inject_rings_})
    for (rte_ring* r : *rings) {
      unsigned n;
      while ((n = rte_ring_dequeue_burst(r, objs, kBurst, nullptr)) > 0)
        for (unsigned i = 0; i < n; ++i) rte_pktmbuf_free(static_cast<rte_mbuf*>(objs[i]));
    }
}

}  // namespace vsgate
