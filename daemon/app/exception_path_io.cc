#include "app/exception_path_io.h"

#include "common/log.h"
#include "kni/iface_config.h"

namespace vsgate {

ExceptionPathIo::ExceptionPathIo(std::vector<rte_ring*> punt_rings,
                                 std::vector<rte_ring*> inject_rings)
    : path_(std::move(punt_rings), std::move(inject_rings)) {}

ExceptionPathIo::~ExceptionPathIo() { path_.drain(); }

Status ExceptionPathIo::create_interfaces(const std::vector<std::unique_ptr<EthPort>>& ports,
                                          rte_mempool* pool, uint16_t descriptors) {
  for (const auto& p : ports) {
    const auto& pc = p->config();
    if (pc.kni.empty()) continue;
    auto backend = make_exception_path_backend(pc.kni_backend);
    if (!backend) return make_error("port." + pc.name + ".kni_backend: " + backend.message());
    KniSpec spec;
    spec.ifname = pc.kni;
    spec.mac = p->mac();
    spec.mtu = pc.mtu;
    spec.data_port = p->id();
    spec.descriptors = descriptors;
    spec.pool = pool;
    auto kni = KniInterface::create(*backend.value(), spec);
    if (!kni) return make_error("port." + pc.name + ".kni: " + kni.message());
    path_.attach(std::move(kni.value()));
    // The host must not answer with IPv6 on our behalf before the data plane supports it.
    (void)set_ipv6_disabled(pc.kni, true);
    if (auto st = set_up(pc.kni); !st)
      return make_error("port." + pc.name + ".kni: " + st.message());
    for (const auto& a : pc.addresses)
      if (auto st = add_ipv4_address(pc.kni, a); !st)
        return make_error("port." + pc.name + ".addresses: " + st.message());
    VSG_LOG(info, "exception path %s (%s) for port %s", pc.kni.c_str(),
            path_.kni_of(p->id())->backend().c_str(), pc.name.c_str());
  }
  return Ok{};
}

}  // namespace vsgate
